//! Adapter for the reference constant-product AMM (`programs/ballast-amm`).
//!
//! Extra accounts: `[pool_vault_in, pool_vault_out]` (the pool's vaults of the sold and bought mint).

use anchor_lang::prelude::*;

use super::SwapAccounts;
use crate::errors::BallastError;
use crate::math::sources::PoolMid;

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

/// The pool's two mints.
pub fn mints(data: &[u8]) -> Result<(Pubkey, Pubkey)> {
    let pool = decode(data)?;
    Ok((pool.mint_a, pool.mint_b))
}

fn decode(data: &[u8]) -> Result<ballast_amm::Pool> {
    use anchor_lang::AccountDeserialize;
    ballast_amm::Pool::try_deserialize(&mut &data[..]).map_err(|_| error!(BallastError::InvalidAmm))
}

/// The pool's mid price from its reserves: `extra` are its vaults of mint a and mint b.
pub fn mid(data: &[u8], extra: &[AccountInfo]) -> Result<PoolMid> {
    let pool = decode(data)?;
    require_keys_eq!(extra[0].key(), pool.vault_a, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(extra[1].key(), pool.vault_b, BallastError::AmmPoolAccountMismatch);
    let a = super::any_token_amount(&extra[0], &pool.mint_a)?;
    let b = super::any_token_amount(&extra[1], &pool.mint_b)?;
    Ok(PoolMid::Reserves { a, b })
}
