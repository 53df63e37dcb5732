//! `ballast tune`: searches the band width ε (fixed bands) and the reference volatility (volatility-scaled
//! bands) over several simulated paths, prints the cost / tracking-error frontier and recommends the
//! setting that minimises `cost bps a year + risk_aversion × TE%²` (TE annualised, in percent; the objective
//! of `docs/bands.md`), and can fit how
//! the best band grows with the proportional cost.

use anyhow::Result;
use serde::Serialize;

use std::sync::Arc;

use super::{parallelism, run_jobs, EmaPath, SimConfig, Strategy};

#[derive(Debug, Clone)]
pub struct TuneConfig {
    pub paths: usize,
    pub steps: usize,
    pub dt_secs: i64,
    pub fee_bps: u16,
    pub seed: u64,
    /// Fixed band widths to try (bps).
    pub eps_grid: Vec<u16>,
    /// Reference volatilities for volatility-scaled bands (bps); empty = fixed bands only.
    pub vol_refs: Vec<u16>,
    pub risk_aversion: f64,
}

impl Default for TuneConfig {
    fn default() -> Self {
        Self {
            paths: 3,
            steps: 90,
            dt_secs: 86_400,
            fee_bps: 30,
            seed: 1,
            eps_grid: vec![50, 100, 200, 300, 500, 800, 1_200],
            vol_refs: vec![4_000, 8_000],
            risk_aversion: 1.0,
        }
    }
}

/// Mean outcome of one setting over the paths.
#[derive(Debug, Clone, Serialize)]
pub struct TunePoint {
    pub strategy: String,
    pub eps_bps: u16,
    pub tracking_error_bps: f64,
    /// Trading cost, bps of NAV a year.
    pub cost_bps: f64,
    pub objective: f64,
    /// Not dominated by another point (lower or equal cost and tracking error).
    pub on_frontier: bool,
    /// The strategy this point ran.
    #[serde(skip)]
    pub setting: Option<Strategy>,
}

/// The tuning's GBM path of `seed` and the Pyth EMA beside it.
fn market_path(steps: usize, dt: i64, seed: u64) -> EmaPath {
    EmaPath::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[1.0, 0.8, 0.0], 0.5, steps, dt as f64, seed)
}

/// Evaluates every setting on the same `paths` paths.
pub async fn tune(cfg: &TuneConfig, mut progress: impl FnMut(&str)) -> Result<Vec<TunePoint>> {
    let sim = SimConfig {
        dt_secs: cfg.dt_secs,
        fee_bps: cfg.fee_bps,
        slippage_cap_bps: (cfg.fee_bps + 100).min(ballast::constants::MAX_SLIPPAGE_BPS),
        ..Default::default()
    };
    let mut settings: Vec<(Strategy, u16)> =
        cfg.eps_grid.iter().map(|e| (Strategy::Band { eps_bps: *e }, *e)).collect();
    for r in &cfg.vol_refs {
        for e in &cfg.eps_grid {
            settings.push((Strategy::VolBand { eps_bps: *e, reference_vol_bps: *r, max_bps: 2_500 }, *e));
        }
    }
    let paths: Vec<Arc<EmaPath>> =
        (0..cfg.paths).map(|k| Arc::new(market_path(cfg.steps, cfg.dt_secs, cfg.seed + k as u64))).collect();
    let jobs: Vec<(Strategy, Arc<EmaPath>)> =
        settings.iter().flat_map(|(s, _)| paths.iter().map(move |p| (*s, p.clone()))).collect();
    let results = run_jobs(jobs, &sim, parallelism(), |s| progress(s)).await?;
    let mut points = Vec::new();
    for ((strategy, eps), runs) in settings.iter().zip(results.chunks(paths.len())) {
        let name = match strategy {
            Strategy::VolBand { reference_vol_bps, .. } => {
                format!("{} ref {}%", strategy.name(), reference_vol_bps / 100)
            }
            _ => strategy.name(),
        };
        let te = runs.iter().map(|r| r.tracking_error_bps).sum::<f64>() / runs.len() as f64;
        let cost = runs.iter().map(|r| r.cost_bps_a_year).sum::<f64>() / runs.len() as f64;
        points.push(TunePoint {
            strategy: name,
            eps_bps: *eps,
            tracking_error_bps: te,
            cost_bps: cost,
            objective: cost + cfg.risk_aversion * (te / 100.0).powi(2),
            on_frontier: false,
            setting: Some(*strategy),
        });
    }
    let snapshot = points.clone();
    for p in &mut points {
        p.on_frontier = !snapshot.iter().any(|q| {
            q.cost_bps <= p.cost_bps
                && q.tracking_error_bps <= p.tracking_error_bps
                && (q.cost_bps < p.cost_bps || q.tracking_error_bps < p.tracking_error_bps)
        });
    }
    Ok(points)
}

/// The share price along the tuner's first path for `strategy`, without and with `fees` (USD per share, one
/// entry per step).
pub async fn share_price_paths(
    cfg: &TuneConfig,
    strategy: Strategy,
    fees: ballast::state::FeeParams,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let sim = SimConfig {
        dt_secs: cfg.dt_secs,
        fee_bps: cfg.fee_bps,
        slippage_cap_bps: (cfg.fee_bps + 100).min(ballast::constants::MAX_SLIPPAGE_BPS),
        ..Default::default()
    };
    let prices = market_path(cfg.steps, cfg.dt_secs, cfg.seed);
    let without = super::run_strategy(strategy, &prices, &sim).await?;
    let with = super::run_strategy(strategy, &prices, &SimConfig { fees, ..sim }).await?;
    let path = |r: &super::StrategyResult| r.steps.iter().map(|s| s.share_price_usd).collect();
    Ok((path(&without), path(&with)))
}

/// The setting with the lowest objective.
pub fn recommend(points: &[TunePoint]) -> Option<&TunePoint> {
    points.iter().min_by(|a, b| a.objective.total_cmp(&b.objective))
}

/// The frontier table.
pub fn render(points: &[TunePoint]) -> String {
    let mut s =
        format!("{:<26} {:>10} {:>10} {:>10} {:>9}\n", "setting", "TE ann.%", "cost bp/yr", "objective", "frontier");
    for p in points {
        s.push_str(&format!(
            "{:<26} {:>10.3} {:>10.2} {:>10.3} {:>9}\n",
            p.strategy,
            p.tracking_error_bps / 100.0,
            p.cost_bps,
            p.objective,
            if p.on_frontier { "*" } else { "" }
        ));
    }
    s
}
