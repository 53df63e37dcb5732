//! Remaining-account layouts shared by several instructions. Each layout is checked in full against
//! the vault's asset registry: count, order and every key.
//!
//! - transfer legs (`deposit`, `withdraw`): `[mint_i, reserve_i, user_token_account_i]` for every asset i
//!   in vault order;
//! - valuation (`deposit_single`, `rebalance`): `[oracle_i, reserve_i]` for every asset i in vault order.

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::math::{AssetPosition, OracleReading, PriceBounds, UsdPrice};
use crate::oracle;
use crate::state::Vault;
use crate::token::load_token_account;

/// One asset's accounts for an in-kind transfer.
pub struct TransferLeg<'info> {
    pub mint: &'info AccountInfo<'info>,
    pub reserve: &'info AccountInfo<'info>,
    pub user: &'info AccountInfo<'info>,
    pub reserve_amount: u64,
    /// Owner (authority) of the user's token account.
    pub user_owner: Pubkey,
}

/// Checks and decodes `[mint, reserve, user]` × assets.
pub fn transfer_legs<'info>(vault: &Vault, remaining: &'info [AccountInfo<'info>]) -> Result<Vec<TransferLeg<'info>>> {
    require!(remaining.len() == 3 * vault.assets.len(), BallastError::WrongRemainingAccounts);
    vault
        .assets
        .iter()
        .zip(remaining.chunks_exact(3))
        .map(|(asset, chunk)| {
            let (mint, reserve, user) = (&chunk[0], &chunk[1], &chunk[2]);
            require_keys_eq!(mint.key(), asset.mint, BallastError::MintMismatch);
            require_keys_eq!(reserve.key(), asset.reserve, BallastError::ReserveMismatch);
            require_keys_neq!(user.key(), asset.reserve, BallastError::DuplicateAccount);
            require_keys_eq!(*mint.owner, asset.token_program, BallastError::WrongTokenProgram);
            let reserve_account = load_token_account(reserve, &asset.token_program, &asset.mint)?;
            let user_account = load_token_account(user, &asset.token_program, &asset.mint)?;
            Ok(TransferLeg {
                mint,
                reserve,
                user,
                reserve_amount: reserve_account.amount,
                user_owner: user_account.owner,
            })
        })
        .collect()
}

/// Oracle readings and reserve balances of every asset.
pub struct Valuation {
    pub readings: Vec<OracleReading>,
    pub balances: Vec<u64>,
    /// Conservative and mid prices of every reading.
    pub bounds: Vec<PriceBounds>,
}

impl Valuation {
    /// Positions priced with one side of the bounds (`|b| b.mid`, `|b| b.high`, …).
    pub fn positions(&self, vault: &Vault, price: impl Fn(&PriceBounds) -> UsdPrice) -> Vec<AssetPosition> {
        vault
            .assets
            .iter()
            .zip(&self.balances)
            .zip(&self.bounds)
            .map(|((a, balance), b)| AssetPosition { balance: *balance, decimals: a.decimals, price: price(b) })
            .collect()
    }
}

/// Checks `[oracle, reserve]` × assets, reads every oracle with all checks and records the readings
/// in the vault (publish times only move forward).
pub fn load_valuation(vault: &mut Vault, remaining: &[AccountInfo], now: i64) -> Result<Valuation> {
    require!(remaining.len() == 2 * vault.assets.len(), BallastError::WrongRemainingAccounts);
    let params = vault.params;
    let mut readings = Vec::with_capacity(vault.assets.len());
    let mut balances = Vec::with_capacity(vault.assets.len());
    let mut bounds = Vec::with_capacity(vault.assets.len());
    for (asset, chunk) in vault.assets.iter_mut().zip(remaining.chunks_exact(2)) {
        let reading = oracle::read_asset_price(&chunk[0], asset, &params, now)?;
        bounds.push(reading.bounds().or_math_err()?);
        require_keys_eq!(chunk[1].key(), asset.reserve, BallastError::ReserveMismatch);
        let reserve = load_token_account(&chunk[1], &asset.token_program, &asset.mint)?;
        oracle::record(asset, &reading, params.vol_tau_secs)?;
        readings.push(reading);
        balances.push(reserve.amount);
    }
    Ok(Valuation { readings, balances, bounds })
}

/// Current amount of a token account (after a CPI).
pub fn reload_amount(info: &AccountInfo, token_program: &Pubkey, mint: &Pubkey) -> Result<u64> {
    Ok(load_token_account(info, token_program, mint)?.amount)
}
