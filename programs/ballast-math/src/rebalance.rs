//! Rebalance planning: is a trade needed, how large may it be, what must it return, what does the
//! keeper earn. Used by the program to decide and by keepers and the simulator to choose trades.

use super::auction::{AuctionPoint, PPM, RESTART_PPM};
use super::sources::PoolPrice;
use super::{
    amount_for_value, band_position, mul_div_floor, position_values, total_value, value_of, AssetPosition,
    BandPosition, Cast, MathError, PriceBounds, Rounding, SafeMath, BPS, U256,
};

/// Per-asset rebalance settings, in vault order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetLimits {
    pub target_bps: u16,
    pub band_bps: u16,
    pub max_trade_bps: u16,
}

/// A keeper's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeRequest {
    pub sell: usize,
    pub buy: usize,
    pub amount_in: u64,
    /// The keeper's own minimum output; the program only ever tightens with it.
    pub min_out: u64,
}

/// Vault-wide settings that shape a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradePolicy {
    /// The floor's discount to fair value once the auction has fully relaxed (bps).
    pub slippage_cap_bps: u16,
    /// Seconds the auction takes to relax from fair value to the slippage-cap floor ([`crate::auction`]).
    pub auction_secs: u32,
    /// An auction not seen out of band for longer than this is stale ([`crate::auction::AuctionState`]).
    pub heartbeat_secs: u32,
    pub bounty_bps: u16,
    /// Absolute bounty cap in micro-USD.
    pub bounty_cap_value: u64,
}

/// What the program will execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebalancePlan {
    /// Amount of the sold asset sent to the AMM (after clamping).
    pub amount_in: u64,
    /// True when the request was larger than the overshoot / max-trade cap and was reduced.
    pub clamped: bool,
    /// The largest `amount_in` the program allows now (the clamp): neither asset past its target, within
    /// what is left of one full-size trade in this auction, and an output the bought reserve can hold.
    pub cap_amount: u64,
    /// Value of one full-size trade for this pair (micro-USD at mid: the vault's value × the smaller of the
    /// two assets' max trade sizes): the unit of the auction's sold volume.
    pub full_value: u128,
    /// The auction's sold volume after this trade (ppm of a full-size trade, at most [`PPM`]).
    pub sold_ppm_after: u32,
    /// Output of `amount_in` at fair value (the auction's start): the higher of the oracle's mid prices
    /// (`amount_in × p_sell_mid / p_buy_mid`) and the mid price of every whitelisted pool of the pair.
    pub fair_out: u64,
    /// The program's own floor: the auction's price after the elapsed time, from `fair_out` down to
    /// `fair_out × (1 − slippage_cap)` ([`crate::auction::AuctionRule::min_out`]), on mid prices only, so
    /// the confidence a keeper's chosen reading carries does not lower it.
    pub floor_out: u64,
    /// `max(floor_out, keeper min_out)`.
    pub min_out: u64,
    /// Most the keeper bounty can be for this trade (units of the sold asset); the clamp keeps room for
    /// it. The bounty actually paid follows the drift removed ([`bounty_value`]).
    pub max_bounty: u64,
    /// Value of `amount_in` at mid (micro-USD).
    pub trade_value: u128,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SameAsset,
    IndexOutOfRange,
    /// Sold asset not overweight or bought asset not underweight.
    WrongDirection,
    /// Both assets are inside their bands.
    NotNeeded,
    /// After capping, nothing (or an output of zero) would be traded.
    TooSmall,
    Math(MathError),
}

impl From<MathError> for Refusal {
    fn from(e: MathError) -> Self {
        Refusal::Math(e)
    }
}

/// Value of the amount by which `value` exceeds (`over = true`) or falls short of its target share of `nav`
/// (256-bit products: exact at any balance and price).
fn gap_to_target(value: u128, nav: u128, target_bps: u16, over: bool) -> Result<u128, MathError> {
    let v = U256::mul(value, BPS as u128);
    let t = U256::mul(nav, target_bps as u128);
    let gap = if over { v.saturating_sub(t) } else { t.saturating_sub(v) };
    gap.div(BPS as u128, Rounding::Floor)
}

impl TradePolicy {
    /// The auction the floor follows.
    pub fn auction(&self) -> crate::auction::AuctionRule {
        crate::auction::AuctionRule { duration_secs: self.auction_secs, cap_bps: self.slippage_cap_bps }
    }
}

