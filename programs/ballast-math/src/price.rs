//! Oracle prices: validity classification, conservative bounds and valuation in micro-USD.

use super::{fixed::mul_div, pow10, MathError, MathResult, Rounding, SafeMath, BPS, VALUE_DECIMALS};

/// Smallest and largest oracle exponent accepted (Pyth feeds use about -12..=0).
pub const MIN_EXPO: i32 = -18;
pub const MAX_EXPO: i32 = 12;
/// Largest token decimals accepted for a vault asset.
pub const MAX_DECIMALS: u8 = 18;
/// A reading may be published at most this many seconds after the cluster clock (validators' clocks and
/// publishers' clocks differ by a little); later ones are refused, so a reading from the future cannot
/// count as fresh and pin an asset's oracle path until that time.
pub const MAX_FUTURE_SKEW_SECS: i64 = 5;

/// A raw oracle reading (Pyth `PriceFeedMessage` fields that matter here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OracleReading {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    /// Pyth's exponentially weighted moving average of the price (about an hour, weighted by the inverse of
    /// the confidence) and its confidence, at the same exponent: the smoothed second source of the same
    /// account, which one print cannot move.
    pub ema_price: i64,
    pub ema_conf: u64,
}

/// Limits a reading must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleLimits {
    /// Maximum age in seconds of `publish_time` relative to the cluster clock.
    pub max_age_secs: u64,
    /// Maximum `conf / price` in basis points.
    pub max_conf_bps: u64,
}

/// Validity of a reading, ordered from the most to the least severe problem (then `Valid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OracleValidity {
    /// The price is zero or negative.
    NonPositive,
    /// The exponent is outside [`MIN_EXPO`, `MAX_EXPO`].
    ExponentOutOfRange,
    /// `publish_time` is older than the last one this vault already used.
    WentBackInTime,
    /// `publish_time` is more than [`MAX_FUTURE_SKEW_SECS`] ahead of the cluster clock.
    InFuture,
    /// Older than the allowed age.
    Stale,
    /// The confidence interval is too wide relative to the price.
    TooUncertain,
    Valid,
}

/// Classifies a reading. `last_publish_time` is the newest publish time the vault has used for this
/// asset (0 if none). A publish time up to [`MAX_FUTURE_SKEW_SECS`] ahead of the clock counts as age 0;
/// further ahead it is `InFuture`.
pub fn oracle_validity(r: &OracleReading, now: i64, last_publish_time: i64, limits: &OracleLimits) -> OracleValidity {
    if r.price <= 0 {
        return OracleValidity::NonPositive;
    }
    if r.expo < MIN_EXPO || r.expo > MAX_EXPO {
        return OracleValidity::ExponentOutOfRange;
    }
    if r.publish_time < last_publish_time {
        return OracleValidity::WentBackInTime;
    }
    if r.publish_time > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
        return OracleValidity::InFuture;
    }
    let age = now.saturating_sub(r.publish_time).max(0) as u64;
    if age > limits.max_age_secs {
        return OracleValidity::Stale;
    }
    // conf / price > max_conf_bps / BPS  <=>  conf × BPS > max_conf_bps × price (all fit in u128).
    if (r.conf as u128) * (BPS as u128) > (limits.max_conf_bps as u128) * (r.price as u128) {
        return OracleValidity::TooUncertain;
    }
    OracleValidity::Valid
}

/// A positive price `mantissa × 10^expo` USD per whole token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdPrice {
    pub mantissa: u64,
    pub expo: i32,
}

/// Conservative bounds of a valid reading: `low = price − conf`, `high = price + conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBounds {
    pub low: UsdPrice,
    pub mid: UsdPrice,
    pub high: UsdPrice,
}

impl OracleReading {
    /// Conservative bounds. Fails if `price ≤ conf` (no positive lower bound) or on overflow.
    pub fn bounds(&self) -> MathResult<PriceBounds> {
        if self.price <= 0 {
            return Err(MathError::DivideByZero);
        }
        if self.expo < MIN_EXPO || self.expo > MAX_EXPO {
            return Err(MathError::ExponentOutOfRange);
        }
        let p = self.price as u64;
        let low = p.checked_sub(self.conf).filter(|l| *l > 0).ok_or(MathError::DivideByZero)?;
        let high = p.safe_add(self.conf)?;
        Ok(PriceBounds {
            low: UsdPrice { mantissa: low, expo: self.expo },
            mid: UsdPrice { mantissa: p, expo: self.expo },
            high: UsdPrice { mantissa: high, expo: self.expo },
        })
    }
}

