//! Pyth's EMA beside the simulator's prices.
//!
//! Pyth publishes with every price an exponential moving average over about 5 921 slots: a time constant
//! `τ` of about 2 368 s ([`PYTH_EMA_TAU_SECS`]). The program opens the rebalance auction only on readings
//! whose every price is within the vault's `max_ema_divergence_bps` of its EMA (`poke` and a rebalance
//! attempt are refused with `OracleDivergence`; the keeper's planner holds with `Hold::EmaDivergence`), so
//! what the EMA shows at a step's publish time decides whether that step's rebalance may start.
//!
//! The model. Within a step of `dt` seconds an asset's log price goes from the previous step's to this
//! step's as a Brownian bridge with the asset's volatility σ (per √second), plus the path generator's jump
//! `J`, if the step has one, at an age `u` uniform within the step. The EMA averages the log price with
//! weight `e^(−age/τ)`, so the log gap `g = ln(spot / EMA)` is an Ornstein–Uhlenbeck process and, exactly,
//! with `a = e^(−dt/τ)` and `r` the step's log return:
//!
//! ```text
//! g_k = a·g_(k−1) + (r − J)·τ·(1 − a)/dt + J·e^(−u/τ) + σ·√V·z,    V = τ/2·(1 − a²) − τ²·(1 − a)²/dt
//! ```
//!
//! with `z` standard normal, correlated across assets as the path's shocks.
//! - Steps much longer than `τ` (the simulator's daily steps): `a ≈ 0`, the EMA shows what the price did in
//!   its last hour or so: the gap is normal with variance `σ²·τ/2` (less `σ²·τ²/dt`, which the bridge's
//!   mean `r·τ/dt` gives back), plus a jump's decayed part `J·e^(−u/τ)`.
//! - Steps shorter than `τ`: `V` vanishes and this is the exact EWMA update from the previous EMA along the
//!   step's (log-linear) path.
//!
//! Whatever `dt`, the gaps' unconditional variance is the process's stationary `σ²·τ/2` (unit tests). The
//! EMA's own randomness comes from a stream of its own, so a seed's prices are what they were without it.
//! The EMA is geometric (of the log price) where Pyth's is arithmetic (and weights by confidence): the
//! same to first order in the gap. Limitation: while an auction runs within a step the harness re-publishes
//! prices with their EMA at the price (`VaultFixture::refresh_prices`); that matters only if the auction
//! had to open again within the step, and the next step's publication is the model's again.

use std::borrow::Cow;

use ballast_harness::chain::Chain;
use ballast_harness::fixture::VaultFixture;
use ballast_harness::pyth::PriceSpec;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::paths::{self, Path2, RegimePath};

/// Pyth's EMA window in slots.
pub const PYTH_EMA_SLOTS: f64 = 5_921.0;
/// Its time constant in seconds (5 921 slots of 0.4 s).
pub const PYTH_EMA_TAU_SECS: f64 = 2_368.0;

const YEAR_SECS: f64 = 31_536_000.0;
/// Mixed into a path's seed for the EMA's own random stream ("PYTHEMA!").
const EMA_STREAM: u64 = 0x5059_5448_454d_4121;

/// A price path and the EMA Pyth would publish beside each step's prices (same shape).
#[derive(Debug, Clone, PartialEq)]
pub struct EmaPath {
    pub prices: Path2,
    pub emas: Path2,
}

/// What the simulator runs over: prices per step and the EMA published with them.
pub trait SimPath {
    fn prices(&self) -> &Path2;
    /// The EMA of every step, for steps of `dt_secs`.
    fn emas(&self, dt_secs: i64) -> Cow<'_, Path2>;
}

impl SimPath for EmaPath {
    fn prices(&self) -> &Path2 {
        &self.prices
    }

    fn emas(&self, _dt_secs: i64) -> Cow<'_, Path2> {
        Cow::Borrowed(&self.emas)
    }
}

/// A bare path (no generator to ask): the EMA modelled on its realised volatilities, seeded by the path.
impl SimPath for Path2 {
    fn prices(&self) -> &Path2 {
        self
    }

