//! Volatility-scaled bands, gradual weight schedules and the CPPI target mode, through the program.

use ballast::errors::BallastError;
use ballast::instructions::ScheduleWeightsArgs;
use ballast::math::adaptive::{scheduled_targets, WeightSchedule};
use ballast::state::{BandMode, TargetMode, VaultParams};
use ballast_client as client;
use ballast_harness::chain::Chain;
use ballast_harness::fixture;
use ballast_tests::*;
use solana_signer::Signer;

fn vol_params() -> VaultParams {
    let mut p = fixture::default_params();
    // A 10-minute time constant: the estimate may grow at most ×2.5 per minute-apart sample, enough for a
    // 16-minute stress burst to reach the band cap.
    p.vol_tau_secs = 600;
    p.band_mode =
        BandMode::VolatilityScaled { reference_vol_bps: 5_000, min_bps: 400, max_bps: 2_500, conf_multiplier: 0 };
    p
}

/// A stress burst (SOL and BTC swinging ±8 % a minute, read by `poke`), then SOL +35 %.
async fn stress_then_rally(m: &mut Market) {
    for k in 0..16 {
        let pct = if k % 2 == 0 { 8 } else { -8 };
        m.move_price_after(0, pct, 60).await;
        m.move_price_after(1, -pct, 0).await;
        m.poke().await;
    }
    m.move_price(0, 35).await;
}

#[tokio::test]
async fn stress_widens_the_band_and_refuses_what_a_fixed_band_allows() {
    let mut m = Market::with(Chain::start().await, vol_params()).await;
    let calm = m.fx.report(&mut m.chain).await.unwrap();
    assert_eq!(calm.bands_bps, vec![400, 400, 400], "no volatility yet: every band at its minimum");
    stress_then_rally(&mut m).await;
    let stressed = m.fx.report(&mut m.chain).await.unwrap();
    assert_eq!(stressed.bands_bps[0], 2_500, "SOL's band widened to the cap");
    assert_eq!(stressed.bands_bps[2], 400, "USDC did not move: its band stays at the minimum");
    assert!(stressed.drift_bps[0] > 500, "SOL drifted past its fixed 5 % band: {}", stressed.drift_bps[0]);
    assert!(stressed.drift_bps[2].unsigned_abs() < 400);
    assert_ballast_err(m.rebalance(0, 2, u64::MAX, 0).await, BallastError::RebalanceNotNeeded);
    let vol = m.fx.state(&mut m.chain).await.assets[0].vol;
    assert!(vol.var_per_sec_e18 > 0 && vol.last_time > 0);

    // The same path with fixed bands: the trade goes through.
    let mut fixed = Market::new().await;
    stress_then_rally(&mut fixed).await;
    fixed.rebalance(0, 2, u64::MAX, 0).await.unwrap();
}

#[tokio::test]
async fn band_mode_bounds_checked() {
    let mut chain = Chain::start().await;
    let payer = chain.payer();
    let mut p = vol_params();
    p.band_mode = BandMode::VolatilityScaled { reference_vol_bps: 0, min_bps: 400, max_bps: 2_500, conf_multiplier: 0 };
    let args = ballast::instructions::InitializeVaultArgs {
        vault_id: 1,
        governance: payer.pubkey(),
        guardian: Default::default(),
        params: p,
    };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), args.clone())], &[]).await,
        BallastError::BandModeOutOfBounds,
    );
    let mut p = fixture::default_params();
    p.vol_tau_secs = 10;
    let a = ballast::instructions::InitializeVaultArgs { params: p, ..args.clone() };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await,
        BallastError::VolTauOutOfBounds,
    );
    let mut p = fixture::default_params();
    p.target_mode =
        TargetMode::Cppi { safe_index: 2, multiplier_bps: 0, max_risky_bps: 8_000, floor_per_share: 1, ratchet_bps: 0 };
    let a = ballast::instructions::InitializeVaultArgs { params: p, ..args };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await,
        BallastError::CppiOutOfBounds,
    );
}

