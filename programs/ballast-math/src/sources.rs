//! A second source for every price that moves money.
//!
//! With Pyth pull oracles the sender of a transaction chooses which signed reading the program sees. So a
//! price is used only in the direction that cannot favour whoever supplied it, against a second source:
//! - **Pyth's EMA** (same account, about an hour): one print cannot move it;
//! - **the vault's own whitelisted pools** (their current mid price, read from their accounts): the market,
//!   arbitraged, has already moved when a sender holds back a newer reading.
//!
//! A pool can be manipulated inside the transaction that reads it, so it only ever makes a price *more*
//! conservative: a rebalance's fair output is the **higher** of the oracle's and the pools' (pushing a pool
//! up only raises the floor the manipulator must pay), a single-asset deposit is valued at the **lower** and
//! the vault at the **higher** of every source (pushing a pool can only shrink the manipulator's shares).
//! Whoever moves a pool can therefore only hurt himself.

use super::fixed::mul_div;
use super::{amount_for_value, value_of, MathError, MathResult, PriceBounds, Rounding, UsdPrice};

/// A pool's mid price, without fee or impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMid {
    /// A constant-product pool's reserves of its asset a and b (base units): `b per a = reserve_b / reserve_a`.
    Reserves { a: u64, b: u64 },
    /// A concentrated-liquidity pool's square root of the price of a in b (base units), Q64.64.
    SqrtPriceQ64(u128),
}

/// A whitelisted pool between two vault assets (by index) and its mid price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolPrice {
    pub asset_a: usize,
    pub asset_b: usize,
    pub mid: PoolMid,
}

const Q64: u128 = 1 << 64;

impl PoolPrice {
    /// Whether the pool trades assets `i` and `j` (either way round).
    pub fn trades(&self, i: usize, j: usize) -> bool {
        (self.asset_a == i && self.asset_b == j) || (self.asset_a == j && self.asset_b == i)
    }

    /// The other asset of a pool that trades `i`.
    pub fn other(&self, i: usize) -> Option<usize> {
        if self.asset_a == i {
            Some(self.asset_b)
        } else if self.asset_b == i {
            Some(self.asset_a)
        } else {
            None
        }
    }

    /// Base units of the pool's other asset that `amount` base units of `from` are worth at its mid price,
    /// rounded as asked (`None`: the pool does not trade `from`; `Some(Err)`: an empty pool or overflow).
    pub fn convert(&self, from: usize, amount: u64, rounding: Rounding) -> Option<MathResult<u128>> {
        let a_to_b = if from == self.asset_a {
            true
        } else if from == self.asset_b {
            false
        } else {
            return None;
        };
        let amount = amount as u128;
        Some(match self.mid {
            PoolMid::Reserves { a, b } => {
                let (num, den) = if a_to_b { (b, a) } else { (a, b) };
                mul_div(amount, num as u128, den as u128, rounding)
            }
            PoolMid::SqrtPriceQ64(s) if a_to_b => {
                // amount × s² / 2^128, in two steps of s / 2^64.
                mul_div(amount, s, Q64, rounding).and_then(|x| mul_div(x, s, Q64, rounding))
            }
            PoolMid::SqrtPriceQ64(s) => mul_div(amount, Q64, s, rounding).and_then(|x| mul_div(x, Q64, s, rounding)),
        })
    }
}

/// The fair output of selling `amount_in` of `sell` for `buy`: the higher of the oracle's (at mid prices,
/// `oracle_fair_out`) and every given pool's for the pair at its mid price. A pool that cannot be read as a
/// price (empty, overflowing) is left out: it can only ever raise the floor.
pub fn fair_out(oracle_fair_out: u64, sell: usize, buy: usize, amount_in: u64, pools: &[PoolPrice]) -> u64 {
    pools
        .iter()
        .filter(|p| p.trades(sell, buy))
        .filter_map(|p| p.convert(sell, amount_in, Rounding::Floor)?.ok())
        .map(|out| u64::try_from(out).unwrap_or(u64::MAX))
        .fold(oracle_fair_out, u64::max)
}