/// Whether a trade from `s` to `b` is needed: the sold asset overweight and the bought one underweight, and
/// one of them outside its band. Returns the vault's value and the gap to target the trade may close (the
/// smaller of the sold asset's excess and the bought one's shortfall).
fn need(positions: &[AssetPosition], limits: &[AssetLimits], (s, b): (usize, usize)) -> Result<(u128, u128), Refusal> {
    let values = position_values(positions, Rounding::Floor)?;
    let nav = total_value(&values)?;
    if nav == 0 {
        return Err(Refusal::NotNeeded);
    }
    let excess = gap_to_target(values[s], nav, limits[s].target_bps, true)?;
    let deficit = gap_to_target(values[b], nav, limits[b].target_bps, false)?;
    if excess == 0 || deficit == 0 {
        return Err(Refusal::WrongDirection);
    }
    let sell_pos = band_position(values[s], nav, limits[s].target_bps, limits[s].band_bps)?;
    let buy_pos = band_position(values[b], nav, limits[b].target_bps, limits[b].band_bps)?;
    if sell_pos != BandPosition::Above && buy_pos != BandPosition::Below {
        return Err(Refusal::NotNeeded);
    }
    Ok((nav, excess.min(deficit)))
}

/// The most a trade from `s` to `b` may be worth (micro-USD at mid), and a full-size trade's value: the
/// `gap` to target (neither asset may pass it), what is left of one full-size trade (the smaller max size of
/// the two) after the `sold_ppm` this auction already sold, and what the bought reserve can still hold.
fn cap_value(
    positions: &[AssetPosition],
    limits: &[AssetLimits],
    (s, b): (usize, usize),
    nav: u128,
    gap: u128,
    sold_ppm: u32,
) -> Result<(u128, u128), MathError> {
    let max_trade_bps = limits[s].max_trade_bps.min(limits[b].max_trade_bps);
    let full_value = mul_div_floor(nav, max_trade_bps as u128, BPS as u128)?;
    let left_value = mul_div_floor(full_value, (PPM - sold_ppm.min(PPM)) as u128, PPM as u128)?;
    let room_b = u64::MAX - positions[b].balance;
    let room_value = value_of(room_b, positions[b].decimals, positions[b].price, Rounding::Floor)?;
    Ok((gap.min(left_value).min(room_value), full_value))
}

/// Decides a trade. `positions` carry balances and **mid** prices; `bounds` the conservative prices;
/// `auction` is where the vault's rebalance auction stands (the floor follows its time, the size what is left
/// of one full-size trade at its prices); `pools` the mid prices of the vault's whitelisted pools of the pair
/// (the fair output is the higher of the oracle's and theirs: [`crate::sources::fair_out`]).
pub fn plan(
    positions: &[AssetPosition],
    bounds: &[PriceBounds],
    limits: &[AssetLimits],
    policy: &TradePolicy,
    req: &TradeRequest,
    auction: AuctionPoint,
    pools: &[PoolPrice],
) -> Result<RebalancePlan, Refusal> {
    let n = positions.len();
    if bounds.len() != n || limits.len() != n {
        return Err(Refusal::Math(MathError::LengthMismatch));
    }
    if req.sell >= n || req.buy >= n {
        return Err(Refusal::IndexOutOfRange);
    }
    if req.sell == req.buy {
        return Err(Refusal::SameAsset);
    }
    let (s, b) = (req.sell, req.buy);
    let (nav, gap) = need(positions, limits, (s, b))?;
    let (cap_value, full_value) = cap_value(positions, limits, (s, b), nav, gap, auction.sold_ppm)?;
    let sold = auction.sold_ppm.min(PPM);
    let sell_dec = positions[s].decimals;
    let cap_amount =
        amount_for_value(cap_value, sell_dec, positions[s].price, Rounding::Floor)?.min(positions[s].balance);

    let bounty_for = |amount: u64| -> Result<u64, MathError> {
        let trade_value = value_of(amount, sell_dec, positions[s].price, Rounding::Floor)?;
        let by_bps = mul_div_floor(trade_value, policy.bounty_bps as u128, BPS as u128)?;
        let value = by_bps.min(policy.bounty_cap_value as u128);
        amount_for_value(value, sell_dec, bounds[s].high, Rounding::Floor)
    };
    let mut amount = req.amount_in.min(cap_amount);
    let mut bounty = bounty_for(amount)?;
    if amount.safe_add(bounty)? > cap_amount {
        amount = cap_amount.saturating_sub(bounty);
        bounty = bounty_for(amount)?;
    }
    if amount == 0 {
        return Err(Refusal::TooSmall);
    }

    // Floor: mid prices, the auction's discount after the elapsed time (at most the slippage cap).
    let trade_value = value_of(amount, sell_dec, positions[s].price, Rounding::Floor)?;
    let oracle_fair_out = amount_for_value(trade_value, positions[b].decimals, positions[b].price, Rounding::Floor)?;
    let fair_out = crate::sources::fair_out(oracle_fair_out, s, b, amount, pools);
    let floor_out = policy.auction().min_out(fair_out, auction.elapsed_secs)?;
    if floor_out == 0 || full_value == 0 {
        return Err(Refusal::TooSmall);
    }
    // The volume this trade adds to the auction, rounded up.
    let sold_now: u32 = super::mul_div_ceil(trade_value, PPM as u128, full_value)?.min(PPM as u128).cast()?;
    let sold_ppm_after = sold.saturating_add(sold_now).min(PPM);
    Ok(RebalancePlan {
        amount_in: amount,
        clamped: amount < req.amount_in,
        cap_amount,
        full_value,
        sold_ppm_after,
        fair_out,
        floor_out,
        min_out: floor_out.max(req.min_out),
        max_bounty: bounty,
        trade_value,
    })
}

