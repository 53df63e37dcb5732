//! Share math. Every rounding favours the vault: shares minted round down, amounts paid in round up,
//! amounts paid out round down.
//!
//! Inflation protection: the first deposit mints [`LOCKED_SHARES`] to a vault-owned account that can
//! never be redeemed, so the share supply never returns to zero and a donation to a nearly empty vault
//! is mostly captured by those locked shares instead of by the donor.

use super::{mul_div_ceil, mul_div_floor, MathError, MathResult};

/// Shares minted on the first deposit to the vault itself and never redeemable (1 share at 6 decimals).
pub const LOCKED_SHARES: u64 = 1_000_000;
/// Share mint decimals: the first deposit mints one share base unit per micro-USD, so a share starts at $1.
pub const SHARE_DECIMALS: u8 = 6;

/// Outcome of a share computation: shares for the depositor plus shares locked in the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharesOut {
    pub to_depositor: u64,
    pub locked: u64,
}

/// Shares for a deposit worth `value_in` micro-USD (valued conservatively by the caller) into a vault worth
/// `nav` (valued high by the caller) with `supply` shares outstanding.
///
/// - `supply == 0`: first deposit, shares = value (1 share base unit per micro-USD), of which
///   [`LOCKED_SHARES`] are locked; fails with `DivideByZero` if the value does not exceed them.
/// - otherwise `floor(value_in × supply / nav)`; `nav == 0` with shares outstanding fails.
pub fn shares_for_value(value_in: u128, nav: u128, supply: u64) -> MathResult<SharesOut> {
    if supply == 0 {
        let total = super::to_u64(value_in)?;
        let to_depositor = total.checked_sub(LOCKED_SHARES).filter(|s| *s > 0).ok_or(MathError::DivideByZero)?;
        return Ok(SharesOut { to_depositor, locked: LOCKED_SHARES });
    }
    let shares = mul_div_floor(value_in, supply as u128, nav)?;
    Ok(SharesOut { to_depositor: super::to_u64(shares)?, locked: 0 })
}

/// One valuation of a single-asset deposit: the deposit (valued low), the vault (valued high, escrowed
/// deposits excluded) and the share supply, at one point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositQuote {
    pub value: u128,
    pub nav: u128,
    pub supply: u64,
}

/// A settled single-asset deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettledDeposit {
    pub shares: SharesOut,
    /// Deposit value used: the lower of the two quotes (micro-USD).
    pub value: u128,
    /// Part of `value` kept by the vault as the deposit fee (rounded up).
    pub fee_value: u128,
    /// Part of `value` kept by the vault for the trades the deposit makes it do (see
    /// [`deposit_trade_charge`]).
    pub trade_charge_value: u128,
}

/// Value (micro-USD) the vault must trade away because a single-asset deposit worth `value_in` of an
/// asset now worth `asset_value` in a vault worth `nav` (both at mid, holders' balances) with a target
/// of `target_bps`: how much further above its target the asset ends up,
/// `max(0, a + x − t·(V + x)) − max(0, a − t·V)`, rounded up. At most `x·(1 − t)`; zero when the deposit
/// only fills the asset's shortfall.
pub fn deposit_traded_value(asset_value: u128, nav: u128, target_bps: u16, value_in: u128) -> MathResult<u128> {
    use super::{SafeMath, U256};
    let bps = super::BPS as u128;
    let t = (target_bps as u128).min(bps);
    // Excess over target, scaled by BPS: a·BPS − t·V (256-bit: exact at any balance and price).
    let excess = |a: u128, v: u128| U256::mul(a, bps).saturating_sub(U256::mul(v, t));
    let before = excess(asset_value, nav);
    let after = excess(asset_value.safe_add(value_in)?, nav.safe_add(value_in)?);
    after.saturating_sub(before).div(bps, super::Rounding::Ceil)
}

/// What the vault keeps for the trades a deposit causes: `trade_cost_bps` (the expected cost of a unit
/// traded back to target) of [`deposit_traded_value`], rounded up.
pub fn deposit_trade_charge(traded_value: u128, trade_cost_bps: u16) -> MathResult<u128> {
    mul_div_ceil(traded_value, trade_cost_bps as u128, super::BPS as u128)
}

