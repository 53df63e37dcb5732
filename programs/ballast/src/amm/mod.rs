//! The AMM adapter seam. The vault hands an adapter the two reserves, the vault PDA as signing
//! authority and the AMM's own accounts; the adapter checks them against the pool and builds the CPI.
//! Adapters: the reference AMM (`reference`), Raydium CPMM (`raydium_cpmm`) and Orca Whirlpools
//! (`orca_whirlpool`); a new AMM is one new file here plus one match arm in [`swap_exact_in`].
//!
//! Whatever the adapter does, the caller reconciles balances afterwards; the adapter is not trusted.

use anchor_lang::prelude::*;

use crate::errors::BallastError;

pub mod orca_whirlpool;
pub mod raydium_cpmm;
pub mod reference;

/// Everything an adapter needs for an exact-in swap from `source` to `destination`.
pub struct SwapAccounts<'a, 'info> {
    pub amm_program: &'a AccountInfo<'info>,
    pub pool: &'a AccountInfo<'info>,
    /// The vault PDA, signing as owner of both reserves.
    pub authority: &'a AccountInfo<'info>,
    pub source: &'a AccountInfo<'info>,
    pub destination: &'a AccountInfo<'info>,
    pub source_mint: &'a AccountInfo<'info>,
    pub destination_mint: &'a AccountInfo<'info>,
    pub source_token_program: &'a AccountInfo<'info>,
    pub destination_token_program: &'a AccountInfo<'info>,
    /// AMM-specific accounts, in the order the adapter documents.
    pub extra: &'a [AccountInfo<'info>],
}

/// Dispatches to the adapter of `amm_program`.
pub fn swap_exact_in(accounts: &SwapAccounts, amount_in: u64, min_out: u64, signer: &[&[&[u8]]]) -> Result<()> {
    match *accounts.amm_program.key {
        id if id == ballast_amm::ID => reference::swap(accounts, amount_in, min_out, signer),
        id if id == raydium_cpmm::ID => raydium_cpmm::swap(accounts, amount_in, min_out, signer),
        id if id == orca_whirlpool::ID => orca_whirlpool::swap(accounts, amount_in, min_out, signer),
        _ => err!(BallastError::AmmNotSupported),
    }
}