/// Which bound of a value is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The least any source says (a deposit's value).
    Low,
    /// The most any source says (the vault a deposit buys into).
    High,
}

/// What one asset is priced from: its oracle's bounds (price ∓ conf) and its EMA's, and its decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetSources {
    pub decimals: u8,
    pub spot: PriceBounds,
    /// `None` when the EMA has no positive lower bound (then nothing is worth more than zero on it).
    pub ema: Option<PriceBounds>,
}

impl AssetSources {
    fn bound(b: &PriceBounds, side: Side) -> UsdPrice {
        match side {
            Side::Low => b.low,
            Side::High => b.high,
        }
    }

    /// The value of `amount` at the oracle's own sources: spot and EMA at `side`'s confidence bound, the
    /// lower of the two (`Low`) or the higher (`High`).
    pub fn oracle_value(&self, amount: u64, side: Side) -> MathResult<u128> {
        let rounding = match side {
            Side::Low => Rounding::Floor,
            Side::High => Rounding::Ceil,
        };
        let spot = value_of(amount, self.decimals, Self::bound(&self.spot, side), rounding)?;
        let Some(ema) = &self.ema else {
            return Ok(match side {
                Side::Low => 0,
                Side::High => spot,
            });
        };
        let ema = value_of(amount, self.decimals, Self::bound(ema, side), rounding)?;
        Ok(match side {
            Side::Low => spot.min(ema),
            Side::High => spot.max(ema),
        })
    }
}

/// The value (micro-USD) of `amount` of asset `i` at `side`: the lower (or higher) of its spot and EMA at
/// their confidence bounds and of what every given pool trading `i` says, each pool's other asset valued at
/// its own spot bound on the same side. `assets` are every asset's sources, in vault order.
pub fn value_bound(
    i: usize,
    amount: u64,
    assets: &[AssetSources],
    pools: &[PoolPrice],
    side: Side,
) -> MathResult<u128> {
    let me = assets.get(i).ok_or(MathError::LengthMismatch)?;
    let mut value = me.oracle_value(amount, side)?;
    let rounding = match side {
        Side::Low => Rounding::Floor,
        Side::High => Rounding::Ceil,
    };
    for pool in pools {
        let Some(j) = pool.other(i) else { continue };
        let Some(other) = assets.get(j) else { continue };
        // A pool that cannot be read as a price (empty, overflowing) says nothing.
        let Some(Ok(in_j)) = pool.convert(i, amount, rounding) else { continue };
        let Ok(in_j) = u64::try_from(in_j) else { continue };
        let Ok(via) = value_of(in_j, other.decimals, AssetSources::bound(&other.spot, side), rounding) else {
            continue;
        };
        value = match side {
            Side::Low => value.min(via),
            Side::High => value.max(via),
        };
    }
    Ok(value)
}

/// How far (bps of the oracle's value, rounded up) `pool` prices `amount` of its asset a from the oracle: `amount`
/// converted at the pool's mid into asset b, valued at b's oracle mid, against `amount` valued at a's oracle
/// mid. `None` when the pool or the oracle cannot price it (an empty pool, a zero amount).
pub fn pool_divergence_bps(pool: &PoolPrice, assets: &[AssetSources], amount: u64) -> Option<u64> {
    let (a, b) = (assets.get(pool.asset_a)?, assets.get(pool.asset_b)?);
    let in_b = u64::try_from(pool.convert(pool.asset_a, amount, Rounding::Floor)?.ok()?).ok()?;
    let via_pool = value_of(in_b, b.decimals, b.spot.mid, Rounding::Floor).ok()?;
    let direct = value_of(amount, a.decimals, a.spot.mid, Rounding::Floor).ok()?;
    if direct == 0 {
        return None;
    }
    mul_div(via_pool.abs_diff(direct), super::BPS as u128, direct, Rounding::Ceil)
        .ok()
        .map(|d| u64::try_from(d).unwrap_or(u64::MAX))
}