    fn emas(&self, dt_secs: i64) -> Cow<'_, Path2> {
        Cow::Owned(realised_emas(self, dt_secs as f64, path_seed(self)))
    }
}

impl EmaPath {
    /// The EMA at the price at every step (as published before this model: the guard never refuses).
    pub fn flat(prices: Path2) -> Self {
        Self { emas: prices.clone(), prices }
    }

    /// [`paths::gbm`] and its EMA.
    pub fn gbm(start: &[f64], drift: &[f64], vol: &[f64], corr: f64, steps: usize, dt_secs: f64, seed: u64) -> Self {
        let prices = paths::gbm(start, drift, vol, corr, steps, dt_secs, seed);
        Self { emas: gbm_emas(&prices, vol, corr, dt_secs, seed), prices }
    }

    /// [`paths::regime_detailed`] and its EMA (the stress regime's volatility and the jumps as drawn).
    pub fn regime(start: &[f64], vol: &[f64], m: &paths::Switching, steps: usize, dt_secs: f64, seed: u64) -> Self {
        let r = paths::regime_detailed(start, vol, m, steps, dt_secs, seed);
        Self { emas: regime_emas(&r, vol, m.stress_mult, dt_secs, seed), prices: r.prices }
    }

    /// Historical prices (CSV) and an EMA modelled on their realised volatilities.
    pub fn realised(prices: Path2, dt_secs: f64, seed: u64) -> Self {
        Self { emas: realised_emas(&prices, dt_secs, seed), prices }
    }
}

/// The EMA of a GBM path of annual volatilities `vol` and shock correlation `corr`.
pub fn gbm_emas(prices: &Path2, vol: &[f64], corr: f64, dt_secs: f64, seed: u64) -> Path2 {
    emas_along(prices, dt_secs, corr, seed, |_, i| (vol[i] / YEAR_SECS.sqrt(), 0.0))
}

/// The EMA of a regime-switching path: each step's volatility is its regime's, its jumps as drawn.
pub fn regime_emas(r: &RegimePath, vol: &[f64], stress_mult: f64, dt_secs: f64, seed: u64) -> Path2 {
    // The regime model's shocks load 0.7 on a common factor and 0.71 on their own.
    let corr = 0.49 / (0.49 + 0.71 * 0.71);
    emas_along(&r.prices, dt_secs, corr, seed, |k, i| {
        let s = if r.stress[k] { vol[i] * stress_mult } else { vol[i] };
        (s / YEAR_SECS.sqrt(), r.jumps[k][i])
    })
}

/// The EMA of a path of unknown origin: each asset's volatility is its realised one over the path (jumps
/// included), shocks independent.
pub fn realised_emas(prices: &Path2, dt_secs: f64, seed: u64) -> Path2 {
    let n = prices.first().map_or(0, Vec::len);
    let vols: Vec<f64> = (0..n)
        .map(|i| {
            let r: Vec<f64> = prices.windows(2).map(|w| (w[1][i] / w[0][i]).ln()).collect();
            let mean = r.iter().sum::<f64>() / r.len().max(1) as f64;
            let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / r.len().saturating_sub(1).max(1) as f64;
            (var / dt_secs.max(1.0)).sqrt()
        })
        .collect();
    emas_along(prices, dt_secs, 0.0, seed, |_, i| (vols[i], 0.0))
}

