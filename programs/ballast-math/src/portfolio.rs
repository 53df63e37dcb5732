//! Portfolio valuation, weights and drift against target.

use super::{mul_div_floor, price::value_of, Cast, MathError, MathResult, Rounding, SafeMath, UsdPrice, BPS, U256};

/// One asset as the math sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetPosition {
    pub balance: u64,
    pub decimals: u8,
    pub price: UsdPrice,
}

/// Values of every position in micro-USD with the given rounding.
pub fn position_values(positions: &[AssetPosition], rounding: Rounding) -> MathResult<Vec<u128>> {
    positions.iter().map(|p| value_of(p.balance, p.decimals, p.price, rounding)).collect()
}

/// Sum of values.
pub fn total_value(values: &[u128]) -> MathResult<u128> {
    values.iter().try_fold(0u128, |acc, v| acc.safe_add(*v))
}

/// Current weight of each position in basis points (floor). An empty portfolio has all-zero weights.
pub fn weights_bps(values: &[u128]) -> MathResult<Vec<u64>> {
    let nav = total_value(values)?;
    if nav == 0 {
        return Ok(vec![0; values.len()]);
    }
    values.iter().map(|v| mul_div_floor(*v, BPS as u128, nav)?.cast()).collect()
}

/// Signed drift `weight − target` in basis points, per asset.
pub fn drift_bps(weights: &[u64], targets: &[u16]) -> MathResult<Vec<i64>> {
    if weights.len() != targets.len() {
        return Err(MathError::LengthMismatch);
    }
    Ok(weights.iter().zip(targets).map(|(w, t)| *w as i64 - *t as i64).collect())
}

/// Largest absolute drift in basis points.
pub fn max_abs_drift_bps(drift: &[i64]) -> u64 {
    drift.iter().map(|d| d.unsigned_abs()).max().unwrap_or(0)
}

/// Sum of absolute drifts in micro-USD: Σ |value_i − nav × target_i|. Exact (no bps rounding), used to
/// check that a trade strictly reduced total drift. The products are 256-bit: a value times a weight in bps
/// does not fit u128 at the extreme balances and prices the vault accepts.
pub fn total_abs_drift_value(values: &[u128], targets: &[u16]) -> MathResult<u128> {
    if values.len() != targets.len() {
        return Err(MathError::LengthMismatch);
    }
    let nav = total_value(values)?;
    // Compare value_i × BPS with nav × target_i to stay exact; result scaled back by BPS (floor).
    let mut sum = U256::ZERO;
    for (v, t) in values.iter().zip(targets) {
        let term = U256::mul(*v, BPS as u128).abs_diff(U256::mul(nav, *t as u128));
        sum = sum.checked_add(term)?;
    }
    sum.div(BPS as u128, Rounding::Floor)
}

/// Where a position sits relative to its band `[target − band, target + band]`, judged exactly in value
/// units rather than in rounded basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandPosition {
    Below,
    Inside,
    Above,
}

/// Band position of a value given the portfolio's NAV (256-bit products: exact at any balance and price).
pub fn band_position(value: u128, nav: u128, target_bps: u16, band_bps: u16) -> MathResult<BandPosition> {
    let v = U256::mul(value, BPS as u128);
    let upper = U256::mul(nav, target_bps as u128 + band_bps as u128);
    let lower = U256::mul(nav, (target_bps as u128).saturating_sub(band_bps as u128));
    Ok(if v > upper {
        BandPosition::Above
    } else if v < lower {
        BandPosition::Below
    } else {
        BandPosition::Inside
    })
}

