use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{Context as _, Result};
use ballast_app::demo::{self, DemoMode, DemoOptions};
use ballast_app::keeper::{self, Keeper, KeeperOptions, Metrics};
use ballast_app::localnet::{self, LocalnetOptions, PricePath};
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
    },
    /// Serve the embedded chain with the demo vault over Solana JSON-RPC, moving oracle prices.
    Localnet {
        #[arg(long, default_value = "127.0.0.1:8899")]
        addr: SocketAddr,
        /// hold, scripted or random.
        #[arg(long, default_value = "scripted")]
        price_path: PricePath,
        /// Seconds between price steps.
        #[arg(long, default_value_t = 3.0)]
        step_secs: f64,
    },
    /// Run the permissionless keeper bot against a JSON-RPC endpoint.
    Keeper {
        #[arg(long, default_value = "http://127.0.0.1:8899")]
        rpc: String,
        /// Keypair file (JSON array of 64 bytes, as written by `ballast keygen` or the Solana CLI).
        #[arg(long)]
        keypair: PathBuf,
        /// Vault to keep (repeatable); default: every ballast vault on the endpoint.
        #[arg(long = "vault")]
        vaults: Vec<Pubkey>,
        /// Log what would be sent, send nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value_t = 2_000)]
        interval_ms: u64,
        /// Stop after this many iterations.
        #[arg(long)]
        iterations: Option<u64>,
        /// Serve /metrics and /health here.
        #[arg(long, default_value = "127.0.0.1:9464")]
        metrics_addr: SocketAddr,
        /// Percentile of recent prioritization fees to pay.
        #[arg(long, default_value_t = 75)]
        priority_percentile: u8,
        /// Cap on the compute-unit price (micro-lamports).
        #[arg(long, default_value_t = 100_000)]
        max_priority_fee: u64,
        /// Skip trades whose bounty minus fees is below this many USD.
        #[arg(long, default_value_t = 0.0)]
        min_profit_usd: f64,
        /// SOL price used to value fees.
        #[arg(long, default_value_t = 150.0)]
        sol_price_usd: f64,
    },
    /// Write a new keypair file.
    Keygen { out: PathBuf },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALLAST_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json, mode } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            demo::run(&DemoOptions { json, mode }, &mut out).await?;
        }
        Command::Bench { iterations, json } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            ballast_app::bench::run(iterations, json, &mut out).await?;
        }
        Command::Localnet { addr, price_path, step_secs } => {
            init_tracing();
            let mut out = ballast_app::output::program_logs_to_stderr();
            let opts =
                LocalnetOptions { addr, price_path, step: Duration::from_secs_f64(step_secs), ..Default::default() };
            let net = localnet::start(opts).await?;
            writeln!(out, "ballast localnet on {} (JSON-RPC), price path {:?}", net.url(), price_path)?;
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
        Command::Keeper {
            rpc,
            keypair,
            vaults,
            dry_run,
            interval_ms,
            iterations,
            metrics_addr,
            priority_percentile,
            max_priority_fee,
            min_profit_usd,
            sol_price_usd,
        } => {
            init_tracing();
            let payer = keeper::read_keypair(&keypair)?;
            let opts = KeeperOptions {
                rpc_url: rpc,
                vaults,
                dry_run,
                interval: Duration::from_millis(interval_ms),
                iterations,
                priority_percentile,
                max_priority_micro_lamports: max_priority_fee,
                min_profit_usd,
                sol_price_usd,
                ..Default::default()
            };
            let metrics = Arc::new(Metrics::default());
            let (bound, _server) = keeper::serve_metrics(metrics.clone(), metrics_addr).await?;
            tracing::info!(keeper = %payer.pubkey(), metrics = %bound, dry_run, "keeper starting");
            let k = Keeper::new(opts, payer, metrics);
            k.ensure_funded().await;
            k.run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
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
