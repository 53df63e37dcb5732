//! Single-asset withdrawals ("exits"): shares paid out in one asset of the vault, the mirror of a
//! single-asset deposit. Every rounding favours the vault.
//!
//! - **Quotes.** A quote values the leaver's shares at the *least* any source says the vault is worth and
//!   the paid asset at the *most* (`crate::sources`, [`Side::Low`](crate::sources::Side) and `High`), so a
//!   reading a sender held back or a pool pushed in the same transaction can only shrink the payout.
//! - **Worse of two.** A request is quoted when it is made and again at settlement (fresh readings
//!   published after a delay); the leaver gets the smaller of the two payouts ([`settle_exit`]).
//! - **Trades it forces.** A payout that leaves the paid asset below its target (or uncovers drift elsewhere)
//!   makes the vault buy it back: the leaver pays `trade_cost_bps` of that traded value
//!   ([`exit_traded_value_in_bands`]); a payout of an overweight asset forces nothing and pays nothing extra.
//! - **At most one trade short.** A payout that leaves the asset more than one of its largest rebalance trades
//!   (`max_trade_bps` of the vault after it) below its target is refused; [`largest_exit_value`] is the most
//!   that fits now.

use super::fixed::{mul_div, Rounding, U256};
use super::rebalance::{value_to_trade, AssetLimits};
use super::{total_value, MathError, MathResult, SafeMath, BPS};

/// One valuation of a single-asset withdrawal: the vault at the least any source says (holders' balances,
/// escrowed deposits and owed amounts excluded), the share supply, and the paid asset's price at the most
/// any source says, as `asset_value` micro-USD for `asset_amount` base units (the holders' balance of it:
/// the price ratio at full precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitQuote {
    pub nav: u128,
    pub supply: u64,
    pub asset_value: u128,
    pub asset_amount: u64,
}

impl ExitQuote {
    /// What `shares` are worth at this quote (micro-USD, rounded down).
    pub fn shares_value(&self, shares: u64) -> MathResult<u128> {
        if shares > self.supply {
            return Err(MathError::SharesExceedSupply);
        }
        mul_div(shares as u128, self.nav, self.supply as u128, Rounding::Floor)
    }

    /// Base units of the paid asset worth `value` at this quote (rounded down).
    pub fn amount_for(&self, value: u128) -> MathResult<u64> {
        super::to_u64(mul_div(value, self.asset_amount as u128, self.asset_value, Rounding::Floor)?)
    }

    /// The payout for `shares` before any charge.
    pub fn gross(&self, shares: u64) -> MathResult<u64> {
        self.amount_for(self.shares_value(shares)?)
    }
}

/// A settled single-asset withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledExit {
    /// Base units paid to the leaver.
    pub amount: u64,
    /// The payout before the fee and the trade charge, at the quote used.
    pub gross: u64,
    /// The shares' value at the quote used (micro-USD).
    pub value: u128,
    /// Part of `value` kept by the vault as the fee (rounded up).
    pub fee_value: u128,
    /// Part of `value` kept by the vault for the trades the payout makes it do.
    pub trade_charge_value: u128,
}

/// The payout for `shares` quoted at request and again at settlement: the quote that pays fewer base units
/// (the worse for the leaver), minus `fee_bps` of the shares' value and `trade_charge_value` (both rounded
/// up, both kept by the vault), rounded down.
pub fn settle_exit(
    request: &ExitQuote,
    settle: &ExitQuote,
    shares: u64,
    fee_bps: u16,
    trade_charge_value: u128,
) -> MathResult<SettledExit> {
    let (gross_r, gross_s) = (request.gross(shares)?, settle.gross(shares)?);
    let (quote, gross) = if gross_r < gross_s { (request, gross_r) } else { (settle, gross_s) };
    let value = quote.shares_value(shares)?;
    let fee_value = mul_div(value, fee_bps as u128, BPS as u128, Rounding::Ceil)?;
    let trade_charge_value = trade_charge_value.min(value.saturating_sub(fee_value));
    let net = value.saturating_sub(fee_value).saturating_sub(trade_charge_value);
    Ok(SettledExit { amount: quote.amount_for(net)?, gross, value, fee_value, trade_charge_value })
}

