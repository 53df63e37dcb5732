//! The rebalance auction: the price the vault accepts for a trade starts at fair value and relaxes
//! linearly, over `duration_secs`, to the slippage-cap floor.
//!
//! Why: a floor that is available at once is what a keeper who brings its own route (a flash rebalance)
//! or sits on the tolerance will always pay. A descending (Dutch) price makes keepers compete instead:
//! the first keeper whose route pays at least the current price takes the trade, so the vault is paid
//! about the best route's output, less the price's fall in the time between two keepers' looks. The
//! floor is still reached (at the end of the auction), so a vault whose routes all cost more than
//! the mid price still rebalances.
//!
//! The auction is opened by the program when it first sees an asset outside its band (`poke`, the first
//! rebalance attempt, or a deposit settlement that pushes an asset out) and restarts at fair value after
//! every trade that leaves the vault out of band; it closes when the program sees every asset inside.

use super::{mul_div_ceil, MathError, MathResult, BPS};

/// How the accepted price relaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuctionRule {
    /// Seconds from fair value to the floor.
    pub duration_secs: u32,
    /// The floor's discount to fair value at the end of the auction (the slippage cap, bps).
    pub cap_bps: u16,
}

impl AuctionRule {
    /// The discount to fair value (in millionths of the fair output, rounded down so the vault is never
    /// asked for less than the path allows) after `elapsed_secs`: 0 at the start, `cap_bps × 100` from
    /// `duration_secs` on, linear in between. A duration of 0 means no auction: the floor at once.
    pub fn discount_ppm(&self, elapsed_secs: u64) -> u64 {
        let cap_ppm = (self.cap_bps as u64).min(BPS) * 100;
        let d = self.duration_secs as u64;
        if d == 0 || elapsed_secs >= d {
            return cap_ppm;
        }
        // cap_ppm ≤ 1e6 and elapsed < d ≤ u32::MAX: the product fits u64.
        cap_ppm * elapsed_secs / d
    }

    /// The least output the vault accepts after `elapsed_secs` for a trade whose fair output (at mid
    /// prices) is `fair_out`: `fair_out × (1 − discount)`, rounded up (in the vault's favour).
    pub fn min_out(&self, fair_out: u64, elapsed_secs: u64) -> MathResult<u64> {
        let keep = 1_000_000u128.saturating_sub(self.discount_ppm(elapsed_secs) as u128);
        super::to_u64(mul_div_ceil(fair_out as u128, keep, 1_000_000)?)
    }

    /// Seconds after the start at which the accepted output first falls to `out` or below (when a route
    /// paying `out` clears the auction), or `None` if it never does (`out` is below the floor).
    pub fn secs_until(&self, fair_out: u64, out: u64) -> MathResult<Option<u64>> {
        if out >= fair_out {
            return Ok(Some(0));
        }
        if self.min_out(fair_out, self.duration_secs as u64)? > out {
            return Ok(None);
        }
        // Binary search over whole seconds: min_out is non-increasing in elapsed time.
        let (mut lo, mut hi) = (0u64, self.duration_secs as u64);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.min_out(fair_out, mid)? <= out {
                hi = mid;
            } else {
                lo = mid.checked_add(1).ok_or(MathError::Overflow)?;
            }
        }
        Ok(Some(lo))
    }
}

/// Seconds an auction opened at `started_at` has run at `now` (0 for a clock that went back).
pub fn elapsed(started_at: i64, now: i64) -> u64 {
    u64::try_from(now.saturating_sub(started_at)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RULE: AuctionRule = AuctionRule { duration_secs: 60, cap_bps: 100 };

    #[test]
    fn starts_at_fair_value_and_reaches_the_floor() {
        assert_eq!(RULE.min_out(1_000_000, 0).unwrap(), 1_000_000);
        assert_eq!(RULE.min_out(1_000_000, 30).unwrap(), 995_000);
        assert_eq!(RULE.min_out(1_000_000, 60).unwrap(), 990_000);
        assert_eq!(RULE.min_out(1_000_000, 6_000).unwrap(), 990_000);
        // No auction: the floor at once.
        let none = AuctionRule { duration_secs: 0, cap_bps: 100 };
        assert_eq!(none.min_out(1_000_000, 0).unwrap(), 990_000);
        // Rounded up: the vault is never asked for less than the exact path.
        assert_eq!(RULE.min_out(3, 30).unwrap(), 3);
    }

    #[test]
    fn time_to_clear_a_route() {
        assert_eq!(RULE.secs_until(1_000_000, 1_000_000).unwrap(), Some(0));
        // A route paying 30 bps under mid clears after 18 s (0.3 of the 1 % cap over 60 s).
        assert_eq!(RULE.secs_until(1_000_000, 997_000).unwrap(), Some(18));
        assert_eq!(RULE.min_out(1_000_000, 17).unwrap(), 997_167);
        // Below the floor: never.
        assert_eq!(RULE.secs_until(1_000_000, 989_999).unwrap(), None);
    }

    proptest! {
        /// The accepted output never rises with time, never exceeds fair value, never falls below the
        /// slippage-cap floor, and is the floor from the end of the auction on.
        #[test]
        fn price_path_is_monotone_bounded_and_ends_at_the_cap(
            fair in 1u64..=u64::MAX / 2,
            duration in 0u32..=86_400,
            cap in 0u16..=10_000,
            t1 in 0u64..200_000,
            dt in 0u64..200_000,
        ) {
            let rule = AuctionRule { duration_secs: duration, cap_bps: cap };
            let a = rule.min_out(fair, t1).unwrap();
            let b = rule.min_out(fair, t1 + dt).unwrap();
            prop_assert!(b <= a, "rose with time");
            prop_assert!(a <= fair);
            let floor = mul_div_ceil(fair as u128, (BPS - cap as u64) as u128 * 100, 1_000_000).unwrap() as u64;
            prop_assert!(b >= floor, "below the cap floor");
            prop_assert_eq!(rule.min_out(fair, duration as u64).unwrap(), floor);
            prop_assert_eq!(rule.min_out(fair, 0).unwrap(), if duration == 0 { floor } else { fair });
        }

        /// `secs_until` is the first second at which a route paying `out` clears.
        #[test]
        fn secs_until_is_the_first_clearing_second(fair in 1_000u64..1_000_000_000_000, cut in 0u64..20_000) {
            let out = fair - fair / 10_000 * (cut / 100);
            match RULE.secs_until(fair, out).unwrap() {
                Some(t) => {
                    prop_assert!(RULE.min_out(fair, t).unwrap() <= out);
                    if t > 0 { prop_assert!(RULE.min_out(fair, t - 1).unwrap() > out); }
                }
                None => prop_assert!(RULE.min_out(fair, u64::MAX).unwrap() > out),
            }
        }
    }
}