/// Shares for a deposit quoted at request and again at settlement: the deposit at the lower value, the
/// share price at the higher of the two (`nav / supply`), minus `fee_bps` of the value and the
/// `trade_charge_value` (both rounded up, both kept by the vault). A quote with no shares outstanding has
/// no share price and is skipped; when nothing is outstanding at settlement this is the vault's first
/// deposit ([`shares_for_value`] with locked shares).
pub fn settle_deposit(
    request: &DepositQuote,
    settle: &DepositQuote,
    fee_bps: u16,
    trade_charge_value: u128,
) -> MathResult<SettledDeposit> {
    let value = request.value.min(settle.value);
    let fee_value = mul_div_ceil(value, fee_bps as u128, super::BPS as u128)?;
    let trade_charge_value = trade_charge_value.min(value.saturating_sub(fee_value));
    let net = value.saturating_sub(fee_value).saturating_sub(trade_charge_value);
    if settle.supply == 0 {
        return Ok(SettledDeposit { shares: shares_for_value(net, 0, 0)?, value, fee_value, trade_charge_value });
    }
    let mut shares = shares_for_value(net, settle.nav, settle.supply)?.to_depositor;
    if request.supply > 0 {
        shares = shares.min(shares_for_value(net, request.nav, request.supply)?.to_depositor);
    }
    Ok(SettledDeposit { shares: SharesOut { to_depositor: shares, locked: 0 }, value, fee_value, trade_charge_value })
}

/// In-kind deposit: the most shares that `max_in` can buy at the current proportions,
/// `min_i floor(max_in_i × supply / balance_i)` over assets with a non-zero balance.
/// Fails with `DivideByZero` if every balance is zero (nothing to be proportional to).
pub fn in_kind_shares(max_in: &[u64], balances: &[u64], supply: u64) -> MathResult<u64> {
    if max_in.len() != balances.len() {
        return Err(MathError::LengthMismatch);
    }
    if supply == 0 {
        return Err(MathError::DivideByZero);
    }
    let mut best: Option<u128> = None;
    for (m, b) in max_in.iter().zip(balances) {
        if *b == 0 {
            continue;
        }
        let s = mul_div_floor(*m as u128, supply as u128, *b as u128)?;
        best = Some(best.map_or(s, |x| x.min(s)));
    }
    super::to_u64(best.ok_or(MathError::DivideByZero)?)
}

/// Amounts to pull for `shares` new shares: `ceil(shares × balance_i / supply)` per asset.
pub fn in_kind_amounts_in(shares: u64, balances: &[u64], supply: u64) -> MathResult<Vec<u64>> {
    balances.iter().map(|b| super::to_u64(mul_div_ceil(shares as u128, *b as u128, supply as u128)?)).collect()
}

/// Amounts paid out for burning `shares`: `floor(shares × balance_i / supply)` per asset.
pub fn in_kind_amounts_out(shares: u64, balances: &[u64], supply: u64) -> MathResult<Vec<u64>> {
    if shares > supply {
        return Err(MathError::SharesExceedSupply);
    }
    balances.iter().map(|b| super::to_u64(mul_div_floor(shares as u128, *b as u128, supply as u128)?)).collect()
}

/// What an in-kind deposit of at most `max_in` buys from a vault of `balances` and `supply` shares: the largest
/// shares the amounts cover pro rata (rounded down, `gross_shares`), the amounts that takes (rounded up), and
/// the shares minted less the entry fee of `entry_bps` (`shares`; the fee's value stays with the holders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InKindDeposit {
    pub amounts: Vec<u64>,
    pub gross_shares: u64,
    pub shares: u64,
}

/// [`InKindDeposit`] for `max_in`: `deposit`'s rule, which clients quote with. `DivideByZero` for an empty
/// vault (its first deposit is a single-asset one).
pub fn in_kind_deposit(max_in: &[u64], balances: &[u64], supply: u64, entry_bps: u16) -> MathResult<InKindDeposit> {
    let gross_shares = in_kind_shares(max_in, balances, supply)?;
    let amounts = in_kind_amounts_in(gross_shares, balances, supply)?;
    let shares = super::fees::less_fee(gross_shares, entry_bps)?;
    Ok(InKindDeposit { amounts, gross_shares, shares })
}

/// What an in-kind withdrawal of `shares` of `supply` pays: pro rata of the holders' `available` balances,
/// rounded down (`gross`), each less the exit fee of `exit_bps` (`net`, what is paid; the fee stays in the vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InKindPayout {
    pub gross: Vec<u64>,
    pub net: Vec<u64>,
}

