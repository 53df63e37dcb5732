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
    fn a_changed_parameter_shows_in_the_diff() {
        let a = crate::default_params();
        let b = VaultParams { slippage_cap_bps: 50, ..a };
        let diff: Vec<_> = params(&a).into_iter().zip(params(&b)).filter(|(x, y)| x.1 != y.1).collect();
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].0 .0, "slippage_cap_bps");
    }
}
