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

/// Parts per million of one full-size trade: the unit of an auction's sold volume.
pub const PPM: u32 = 1_000_000;
/// Sold volume (ppm of a full-size trade) from which the auction restarts at fair value and the cooldown
/// starts: half a full-size trade, in one trade or in several.
pub const RESTART_PPM: u32 = PPM / 2;

/// Where a running auction stands: the price path's time and the volume it has already sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuctionPoint {
    /// Seconds since the auction (re)started: the price follows them ([`AuctionRule::min_out`]).
    pub elapsed_secs: u64,
    /// Volume already sold at this auction's prices, in ppm of a full-size trade: what is left of one
    /// full-size trade is all the auction still sells before it restarts at fair value.
    pub sold_ppm: u32,
}

impl AuctionPoint {
    /// The auction's start: fair value, nothing sold.
    pub const START: AuctionPoint = AuctionPoint { elapsed_secs: 0, sold_ppm: 0 };
}

/// What a valuing instruction sees of the vault's auction at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuctionView {
    /// None open.
    Closed,
    /// Open, but the vault has not been seen out of its band for longer than the heartbeat: the time since
    /// is not evidence of anything, so the auction counts as not open (the next observation restarts it).
    Stale,
    Running(AuctionPoint),
}

/// What an observation or a trade did to the auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuctionChange {
    Unchanged,
    /// Opened (or restarted) at this unix time, at fair value.
    Opened(i64),
    Closed,
    /// It would have opened, but the readings may not open it (a price too far from its EMA): nothing changed.
    NotOpened,
}

/// The rebalance auction's state, as the vault stores it.
///
/// **What the program saw must still be true.** The auction's price relaxes with the time the vault has
/// been *seen* out of its band: every valuing instruction that sees an asset out of band (on readings a
/// rebalance could use) renews `seen_at` with the oldest publish time among its readings; an auction not
/// renewed within the heartbeat is stale and restarts at fair value when next seen. So a vault that came
/// back inside unobserved and left again, or an auction opened on a reading that reverted, starts over.
///
/// **No reset for pennies.** Only volume restarts a running auction: the trades it prices add up (in ppm of
/// a full-size trade); once half a full-size trade has been sold it restarts at fair value (and the cooldown
/// starts), and no trade may sell more than what is left of one full-size trade. Dust trades therefore
/// consume the auction instead of selling the whole drift at one relaxed price, and nothing cheaper than
/// real volume (a dust trade, a settlement) can hold the price at fair value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuctionState {
    /// Unix time the auction (re)started; 0: none open.
    pub started_at: i64,
    /// Publish time of the newest evidence that the vault is out of its band.
    pub seen_at: i64,
    /// Volume sold since the start, ppm of a full-size trade.
    pub sold_ppm: u32,
}

impl AuctionState {
    /// The auction at `now`, stale when not seen out of band within `heartbeat_secs`.
    pub fn view(&self, now: i64, heartbeat_secs: u32) -> AuctionView {
        if self.started_at == 0 {
            AuctionView::Closed
        } else if now.saturating_sub(self.seen_at) > heartbeat_secs as i64 {
            AuctionView::Stale
        } else {
            AuctionView::Running(AuctionPoint { elapsed_secs: elapsed(self.started_at, now), sold_ppm: self.sold_ppm })
        }
    }

    /// The auction after the program saw the vault at `now` on readings published no earlier than
    /// `evidence_at`: closed when every asset is inside its band; opened at fair value when an asset is out
    /// and none is running (closed or stale), if the readings `may_open` it (every price agrees with its
    /// EMA); otherwise renewed.
    pub fn observe(
        &mut self,
        out_of_band: bool,
        now: i64,
        evidence_at: i64,
        heartbeat_secs: u32,
        may_open: bool,
    ) -> AuctionChange {
        let evidence = evidence_at.min(now);
        match (out_of_band, self.view(now, heartbeat_secs)) {
            (false, AuctionView::Closed) => AuctionChange::Unchanged,
            (false, _) => {
                *self = AuctionState::default();
                AuctionChange::Closed
            }
            (true, AuctionView::Running(_)) => {
                self.seen_at = self.seen_at.max(evidence);
                AuctionChange::Unchanged
            }
            (true, _) if !may_open => AuctionChange::NotOpened,
            (true, _) => self.open(now, evidence),
        }
    }