/// [`InKindPayout`] for `shares`: `withdraw`'s rule, which clients quote with.
pub fn in_kind_payout(shares: u64, available: &[u64], supply: u64, exit_bps: u16) -> MathResult<InKindPayout> {
    let gross = in_kind_amounts_out(shares, available, supply)?;
    let net = gross.iter().map(|x| super::fees::less_fee(*x, exit_bps)).collect::<MathResult<Vec<_>>>()?;
    Ok(InKindPayout { gross, net })
}

/// What a single-asset deposit worth `deposit_value` (at mid) leaves the holders of `supply` shares of a vault
/// worth `nav` (at mid, before it) when it is paid `shares`: `deposit_value − shares × (nav + deposit_value) /
/// (supply + shares)` (micro-USD, rounded down; 0 when it leaves nothing or for a first deposit). The fee, the
/// trade charge, the worse of two quotes and the confidence haircut, all of it: what vests to the holders.
pub fn deposit_left_to_holders(deposit_value: u128, nav: u128, supply: u64, shares: u64) -> MathResult<u128> {
    if supply == 0 {
        return Ok(0);
    }
    let nav_after = nav.checked_add(deposit_value).ok_or(MathError::Overflow)?;
    let supply_after = (supply as u128).checked_add(shares as u128).ok_or(MathError::Overflow)?;
    let paid = mul_div_ceil(shares as u128, nav_after, supply_after)?;
    Ok(deposit_value.saturating_sub(paid))
}

/// What a single-asset withdrawal of `shares` of `supply`, from a vault worth `nav` (at mid), paid
/// `payout_value` (at mid), leaves the holders: `shares × nav / supply − payout_value` (micro-USD, rounded
/// down; 0 when it leaves nothing): what vests to them.
pub fn exit_left_to_holders(shares: u64, nav: u128, supply: u64, payout_value: u128) -> MathResult<u128> {
    if supply == 0 {
        return Ok(0);
    }
    let worth = mul_div_floor(shares as u128, nav, supply as u128)?;
    Ok(worth.saturating_sub(payout_value))
}

/// Of `amount` set vesting at `from`, what is still vesting at `now` when it vests linearly until `until`:
/// `ceil(amount × (until − now) / (until − from))`; all of it before `from`, nothing from `until` on. Rounded
/// up: the holders never count a unit before it has vested.
pub fn vesting_left(amount: u64, from: i64, until: i64, now: i64) -> MathResult<u64> {
    if amount == 0 || now >= until {
        return Ok(0);
    }
    if now <= from {
        return Ok(amount);
    }
    let (left, span) = ((until as i128 - now as i128) as u128, (until as i128 - from as i128) as u128);
    super::to_u64(mul_div_ceil(amount as u128, left, span)?)
}

