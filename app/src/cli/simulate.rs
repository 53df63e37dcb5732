//! `ballast simulate`: strategies compared over a price path (with `--flows`, users entering and leaving
//! beside them), or competing keepers against the auction.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ballast_harness::dex::Amm;
use ballast_sim::{self as sim, paths, EmaPath};

use super::{AmmArg, Route};

/// `ballast simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// gbm, regime or csv.
    #[arg(long, default_value = "gbm")]
    pub path: String,
    /// Price CSV (timestamp,asset,price) for `--path csv`; assets SOL, BTC, USDC.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    #[arg(long, default_value_t = 120)]
    pub steps: usize,
    /// Seconds between steps.
    #[arg(long, default_value_t = 86_400)]
    pub dt_secs: i64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// AMM fee of the pools (bps).
    #[arg(long, default_value_t = 30)]
    pub fee_bps: u16,
    /// Dollars on each side of each pool.
    #[arg(long, default_value_t = 2_000_000.0)]
    pub depth_usd: f64,
    /// Directory for steps.csv and results.json.
    #[arg(long, default_value = "sim-out")]
    pub out: PathBuf,
    /// Only write a generated example price CSV to this file and exit.
    #[arg(long)]
    pub write_example_csv: Option<PathBuf>,
    /// How the keeper trades (see `demo --route`).
    #[arg(long, value_enum, default_value_t = Route::Direct)]
    pub route: Route,
    /// Which AMM the pools are on (`--fee-bps` applies to the reference AMM; Raydium's config charges 25
    /// bps, the Whirlpools 30 bps).
    #[arg(long, value_enum, default_value_t = AmmArg::Reference)]
    pub amm: AmmArg,
    /// Instead of comparing strategies: run the 5 % band with this many competing keepers (different
    /// latencies and routes) against the rebalance auction and print what the vault was paid per
    /// rebalance against the best route's output.
    #[arg(long, default_value_t = 0)]
    pub keepers: usize,
    /// The vault's management fee (bps a year), accrued as shares; the run reports fees and the holders'
    /// net return.
    #[arg(long, default_value_t = 0)]
    pub management_fee_bps: u16,
    /// The vault's performance fee (bps of gains above the high-water mark).
    #[arg(long, default_value_t = 0)]
    pub performance_fee_bps: u16,
    /// Users enter and leave every step, before the keeper looks, in one asset each (`request_deposit` /
    /// `request_withdraw`, settled after the delay): the run reports the drift the flows removed against the
    /// trades', what entrants and leavers paid, and the exits refused as too large (`ballast_sim::flows`).
    #[arg(long)]
    pub flows: bool,
    /// With `--flows`: expected gross flow a step (entries and exits together), % of NAV.
    #[arg(long, default_value_t = 1.0)]
    pub flow_pct: f64,
    /// With `--flows`: tickets a step (each `--flow-pct / --flows-per-step` % of NAV on average, exponential).
    #[arg(long, default_value_t = 2)]
    pub flows_per_step: usize,
    /// With `--flows`: % of the tickets that are exits (the rest entries).
    #[arg(long, default_value_t = 50.0)]
    pub exit_pct: f64,
    /// With `--flows`: the asset users enter and leave in: `stable` (USDC), `smart` (entries in the most
    /// underweight asset, exits in the most overweight: no trade charge while the ticket fits the gap),
    /// `random`, or `mixed` (half each of `stable` and `smart`).
    #[arg(long, value_enum, default_value_t = FlowAsset::Mixed)]
    pub flow_asset: FlowAsset,
}

/// `--flow-asset` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowAsset {
    Stable,
    Smart,
    Random,
    Mixed,
}

impl From<FlowAsset> for sim::AssetPick {
    fn from(a: FlowAsset) -> Self {
        match a {
            FlowAsset::Stable => sim::AssetPick::Stable,
            FlowAsset::Smart => sim::AssetPick::Smart,
            FlowAsset::Random => sim::AssetPick::Random,
            FlowAsset::Mixed => sim::AssetPick::Mixed,
        }
    }
}

/// `simulate`'s flags alone, for [`SimulateArgs::parse_flags`].
#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    args: SimulateArgs,
}