    /// (Re)starts the auction at `now` (fair value, nothing sold).
    pub fn open(&mut self, now: i64, evidence_at: i64) -> AuctionChange {
        // 0 means "none open"; a clock at 0 opens at 1 (one second more for keepers, never less).
        let started_at = now.max(1);
        *self = AuctionState { started_at, seen_at: evidence_at.min(now), sold_ppm: 0 };
        AuctionChange::Opened(started_at)
    }

    /// The auction after a trade that brought the sold volume to `sold_ppm` (seen out of band before it, on
    /// readings published no earlier than `evidence_at`): closed when every asset is inside its band after
    /// it, restarted at fair value once half a full-size trade has been sold, otherwise running on.
    pub fn after_trade(&mut self, sold_ppm: u32, inside_after: bool, now: i64, evidence_at: i64) -> AuctionChange {
        if inside_after {
            *self = AuctionState::default();
            return AuctionChange::Closed;
        }
        if sold_ppm >= RESTART_PPM {
            return self.open(now, evidence_at);
        }
        self.sold_ppm = sold_ppm;
        self.seen_at = self.seen_at.max(evidence_at.min(now));
        AuctionChange::Unchanged
    }
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

    #[test]
    fn an_auction_not_seen_out_of_band_within_the_heartbeat_is_stale() {
        let mut a = AuctionState::default();
        assert_eq!(a.view(100, 10), AuctionView::Closed);
        // Seen out of band at 100 on a reading published at 98: opened at 100.
        assert_eq!(a.observe(true, 100, 98, 10, true), AuctionChange::Opened(100));
        assert_eq!(a.view(105, 10), AuctionView::Running(AuctionPoint { elapsed_secs: 5, sold_ppm: 0 }));
        // Renewed at 107 (reading of 106): still running at 116, stale at 117.
        assert_eq!(a.observe(true, 107, 106, 10, true), AuctionChange::Unchanged);
        assert_eq!(a.view(116, 10), AuctionView::Running(AuctionPoint { elapsed_secs: 16, sold_ppm: 0 }));
        assert_eq!(a.view(117, 10), AuctionView::Stale);
        // Seen out of band again after an hour: restarted at fair value, not an hour relaxed.
        assert_eq!(a.observe(true, 3_700, 3_699, 10, true), AuctionChange::Opened(3_700));
        assert_eq!(a.view(3_700, 10), AuctionView::Running(AuctionPoint::START));
        // An old reading cannot renew it beyond its own publish time.
        a.observe(true, 3_705, 3_600, 10, true);
        assert_eq!(a.seen_at, 3_699);
        // Seen inside: closed.
        assert_eq!(a.observe(false, 3_706, 3_706, 10, true), AuctionChange::Closed);
        assert_eq!(a, AuctionState::default());
        assert_eq!(a.observe(false, 3_707, 3_707, 10, true), AuctionChange::Unchanged);
        // Readings that may not open it (a price too far from its EMA) leave it closed.
        assert_eq!(a.observe(true, 3_708, 3_708, 10, false), AuctionChange::NotOpened);
        assert_eq!(a, AuctionState::default());
    }

    #[test]
    fn only_volume_restarts_a_running_auction() {
        let mut a = AuctionState::default();
        a.open(1_000, 1_000);
        // A dust trade renews the auction and adds its volume; the price keeps relaxing.
        assert_eq!(a.after_trade(10_000, false, 1_030, 1_029), AuctionChange::Unchanged);
        assert_eq!(a.view(1_031, 10), AuctionView::Running(AuctionPoint { elapsed_secs: 31, sold_ppm: 10_000 }));
        // Half a full-size trade in all: restarted at fair value.
        assert_eq!(a.after_trade(RESTART_PPM, false, 1_040, 1_040), AuctionChange::Opened(1_040));
        assert_eq!(a.view(1_040, 10), AuctionView::Running(AuctionPoint::START));
        // Every asset inside after a trade: closed.
        assert_eq!(a.after_trade(1, true, 1_041, 1_041), AuctionChange::Closed);
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
