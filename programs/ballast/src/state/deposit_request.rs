//! A single-asset deposit waiting for a price its sender could not have known.

use anchor_lang::prelude::*;

use crate::constants::SETTLEMENT_MAX_AGE_SECS;
use crate::errors::BallastError;

/// PDA `[DEPOSIT_REQUEST_SEED, vault, depositor]`: one open request per depositor and vault.
///
/// `request_deposit` moves the tokens into the reserve (kept aside in `Asset::pending_in`, outside the
/// vault's value) and records the valuation and the deposit terms at request time. `settle_deposit`
/// (anyone, typically a keeper) values the deposit again with fresh oracle readings published at least
/// `deposit_delay_secs` after the request and mints shares at the **worse** of the two valuations for the
/// depositor, minus the deposit fee and the cost of the trades the deposit makes the vault do. After
/// `expires_at` the request can only be cancelled (full refund).
#[account]
#[derive(InitSpace, Debug)]
pub struct DepositRequest {
    pub vault: Pubkey,
    pub depositor: Pubkey,
    pub bump: u8,
    pub asset_index: u8,
    /// Base units escrowed in the reserve.
    pub amount: u64,
    pub min_shares_out: u64,
    /// Share token account that receives the shares.
    pub shares_destination: Pubkey,
    /// Cluster unix time of the request.
    pub requested_at: i64,
    /// Deposit valued at `price − conf` at request time (micro-USD).
    pub value_at_request: u128,
    /// Vault valued at `price + conf` at request time (micro-USD, escrowed deposits excluded).
    pub nav_at_request: u128,
    /// Share supply at request time.
    pub supply_at_request: u64,
    /// Terms in force at request time; settlement charges the lower of these and the ones in force then,
    /// and the request's timing never changes after it is made.
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    /// First unix time at which the request may settle; every settling reading is published at or after it.
    pub settle_from: i64,
    /// Last unix time at which it may settle; after it, only `cancel_deposit` (full refund).
    pub expires_at: i64,
}

impl DepositRequest {
    /// Whether the request may settle at `now` on `readings` (one per asset): its own window (`settle_from`
    /// to `expires_at`, fixed at request: no later parameter change moves it) is open, and every reading is
    /// published at or after `settle_from` and at most `SETTLEMENT_MAX_AGE_SECS` before `now`. One pure rule:
    /// `settle_deposit` refuses with exactly this error, and keepers ask it before sending.
    pub fn settleable(
        &self,
        now: i64,
        readings: &[crate::math::OracleReading],
    ) -> core::result::Result<(), BallastError> {
        if now > self.expires_at {
            return Err(BallastError::DepositRequestExpired);
        }
        if now < self.settle_from || readings.iter().any(|r| r.publish_time < self.settle_from) {
            return Err(BallastError::DepositRequestTooEarly);
        }
        let fresh =
            |r: &crate::math::OracleReading| now.saturating_sub(r.publish_time) <= SETTLEMENT_MAX_AGE_SECS as i64;
        if !readings.iter().all(fresh) {
            return Err(BallastError::OracleStale);
        }
        Ok(())
    }
}