/// When a vesting ends after `amount` more base units start vesting at `now` over `period_secs`, on top of
/// `left` still vesting until `until`: the amount-weighted average of the two ends, and never before `until`
/// (rounded down to the second: rounding up would let every dust charge push the end a second later). A dust charge moves the end by a dust fraction of the period (a stream of them cannot keep
/// everyone else's charges vesting), a charge much larger than what is left ends near `now + period`, and what
/// was vesting never vests faster than it would have alone. The end is fixed when the charge is added: a later
/// change of the period does not move it.
pub fn vesting_until(left: u64, until: i64, amount: u64, now: i64, period_secs: u32) -> MathResult<i64> {
    let new_end = (now as i128).checked_add(period_secs as i128).ok_or(MathError::Overflow)?;
    if left == 0 || until <= now {
        return i64::try_from(new_end).map_err(|_| MathError::Overflow);
    }
    let total = (left as u128).checked_add(amount as u128).ok_or(MathError::Overflow)?;
    let weighted = (left as u128)
        .checked_mul((until as i128 - now as i128) as u128)
        .and_then(|x| x.checked_add((amount as u128).checked_mul(period_secs as u128)?))
        .ok_or(MathError::Overflow)?;
    let offset = weighted / total;
    let end = (now as i128).checked_add(offset as i128).ok_or(MathError::Overflow)?.max(until as i128);
    i64::try_from(end).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_a_flow_leaves_the_holders_is_its_value_less_what_it_was_paid() {
        // $10 000 of 10 000 shares; a $1 000 deposit paid 980 shares leaves $1 000 − 980 × 11 000 / 10 980.
        assert_eq!(
            deposit_left_to_holders(1_000_000_000, 10_000_000_000, 10_000_000_000, 980_000_000).unwrap(),
            18_214_936
        );
        assert_eq!(deposit_left_to_holders(1_000, 10_000, 10_000, 1_000).unwrap(), 0, "a fair deposit leaves nothing");
        assert_eq!(deposit_left_to_holders(1_000, 0, 0, 1_000).unwrap(), 0, "first deposit");
        // 1 000 shares of 10 000 in a $10 000 vault paid $990: $10 stays.
        assert_eq!(exit_left_to_holders(1_000, 10_000_000, 10_000, 990_000).unwrap(), 10_000);
        assert_eq!(exit_left_to_holders(1_000, 10_000_000, 10_000, 1_000_001).unwrap(), 0);
    }

    #[test]
    fn an_in_kind_deposit_buys_pro_rata_less_the_entry_fee() {
        // 1 000 shares of [1 000, 2 000]: [100, 300] covers 100 shares, takes [100, 200], mints 99 at 100 bps.
        let d = in_kind_deposit(&[100, 300], &[1_000, 2_000], 1_000, 100).unwrap();
        assert_eq!(d, InKindDeposit { amounts: vec![100, 200], gross_shares: 100, shares: 99 });
        assert_eq!(in_kind_deposit(&[100, 300], &[1_000, 2_000], 1_000, 0).unwrap().shares, 100);
        assert_eq!(in_kind_deposit(&[1, 1], &[0, 0], 0, 0), Err(MathError::DivideByZero));
    }

    #[test]
    fn charges_vest_linearly_and_never_early() {
        assert_eq!(vesting_left(1_000, 100, 300, 100).unwrap(), 1_000);
        assert_eq!(vesting_left(1_000, 100, 300, 150).unwrap(), 750);
        assert_eq!(vesting_left(1_000, 100, 300, 299).unwrap(), 5);
        assert_eq!(vesting_left(1_000, 100, 300, 300).unwrap(), 0);
        assert_eq!(vesting_left(3, 0, 200, 1).unwrap(), 3, "rounded up");
        assert_eq!(vesting_left(1_000, 100, 300, 50).unwrap(), 1_000, "a clock behind the start vests nothing");
        assert_eq!(vesting_left(u64::MAX, 0, 200, 1).unwrap(), u64::MAX - u64::MAX / 200);
        assert_eq!(vesting_left(1_000, 0, 0, 0).unwrap(), 0, "a zero period vests at once");
        assert_eq!(vesting_left(1_000, i64::MIN, i64::MAX, 0).unwrap(), 500, "no overflow at the extremes");
    }

    #[test]
    fn a_new_charge_moves_the_end_by_its_weight() {
        // Nothing left: the period from now.
        assert_eq!(vesting_until(0, 50, 1_000, 100, 200).unwrap(), 300);
        // 1 000 left for 100 s more and 1 000 new over 200 s: ends 150 s from now.
        assert_eq!(vesting_until(1_000, 200, 1_000, 100, 200).unwrap(), 250);
        // Dust on a large remainder barely moves it (the griefing this replaces restarted it at now + 200).
        assert_eq!(vesting_until(1_000_000, 110, 1, 100, 200).unwrap(), 110);
        assert_eq!(vesting_until(1_000_000, 110, 100_000, 100, 200).unwrap(), 127);
        // Never before the old end (a shortened period does not speed up what was vesting).
        assert_eq!(vesting_until(1_000, 500, 1_000, 100, 10).unwrap(), 500);
        assert_eq!(vesting_until(1_000, 50, 0, 100, 200).unwrap(), 300, "a finished vesting starts over");
        assert!(vesting_until(u64::MAX, i64::MAX, u64::MAX, 0, u32::MAX).is_ok());
    }

    #[test]
    fn settlement_takes_the_worse_quote_and_the_fee() {
        let req = DepositQuote { value: 1_000_000_000, nav: 10_000_000_000, supply: 10_000_000_000 };
        // Deposited asset fell 5 % between request and settlement: the lower value counts.
        let set = DepositQuote { value: 950_000_000, nav: 9_800_000_000, supply: 10_000_000_000 };
        let s = settle_deposit(&req, &set, 10, 0).unwrap();
        assert_eq!(s.value, 950_000_000);
        assert_eq!(s.fee_value, 950_000);
        // Share price: the higher of 1.0 (request) and 0.98 (settlement) → 1.0.
        assert_eq!(s.shares.to_depositor, 949_050_000);
        // First deposit of the vault: locked shares, fee taken.
        let empty = DepositQuote { value: 5_000_000, nav: 0, supply: 0 };
        let s = settle_deposit(&empty, &empty, 100, 0).unwrap();
        assert_eq!(s.shares, SharesOut { to_depositor: 5_000_000 - 50_000 - LOCKED_SHARES, locked: LOCKED_SHARES });
    }

    proptest! {
        /// What was vesting never vests faster for a new charge, the new charge vests nothing at once, and a
        /// charge of at most 1/1000 of what is left moves the end by at most 1/1000 of the period (+1 s).
        #[test]
        fn adding_a_charge_never_speeds_up_the_vesting(
            left in 1u64..1u64 << 60, remaining in 1i64..100_000, amount in 0u64..1u64 << 60,
            period in 1u32..100_000, since in 0i64..100_000, t in 0i64..300_000,
        ) {
            let now = 1_000_000i64;
            let (from, until) = (now - since, now + remaining);
            let left_now = vesting_left(left, from, until, now).unwrap();
            let end = vesting_until(left_now, until, amount, now, period).unwrap();
            let total = left_now + amount;
            prop_assert!(end >= until);
            prop_assert_eq!(vesting_left(total, now, end, now).unwrap(), total);
            let at = now + t;
            prop_assert!(vesting_left(total, now, end, at).unwrap() >= vesting_left(left, from, until, at).unwrap());
            if amount <= left_now / 1000 {
                prop_assert!(end - until <= period as i64 / 1000 + 1);
            }
        }
    }

    proptest! {
        /// Whatever the two quotes, settlement never mints more than either quote alone would.
        #[test]
        fn settlement_is_never_better_than_either_quote(
            v1 in 1u128..1u128 << 70, v2 in 1u128..1u128 << 70,
            n1 in 1u128..1u128 << 70, n2 in 1u128..1u128 << 70,
            s1 in 1u64..u64::MAX / 2, s2 in 1u64..u64::MAX / 2, fee in 0u16..500, charge in 0u128..1u128 << 70,
        ) {
            let (q1, q2) = (DepositQuote { value: v1, nav: n1, supply: s1 }, DepositQuote { value: v2, nav: n2, supply: s2 });
            if let Ok(s) = settle_deposit(&q1, &q2, fee, charge) {
                for q in [q1, q2] {
                    if let Ok(alone) = shares_for_value(q.value, q.nav, q.supply) {
                        prop_assert!(s.shares.to_depositor <= alone.to_depositor);
                    }
                }
            }
        }
    }

    #[test]
    fn a_deposit_pays_for_the_trades_it_causes() {
        // $10 000 vault, asset at $3 000 with a 30 % target; a $5 000 deposit of it: afterwards $8 000 of
        // $15 000 against a $4 500 target: $3 500 must be traded (70 % of the deposit).
        assert_eq!(deposit_traded_value(3_000, 10_000, 3_000, 5_000).unwrap(), 3_500);
        // An asset $1 000 short of target: a deposit that only fills the gap is not traded ($3 000 of
        // $11 000 is under the $3 300 target) …
        assert_eq!(deposit_traded_value(2_000, 10_000, 3_000, 1_000).unwrap(), 0);
        // … a larger one only beyond its new target: $4 000 of $12 000 against $3 600.
        assert_eq!(deposit_traded_value(2_000, 10_000, 3_000, 2_000).unwrap(), 400);
        // Already $1 000 over target: all of the deposit beyond its target share is traded.
        assert_eq!(deposit_traded_value(4_000, 10_000, 3_000, 1_000).unwrap(), 700);
        // First deposit (empty vault): everything but its target share.
        assert_eq!(deposit_traded_value(0, 0, 3_000, 10_000).unwrap(), 7_000);
        assert_eq!(deposit_trade_charge(3_500_000_000, 60).unwrap(), 21_000_000);
        assert_eq!(deposit_trade_charge(1, 60).unwrap(), 1, "rounded up");
        // Settlement keeps the charge with the fee.
        let q = DepositQuote { value: 1_000_000_000, nav: 10_000_000_000, supply: 10_000_000_000 };
        let s = settle_deposit(&q, &q, 10, 4_200_000).unwrap();
        assert_eq!((s.fee_value, s.trade_charge_value), (1_000_000, 4_200_000));
        assert_eq!(s.shares.to_depositor, 994_800_000);
    }

    proptest! {
        /// The traded part of a deposit is never more than the deposit beyond its target share, and grows
        /// with the deposit.
        #[test]
        fn traded_value_is_bounded_and_monotone(
            a in 0u128..1u128 << 80, rest in 0u128..1u128 << 80, t in 0u16..=10_000, x in 0u128..1u128 << 80,
            more in 0u128..1u128 << 80,
        ) {
            let nav = a + rest;
            let traded = deposit_traded_value(a, nav, t, x).unwrap();
            prop_assert!(traded <= x - x * t as u128 / 10_000 + 1);
            prop_assert!(deposit_traded_value(a, nav, t, x + more).unwrap() >= traded);
        }
    }

    #[test]
    fn first_deposit_locks_shares() {
        let s = shares_for_value(5_000_000, 0, 0).unwrap();
        assert_eq!(s, SharesOut { to_depositor: 4_000_000, locked: LOCKED_SHARES });
        assert_eq!(shares_for_value(LOCKED_SHARES as u128, 0, 0), Err(MathError::DivideByZero));
    }

    #[test]
    fn later_deposit_rounds_down() {
        // vault worth 3, 2 shares; deposit worth 1 → floor(2/3) = 0 shares
        assert_eq!(shares_for_value(1, 3, 2).unwrap().to_depositor, 0);
        assert_eq!(shares_for_value(3, 3, 2).unwrap().to_depositor, 2);
        assert_eq!(shares_for_value(1, 0, 2), Err(MathError::DivideByZero));
    }

    #[test]
    fn in_kind_examples() {
        let balances = [1_000, 3_000, 0];
        let s = in_kind_shares(&[100, 100, 0], &balances, 500).unwrap();
        // asset 0 allows 50 shares, asset 1 allows 16 → 16
        assert_eq!(s, 16);
        let amounts = in_kind_amounts_in(s, &balances, 500).unwrap();
        assert_eq!(amounts, vec![32, 96, 0]);
        let out = in_kind_amounts_out(16, &balances, 500).unwrap();
        assert_eq!(out, vec![32, 96, 0]);
        assert_eq!(in_kind_shares(&[1, 1], &[0, 0], 10), Err(MathError::DivideByZero));
        assert_eq!(in_kind_amounts_out(11, &[1], 10), Err(MathError::SharesExceedSupply));
    }

    proptest! {
        /// Deposit in kind then withdraw the same shares: never get back more than was paid in.
        #[test]
        fn in_kind_round_trip_never_profits(
            balances in proptest::collection::vec(1u64..=u64::MAX / 4, 2..8),
            supply in 1u64..=u64::MAX / 4,
            scale in 0u64..=1_000_000,
        ) {
            let max_in: Vec<u64> = balances.iter().map(|b| ((*b as u128 * scale as u128) / 1_000_000) as u64).collect();
            let shares = in_kind_shares(&max_in, &balances, supply).unwrap();
            let paid = in_kind_amounts_in(shares, &balances, supply).unwrap();
            for (p, m) in paid.iter().zip(&max_in) { prop_assert!(p <= m); }
            let new_bal: Vec<u64> = balances.iter().zip(&paid).map(|(b, p)| b + p).collect();
            let out = in_kind_amounts_out(shares, &new_bal, supply + shares).unwrap();
            for (o, p) in out.iter().zip(&paid) { prop_assert!(o <= p); }
        }

        /// Withdrawing never pays out more than the vault holds, and the pieces never exceed the whole.
        #[test]
        fn withdrawals_never_exceed_holdings(balances in proptest::collection::vec(any::<u64>(), 1..16), supply in 1u64.., split in 0u64..) {
            let a = split % (supply + 1);
            let b = supply - a;
            let out_a = in_kind_amounts_out(a, &balances, supply).unwrap();
            let out_b = in_kind_amounts_out(b, &balances, supply).unwrap();
            for i in 0..balances.len() {
                prop_assert!(out_a[i] as u128 + out_b[i] as u128 <= balances[i] as u128);
            }
        }

        /// A value-priced deposit never dilutes existing holders: the share price does not fall.
        #[test]
        fn value_deposit_never_dilutes(nav in 1u128..=1u128 << 100, supply in 1u64..=u64::MAX / 2, value_in in 0u128..=1u128 << 100) {
            if let Ok(s) = shares_for_value(value_in, nav, supply) {
                let new_supply = supply as u128 + s.to_depositor as u128;
                // (nav + value_in) / new_supply >= nav / supply  <=>  (nav + value_in) × supply >= nav × new_supply
                let lhs = crate::fixed::mul_wide(nav + value_in, supply as u128);
                let rhs = crate::fixed::mul_wide(nav, new_supply);
                prop_assert!(lhs >= rhs);
            }
        }
    }
}