/// The model of the module's documentation along `prices` (steps of `dt_secs`): `moves(step, asset)` is
/// the diffusion's volatility per √second within that step and its jump (log return, 0 for none). The
/// first row's EMA is the price (a price that has held).
pub fn emas_along(
    prices: &Path2,
    dt_secs: f64,
    corr: f64,
    seed: u64,
    moves: impl Fn(usize, usize) -> (f64, f64),
) -> Path2 {
    let (tau, dt) = (PYTH_EMA_TAU_SECS, dt_secs.max(1.0));
    let a = (-dt / tau).exp();
    let drift_weight = tau * (1.0 - a) / dt;
    let bridge_sd = (tau / 2.0 * (1.0 - a * a) - tau * tau * (1.0 - a).powi(2) / dt).max(0.0).sqrt();
    let corr = corr.clamp(0.0, 1.0);
    let (common_w, own_w) = (corr.sqrt(), (1.0 - corr).sqrt());
    let mut rng = StdRng::seed_from_u64(seed ^ EMA_STREAM);
    let n = prices.first().map_or(0, Vec::len);
    let mut gap = vec![0.0; n];
    let mut out: Path2 = prices.first().cloned().into_iter().collect();
    for k in 1..prices.len() {
        let common = paths::normal(&mut rng);
        let mut row = Vec::with_capacity(n);
        for (i, g) in gap.iter_mut().enumerate() {
            let z = common_w * common + own_w * paths::normal(&mut rng);
            let age = rng.gen::<f64>() * dt;
            let (sigma, jump) = moves(k, i);
            let r = (prices[k][i] / prices[k - 1][i]).ln();
            *g = a * *g + (r - jump) * drift_weight + jump * (-age / tau).exp() + sigma * bridge_sd * z;
            row.push(prices[k][i] * (-*g).exp());
        }
        out.push(row);
    }
    out
}

/// A seed drawn from a path's prices (FNV-1a over their bits): the same path, the same EMA.
pub fn path_seed(prices: &Path2) -> u64 {
    prices.iter().flatten().fold(0xcbf2_9ce4_8422_2325u64, |h, p| (h ^ p.to_bits()).wrapping_mul(0x0100_0000_01b3))
}

/// How far a price is from its EMA, in bps of the EMA (as the program measures it, before rounding).
pub fn gap_bps(price: f64, ema: f64) -> f64 {
    (price - ema).abs() / ema * 10_000.0
}

/// How often a path's prices stray from their EMA.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Divergence {
    /// Steps after the start.
    pub steps: usize,
    /// Steps on which some asset's price is more than `max_bps` from its EMA.
    pub divergent_steps: usize,
    pub max_bps: u16,
    /// The largest gap on the path (bps).
    pub largest_gap_bps: f64,
}

/// [`Divergence`] of `path` (steps of `dt_secs`) against a guard of `max_bps`, on the published mantissas.
pub fn divergence(path: &(impl SimPath + ?Sized), dt_secs: i64, max_bps: u16) -> Divergence {
    let (prices, emas) = (path.prices(), path.emas(dt_secs));
    let mut d = Divergence { steps: prices.len().saturating_sub(1), divergent_steps: 0, max_bps, largest_gap_bps: 0.0 };
    for (p, e) in prices.iter().zip(emas.iter()).skip(1) {
        let worst = p
            .iter()
            .zip(e)
            .map(|(p, e)| gap_bps(crate::mantissa(*p) as f64, crate::mantissa(*e) as f64))
            .fold(0.0, f64::max);
        d.largest_gap_bps = d.largest_gap_bps.max(worst);
        d.divergent_steps += usize::from(worst > f64::from(max_bps));
    }
    d
}

