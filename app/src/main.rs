use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use ballast_app::demo::{self, DemoMode, DemoOptions};
use ballast_harness::localnet::{self, LocalnetOptions, PricePath};
use clap::{Parser, Subcommand};
use solana_signer::Signer;

/// ballast: an oracle-priced, permissionlessly rebalanced multi-asset vault.
#[derive(Parser)]
#[command(name = "ballast", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole flow on an embedded in-process chain and print holdings, weights and drift.
    Demo {
        /// Print only one JSON object (the final state) as the last line.
        #[arg(long)]
        json: bool,
        /// Target and band mode of the demo vault.
        #[arg(long, value_enum, default_value_t = DemoMode::Fixed)]
        mode: DemoMode,
        /// How the keeper trades: direct (`rebalance` through the whitelisted AMM) or flash
        /// (`rebalance_begin`, the keeper's own swap, `rebalance_end`).
        #[arg(long, value_enum, default_value_t = Route::Direct)]
        route: Route,
        /// Which AMM the vault's pools are on: the reference AMM, or the real Raydium CPMM or Orca
        /// Whirlpool programs (compiled builds executed in the embedded chain's SBF VM).
        #[arg(long, value_enum, default_value_t = AmmArg::Reference)]
        amm: AmmArg,
    },
    /// Print rebalance transaction sizes (2–16 assets, legacy and with a lookup table) and the embedded
    /// chain's rebalance throughput.
    Bench {
        /// Rebalances to time for the throughput figure.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
        /// Instead: decode, value and plan this many synthetic vault snapshots (3–16 assets) from memory
        /// with the keeper's code, on one core, and print vaults per second.
        #[arg(long)]
        keeper: bool,
        /// Synthetic vaults for `--keeper`.
        #[arg(long, default_value_t = 10_000)]
        vaults: usize,
        /// Instead: the simulator's speed, simulated steps per second, one simulation at a time and as many
        /// at once as the machine has cores.
        #[arg(long)]
        sim: bool,
        /// Instead: load-test `ballast localnet`'s JSON-RPC and websocket pubsub on loopback and print
        /// p50/p99 latencies and errors.
        #[arg(long)]
        rpc: bool,
        /// Concurrent clients for `--rpc`.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// JSON-RPC requests per client for `--rpc`.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Transactions each client sends and confirms over `signatureSubscribe` for `--rpc`.
        #[arg(long, default_value_t = 5)]
        confirms: usize,
    },
    /// Serve the embedded chain with the demo vault over Solana JSON-RPC, moving oracle prices.
    Localnet {
        #[arg(long, default_value = "127.0.0.1:8899")]
        addr: SocketAddr,
        /// Websocket pubsub address (default: the RPC port + 1, as validators serve it; the RPC port
        /// also accepts websocket upgrades).
        #[arg(long)]
        ws_addr: Option<SocketAddr>,
        /// Also serve the web dashboard here (it is always served on the RPC address, at `/`).
        #[arg(long)]
        dashboard_addr: Option<SocketAddr>,
        /// Write the demo vault's governance and guardian keypairs here (governance.json, guardian.json).
        #[arg(long)]
        keys_dir: Option<PathBuf>,
        /// hold, scripted or random.
        #[arg(long, default_value = "scripted")]
        price_path: PricePath,
        /// Seconds between price steps.
        #[arg(long, default_value_t = 3.0)]
        step_secs: f64,
    },
    /// Run the permissionless keeper bot against a JSON-RPC endpoint (the same code as `ballast-keeper`).
    Keeper {
        #[command(flatten)]
        args: ballast_keeper::KeeperArgs,
    },
    /// Compare rebalancing strategies by running the real programs over a price path.
    Simulate {
        /// gbm, regime or csv.
        #[arg(long, default_value = "gbm")]
        path: String,
        /// Price CSV (timestamp,asset,price) for `--path csv`; assets SOL, BTC, USDC.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long, default_value_t = 120)]
        steps: usize,
        /// Seconds between steps.
        #[arg(long, default_value_t = 86_400)]
        dt_secs: i64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// AMM fee of the pools (bps).
        #[arg(long, default_value_t = 30)]
        fee_bps: u16,
        /// Dollars on each side of each pool.
        #[arg(long, default_value_t = 2_000_000.0)]
        depth_usd: f64,
        /// Directory for steps.csv and results.json.
        #[arg(long, default_value = "sim-out")]
        out: PathBuf,
        /// Only write a generated example price CSV to this file and exit.
        #[arg(long)]
        write_example_csv: Option<PathBuf>,
        /// How the keeper trades (see `demo --route`).
        #[arg(long, value_enum, default_value_t = Route::Direct)]
        route: Route,
        /// Which AMM the pools are on (`--fee-bps` applies to the reference AMM; Raydium's config charges 25
        /// bps, the Whirlpools 30 bps).
        #[arg(long, value_enum, default_value_t = AmmArg::Reference)]
        amm: AmmArg,
        /// Instead of comparing strategies: run the 5 % band with this many competing keepers (different
        /// latencies and routes) against the rebalance auction and print what the vault was paid per
        /// rebalance against the best route's output.
        #[arg(long, default_value_t = 0)]
        keepers: usize,
    },
    /// Search band settings over simulated paths; print the cost / tracking-error frontier.
    Tune {
        #[arg(long, default_value_t = 3)]
        paths: usize,
        #[arg(long, default_value_t = 90)]
        steps: usize,
        #[arg(long, default_value_t = 30)]
        fee_bps: u16,
        /// Weight of TE%² against cost in bps.
        #[arg(long, default_value_t = 1.0)]
        risk_aversion: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Instead: fit how the best fixed band grows with the cost (fees 8–125 bps on deep pools, then on
        /// $150k pools) and with volatility (×0.5, ×1, ×2), over `--seeds` paths of `--steps` days, with
        /// 95 % bootstrap intervals.
        #[arg(long)]
        fit_exponent: bool,
        /// Instead: compare the hindsight-best fixed band, the linear volatility band and the cost-optimal
        /// band over `--seeds` GBM and regime paths of `--steps` days: J = cost bp + λ·TE%², mean ± se.
        #[arg(long)]
        compare_bands: bool,
        /// Paths per setting for `--compare-bands` / `--fit-exponent`.
        #[arg(long, default_value_t = 20)]
        seeds: usize,
        /// Write the study's results here as JSON.
        #[arg(long)]
        json_out: Option<PathBuf>,
    },
    /// Write a new keypair file.
    Keygen { out: PathBuf },
}

