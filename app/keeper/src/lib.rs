//! ballast-keeper: a permissionless keeper speaking JSON-RPC to any Solana endpoint (the local one from
//! `ballast localnet`, or a real cluster). `ballast keeper` and the lean `ballast-keeper` binary run this
//! same code.
//!
//! One runtime ([`Keeper`]: the endpoint, the fee payer, the [`send::Sender`], the [`Metrics`]) runs the
//! [`jobs`] over every vault each iteration: discovery (`ballast_client::discover`) finds the vaults,
//! [`snapshot`] reads each through the shared planner's `ChainView` over RPC, the planner (the one of
//! `ballast-client`, the same the simulator runs) decides, and the settlement (deposits and withdrawals),
//! fee and rebalance jobs act on that one snapshot. Every [`jobs::Job`] says what it did as [`Report`]s, which
//! an iteration returns and the [`Metrics`] count. What goes wrong is typed ([`errors`]): rejections by program
//! error, faults by kind.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use ballast::state::Vault;
use ballast_client::planner::{self, Planned};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;

pub mod cli;
pub mod errors;
pub mod jobs;
pub mod jupiter;
pub mod metrics;
pub mod routes;
pub mod send;
pub mod snapshot;
pub mod worth;

pub use cli::{init_logging, read_keypair, run_cli, KeeperArgs};
pub use errors::{Fault, Rejection};
pub use jobs::{Action, Idle, Job, JobKind, Jobs, Outcome, Report, Skip};
pub use metrics::{serve_metrics, Metrics};

/// Keeper settings.
#[derive(Debug, Clone)]
pub struct KeeperOptions {
    pub rpc_url: String,
    /// Vaults to keep; empty = every ballast vault found on the endpoint.
    pub vaults: Vec<Pubkey>,
    pub dry_run: bool,
    pub interval: Duration,
    /// Stop after this many iterations (None = until Ctrl-C).
    pub iterations: Option<u64>,
    /// Percentile of recent prioritization fees to pay (0–100).
    pub priority_percentile: u8,
    /// Cap on the compute-unit price (micro-lamports).
    pub max_priority_micro_lamports: u64,
    /// Skip trades whose bounty minus fees is below this (USD). Negative values let the keeper pay to
    /// keep vaults in band.
    pub min_profit_usd: f64,
    /// SOL price used to value fees in USD.
    pub sol_price_usd: f64,
    /// Send attempts per trade (backoff between them; the same signed transaction is resent while its
    /// blockhash is valid, so a send whose reply was lost can never become a second trade).
    pub max_attempts: u32,
    /// Timeout of one RPC request.
    pub rpc_timeout: Duration,
    /// How trades reach the pools: `rebalance` (direct) or a flash rebalance with the keeper's own swap.
    pub route: ballast_client::RouteMode,
    /// A Jupiter API base URL: its route is quoted for every trade and taken (as a flash rebalance) when it
    /// pays at least as much as the whitelisted pool.
    pub jupiter_url: Option<String>,
    /// Orca Whirlpools the keeper may route through (quoted with Orca's own math).
    pub orca_pools: Vec<Pubkey>,
    /// Which jobs run.
    pub jobs: Jobs,
    /// The fee job accrues a vault's fees when they were last crystallised at least this long ago.
    pub fee_interval: Duration,
    /// Try each trade valued from the vault's valuation cache first, refreshed in the same transaction, when
    /// the vault has one (`init_valuation_cache`), then in its direct form; by default only the direct form
    /// (from every `[oracle, reserve]`, which in one transaction is never larger).
    pub valuation_cache: bool,
}

impl Default for KeeperOptions {
    fn default() -> Self {
        Self {
            rpc_url: "http://127.0.0.1:8899".into(),
            vaults: vec![],
            dry_run: false,
            interval: Duration::from_secs(2),
            iterations: None,
            priority_percentile: 75,
            max_priority_micro_lamports: 100_000,
            min_profit_usd: 0.0,
            sol_price_usd: 150.0,
            max_attempts: 3,
            rpc_timeout: Duration::from_secs(10),
            route: ballast_client::RouteMode::Direct,
            jupiter_url: None,
            orca_pools: Vec::new(),
            jobs: Jobs::default(),
            fee_interval: Duration::from_secs(3_600),
            valuation_cache: false,
        }
    }
}

/// The keeper's runtime, shared by its jobs.
pub struct Keeper {
    pub rpc: RpcClient,
    pub payer: Keypair,
    pub opts: KeeperOptions,
    pub metrics: Arc<Metrics>,
    /// Settlements the chain refused for a lasting reason, held back until the vault changes or a backoff
    /// passes (the settlement job's).
    pub deferrals: jobs::settle::Deferrals,
    /// Fee accruals the chain refused, per vault, held back for a doubling backoff (the fee job's).
    pub fee_deferrals: jobs::settle::Deferrals,
    /// Lookup tables of the large vaults' accounts the keeper created (`jobs::large`).
    pub tables: jobs::large::Tables,
}

