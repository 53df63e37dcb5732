//! Band studies over many seeded paths, every run on the real programs (`ballast tune --compare-bands`,
//! `ballast tune --fit-exponent`). The objective is the one the cost-optimal band minimises
//! ([`super::objective`]: `J = cost bps a year + λ·TE%²`, TE annualised in percent; `docs/bands.md`).
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

use super::{paths, run_jobs, EmaPath, SimConfig, Strategy};

const START: [f64; 3] = [150.0, 60_000.0, 1.0];

/// Which price process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum PathKind {
    /// Correlated geometric Brownian motion (SOL 80 %, BTC 60 % a year) with SOL–BTC correlation `rho`.
    Gbm { rho: f64 },
    /// Calm (SOL 60 %, BTC 50 %) and stress regimes (3× volatility, ±8 % jumps), as `simulate --path regime`.
    Regime,
}

/// The path kinds of the band comparison: GBM with correlations 0, 0.5 and 0.8, and regime switching.
pub const COMPARISON_KINDS: [PathKind; 4] =
    [PathKind::Gbm { rho: 0.0 }, PathKind::Gbm { rho: 0.5 }, PathKind::Gbm { rho: 0.8 }, PathKind::Regime];

impl PathKind {
    pub fn name(&self) -> String {
        match self {
            PathKind::Gbm { rho } => format!("gbm ρ {rho:.1}"),
            PathKind::Regime => "regime".into(),
        }
    }

    /// The path of `seed` and the Pyth EMA beside it.
    fn path(&self, steps: usize, dt: i64, seed: u64, vol_scale: f64) -> EmaPath {
        match *self {
            PathKind::Gbm { rho } => {
                EmaPath::gbm(&START, &[0.0; 3], &[0.8 * vol_scale, 0.6 * vol_scale, 0.0], rho, steps, dt as f64, seed)
            }
            PathKind::Regime => {
                let vol = [0.6 * vol_scale, 0.5 * vol_scale, 0.0];
                EmaPath::regime(&START, &vol, &paths::STRESS_AND_JUMPS, steps, dt as f64, seed)
            }
        }
    }
}

/// The GBM of the exponent fits (correlation 0.6).
const FIT_PATHS: PathKind = PathKind::Gbm { rho: 0.6 };

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
        super::objective(r, self.risk_aversion)
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
    /// The cost estimate the cost-optimal band was given (fee plus bounty, bps).
    pub cost_estimate_bps: u16,
    /// (mean J of cost-optimal / mean J of the best fixed band − 1) in percent.
    pub cost_optimal_vs_best_fixed_pct: f64,
    /// Mean J of the cost-optimal band below every fixed band's.
    pub cost_optimal_beats_every_fixed: bool,
    /// Per fixed band, the cost-optimal band's J minus that band's, paired by seed (mean ± se).
    pub cost_optimal_vs_each_fixed: Vec<(String, Stat)>,
    /// Below every fixed band with each paired difference more than two standard errors below zero.
    pub cost_optimal_beats_every_fixed_by_2se: bool,
    /// The fixed band with the lowest J on each seed (hindsight per path), and the cost-optimal band's J
    /// minus that per-seed best (an oracle no setting can beat on average).
    pub best_fixed_per_seed: Vec<String>,
    pub cost_optimal_vs_per_seed_best: Stat,
}

/// The cost a governance would set for the cost-optimal mode (`docs/bands.md`, A4): the proportional cost
/// of a trade, the pool fee plus the keeper's bounty (the default parameters' 5 bps); linear price impact
/// costs the same a year whatever the band and is left out.
pub fn cost_estimate_bps(cfg: &SimConfig) -> u16 {
    cfg.fee_bps.saturating_add(ballast_client::default_params().bounty_bps).max(1)
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
        let paths: Vec<Arc<EmaPath>> =
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
                cost_bps: stat(&runs.iter().map(|r| r.cost_bps_a_year).collect::<Vec<_>>()),
                vs_best_fixed: stat(&j.iter().zip(&js[best]).map(|(a, b)| a - b).collect::<Vec<_>>()),
            })
            .collect();
        let cost_opt = &rows[rows.len() - 1];
        let paired = |a: &[f64], b: &[f64]| stat(&a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<_>>());
        let j_opt = &js[js.len() - 1];
        let vs_each: Vec<(String, Stat)> =
            (0..n_fixed).map(|k| (rows[k].setting.clone(), paired(j_opt, &js[k]))).collect();
        let per_seed_best: Vec<usize> =
            (0..cfg.seeds).map(|p| (0..n_fixed).min_by(|a, b| js[*a][p].total_cmp(&js[*b][p])).unwrap_or(0)).collect();
        let per_seed_j: Vec<f64> = per_seed_best.iter().enumerate().map(|(p, k)| js[*k][p]).collect();
        out.push(BandComparison {
            kind: kind.name(),
            seeds: cfg.seeds,
            best_fixed: rows[best].setting.clone(),
            cost_estimate_bps: cost,
            cost_optimal_vs_best_fixed_pct: (cost_opt.j.mean / rows[best].j.mean - 1.0) * 100.0,
            cost_optimal_beats_every_fixed: rows[..n_fixed].iter().all(|r| cost_opt.j.mean < r.j.mean),
            cost_optimal_beats_every_fixed_by_2se: vs_each.iter().all(|(_, d)| d.mean + 2.0 * d.se < 0.0),
            cost_optimal_vs_each_fixed: vs_each,
            best_fixed_per_seed: per_seed_best.iter().map(|k| rows[*k].setting.clone()).collect(),
            cost_optimal_vs_per_seed_best: paired(j_opt, &per_seed_j),
            rows,
        });
    }
    Ok(out)
}

