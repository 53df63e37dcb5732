//! The simulator's correctness checks at small sizes (full runs are documented in the README).

use ballast_sim::paths::{self, Path2};
use ballast_sim::{self as sim, SimConfig, Strategy};

fn volatile_path(steps: usize, seed: u64) -> Path2 {
    // Daily steps, 150 % / 120 % annual volatility: drift accumulates fast.
    paths::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[1.5, 1.2, 0.0], 0.3, steps, 86_400.0, seed)
}

fn cfg(fee_bps: u16) -> SimConfig {
    // The slippage cap must leave room for the pool fee, or the program refuses every swap.
    SimConfig { dt_secs: 86_400, fee_bps, slippage_cap_bps: fee_bps + 100, ..Default::default() }
}

#[tokio::test]
async fn deterministic_for_a_seed() {
    let p = volatile_path(12, 3);
    let a = sim::run_strategy(Strategy::Band { eps_bps: 200 }, &p, &cfg(30)).await.unwrap();
    let b = sim::run_strategy(Strategy::Band { eps_bps: 200 }, &p, &cfg(30)).await.unwrap();
    assert_eq!(a.final_value_usd, b.final_value_usd);
    assert_eq!(a.total_cost_usd, b.total_cost_usd);
    assert_eq!(a.rebalances, b.rebalances);
    assert!(a.rebalances > 0);
}

#[tokio::test]
async fn zero_fees_and_a_tiny_band_track_the_target() {
    let p = volatile_path(20, 5);
    let hold = sim::run_strategy(Strategy::BuyAndHold, &p, &cfg(0)).await.unwrap();
    let tight = sim::run_strategy(Strategy::Band { eps_bps: 50 }, &p, &cfg(0)).await.unwrap();
    assert!(
        tight.tracking_error_bps < hold.tracking_error_bps / 3.0,
        "tight band TE {} vs buy-and-hold {}",
        tight.tracking_error_bps,
        hold.tracking_error_bps
    );
    assert_eq!(hold.rebalances, 0);
    assert_eq!(hold.total_cost_usd, 0.0);
}

#[tokio::test]
async fn with_high_fees_a_wider_band_costs_less() {
    let p = volatile_path(20, 5);
    let narrow = sim::run_strategy(Strategy::Band { eps_bps: 100 }, &p, &cfg(200)).await.unwrap();
    let wide = sim::run_strategy(Strategy::Band { eps_bps: 1_000 }, &p, &cfg(200)).await.unwrap();
    assert!(
        narrow.total_cost_usd > wide.total_cost_usd,
        "narrow {} vs wide {}",
        narrow.total_cost_usd,
        wide.total_cost_usd
    );
    assert!(narrow.rebalances > wide.rebalances);
}

#[tokio::test]
async fn shipped_example_csv_drives_a_run() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/data/example_prices.csv");
    let p = paths::read_csv(&file, &sim::SYMBOLS).unwrap();
    assert_eq!(p.len(), 241);
    let short: Path2 = p[..6].to_vec();
    let results =
        sim::run(&[Strategy::BuyAndHold, Strategy::Band { eps_bps: 300 }], &short, &SimConfig::default(), |_| {})
            .await
            .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].vs_buy_and_hold_pct, 0.0);
    assert_eq!(results[1].steps.len(), 6);
}

#[tokio::test]
async fn higher_fees_move_the_best_band_wider() {
    use ballast_sim::tune::{self, TuneConfig};
    let base = TuneConfig {
        paths: 1,
        steps: 15,
        eps_grid: vec![50, 400, 1_500],
        vol_refs: vec![],
        risk_aversion: 20.0,
        ..Default::default()
    };
    let cheap = tune::tune(&TuneConfig { fee_bps: 0, ..base.clone() }, |_| {}).await.unwrap();
    let dear = tune::tune(&TuneConfig { fee_bps: 200, ..base.clone() }, |_| {}).await.unwrap();
    let (b0, b1) = (tune::recommend(&cheap).unwrap().eps_bps, tune::recommend(&dear).unwrap().eps_bps);
    assert!(
        b1 > b0,
        "best band with 0 bps fees {b0}, with 200 bps fees {b1}\n{}\n{}",
        tune::render(&cheap),
        tune::render(&dear)
    );
    assert!(cheap.iter().any(|p| p.on_frontier));
}