/// What a pool is probed with: $1 000 of its asset a at the oracle's mid, so that valuing it in whole
/// micro-dollars is exact to 0.01 bps whatever the holders hold (a dust balance would be valued at nothing and
/// the pool skipped, while [`value_bound`] still reads it for its other asset; a large one could overflow the
/// conversion into a low-priced asset b). A pool's mid price is linear in the amount, so the size of the probe
/// does not change the divergence.
pub const DIVERGENCE_PROBE_VALUE: u128 = 1_000_000_000;

/// The first of `pools` that prices its asset a further than `max_bps` from the oracles (probed with
/// [`DIVERGENCE_PROBE_VALUE`] of the asset), and how far. A pool that cannot be read as a price (empty) is not
/// read by [`value_bound`] either.
pub fn first_divergent_pool(pools: &[PoolPrice], assets: &[AssetSources], max_bps: u16) -> Option<(usize, u64)> {
    pools.iter().enumerate().find_map(|(k, p)| {
        let a = assets.get(p.asset_a)?;
        let probe = amount_for_value(DIVERGENCE_PROBE_VALUE, a.decimals, a.spot.mid, Rounding::Ceil).ok()?;
        let d = pool_divergence_bps(p, assets, probe)?;
        (d > max_bps as u64).then_some((k, d))
    })
}

