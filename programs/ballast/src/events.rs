//! One event per state change, emitted last in each handler.

use anchor_lang::prelude::*;

use crate::state::{AssetParams, ScheduleState, VaultParams};

/// Logs `event` as a `Program data:` line, exactly as `emit!` does on chain. Where the program runs
/// natively (the local bank of the tests, the demo and `ballast localnet`), `emit!` drops the data;
/// there the event goes through the runtime's syscall stubs instead, so local clients and event
/// listeners see the same logs as on a validator.
pub fn emit<E: anchor_lang::Event>(event: E) {
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&event.data()]);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log_data(&[&event.data()]);
}

/// Logs `message` as a `Program log:` line that clients read, on a validator and where the program runs
/// natively (where `msg!` prints to the process's stdout instead).
pub fn log(message: &str) {
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log(message);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log(message);
}

#[event]
pub struct VaultInitializedEvent {
    pub vault: Pubkey,
    pub creator: Pubkey,
    pub vault_id: u64,
    pub governance: Pubkey,
    pub guardian: Pubkey,
    pub share_mint: Pubkey,
    pub params: VaultParams,
}

#[event]
pub struct AssetAddedEvent {
    pub vault: Pubkey,
    pub index: u8,
    pub mint: Pubkey,
    pub reserve: Pubkey,
    pub token_program: Pubkey,
    pub oracle: Pubkey,
    pub feed_id: [u8; 32],
    pub decimals: u8,
    pub params: AssetParams,
    /// The mint's freeze authority, if any, and whether governance acknowledged it when listing.
    pub freeze_authority: Option<Pubkey>,
    pub freeze_authority_acknowledged: bool,
}

#[event]
pub struct VaultActivatedEvent {
    pub vault: Pubkey,
    pub asset_count: u8,
    pub targets_bps: Vec<u16>,
}

#[event]
pub struct ParamsProposedEvent {
    pub vault: Pubkey,
    pub params: VaultParams,
    pub assets: Vec<AssetParams>,
    pub eta: i64,
}

/// Part of a parameter change staged (`stage_params`, `append_params`): `staged` of the vault's `total` assets'
/// parameters are in; the change is queued (`ParamsProposedEvent`) when the last arrive.
#[event]
pub struct ParamsStagedEvent {
    pub vault: Pubkey,
    pub staged: u16,
    pub total: u16,
}

#[event]
pub struct ParamsExecutedEvent {
    pub vault: Pubkey,
    pub old_params: VaultParams,
    pub new_params: VaultParams,
    pub old_assets: Vec<AssetParams>,
    pub new_assets: Vec<AssetParams>,
    /// The weight schedule in force after the change (a late one shifted to start now).
    pub schedule: Option<ScheduleState>,
}

#[event]
pub struct ParamsCancelledEvent {
    pub vault: Pubkey,
}

#[event]
pub struct GovernanceTransferProposedEvent {
    pub vault: Pubkey,
    pub governance: Pubkey,
    pub pending_governance: Pubkey,
}

#[event]
pub struct GovernanceAcceptedEvent {
    pub vault: Pubkey,
    pub old_governance: Pubkey,
    pub new_governance: Pubkey,
}

#[event]
pub struct PauseSetEvent {
    pub vault: Pubkey,
    pub by: Pubkey,
    pub old_flags: u8,
    pub new_flags: u8,
}

#[event]
pub struct AmmWhitelistChangedEvent {
    pub vault: Pubkey,
    pub program_id: Pubkey,
    pub pool: Pubkey,
    pub added: bool,
}

#[event]
pub struct DepositEvent {
    pub vault: Pubkey,
    pub depositor: Pubkey,
    pub amounts_in: Vec<u64>,
    pub shares_out: u64,
    pub share_supply_after: u64,
}

#[event]
pub struct DepositRequestedEvent {
    pub vault: Pubkey,
    pub depositor: Pubkey,
    pub asset_index: u8,
    pub amount: u64,
    /// Deposit valued at `price − conf` and vault valued at `price + conf` at request time (micro-USD).
    pub value_at_request: u128,
    pub nav_at_request: u128,
    pub supply_at_request: u64,
    /// Fee and trade cost (bps) fixed at request: settlement charges at most these.
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    /// Oracle readings published from this unix time on can settle it; after `expires_at` it can only be
    /// cancelled.
    pub settle_from: i64,
    pub expires_at: i64,
}

