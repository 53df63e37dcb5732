//! Single-asset deposits and withdrawals waiting for a price their sender could not have known, and the one
//! rule for when either may settle.

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
    /// Whether the request may settle at `now` on `readings` (one per asset): see [`window`]. One pure rule:
    /// `settle_deposit` refuses with exactly this error, and keepers ask it before sending.
    pub fn settleable(
        &self,
        now: i64,
        readings: &[crate::math::OracleReading],
    ) -> core::result::Result<(), BallastError> {
        window(self.settle_from, self.expires_at, now, readings)
            .map_err(|w| w.error(BallastError::DepositRequestTooEarly, BallastError::DepositRequestExpired))
    }
}

/// Why a request may not settle now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Before `settle_from`, or a reading published before it.
    TooEarly,
    /// After `expires_at`: only cancelling is left.
    Expired,
    /// A reading more than `SETTLEMENT_MAX_AGE_SECS` old.
    Stale,
}

impl Window {
    /// The error a request kind refuses with: its own for the window's ends, `OracleStale` for a reading.
    pub fn error(self, too_early: BallastError, expired: BallastError) -> BallastError {
        match self {
            Window::TooEarly => too_early,
            Window::Expired => expired,
            Window::Stale => BallastError::OracleStale,
        }
    }
}

/// A request's own window (`settle_from` to `expires_at`, fixed at request: no later parameter change moves
/// it) is open at `now`, and every reading is published at or after `settle_from` and at most
/// `SETTLEMENT_MAX_AGE_SECS` before `now`.
pub fn window(
    settle_from: i64,
    expires_at: i64,
    now: i64,
    readings: &[crate::math::OracleReading],
) -> core::result::Result<(), Window> {
    if now > expires_at {
        return Err(Window::Expired);
    }
    if now < settle_from || readings.iter().any(|r| r.publish_time < settle_from) {
        return Err(Window::TooEarly);
    }
    let fresh = |r: &crate::math::OracleReading| now.saturating_sub(r.publish_time) <= SETTLEMENT_MAX_AGE_SECS as i64;
    if !readings.iter().all(fresh) {
        return Err(Window::Stale);
    }
    Ok(())
}

/// PDA `[WITHDRAW_REQUEST_SEED, vault, owner]`: one open single-asset withdrawal per owner and vault.
///
/// `request_withdraw` moves the shares into an escrow share account (`[WITHDRAW_ESCROW_SEED, request]`,
/// owned by the vault; they stay in the supply and keep their value) and records the quote and the terms at
/// request time. `settle_withdraw` (anyone, typically a keeper) quotes again with fresh readings published at
/// least the settlement delay after the request, burns the shares and pays the **smaller** of the two
/// payouts from the asset's reserve, minus the fee and the cost of the trades the payout makes the vault do.
/// After `expires_at` the request can only be cancelled (the shares come back).
#[account]
#[derive(InitSpace, Debug)]
pub struct WithdrawRequest {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub bump: u8,
    pub escrow_bump: u8,
    pub asset_index: u8,
    /// Shares escrowed.
    pub shares: u64,
    /// Fewest base units the destination must receive at settlement.
    pub min_amount_out: u64,
    /// Token account of the asset that receives the payout; any owner.
    pub destination: Pubkey,
    /// Cluster unix time of the request.
    pub requested_at: i64,
    /// The request-time quote (`math::exit::ExitQuote`): the vault at the least any source says (micro-USD),
    /// the share supply, and the asset at the most (`asset_value` micro-USD for `asset_amount` base units).
    pub nav_at_request: u128,
    pub supply_at_request: u64,
    pub asset_value_at_request: u128,
    pub asset_amount_at_request: u64,
    /// Terms in force at request time; settlement charges the lower of these and the ones in force then.
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    /// First unix time at which the request may settle; every settling reading is published at or after it.
    pub settle_from: i64,
    /// Last unix time at which it may settle; after it, only `cancel_withdraw`.
    pub expires_at: i64,
}

impl WithdrawRequest {
    /// Whether the request may settle at `now` on `readings`: the same [`window`] as a deposit request's.
    pub fn settleable(
        &self,
        now: i64,
        readings: &[crate::math::OracleReading],
    ) -> core::result::Result<(), BallastError> {
        window(self.settle_from, self.expires_at, now, readings)
            .map_err(|w| w.error(BallastError::WithdrawRequestTooEarly, BallastError::WithdrawRequestExpired))
    }

    /// The request-time quote.
    pub fn quote(&self) -> crate::math::exit::ExitQuote {
        crate::math::exit::ExitQuote {
            nav: self.nav_at_request,
            supply: self.supply_at_request,
            asset_value: self.asset_value_at_request,
            asset_amount: self.asset_amount_at_request,
        }
    }
}
