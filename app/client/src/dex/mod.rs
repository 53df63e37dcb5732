//! The pools a vault may whitelist, as a keeper sees them: how each prices a swap (its own DEX's math),
//! which accounts the vault's adapter takes after the pool, and the keeper's own swap through it in a flash
//! rebalance. The reference AMM (`ballast-amm`), Raydium CPMM ([`raydium`]) and Orca Whirlpools
//! ([`orca`]).

pub mod orca;
pub mod raydium;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use orca_whirlpools_core::TickArrayFacade;

/// A whitelisted pool's kind and the state its quote needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolKind {
    /// The reference constant-product AMM.
    Reference { fee_bps: u16 },
    /// Raydium CPMM: the pool's state, its config's trade fee (millionths) and the fees collected in each
    /// vault that are not reserves (in the order of the route's sides).
    RaydiumCpmm { state: Box<raydium::PoolState>, trade_fee_rate: u64, collected: [u64; 2] },
    /// Orca Whirlpool: the pool's state and the tick arrays a swap crosses in each direction (a → b, then
    /// b → a), as loaded.
    Whirlpool {
        state: Box<orca_whirlpools_client::Whirlpool>,
        arrays_a_to_b: Vec<TickArrayFacade>,
        arrays_b_to_a: Vec<TickArrayFacade>,
    },
}

impl PoolKind {
    /// The program the pool belongs to.
    pub fn program_id(&self) -> Pubkey {
        match self {
            PoolKind::Reference { .. } => ballast_amm::ID,
            PoolKind::RaydiumCpmm { .. } => raydium::ID,
            PoolKind::Whirlpool { .. } => orca::ID,
        }
    }

    /// A short name for logs, metrics and tables.
    pub fn name(&self) -> &'static str {
        match self {
            PoolKind::Reference { .. } => "reference",
            PoolKind::RaydiumCpmm { .. } => "raydium-cpmm",
            PoolKind::Whirlpool { .. } => "orca-whirlpool",
        }
    }
}

/// One side of a swap as the caller holds it, for every venue ([`swap_instruction`], [`raydium`]'s and
/// [`orca`]'s builders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    /// The payer's account of the input mint, or the receiving account of the output mint.
    pub account: Pubkey,
}

/// An exact-in swap of `amount_in` of `input.mint` for `output.mint` through the pool `pool` of `kind`,
/// paid by `payer` (a keeper's own swap inside a flash rebalance, an arbitrageur's trade).
pub fn swap_instruction(
    pool: &Pubkey,
    kind: &PoolKind,
    payer: &Pubkey,
    input: &Leg,
    output: &Leg,
    amount_in: u64,
    min_out: u64,
) -> Option<Instruction> {
    match kind {
        PoolKind::Reference { .. } => Some(crate::amm::swap(
            payer,
            &input.mint,
            &output.mint,
            &input.account,
            &output.account,
            &input.token_program,
            &output.token_program,
            amount_in,
            min_out,
        )),
        PoolKind::RaydiumCpmm { state, .. } => {
            raydium::swap_base_input(pool, state, payer, input, output, amount_in, min_out)
        }
        PoolKind::Whirlpool { state, .. } => orca::swap_v1(pool, state, payer, input, output, amount_in, min_out).ok(),
    }
}

/// The accounts the vault's adapter takes after the pool for a swap of `mint_in` for `mint_out`, with the
/// pool's vaults `vault_in` / `vault_out` (reference AMM).
pub fn adapter_accounts(
    pool: &Pubkey,
    kind: &PoolKind,
    mint_in: &Pubkey,
    mint_out: &Pubkey,
    vault_in: &Pubkey,
    vault_out: &Pubkey,
) -> Option<Vec<AccountMeta>> {
    match kind {
        PoolKind::Reference { .. } => {
            Some(vec![AccountMeta::new(*vault_in, false), AccountMeta::new(*vault_out, false)])
        }
        PoolKind::RaydiumCpmm { state, .. } => raydium::adapter_accounts(state, mint_in, mint_out),
        PoolKind::Whirlpool { state, .. } => orca::adapter_accounts(pool, state, *mint_in == state.token_mint_a).ok(),
    }
}