impl OracleReading {
    /// Conservative bounds of the EMA (`ema_price ∓ ema_conf`). Fails like [`OracleReading::bounds`].
    pub fn ema_bounds(&self) -> MathResult<PriceBounds> {
        OracleReading { price: self.ema_price, conf: self.ema_conf, ..*self }.bounds()
    }

    /// Distance between the price and its EMA in bps of the EMA, rounded up (`u64::MAX` when the EMA is not
    /// positive).
    pub fn ema_divergence_bps(&self) -> u64 {
        if self.ema_price <= 0 || self.price <= 0 {
            return u64::MAX;
        }
        let diff = (self.price as u128).abs_diff(self.ema_price as u128);
        super::mul_div_ceil(diff, BPS as u128, self.ema_price as u128)
            .ok()
            .and_then(|d| u64::try_from(d).ok())
            .unwrap_or(u64::MAX)
    }

    /// Whether the price and its EMA agree within `max_bps` (a reading that one print could have moved
    /// does not).
    pub fn agrees_with_ema(&self, max_bps: u16) -> bool {
        self.ema_divergence_bps() <= max_bps as u64
    }

    /// The lower of the price and its EMA, at mid (the performance fee's mark: a gain counts once it is on
    /// both). Fails when the price is not positive; an EMA without a positive value counts as zero.
    pub fn mid_of_spot_and_ema(&self) -> MathResult<UsdPrice> {
        let spot = self.bounds()?.mid;
        Ok(match u64::try_from(self.ema_price) {
            Ok(ema) if ema > 0 && ema < spot.mantissa => UsdPrice { mantissa: ema, expo: spot.expo },
            Ok(0) | Err(_) => UsdPrice { mantissa: 0, expo: spot.expo },
            Ok(_) => spot,
        })
    }

    /// The first of `readings` whose price is further than `max_bps` from its EMA, if any.
    pub fn first_divergent(readings: &[OracleReading], max_bps: u16) -> Option<usize> {
        readings.iter().position(|r| !r.agrees_with_ema(max_bps))
    }

    /// The lower of the price's and the EMA's lower confidence bounds: what a gain must be worth on both the
    /// last print and the smoothed price to count (the performance fee's mark). Fails when neither bound is
    /// positive.
    pub fn low_of_spot_and_ema(&self) -> MathResult<UsdPrice> {
        let spot = self.bounds()?.low;
        Ok(match self.ema_bounds() {
            Ok(ema) if ema.low.mantissa < spot.mantissa => ema.low,
            Ok(_) => spot,
            // No positive lower bound for the EMA: nothing is worth more than zero on it.
            Err(_) => UsdPrice { mantissa: 0, expo: spot.expo },
        })
    }
}

fn check_scales(decimals: u8, price: UsdPrice) -> MathResult<()> {
    if decimals > MAX_DECIMALS {
        return Err(MathError::DecimalsOutOfRange);
    }
    if price.expo < MIN_EXPO || price.expo > MAX_EXPO {
        return Err(MathError::ExponentOutOfRange);
    }
    Ok(())
}

/// Value in micro-USD of `amount` base units of a token with `decimals`, at `price`.
///
/// value = amount × mantissa × 10^(expo + VALUE_DECIMALS − decimals). With u64 amounts, u64 mantissas
/// and the accepted exponent/decimals ranges the intermediate fits the 256-bit `mul_div`.
pub fn value_of(amount: u64, decimals: u8, price: UsdPrice, rounding: Rounding) -> MathResult<u128> {
    check_scales(decimals, price)?;
    let k = price.expo + VALUE_DECIMALS as i32 - decimals as i32;
    let base = (amount as u128).safe_mul(price.mantissa as u128)?;
    if k >= 0 {
        base.safe_mul(pow10(k as u32)?)
    } else {
        mul_div(amount as u128, price.mantissa as u128, pow10((-k) as u32)?, rounding)
    }
}