#[event]
pub struct DepositSettledEvent {
    pub vault: Pubkey,
    pub depositor: Pubkey,
    pub settler: Pubkey,
    pub asset_index: u8,
    pub amount: u64,
    pub value_at_request: u128,
    pub value_at_settlement: u128,
    /// The lower of the two values, used for the shares.
    pub value_used: u128,
    /// Part of `value_used` kept by the vault as the deposit fee.
    pub fee_value: u128,
    /// Kept by the vault for the trades the deposit makes it do: `trade_cost_bps` of `traded_value`.
    pub trade_charge_value: u128,
    pub traded_value: u128,
    pub nav_at_request: u128,
    pub nav_at_settlement: u128,
    pub shares_out: u64,
    pub locked_shares: u64,
    pub share_supply_after: u64,
}

#[event]
pub struct DepositCancelledEvent {
    pub vault: Pubkey,
    pub depositor: Pubkey,
    pub asset_index: u8,
    pub amount: u64,
}

#[event]
pub struct WithdrawRequestedEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub asset_index: u8,
    /// Shares escrowed (burned at settlement, returned on cancel).
    pub shares: u64,
    pub min_amount_out: u64,
    /// The request-time quote: the vault at the least any source says, the share supply, and the paid
    /// asset's price at the most (`asset_value` micro-USD for `asset_amount` base units).
    pub nav_at_request: u128,
    pub supply_at_request: u64,
    pub asset_value_at_request: u128,
    pub asset_amount_at_request: u64,
    /// The payout the request-time quote gives, before the fee and the trade charge.
    pub gross_at_request: u64,
    /// Fee and trade cost (bps) fixed at request: settlement charges at most these.
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    pub settle_from: i64,
    pub expires_at: i64,
}

#[event]
pub struct WithdrawSettledEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub settler: Pubkey,
    pub asset_index: u8,
    pub shares_burned: u64,
    /// Payouts before charges at the request's and the settlement's quote; the smaller one is used.
    pub gross_at_request: u64,
    pub gross_at_settlement: u64,
    /// The shares' value at the quote used, and what the vault kept of it (micro-USD).
    pub value_used: u128,
    pub fee_value: u128,
    pub trade_charge_value: u128,
    /// Value (micro-USD, at mid) the payout makes the vault buy back to bring it inside its bands.
    pub traded_value: u128,
    /// Base units sent from the reserve, and what the destination received (less with a transfer fee).
    pub amount_out: u64,
    pub amount_received: u64,
    pub share_supply_after: u64,
}

#[event]
pub struct WithdrawCancelledEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub asset_index: u8,
    pub shares: u64,
}

#[event]
pub struct ClaimOpenedEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub claim: Pubkey,
}

#[event]
pub struct ClaimRedeemedEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub asset_index: u8,
    pub amount: u64,
}

#[event]
pub struct WithdrawEvent {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub shares_burned: u64,
    /// Paid now, per asset.
    pub amounts_out: Vec<u64>,
    /// Assets the holder chose to skip (bit i = asset i) and what they still owe through the claim.
    pub skip_mask: u128,
    pub amounts_owed: Vec<u64>,
    pub share_supply_after: u64,
}

/// How a rebalance reached liquidity.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RouteKind {
    /// `rebalance`: a CPI into a whitelisted AMM through its adapter.
    Amm,
    /// `rebalance_begin` / `rebalance_end`: instructions of the keeper's choosing in between.
    Flash,
}

#[event]
pub struct RebalanceEvent {
    pub vault: Pubkey,
    pub keeper: Pubkey,
    pub route: RouteKind,
    pub sell_index: u8,
    pub buy_index: u8,
    pub requested_amount_in: u64,
    pub amount_in: u64,
    /// True when the request exceeded the overshoot / max-trade cap and was reduced.
    pub clamped: bool,
    /// Output of `amount_in` at the mid prices: where the auction started.
    pub fair_out: u64,
    /// Seconds the auction had run when the trade was priced.
    pub auction_elapsed_secs: u64,
    /// The program's own oracle-derived floor.
    pub floor_out: u64,
    /// The floor actually enforced: max(floor_out, keeper min_out).
    pub min_out: u64,
    pub amount_out: u64,
    /// Bounty paid to the keeper, in the sold asset, and its value (micro-USD).
    pub bounty: u64,
    pub bounty_value: u128,
    /// Whether this trade started the cooldown (at least half the allowed size, or every band restored).
    pub started_cooldown: bool,
    /// Bounty value paid in the current drift episode after this trade (0: every asset back in its band).
    pub episode_bounty_paid: u64,
    /// Oracle mid prices used (mantissa and exponent per asset).
    pub prices: Vec<i64>,
    pub expos: Vec<i32>,
    pub weights_before_bps: Vec<u64>,
    pub weights_after_bps: Vec<u64>,
    /// Σ |value − target value| in micro-USD before and after.
    pub drift_before: u128,
    pub drift_after: u128,
    /// Targets and effective bands in force for this trade.
    pub targets_bps: Vec<u16>,
    pub bands_bps: Vec<u16>,
}

