//! The README's first command: the demo runs on the embedded chain and ends in the documented state.

use ballast_app::demo::{self, DemoMode, DemoOptions};

#[tokio::test]
async fn demo_rebalances_back_into_the_bands() {
    let mut buf = Vec::new();
    let out = demo::run(&DemoOptions { json: true, mode: DemoMode::Fixed, ..Default::default() }, &mut buf)
        .await
        .expect("demo");
    let r = &out.report;
    assert_eq!(r.symbols, vec!["SOL", "BTC", "USDC"]);
    assert!(r.holdings.iter().all(|h| *h > 0));
    assert_eq!(r.targets_bps, vec![4_000, 3_000, 3_000]);
    for i in 0..3 {
        assert!(r.drift_bps[i].unsigned_abs() <= r.bands_bps[i] as u64, "asset {i} outside its band at the end");
    }
    assert!(out.rebalances >= 1, "the path must push at least one asset out of its band");
    // One row per trade, plus one "hold" row for each step without a trade.
    let trades = out.rows.iter().filter(|r| r.action.starts_with("sell")).count();
    let mut trade_steps: Vec<usize> =
        out.rows.iter().filter(|r| r.action.starts_with("sell")).map(|r| r.step).collect();
    trade_steps.dedup();
    assert_eq!(trades, out.rebalances);
    assert_eq!(out.rows.len(), trades + ballast_harness::demo_vault::PRICE_PATH.len() - trade_steps.len());
    for trade in out.rows.iter().filter(|r| r.action.starts_with("sell")) {
        assert!(trade.received >= trade.min_out && trade.min_out > 0);
    }
    let names: Vec<&str> = out.refused.iter().map(|r| r.error.as_str()).collect();
    assert!(!names.is_empty());
    for n in &names {
        assert!(
            ["RebalanceNotNeeded", "RebalanceWrongDirection", "CooldownNotElapsed"].contains(n),
            "unexpected refusal {n}"
        );
    }
    // The JSON line is the last line and carries the documented fields.
    let text = String::from_utf8(buf).unwrap();
    let last = text.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["rebalances"].as_u64().unwrap() as usize, out.rebalances);
    assert_eq!(v["max_drift_bps_final"].as_u64().unwrap(), r.max_abs_drift_bps);
    assert_eq!(v["refused_attempts"].as_array().unwrap().len(), out.refused.len());
    assert!(v["share_supply"].as_u64().unwrap() > ballast::math::LOCKED_SHARES);
    // The fees: README's hand calculation of the month reproduces what the program minted, and the
    // operator holds exactly the fee shares (all of them minted by the last accrue_fees).
    let fees = out.fees.as_ref().expect("the demo vault charges fees");
    assert_eq!((fees.management_bps, fees.performance_bps), (200, 1_000));
    assert_eq!(fees.month_secs, 30 * 86_400);
    let by_hand = fees.month_base_shares as f64 * ((0.02 * fees.month_secs as f64 / 31_536_000.0).exp_m1());
    assert!(
        (fees.month_management_shares as f64 - by_hand).abs() <= 1.0 && fees.month_management_shares as f64 <= by_hand,
        "month: {} minted, {by_hand} by hand",
        fees.month_management_shares
    );
    assert!(fees.performance_shares > 0, "the path rose above the high-water mark");
    assert_eq!(fees.recipient_shares, fees.management_shares + fees.performance_shares);
    assert_eq!(v["fees"]["month_management_shares"].as_u64(), Some(fees.month_management_shares));
}

async fn run_mode(mode: DemoMode) -> demo::DemoOutcome {
    let mut buf = Vec::new();
    demo::run(&DemoOptions { json: true, mode, ..Default::default() }, &mut buf).await.expect("demo")
}

#[tokio::test]
async fn demo_vol_mode_widens_bands_instead_of_trading_noise() {
    let out = run_mode(DemoMode::Vol).await;
    let widest = out.rows.iter().map(|r| r.bands_bps[0]).max().unwrap();
    assert!(widest > 1_500, "SOL's band widened in the stress burst: {widest}");
    assert!(out
        .rows
        .iter()
        .any(|r| r.weights_bps[0] as i64 - r.targets_bps[0] as i64 > 400 && r.action.starts_with("hold")));
    assert_eq!(out.rebalances, 0);
}

#[tokio::test]
async fn demo_cppi_mode_derisks_then_rerisks() {
    let out = run_mode(DemoMode::Cppi).await;
    let safe_targets: Vec<u16> = out.rows.iter().map(|r| r.targets_bps[2]).collect();
    let peak = *safe_targets.iter().max().unwrap();
    assert!(peak > 6_500, "safe asset target rose as value fell: {safe_targets:?}");
    assert!(*safe_targets.last().unwrap() < peak - 2_000, "and fell back as value recovered: {safe_targets:?}");
    assert!(out.rebalances >= 4);
}