/// Value (micro-USD) the vault must buy back because a payout worth `value_out` of an asset now worth
/// `asset_value` in a vault worth `nav` (both at mid, holders' balances) with a target of `target_bps`: how
/// much further below its target the asset ends up, `max(0, t·(V − x) − (a − x)) − max(0, t·V − a)`,
/// rounded up. Zero while the payout only takes the asset's excess over its target.
pub fn exit_traded_value(asset_value: u128, nav: u128, target_bps: u16, value_out: u128) -> MathResult<u128> {
    let bps = BPS as u128;
    let t = (target_bps as u128).min(bps);
    if value_out > asset_value || asset_value > nav {
        return Err(MathError::Overflow);
    }
    // Shortfall under target, scaled by BPS: t·V − a·BPS (256-bit: exact at any balance and price).
    let shortfall = |a: u128, v: u128| U256::mul(v, t).saturating_sub(U256::mul(a, bps));
    let before = shortfall(asset_value, nav);
    let after = shortfall(asset_value - value_out, nav - value_out);
    after.saturating_sub(before).div(bps, Rounding::Ceil)
}

/// Value (micro-USD) a single-asset payout of `value_out` from asset `index` makes the vault trade (`values`
/// the holders' values at mid before it, `limits` the targets and bands in force): the more of its own
/// shortfall ([`exit_traded_value`]) and of what it adds to the trading the bands require (taking one asset
/// out concentrates the others, and can push one of them above its band).
pub fn exit_traded_value_in_bands(
    values: &[u128],
    limits: &[AssetLimits],
    index: usize,
    value_out: u128,
) -> MathResult<u128> {
    let nav = total_value(values)?;
    let target = limits.get(index).ok_or(MathError::LengthMismatch)?.target_bps;
    let asset_value = *values.get(index).ok_or(MathError::LengthMismatch)?;
    let own = exit_traded_value(asset_value, nav, target, value_out)?;
    let mut after = values.to_vec();
    after[index] = asset_value.safe_sub(value_out)?;
    let added = value_to_trade(&after, limits)?.saturating_sub(value_to_trade(values, limits)?);
    Ok(own.max(added))
}

/// Whether a payout of `value_out` from asset `index` fits: no more than the asset holds, and the asset left at
/// most one rebalance trade below its target (its shortfall `t·(V − x) − (a − x)` no larger than `max_trade_bps`
/// of the vault after the payout). Counting the whole shortfall, not only what this payout adds, keeps a run of
/// exits from draining an asset one acceptable step at a time.
pub fn exit_fits(values: &[u128], limits: &[AssetLimits], index: usize, value_out: u128) -> MathResult<bool> {
    let asset_value = *values.get(index).ok_or(MathError::LengthMismatch)?;
    let limit = limits.get(index).ok_or(MathError::LengthMismatch)?;
    if value_out > asset_value {
        return Ok(false);
    }
    let nav_after = total_value(values)?.safe_sub(value_out)?;
    let left = asset_value - value_out;
    let bps = BPS as u128;
    // t·V' − a'·BPS ≤ m·V' (scaled by BPS, 256-bit).
    let shortfall = U256::mul(nav_after, limit.target_bps as u128).saturating_sub(U256::mul(left, bps));
    Ok(shortfall <= U256::mul(nav_after, limit.max_trade_bps as u128))
}

