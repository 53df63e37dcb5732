//! Band studies over many seeded paths, every run on the real programs (`ballast tune --compare-bands`,
//! `ballast tune --fit-exponent`). The objective is the tuner's `J = cost_bps + λ·TE%²` (cost in bps of
//! average NAV, TE annualised in percent).
//!
//! - [`compare_bands`]: per path kind (GBM, regime switching), the mean ± standard error over the seeds of
//!   J for every fixed band of a grid, the linear volatility band and the cost-optimal band, which fixed
//!   band was best in hindsight, and the paired difference of each setting to it.
//! - [`fit_exponents`]: the best band (grid minimum refined by a parabola in ln ε) per fee or volatility
//!   scale, and the least-squares slope of ln ε* against ln c (deep pools: impact negligible; then shallow
//!   pools) and against ln σ, with a 95 % bootstrap interval over the paths.

use std::sync::Arc;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::{paths, run_jobs, SimConfig, Strategy};
use paths::Path2;

const START: [f64; 3] = [150.0, 60_000.0, 1.0];

/// Which price process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PathKind {
    /// Correlated geometric Brownian motion (SOL 80 %, BTC 60 % a year, correlation 0.6).
    Gbm,
    /// Calm (SOL 60 %, BTC 50 %) and stress regimes (3× volatility, ±8 % jumps), as `simulate --path regime`.
    Regime,
}