/// Base units of a token worth `value` micro-USD at `price` (inverse of [`value_of`]).
pub fn amount_for_value(value: u128, decimals: u8, price: UsdPrice, rounding: Rounding) -> MathResult<u64> {
    check_scales(decimals, price)?;
    if price.mantissa == 0 {
        return Err(MathError::DivideByZero);
    }
    // amount = value × 10^(decimals − VALUE_DECIMALS − expo) / mantissa
    let k = decimals as i32 - VALUE_DECIMALS as i32 - price.expo;
    let amount = if k >= 0 {
        mul_div(value, pow10(k as u32)?, price.mantissa as u128, rounding)?
    } else {
        let denom = (price.mantissa as u128).safe_mul(pow10((-k) as u32)?)?;
        mul_div(value, 1, denom, rounding)?
    };
    super::to_u64(amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: OracleLimits = OracleLimits { max_age_secs: 60, max_conf_bps: 100 };

    fn reading(price: i64, conf: u64, publish_time: i64) -> OracleReading {
        OracleReading { price, conf, expo: -8, publish_time, ema_price: price, ema_conf: conf }
    }

    #[test]
    fn validity_classification() {
        assert_eq!(oracle_validity(&reading(100_000_000, 1, 1000), 1000, 0, &LIMITS), OracleValidity::Valid);
        assert_eq!(oracle_validity(&reading(0, 0, 1000), 1000, 0, &LIMITS), OracleValidity::NonPositive);
        assert_eq!(oracle_validity(&reading(-5, 0, 1000), 1000, 0, &LIMITS), OracleValidity::NonPositive);
        assert_eq!(oracle_validity(&reading(100, 0, 939), 1000, 0, &LIMITS), OracleValidity::Stale);
        assert_eq!(oracle_validity(&reading(100, 0, 940), 1000, 0, &LIMITS), OracleValidity::Valid);
        assert_eq!(oracle_validity(&reading(100, 0, 990), 1000, 995, &LIMITS), OracleValidity::WentBackInTime);
        assert_eq!(oracle_validity(&reading(10_000, 100, 1000), 1000, 0, &LIMITS), OracleValidity::Valid);
        assert_eq!(oracle_validity(&reading(10_000, 101, 1000), 1000, 0, &LIMITS), OracleValidity::TooUncertain);
        // A publish time slightly ahead (clock skew) is age zero; further ahead it is refused.
        assert_eq!(oracle_validity(&reading(100, 0, 1005), 1000, 0, &LIMITS), OracleValidity::Valid);
        assert_eq!(oracle_validity(&reading(100, 0, 1006), 1000, 0, &LIMITS), OracleValidity::InFuture);
        let mut r = reading(100, 0, 1000);
        r.expo = 13;
        assert_eq!(oracle_validity(&r, 1000, 0, &LIMITS), OracleValidity::ExponentOutOfRange);
        assert!(OracleValidity::NonPositive < OracleValidity::Stale && OracleValidity::Stale < OracleValidity::Valid);
    }

    #[test]
    fn valuation_examples() {
        // 1.5 tokens (6 decimals) at $2.00 (expo -8) = $3 = 3_000_000 micro-USD.
        let p = UsdPrice { mantissa: 200_000_000, expo: -8 };
        assert_eq!(value_of(1_500_000, 6, p, Rounding::Floor).unwrap(), 3_000_000);
        // 1 base unit of a 9-decimal token at $1 = 0.001 micro-USD: floor 0, ceil 1.
        let one = UsdPrice { mantissa: 1, expo: 0 };
        assert_eq!(value_of(1, 9, one, Rounding::Floor).unwrap(), 0);
        assert_eq!(value_of(1, 9, one, Rounding::Ceil).unwrap(), 1);
        assert_eq!(amount_for_value(3_000_000, 6, p, Rounding::Floor).unwrap(), 1_500_000);
        assert_eq!(amount_for_value(1, 9, one, Rounding::Floor).unwrap(), 1_000);
    }

    #[test]
    fn decimals_and_exponents_out_of_range_are_told_apart() {
        let p = UsdPrice { mantissa: 1, expo: -8 };
        assert_eq!(value_of(1, 19, p, Rounding::Floor), Err(MathError::DecimalsOutOfRange));
        assert_eq!(amount_for_value(1, 19, p, Rounding::Floor), Err(MathError::DecimalsOutOfRange));
        let far = UsdPrice { mantissa: 1, expo: 13 };
        assert_eq!(value_of(1, 6, far, Rounding::Floor), Err(MathError::ExponentOutOfRange));
    }

    #[test]
    fn the_ema_is_a_second_source() {
        let mut r = reading(1_050, 5, 0);
        r.ema_price = 1_000;
        r.ema_conf = 4;
        assert_eq!(r.ema_divergence_bps(), 500);
        assert!(r.agrees_with_ema(500) && !r.agrees_with_ema(499));
        // The lower of the two lower bounds: the EMA's 996 below the spike's 1 045.
        assert_eq!(r.low_of_spot_and_ema().unwrap().mantissa, 996);
        r.ema_price = 2_000;
        assert_eq!(r.low_of_spot_and_ema().unwrap().mantissa, 1_045);
        assert_eq!(r.ema_divergence_bps(), 4_750);
        r.ema_price = 0;
        assert_eq!(r.ema_divergence_bps(), u64::MAX);
        assert_eq!(r.low_of_spot_and_ema().unwrap().mantissa, 0);
    }

    #[test]
    fn bounds_are_conservative() {
        let b = reading(1_000, 10, 0).bounds().unwrap();
        assert_eq!((b.low.mantissa, b.mid.mantissa, b.high.mantissa), (990, 1_000, 1_010));
        assert!(reading(10, 10, 0).bounds().is_err());
        assert!(reading(i64::MAX, u64::MAX, 0).bounds().is_err());
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        // u64::MAX base units of a 0-decimal token at $1e12 (mantissa 1e12, expo 0).
        let hi = UsdPrice { mantissa: 1_000_000_000_000, expo: 0 };
        let v = value_of(u64::MAX, 0, hi, Rounding::Floor).unwrap();
        assert_eq!(v, u64::MAX as u128 * 1_000_000_000_000 * 1_000_000);
        // Same with the largest mantissa Pyth can publish at expo -8.
        let top = UsdPrice { mantissa: i64::MAX as u64, expo: -8 };
        assert!(value_of(u64::MAX, 0, top, Rounding::Ceil).is_ok());
        // $1e-8 with 18 decimals: everything rounds down to zero, nothing panics.
        let lo = UsdPrice { mantissa: 1, expo: -8 };
        assert_eq!(value_of(u64::MAX, 18, lo, Rounding::Floor).unwrap(), 0);
        assert_eq!(value_of(u64::MAX, 18, lo, Rounding::Ceil).unwrap(), 1);
        // Inverse that would not fit u64 is an error, not a wrap.
        assert_eq!(amount_for_value(u128::MAX / 2, 18, lo, Rounding::Floor), Err(MathError::Overflow));
    }

    proptest! {
        #[test]
        fn floor_le_ceil_and_close(amount in any::<u64>(), mantissa in 1u64..=i64::MAX as u64, expo in MIN_EXPO..=MAX_EXPO, decimals in 0u8..=MAX_DECIMALS) {
            let p = UsdPrice { mantissa, expo };
            match (value_of(amount, decimals, p, Rounding::Floor), value_of(amount, decimals, p, Rounding::Ceil)) {
                (Ok(f), Ok(c)) => prop_assert!(f <= c && c - f <= 1),
                (Err(e1), Err(e2)) => { prop_assert_eq!(e1, MathError::Overflow); prop_assert_eq!(e2, MathError::Overflow); }
                _ => prop_assert!(false, "rounding modes disagree on overflow"),
            }
        }

        #[test]
        fn round_trip_never_creates_value(amount in any::<u64>(), mantissa in 1u64..=1_000_000_000_000_000_000u64, expo in -12i32..=0, decimals in 0u8..=12) {
            let p = UsdPrice { mantissa, expo };
            if let Ok(v) = value_of(amount, decimals, p, Rounding::Floor) {
                if let Ok(back) = amount_for_value(v, decimals, p, Rounding::Floor) {
                    prop_assert!(back <= amount);
                }
            }
        }

        #[test]
        fn realistic_ranges_never_overflow(amount in any::<u64>(), price_e8 in 1u64..=i64::MAX as u64, decimals in 0u8..=MAX_DECIMALS) {
            // Every price Pyth can publish at expo -8 (1e-8 up to ~9.2e10 USD).
            let p = UsdPrice { mantissa: price_e8, expo: -8 };
            prop_assert!(value_of(amount, decimals, p, Rounding::Ceil).is_ok());
        }
    }
}