/// The vault's value (micro-USD) at `side` for `balances` (vault order): every asset at [`value_bound`].
pub fn nav_bound(balances: &[u64], assets: &[AssetSources], pools: &[PoolPrice], side: Side) -> MathResult<u128> {
    if balances.len() != assets.len() {
        return Err(MathError::LengthMismatch);
    }
    balances.iter().enumerate().try_fold(0u128, |acc, (i, b)| {
        let v = value_bound(i, *b, assets, pools, side)?;
        acc.checked_add(v).ok_or(MathError::Overflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OracleReading;
    use proptest::prelude::*;

    fn sources(price: i64, ema: i64, decimals: u8) -> AssetSources {
        let r = OracleReading { price, conf: 0, expo: -8, publish_time: 0, ema_price: ema, ema_conf: 0 };
        AssetSources { decimals, spot: r.bounds().unwrap(), ema: r.ema_bounds().ok() }
    }

    #[test]
    fn pools_convert_at_their_mid_price() {
        // 1 000 SOL (9 decimals) against 150 000 USDC (6 decimals): 1 SOL = 150 USDC.
        let p =
            PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 1_000_000_000_000, b: 150_000_000_000 } };
        assert_eq!(p.convert(0, 1_000_000_000, Rounding::Floor), Some(Ok(150_000_000)));
        assert_eq!(p.convert(1, 150_000_000, Rounding::Floor), Some(Ok(1_000_000_000)));
        assert_eq!(p.convert(2, 1, Rounding::Floor), None);
        // sqrt price 2 (Q64.64): 1 a = 4 b.
        let w = PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::SqrtPriceQ64(2 << 64) };
        assert_eq!(w.convert(0, 100, Rounding::Floor), Some(Ok(400)));
        assert_eq!(w.convert(1, 400, Rounding::Floor), Some(Ok(100)));
        // An empty pool says nothing.
        let empty = PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 0, b: 0 } };
        assert_eq!(empty.convert(0, 1, Rounding::Floor), Some(Err(MathError::DivideByZero)));
        assert_eq!(fair_out(7, 0, 1, 1, &[empty]), 7);
    }

    #[test]
    fn the_fair_output_is_the_higher_of_oracle_and_pool() {
        let moved = PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 1_000, b: 153_000 } };
        // The oracle (held back) says 150, the pool (moved) 153: the pool's.
        assert_eq!(fair_out(150, 0, 1, 1, &[moved]), 153);
        // A pool pushed down never lowers the oracle's.
        let pushed = PoolPrice { mid: PoolMid::Reserves { a: 1_000, b: 100_000 }, ..moved };
        assert_eq!(fair_out(150, 0, 1, 1, &[pushed]), 150);
        // A pool of another pair is not read.
        let other = PoolPrice { asset_a: 2, asset_b: 1, ..moved };
        assert_eq!(fair_out(150, 0, 1, 1, &[other]), 150);
    }

    #[test]
    fn a_deposit_is_worth_the_least_and_the_vault_the_most_any_source_says() {
        // SOL at $150 on the oracle, EMA $148, the SOL/USDC pool at 153 USDC; USDC at $1.
        let assets = [sources(150_00000000, 148_00000000, 9), sources(1_00000000, 1_00000000, 6)];
        let pool =
            PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 1_000_000_000_000, b: 153_000_000_000 } };
        let one_sol = 1_000_000_000;
        assert_eq!(value_bound(0, one_sol, &assets, &[pool], Side::Low).unwrap(), 148_000_000);
        assert_eq!(value_bound(0, one_sol, &assets, &[pool], Side::High).unwrap(), 153_000_000);
        // USDC through the pool: 153 USDC buy 1 SOL, worth $148..$150 by SOL's own sources (only the spot
        // bound of the other leg is used: $150), so 1 USDC is worth $0.98 at the low side.
        assert_eq!(value_bound(1, 153_000_000, &assets, &[pool], Side::Low).unwrap(), 150_000_000);
        assert_eq!(nav_bound(&[one_sol, 0], &assets, &[pool], Side::High).unwrap(), 153_000_000);
    }

    #[test]
    fn a_pool_away_from_the_oracle_is_named_with_its_distance() {
        let assets = [sources(150_00000000, 150_00000000, 9), sources(1_00000000, 1_00000000, 6)];
        let one_sol = 1_000_000_000;
        // 1 000 SOL against 153 000 USDC: 2 % above the oracle's $150.
        let dear =
            PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 1_000_000_000_000, b: 153_000_000_000 } };
        assert_eq!(pool_divergence_bps(&dear, &assets, one_sol), Some(200));
        let fair = PoolPrice { mid: PoolMid::Reserves { a: 1_000_000_000_000, b: 150_000_000_000 }, ..dear };
        assert_eq!(pool_divergence_bps(&fair, &assets, one_sol), Some(0));
        assert_eq!(first_divergent_pool(&[fair, dear], &assets, 100), Some((1, 200)));
        assert_eq!(first_divergent_pool(&[fair, dear], &assets, 200), None);
        let empty = PoolPrice { mid: PoolMid::Reserves { a: 0, b: 0 }, ..dear };
        assert_eq!(pool_divergence_bps(&empty, &assets, one_sol), None, "an empty pool says nothing");
    }

    proptest! {
        /// Whatever a pool says, it never raises a deposit's value or lowers the vault's or a floor.
        #[test]
        fn a_pool_only_ever_makes_prices_more_conservative(
            ra in 1u64..1_000_000_000_000_000, rb in 1u64..1_000_000_000_000_000,
            amount in 0u64..1_000_000_000_000, oracle_fair in 0u64..u64::MAX,
        ) {
            let assets = [sources(150_00000000, 149_00000000, 9), sources(1_00000000, 1_00000000, 6)];
            let pool = PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: ra, b: rb } };
            for i in 0..2 {
                let low = value_bound(i, amount, &assets, &[pool], Side::Low).unwrap();
                let high = value_bound(i, amount, &assets, &[pool], Side::High).unwrap();
                prop_assert!(low <= assets[i].oracle_value(amount, Side::Low).unwrap());
                prop_assert!(high >= assets[i].oracle_value(amount, Side::High).unwrap());
            }
            prop_assert!(fair_out(oracle_fair, 0, 1, amount, &[pool]) >= oracle_fair);
        }
    }
}