impl PathKind {
    pub fn name(&self) -> &'static str {
        match self {
            PathKind::Gbm => "gbm",
            PathKind::Regime => "regime",
        }
    }

    fn path(&self, steps: usize, dt: i64, seed: u64, vol_scale: f64) -> Path2 {
        match self {
            PathKind::Gbm => {
                paths::gbm(&START, &[0.0; 3], &[0.8 * vol_scale, 0.6 * vol_scale, 0.0], 0.6, steps, dt as f64, seed)
            }
            PathKind::Regime => {
                let vol = [0.6 * vol_scale, 0.5 * vol_scale, 0.0];
                paths::regime(&START, &vol, 3.0, 0.08, 0.1, 0.03, 0.15, steps, dt as f64, seed).0
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct StudyConfig {
    /// Paths (seeds `seed`, `seed + 1`, …) per setting.
    pub seeds: usize,
    pub steps: usize,
    pub dt_secs: i64,
    pub fee_bps: u16,
    pub depth_usd: f64,
    /// λ of the objective (and of the cost-optimal band mode).
    pub risk_aversion: f64,
    pub seed: u64,
    /// Simulations at once.
    pub threads: usize,
    /// Fixed bands compared (bps).
    pub fixed_grid: Vec<u16>,
}

impl Default for StudyConfig {
    fn default() -> Self {
        Self {
            seeds: 20,
            steps: 120,
            dt_secs: 86_400,
            fee_bps: 30,
            depth_usd: 2_000_000.0,
            risk_aversion: 1.0,
            seed: 1,
            threads: super::parallelism(),
            fixed_grid: vec![100, 200, 300, 400, 500, 700, 1_000, 1_500, 2_000],
        }
    }
}

impl StudyConfig {
    /// The market of a run: pools of `depth_usd` a side charging `fee_bps`.
    pub fn sim(&self, fee_bps: u16, depth_usd: f64) -> SimConfig {
        SimConfig {
            dt_secs: self.dt_secs,
            fee_bps,
            pool_depth_usd: depth_usd,
            slippage_cap_bps: (fee_bps + 100).min(ballast::constants::MAX_SLIPPAGE_BPS),
            ..Default::default()
        }
    }

    fn objective(&self, r: &super::StrategyResult) -> f64 {
        r.cost_bps_of_nav + self.risk_aversion * (r.tracking_error_bps / 100.0).powi(2)
    }
}

/// Mean and standard error of the mean.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub se: f64,
}

pub fn stat(xs: &[f64]) -> Stat {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n.max(1.0);
    let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    Stat { mean, se: (var / n.max(1.0)).sqrt() }
}

#[derive(Debug, Clone, Serialize)]
pub struct StudyRow {
    pub setting: String,
    pub j: Stat,
    pub te_pct: Stat,
    pub cost_bps: Stat,
    /// Per seed, this setting's J minus the hindsight-best fixed band's.
    pub vs_best_fixed: Stat,
}

#[derive(Debug, Clone, Serialize)]
pub struct BandComparison {
    pub kind: String,
    pub seeds: usize,
    pub rows: Vec<StudyRow>,
    pub best_fixed: String,
    /// The cost estimate the cost-optimal band was given (fee plus impact of a typical trade, bps).
    pub cost_estimate_bps: u16,
    /// (mean J of cost-optimal / mean J of the best fixed band − 1) in percent.
    pub cost_optimal_vs_best_fixed_pct: f64,
    /// Mean J of the cost-optimal band below every fixed band's.
    pub cost_optimal_beats_every_fixed: bool,
}

/// The cost a governance would set for the cost-optimal mode: the pool fee plus the price impact of a
/// typical trade (5 % of the vault) against the pool's depth.
pub fn cost_estimate_bps(cfg: &SimConfig) -> u16 {
    let impact = cfg.vault_usd * 0.05 / cfg.pool_depth_usd * 10_000.0;
    (f64::from(cfg.fee_bps) + impact).round().clamp(1.0, f64::from(u16::MAX)) as u16
}

/// The settings of [`compare_bands`]: the fixed grid, the linear volatility band, the cost-optimal band.
pub fn comparison_settings(cfg: &StudyConfig, cost_bps: u16) -> Vec<Strategy> {
    let mut s: Vec<Strategy> = cfg.fixed_grid.iter().map(|e| Strategy::Band { eps_bps: *e }).collect();
    s.push(Strategy::VolBand { eps_bps: 500, reference_vol_bps: 6_000, max_bps: 2_500 });
    s.push(Strategy::CostOptimal { cost_bps, risk_aversion_milli: (cfg.risk_aversion * 1_000.0).round() as u32 });
    s
}

pub async fn compare_bands(
    cfg: &StudyConfig,
    kinds: &[PathKind],
    mut progress: impl FnMut(&str),
) -> Result<Vec<BandComparison>> {
    let sim = cfg.sim(cfg.fee_bps, cfg.depth_usd);
    let cost = cost_estimate_bps(&sim);
    let settings = comparison_settings(cfg, cost);
    let n_fixed = cfg.fixed_grid.len();
    let mut out = Vec::new();
    for kind in kinds {
        let paths: Vec<Arc<Path2>> =
            (0..cfg.seeds).map(|k| Arc::new(kind.path(cfg.steps, cfg.dt_secs, cfg.seed + k as u64, 1.0))).collect();
        let jobs = settings.iter().flat_map(|s| paths.iter().map(move |p| (*s, p.clone()))).collect();
        let results = run_jobs(jobs, &sim, cfg.threads, |s| progress(&format!("{}: {s}", kind.name()))).await?;
        let per: Vec<&[super::StrategyResult]> = results.chunks(cfg.seeds).collect();
        let js: Vec<Vec<f64>> = per.iter().map(|runs| runs.iter().map(|r| cfg.objective(r)).collect()).collect();
        let best = (0..n_fixed).min_by(|a, b| stat(&js[*a]).mean.total_cmp(&stat(&js[*b]).mean)).unwrap_or(0);
        let rows: Vec<StudyRow> = settings
            .iter()
            .zip(&per)
            .zip(&js)
            .map(|((s, runs), j)| StudyRow {
                setting: s.name(),
                j: stat(j),
                te_pct: stat(&runs.iter().map(|r| r.tracking_error_bps / 100.0).collect::<Vec<_>>()),
                cost_bps: stat(&runs.iter().map(|r| r.cost_bps_of_nav).collect::<Vec<_>>()),
                vs_best_fixed: stat(&j.iter().zip(&js[best]).map(|(a, b)| a - b).collect::<Vec<_>>()),
            })
            .collect();
        let cost_opt = &rows[rows.len() - 1];
        out.push(BandComparison {
            kind: kind.name().into(),
            seeds: cfg.seeds,
            best_fixed: rows[best].setting.clone(),
            cost_estimate_bps: cost,
            cost_optimal_vs_best_fixed_pct: (cost_opt.j.mean / rows[best].j.mean - 1.0) * 100.0,
            cost_optimal_beats_every_fixed: rows[..n_fixed].iter().all(|r| cost_opt.j.mean < r.j.mean),
            rows,
        });
    }
    Ok(out)
}

pub fn render_comparison(c: &BandComparison) -> String {
    let mut s = format!(
        "{} paths ({} seeds), cost-optimal given c = {} bps\n{:<22} {:>16} {:>14} {:>14} {:>18}\n",
        c.kind, c.seeds, c.cost_estimate_bps, "setting", "J mean ± se", "TE ann.%", "cost bp", "J − best fixed"
    );
    for r in &c.rows {
        s.push_str(&format!(
            "{:<22} {:>9.2} ± {:<5.2} {:>7.2} ± {:<4.2} {:>7.2} ± {:<4.2} {:>+10.2} ± {:<5.2}{}\n",
            r.setting,
            r.j.mean,
            r.j.se,
            r.te_pct.mean,
            r.te_pct.se,
            r.cost_bps.mean,
            r.cost_bps.se,
            r.vs_best_fixed.mean,
            r.vs_best_fixed.se,
            if r.setting == c.best_fixed { "  ← best fixed (hindsight)" } else { "" }
        ));
    }
    s.push_str(&format!(
        "cost-optimal vs best fixed: {:+.1} % of J; lower J than every fixed band: {}\n",
        c.cost_optimal_vs_best_fixed_pct,
        if c.cost_optimal_beats_every_fixed { "yes" } else { "no" }
    ));
    s
}

/// One fitted exponent.
#[derive(Debug, Clone, Serialize)]
pub struct ExponentFit {
    pub what: String,
    /// The varied quantity (fee in bps, or volatility scale) and the best band found (bps).
    pub points: Vec<(f64, f64)>,
    pub slope: f64,
    pub ci95: (f64, f64),
    pub theory: f64,
}

/// Fixed bands searched by the fits (bps), about √2 apart up to the program's 25 % maximum.
pub const FIT_GRID: [u16; 10] = [50, 100, 150, 200, 300, 450, 650, 900, 1_300, 1_900];

fn ols_slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx > 0.0 {
        sxy / sxx
    } else {
        0.0
    }
}

/// The band minimising the mean objective over `paths` (indexes into the per-path objectives): the
/// grid minimum, refined by the vertex of the parabola through it and its neighbours in ln ε.
fn best_band(j: &[Vec<f64>], grid: &[u16], paths: &[usize]) -> f64 {
    let means: Vec<f64> = j.iter().map(|per| paths.iter().map(|p| per[*p]).sum::<f64>() / paths.len() as f64).collect();
    let k = (0..means.len()).min_by(|a, b| means[*a].total_cmp(&means[*b])).unwrap_or(0);
    if k == 0 || k + 1 == means.len() {
        return f64::from(grid[k]);
    }
    let (x0, x1, x2) = (f64::from(grid[k - 1]).ln(), f64::from(grid[k]).ln(), f64::from(grid[k + 1]).ln());
    let (y0, y1, y2) = (means[k - 1], means[k], means[k + 1]);
    let denom = (x0 - x1) * (x0 - x2) * (x1 - x2);
    let a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom;
    let b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom;
    if a <= 0.0 {
        return f64::from(grid[k]);
    }
    (-b / (2.0 * a)).clamp(x0, x2).exp()
}

/// Bootstrap replicates of the fitted slope.
const BOOTSTRAP: usize = 1_000;

/// One fit: for every variant (the x value, its market and volatility scale), every band of `grid` on
/// the same `cfg.seeds` GBM paths; then the slope of ln ε* against ln x and its bootstrap interval.
pub async fn fit(
    cfg: &StudyConfig,
    what: &str,
    theory: f64,
    variants: &[(f64, SimConfig, f64)],
    grid: &[u16],
    progress: &mut impl FnMut(&str),
) -> Result<ExponentFit> {
    // j[variant][band][path]
    let mut j: Vec<Vec<Vec<f64>>> = Vec::new();
    for (x, sim, vol_scale) in variants {
        let paths: Vec<Arc<Path2>> = (0..cfg.seeds)
            .map(|k| Arc::new(PathKind::Gbm.path(cfg.steps, cfg.dt_secs, cfg.seed + k as u64, *vol_scale)))
            .collect();
        let jobs =
            grid.iter().flat_map(|e| paths.iter().map(move |p| (Strategy::Band { eps_bps: *e }, p.clone()))).collect();
        let results = run_jobs(jobs, sim, cfg.threads, |s| progress(&format!("{what}: x = {x}: {s}"))).await?;
        j.push(results.chunks(cfg.seeds).map(|runs| runs.iter().map(|r| cfg.objective(r)).collect()).collect());
    }
    let xs: Vec<f64> = variants.iter().map(|v| v.0.ln()).collect();
    let all: Vec<usize> = (0..cfg.seeds).collect();
    let best: Vec<f64> = j.iter().map(|jv| best_band(jv, grid, &all)).collect();
    let slope = ols_slope(&xs, &best.iter().map(|b| b.ln()).collect::<Vec<_>>());
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let mut replicates: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let sample: Vec<usize> = (0..cfg.seeds).map(|_| rng.gen_range(0..cfg.seeds)).collect();
            let b: Vec<f64> = j.iter().map(|jv| best_band(jv, grid, &sample).ln()).collect();
            ols_slope(&xs, &b)
        })
        .collect();
    replicates.sort_by(f64::total_cmp);
    let at = |q: f64| replicates[((replicates.len() - 1) as f64 * q).round() as usize];
    Ok(ExponentFit {
        what: what.into(),
        points: variants.iter().map(|v| v.0).zip(best).collect(),
        slope,
        ci95: (at(0.025), at(0.975)),
        theory,
    })
}

