//! The keeper's command line (`ballast keeper` and the lean `ballast-keeper` binary share it): flags,
//! logging, the keypair file, and the run until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Context as _, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::jobs::Jobs;
use crate::{serve_metrics, Keeper, KeeperOptions, Metrics};

/// The keeper's command-line flags (`ballast keeper` and `ballast-keeper` share them).
#[derive(Debug, Clone, clap::Args)]
pub struct KeeperArgs {
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    pub rpc: String,
    /// Keypair file (JSON array of 64 bytes, as written by `ballast keygen` or the Solana CLI).
    #[arg(long)]
    pub keypair: std::path::PathBuf,
    /// Vault to keep (repeatable); default: every ballast vault on the endpoint.
    #[arg(long = "vault")]
    pub vaults: Vec<Pubkey>,
    /// Log what would be sent, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 2_000)]
    pub interval_ms: u64,
    /// Stop after this many iterations.
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Serve /metrics and /health here.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub metrics_addr: std::net::SocketAddr,
    /// Percentile of recent prioritization fees to pay.
    #[arg(long, default_value_t = 75)]
    pub priority_percentile: u8,
    /// Cap on the compute-unit price (micro-lamports).
    #[arg(long, default_value_t = 100_000)]
    pub max_priority_fee: u64,
    /// Skip trades whose bounty minus fees is below this many USD.
    #[arg(long, default_value_t = 0.0)]
    pub min_profit_usd: f64,
    /// SOL price used to value fees.
    #[arg(long, default_value_t = 150.0)]
    pub sol_price_usd: f64,
    /// Trade through `rebalance` (direct) or a flash rebalance with the keeper's own swap (flash).
    #[arg(long, default_value = "direct", value_parser = ["direct", "flash"])]
    pub route: String,
    /// Also quote every trade on this Jupiter API (e.g. https://quote-api.jup.ag/v6) and take its route
    /// as a flash rebalance when it pays at least as much.
    #[arg(long)]
    pub jupiter_url: Option<String>,
    /// An Orca Whirlpool to quote and route through (repeatable).
    #[arg(long = "orca-pool")]
    pub orca_pools: Vec<Pubkey>,
    /// The jobs to run, comma-separated: `rebalance` (pokes and trades), `settle` (deposit and withdrawal
    /// settlements), `fees` (accrue and distribute a vault's fees: the operator's job).
    #[arg(long, default_value = "rebalance,settle")]
    pub jobs: Jobs,
    /// The fee job accrues a vault's fees when they were last crystallised at least this many seconds ago.
    #[arg(long, default_value_t = 3_600)]
    pub fee_interval_secs: u64,
    /// Try each trade valued from the vault's valuation cache first (where one exists), refreshed in the
    /// trade's own transaction, then in its direct form.
    #[arg(long)]
    pub valuation_cache: bool,
}

impl KeeperArgs {
    /// The options, the keypair file and the metrics address.
    pub fn into_parts(self) -> (KeeperOptions, std::path::PathBuf, std::net::SocketAddr) {
        let opts = KeeperOptions {
            rpc_url: self.rpc,
            vaults: self.vaults,
            dry_run: self.dry_run,
            interval: Duration::from_millis(self.interval_ms),
            iterations: self.iterations,
            priority_percentile: self.priority_percentile,
            max_priority_micro_lamports: self.max_priority_fee,
            min_profit_usd: self.min_profit_usd,
            sol_price_usd: self.sol_price_usd,
            route: if self.route == "flash" {
                ballast_client::RouteMode::Flash
            } else {
                ballast_client::RouteMode::Direct
            },
            jupiter_url: self.jupiter_url,
            orca_pools: self.orca_pools,
            jobs: self.jobs,
            fee_interval: Duration::from_secs(self.fee_interval_secs),
            valuation_cache: self.valuation_cache,
            ..Default::default()
        };
        (opts, self.keypair, self.metrics_addr)
    }
}

/// Runs the keeper as the command line asks: metrics server, airdrop if needed, loop until Ctrl-C.
pub async fn run_cli(args: KeeperArgs) -> Result<()> {
    let (opts, keypair, metrics_addr) = args.into_parts();
    let payer = read_keypair(&keypair)?;
    let metrics = Arc::new(Metrics::default());
    let (bound, _server) = serve_metrics(metrics.clone(), metrics_addr).await?;
    tracing::info!(keeper = %payer.pubkey(), metrics = %bound, dry_run = opts.dry_run, jobs = %opts.jobs, "keeper starting");
    let keeper = Keeper::new(opts, payer, metrics);
    keeper.ensure_funded().await;
    keeper
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Logs to stderr, filtered by `BALLAST_LOG`, else `RUST_LOG`, else the keeper's own lines at info and other
/// crates' errors (as `ballast keeper` does), with colours only on a terminal.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALLAST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| "error,ballast=warn,ballast_keeper=info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Reads a keypair file (the Solana CLI's JSON array of 64 bytes).
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).with_context(|| format!("{} is not a JSON byte array", path.display()))?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| anyhow!("invalid keypair in {}: {e}", path.display()))
}