/// Publishes a step's prices and their EMAs (USD per whole token) for every asset at the current time.
pub async fn publish(chain: &mut Chain, fx: &VaultFixture, prices: &[f64], emas: &[f64]) {
    let now = chain.clock().await.unix_timestamp;
    for (a, (p, e)) in fx.assets.iter().zip(prices.iter().zip(emas)) {
        let spec = PriceSpec::new(a.feed_id, crate::mantissa(*p), a.spec.expo, now).with_ema(crate::mantissa(*e));
        chain.set_price(&a.oracle, &spec).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOL_VOL: f64 = 0.8;

    /// Variance of the log gaps of asset 0 over `path`.
    fn gap_variance(path: &EmaPath) -> f64 {
        let g: Vec<f64> = path.prices.iter().zip(&path.emas).skip(1).map(|(p, e)| (p[0] / e[0]).ln()).collect();
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        g.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (g.len() - 1) as f64
    }

    #[test]
    fn the_ema_follows_a_constant_price() {
        let flat = vec![vec![150.0, 1.0]; 50];
        assert_eq!(realised_emas(&flat, 86_400.0, 3), flat);
        // A flat asset of a GBM path (zero volatility) keeps its EMA at the price.
        let p = EmaPath::gbm(&[150.0, 1.0], &[0.0; 2], &[SOL_VOL, 0.0], 0.5, 200, 86_400.0, 9);
        assert!(p.emas.iter().all(|e| e[1] == 1.0));
        // After a move to 110 over one short step, the EMA closes the gap as e^(−t/τ): the exact EWMA.
        let mut moved = vec![vec![100.0]];
        moved.extend(std::iter::repeat_n(vec![110.0], 400));
        let dt = 60.0;
        let ema = emas_along(&moved, dt, 0.0, 1, |_, _| (0.0, 0.0));
        let (a, r) = ((-dt / PYTH_EMA_TAU_SECS).exp(), 1.1f64.ln());
        let first_gap = r * PYTH_EMA_TAU_SECS * (1.0 - a) / dt;
        for (k, e) in ema.iter().enumerate().skip(1) {
            let gap = first_gap * a.powi(k as i32 - 1);
            assert!(((110.0 / e[0]).ln() - gap).abs() < 1e-12, "step {k}");
            assert!(e[0] > ema[k - 1][0] && e[0] < 110.0);
        }
        assert!((ema[400][0] - 110.0).abs() < 110.0 * 1e-4, "after 10 τ the EMA is at the price: {}", ema[400][0]);
    }

    #[test]
    fn the_gap_variance_is_sigma_squared_tau_over_two_whatever_the_step() {
        let sigma = SOL_VOL / YEAR_SECS.sqrt();
        let expected = sigma * sigma * PYTH_EMA_TAU_SECS / 2.0;
        // (drift σ²/2 keeps the long paths' log prices from wandering off.)
        for (dt, steps) in [(86_400.0, 60_000), (3_600.0, 60_000), (300.0, 200_000)] {
            let p = EmaPath::gbm(&[150.0, 1.0], &[0.32, 0.0], &[SOL_VOL, 0.0], 0.5, steps, dt, 4);
            let v = gap_variance(&p);
            assert!((v / expected - 1.0).abs() < 0.05, "dt {dt}: variance {v:e} vs σ²τ/2 {expected:e}");
        }
        // Daily: a standard deviation of about 49 bps for 80 % a year.
        assert!((expected.sqrt() * 1e4 - 49.0).abs() < 1.0);
    }

    #[test]
    fn a_jump_shows_in_the_ema_by_its_decayed_part() {
        // Always in stress, a jump of 8 % every step, hardly any diffusion: the gap exceeds 3 % when the jump
        // is younger than τ·ln(8/3), a share τ·ln(8/3)/dt of the steps.
        let m = paths::Switching {
            stress_mult: 1.0,
            jump: 0.08,
            jump_prob: 1.0,
            p_calm_to_stress: 1.0,
            p_stress_to_calm: 0.0,
        };
        let (dt, steps) = (86_400.0, 40_000);
        let p = EmaPath::regime(&[150.0, 1.0], &[1e-6, 0.0], &m, steps, dt, 2);
        let wide = p.prices.iter().zip(&p.emas).skip(1).filter(|(p, e)| gap_bps(p[0], e[0]) > 300.0).count();
        let expected = PYTH_EMA_TAU_SECS * (0.08f64 / 0.03).ln() / dt * steps as f64;
        assert!((wide as f64 / expected - 1.0).abs() < 0.15, "{wide} steps beyond 3 % vs {expected:.0}");
        assert!(p.emas.iter().all(|e| e[1] == 1.0));
    }

    #[test]
    fn deterministic_for_a_seed_and_the_prices_unchanged() {
        let a = EmaPath::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, 100, 86_400.0, 1);
        let b = EmaPath::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, 100, 86_400.0, 1);
        assert_eq!(a, b);
        assert_eq!(a.prices, paths::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, 100, 86_400.0, 1));
        assert_ne!(a.emas, a.prices);
        let bare = a.prices.clone();
        assert_eq!(bare.emas(86_400), bare.emas(86_400));
        assert_eq!(divergence(&a, 86_400, 300), divergence(&b, 86_400, 300));
    }
}