impl Keeper {
    pub fn new(opts: KeeperOptions, payer: Keypair, metrics: Arc<Metrics>) -> Keeper {
        let rpc = RpcClient::new_with_timeout_and_commitment(
            opts.rpc_url.clone(),
            opts.rpc_timeout,
            CommitmentConfig::confirmed(),
        );
        Keeper {
            rpc,
            payer,
            opts,
            metrics,
            deferrals: Default::default(),
            fee_deferrals: Default::default(),
            tables: Default::default(),
        }
    }

    /// The sender the jobs send through.
    pub fn sender(&self) -> send::Sender<'_> {
        send::Sender {
            rpc: &self.rpc,
            payer: &self.payer,
            metrics: &self.metrics,
            max_attempts: self.opts.max_attempts,
        }
    }

    /// Runs until `iterations` are done or `shutdown` resolves.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut n = 0u64;
        loop {
            if let Err(e) = self.iteration().await {
                self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("iteration failed: {e:#}");
            }
            n += 1;
            if self.opts.iterations.is_some_and(|max| n >= max) {
                return Ok(());
            }
            tokio::select! {
                _ = &mut shutdown => { tracing::info!("shutting down"); return Ok(()); }
                _ = tokio::time::sleep(self.opts.interval) => {}
            }
        }
    }

    /// Vaults to keep.
    pub async fn vaults(&self) -> Result<Vec<(Pubkey, Vault)>> {
        ballast_client::discover::vaults(&mut snapshot::RpcView(&self.rpc), &self.opts.vaults).await
    }

    /// One pass of the jobs over every vault: every report of every job, vault by vault in the jobs' order
    /// ([`jobs::JOBS`]), each counted in the metrics (`ballast_keeper_reports_total{job,result}`).
    pub async fn iteration(&self) -> Result<Vec<Report>> {
        self.metrics.iterations.fetch_add(1, Ordering::Relaxed);
        let vaults = match self.vaults().await {
            Ok(v) => v,
            Err(e) => {
                self.metrics.fault(Fault::of(&e)).await;
                return Err(e);
            }
        };
        let mut out = Vec::new();
        for (key, vault) in vaults {
            out.extend(self.keep(&key, vault).await);
        }
        for report in &out {
            self.metrics.report(report.job.name(), report.outcome.label()).await;
        }
        Ok(out)
    }

    /// The jobs that run: those `--jobs` enables, without the ones that have no dry run under `--dry-run`.
    pub fn jobs(&self) -> impl Iterator<Item = &'static dyn Job> + '_ {
        jobs::JOBS.into_iter().filter(|j| self.opts.jobs.runs(j.kind()) && (j.dry_runs() || !self.opts.dry_run))
    }

    /// The shared planner's view of one vault, read over RPC.
    pub async fn plan(&self, vault: Vault) -> Result<Planned> {
        planner::plan_vault(&mut snapshot::RpcView(&self.rpc), vault).await
    }

    /// Plans the vault once and runs the jobs on that plan, in order: settlements first (a deposit changes
    /// what the vault holds only once settled, and the program re-opens the auction if it adds trades). When
    /// the vault cannot be read or planned, every job that would have run reports the failure.
    async fn keep(&self, key: &Pubkey, vault: Vault) -> Vec<Report> {
        let report = |job: &dyn Job, outcome| Report { job: job.kind(), vault: *key, outcome };
        let planned = match self.plan(vault).await {
            Ok(planned) => planned,
            Err(e) => {
                self.metrics.error(&e).await;
                tracing::warn!(vault = %key, "error: {e:#}");
                let fault = Fault::of(&e);
                return self.jobs().map(|job| report(job, Outcome::Failed(fault))).collect();
            }
        };
        self.metrics.observe(key, &planned.valuation).await;
        let mut out = Vec::new();
        for job in self.jobs() {
            out.extend(job.run(self, key, &planned).await.into_iter().map(|outcome| report(job, outcome)));
        }
        out
    }

    /// Requests an airdrop when the keeper has less than 0.01 SOL (works on local and test networks).
    pub async fn ensure_funded(&self) {
        let me = self.payer.pubkey();
        match self.rpc.get_balance(&me).await {
            Ok(b) if b >= 10_000_000 => {}
            Ok(_) => match self.rpc.request_airdrop(&me, 1_000_000_000).await {
                Ok(sig) => tracing::info!(%sig, "requested an airdrop of 1 SOL"),
                Err(e) => tracing::warn!("keeper has under 0.01 SOL and the airdrop failed: {e}"),
            },
            Err(e) => tracing::warn!("cannot read keeper balance: {e}"),
        }
    }
}
