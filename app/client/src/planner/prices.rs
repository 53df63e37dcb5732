//! What the vault's whitelisted pools say each asset is worth, next to its oracle: a pool's mid price
//! (`Route::price`, the program's second price source) converted to USD through the other asset's oracle
//! mid price, and how far that is from the asset's own oracle mid. For dashboards and monitoring; the
//! program itself never needs a pool's USD price (it compares pools with the oracle in the pair's units).

use anchor_lang::prelude::Pubkey;
use ballast::math::sources::PoolPrice;
use ballast::math::{value_of, AssetPosition, Rounding, UsdPrice, BPS, VALUE_DECIMALS};

use super::Route;

/// Powers of ten of whole tokens converted at once (tried from the largest down, the first that fits):
/// 10^6 tokens keep six more significant digits when one token is worth only a few base units of the
/// other asset (one USDC in satoshis).
const SCALE_DIGITS: u32 = 6;

/// One pool's USD price of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsdPrice {
    pub pool: Pubkey,
    pub program_id: Pubkey,
    /// The pool's other vault asset, whose oracle mid price turns the pool's mid into USD.
    pub other: usize,
    /// USD per whole token of the asset.
    pub price: UsdPrice,
    /// (pool price − oracle mid) in bps of the oracle mid, rounded to the nearest bp.
    pub divergence_bps: i64,
}

/// The USD price of `asset` that `pool` implies (its mid price times the other asset's oracle mid), and its
/// signed divergence from `asset`'s own oracle mid in bps; `positions` give every asset's decimals and
/// oracle mid (`Valuation::positions`). `None` when the pool does not trade `asset`, is empty, or the
/// numbers do not fit.
pub fn pool_usd_price(pool: &PoolPrice, asset: usize, positions: &[AssetPosition]) -> Option<(UsdPrice, i64)> {
    let other = pool.other(asset)?;
    let (mine, theirs) = (positions.get(asset)?, positions.get(other)?);
    (0..=SCALE_DIGITS).rev().find_map(|k| {
        let tokens = 10u64.checked_pow(u32::from(mine.decimals) + k)?;
        let out = u64::try_from(pool.convert(asset, tokens, Rounding::Floor)?.ok()?).ok()?;
        let pool_value = value_of(out, theirs.decimals, theirs.price, Rounding::Floor).ok()?;
        let oracle_value = value_of(tokens, mine.decimals, mine.price, Rounding::Floor).ok()?;
        // Rounded to the nearest bp (the conversion's own rounding stays far below one).
        let scaled = pool_value.abs_diff(oracle_value).checked_mul(u128::from(BPS))?.checked_add(oracle_value / 2)?;
        let magnitude = i64::try_from(scaled.checked_div(oracle_value)?).ok()?;
        let divergence = if pool_value < oracle_value { -magnitude } else { magnitude };
        // `pool_value` micro-USD for 10^k whole tokens.
        let price = UsdPrice { mantissa: u64::try_from(pool_value).ok()?, expo: -(VALUE_DECIMALS as i32) - k as i32 };
        Some((price, divergence))
    })
}

/// Every whitelisted route that trades `asset`, read as a USD price of it ([`pool_usd_price`]), in the
/// routes' order. A pool that cannot be read as a price (empty) is left out.
pub fn pool_usd_prices(routes: &[Route], asset: usize, positions: &[AssetPosition]) -> Vec<PoolUsdPrice> {
    routes
        .iter()
        .filter_map(|route| {
            let mid = route.price()?;
            let other = mid.other(asset)?;
            let (price, divergence_bps) = pool_usd_price(&mid, asset, positions)?;
            Some(PoolUsdPrice { pool: route.pool, program_id: route.program_id, other, price, divergence_bps })
        })
        .collect()
}

