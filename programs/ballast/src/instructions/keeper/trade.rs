//! What `rebalance` and `rebalance_begin` / `rebalance_end` share: the gating, the pure effects before the
//! swap, and the completion after it (bounty, drift check, cooldown, episode, event).

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::events::{RebalanceEvent, RouteKind};
use crate::instructions::accounts::{load_valuation, Valuation};
use crate::math::rebalance::{AssetLimits, Completion, RebalanceEffects, TradeRequest};
use crate::math::{self, AssetPosition, Rounding};
use crate::state::{pause, Vault};

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
    pub valuation: Valuation,
    pub mid: Vec<AssetPosition>,
    pub limits: Vec<AssetLimits>,
    pub effects: RebalanceEffects,
}

/// Prices (every oracle under the rebalance limits, recorded), the targets and bands in force, and the
/// pure effects of `args`.
pub fn prepare(
    vault: &mut Vault,
    valuation_accounts: &[AccountInfo],
    supply: u64,
    args: &RebalanceArgs,
) -> Result<Prepared> {
    let clock = Clock::get()?;
    let oracle_limits = vault.params.rebalance_oracle_limits();
    let valuation = load_valuation(vault, valuation_accounts, clock.unix_timestamp, &oracle_limits)?;
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
    let effects = vault
        .rebalance_effects(&mid, &valuation.bounds, &limits, &request)
        .map_err(|r| error!(BallastError::from(r)))?;
    Ok(Prepared { valuation, mid, limits, effects })
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

/// Records a completed rebalance (cooldown, episode), checks the vault and builds its event.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    vault: &mut Vault,
    vault_key: Pubkey,
    keeper: Pubkey,
    route: RouteKind,
    requested_amount_in: u64,
    effects: &RebalanceEffects,
    done: &Completion,
    received: u64,
    prices: (Vec<i64>, Vec<i32>),
    bands_bps: Vec<u16>,
) -> Result<RebalanceEvent> {
    require!(done.drift_after < effects.drift_before, BallastError::DriftNotReduced);
    if done.started_cooldown {
        vault.last_rebalance_slot = Clock::get()?.slot;
    }
    vault.episode_bounty_paid = done.episode_bounty_paid;
    vault.invariant()?;
    let plan = &effects.plan;
    let (s, b) = (effects.request.sell, effects.request.buy);
    Ok(RebalanceEvent {
        vault: vault_key,
        keeper,
        route,
        sell_index: u8::try_from(s).map_err(|_| BallastError::AssetIndexOutOfRange)?,
        buy_index: u8::try_from(b).map_err(|_| BallastError::AssetIndexOutOfRange)?,
        requested_amount_in,
        amount_in: plan.amount_in,
        clamped: plan.clamped,
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
    })
}