/// `--amm` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AmmArg {
    Reference,
    Raydium,
    Orca,
}

impl From<AmmArg> for ballast_harness::dex::Amm {
    fn from(a: AmmArg) -> Self {
        match a {
            AmmArg::Reference => ballast_harness::dex::Amm::Reference,
            AmmArg::Raydium => ballast_harness::dex::Amm::Raydium,
            AmmArg::Orca => ballast_harness::dex::Amm::Orca,
        }
    }
}

/// `--route` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Route {
    Direct,
    Flash,
}

impl From<Route> for ballast_client::RouteMode {
    fn from(r: Route) -> Self {
        match r {
            Route::Direct => ballast_client::RouteMode::Direct,
            Route::Flash => ballast_client::RouteMode::Flash,
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json, mode, route, amm } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            demo::run(&DemoOptions { json, mode, route: route.into(), amm: amm.into() }, &mut out).await?;
        }
        Command::Bench { keeper: true, vaults, json, .. } => {
            let b = ballast_keeper::bench::run(vaults, 7).await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "keeper planner: {} synthetic vaults (3–16 assets) decoded, valued and planned in {:.3} s on one core = {:.0} vaults/s ({} trades, {} holds)",
                    b.vaults, b.secs, b.vaults_per_sec, b.trades, b.holds
                );
            }
        }
        Command::Bench { sim: true, json, .. } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            let threads = ballast_sim::parallelism();
            let (steps1, secs1) = ballast_sim::bench(1).await?;
            let (steps_n, secs_n) = ballast_sim::bench(threads).await?;
            let (one, many) = (steps1 as f64 / secs1, steps_n as f64 / secs_n);
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"steps": steps1, "one_thread_steps_per_sec": one, "threads": threads, "steps_per_sec": many})
                )?;
            } else {
                writeln!(out, "simulator: {steps1} steps (7 strategies × 120 steps): {one:.1} steps/s one at a time, {many:.1} steps/s with {threads} at once")?;
            }
        }
        Command::Bench { rpc: true, clients, requests, confirms, json, .. } => {
            let b =
                ballast_app::rpc_bench::run(ballast_app::rpc_bench::RpcBenchOptions { clients, requests, confirms })
                    .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "localnet RPC: {} clients × {} requests in {:.2} s = {:.0} requests/s, {} errors",
                    b.clients, b.requests_per_client, b.secs, b.requests_per_sec, b.errors
                );
                for (what, l) in [
                    ("JSON-RPC request", &b.http),
                    ("subscribe", &b.subscribe),
                    ("send → signature notification", &b.confirm),
                ] {
                    println!(
                        "  {what:<32} n={:<6} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
                        l.count, l.p50_ms, l.p99_ms, l.max_ms
                    );
                }
                println!("  notifications received: {}", b.notifications);
                for e in &b.first_errors {
                    println!("  error: {e}");
                }
            }
        }
        Command::Bench { iterations, json, .. } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            ballast_app::bench::run(iterations, json, &mut out).await?;
        }
        Command::Localnet { addr, ws_addr, dashboard_addr, keys_dir, price_path, step_secs } => {
            ballast_keeper::init_logging();
            let mut out = ballast_app::output::program_logs_to_stderr();
            let opts = LocalnetOptions {
                addr,
                ws_addr,
                dashboard_addr,
                price_path,
                step: Duration::from_secs_f64(step_secs),
                keys_dir,
                ..Default::default()
            };
            let net = localnet::start(opts).await?;
            writeln!(out, "ballast localnet on {} (JSON-RPC), price path {:?}", net.url(), price_path)?;
            writeln!(out, "websocket pubsub on {}", net.ws_url())?;
            writeln!(out, "dashboard on {}", net.dashboard_url())?;
            writeln!(out, "demo vault {}", net.vault())?;
            writeln!(
                out,
                "run a keeper: ballast keygen keeper.json && ballast keeper --rpc {} --keypair keeper.json",
                net.url()
            )?;
            out.flush()?;
            tokio::signal::ctrl_c().await?;
            net.stop();
        }
        Command::Keeper { args } => {
            ballast_keeper::init_logging();
            ballast_keeper::run_cli(args).await?;
        }
        Command::Simulate {
            path,
            csv,
            steps,
            dt_secs,
            seed,
            fee_bps,
            depth_usd,
            out,
            write_example_csv,
            route,
            amm,
            keepers,
        } => {
            use ballast_sim::{self as sim, paths};
            let start = [150.0, 60_000.0, 1.0];
            let prices = match path.as_str() {
                "gbm" => paths::gbm(&start, &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, steps, dt_secs as f64, seed),
                "regime" => {
                    paths::regime(&start, &[0.6, 0.5, 0.0], 3.0, 0.08, 0.1, 0.03, 0.15, steps, dt_secs as f64, seed).0
                }
                "csv" => paths::read_csv(csv.as_deref().context("--path csv needs --csv FILE")?, &sim::SYMBOLS)?,
                other => anyhow::bail!("unknown path {other:?}: use gbm, regime or csv"),
            };
            if let Some(file) = write_example_csv {
                paths::write_csv(&file, &sim::SYMBOLS, &prices, 1_700_000_000, dt_secs)?;
                println!("wrote {} steps to {}", prices.len(), file.display());
                return Ok(());
            }
            let mut stdout = ballast_app::output::program_logs_to_stderr();
            let slippage_cap_bps = (fee_bps + 100).min(ballast::constants::MAX_SLIPPAGE_BPS);
            let cfg = sim::SimConfig {
                dt_secs,
                fee_bps,
                pool_depth_usd: depth_usd,
                slippage_cap_bps,
                route: route.into(),
                amm: amm.into(),
                ..Default::default()
            };
            if keepers > 0 {
                let field = sim::competition::default_keepers(keepers);
                let result = sim::competition::run(&prices, &cfg, field).await?;
                writeln!(
                    stdout,
                    "{path} path, {} steps of {dt_secs} s, seed {seed}, pools {fee_bps} bps fee and ${depth_usd:.0} a \
                     side, 5 % bands, {keepers} competing keepers\n",
                    prices.len() - 1
                )?;
                write!(stdout, "{}", sim::competition::render(&result, &sim::SYMBOLS))?;
                std::fs::create_dir_all(&out)?;
                std::fs::write(out.join("competition.json"), serde_json::to_string_pretty(&result)?)?;
                writeln!(stdout, "\nper rebalance: {}", out.join("competition.json").display())?;
                return Ok(());
            }
            let strategies = sim::default_strategies();
            let mut progress = ballast_app::output::Progress::new(Some(strategies.len() as u64));
            let steps = prices.len() - 1;
            let started = std::time::Instant::now();
            let results =
                sim::run(&strategies, &prices, &cfg, |name| progress.step(&format!("{name}: {steps} steps"))).await?;
            let wall_secs = started.elapsed().as_secs_f64();
            progress.finish();
            let pools = match cfg.amm {
                ballast_harness::dex::Amm::Reference => format!("reference-AMM pools, {fee_bps} bps fee"),
                ballast_harness::dex::Amm::Raydium => "real Raydium CPMM pools, 25 bps fee".into(),
                ballast_harness::dex::Amm::Orca => "real Orca Whirlpools, 30 bps fee".into(),
            };
            writeln!(
                stdout,
                "{} path, {} steps of {} s, seed {seed}, {pools} and ${depth_usd:.0} a side\n",
                path,
                prices.len() - 1,
                dt_secs
            )?;
            write!(stdout, "{}", sim::render_table(&results))?;
            std::fs::create_dir_all(&out)?;
            sim::write_steps_csv(&out.join("steps.csv"), &results)?;
            std::fs::write(out.join("results.json"), serde_json::to_string_pretty(&results)?)?;
            writeln!(
                stdout,
                "\nper-step state: {}, summary: {}",
                out.join("steps.csv").display(),
                out.join("results.json").display()
            )?;
            writeln!(stdout, "{}", sim::render_throughput(&results, wall_secs))?;
            // Weights chart of the 5 % band strategy (index 3 of the default set).
            match sim::plots::write_all(&out, &results, (3, 500.0)) {
                Ok(files) => {
                    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                    writeln!(stdout, "charts: {}", names.join(", "))?;
                }
                Err(e) => writeln!(stdout, "{e}")?,
            }
        }
        Command::Tune { paths, steps, fee_bps, risk_aversion, seed, fit_exponent, compare_bands, seeds, json_out } => {
            use ballast_sim::{study, tune};
            let mut stdout = ballast_app::output::program_logs_to_stderr();
            let cfg = tune::TuneConfig { paths, steps, fee_bps, risk_aversion, seed, ..Default::default() };
            let study_cfg = study::StudyConfig { seeds, steps, fee_bps, risk_aversion, seed, ..Default::default() };
            let started = std::time::Instant::now();
            if compare_bands {
                let mut progress = ballast_app::output::Progress::new(None);
                let kinds = [study::PathKind::Gbm, study::PathKind::Regime];
                let out = study::compare_bands(&study_cfg, &kinds, |s| progress.step(s)).await?;
                progress.finish();
                for c in &out {
                    writeln!(stdout, "{}", study::render_comparison(c))?;
                }
                writeln!(stdout, "{:.0} s on {} threads", started.elapsed().as_secs_f64(), study_cfg.threads)?;
                if let Some(file) = json_out {
                    std::fs::write(&file, serde_json::to_string_pretty(&out)?)?;
                }
            } else if fit_exponent {
                let mut progress = ballast_app::output::Progress::new(None);
                let fits = study::fit_exponents(&study_cfg, |s| progress.step(s)).await?;
                progress.finish();
                for f in &fits {
                    write!(stdout, "{}", study::render_fit(f))?;
                }
                writeln!(stdout, "{:.0} s on {} threads", started.elapsed().as_secs_f64(), study_cfg.threads)?;
                if let Some(file) = json_out {
                    std::fs::write(&file, serde_json::to_string_pretty(&fits)?)?;
                }
            } else {
                let mut progress = ballast_app::output::Progress::new(None);
                let points = tune::tune(&cfg, |s| progress.step(s)).await?;
                progress.finish();
                write!(stdout, "{}", tune::render(&points))?;
                if let Some(best) = tune::recommend(&points) {
                    writeln!(
                        stdout,
                        "\nrecommended: {} (objective = cost bp + {risk_aversion} × TE%²)",
                        best.strategy
                    )?;
                }
            }
        }
        Command::Keygen { out } => {
            let kp = solana_keypair::Keypair::new();
            let bytes: Vec<u8> = kp.to_bytes().to_vec();
            std::fs::write(&out, serde_json::to_string(&bytes)?).with_context(|| format!("write {}", out.display()))?;
            println!("{}", kp.pubkey());
        }
    }
    Ok(())
}