pub fn render_comparison(c: &BandComparison) -> String {
    let mut s = format!(
        "{} paths ({} seeds), cost-optimal given c = {} bps\n{:<22} {:>16} {:>14} {:>14} {:>18}\n",
        c.kind, c.seeds, c.cost_estimate_bps, "setting", "J mean ± se", "TE ann.%", "cost bp/yr", "J − best fixed"
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
        "cost-optimal vs best fixed: {:+.1} % of J; lower J than every fixed band: {}; by more than 2 se against each: {}\n",
        c.cost_optimal_vs_best_fixed_pct,
        if c.cost_optimal_beats_every_fixed { "yes" } else { "no" },
        if c.cost_optimal_beats_every_fixed_by_2se { "yes" } else { "no" },
    ));
    let each: Vec<String> =
        c.cost_optimal_vs_each_fixed.iter().map(|(n, d)| format!("{n} {:+.2} ± {:.2}", d.mean, d.se)).collect();
    s.push_str(&format!("cost-optimal − each fixed band (paired): {}\n", each.join(", ")));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for b in &c.best_fixed_per_seed {
        match counts.iter_mut().find(|(n, _)| n == b) {
            Some((_, k)) => *k += 1,
            None => counts.push((b.clone(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(n, k)| format!("{n} ×{k}")).collect();
    s.push_str(&format!(
        "hindsight-best fixed band per seed: {}; cost-optimal − that per-seed best: {:+.2} ± {:.2}\n",
        counts.join(", "),
        c.cost_optimal_vs_per_seed_best.mean,
        c.cost_optimal_vs_per_seed_best.se
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
    /// The derivation's band at each point (bps, the mean over the three assets of
    /// `math::adaptive::cost_optimal_band` with the paths' relative volatilities and daily checks), and the
    /// slope of its logarithm: what the fitted slope should be (NaN where the derivation does not apply).
    pub predicted: Vec<f64>,
    pub theory: f64,
    /// The slope of `ln(best band + overshoot of daily checks)`, the band a continuously checked vault
    /// would need: 1/3 against the cost under the derivation's assumptions; with its bootstrap interval.
    pub corrected_slope: f64,
    pub corrected_ci95: (f64, f64),
}

/// Volatility (annualised, fraction) of each asset's return against the portfolio's on the GBM paths
/// (SOL 80 %, BTC 60 % × `vol_scale`, correlation `rho`, USDC still) at the simulator's targets 40/30/30.
pub fn relative_vols(rho: f64, vol_scale: f64) -> [f64; 3] {
    let v = [0.8 * vol_scale, 0.6 * vol_scale, 0.0];
    let corr = |a: usize, b: usize| {
        if a == b {
            1.0
        } else if a + b == 1 {
            rho
        } else {
            0.0
        }
    };
    let w = super::TARGETS.map(|t| f64::from(t) / 10_000.0);
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let e: Vec<f64> = (0..3).map(|k| if k == i { 1.0 - w[k] } else { -w[k] }).collect();
        let var: f64 =
            (0..3).flat_map(|a| (0..3).map(move |b| (a, b))).map(|(a, b)| e[a] * e[b] * v[a] * v[b] * corr(a, b)).sum();
        *o = var.max(0.0).sqrt();
    }
    out
}

/// The mean over the simulator's three assets of `per_asset(target bps, relative volatility bps, check
/// interval secs)` on the fit's GBM paths at `vol_scale`, checks every `dt_secs`.
fn mean_over_assets(vol_scale: f64, dt_secs: i64, per_asset: impl Fn(u16, u64, u32) -> f64) -> f64 {
    let every = u32::try_from(dt_secs).unwrap_or(u32::MAX);
    let rel = relative_vols(0.6, vol_scale);
    let each: Vec<f64> =
        super::TARGETS.iter().zip(rel).map(|(t, r)| per_asset(*t, (r * 10_000.0).round() as u64, every)).collect();
    each.iter().sum::<f64>() / each.len() as f64
}

/// The derivation's band (bps) for the fit's GBM paths: the mean over the three assets of the program's
/// `cost_optimal_band` at cost `cost_bps` (fee + bounty), checks every `dt_secs`.
pub fn predicted_band_bps(cost_bps: u16, vol_scale: f64, risk_aversion: f64, dt_secs: i64) -> f64 {
    let lambda = (risk_aversion * 1_000.0).round() as u32;
    mean_over_assets(vol_scale, dt_secs, |t, rel_bps, every| {
        f64::from(ballast::math::adaptive::cost_optimal_band(t, rel_bps, cost_bps, lambda, every, 1, 2_500))
    })
}

/// The mean overshoot (bps) of daily-checked bands on the fit's GBM paths (the three assets' mean).
fn overshoot_bps(vol_scale: f64, dt_secs: i64) -> f64 {
    mean_over_assets(vol_scale, dt_secs, |t, rel_bps, every| {
        ballast::math::adaptive::overshoot_bps(t, rel_bps, every) as f64
    })
}

/// Fixed bands searched by the fits (bps), about √2 apart from 3 % to the program's 25 % maximum (every
/// optimum measured lies between 4.8 % and 16.4 %; narrower bands only cost simulation time).
pub const FIT_GRID: [u16; 7] = [300, 450, 650, 900, 1_300, 1_900, 2_500];

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
/// the same `cfg.seeds` GBM paths; then the slope of ln ε* against ln x and its bootstrap interval, beside
/// the derivation's prediction (`predicted_cost`: the cost estimate of a variant, `None` where the
/// derivation does not apply).
pub async fn fit(
    cfg: &StudyConfig,
    what: &str,
    predicted_cost: Option<&dyn Fn(&SimConfig) -> u16>,
    variants: &[(f64, SimConfig, f64)],
    grid: &[u16],
    progress: &mut impl FnMut(&str),
) -> Result<ExponentFit> {
    // j[variant][band][path]
    let mut j: Vec<Vec<Vec<f64>>> = Vec::new();
    for (x, sim, vol_scale) in variants {
        let paths: Vec<Arc<EmaPath>> = (0..cfg.seeds)
            .map(|k| Arc::new(FIT_PATHS.path(cfg.steps, cfg.dt_secs, cfg.seed + k as u64, *vol_scale)))
            .collect();
        let jobs =
            grid.iter().flat_map(|e| paths.iter().map(move |p| (Strategy::Band { eps_bps: *e }, p.clone()))).collect();
        let results = run_jobs(jobs, sim, cfg.threads, |s| progress(&format!("{what}: x = {x}: {s}"))).await?;
        j.push(results.chunks(cfg.seeds).map(|runs| runs.iter().map(|r| cfg.objective(r)).collect()).collect());
    }
    let xs: Vec<f64> = variants.iter().map(|v| v.0.ln()).collect();
    let over: Vec<f64> = variants.iter().map(|v| overshoot_bps(v.2, cfg.dt_secs)).collect();
    let slopes = |sample: &[usize]| {
        let b: Vec<f64> = j.iter().map(|jv| best_band(jv, grid, sample)).collect();
        let raw = ols_slope(&xs, &b.iter().map(|e| e.ln()).collect::<Vec<_>>());
        let corrected = ols_slope(&xs, &b.iter().zip(&over).map(|(e, o)| (e + o).ln()).collect::<Vec<_>>());
        (b, raw, corrected)
    };
    let all: Vec<usize> = (0..cfg.seeds).collect();
    let (best, slope, corrected_slope) = slopes(&all);
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let (mut raw, mut corrected): (Vec<f64>, Vec<f64>) = (0..BOOTSTRAP)
        .map(|_| {
            let sample: Vec<usize> = (0..cfg.seeds).map(|_| rng.gen_range(0..cfg.seeds)).collect();
            let (_, r, c) = slopes(&sample);
            (r, c)
        })
        .unzip();
    let predicted: Vec<f64> = match predicted_cost {
        Some(cost) => variants
            .iter()
            .map(|(_, sim, vol)| predicted_band_bps(cost(sim), *vol, cfg.risk_aversion, cfg.dt_secs))
            .collect(),
        None => vec![f64::NAN; variants.len()],
    };
    Ok(ExponentFit {
        what: what.into(),
        points: variants.iter().map(|v| v.0).zip(best).collect(),
        slope,
        ci95: interval(&mut raw),
        theory: ols_slope(&xs, &predicted.iter().map(|p| p.ln()).collect::<Vec<_>>()),
        predicted,
        corrected_slope,
        corrected_ci95: interval(&mut corrected),
    })
}

/// The 2.5 % and 97.5 % quantiles of bootstrap replicates.
fn interval(replicates: &mut [f64]) -> (f64, f64) {
    replicates.sort_by(f64::total_cmp);
    let at = |q: f64| replicates[((replicates.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

/// The exponent fits of [`fit_exponents`] (`--fits cost,volatility,impact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitKind {
    /// Against the cost (fee + bounty), deep pools.
    Cost,
    /// Against a volatility scale, deep pools.
    Volatility,
    /// Against the cost with $150k pools (price impact).
    Impact,
}

/// Every fit, in the order they are reported.
pub const ALL_FITS: [FitKind; 3] = [FitKind::Cost, FitKind::Volatility, FitKind::Impact];

impl std::str::FromStr for FitKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "cost" => Ok(FitKind::Cost),
            "volatility" => Ok(FitKind::Volatility),
            "impact" => Ok(FitKind::Impact),
            other => Err(format!("unknown fit `{other}` (cost, volatility or impact)")),
        }
    }
}

/// The fits in `which` (in that order).
pub async fn fit_exponents(
    cfg: &StudyConfig,
    which: &[FitKind],
    mut progress: impl FnMut(&str),
) -> Result<Vec<ExponentFit>> {
    let fees = [8u16, 20, 50, 125];
    let deep = 1e9;
    let shallow = 150_000.0;
    // The cost fits' x is the proportional cost c = fee + bounty (docs/bands.md, A4).
    let by_cost = |f: &u16, depth: f64| {
        let sim = cfg.sim(*f, depth);
        (f64::from(cost_estimate_bps(&sim)), sim, 1.0)
    };
    let cost: &dyn Fn(&SimConfig) -> u16 = &cost_estimate_bps;
    let mut out = Vec::new();
    for kind in which {
        out.push(match kind {
            FitKind::Cost => {
                let variants: Vec<_> = fees.iter().map(|f| by_cost(f, deep)).collect();
                fit(cfg, "cost, deep pools", Some(cost), &variants, &FIT_GRID, &mut progress).await?
            }
            FitKind::Volatility => {
                let variants: Vec<_> = [0.5, 1.0, 2.0].iter().map(|v| (*v, cfg.sim(cfg.fee_bps, deep), *v)).collect();
                fit(cfg, "volatility, deep pools", Some(cost), &variants, &FIT_GRID, &mut progress).await?
            }
            FitKind::Impact => {
                let variants: Vec<_> = fees.iter().map(|f| by_cost(f, shallow)).collect();
                fit(cfg, "cost, $150k pools (impact)", None, &variants, &FIT_GRID, &mut progress).await?
            }
        });
    }
    Ok(out)
}

pub fn render_fit(f: &ExponentFit) -> String {
    let pts: Vec<String> = f
        .points
        .iter()
        .zip(&f.predicted)
        .map(
            |((x, e), p)| {
                if p.is_nan() {
                    format!("{x} → {e:.0}")
                } else {
                    format!("{x} → {e:.0} (derivation {p:.0})")
                }
            },
        )
        .collect();
    let theory = if f.theory.is_nan() {
        "none (the auction makes trades partial: A3)".to_string()
    } else {
        format!("{:.3}", f.theory)
    };
    format!(
        "{}: best band bps {}; slope {:.3}, 95 % bootstrap interval [{:.3}, {:.3}]; derivation {}; \
         with the daily overshoot added back {:.3} [{:.3}, {:.3}]\n",
        f.what,
        pts.join(", "),
        f.slope,
        f.ci95.0,
        f.ci95.1,
        theory,
        f.corrected_slope,
        f.corrected_ci95.0,
        f.corrected_ci95.1,
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

    #[test]
    fn fit_names_parse_and_an_unknown_one_is_refused_by_name() {
        let parsed: Vec<FitKind> = ["cost", "volatility", "impact"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(parsed, ALL_FITS.to_vec());
        assert_eq!("vol".parse::<FitKind>(), Err("unknown fit `vol` (cost, volatility or impact)".to_string()));
    }
}
