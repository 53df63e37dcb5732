//! Price paths for the simulator: correlated geometric Brownian motion, a calm/stress regime-switching
//! model with jumps, and historical prices from CSV (`timestamp,asset,price`). Float math is fine here:
//! paths are inputs, the program's own integer math does the accounting.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Prices per step (outer) per asset (inner), in USD per whole token.
pub type Path2 = Vec<Vec<f64>>;

/// Standard normal from two uniforms (Box–Muller).
pub(crate) fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Correlated GBM: `drift` and `vol` are annualised per asset, `corr` the pairwise correlation of the
/// Brownian shocks (one common factor). A zero `vol` keeps an asset flat (a stablecoin).
pub fn gbm(start: &[f64], drift: &[f64], vol: &[f64], corr: f64, steps: usize, dt_secs: f64, seed: u64) -> Path2 {
    let mut rng = StdRng::seed_from_u64(seed);
    let dt = dt_secs / 31_536_000.0;
    let mut p = start.to_vec();
    let mut out = vec![p.clone()];
    let (a, b) = (corr.clamp(0.0, 1.0).sqrt(), (1.0 - corr.clamp(0.0, 1.0)).sqrt());
    for _ in 0..steps {
        let common = normal(&mut rng);
        for i in 0..p.len() {
            let z = a * common + b * normal(&mut rng);
            p[i] *= ((drift[i] - vol[i] * vol[i] / 2.0) * dt + vol[i] * dt.sqrt() * z).exp();
        }
        out.push(p.clone());
    }
    out
}

/// Regime switching: calm (volatility `vol`) and stress (volatility × `stress_mult`, plus jumps of ±`jump`
/// with probability `jump_prob` a step), switching with probabilities `p_calm_to_stress` and
/// `p_stress_to_calm` per step. Returns the path and the regime of each step (true = stress).
#[allow(clippy::too_many_arguments)]
pub fn regime(
    start: &[f64],
    vol: &[f64],
    stress_mult: f64,
    jump: f64,
    jump_prob: f64,
    p_calm_to_stress: f64,
    p_stress_to_calm: f64,
    steps: usize,
    dt_secs: f64,
    seed: u64,
) -> (Path2, Vec<bool>) {
    let switching = Switching { stress_mult, jump, jump_prob, p_calm_to_stress, p_stress_to_calm };
    let r = regime_detailed(start, vol, &switching, steps, dt_secs, seed);
    (r.prices, r.stress)
}

/// The regime model's parameters besides the calm volatilities (see [`regime`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Switching {
    pub stress_mult: f64,
    /// Size of a jump (log return, either sign).
    pub jump: f64,
    pub jump_prob: f64,
    pub p_calm_to_stress: f64,
    pub p_stress_to_calm: f64,
}

/// The regime model of `simulate --path regime` and the band studies: 3× volatility in stress, jumps of ±8 %
/// in 10 % of stress steps, calm → stress with probability 3 % a step and stress → calm 15 %.
pub const STRESS_AND_JUMPS: Switching =
    Switching { stress_mult: 3.0, jump: 0.08, jump_prob: 0.1, p_calm_to_stress: 0.03, p_stress_to_calm: 0.15 };

/// A regime-switching path with what drew it: the regime of each step and each step's jump per asset.
#[derive(Debug, Clone, PartialEq)]
pub struct RegimePath {
    pub prices: Path2,
    /// The regime of each step (true = stress), the first row's false.
    pub stress: Vec<bool>,
    /// The jump (log return, 0 for none) within each step per asset, the first row's zeros.
    pub jumps: Vec<Vec<f64>>,
}