/// True when weights are a valid target vector: every entry > 0 and the sum is exactly 10 000.
pub fn weights_sum_to_bps(targets: &[u16]) -> bool {
    targets.iter().map(|t| *t as u64).sum::<u64>() == BPS && targets.iter().all(|t| *t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(x: u64) -> UsdPrice {
        UsdPrice { mantissa: x, expo: 0 }
    }

    #[test]
    fn weights_and_drift() {
        let pos = [
            AssetPosition { balance: 600_000, decimals: 6, price: usd(1) },
            AssetPosition { balance: 200_000, decimals: 6, price: usd(2) },
        ];
        let values = position_values(&pos, Rounding::Floor).unwrap();
        assert_eq!(values, vec![600_000, 400_000]);
        let w = weights_bps(&values).unwrap();
        assert_eq!(w, vec![6_000, 4_000]);
        let d = drift_bps(&w, &[5_000, 5_000]).unwrap();
        assert_eq!(d, vec![1_000, -1_000]);
        assert_eq!(max_abs_drift_bps(&d), 1_000);
        assert_eq!(total_abs_drift_value(&values, &[5_000, 5_000]).unwrap(), 200_000);
        assert_eq!(band_position(600_000, 1_000_000, 5_000, 1_000).unwrap(), BandPosition::Inside);
        assert_eq!(band_position(600_001, 1_000_000, 5_000, 1_000).unwrap(), BandPosition::Above);
        assert_eq!(band_position(399_999, 1_000_000, 5_000, 1_000).unwrap(), BandPosition::Below);
        assert_eq!(drift_bps(&w, &[10_000]), Err(MathError::LengthMismatch));
    }

    #[test]
    fn target_vectors() {
        assert!(weights_sum_to_bps(&[5_000, 3_000, 2_000]));
        assert!(!weights_sum_to_bps(&[5_000, 3_000, 1_999]));
        assert!(!weights_sum_to_bps(&[10_000, 0]));
        assert!(weights_bps(&[0, 0]).unwrap() == vec![0, 0]);
    }

    /// Band checks and drift at the largest values the vault accepts (u64::MAX base units at 1e12 USD, a
    /// 0-decimal token): the products with bps are 256-bit, so nothing overflows.
    #[test]
    fn extreme_values_compare_exactly() {
        let huge = value_of(u64::MAX, 0, UsdPrice { mantissa: 1_000_000_000_000, expo: 0 }, Rounding::Floor).unwrap();
        let values = [huge, huge, huge / 2];
        let nav = total_value(&values).unwrap();
        assert_eq!(band_position(values[0], nav, 4_000, 100).unwrap(), BandPosition::Inside);
        assert_eq!(band_position(values[2], nav, 3_000, 500).unwrap(), BandPosition::Below);
        let drift = total_abs_drift_value(&values, &[4_000, 3_000, 3_000]).unwrap();
        // |0.4 − 0.4|, |0.4 − 0.3|, |0.2 − 0.3| of nav = 0.2 nav (floor, within a unit).
        assert!(drift.abs_diff(nav / 5) <= 1, "{drift} vs {}", nav / 5);
        assert_eq!(weights_bps(&values).unwrap(), vec![4_000, 4_000, 2_000]);
    }

    proptest! {
        /// The 256-bit band check agrees with the u128 one wherever that fits.
        #[test]
        fn band_position_matches_narrow_arithmetic(v in 0u128..1u128 << 100, extra in 0u128..1u128 << 100, t in 1u16..10_000, b in 1u16..2_500) {
            let nav = v + extra;
            let narrow = if v * 10_000 > nav * (t as u128 + b as u128) {
                BandPosition::Above
            } else if v * 10_000 < nav * (t as u128).saturating_sub(b as u128) {
                BandPosition::Below
            } else {
                BandPosition::Inside
            };
            prop_assert_eq!(band_position(v, nav, t, b).unwrap(), narrow);
        }

        #[test]
        fn weights_never_exceed_100_percent(values in proptest::collection::vec(0u128..=u64::MAX as u128 * 1_000_000, 1..16)) {
            let w = weights_bps(&values).unwrap();
            let sum: u64 = w.iter().sum();
            prop_assert!(sum <= BPS);
            // Floor rounding loses less than one bps per asset.
            if values.iter().any(|v| *v > 0) {
                prop_assert!(sum + values.len() as u64 > BPS);
            }
        }
    }
}