#[tokio::test]
async fn scheduled_weight_change_is_followed_gradually() {
    let mut params = fixture::default_params();
    params.timelock_secs = 60;
    let mut m = Market::with(Chain::start().await, params).await;
    let gov = m.fx.governance.pubkey();
    let slot = m.chain.clock().await.slot;
    let (start, end) = (slot + 400, slot + 2_400);
    let to = vec![2_000, 4_000, 4_000];
    let bad = |to_weights: Vec<u16>, s: u64, e: u64| {
        client::schedule_weights(&gov, &m.fx.key, ScheduleWeightsArgs { to_weights, start_slot: s, end_slot: e })
    };
    assert_ballast_err(
        m.chain.send(&[bad(vec![5_000, 5_000], start, end)], &[&m.fx.governance]).await,
        BallastError::AssetCountMismatch,
    );
    assert_ballast_err(
        m.chain.send(&[bad(vec![2_000, 4_000, 3_000], start, end)], &[&m.fx.governance]).await,
        BallastError::WeightsDoNotSum,
    );
    assert_ballast_err(
        m.chain.send(&[bad(to.clone(), end, start)], &[&m.fx.governance]).await,
        BallastError::ScheduleInvalid,
    );
    m.chain.send(&[bad(to.clone(), start, end)], &[&m.fx.governance]).await.unwrap();
    assert_ballast_err(
        m.chain.send(&[client::execute_params(&gov, &m.fx.key)], &[&m.fx.governance]).await,
        BallastError::TimelockNotElapsed,
    );
    m.chain.advance_time(61).await;
    m.chain.send(&[client::execute_params(&gov, &m.fx.key)], &[&m.fx.governance]).await.unwrap();
    let vault = m.fx.state(&mut m.chain).await;
    let schedule = vault.schedule.clone().expect("schedule active");
    assert_eq!(schedule.from, vec![4_000, 3_000, 3_000]);
    assert_eq!(vault.targets(), vec![4_000, 3_000, 3_000], "configured targets change only when the schedule ends");

    // Halfway: targets are halfway, and a rebalance heads for them, not for the final weights.
    let now = m.chain.clock().await.slot;
    m.chain.advance_slots(start + 1_000 - now).await;
    m.fx.refresh_prices(&mut m.chain).await;
    let mid = m.fx.report(&mut m.chain).await.unwrap();
    let slot = m.chain.clock().await.slot;
    let expected = scheduled_targets(
        &WeightSchedule { from: schedule.from, to: to.clone(), start_slot: start, end_slot: end },
        slot,
    )
    .unwrap();
    assert_eq!(mid.targets_bps, expected);
    assert!(mid.targets_bps[0] < 3_200 && mid.targets_bps[0] > 2_800, "{:?}", mid.targets_bps);
    assert!(m.settle(4).await >= 1);
    let after = m.fx.report(&mut m.chain).await.unwrap();
    assert!(after.weights_bps[0] < 4_000, "SOL was sold towards the moving target");
    assert!(
        after.weights_bps[0] + 10 >= after.targets_bps[0] as u64,
        "no overshoot past the scheduled target: {:?} vs {:?}",
        after.weights_bps,
        after.targets_bps
    );

    // After the end, a poke finishes the schedule: the final weights become the configured targets.
    let now = m.chain.clock().await.slot;
    m.chain.advance_slots(end + 1 - now).await;
    m.fx.refresh_prices(&mut m.chain).await;
    m.poke().await;
    let vault = m.fx.state(&mut m.chain).await;
    assert!(vault.schedule.is_none());
    assert_eq!(vault.targets(), to);
}

#[tokio::test]
async fn cppi_vault_derisks_as_value_falls_and_rerisks_as_it_rises() {
    let mut params = fixture::default_params();
    // Floor $0.80 a share, 3× multiplier, at most 80 % risky; USDC (index 2) is the safe asset.
    params.target_mode = TargetMode::Cppi {
        safe_index: 2,
        multiplier_bps: 30_000,
        max_risky_bps: 8_000,
        floor_per_share: 800_000,
        ratchet_bps: 0,
    };
    let mut m = Market::with(Chain::start().await, params).await;
    let r0 = m.fx.report(&mut m.chain).await.unwrap();
    // Share price p a little above $1 (the seed deposits' trade charges stay in the vault): risky
    // exposure 3 × (1 − 0.80 / p) of the vault, split 4:3 between SOL and BTC, the rest USDC.
    let p = r0.nav as f64 / r0.share_supply as f64;
    assert!((1.0..1.02).contains(&p), "share price {p}");
    let safe = 10_000.0 * (1.0 - 3.0 * (1.0 - 0.8 / p));
    assert!((r0.targets_bps[2] as f64 - safe).abs() <= 10.0, "{:?} vs safe {safe:.0}", r0.targets_bps);
    assert_eq!(r0.targets_bps.iter().map(|t| *t as u64).sum::<u64>(), 10_000);
    m.settle(6).await;
    let risky = |r: &fixture::Report| r.weights_bps[0] + r.weights_bps[1];
    let start = m.fx.report(&mut m.chain).await.unwrap();
    assert!(
        start.weights_bps[2] >= 3_300
            && start.weights_bps[2] + start.bands_bps[2] as u64 >= start.targets_bps[2] as u64,
        "bought the safe asset up to its CPPI target's band: {:?} vs {:?}",
        start.weights_bps,
        start.targets_bps
    );

    // Risky assets fall 30 %: value nears the floor, the targets and then the holdings de-risk.
    m.move_price(0, -30).await;
    m.move_price(1, -30).await;
    let fallen = m.fx.report(&mut m.chain).await.unwrap();
    assert!(fallen.targets_bps[2] > 8_000, "mostly safe asset near the floor: {:?}", fallen.targets_bps);
    assert!(m.settle(8).await >= 1);
    let derisked = m.fx.report(&mut m.chain).await.unwrap();
    assert!(risky(&derisked) < risky(&fallen), "sold risky assets: {} → {}", risky(&fallen), risky(&derisked));

    // They rally 60 %: the cushion grows, the vault buys risk again.
    m.move_price(0, 60).await;
    m.move_price(1, 60).await;
    let risen = m.fx.report(&mut m.chain).await.unwrap();
    assert!(risen.targets_bps[2] < fallen.targets_bps[2]);
    assert!(m.settle(8).await >= 1);
    let rerisked = m.fx.report(&mut m.chain).await.unwrap();
    assert!(risky(&rerisked) > risky(&risen), "bought risky assets: {} → {}", risky(&risen), risky(&rerisked));
}