/// [`regime`] with its regimes and jumps (the same path for the same seed).
pub fn regime_detailed(start: &[f64], vol: &[f64], m: &Switching, steps: usize, dt_secs: f64, seed: u64) -> RegimePath {
    let mut rng = StdRng::seed_from_u64(seed);
    let dt = dt_secs / 31_536_000.0;
    let mut p = start.to_vec();
    let mut out = RegimePath { prices: vec![p.clone()], stress: vec![false], jumps: vec![vec![0.0; p.len()]] };
    let mut stress = false;
    for _ in 0..steps {
        stress = if stress { rng.gen::<f64>() >= m.p_stress_to_calm } else { rng.gen::<f64>() < m.p_calm_to_stress };
        let common = normal(&mut rng);
        let mut jumps = vec![0.0; p.len()];
        for i in 0..p.len() {
            if vol[i] == 0.0 {
                continue;
            }
            let s = if stress { vol[i] * m.stress_mult } else { vol[i] };
            let z = 0.7 * common + 0.71 * normal(&mut rng);
            let mut r = -s * s / 2.0 * dt + s * dt.sqrt() * z;
            if stress && rng.gen::<f64>() < m.jump_prob {
                jumps[i] = if rng.gen::<bool>() { m.jump } else { -m.jump };
                r += jumps[i];
            }
            p[i] *= r.exp();
        }
        out.prices.push(p.clone());
        out.stress.push(stress);
        out.jumps.push(jumps);
    }
    out
}

/// Reads `timestamp,asset,price` rows (a header line is allowed) for the given asset symbols, in
/// timestamp order. Every timestamp must carry a price for every asset.
pub fn read_csv(path: &Path, symbols: &[&str]) -> Result<Path2> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let mut rows: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        if parts.len() != 3 {
            bail!("{}:{}: expected timestamp,asset,price", path.display(), n + 1);
        }
        let ts: i64 = parts[0].parse().map_err(|_| anyhow!("{}:{}: bad timestamp", path.display(), n + 1))?;
        let price: f64 = parts[2].parse().map_err(|_| anyhow!("{}:{}: bad price", path.display(), n + 1))?;
        if !(price.is_finite() && price > 0.0) {
            bail!("{}:{}: price must be positive", path.display(), n + 1);
        }
        rows.entry(ts).or_default().insert(parts[1].to_string(), price);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (ts, prices) in rows {
        let row: Option<Vec<f64>> = symbols.iter().map(|s| prices.get(*s).copied()).collect();
        out.push(row.ok_or_else(|| anyhow!("timestamp {ts} lacks a price for one of {symbols:?}"))?);
    }
    if out.len() < 2 {
        bail!("{}: need at least two timestamps", path.display());
    }
    Ok(out)
}

/// Writes a path as `timestamp,asset,price` CSV (the format `read_csv` reads).
pub fn write_csv(path: &Path, symbols: &[&str], prices: &Path2, start_ts: i64, dt_secs: i64) -> Result<()> {
    let mut s = String::from("timestamp,asset,price\n");
    for (k, row) in prices.iter().enumerate() {
        for (sym, p) in symbols.iter().zip(row) {
            s.push_str(&format!("{},{},{:.8}\n", start_ts + k as i64 * dt_secs, sym, p));
        }
    }
    std::fs::write(path, s).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbm_is_deterministic_and_flat_for_zero_vol() {
        let a = gbm(&[100.0, 1.0], &[0.0, 0.0], &[0.8, 0.0], 0.5, 50, 3_600.0, 7);
        let b = gbm(&[100.0, 1.0], &[0.0, 0.0], &[0.8, 0.0], 0.5, 50, 3_600.0, 7);
        assert_eq!(a, b);
        assert_eq!(a.len(), 51);
        assert!(a.iter().all(|r| r[1] == 1.0));
        assert_ne!(a, gbm(&[100.0, 1.0], &[0.0, 0.0], &[0.8, 0.0], 0.5, 50, 3_600.0, 8));
    }

    #[test]
    fn csv_round_trip() {
        let dir = std::env::temp_dir().join(format!("ballast-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.csv");
        let path = gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[0.6, 0.5, 0.0], 0.6, 10, 3_600.0, 1);
        write_csv(&f, &["SOL", "BTC", "USDC"], &path, 1_700_000_000, 3_600).unwrap();
        let back = read_csv(&f, &["SOL", "BTC", "USDC"]).unwrap();
        assert_eq!(back.len(), path.len());
        for (x, y) in back.iter().flatten().zip(path.iter().flatten()) {
            assert!((x - y).abs() <= 1e-8 * y.max(1.0));
        }
        assert!(read_csv(&f, &["SOL", "ETH"]).is_err());
    }
}
