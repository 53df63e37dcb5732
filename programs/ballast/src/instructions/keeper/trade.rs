//! What `rebalance` and `rebalance_begin` / `rebalance_end` share: the gating, the pure effects before the
//! swap, and the completion after it (bounty, drift check, cooldown, episode, event).

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::events::{RebalanceEvent, RouteKind};
use crate::instructions::accounts::{load_pool_prices, PricedReserves, ValuationSource};
use crate::instructions::keeper::fee_mark;
use crate::math::auction::AuctionPoint;
use crate::math::rebalance::{AssetLimits, Completion, RebalanceEffects, TradeRequest};
use crate::math::{self, AssetPosition, Rounding};
use crate::state::{pause, AuctionChange, Vault};

use super::RebalanceArgs;

/// The gates every rebalance passes before anything is read: active, not paused for rebalancing, cooldown
/// elapsed (no flash rebalance in progress is checked on the vault account itself).
pub fn require_open(vault: &Vault) -> Result<()> {
    vault.require_active()?;
    vault.require_not_paused(pause::REBALANCE)?;
    let slot = Clock::get()?.slot;
    let ready = vault.last_rebalance_slot.saturating_add(vault.params.rebalance_cooldown_slots);
    require!(vault.last_rebalance_slot == 0 || slot >= ready, BallastError::CooldownNotElapsed);
    Ok(())
}

/// A trade decided before the swap.
pub struct Prepared {
    pub valuation: PricedReserves,
    pub mid: Vec<AssetPosition>,
    pub limits: Vec<AssetLimits>,
    pub effects: RebalanceEffects,
    /// Where the running auction stands (`None`: none is open, or it went stale; the effects are then priced
    /// as at its start, fair value).
    pub auction: Option<AuctionPoint>,
    pub now: i64,
    /// The fees accrued first, for the event.
    pub fees: crate::state::Accrued,
}

/// Splits a rebalance's remaining accounts: `[oracle, reserve]` per asset (or the valuation cache), then the price accounts of the
/// whitelisted pools of the pair (when the vault reads pools as prices), then the rest (an adapter's).
pub fn split_remaining<'a, 'info>(
    vault: &Vault,
    args: &RebalanceArgs,
    remaining: &'a [AccountInfo<'info>],
) -> Result<(ValuationSource<'a, 'info>, &'a [AccountInfo<'info>], &'a [AccountInfo<'info>])> {
    let (valuation, rest) = ValuationSource::split(vault.assets.len(), remaining)?;
    let pools = vault.pair_pools(args.sell_index as usize, args.buy_index as usize);
    let p = crate::instructions::accounts::pool_price_account_count(&pools);
    require!(rest.len() >= p, BallastError::WrongRemainingAccounts);
    let (prices, rest) = rest.split_at(p);
    Ok((valuation, prices, rest))
}

/// Prices (every oracle under the rebalance limits, recorded; the pair's whitelisted pools as the second
/// source of the fair output), the running fees accrued on them, the targets and bands in force, and the
/// pure effects of `args` at the auction's current price.
pub fn prepare(
    vault: &mut Vault,
    vault_key: &Pubkey,
    source: ValuationSource,
    price_accounts: &[AccountInfo],
    minted: u64,
    args: &RebalanceArgs,
) -> Result<Prepared> {
    let clock = Clock::get()?;
    let auction = vault.auction_point(clock.unix_timestamp);
    let oracle_limits = vault.params.rebalance_oracle_limits();
    let valuation = source.load(vault, vault_key, &clock, &oracle_limits)?;
    // Fees first, on these fresh readings (the performance fee at the spike-resistant mark, and only on
    // readings that agree with their EMA).
    let mark = fee_mark(vault, &valuation)?;
    let fees = vault.accrue_fees(minted, clock.unix_timestamp, clock.slot, mark)?;
    let supply = vault.shares_outstanding(minted)?;
    let mid = valuation.positions(vault, |p| p.mid);
    let nav = valuation.nav(vault, |p| p.mid, Rounding::Floor)?;
    // Targets (fixed, scheduled or CPPI) and effective bands (fixed or volatility-scaled) in force.
    let limits = vault.prepare_rebalance(&valuation.readings, nav, supply, clock.slot).or_math_err()?;
    let request = TradeRequest {
        sell: args.sell_index as usize,
        buy: args.buy_index as usize,
        amount_in: args.amount_in,
        min_out: args.min_out,
    };
    let pools = load_pool_prices(&vault.pair_pools(request.sell, request.buy), price_accounts)?;
    let effects = vault
        .rebalance_effects(&mid, &valuation.bounds, &limits, &request, auction.unwrap_or(AuctionPoint::START), &pools)
        .map_err(|r| error!(BallastError::from(r)))?;
    Ok(Prepared { valuation, mid, limits, effects, auction, now: clock.unix_timestamp, fees })
}

