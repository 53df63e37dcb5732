//! Adapter for the reference constant-product AMM (`programs/ballast-amm`).
//!
//! Extra accounts: `[pool_vault_in, pool_vault_out]` (the pool's vaults of the sold and bought mint).

use anchor_lang::prelude::*;

use super::SwapAccounts;
use crate::errors::BallastError;

pub const EXTRA_ACCOUNTS: usize = 2;

pub fn swap(a: &SwapAccounts, amount_in: u64, min_out: u64, signer: &[&[&[u8]]]) -> Result<()> {
    require!(a.extra.len() == EXTRA_ACCOUNTS, BallastError::WrongRemainingAccounts);
    let accounts = ballast_amm::cpi::accounts::Swap {
        user: a.authority.clone(),
        pool: a.pool.clone(),
        vault_in: a.extra[0].clone(),
        vault_out: a.extra[1].clone(),
        mint_in: a.source_mint.clone(),
        mint_out: a.destination_mint.clone(),
        user_source: a.source.clone(),
        user_destination: a.destination.clone(),
        token_program_in: a.source_token_program.clone(),
        token_program_out: a.destination_token_program.clone(),
    };
    ballast_amm::cpi::swap(CpiContext::new_with_signer(a.amm_program.key(), accounts, signer), amount_in, min_out)
}
