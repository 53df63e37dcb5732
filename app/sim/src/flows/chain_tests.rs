//! Flows through the real instructions on the embedded chain: the drift they remove, what the settlements
//! charged (checked against the program's fee and trade-charge arithmetic), and the exits refused as too large.

use crate::flows::{AssetPick, FlowConfig, FlowRecord, FlowSummary};
use crate::paths::{self, Path2};
use crate::{run_strategy, SimConfig, Strategy, StrategyResult};

/// Daily steps, 150 % / 120 % a year: drift accumulates fast.
fn volatile(steps: usize) -> Path2 {
    paths::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[1.5, 1.2, 0.0], 0.3, steps, 86_400.0, 3)
}

fn cfg(flows: FlowConfig) -> SimConfig {
    SimConfig { dt_secs: 86_400, flows: Some(flows), ..Default::default() }
}

fn micro(usd: f64) -> u128 {
    (usd * 1e6).round() as u128
}

/// Every settled flow's charges are the program's: the fee `⌈value·fee_bps⌉`, the trade charge
/// `⌈traded·trade_cost_bps⌉` (at most what the fee leaves), in micro-USD; the totals are their sums.
fn check_charges(f: &FlowSummary) {
    let params = ballast_client::default_params();
    let (fee_bps, cost_bps) = (params.deposit_fee_bps as u128, params.trade_cost_bps as u128);
    let settled = |kind: &'static str| f.records.iter().filter(move |r| r.kind == kind);
    for r in settled("deposit").chain(settled("exit")) {
        let (value, traded) = (micro(r.value_usd), micro(r.traded_value_usd));
        let fee = (value * fee_bps).div_ceil(10_000);
        assert_eq!(micro(r.fee_usd), fee, "{r:?}");
        assert_eq!(micro(r.trade_charge_usd), (traded * cost_bps).div_ceil(10_000).min(value - fee), "{r:?}");
    }
    let paid = |kind| settled(kind).map(|r: &FlowRecord| r.fee_usd + r.trade_charge_usd).sum::<f64>();
    assert!((f.leavers_paid_usd - paid("exit")).abs() < 1e-6, "{} vs {}", f.leavers_paid_usd, paid("exit"));
    assert!((f.entrants_paid_usd - paid("deposit")).abs() < 1e-6);
    assert!((f.leavers_paid_usd - f.leavers_fees_usd - f.leavers_trade_charges_usd).abs() < 1e-6);
    assert_eq!((f.deposits, f.exits), (settled("deposit").count(), settled("exit").count()));
    if f.withdrawn_usd > 0.0 {
        assert!((f.leavers_paid_bps - f.leavers_paid_usd / f.withdrawn_usd * 1e4).abs() < 1e-9);
    }
}

/// Each step's net flow is what its records moved.
fn check_steps(r: &StrategyResult, f: &FlowSummary) {
    for s in &r.steps {
        let moved: f64 = f.records.iter().filter(|x| x.step == s.step).map(|x| x.nav_change_usd).sum();
        assert!((s.flow_usd - moved).abs() < 1e-6, "step {}: {} vs {moved}", s.step, s.flow_usd);
    }
}

#[tokio::test]
async fn smart_flows_remove_drift_for_free_and_pay_what_the_settlements_report() {
    let path = volatile(12);
    let flows = FlowConfig { rate_pct: 6.0, per_step: 2, pick: AssetPick::Smart, ..Default::default() };
    let hold = run_strategy(Strategy::BuyAndHold, &path, &cfg(flows)).await.unwrap();
    let f = hold.flows.as_ref().expect("flows reported");
    assert!(f.deposits > 0 && f.exits > 0, "{f:?}");
    assert!(f.drift_removed_by_flows_usd > 0.0, "{f:?}");
    assert_eq!((f.drift_removed_by_trades_usd, f.flows_share_pct), (0.0, 100.0), "buy-and-hold never trades");
    // The smart entrant fills a shortfall: no trade to charge for while the ticket fits inside it.
    assert!(f.records.iter().filter(|r| r.kind == "deposit").any(|r| r.trade_charge_usd == 0.0), "{f:?}");
    check_charges(f);
    check_steps(&hold, f);
    assert_eq!(f.refused, 0, "{:?}", f.refused_by);
    // The same tickets on a trading strategy: the flows take part of the work, the trades the rest.
    let band = run_strategy(Strategy::Band { eps_bps: 200 }, &path, &cfg(flows)).await.unwrap();
    let g = band.flows.as_ref().unwrap();
    assert!(g.drift_removed_by_flows_usd > 0.0 && g.drift_removed_by_trades_usd > 0.0, "{g:?}");
    assert!(g.flows_share_pct > 0.0 && g.flows_share_pct < 100.0);
    check_charges(g);
    // Deterministic for a seed; without flows nothing is reported and no step moves.
    let again = run_strategy(Strategy::Band { eps_bps: 200 }, &path, &cfg(flows)).await.unwrap();
    assert_eq!((again.final_value_usd, again.rebalances), (band.final_value_usd, band.rebalances));
    let plain = SimConfig { dt_secs: 86_400, ..Default::default() };
    let none = run_strategy(Strategy::BuyAndHold, &path, &plain).await.unwrap();
    assert!(none.flows.is_none() && none.steps.iter().all(|s| s.flow_usd == 0.0));
}

#[tokio::test]
async fn a_payout_refused_as_too_large_is_asked_again_for_what_fits_and_the_rest_goes_in_kind() {
    // Large stablecoin exits: USDC runs out of room below its target and the program refuses.
    let flows = FlowConfig { rate_pct: 60.0, per_step: 4, exit_share: 0.9, pick: AssetPick::Stable, seed: 1 };
    let hold = run_strategy(Strategy::BuyAndHold, &volatile(10), &cfg(flows)).await.unwrap();
    let f = hold.flows.as_ref().unwrap();
    assert!(f.exits_resized + f.exits_in_kind > 0, "{f:?}");
    assert_eq!(f.refused, 0, "{:?}", f.refused_by);
    let resized: Vec<&FlowRecord> = f.records.iter().filter(|r| r.resized).collect();
    assert_eq!(resized.len(), f.exits_resized);
    assert!(f.records.iter().filter(|r| r.kind == "in-kind").count() >= f.exits_in_kind);
    assert!(f.in_kind_usd > 0.0, "the rest of a refused exit leaves in kind");
    check_charges(f);
    check_steps(&hold, f);
}