#[tokio::test]
async fn demo_schedule_mode_reaches_the_new_weights() {
    let out = run_mode(DemoMode::Schedule).await;
    assert_eq!(out.report.targets_bps, vec![2_000, 4_000, 4_000]);
    let firsts: Vec<u16> = out.rows.iter().map(|r| r.targets_bps[0]).collect();
    assert!(firsts.windows(2).all(|w| w[1] <= w[0]), "SOL's target only moves down: {firsts:?}");
    assert!(out.rebalances >= 2);
}

#[tokio::test]
async fn demo_with_flash_routes_rebalances_like_the_direct_route() {
    let mut buf = Vec::new();
    let opts = DemoOptions {
        json: true,
        mode: DemoMode::Fixed,
        route: ballast_client::RouteMode::Flash,
        ..Default::default()
    };
    let flash = demo::run(&opts, &mut buf).await.expect("demo --route flash");
    assert!(flash.rebalances >= 1);
    let direct = run_mode(DemoMode::Fixed).await;
    assert_eq!(flash.rebalances, direct.rebalances);
    assert_eq!(flash.report.holdings, direct.report.holdings, "same pool, same trades, same result");
    let last = String::from_utf8(buf).unwrap();
    assert!(last.trim_end().lines().last().unwrap().contains("\"route\":\"flash\""));
}

/// `demo --amm raydium|orca --json`: the whole flow with the vault's pools on the real Raydium CPMM and
/// Orca Whirlpool programs; the keeper rebalances through them and every asset ends inside its band.
#[tokio::test]
async fn demo_rebalances_through_the_real_dex_programs() {
    use ballast_harness::dex::Amm;
    for amm in [Amm::Raydium, Amm::Orca] {
        let mut buf = Vec::new();
        let opts = DemoOptions { json: true, mode: DemoMode::Fixed, amm, ..Default::default() };
        let out = demo::run(&opts, &mut buf).await.expect("demo --amm");
        assert!(out.rebalances >= 1, "{amm:?}");
        for (i, d) in out.report.drift_bps.iter().enumerate() {
            assert!(d.unsigned_abs() <= out.report.bands_bps[i] as u64, "{amm:?} asset {i} drift {d}");
        }
        let last = String::from_utf8(buf).unwrap();
        assert!(last.trim_end().lines().last().unwrap().contains(&format!("\"amm\":\"{}\"", amm.name())));
    }
}

/// The price path's table shows every amount in token units with the token's decimals and symbol, and read
/// back as a person reads it, what a trade received is worth about what it sold.
#[tokio::test]
async fn demo_trade_amounts_read_in_token_units() {
    use ballast_client::describe::tokens;
    let mut buf = Vec::new();
    let out = demo::run(&DemoOptions { json: false, mode: DemoMode::Fixed, ..Default::default() }, &mut buf)
        .await
        .expect("demo");
    let text = String::from_utf8(buf).unwrap();
    let symbols = &out.report.symbols;
    let decimals = |i: usize| match symbols[i].as_str() {
        "SOL" => 9,
        "BTC" => 8,
        "USDC" => 6,
        other => panic!("unknown demo asset {other}"),
    };
    let shown = |amount: u64, i: usize| tokens(amount.into(), decimals(i), &symbols[i]);
    let number = |s: &str| s.split(' ').next().unwrap().parse::<f64>().unwrap();
    let mut trades = 0;
    for row in out.rows.iter().filter(|r| r.action.starts_with("sell")) {
        let (sell, buy) = (row.sell_index.expect("a trade's sold asset"), row.buy_index.expect("its bought asset"));
        let (amount_in, min_out, received) =
            (shown(row.amount_in, sell), shown(row.min_out, buy), shown(row.received, buy));
        let line = text
            .lines()
            .find(|l| l.contains(&row.action) && l.contains(&received))
            .unwrap_or_else(|| panic!("no row shows {received} for {}:\n{text}", row.action));
        assert!(line.contains(&amount_in) && line.contains(&min_out), "{line}");
        let (sold, got) = (number(&amount_in) * row.prices[sell], number(&received) * row.prices[buy]);
        assert!((got / sold - 1.0).abs() < 0.05, "${got:.2} received for ${sold:.2} sold: {line}");
        trades += 1;
    }
    assert!(trades >= 1, "the fixed path trades");
    let holds: Vec<&str> = text.lines().filter(|l| l.contains("hold (inside bands)")).collect();
    assert!(holds.iter().all(|l| l.trim_end().ends_with('-')), "a hold shows no amounts: {holds:#?}");
}