/// Keeper bounty (micro-USD) for a trade that removed `drift_removed` of total absolute drift (Σ|value −
/// target value|, which counts a trade's value on both legs, hence the half): `bounty_bps` of half the
/// drift removed, and no more than what is left of the cap in the current drift episode. Splitting a
/// rebalance into many small ones therefore earns no more than one trade removing the same drift.
pub fn bounty_value(drift_removed: u128, policy: &TradePolicy, episode_paid: u64) -> Result<u128, MathError> {
    let by_bps = mul_div_floor(drift_removed / 2, policy.bounty_bps as u128, BPS as u128)?;
    let left = (policy.bounty_cap_value as u128).saturating_sub(episode_paid as u128);
    Ok(by_bps.min(left))
}

/// Whether a completed trade starts the cooldown: once the auction has sold half a full-size trade (in this
/// trade or with the ones before it at the same auction), or when every asset is inside its band after it.
/// A dust trade that leaves the vault out of band therefore cannot lock other keepers out, and dust trades
/// together count like the one trade they add up to.
pub fn starts_cooldown(sold_ppm_after: u32, all_inside_after: bool) -> bool {
    all_inside_after || sold_ppm_after >= RESTART_PPM
}

/// Everything a rebalance will do, decided before the swap: the plan (need, size, floor, room for the
/// bounty) and the drift it starts from. The program computes it; keepers replay it with the same inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceEffects {
    pub request: TradeRequest,
    pub plan: RebalancePlan,
    pub targets: Vec<u16>,
    /// Values at mid before the trade (micro-USD) and their total absolute drift from target.
    pub values_before: Vec<u128>,
    pub drift_before: u128,
}

/// How a rebalance ends once the swap's output is known: the bounty and the state after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Bounty value (micro-USD) and amount of the sold asset paid for it.
    pub bounty_value: u128,
    pub bounty: u64,
    pub values_after: Vec<u128>,
    pub drift_after: u128,
    /// Every asset inside its band after the trade (ends the drift episode).
    pub inside_after: bool,
    pub started_cooldown: bool,
    /// Bounty paid in the episode after this trade.
    pub episode_bounty_paid: u64,
}

/// [`plan`] plus the drift the trade starts from. `positions` carry the holders' balances at mid.
pub fn effects(
    positions: &[AssetPosition],
    bounds: &[PriceBounds],
    limits: &[AssetLimits],
    policy: &TradePolicy,
    request: &TradeRequest,
    auction: AuctionPoint,
    pools: &[PoolPrice],
) -> Result<RebalanceEffects, Refusal> {
    let plan = plan(positions, bounds, limits, policy, request, auction, pools)?;
    let targets: Vec<u16> = limits.iter().map(|l| l.target_bps).collect();
    let values_before = position_values(positions, Rounding::Floor)?;
    let drift_before = super::total_abs_drift_value(&values_before, &targets)?;
    Ok(RebalanceEffects { request: *request, plan, targets, values_before, drift_before })
}

