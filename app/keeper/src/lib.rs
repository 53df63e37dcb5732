//! ballast-keeper: a permissionless keeper speaking JSON-RPC to any Solana endpoint (the local one from
//! `ballast localnet`, or a real cluster). `ballast keeper` and the lean `ballast-keeper` binary run this
//! same code.
//!
//! One runtime ([`Keeper`]: the endpoint, the fee payer, the [`send::Sender`], the [`Metrics`]) runs the
//! [`jobs`] over every vault each iteration: discovery (`ballast_client::discover`) finds the vaults,
//! [`snapshot`] reads each through the shared planner's `ChainView` over RPC, the planner (the one of
//! `ballast-client`, the same the simulator runs) decides, and the settlement and rebalance jobs act on
//! that one snapshot. What goes wrong is typed ([`errors`]): refusals by program error, faults by kind.

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
pub mod plan;
pub mod routes;
pub mod send;
pub mod snapshot;

pub use cli::{init_logging, read_keypair, run_cli, KeeperArgs};
pub use errors::{Fault, Refusal};
pub use jobs::rebalance::{Outcome, Skip};
pub use jobs::{Job, Jobs};
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
        }
    }
}

/// The keeper's runtime, shared by its jobs.
pub struct Keeper {
    pub rpc: RpcClient,
    pub payer: Keypair,
    pub opts: KeeperOptions,
    pub metrics: Arc<Metrics>,
}

impl Keeper {
    pub fn new(opts: KeeperOptions, payer: Keypair, metrics: Arc<Metrics>) -> Keeper {
        let rpc = RpcClient::new_with_timeout_and_commitment(
            opts.rpc_url.clone(),
            opts.rpc_timeout,
            CommitmentConfig::confirmed(),
        );
        Keeper { rpc, payer, opts, metrics }
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

    /// One pass of the jobs over every vault; the rebalance job's outcome per vault (none when it does not
    /// run).
    pub async fn iteration(&self) -> Result<Vec<(Pubkey, Outcome)>> {
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
            let outcome = match self.keep(&key, vault).await {
                Ok(o) => o,
                Err(e) => {
                    self.metrics.error(&e).await;
                    tracing::warn!(vault = %key, "error: {e:#}");
                    Some(Outcome::Failed(Fault::of(&e)))
                }
            };
            out.extend(outcome.map(|o| (key, o)));
        }
        Ok(out)
    }

    /// The shared planner's view of one vault, read over RPC.
    pub async fn plan(&self, vault: Vault) -> Result<Planned> {
        planner::plan_vault(&mut snapshot::RpcView(&self.rpc), vault).await
    }

    /// Plans the vault once and runs the enabled jobs on that plan: settlements first (a deposit changes
    /// what the vault holds only once settled, and the program re-opens the auction if it adds trades).
    async fn keep(&self, key: &Pubkey, vault: Vault) -> Result<Option<Outcome>> {
        let planned = self.plan(vault).await?;
        self.metrics.observe(key, &planned.valuation).await;
        if self.opts.jobs.runs(Job::Settle) && !self.opts.dry_run {
            jobs::settle::run(self, key, &planned.snapshot).await;
        }
        if self.opts.jobs.runs(Job::Fees) && !self.opts.dry_run {
            jobs::fees::run(self, key, &planned.snapshot).await;
        }
        if !self.opts.jobs.runs(Job::Rebalance) {
            return Ok(None);
        }
        jobs::rebalance::run(self, key, &planned).await.map(Some)
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
