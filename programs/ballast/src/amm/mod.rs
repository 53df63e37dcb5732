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

/// The two mints a pool of `program` trades (read from the pool account, owner checked), or `None` for a
/// program without an adapter (it can be whitelisted but never traded through or read as a price).
pub fn pool_mints(program: &Pubkey, pool: &AccountInfo) -> Result<Option<(Pubkey, Pubkey)>> {
    if !is_supported(program) {
        return Ok(None);
    }
    require_keys_eq!(*pool.owner, *program, BallastError::InvalidAmm);
    let data = pool.try_borrow_data()?;
    Ok(Some(match *program {
        id if id == ballast_amm::ID => reference::mints(&data)?,
        id if id == raydium_cpmm::ID => raydium_cpmm::mints(&data)?,
        _ => orca_whirlpool::mints(&data)?,
    }))
}

/// The amount of a pool's token account of `mint` under either token program (read as a price).
pub fn any_token_amount(info: &AccountInfo, mint: &Pubkey) -> Result<u64> {
    use anchor_lang::AccountDeserialize;
    let program = *info.owner;
    require!(
        program == anchor_spl::token::ID || program == anchor_spl::token_2022::ID,
        BallastError::WrongTokenProgram
    );
    let data = info.try_borrow_data()?;
    let account = anchor_spl::token_interface::TokenAccount::try_deserialize(&mut &data[..])?;
    require_keys_eq!(account.mint, *mint, BallastError::TokenAccountMintMismatch);
    Ok(account.amount)
}

/// Whether ballast has an adapter for `program`.
pub fn is_supported(program: &Pubkey) -> bool {
    *program == ballast_amm::ID || *program == raydium_cpmm::ID || *program == orca_whirlpool::ID
}

/// How many accounts after the pool itself reading a pool of `program` as a price takes: the reserves of a
/// constant-product pool (reference AMM, Raydium CPMM), none for a Whirlpool (its sqrt price is in the pool).
pub fn price_account_count(program: &Pubkey) -> usize {
    match *program {
        id if id == orca_whirlpool::ID => 0,
        _ => 2,
    }
}

/// The mid price of the whitelisted pool `pool_key` of `program` (trading vault assets `assets`, a then b):
/// `pool` is its account and `extra` its [`price_account_count`] price accounts, each checked to be the
/// pool's own.
pub fn pool_price(
    (program, pool_key): (&Pubkey, &Pubkey),
    assets: (usize, usize),
    pool: &AccountInfo,
    extra: &[AccountInfo],
) -> Result<crate::math::sources::PoolPrice> {
    require_keys_eq!(pool.key(), *pool_key, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(*pool.owner, *program, BallastError::InvalidAmm);
    require!(extra.len() == price_account_count(program), BallastError::WrongRemainingAccounts);
    let data = pool.try_borrow_data()?;
    let mid = match *program {
        id if id == ballast_amm::ID => reference::mid(&data, extra)?,
        id if id == raydium_cpmm::ID => raydium_cpmm::mid(&data, extra)?,
        id if id == orca_whirlpool::ID => orca_whirlpool::mid(&data)?,
        _ => return err!(BallastError::AmmNotSupported),
    };
    Ok(crate::math::sources::PoolPrice { asset_a: assets.0, asset_b: assets.1, mid })
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