impl RebalanceEffects {
    /// The rest of the rebalance when the swap paid `received`: the bounty for the drift removed (priced
    /// at the sold asset's high price, within the room the clamp kept), the values and drift after it, and
    /// whether the trade ends the episode and starts the cooldown.
    pub fn complete(
        &self,
        positions: &[AssetPosition],
        sell_high: super::UsdPrice,
        limits: &[AssetLimits],
        policy: &TradePolicy,
        received: u64,
        episode_paid: u64,
    ) -> Result<Completion, MathError> {
        let (s, b) = (self.request.sell, self.request.buy);
        let mut after = positions.to_vec();
        after[s].balance = after[s].balance.safe_sub(self.plan.amount_in)?;
        after[b].balance = after[b].balance.safe_add(received)?;
        let swapped = position_values(&after, Rounding::Floor)?;
        let drift_swapped = super::total_abs_drift_value(&swapped, &self.targets)?;
        let bounty_value = bounty_value(self.drift_before.saturating_sub(drift_swapped), policy, episode_paid)?;
        let bounty =
            amount_for_value(bounty_value, after[s].decimals, sell_high, Rounding::Floor)?.min(self.plan.max_bounty);
        after[s].balance = after[s].balance.safe_sub(bounty)?;
        let values_after = position_values(&after, Rounding::Floor)?;
        let drift_after = super::total_abs_drift_value(&values_after, &self.targets)?;
        let inside_after = all_inside(&values_after, limits)?;
        let episode_bounty_paid = if inside_after {
            0
        } else {
            u64::try_from((episode_paid as u128).saturating_add(bounty_value)).unwrap_or(u64::MAX)
        };
        Ok(Completion {
            bounty_value,
            bounty,
            values_after,
            drift_after,
            inside_after,
            started_cooldown: starts_cooldown(self.plan.sold_ppm_after, inside_after),
            episode_bounty_paid,
        })
    }
}

/// Value (micro-USD) the vault must trade back to target when an asset is out of its band: Σ of every
/// asset's excess over its target (what the rebalances will sell), or 0 when every asset is inside its band.
pub fn value_to_trade(values: &[u128], limits: &[AssetLimits]) -> Result<u128, MathError> {
    if all_inside(values, limits)? {
        return Ok(0);
    }
    let nav = total_value(values)?;
    values.iter().zip(limits).try_fold(0u128, |acc, (v, l)| acc.safe_add(gap_to_target(*v, nav, l.target_bps, true)?))
}

/// Value (micro-USD) a single-asset deposit of `value_in` into asset `index` makes the vault trade (`values`
/// the holders' values at mid before it, `limits` the targets and bands in force): the more of its own
/// overshoot ([`crate::deposit_traded_value`]) and of what it adds to the trading the bands require — a
/// deposit that dilutes *another* asset out of its band makes the vault trade the drift it uncovers.
pub fn deposit_traded_value_in_bands(
    values: &[u128],
    limits: &[AssetLimits],
    index: usize,
    value_in: u128,
) -> Result<u128, MathError> {
    let nav = total_value(values)?;
    let target = limits.get(index).ok_or(MathError::LengthMismatch)?.target_bps;
    let own = crate::deposit_traded_value(values[index], nav, target, value_in)?;
    let mut after = values.to_vec();
    after[index] = after[index].safe_add(value_in)?;
    let added = value_to_trade(&after, limits)?.saturating_sub(value_to_trade(values, limits)?);
    Ok(own.max(added))
}