impl SimulateArgs {
    /// `simulate`'s flags as the command line parses them (`flags` without the subcommand's name).
    pub fn parse_flags<S: AsRef<str>>(flags: &[S]) -> Result<SimulateArgs> {
        use clap::Parser as _;
        let argv = std::iter::once("simulate").chain(flags.iter().map(|f| f.as_ref()));
        Ok(Flags::try_parse_from(argv)?.args)
    }

    pub async fn run(self) -> Result<()> {
        if self.flows {
            // An exit refused as too large is asked again smaller (or paid in kind) and counted in the table.
            crate::logging::expect_refusals(["WithdrawalTooLarge".to_string()]);
        }
        let mut stdout = crate::logging::capture_program_logs();
        self.run_to(&mut stdout).await
    }

    /// The run, its report written to `out` (program logs stay wherever they go).
    pub async fn run_to(self, out: &mut dyn Write) -> Result<()> {
        let prices = self.prices()?;
        if let Some(file) = &self.write_example_csv {
            paths::write_csv(file, &sim::SYMBOLS, &prices.prices, 1_700_000_000, self.dt_secs)?;
            writeln!(out, "wrote {} steps to {}", prices.prices.len(), file.display())?;
            return Ok(());
        }
        let cfg = sim::SimConfig {
            dt_secs: self.dt_secs,
            fee_bps: self.fee_bps,
            pool_depth_usd: self.depth_usd,
            slippage_cap_bps: (self.fee_bps + 100).min(ballast::constants::MAX_SLIPPAGE_BPS),
            route: self.route.into(),
            amm: self.amm.into(),
            fees: ballast::state::FeeParams {
                management_bps: self.management_fee_bps,
                performance_bps: self.performance_fee_bps,
                ..Default::default()
            },
            flows: self.flow_config()?,
            ..Default::default()
        };
        if self.keepers > 0 {
            anyhow::ensure!(!self.flows, "--flows applies to the strategy comparison, not to --keepers");
            self.competition(&prices, &cfg, out).await
        } else {
            self.strategies(&prices, &cfg, out).await
        }
    }

    /// The flows asked for (`--flows`), drawn with `--seed`.
    fn flow_config(&self) -> Result<Option<sim::FlowConfig>> {
        if !self.flows {
            return Ok(None);
        }
        anyhow::ensure!((0.0..=100.0).contains(&self.exit_pct), "--exit-pct is a percentage (0 to 100)");
        anyhow::ensure!(self.flow_pct >= 0.0 && self.flow_pct.is_finite(), "--flow-pct must be 0 or more");
        anyhow::ensure!(self.flows_per_step > 0, "--flows-per-step must be at least 1");
        Ok(Some(sim::FlowConfig {
            rate_pct: self.flow_pct,
            per_step: self.flows_per_step,
            exit_share: self.exit_pct / 100.0,
            pick: self.flow_asset.into(),
            seed: self.seed,
        }))
    }

    /// The price path asked for and the Pyth EMA published beside it (`ballast_sim::ema`: for historical
    /// prices, modelled on their realised volatilities with `--seed`).
    fn prices(&self) -> Result<EmaPath> {
        let start = [150.0, 60_000.0, 1.0];
        let (steps, dt, seed) = (self.steps, self.dt_secs as f64, self.seed);
        Ok(match self.path.as_str() {
            "gbm" => EmaPath::gbm(&start, &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, steps, dt, seed),
            "regime" => EmaPath::regime(&start, &[0.6, 0.5, 0.0], &paths::STRESS_AND_JUMPS, steps, dt, seed),
            "csv" => {
                let file = self.csv.as_deref().context("--path csv needs --csv FILE")?;
                EmaPath::realised(paths::read_csv(file, &sim::SYMBOLS)?, dt, seed)
            }
            other => anyhow::bail!("unknown path {other:?}: use gbm, regime or csv"),
        })
    }

    async fn competition(&self, prices: &EmaPath, cfg: &sim::SimConfig, stdout: &mut dyn Write) -> Result<()> {
        let field = sim::competition::default_keepers(self.keepers);
        let result = sim::competition::run(prices, cfg, field).await?;
        writeln!(
            stdout,
            "{} path, {} steps of {} s, seed {}, pools {} bps fee and ${:.0} a side, 5 % bands, {} competing keepers\n",
            self.path,
            prices.prices.len() - 1,
            self.dt_secs,
            self.seed,
            self.fee_bps,
            self.depth_usd,
            self.keepers
        )?;
        write!(stdout, "{}", sim::competition::render(&result, &sim::SYMBOLS))?;
        let file = write_json(&self.out, "competition.json", &result)?;
        writeln!(stdout, "\nper rebalance: {}", file.display())?;
        Ok(())
    }