#[tokio::test]
async fn cost_optimal_bands_are_set_by_the_program_from_volatility_and_cost() {
    use ballast::math::adaptive::{annual_bps, annual_vol_bps, cost_optimal_band};
    let mut params = fixture::default_params();
    params.timelock_secs = 60;
    params.vol_tau_secs = 600;
    let mut m = Market::with(Chain::start().await, params).await;
    // Governance switches the vault to cost-optimal bands through the timelock.
    let gov = m.fx.governance.pubkey();
    // Keepers checking every 10 minutes: the bands are the derivation's less the overshoot of such checks.
    let mode = BandMode::CostOptimal {
        cost_bps: 30,
        risk_aversion_milli: 1_000,
        check_interval_secs: 600,
        min_bps: 100,
        max_bps: 2_500,
    };
    let assets = m.fx.state(&mut m.chain).await.assets.iter().map(|a| a.params).collect();
    let args = ballast::instructions::ProposeParamsArgs { params: VaultParams { band_mode: mode, ..params }, assets };
    m.chain.send(&[client::propose_params(&gov, &m.fx.key, args)], &[&m.fx.governance]).await.unwrap();
    m.chain.advance_time(61).await;
    m.chain.send(&[client::execute_params(&gov, &m.fx.key)], &[&m.fx.governance]).await.unwrap();
    // SOL swings, USDC does not.
    for k in 0..10 {
        m.move_price_after(0, if k % 2 == 0 { 3 } else { -3 }, 120).await;
        m.poke().await;
    }
    let vault = m.fx.state(&mut m.chain).await;
    let report = m.fx.report(&mut m.chain).await.unwrap();
    // The program's estimates of each asset's volatility against the portfolio, from the readings it saw.
    let relative: Vec<u64> = vault.assets.iter().map(|a| annual_bps(a.rel_vol.var_per_sec_e18)).collect();
    assert!(vault.rel_vol_time > 0);
    for (i, rel) in relative.iter().enumerate() {
        assert_eq!(
            report.bands_bps[i],
            cost_optimal_band(report.targets_bps[i], *rel, 30, 1_000, 600, 100, 2_500),
            "asset {i}"
        );
        // The derivation: W = (3·c·(t·(1 − t))²/λ)^(1/3) less the overshoot 0.5826·t·σ_rel·√(600 s).
        let t = report.targets_bps[i] as f64 / 1e4;
        let whole = (3.0 * 0.003 * (t * (1.0 - t)).powi(2)).cbrt() * 1e4;
        let over = 0.5826 * t * *rel as f64 * (600.0f64 / 31_536_000.0).sqrt();
        let want = whole - over;
        assert!((report.bands_bps[i] as f64 - want).abs() <= 3.0, "asset {i}: {} vs {want}", report.bands_bps[i]);
    }
    // USDC does not move, but its weight does when SOL moves: it has a relative volatility, and its band is
    // narrowed by the overshoot of 10-minute checks like SOL's.
    assert_eq!(annual_vol_bps(&vault.assets[2].vol.into()), 0);
    assert!(relative[0] > 0 && relative[2] > 0, "{relative:?}");
    for i in [0, 2] {
        let continuous = cost_optimal_band(report.targets_bps[i], relative[i], 30, 1_000, 0, 100, 2_500);
        assert!(report.bands_bps[i] < continuous, "asset {i}: {} vs {continuous}", report.bands_bps[i]);
    }
    // Out-of-bounds settings are refused at proposal.
    let cost_optimal = |cost_bps: u16, check_interval_secs: u32| BandMode::CostOptimal {
        cost_bps,
        risk_aversion_milli: 1_000,
        check_interval_secs,
        min_bps: 100,
        max_bps: 2_500,
    };
    for bad in [cost_optimal(0, 600), cost_optimal(30, ballast::constants::MAX_CHECK_INTERVAL_SECS + 1)] {
        let assets = vault.assets.iter().map(|a| a.params).collect();
        let args =
            ballast::instructions::ProposeParamsArgs { params: VaultParams { band_mode: bad, ..params }, assets };
        assert_ballast_err(
            m.chain.send(&[client::propose_params(&gov, &m.fx.key, args)], &[&m.fx.governance]).await,
            BallastError::BandModeOutOfBounds,
        );
    }
}