/// True when every asset's value is inside its band.
pub fn all_inside(values: &[u128], limits: &[AssetLimits]) -> Result<bool, MathError> {
    if values.len() != limits.len() {
        return Err(MathError::LengthMismatch);
    }
    let nav = total_value(values)?;
    for (v, l) in values.iter().zip(limits) {
        if band_position(*v, nav, l.target_bps, l.band_bps)? != BandPosition::Inside {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The trade a keeper should request: the asset furthest above its target sold for the one furthest below,
/// each distance measured in multiples of the asset's own band (so an asset outside a narrow band comes
/// first). `amount_in` is the whole balance: the program clamps it to the cap. `None` when no trade is
/// needed.
pub fn suggest(positions: &[AssetPosition], limits: &[AssetLimits]) -> Result<Option<TradeRequest>, MathError> {
    let values = position_values(positions, Rounding::Floor)?;
    let nav = total_value(&values)?;
    if nav == 0 || limits.len() != positions.len() {
        return Ok(None);
    }
    let mut sell: Option<(usize, u128)> = None;
    let mut buy: Option<(usize, u128)> = None;
    let mut any_out = false;
    for (i, (v, l)) in values.iter().zip(limits).enumerate() {
        let pos = band_position(*v, nav, l.target_bps, l.band_bps)?;
        any_out |= pos != BandPosition::Inside;
        // Distance from target in units of the band (scaled by BPS to keep integer precision).
        let band = (l.band_bps as u128).max(1);
        let over = mul_div_floor(gap_to_target(*v, nav, l.target_bps, true)?, BPS as u128, band)?;
        let under = mul_div_floor(gap_to_target(*v, nav, l.target_bps, false)?, BPS as u128, band)?;
        if over > 0 && sell.is_none_or(|(_, g)| over > g) {
            sell = Some((i, over));
        }
        if under > 0 && buy.is_none_or(|(_, g)| under > g) {
            buy = Some((i, under));
        }
    }
    match (sell, buy, any_out) {
        (Some((s, _)), Some((b, _)), true) => {
            let sb = band_position(values[s], nav, limits[s].target_bps, limits[s].band_bps)?;
            let bb = band_position(values[b], nav, limits[b].target_bps, limits[b].band_bps)?;
            if sb != BandPosition::Above && bb != BandPosition::Below {
                return Ok(None);
            }
            Ok(Some(TradeRequest { sell: s, buy: b, amount_in: positions[s].balance, min_out: 0 }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{total_abs_drift_value, OracleReading, UsdPrice};
    use proptest::prelude::*;

    fn pos(balance: u64, price: u64) -> AssetPosition {
        AssetPosition { balance, decimals: 6, price: UsdPrice { mantissa: price, expo: -2 } }
    }

    fn bounds_of(p: &[AssetPosition], conf_bps: u64) -> Vec<PriceBounds> {
        p.iter()
            .map(|a| {
                let r = OracleReading {
                    price: a.price.mantissa as i64,
                    conf: a.price.mantissa * conf_bps / 10_000,
                    expo: a.price.expo,
                    publish_time: 0,
                    ..Default::default()
                };
                r.bounds().unwrap()
            })
            .collect()
    }

    const POLICY: TradePolicy = TradePolicy {
        slippage_cap_bps: 100,
        auction_secs: 200,
        heartbeat_secs: 10,
        bounty_bps: 10,
        bounty_cap_value: 1_000_000,
    };
    /// An auction that has fully relaxed: the slippage-cap floor, nothing sold yet.
    const RELAXED: AuctionPoint = AuctionPoint { elapsed_secs: u64::MAX, sold_ppm: 0 };

    fn limits(targets: &[u16], band: u16) -> Vec<AssetLimits> {
        targets.iter().map(|t| AssetLimits { target_bps: *t, band_bps: band, max_trade_bps: 10_000 }).collect()
    }

    #[test]
    fn refuses_inside_band_and_wrong_way() {
        // 52 / 48 with a 5 % band: inside.
        let p = [pos(52_000_000, 100), pos(48_000_000, 100)];
        let l = limits(&[5_000, 5_000], 500);
        let b = bounds_of(&p, 0);
        let req = TradeRequest { sell: 0, buy: 1, amount_in: 1_000_000, min_out: 0 };
        assert_eq!(plan(&p, &b, &l, &POLICY, &req, RELAXED, &[]), Err(Refusal::NotNeeded));
        let p = [pos(60_000_000, 100), pos(40_000_000, 100)];
        let b = bounds_of(&p, 0);
        let wrong = TradeRequest { sell: 1, buy: 0, ..req };
        assert_eq!(plan(&p, &b, &l, &POLICY, &wrong, RELAXED, &[]), Err(Refusal::WrongDirection));
        assert_eq!(
            plan(&p, &b, &l, &POLICY, &TradeRequest { sell: 0, buy: 0, ..req }, RELAXED, &[]),
            Err(Refusal::SameAsset)
        );
        assert_eq!(
            plan(&p, &b, &l, &POLICY, &TradeRequest { sell: 0, buy: 5, ..req }, RELAXED, &[]),
            Err(Refusal::IndexOutOfRange)
        );
    }

    #[test]
    fn clamps_to_target_and_sets_floor() {
        // $600 000 vs $400 000 at 50/50: at most $100 000 may move.
        let p = [pos(60_000_000, 1_000), pos(40_000_000, 1_000)];
        let l = limits(&[5_000, 5_000], 500);
        let b = bounds_of(&p, 0);
        let req = TradeRequest { sell: 0, buy: 1, amount_in: u64::MAX, min_out: 0 };
        let plan = plan(&p, &b, &l, &POLICY, &req, RELAXED, &[]).unwrap();
        assert!(plan.clamped);
        // $600 vs $400 at $10 a token: at most 10 tokens may move, bounty included. The bounty is
        // 10 bps of the $99.90 actually traded = 9 990 units, recomputed after the reduction.
        assert_eq!(plan.amount_in, 9_990_000);
        assert_eq!(plan.max_bounty, 9_990);
        assert_eq!(plan.cap_amount, 10_000_000);
        assert!(plan.amount_in + plan.max_bounty <= 10_000_000);
        assert_eq!(plan.floor_out, plan.amount_in / 100 * 99);
        assert_eq!(plan.fair_out, plan.amount_in);
        let tighter = TradeRequest { min_out: plan.floor_out + 5, ..req };
        assert_eq!(super::plan(&p, &b, &l, &POLICY, &tighter, RELAXED, &[]).unwrap().min_out, plan.floor_out + 5);
    }

    #[test]
    fn max_trade_size_caps() {
        let p = [pos(60_000_000, 1_000), pos(40_000_000, 1_000)];
        let mut l = limits(&[5_000, 5_000], 500);
        l[1].max_trade_bps = 100; // 1 % of $1M = $10 000
        let b = bounds_of(&p, 0);
        let policy = TradePolicy { bounty_bps: 0, ..POLICY };
        let req = TradeRequest { sell: 0, buy: 1, amount_in: u64::MAX, min_out: 0 };
        assert_eq!(plan(&p, &b, &l, &policy, &req, RELAXED, &[]).unwrap().amount_in, 1_000_000);
    }

    /// One auction sells at most one full-size trade at its prices: a trade may only take what is left of
    /// it, and the volume adds up (dust trades included) until half of it restarts the auction.
    #[test]
    fn an_auction_sells_at_most_one_full_size_trade() {
        // $600 vs $400 at 50/50, max trade 2 % of $1 000 = $20 a trade.
        let p = [pos(60_000_000, 1_000), pos(40_000_000, 1_000)];
        let mut l = limits(&[5_000, 5_000], 500);
        l[0].max_trade_bps = 200;
        let b = bounds_of(&p, 0);
        let policy = TradePolicy { bounty_bps: 0, ..POLICY };
        let req = TradeRequest { sell: 0, buy: 1, amount_in: u64::MAX, min_out: 0 };
        let full = plan(&p, &b, &l, &policy, &req, RELAXED, &[]).unwrap();
        assert_eq!((full.amount_in, full.full_value, full.sold_ppm_after), (2_000_000, 20_000_000, PPM));
        // 45 % of a full-size trade, then the rest: 90 % sold in all restarts the auction.
        let dust = TradeRequest { amount_in: 900_000, ..req };
        let first = plan(&p, &b, &l, &policy, &dust, RELAXED, &[]).unwrap();
        assert_eq!(first.sold_ppm_after, 450_000);
        assert!(!starts_cooldown(first.sold_ppm_after, false));
        let second = plan(&p, &b, &l, &policy, &dust, AuctionPoint { sold_ppm: 450_000, ..RELAXED }, &[]).unwrap();
        assert!(starts_cooldown(second.sold_ppm_after, false));
        // With 90 % sold, only the last 10 % of a full-size trade is left at this auction's prices.
        let late = plan(&p, &b, &l, &policy, &req, AuctionPoint { sold_ppm: 900_000, ..RELAXED }, &[]).unwrap();
        assert_eq!((late.amount_in, late.clamped, late.sold_ppm_after), (200_000, true, PPM));
    }

    /// The bought reserve cannot be paid more than a u64 holds: the trade is clamped, not overflowed.
    #[test]
    fn a_trade_never_pays_more_than_the_bought_reserve_can_hold() {
        let huge = UsdPrice { mantissa: 1_000_000_000_000, expo: 0 };
        let p = [
            AssetPosition { balance: u64::MAX / 2, decimals: 0, price: huge },
            AssetPosition { balance: u64::MAX - 10, decimals: 6, price: UsdPrice { mantissa: 1, expo: 0 } },
        ];
        let l = limits(&[1_000, 9_000], 500);
        let b = bounds_of(&p, 0);
        let req = TradeRequest { sell: 0, buy: 1, amount_in: u64::MAX, min_out: 0 };
        assert_eq!(plan(&p, &b, &l, &POLICY, &req, RELAXED, &[]), Err(Refusal::TooSmall));
    }

    /// A deposit that fills its own asset's shortfall but dilutes another asset out of its band pays for the
    /// drift it uncovers (review: $80 of BTC pushed USDC out of its band and $345 had to be traded, charged
    /// nothing).
    #[test]
    fn a_deposit_pays_for_the_bands_it_breaks() {
        // 44 / 28.9 / 27.1 % against 40 / 30 / 30 ± 5 / 5 / 3: inside.
        let values = [4_400_000u128, 2_890_000, 2_710_000];
        let l = [
            AssetLimits { target_bps: 4_000, band_bps: 500, max_trade_bps: 2_500 },
            AssetLimits { target_bps: 3_000, band_bps: 500, max_trade_bps: 2_500 },
            AssetLimits { target_bps: 3_000, band_bps: 300, max_trade_bps: 2_500 },
        ];
        assert_eq!(value_to_trade(&values, &l).unwrap(), 0);
        // $80 of BTC (scaled: 80 000): BTC below target, so no overshoot; USDC falls to 26.9 %.
        let caused = deposit_traded_value_in_bands(&values, &l, 1, 80_000).unwrap();
        assert!(caused > 300_000, "{caused}");
        assert_eq!(crate::deposit_traded_value(values[1], 10_000_000, 3_000, 80_000).unwrap(), 0);
        // A SOL deposit into a vault at target: its own overshoot, as before.
        let at_target = [4_000_000u128, 3_000_000, 3_000_000];
        let own = crate::deposit_traded_value(4_000_000, 10_000_000, 4_000, 1_000_000).unwrap();
        assert_eq!(deposit_traded_value_in_bands(&at_target, &l, 0, 1_000_000).unwrap(), own);
    }

    #[test]
    fn floor_ignores_the_confidence_of_the_chosen_reading() {
        let p = [pos(60_000_000, 1_000), pos(40_000_000, 1_000)];
        let l = limits(&[5_000, 5_000], 500);
        let req = TradeRequest { sell: 0, buy: 1, amount_in: 1_000_000, min_out: 0 };
        let tight = plan(&p, &bounds_of(&p, 0), &l, &POLICY, &req, RELAXED, &[]).unwrap();
        let wide = plan(&p, &bounds_of(&p, 500), &l, &POLICY, &req, RELAXED, &[]).unwrap();
        assert_eq!(tight.floor_out, wide.floor_out);
    }

    #[test]
    fn bounty_follows_drift_removed_and_the_episode_cap() {
        let policy = TradePolicy { bounty_bps: 100, bounty_cap_value: 1_000, ..POLICY };
        assert_eq!(bounty_value(20_000, &policy, 0).unwrap(), 100);
        // Eight slices of the same drift earn what one trade earns.
        let slices: u128 = (0..8).map(|_| bounty_value(2_500, &policy, 0).unwrap()).sum();
        assert_eq!(slices, 96);
        // The cap is per episode: what was paid already counts.
        assert_eq!(bounty_value(1_000_000, &policy, 900).unwrap(), 100);
        assert_eq!(bounty_value(1_000_000, &policy, 1_000).unwrap(), 0);
        assert!(
            starts_cooldown(RESTART_PPM, false) && !starts_cooldown(RESTART_PPM - 1, false) && starts_cooldown(1, true)
        );
    }

    #[test]
    fn slippage_cap_above_100_percent_does_not_underflow() {
        let p = [pos(60_000_000, 1_000), pos(40_000_000, 1_000)];
        let l = limits(&[5_000, 5_000], 500);
        let policy = TradePolicy { slippage_cap_bps: 20_000, ..POLICY };
        let req = TradeRequest { sell: 0, buy: 1, amount_in: 1_000_000, min_out: 0 };
        assert_eq!(plan(&p, &bounds_of(&p, 0), &l, &policy, &req, RELAXED, &[]), Err(Refusal::TooSmall));
    }

    #[test]
    fn suggest_picks_extremes() {
        let p = [pos(20_000_000, 100), pos(50_000_000, 100), pos(30_000_000, 100)];
        let l = limits(&[3_000, 3_000, 4_000], 500);
        let r = suggest(&p, &l).unwrap().unwrap();
        assert_eq!((r.sell, r.buy), (1, 0));
        // Equal shortfalls: the asset with the narrower band is bought first.
        let p = [pos(48_000_000, 100), pos(26_000_000, 100), pos(26_000_000, 100)];
        let mut narrow = limits(&[4_000, 3_000, 3_000], 500);
        narrow[2].band_bps = 300;
        assert_eq!(suggest(&p, &narrow).unwrap().unwrap().buy, 2);
        let calm = [pos(30_000_000, 100), pos(31_000_000, 100), pos(39_000_000, 100)];
        assert_eq!(suggest(&calm, &l).unwrap(), None);
    }

    proptest! {
        /// Executing a plan at any price no worse than its floor never increases total drift and never
        /// moves either asset past its target.
        #[test]
        fn plan_reduces_drift(
            balances in proptest::collection::vec(1_000u64..1_000_000_000_000, 2..6),
            prices in proptest::collection::vec(1u64..1_000_000, 6),
            targets_seed in proptest::collection::vec(1u16..100, 6),
            band in 1u16..2_000,
            exec_bps in 0u64..=100,
        ) {
            let n = balances.len();
            let p: Vec<AssetPosition> = (0..n).map(|i| pos(balances[i], prices[i])).collect();
            let sum: u64 = targets_seed[..n].iter().map(|t| *t as u64).sum();
            let mut targets: Vec<u16> = targets_seed[..n].iter().map(|t| (*t as u64 * 10_000 / sum) as u16).collect();
            let rest = 10_000 - targets.iter().map(|t| *t as u64).sum::<u64>();
            targets[0] += rest as u16;
            prop_assume!(targets.iter().all(|t| *t > 0));
            let l = limits(&targets, band);
            let b = bounds_of(&p, 0);
            let Some(req) = suggest(&p, &l).unwrap() else { return Ok(()); };
            let Ok(plan) = plan(&p, &b, &l, &POLICY, &req, RELAXED, &[]) else { return Ok(()); };
            // Execute between the floor and the fair output.
            let fair = amount_for_value(plan.trade_value, 6, b[req.buy].mid, Rounding::Floor).unwrap();
            let out = plan.floor_out.max(fair - (fair - plan.floor_out.min(fair)) * exec_bps / 100);
            let mut after = p.clone();
            after[req.sell].balance -= plan.amount_in + plan.max_bounty;
            after[req.buy].balance += out;
            let v0 = position_values(&p, Rounding::Floor).unwrap();
            let v1 = position_values(&after, Rounding::Floor).unwrap();
            prop_assert!(total_abs_drift_value(&v1, &targets).unwrap() <= total_abs_drift_value(&v0, &targets).unwrap());
            let nav1 = total_value(&v1).unwrap();
            prop_assert!(v1[req.sell] * 10_000 + 10_000 * 10 >= nav1 * targets[req.sell] as u128, "sell overshot");
            prop_assert!(v1[req.buy] * 10_000 <= nav1 * targets[req.buy] as u128 + 10_000 * 10, "buy overshot");
        }

        /// Inside every band there is never a plan.
        #[test]
        fn no_plan_inside_bands(b0 in 45_000_000u64..55_000_000) {
            let p = [pos(b0, 100), pos(100_000_000 - b0, 100)];
            let l = limits(&[5_000, 5_000], 500);
            let bounds = bounds_of(&p, 10);
            let req = TradeRequest { sell: 0, buy: 1, amount_in: 1_000, min_out: 0 };
            let r = plan(&p, &bounds, &l, &POLICY, &req, RELAXED, &[]);
            prop_assert!(matches!(r, Err(Refusal::NotNeeded) | Err(Refusal::WrongDirection)));
            prop_assert_eq!(suggest(&p, &l).unwrap(), None);
        }
    }
}