    async fn strategies(&self, prices: &EmaPath, cfg: &sim::SimConfig, stdout: &mut dyn Write) -> Result<()> {
        let strategies = sim::default_strategies();
        let mut progress = crate::output::Progress::new(Some(strategies.len() as u64));
        let steps = prices.prices.len() - 1;
        let started = std::time::Instant::now();
        let results =
            sim::run(&strategies, prices, cfg, |name| progress.step(&format!("{name}: {steps} steps"))).await?;
        let wall_secs = started.elapsed().as_secs_f64();
        progress.finish();
        let pools = match cfg.amm {
            Amm::Reference => format!("reference-AMM pools, {} bps fee", self.fee_bps),
            Amm::Raydium => "real Raydium CPMM pools, 25 bps fee".into(),
            Amm::Orca => "real Orca Whirlpools, 30 bps fee".into(),
        };
        let (path, dt, seed, depth) = (&self.path, self.dt_secs, self.seed, self.depth_usd);
        writeln!(stdout, "{path} path, {steps} steps of {dt} s, seed {seed}, {pools} and ${depth:.0} a side\n")?;
        write!(stdout, "{}", sim::render_table(&results))?;
        if cfg.fees.management_bps > 0 || cfg.fees.performance_bps > 0 {
            let (m, p) = (cfg.fees.management_bps, cfg.fees.performance_bps);
            writeln!(stdout, "\nafter the vault's fees ({m} bps a year, {p} bps of gains above the high-water mark):")?;
            write!(stdout, "{}", sim::render_fees(&results))?;
        }
        if let Some(flows) = &cfg.flows {
            self.flows_table(flows, &results, stdout)?;
        }
        std::fs::create_dir_all(&self.out)?;
        sim::write_steps_csv(&self.out.join("steps.csv"), &results)?;
        let summary = write_json(&self.out, "results.json", &results)?;
        let csv = self.out.join("steps.csv");
        writeln!(stdout, "\nper-step state: {}, summary: {}", csv.display(), summary.display())?;
        if cfg.flows.is_some() {
            let file = self.out.join("flows.csv");
            sim::write_flows_csv(&file, &results)?;
            writeln!(stdout, "every flow: {}", file.display())?;
        }
        let guard = ballast_client::default_params().max_ema_divergence_bps;
        writeln!(stdout, "{}", sim::render_ema_summary(&sim::ema::divergence(prices, self.dt_secs, guard), &results))?;
        writeln!(stdout, "{}", sim::render_throughput(&results, wall_secs))?;
        // Weights chart of the 5 % band strategy (index 3 of the default set).
        match sim::plots::write_all(&self.out, &results, (3, 500.0)) {
            Ok(files) => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                writeln!(stdout, "charts: {}", names.join(", "))?;
            }
            Err(e) => writeln!(stdout, "{e}")?,
        }
        Ok(())
    }
}

impl SimulateArgs {
    /// The flows' table under its heading.
    fn flows_table(&self, flows: &sim::FlowConfig, results: &[sim::StrategyResult], out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "\nflows: {} tickets a step, {:.2} % of NAV a step on average, {:.0} % exits, asset picked {}. drift: the \
             value out of place (½·Σ|value − target·NAV|) the price moves added, and the flows and the keeper's \
             trades removed, summed over the steps (flows %: the flows' share of the removal); paid: fee + trade \
             charge kept by the vault, $ and bp of the flow. With flows, TE and max DD leave the flows out and vs \
             B&H compares share prices.",
            flows.per_step,
            flows.rate_pct,
            flows.exit_share * 100.0,
            flows.pick.name()
        )?;
        write!(out, "{}", sim::render_flows(results))?;
        Ok(())
    }
}

/// Writes `value` as pretty JSON to `dir/name` (creating `dir`); returns the file.
fn write_json(dir: &Path, name: &str, value: &impl serde::Serialize) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(value)?)?;
    Ok(file)
}