#[event]
pub struct WeightScheduleProposedEvent {
    pub vault: Pubkey,
    pub to_weights: Vec<u16>,
    pub start_slot: u64,
    pub end_slot: u64,
    pub eta: i64,
}

/// A vault's valuation cache was created.
#[event]
pub struct ValuationCacheCreatedEvent {
    pub vault: Pubkey,
    pub cache: Pubkey,
}

/// `refresh_valuation` recorded the assets in `refreshed` at `slot` with the vault at `seq`, and skipped each
/// of `skipped_assets` for the error in `skipped_errors` (same order).
#[event]
pub struct ValuationRefreshedEvent {
    pub vault: Pubkey,
    pub slot: u64,
    pub seq: u64,
    pub refreshed: Vec<u16>,
    pub skipped_assets: Vec<u16>,
    pub skipped_errors: Vec<u32>,
}

#[event]
pub struct PokeEvent {
    pub vault: Pubkey,
    /// Annualised volatility estimate per asset (bps).
    pub vol_bps: Vec<u64>,
}

/// The rebalance auction opened, restarted after a trade, or closed. While open, the least output a
/// rebalance accepts falls from fair value (mid) to the slippage-cap floor over `auction_secs`.
#[event]
pub struct AuctionEvent {
    pub vault: Pubkey,
    /// Unix time the auction (re)started; 0 when it closed (every asset inside its band).
    pub started_at: i64,
}

/// Emits the event of an auction change (nothing when unchanged).
pub fn emit_auction(vault: Pubkey, change: crate::state::AuctionChange) {
    use crate::state::AuctionChange;
    let started_at = match change {
        AuctionChange::Unchanged | AuctionChange::NotOpened => return,
        AuctionChange::Opened(at) => at,
        AuctionChange::Closed => 0,
    };
    emit(AuctionEvent { vault, started_at });
}

/// Running fees accrued as shares owed to the recipients (minted to them by `accrue_fees`).
#[event]
pub struct FeesAccrued {
    pub vault: Pubkey,
    /// Fee shares of this accrual, by kind.
    pub management: u64,
    pub performance: u64,
    /// Seconds of management fee charged.
    pub elapsed_secs: u64,
    /// Fee shares owed to the recipients after it.
    pub pending_shares: u64,
    /// Share price before and after the fee shares (micro-USD per share unit, 1e18 fixed point; 0 when the
    /// accrual had no prices).
    pub share_price_before: u128,
    pub share_price_after: u128,
    /// The high-water mark after it (same unit).
    pub hwm: u128,
    /// A price was too far from its Pyth EMA (`max_ema_divergence_bps`): the performance fee was not measured
    /// this time (it waits for readings that agree).
    pub performance_deferred: bool,
}

/// Owed fee shares minted into the recipients' share accounts.
#[event]
pub struct FeesDistributed {
    pub vault: Pubkey,
    pub recipients: Vec<Pubkey>,
    pub shares: Vec<u64>,
    /// Fee shares still owed (rounding remainders).
    pub pending_shares: u64,
}

/// Emits `FeesAccrued` when an accrual charged anything or moved the mark.
pub fn emit_fees(vault: Pubkey, accrued: &crate::state::Accrued, pending_shares: u64) {
    let accrual = &accrued.accrual;
    if accrual.management_shares == 0 && accrual.performance_shares == 0 && !accrued.performance_deferred {
        return;
    }
    emit(FeesAccrued {
        vault,
        management: accrual.management_shares,
        performance: accrual.performance_shares,
        elapsed_secs: accrued.elapsed_secs,
        pending_shares,
        share_price_before: accrual.price_before,
        share_price_after: accrual.price_after,
        hwm: accrual.hwm,
        performance_deferred: accrued.performance_deferred,
    });
}