/// The three fits: cost on deep pools, volatility, cost on shallow pools (impact matters).
pub async fn fit_exponents(cfg: &StudyConfig, mut progress: impl FnMut(&str)) -> Result<Vec<ExponentFit>> {
    let fees = [8u16, 20, 50, 125];
    let deep = 1e9;
    let shallow = 150_000.0;
    let cost_deep: Vec<_> = fees.iter().map(|f| (f64::from(*f), cfg.sim(*f, deep), 1.0)).collect();
    let vol: Vec<_> = [0.5, 1.0, 2.0].iter().map(|v| (*v, cfg.sim(cfg.fee_bps, deep), *v)).collect();
    let cost_shallow: Vec<_> = fees.iter().map(|f| (f64::from(*f), cfg.sim(*f, shallow), 1.0)).collect();
    Ok(vec![
        fit(cfg, "cost, deep pools", 1.0 / 3.0, &cost_deep, &FIT_GRID, &mut progress).await?,
        fit(cfg, "volatility, deep pools", 2.0 / 3.0, &vol, &FIT_GRID, &mut progress).await?,
        fit(cfg, "cost, $150k pools (impact)", f64::NAN, &cost_shallow, &FIT_GRID, &mut progress).await?,
    ])
}

pub fn render_fit(f: &ExponentFit) -> String {
    let pts: Vec<String> = f.points.iter().map(|(x, e)| format!("{x} → {e:.0} bps")).collect();
    let theory =
        if f.theory.is_nan() { "none (impact grows with the trade)".to_string() } else { format!("{:.3}", f.theory) };
    format!(
        "{}: best band {}; slope {:.3}, 95 % bootstrap interval [{:.3}, {:.3}]; theory {}\n",
        f.what,
        pts.join(", "),
        f.slope,
        f.ci95.0,
        f.ci95.1,
        theory
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_fits_on_known_numbers() {
        let s = stat(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.se - (1.666_666_666_7f64 / 4.0).sqrt()).abs() < 1e-9);
        assert!((ols_slope(&[0.0, 1.0, 2.0], &[1.0, 1.5, 2.0]) - 0.5).abs() < 1e-12);
        // A parabola in ln ε with its vertex at ln 300: found between the grid points.
        let grid = [100u16, 200, 400, 800];
        let j: Vec<Vec<f64>> = grid.iter().map(|e| vec![(f64::from(*e).ln() - 300f64.ln()).powi(2)]).collect();
        assert!((best_band(&j, &grid, &[0]) - 300.0).abs() < 1.0);
        // At the grid's edge, the edge.
        let edge: Vec<Vec<f64>> = grid.iter().map(|e| vec![f64::from(*e)]).collect();
        assert_eq!(best_band(&edge, &grid, &[0]), 100.0);
    }
}
