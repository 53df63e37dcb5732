//! Human-readable descriptions of program state, field by field (for dashboards and logs; typed, never
//! parsed back).

use ballast::state::VaultParams;

/// Every vault parameter as `(name, value)`, in declaration order (two sets compare field by field).
pub fn params(p: &VaultParams) -> Vec<(&'static str, String)> {
    vec![
        ("slippage_cap_bps", p.slippage_cap_bps.to_string()),
        ("auction_secs", p.auction_secs.to_string()),
        ("oracle_max_age_secs", p.oracle_max_age_secs.to_string()),
        ("oracle_max_conf_bps", p.oracle_max_conf_bps.to_string()),
        ("rebalance_cooldown_slots", p.rebalance_cooldown_slots.to_string()),
        ("bounty_bps", p.bounty_bps.to_string()),
        ("bounty_cap_value", p.bounty_cap_value.to_string()),
        ("timelock_secs", p.timelock_secs.to_string()),
        ("band_mode", format!("{:?}", p.band_mode)),
        ("target_mode", format!("{:?}", p.target_mode)),
        ("vol_tau_secs", p.vol_tau_secs.to_string()),
        ("deposit_fee_bps", p.deposit_fee_bps.to_string()),
        ("trade_cost_bps", p.trade_cost_bps.to_string()),
        ("deposit_delay_secs", p.deposit_delay_secs.to_string()),
        ("deposit_window_secs", p.deposit_window_secs.to_string()),
        ("rebalance_max_age_secs", p.rebalance_max_age_secs.to_string()),
        ("rebalance_max_conf_bps", p.rebalance_max_conf_bps.to_string()),
        ("flash_enabled", p.flash_enabled.to_string()),
        ("management_fee_bps", p.fees.management_bps.to_string()),
        ("performance_fee_bps", p.fees.performance_bps.to_string()),
        ("entry_fee_bps", p.fees.entry_bps.to_string()),
        ("exit_fee_bps", p.fees.exit_bps.to_string()),
        (
            "fee_recipients",
            p.fees
                .recipients
                .iter()
                .filter(|r| r.weight_bps > 0)
                .map(|r| format!("{} {} bps", r.account, r.weight_bps))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ]
}

/// `amount` base units of a token with `decimals` in token units, exactly, with every decimal of the token
/// (`1500000000, 9` → `"1.500000000"`; no thousands separators, no rounding).
pub fn token_amount(amount: u128, decimals: u8) -> String {
    let digits = amount.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = d + 1);
    let (whole, frac) = padded.split_at(padded.len() - d);
    format!("{whole}.{frac}")
}

/// [`token_amount`] followed by the token's symbol (`2252947123, 9, "SOL"` → `"2.252947123 SOL"`).
pub fn tokens(amount: u128, decimals: u8, symbol: &str) -> String {
    format!("{} {symbol}", token_amount(amount, decimals))
}

/// `amount` base units rounded half up to `places` decimals (at most the token's own), for a figure read at a
/// glance (`2252947123, 9, 4` → `"2.2529"`); [`token_amount`] when it must be exact.
pub fn token_amount_rounded(amount: u128, decimals: u8, places: u8) -> String {
    let places = places.min(decimals);
    let unit = 10u128.pow(u32::from(decimals - places));
    let rounded = amount / unit + u128::from(amount % unit >= unit.div_ceil(2) && unit > 1);
    token_amount(rounded, places)
}

/// A USD value given in micro-USD (the program's unit), to the cent with thousands separators
/// (`1234564999` → `"$1,234.56"`, rounded half up; negative values as `"-$5.00"`).
pub fn usd(micro_usd: i128) -> String {
    let abs = micro_usd.unsigned_abs();
    let cents = abs / 10_000 + u128::from(abs % 10_000 >= 5_000);
    let sign = if micro_usd < 0 && cents > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// `n` with a comma between groups of three digits (`1234567` → `"1,234,567"`).
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_keep_every_decimal_of_the_token() {
        assert_eq!(token_amount(1_500_000_000, 9), "1.500000000");
        assert_eq!(token_amount(5, 8), "0.00000005");
        assert_eq!(token_amount(0, 6), "0.000000");
        assert_eq!(token_amount(123, 0), "123");
        assert_eq!(token_amount(60_000_123_456, 6), "60000.123456");
        assert_eq!(token_amount(u128::from(u64::MAX), 18), "18.446744073709551615");
    }

    #[test]
    fn tokens_carry_their_symbol() {
        assert_eq!(tokens(2_252_947_123, 9, "SOL"), "2.252947123 SOL");
        assert_eq!(tokens(455_814_605, 6, "USDC"), "455.814605 USDC");
    }

    #[test]
    fn rounded_token_amounts_round_half_up_to_the_places_asked() {
        assert_eq!(token_amount_rounded(2_252_947_123, 9, 4), "2.2529");
        assert_eq!(token_amount_rounded(2_252_950_000, 9, 4), "2.2530");
        assert_eq!(token_amount_rounded(2_252_949_999, 9, 4), "2.2529");
        assert_eq!(token_amount_rounded(999_999_999, 9, 2), "1.00");
        assert_eq!(token_amount_rounded(455_814_605, 6, 9), "455.814605", "never more places than the token has");
        assert_eq!(token_amount_rounded(1_500_000_000, 9, 0), "2");
        assert_eq!(token_amount_rounded(0, 8, 3), "0.000");
        assert_eq!(token_amount_rounded(u128::MAX, 18, 2), "340282366920938463463.37", "no overflow at the top");
        assert_eq!(token_amount_rounded(u128::MAX, 36, 0), "340");
    }

    #[test]
    fn usd_values_read_as_dollars_and_cents() {
        assert_eq!(usd(1_234_564_999), "$1,234.56");
        assert_eq!(usd(1_234_565_000), "$1,234.57");
        assert_eq!(usd(0), "$0.00");
        assert_eq!(usd(4_999), "$0.00");
        assert_eq!(usd(5_000), "$0.01");
        assert_eq!(usd(10_000_000_000_000), "$10,000,000.00");
        assert_eq!(usd(-5_000_000), "-$5.00");
        assert_eq!(usd(-4_000), "$0.00", "no minus sign on a value that rounds to zero");
    }

    #[test]
    fn thousands_are_grouped_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(123_456_789), "123,456,789");
        assert_eq!(thousands(1_234_567_890), "1,234,567,890");
    }

    #[test]
    fn a_changed_parameter_shows_in_the_diff() {
        let a = crate::default_params();
        let b = VaultParams { slippage_cap_bps: 50, ..a };
        let diff: Vec<_> = params(&a).into_iter().zip(params(&b)).filter(|(x, y)| x.1 != y.1).collect();
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].0 .0, "slippage_cap_bps");
    }
}
