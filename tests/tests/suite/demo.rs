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
    the_exit_adds_up(&out, &v);
}

/// Bob leaves entirely in USDC: the printed numbers add up. What he receives is the shares' value less the fee
/// (20 bps of the value at the quote used), the trade charge (105 bps of the buy-back, USDC's shortfall under
/// its target after the payout) and the confidence haircut worked out from the published intervals.
fn the_exit_adds_up(out: &demo::DemoOutcome, v: &serde_json::Value) {
    let e = out.exit.as_ref().expect("the demo's single-asset exit");
    assert_eq!((e.who.as_str(), e.asset.as_str(), e.asset_index), ("Bob", "USDC", 2));
    assert!(e.shares > 0 && e.value > 0);
    assert_eq!(e.shares_after, 0, "Bob holds no shares afterwards");
    assert_eq!(e.delay_secs, ballast_client::default_params().deposit_delay_secs);
    assert_eq!(e.amount_received, e.amount_out, "USDC charges no transfer fee");
    let by_hand = e.value as i64 - e.fee as i64 - e.trade_charge as i64 - e.haircut as i64;
    assert!(
        (e.received_value as i64 - by_hand).abs() <= 10_000,
        "received ${} against ${} by hand: {e:#?}",
        e.received_value as f64 / 1e6,
        by_hand as f64 / 1e6
    );
    assert_eq!(e.trade_cost_bps, 105);
    assert_eq!(e.trade_charge as u128, (e.traded_value as u128 * 105).div_ceil(10_000), "charge = traded × 105 bps");
    assert_eq!((e.fee_bps, e.fee as u128), (20, (e.value_used as u128 * 20).div_ceil(10_000)), "fee = 20 bps × value");
    assert!(e.shortfall_after > 0 && e.traded_value.abs_diff(e.shortfall_after) <= 10_000, "{e:#?}");
    // About 0.05 % of the value twice (the vault valued low, USDC paid high); the quote used is the low one.
    assert!((0.0009..0.0011).contains(&(e.haircut as f64 / e.value as f64)), "{e:#?}");
    assert!(e.value_used < e.value && (e.value - e.value_used).abs_diff(e.haircut_vault) <= 1_000, "{e:#?}");
    // The vault kept the fee and the charge, and the keeper bought USDC back.
    assert_eq!(e.reserve_after, e.reserve_before - e.amount_out);
    assert!(!e.buy_back.is_empty() && e.buy_back.iter().all(|r| r.buy_index == Some(2)), "{:#?}", e.buy_back);
    // No dust trade: the keeper waits for the trade that clears later rather than sell an asset already at its
    // target for a few units (it bought 0.04 and 0.000075 USDC that way).
    assert!(e.buy_back.iter().all(|r| r.received >= 1_000_000), "{:#?}", e.buy_back);
    assert_eq!(v["exit"]["amount_received"].as_u64(), Some(e.amount_received));
    assert_eq!(v["exit"]["shares_after"].as_u64(), Some(0));
    assert_eq!(v["exit"]["traded_value"].as_u64(), Some(e.traded_value));
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
    // The exit's section shows what Bob received in USDC, and the delay the vault really has.
    let exit = out.exit.as_ref().expect("the demo's exit");
    let received = format!("= Bob receives {}", tokens(exit.amount_received.into(), 6, "USDC"));
    assert!(text.contains(&received), "{received} not in:\n{text}");
    assert!(text.contains(&format!("after the {} s delay", exit.delay_secs)), "{text}");
    let holds: Vec<&str> = text.lines().filter(|l| l.contains("hold (inside bands)")).collect();
    assert!(holds.iter().all(|l| l.trim_end().ends_with('-')), "a hold shows no amounts: {holds:#?}");
}

/// `demo --assets N` (here 24, the same code as the documented `--assets 64`): a large vault's whole flow
/// valued from the cache ends with the trade made, the holder's claim redeemed in full and every instruction
/// within the heap frame; out of range is refused with the reason.
#[tokio::test]
async fn the_large_vault_demo_runs_the_whole_flow() {
    use ballast_harness::dex::Amm;
    let mut buf = Vec::new();
    let out = demo::large::run_large(24, Amm::Reference, true, &mut buf).await.expect("large demo");
    assert_eq!(out.assets, 24);
    assert_eq!(out.vault_bytes, ballast::state::Vault::space(24));
    assert_eq!(out.transactions_per_valuation, 1, "24 refreshes and the poke fit one transaction");
    let (sell, buy, sold, bought) = out.trade.expect("the keeper traded");
    assert_eq!((sell, buy), (0, 2));
    assert!(sold > 0 && bought > 0);
    // Half the seed (nearly every share) of a vault of ~$10 250 after the shock, less the exit fee.
    assert!(out.owed_usd > 4_900.0 && out.owed_usd < 5_200.0, "half of the vault: {}", out.owed_usd);
    assert!(out.redeemed);
    assert!(out.heap_max.1 > 0 && out.heap_max.1 <= ballast::heap::HEAP_BYTES, "{:?}", out.heap_max);
    let json = String::from_utf8(buf).unwrap();
    assert!(json.trim_end().lines().last().unwrap().starts_with('{'), "one JSON line: {json}");
    let e = demo::large::run_large(16, Amm::Reference, true, &mut Vec::new()).await.unwrap_err();
    assert!(e.to_string().contains("between 17 and 128"), "{e}");
}