/// The largest payout value (micro-USD at mid) from asset `index` that [`exit_fits`] now, found by bisection (at
/// most 128 steps): a value that fits, or zero when nothing does (the asset is already more than one trade
/// short).
pub fn largest_exit_value(values: &[u128], limits: &[AssetLimits], index: usize) -> MathResult<u128> {
    let mut hi = *values.get(index).ok_or(MathError::LengthMismatch)?;
    if exit_fits(values, limits, index, hi)? {
        return Ok(hi);
    }
    if !exit_fits(values, limits, index, 0)? {
        return Ok(0);
    }
    let mut lo = 0u128;
    // Invariant: `lo` fits, `hi` does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if exit_fits(values, limits, index, mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(targets: &[u16], band: u16, max_trade: u16) -> Vec<AssetLimits> {
        targets.iter().map(|t| AssetLimits { target_bps: *t, band_bps: band, max_trade_bps: max_trade }).collect()
    }

    #[test]
    fn a_payout_below_target_pays_for_the_buy_back_and_one_above_pays_nothing() {
        // $10 000 vault, 50/50 target. USDC at $5 000: a $1 000 USDC payout leaves $4 000 of $9 000 against a
        // $4 500 target: $500 to buy back.
        assert_eq!(exit_traded_value(5_000, 10_000, 5_000, 1_000).unwrap(), 500);
        // USDC overweight at $6 000: a $1 000 payout leaves $5 000 of $9 000 (target $4 500): nothing.
        assert_eq!(exit_traded_value(6_000, 10_000, 5_000, 1_000).unwrap(), 0);
        // … a $3 000 payout leaves $3 000 of $7 000 against $3 500: $500.
        assert_eq!(exit_traded_value(6_000, 10_000, 5_000, 3_000).unwrap(), 500);
        // Already short: every unit paid out beyond is bought back at (1 − t).
        assert_eq!(exit_traded_value(4_000, 10_000, 5_000, 1_000).unwrap(), 500);
        assert!(exit_traded_value(1_000, 10_000, 5_000, 1_001).is_err());
    }

    #[test]
    fn taking_one_asset_out_can_push_another_above_its_band() {
        // Three assets $4 000 / $4 000 / $2 000, targets 40/40/20 %, bands 5 %. Paying $2 000 of asset 2 leaves
        // $4 000 / $4 000 / 0 of $8 000: asset 2 is $1 600 short (its own shortfall), and the others, 50 %
        // each, are 10 % over: $1 600 to trade either way.
        let l = limits(&[4_000, 4_000, 2_000], 500, 2_000);
        let v = [4_000_000_000u128, 4_000_000_000, 2_000_000_000];
        assert_eq!(exit_traded_value_in_bands(&v, &l, 2, 2_000_000_000).unwrap(), 1_600_000_000);
        // An exit that keeps every asset inside its band and at or above target forces nothing.
        let over = [4_000_000_000u128, 4_000_000_000, 2_400_000_000];
        assert_eq!(exit_traded_value_in_bands(&over, &l, 2, 400_000_000).unwrap(), 0);
    }

    #[test]
    fn the_largest_exit_leaves_the_asset_at_most_one_max_size_trade_short() {
        // $10 000, 50/50, band 5 %, max trade 10 % of the vault. Paying x of asset 0 leaves it
        // 0.5·(10 000 − x) − (5 000 − x) = 0.5x short, against 10 % of (10 000 − x): x ≤ 1 666.67.
        let l = limits(&[5_000, 5_000], 500, 1_000);
        let v = [5_000_000_000u128, 5_000_000_000];
        let x = largest_exit_value(&v, &l, 0).unwrap();
        assert!(exit_fits(&v, &l, 0, x).unwrap());
        assert!(!exit_fits(&v, &l, 0, x + 1).unwrap());
        assert_eq!(x / 1_000_000, 1_666);
        // An asset fully above target can pay out its whole excess and more.
        let rich = [8_000_000_000u128, 2_000_000_000];
        assert!(largest_exit_value(&rich, &l, 0).unwrap() > 6_000_000_000);
        // Never more than the asset holds.
        let solo = limits(&[5_000, 5_000], 500, 10_000);
        assert_eq!(largest_exit_value(&v, &solo, 0).unwrap(), 5_000_000_000);
        // An asset already short counts what it already lacks: USDC at $1 300 of $9 000 (target 30 %, max
        // trade 25 %) is $1 400 short; paying $1 000 more would leave it $2 100 short of $8 000 (over $2 000).
        let l = limits(&[3_000, 3_500, 3_500], 300, 2_500);
        let short = [1_300_000_000u128, 3_850_000_000, 3_850_000_000];
        assert!(!exit_fits(&short, &l, 0, 1_000_000_000).unwrap());
        assert!(exit_fits(&short, &l, 0, 800_000_000).unwrap());
    }

    #[test]
    fn settlement_pays_the_smaller_of_the_two_quotes_less_its_charges() {
        // 1 000 shares of 10 000 in a $10 000 vault ($1 000), SOL at $150 (100 SOL worth $15 000 of holdings).
        let at_request = ExitQuote {
            nav: 10_000_000_000,
            supply: 10_000_000_000,
            asset_value: 15_000_000_000,
            asset_amount: 100_000_000_000,
        };
        // SOL fell 2 % by settlement (the vault 1 %): the settlement quote would pay more SOL (6.73), so the
        // request's (6.67) is used.
        let at_settle = ExitQuote {
            nav: 9_900_000_000,
            supply: 10_000_000_000,
            asset_value: 14_700_000_000,
            asset_amount: 100_000_000_000,
        };
        let s = settle_exit(&at_request, &at_settle, 1_000_000_000, 10, 3_000_000).unwrap();
        assert_eq!(s.gross, 6_666_666_666);
        assert_eq!(s.value, 1_000_000_000);
        assert_eq!(s.fee_value, 1_000_000);
        assert_eq!(s.trade_charge_value, 3_000_000);
        // ($1 000 − $1 − $3) / $150 = 6.64 SOL, rounded down.
        assert_eq!(s.amount, 6_640_000_000);
        assert!(settle_exit(&at_request, &at_settle, 10_000_000_001, 10, 0).is_err(), "more shares than exist");
    }

    proptest! {
        /// Whatever the two quotes, settlement never pays more than either quote alone would, and the charges
        /// only ever lower it.
        #[test]
        fn settlement_is_never_better_than_either_quote(
            n1 in 1u128..1u128 << 70, n2 in 1u128..1u128 << 70,
            s1 in 1u64..u64::MAX / 2, s2 in 1u64..u64::MAX / 2,
            v1 in 1u128..1u128 << 70, v2 in 1u128..1u128 << 70,
            a1 in 1u64..u64::MAX, a2 in 1u64..u64::MAX,
            shares in 0u64..u64::MAX / 2, fee in 0u16..500, charge in 0u128..1u128 << 70,
        ) {
            let q1 = ExitQuote { nav: n1, supply: s1, asset_value: v1, asset_amount: a1 };
            let q2 = ExitQuote { nav: n2, supply: s2, asset_value: v2, asset_amount: a2 };
            if let Ok(s) = settle_exit(&q1, &q2, shares, fee, charge) {
                prop_assert!(s.amount <= s.gross);
                for q in [q1, q2] {
                    if let Ok(alone) = q.gross(shares) {
                        prop_assert!(s.gross <= alone);
                    }
                }
            }
        }

        /// The bisection's answer always fits (or is zero when nothing does), whatever the vault.
        #[test]
        fn the_largest_exit_always_fits(
            a in 0u128..1u128 << 60, b in 0u128..1u128 << 60, c in 0u128..1u128 << 60,
            t0 in 1u16..5_000, t1 in 1u16..4_999, band in 10u16..2_000, max_trade in 10u16..10_000, i in 0usize..3,
        ) {
            let l = limits(&[t0, t1, 10_000 - t0 - t1], band, max_trade);
            let v = [a, b, c];
            let x = largest_exit_value(&v, &l, i).unwrap();
            prop_assert!(exit_fits(&v, &l, i, x).unwrap() || (x == 0 && !exit_fits(&v, &l, i, 0).unwrap()));
        }
    }
}