#[tokio::test]
async fn the_flash_route_simulates_to_the_same_figures() {
    let p = volatile_path(12, 3);
    let direct = sim::run_strategy(Strategy::Band { eps_bps: 200 }, &p, &cfg(30)).await.unwrap();
    let flash_cfg = SimConfig { route: ballast_client::RouteMode::Flash, ..cfg(30) };
    let flash = sim::run_strategy(Strategy::Band { eps_bps: 200 }, &p, &flash_cfg).await.unwrap();
    assert!(direct.rebalances > 0);
    assert_eq!(flash.rebalances, direct.rebalances);
    assert_eq!(flash.final_value_usd, direct.final_value_usd);
    assert_eq!(flash.total_cost_usd, direct.total_cost_usd);
}

#[tokio::test]
async fn the_cost_optimal_band_mode_runs_through_the_simulator() {
    let p = volatile_path(12, 4);
    // A cheap route and a risk-averse vault: bands of a few percent, which this path crosses.
    let r = sim::run_strategy(Strategy::CostOptimal { cost_bps: 10, risk_aversion_milli: 5_000 }, &p, &cfg(30))
        .await
        .unwrap();
    assert_eq!(r.steps.len(), 13);
    assert!(r.steps.iter().all(|s| s.targets_bps.iter().map(|t| *t as u64).sum::<u64>() == 10_000));
    // The objective the band minimises (docs/bands.md): a year's cost plus λ·TE%², whatever the horizon.
    assert!(r.cost_bps_of_nav > 0.0, "the volatile path makes the vault trade");
    assert!((r.cost_bps_a_year - r.cost_bps_of_nav * 365.0 / 12.0).abs() < 1e-9 * r.cost_bps_a_year.max(1.0));
    let te = r.tracking_error_bps / 100.0;
    assert!((sim::objective(&r, 2.0) - (r.cost_bps_a_year + 2.0 * te * te)).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulations_run_in_parallel_give_the_same_results_in_order() {
    let p = std::sync::Arc::new(volatile_path(10, 5));
    let jobs: Vec<_> = [Strategy::Band { eps_bps: 100 }, Strategy::BuyAndHold, Strategy::Band { eps_bps: 400 }]
        .into_iter()
        .map(|s| (s, p.clone()))
        .collect();
    let one = sim::run_jobs(jobs.clone(), &cfg(30), 1, |_| {}).await.unwrap();
    let three = sim::run_jobs(jobs, &cfg(30), 3, |_| {}).await.unwrap();
    let key = |r: &sim::StrategyResult| (r.strategy.clone(), r.rebalances, r.final_value_usd, r.total_cost_usd);
    assert_eq!(one.iter().map(key).collect::<Vec<_>>(), three.iter().map(key).collect::<Vec<_>>());
    assert_eq!(one[1].strategy, Strategy::BuyAndHold.name());
    assert!(one[0].rebalances > one[2].rebalances, "the narrow band trades more");
}

#[tokio::test]
async fn a_simulation_that_fails_fails_the_batch_with_its_error() {
    // A band of 0 bps is below the program's minimum: that simulation's vault is refused at creation. The
    // batch reports that refusal (not a hang, a panic or a missing row) while the other jobs run on their
    // own threads.
    let p = std::sync::Arc::new(volatile_path(5, 2));
    let jobs: Vec<_> = [Strategy::Band { eps_bps: 300 }, Strategy::Band { eps_bps: 0 }, Strategy::BuyAndHold]
        .into_iter()
        .map(|s| (s, p.clone()))
        .collect();
    let err = sim::run_jobs(jobs, &cfg(30), 2, |_| {}).await.expect_err("a refused vault fails its simulation");
    assert!(format!("{err:#}").contains("BandOutOfBounds"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_band_comparison_reports_every_setting_against_the_best_fixed_band() {
    use ballast_sim::study::{self, PathKind, StudyConfig};
    let cfg = StudyConfig { seeds: 2, steps: 10, fixed_grid: vec![200, 1_000], threads: 2, ..Default::default() };
    let out = study::compare_bands(&cfg, &[PathKind::Gbm { rho: 0.5 }, PathKind::Regime], |_| {}).await.unwrap();
    assert_eq!(out.len(), 2);
    for c in &out {
        assert_eq!(c.seeds, 2);
        let names: Vec<&str> = c.rows.iter().map(|r| r.setting.as_str()).collect();
        assert_eq!(names.len(), 4, "two fixed bands, the linear volatility band, the cost-optimal band: {names:?}");
        assert!(names[3].starts_with("cost-opt"));
        let best = c.rows.iter().find(|r| r.setting == c.best_fixed).expect("the best fixed band is a row");
        assert!(c.rows[..2].iter().all(|r| r.j.mean >= best.j.mean));
        assert_eq!((best.vs_best_fixed.mean, best.vs_best_fixed.se), (0.0, 0.0));
        assert!(c.rows.iter().all(|r| r.j.se.is_finite() && r.j.se >= 0.0));
        assert_eq!(c.cost_optimal_beats_every_fixed, c.rows[..2].iter().all(|r| c.rows[3].j.mean < r.j.mean));
        // Paired differences to each fixed band: their means are the differences of the means.
        assert_eq!(c.cost_optimal_vs_each_fixed.len(), 2);
        for (k, (name, d)) in c.cost_optimal_vs_each_fixed.iter().enumerate() {
            assert_eq!(name, &c.rows[k].setting);
            assert!((d.mean - (c.rows[3].j.mean - c.rows[k].j.mean)).abs() < 1e-9);
        }
        // The per-seed hindsight best is never worse than the best on average.
        assert_eq!(c.best_fixed_per_seed.len(), 2);
        assert!(c.cost_optimal_vs_per_seed_best.mean >= c.rows[3].vs_best_fixed.mean - 1e-9);
        assert!(study::render_comparison(c).contains("best fixed (hindsight)"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exponent_fit_reports_a_slope_inside_its_bootstrap_interval() {
    use ballast_sim::study::{self, StudyConfig};
    let cfg = StudyConfig { seeds: 2, steps: 10, threads: 2, ..Default::default() };
    // x = the proportional cost, fee + the 5 bps bounty.
    let variants: Vec<_> = [10u16, 150].iter().map(|f| (f64::from(*f + 5), cfg.sim(*f, 1e9), 1.0)).collect();
    let cost: &dyn Fn(&ballast_sim::SimConfig) -> u16 = &study::cost_estimate_bps;
    let f = study::fit(&cfg, "cost", Some(cost), &variants, &[100, 400, 1_600], &mut |_| {}).await.unwrap();
    assert_eq!(f.points.len(), 2);
    // The derivation's bands for c = 15 and 155 bps, by hand: per asset (3·c·(t(1 − t))²)^(1/3) less the
    // daily overshoot 0.5826·t·σ_rel·√(1/365) (σ_rel 39.9 / 34.3 / 45.2 % on these paths), averaged.
    for (k, c) in [0.0015f64, 0.0155].iter().enumerate() {
        let by_hand: f64 = [(0.4f64, 0.399f64), (0.3, 0.343), (0.3, 0.452)]
            .iter()
            .map(|(t, rel)| {
                (3.0 * c * (t * (1.0 - t)).powi(2)).cbrt() * 1e4 - 0.5826 * t * rel * (1.0f64 / 365.0).sqrt() * 1e4
            })
            .sum::<f64>()
            / 3.0;
        assert!((f.predicted[k] - by_hand).abs() <= 3.0, "{:?} vs {by_hand}", f.predicted);
    }
    // A fixed overshoot makes the band grow a little faster than the cube root of the cost.
    assert!(f.theory > 1.0 / 3.0 && f.theory < 0.4, "{} {:?}", f.theory, f.predicted);
    assert!(f.corrected_ci95.0 <= f.corrected_slope + 1e-9 && f.corrected_slope <= f.corrected_ci95.1 + 1e-9);
    assert!(f.points.iter().all(|(_, e)| (100.0..=1_600.0).contains(e)));
    assert!(f.ci95.0 <= f.slope + 1e-9 && f.slope <= f.ci95.1 + 1e-9, "{f:?}");
    assert!(study::render_fit(&f).contains("bootstrap interval"));
}

/// Three keepers (a flash arbitrageur on the pool, a bot on the whitelisted pool, a market maker) race for
/// every rebalance against the auction: the vault is paid within 10 bps of the best route's output at the
/// band crossing (median), every winner's profit covers its fees, and the winner is never paid below the
/// program's floor.
#[tokio::test]
async fn competing_keepers_pay_the_vault_close_to_the_best_route() {
    let p = volatile_path(20, 3);
    let run = sim::competition::run(&p, &cfg(30), sim::competition::default_keepers(3)).await.unwrap();
    assert!(run.trades.len() >= 2, "{}", sim::competition::render(&run, &sim::SYMBOLS));
    assert!(run.median_gap_bps <= 10.0, "{}", sim::competition::render(&run, &sim::SYMBOLS));
    for t in &run.trades {
        assert!(t.keeper_profit_usd >= 0.0, "{t:?}");
        assert!(t.gap_bps < 30.0, "{t:?}");
    }
    let winners: std::collections::BTreeSet<&str> = run.trades.iter().map(|t| t.winner.as_str()).collect();
    assert!(!winners.is_empty());
    // competition.json names the time each auction had run, not the vault's `auction_secs` (its duration).
    let json = serde_json::to_value(&run.trades[0]).unwrap();
    assert!(json.get("auction_elapsed_secs").is_some() && json.get("auction_secs").is_none(), "{json}");
}

/// `--fits volatility` runs that fit alone: three volatility scales, each point searched over the fit grid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exponent_study_runs_only_the_fits_asked_for() {
    use ballast_sim::study::{self, FitKind, StudyConfig, FIT_GRID};
    let cfg = StudyConfig { seeds: 2, steps: 6, threads: 2, ..Default::default() };
    let fits = study::fit_exponents(&cfg, &[FitKind::Volatility], |_| {}).await.unwrap();
    assert_eq!(fits.len(), 1);
    let f = &fits[0];
    assert_eq!(f.what, "volatility, deep pools");
    assert_eq!(f.points.iter().map(|(x, _)| *x).collect::<Vec<_>>(), vec![0.5, 1.0, 2.0]);
    let (lo, hi) = (f64::from(FIT_GRID[0]), f64::from(FIT_GRID[FIT_GRID.len() - 1]));
    assert!(f.points.iter().all(|(_, e)| (lo..=hi).contains(e)), "{:?}", f.points);
    assert_eq!(f.predicted.len(), 3);
}

/// The simulator's chain: with `slots_follow_time` off a day passes without a new slot, and a message sent
/// twice is processed twice (the second time one slot on, with the new slot's blockhash, the clock's time
/// unchanged).
#[tokio::test]
async fn a_chain_whose_slots_do_not_follow_time_moves_the_clock_only() {
    use anchor_lang::prelude::Pubkey;
    use solana_signer::Signer;
    let mut chain = ballast_harness::chain::Chain::start().await;
    chain.slots_follow_time = false;
    let before = chain.clock().await;
    chain.advance_time(86_400).await;
    let after = chain.clock().await;
    assert_eq!(after.slot, before.slot);
    assert_eq!(after.unix_timestamp, before.unix_timestamp + 86_400);
    let to = Pubkey::new_unique();
    let ix = anchor_lang::solana_program::system_instruction::transfer(&chain.payer().pubkey(), &to, 1_000_000_000);
    chain.send(std::slice::from_ref(&ix), &[]).await.unwrap();
    chain.send(&[ix], &[]).await.unwrap();
    assert_eq!(chain.account(&to).await.unwrap().lamports, 2_000_000_000);
    let again = chain.clock().await;
    assert_eq!(again.slot, after.slot + 1);
    assert_eq!(again.unix_timestamp, after.unix_timestamp);
}

/// `ballast simulate --flows`, briefly, as the command line runs it: the flows' table follows the comparison,
/// `results.json` carries each strategy's flow figures (within their bounds: the single-asset fee at least,
/// the fee plus the whole trade cost at most) and `flows.csv` every flow; without `--flows` neither appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_with_flows_reports_them_in_the_table_and_the_json() {
    use ballast_app::cli::simulate::SimulateArgs;
    let dir = std::env::temp_dir().join(format!("ballast-simulate-flows-{}", std::process::id()));
    let run = |flows: bool| {
        let out = dir.join(if flows { "flows" } else { "plain" }).to_string_lossy().to_string();
        let mut flags = vec!["--steps".to_string(), "8".into(), "--flow-pct".into(), "4".into(), "--out".into(), out];
        if flows {
            flags.push("--flows".into());
        }
        async move {
            let mut text = Vec::new();
            SimulateArgs::parse_flags(&flags).unwrap().run_to(&mut text).await.unwrap();
            String::from_utf8(text).unwrap()
        }
    };
    let text = run(true).await;
    for column in ["by flows $", "by trades $", "flows %", "entry paid", "exit paid", "resized", "in kind"] {
        assert!(text.contains(column), "{column} missing:\n{text}");
    }
    assert!(text.contains("asset picked mixed"), "{text}");
    let file = dir.join("flows/results.json");
    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let params = ballast_client::default_params();
    let most_bps = f64::from(params.deposit_fee_bps + params.trade_cost_bps);
    for r in results.as_array().unwrap() {
        let (name, f) = (r["strategy"].as_str().unwrap(), &r["flows"]);
        let rows = text.lines().filter(|l| l.starts_with(&format!("{name} "))).count();
        assert_eq!(rows, 2, "{name}: a row in each table\n{text}");
        let num = |key: &str| f[key].as_f64().unwrap_or_else(|| panic!("{name}: no {key} in {f}"));
        assert!(num("deposits") + num("exits") > 0.0, "{f}");
        assert!(num("drift_added_usd").is_finite() && num("drift_removed_by_flows_usd").is_finite(), "{f}");
        assert!((0.0..=100.0).contains(&num("flows_share_pct")), "{f}");
        for side in ["entrants", "leavers"] {
            let bps = num(&format!("{side}_paid_bps"));
            assert!(bps >= f64::from(params.deposit_fee_bps) - 0.01 && bps <= most_bps, "{side} paid {bps} bp: {f}");
            let parts = num(&format!("{side}_fees_usd")) + num(&format!("{side}_trade_charges_usd"));
            assert!((num(&format!("{side}_paid_usd")) - parts).abs() < 1e-6, "{f}");
        }
        assert!(num("exits_resized") >= 0.0 && num("exits_in_kind") >= 0.0 && num("refused") == 0.0, "{f}");
        if name == "buy-and-hold" {
            // No trade removes anything: the flows did all the removing, or added drift on balance.
            let share = if num("drift_removed_by_flows_usd") > 0.0 { 100.0 } else { 0.0 };
            assert_eq!((num("drift_removed_by_trades_usd"), num("flows_share_pct")), (0.0, share), "{f}");
        }
    }
    let csv = std::fs::read_to_string(dir.join("flows/flows.csv")).unwrap();
    assert!(csv.starts_with("strategy,step,kind,asset,") && csv.lines().count() > 7, "{csv}");
    let plain = run(false).await;
    assert!(!plain.contains("by flows $"), "{plain}");
    let results = std::fs::read_to_string(dir.join("plain/results.json")).unwrap();
    assert!(!results.contains("\"flows\"") && !dir.join("plain/flows.csv").exists());
    std::fs::remove_dir_all(&dir).ok();
}