/// The bounty and state after a swap that paid `received`.
pub fn complete(
    vault: &Vault,
    effects: &RebalanceEffects,
    mid: &[AssetPosition],
    sell_high: math::UsdPrice,
    limits: &[AssetLimits],
    received: u64,
) -> Result<Completion> {
    effects
        .complete(mid, sell_high, limits, &vault.params.trade_policy(), received, vault.episode_bounty_paid)
        .or_math_err()
}

/// What a completed rebalance reports beyond its effects and completion.
pub struct Executed {
    pub vault_key: Pubkey,
    pub keeper: Pubkey,
    pub route: RouteKind,
    pub requested_amount_in: u64,
    pub received: u64,
    pub auction_elapsed_secs: u64,
    pub prices: (Vec<i64>, Vec<i32>),
    pub bands_bps: Vec<u16>,
    /// Oldest publish time of the readings the trade was planned on (its evidence that the vault was out of
    /// band).
    pub evidence_at: i64,
}

/// Records a completed rebalance (cooldown, episode, the auction: closed when every asset is back inside
/// its band, restarted at fair value once it has sold half a full-size trade, otherwise running on with the
/// volume added and renewed by the trade's readings), checks the vault and builds its events. Dust trades
/// add up: they consume the auction like the trade they add up to, and cannot reset its price for others.
pub fn commit(
    vault: &mut Vault,
    effects: &RebalanceEffects,
    done: &Completion,
    executed: Executed,
) -> Result<(RebalanceEvent, AuctionChange)> {
    require!(done.drift_after < effects.drift_before, BallastError::DriftNotReduced);
    let clock = Clock::get()?;
    if done.started_cooldown {
        vault.last_rebalance_slot = clock.slot;
    }
    vault.episode_bounty_paid = done.episode_bounty_paid;
    let auction = vault.auction_after_trade(
        effects.plan.sold_ppm_after,
        done.inside_after,
        clock.unix_timestamp,
        executed.evidence_at,
    );
    vault.seal()?;
    let Executed {
        vault_key,
        keeper,
        route,
        requested_amount_in,
        received,
        auction_elapsed_secs,
        prices,
        bands_bps,
        evidence_at: _,
    } = executed;
    let plan = &effects.plan;
    let (s, b) = (effects.request.sell, effects.request.buy);
    let event = RebalanceEvent {
        vault: vault_key,
        keeper,
        route,
        sell_index: u8::try_from(s).map_err(|_| BallastError::AssetIndexOutOfRange)?,
        buy_index: u8::try_from(b).map_err(|_| BallastError::AssetIndexOutOfRange)?,
        requested_amount_in,
        amount_in: plan.amount_in,
        clamped: plan.clamped,
        fair_out: plan.fair_out,
        auction_elapsed_secs,
        floor_out: plan.floor_out,
        min_out: plan.min_out,
        amount_out: received,
        bounty: done.bounty,
        bounty_value: done.bounty_value,
        started_cooldown: done.started_cooldown,
        episode_bounty_paid: done.episode_bounty_paid,
        prices: prices.0,
        expos: prices.1,
        weights_before_bps: math::weights_bps(&effects.values_before).or_math_err()?,
        weights_after_bps: math::weights_bps(&done.values_after).or_math_err()?,
        drift_before: effects.drift_before,
        drift_after: done.drift_after,
        targets_bps: effects.targets.clone(),
        bands_bps,
    };
    Ok((event, auction))
}