/// A USD price as a float, for display.
pub fn usd_f64(p: UsdPrice) -> f64 {
    p.mantissa as f64 * 10f64.powi(p.expo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dex::PoolKind;
    use ballast::math::sources::PoolMid;

    /// SOL (9 decimals, $150), USDC (6, $1), BTC (8, $60 000) at their oracle mids.
    fn positions() -> Vec<AssetPosition> {
        let at = |decimals, mantissa, expo| AssetPosition { balance: 0, decimals, price: UsdPrice { mantissa, expo } };
        vec![at(9, 15_000_000_000, -8), at(6, 100_000_000, -8), at(8, 6_000_000_000_000, -8)]
    }

    fn route(a: (usize, u64), b: (usize, u64)) -> Route {
        let side = |(i, amount)| (i, Pubkey::new_unique(), amount);
        Route {
            program_id: ballast_amm::ID,
            pool: Pubkey::new_unique(),
            sides: [side(a), side(b)],
            kind: PoolKind::Reference { fee_bps: 30 },
        }
    }

    #[test]
    fn a_pool_at_the_oracle_implies_the_oracle_price() {
        // 1 000 SOL against 150 000 USDC: $150 a SOL, as the oracle says.
        let p =
            PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::Reserves { a: 1_000_000_000_000, b: 150_000_000_000 } };
        let (price, div) = pool_usd_price(&p, 0, &positions()).unwrap();
        // $150 for one SOL, exactly: 150 × 10^6 micro-USD for 10^6 SOL.
        assert_eq!(price, UsdPrice { mantissa: 150_000_000_000_000, expo: -12 });
        assert!((usd_f64(price) - 150.0).abs() < 1e-9);
        assert_eq!(div, 0);
        // And the other way round: $1 a USDC.
        let (price, div) = pool_usd_price(&p, 1, &positions()).unwrap();
        assert!((usd_f64(price) - 1.0).abs() < 1e-9);
        assert_eq!(div, 0);
        // A pool that does not trade the asset says nothing.
        assert_eq!(pool_usd_price(&p, 2, &positions()), None);
    }

    #[test]
    fn a_pool_off_the_oracle_diverges_by_its_distance_in_bps() {
        // BTC/USDC at $61 200 (+2 %), and USDC priced through it in satoshis: precise to the bp.
        let p = PoolPrice { asset_a: 2, asset_b: 1, mid: PoolMid::Reserves { a: 100_000_000, b: 61_200_000_000 } };
        let (price, div) = pool_usd_price(&p, 2, &positions()).unwrap();
        assert!((usd_f64(price) - 61_200.0).abs() < 1e-6);
        assert_eq!(div, 200);
        let (price, div) = pool_usd_price(&p, 1, &positions()).unwrap();
        assert!((usd_f64(price) - 60_000.0 / 61_200.0).abs() < 1e-9);
        assert_eq!(div, -196); // 1 − 1/1.02 = 1.96 %
                               // A Whirlpool's sqrt price: SOL at 0.15 USDC base units per lamport = $150 a SOL, +0 bps.
        let sqrt = (0.15f64.sqrt() * (1u128 << 64) as f64) as u128;
        let w = PoolPrice { asset_a: 0, asset_b: 1, mid: PoolMid::SqrtPriceQ64(sqrt) };
        let (price, div) = pool_usd_price(&w, 0, &positions()).unwrap();
        assert!((usd_f64(price) - 150.0).abs() < 1e-6, "{}", usd_f64(price));
        assert_eq!(div, 0);
    }

    #[test]
    fn every_route_trading_the_asset_is_read_and_empty_pools_are_left_out() {
        let routes = [
            route((0, 1_000_000_000_000), (1, 153_000_000_000)), // SOL at $153
            route((2, 100_000_000), (1, 60_000_000_000)),        // BTC/USDC: no SOL
            route((2, 100_000_000), (0, 400_000_000_000)),       // SOL at 1/400 BTC = $150
            route((0, 0), (1, 0)),                               // empty
        ];
        let got = pool_usd_prices(&routes, 0, &positions());
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].pool, got[0].other, got[0].divergence_bps), (routes[0].pool, 1, 200));
        assert_eq!((got[1].pool, got[1].other, got[1].divergence_bps), (routes[2].pool, 2, 0));
        assert_eq!(got[1].program_id, ballast_amm::ID);
        assert!((usd_f64(got[0].price) - 153.0).abs() < 1e-6);
    }
}
