//! `ballast tune`: band settings searched over simulated paths, or the band studies.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use ballast_sim::{study, tune};

/// `ballast tune`.
#[derive(Debug, Clone, clap::Args)]
pub struct TuneArgs {
    #[arg(long, default_value_t = 3)]
    pub paths: usize,
    #[arg(long, default_value_t = 90)]
    pub steps: usize,
    #[arg(long, default_value_t = 30)]
    pub fee_bps: u16,
    /// Weight of TE%² against cost in bps.
    #[arg(long, default_value_t = 1.0)]
    pub risk_aversion: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Instead: fit how the best fixed band grows with the cost (fees 8–125 bps on deep pools, then on
    /// $150k pools) and with volatility (×0.5, ×1, ×2), over `--seeds` paths of `--steps` days, with
    /// 95 % bootstrap intervals.
    #[arg(long)]
    pub fit_exponent: bool,
    /// With `--fit-exponent`: only these fits, comma-separated, of `cost` (the best band against the cost,
    /// deep pools), `volatility` (against a volatility scale ×0.5, ×1, ×2, deep pools) and `impact` (against
    /// the cost with $150k pools); default all three.
    #[arg(long, value_delimiter = ',')]
    pub fits: Vec<study::FitKind>,
    /// Instead: compare the hindsight-best fixed band, the linear volatility band and the cost-optimal
    /// band over `--seeds` paths of `--steps` days of each kind (GBM with correlations 0, 0.5 and 0.8,
    /// regime switching): J = cost bp a year + λ·TE%², mean ± se, paired differences.
    #[arg(long)]
    pub compare_bands: bool,
    /// Paths per setting for `--compare-bands` / `--fit-exponent`.
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// Write the study's results here as JSON.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// With a management fee (bps a year) and/or a performance fee (bps of gains above the high-water
    /// mark): also print the recommended setting's share price along the first path without and with them.
    #[arg(long, default_value_t = 0)]
    pub management_fee_bps: u16,
    #[arg(long, default_value_t = 0)]
    pub performance_fee_bps: u16,
}

impl TuneArgs {
    pub async fn run(self) -> Result<()> {
        if self.compare_bands {
            self.compare_bands().await
        } else if self.fit_exponent {
            self.fit_exponent().await
        } else {
            self.search().await
        }
    }

    fn study_config(&self) -> study::StudyConfig {
        let (seeds, steps, fee_bps, risk_aversion, seed) =
            (self.seeds, self.steps, self.fee_bps, self.risk_aversion, self.seed);
        study::StudyConfig { seeds, steps, fee_bps, risk_aversion, seed, ..Default::default() }
    }

    async fn compare_bands(&self) -> Result<()> {
        let mut stdout = crate::logging::capture_program_logs();
        let cfg = self.study_config();
        let started = std::time::Instant::now();
        let mut progress = crate::output::Progress::new(None);
        let out = study::compare_bands(&cfg, &study::COMPARISON_KINDS, |s| progress.step(s)).await?;
        progress.finish();
        for c in &out {
            writeln!(stdout, "{}", study::render_comparison(c))?;
        }
        writeln!(stdout, "{:.0} s on {} threads", started.elapsed().as_secs_f64(), cfg.threads)?;
        if let Some(file) = &self.json_out {
            std::fs::write(file, serde_json::to_string_pretty(&out)?)?;
        }
        Ok(())
    }

    async fn fit_exponent(&self) -> Result<()> {
        let mut stdout = crate::logging::capture_program_logs();
        let cfg = self.study_config();
        let started = std::time::Instant::now();
        let mut progress = crate::output::Progress::new(None);
        let which = if self.fits.is_empty() { &study::ALL_FITS[..] } else { &self.fits[..] };
        let fits = study::fit_exponents(&cfg, which, |s| progress.step(s)).await?;
        progress.finish();
        for f in &fits {
            write!(stdout, "{}", study::render_fit(f))?;
        }
        writeln!(stdout, "{:.0} s on {} threads", started.elapsed().as_secs_f64(), cfg.threads)?;
        if let Some(file) = &self.json_out {
            std::fs::write(file, serde_json::to_string_pretty(&fits)?)?;
        }
        Ok(())
    }

    async fn search(&self) -> Result<()> {
        let mut stdout = crate::logging::capture_program_logs();
        let (paths, steps, fee_bps, risk_aversion, seed) =
            (self.paths, self.steps, self.fee_bps, self.risk_aversion, self.seed);
        let cfg = tune::TuneConfig { paths, steps, fee_bps, risk_aversion, seed, ..Default::default() };
        let mut progress = crate::output::Progress::new(None);
        let points = tune::tune(&cfg, |s| progress.step(s)).await?;
        progress.finish();
        write!(stdout, "{}", tune::render(&points))?;
        let Some(best) = tune::recommend(&points) else { return Ok(()) };
        writeln!(stdout, "\nrecommended: {} (objective = cost bp a year + {risk_aversion} × TE%²)", best.strategy)?;
        let (m, p) = (self.management_fee_bps, self.performance_fee_bps);
        if let (Some(strategy), true) = (best.setting, m > 0 || p > 0) {
            let fees = ballast::state::FeeParams { management_bps: m, performance_bps: p, ..Default::default() };
            let (without, with) = tune::share_price_paths(&cfg, strategy, fees).await?;
            writeln!(
                stdout,
                "\nshare price of {} on the first path, without and with the fees ({m} bps a year, {p} bps of gains):",
                best.strategy
            )?;
            writeln!(stdout, "{:>6} {:>12} {:>12} {:>9}", "step", "no fees $", "fees $", "fees %")?;
            let every = (without.len() / 10).max(1);
            for (i, (a, b)) in
                without.iter().zip(&with).enumerate().filter(|(i, _)| i % every == 0 || *i + 1 == without.len())
            {
                writeln!(stdout, "{i:>6} {a:>12.6} {b:>12.6} {:>9.3}", (1.0 - b / a) * 100.0)?;
            }
        }
        Ok(())
    }
}
