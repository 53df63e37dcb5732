//! ballast-keeper: a permissionless rebalancing bot speaking JSON-RPC to any Solana endpoint (the local
//! one from `ballast localnet`, or a real cluster). `ballast keeper` and the lean `ballast-keeper` binary
//! run this same code.
//!
//! Each iteration, per vault: `discover` finds vaults and their open deposit requests; `snapshot` reads
//! everything through the shared planner's `ChainView` over RPC; open deposit requests whose delay has
//! passed are settled; `plan` (the one planner of `ballast-client`, the same the simulator runs) picks the
//! trade that removes most drift and weighs the bounty against the fees; `send` simulates, sizes the
//! compute budget, prices it from recent prioritization fees, sends and confirms; `metrics` counts it all.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::{get_associated_token_address_with_program_id, spl_associated_token_account};
use anyhow::{anyhow, Context as _, Result};
use ballast::errors::BallastError;
use ballast::state::Vault;
use ballast_client::planner::{self, Decision, Planned};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signer::Signer;

pub mod bench;
pub mod discover;
pub mod jupiter;
pub mod metrics;
pub mod plan;
pub mod routes;
pub mod send;
pub mod snapshot;

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
        }
    }
}

/// What happened to one vault in one iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Hold(planner::Hold),
    /// A `poke` opened or closed the rebalance auction.
    Poked(planner::PokeReason),
    /// The auction has not yet fallen to what the keeper's routes pay; they clear at unix time `until`.
    Waiting {
        until: i64,
    },
    Skipped(String),
    DryRun {
        sell: usize,
        buy: usize,
        amount_in: u64,
    },
    Rebalanced {
        sell: usize,
        buy: usize,
        amount_in: u64,
        signature: String,
    },
    Refused(String),
}

/// The keeper itself.
pub struct Keeper {
    pub rpc: RpcClient,
    pub payer: Keypair,
    pub opts: KeeperOptions,
    pub metrics: Arc<Metrics>,
}

fn is_quiet_refusal(name: &str) -> bool {
    // Another keeper was first, or prices moved back inside the band: nothing to worry about.
    name == BallastError::CooldownNotElapsed.name() || name == BallastError::RebalanceNotNeeded.name()
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
        discover::vaults(&self.rpc, &self.opts.vaults).await
    }

    /// One pass over every vault.
    pub async fn iteration(&self) -> Result<Vec<(Pubkey, Outcome)>> {
        self.metrics.iterations.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        let vaults = match self.vaults().await {
            Ok(v) => v,
            Err(e) => {
                self.metrics.fault(send::fault_kind(&e)).await;
                return Err(e);
            }
        };
        for (key, vault) in vaults {
            let outcome = match self.keep(&key, vault).await {
                Ok(o) => o,
                Err(e) => {
                    self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                    self.metrics.fault(send::fault_kind(&e)).await;
                    tracing::warn!(vault = %key, "error: {e:#}");
                    Outcome::Skipped(format!("error: {e}"))
                }
            };
            out.push((key, outcome));
        }
        Ok(out)
    }

    /// The shared planner's view of one vault, read over RPC.
    pub async fn plan(&self, vault: Vault) -> Result<Planned> {
        planner::plan_vault(&mut snapshot::RpcView(&self.rpc), vault).await
    }

    async fn keep(&self, key: &Pubkey, vault: Vault) -> Result<Outcome> {
        let planned = self.plan(vault).await?;
        if !self.opts.dry_run {
            self.settle_deposits(key, &planned.snapshot).await;
        }
        self.metrics.observe(key, &planned.valuation).await;
        match planned.decision.clone() {
            Decision::Hold(why) => {
                tracing::debug!(vault = %key, "hold: {why}");
                Ok(Outcome::Hold(why))
            }
            Decision::Poke(reason) => self.poke(key, &planned.snapshot, reason).await,
            Decision::Wait { at, candidate } => {
                // The whitelisted pool clears the auction at `at`; a better route may clear it now.
                let outcome = self.trade(key, &planned, &candidate, false).await?;
                if matches!(outcome, Outcome::Skipped(_)) {
                    tracing::debug!(vault = %key, at, "waiting for the auction to reach the pool's price");
                    return Ok(Outcome::Waiting { until: at });
                }
                Ok(outcome)
            }
            Decision::Trade(candidate) => self.trade(key, &planned, &candidate, true).await,
        }
    }

    /// Sends `poke` to open or close the vault's rebalance auction.
    async fn poke(&self, key: &Pubkey, snap: &planner::Snapshot, reason: planner::PokeReason) -> Result<Outcome> {
        if self.opts.dry_run {
            tracing::info!(vault = %key, "dry run: would {reason}");
            return Ok(Outcome::Poked(reason));
        }
        let ix = ballast_client::poke(key, &snap.vault);
        let tx = send::transaction(&self.rpc, &self.payer, &[ix], 0, 200_000, &[]).await?;
        let sig = self.rpc.send_transaction(&tx).await?;
        match send::confirm(&self.rpc, &sig).await? {
            None => {
                Metrics::bump(&self.metrics.pokes, &format!("{reason:?}")).await;
                tracing::info!(vault = %key, %sig, "{reason}");
                Ok(Outcome::Poked(reason))
            }
            Some(name) => Ok(self.refused(key, name).await),
        }
    }

    /// Builds, simulates and sends `candidate` along the best route that clears the program's floor;
    /// `with_pool` includes the whitelisted pool the planner chose (left out while the auction has not yet
    /// reached its price).
    async fn trade(
        &self,
        key: &Pubkey,
        planned: &Planned,
        candidate: &planner::Candidate,
        with_pool: bool,
    ) -> Result<Outcome> {
        let snap = &planned.snapshot;
        let (sell, buy) = (candidate.request.sell, candidate.request.buy);
        let sell_asset = snap.vault.assets[sell];
        let writable = vec![*key, sell_asset.reserve, snap.vault.assets[buy].reserve, candidate.route.pool];
        let price = send::priority_price(
            &self.rpc,
            &writable,
            self.opts.priority_percentile,
            self.opts.max_priority_micro_lamports,
        )
        .await;
        let worth = plan::worth_it(candidate, price, &self.opts);
        tracing::debug!(
            vault = %key, sell, buy, amount_in = candidate.plan.amount_in, expected_out = candidate.expected_out,
            min_out = candidate.request.min_out, execution_cost_usd = candidate.execution_cost as f64 / 1e6,
            drift_reduction_usd = candidate.drift_reduction as f64 / 1e6, bounty_usd = worth.bounty_usd,
            fee_usd = worth.fee_usd, "best trade"
        );
        if let Some(why) = worth.skip {
            Metrics::bump(&self.metrics.skips, "not_worth_it").await;
            tracing::debug!(vault = %key, "skip: {why}");
            return Ok(Outcome::Skipped(why));
        }

        // Build: bounty account (created idempotently), rebalance along the planned route.
        let keeper = self.payer.pubkey();
        let bounty_account =
            get_associated_token_address_with_program_id(&keeper, &sell_asset.mint, &sell_asset.token_program);
        let create_ata = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &keeper,
            &keeper,
            &sell_asset.mint,
            &sell_asset.token_program,
        );
        // Every route provider builds the trade; the best one that simulates is sent.
        let mut providers = Vec::new();
        if with_pool {
            providers.push(routes::Provider::Pool(self.opts.route));
        }
        if let Some(url) = &self.opts.jupiter_url {
            providers.push(routes::Provider::Jupiter(jupiter::Jupiter::new(url)));
        }
        if !self.opts.orca_pools.is_empty() {
            providers.push(routes::Provider::Orca(self.opts.orca_pools.clone()));
        }
        let ctx = routes::RouteContext {
            rpc: &self.rpc,
            keeper,
            vault_key: *key,
            vault: &snap.vault,
            candidate,
            keeper_sell_account: bounty_account,
        };
        let mut last_refusal = None;
        let mut chosen = None;
        for built in routes::ranked(&providers, &ctx).await {
            let mut body = vec![create_ata.clone()];
            body.extend(built.instructions.iter().cloned());
            let tables = built.lookup_tables.clone();
            // Simulate with the maximum budget; never send what does not simulate.
            let mut simulated = send::simulate(&self.rpc, &self.payer, &body, price, 1_400_000, &tables).await?;
            for _ in 1..self.opts.max_attempts {
                // A blockhash the cluster does not know (a lagging endpoint): count it and take a fresh one.
                if !matches!(&simulated, Err(name) if name == "BlockhashNotFound") {
                    break;
                }
                self.metrics.fault("blockhash_expired").await;
                simulated = send::simulate(&self.rpc, &self.payer, &body, price, 1_400_000, &tables).await?;
            }
            match simulated {
                Ok(units) => {
                    chosen = Some((body, (built.name, built.venue), tables, units));
                    break;
                }
                Err(name) => {
                    tracing::debug!(vault = %key, route = %built.name, venue = %built.venue, "route does not simulate: {name}");
                    last_refusal = Some(name);
                }
            }
        }
        let Some((body, route_name, tables, units)) = chosen else {
            return Ok(match last_refusal {
                Some(name) => self.refused(key, name).await,
                None => Outcome::Skipped("no route for the trade".into()),
            });
        };
        if !tables.is_empty() {
            Metrics::bump(&self.metrics.routes, "with_lookup_tables").await;
        }
        let limit = ((units as u128 * 3).div_ceil(2) as u32).max(1);
        let amount_in = candidate.plan.amount_in;
        if self.opts.dry_run {
            self.metrics.dry_run_trades.fetch_add(1, Ordering::Relaxed);
            tracing::info!(vault = %key, sell, buy, amount_in, min_out = candidate.request.min_out, cu_limit = limit, cu_price = price, "dry run: would rebalance");
            return Ok(Outcome::DryRun { sell, buy, amount_in });
        }
        // One signed transaction, resent as it is: if an earlier send landed but its reply was lost, a resend
        // is the same transaction (deduplicated by the cluster) and the status check below finds it landed.
        let mut tx = send::transaction(&self.rpc, &self.payer, &body, price, limit, &tables).await?;
        let mut backoff = Duration::from_millis(200);
        let landed = |name: Option<String>, signature: String| match name {
            None => Outcome::Rebalanced { sell, buy, amount_in, signature },
            Some(name) => Outcome::Refused(name),
        };
        for attempt in 1..=self.opts.max_attempts {
            let signature = tx.signatures[0];
            // Did an earlier attempt land after all?
            if attempt > 1 {
                if let Some(result) = send::status(&self.rpc, &signature).await {
                    self.metrics.fault("confirmation_lost").await;
                    return Ok(self
                        .finish(key, (&route_name.0, &route_name.1), landed(result, signature.to_string()))
                        .await);
                }
            }
            let config = RpcSendTransactionConfig { skip_preflight: false, ..Default::default() };
            match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(signature) => match send::confirm(&self.rpc, &signature).await {
                    Ok(result) => {
                        return Ok(self
                            .finish(key, (&route_name.0, &route_name.1), landed(result, signature.to_string()))
                            .await)
                    }
                    Err(e) => {
                        self.metrics.fault(send::fault_kind(&e)).await;
                        tracing::warn!(vault = %key, attempt, "confirmation failed: {e:#}; checking again");
                    }
                },
                Err(e) => {
                    if let Some(code) = send::rpc_custom_code(&e) {
                        // Refused in preflight; if our own earlier send landed, that is why.
                        if let Some(result) = send::status(&self.rpc, &signature).await {
                            return Ok(self
                                .finish(key, (&route_name.0, &route_name.1), landed(result, signature.to_string()))
                                .await);
                        }
                        return Ok(self.refused(key, ballast_client::code_name(code)).await);
                    }
                    let kind = send::client_fault_kind(&e);
                    self.metrics.fault(kind).await;
                    tracing::warn!(vault = %key, attempt, kind, "send failed: {e}; retrying");
                    if kind == "blockhash_expired" {
                        tx = send::transaction(&self.rpc, &self.payer, &body, price, limit, &tables).await?;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        // A last look: the final attempt may have landed.
        if let Some(result) = send::status(&self.rpc, &tx.signatures[0]).await {
            return Ok(self
                .finish(key, (&route_name.0, &route_name.1), landed(result, tx.signatures[0].to_string()))
                .await);
        }
        self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome::Skipped("send failed after retries".into()))
    }

    /// Settles every open deposit request of the vault that the current oracle readings may settle
    /// (published at least the delay after the request, request not expired). Errors are logged.
    async fn settle_deposits(&self, key: &Pubkey, snap: &planner::Snapshot) {
        let found = match discover::deposit_requests(&self.rpc, key).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(vault = %key, "cannot list deposit requests: {e}");
                return;
            }
        };
        let terms = snap.vault.params.deposit_terms();
        let oldest_reading = snap.readings.iter().map(|r| r.publish_time).min().unwrap_or(0);
        for (address, request) in found {
            let ready = oldest_reading >= request.requested_at.saturating_add(terms.delay_secs as i64);
            if !ready || oldest_reading > terms.expires_at(request.requested_at) {
                continue;
            }
            let ix = ballast_client::settle_deposit(&self.payer.pubkey(), key, &snap.vault, &request);
            let sent = async {
                let tx = send::transaction(&self.rpc, &self.payer, &[ix], 0, 400_000, &[]).await?;
                let sig = self.rpc.send_transaction(&tx).await?;
                send::confirm(&self.rpc, &sig).await
            };
            match sent.await {
                Ok(None) => {
                    self.metrics.deposits_settled.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(vault = %key, request = %address, depositor = %request.depositor, "deposit settled");
                }
                Ok(Some(name)) => {
                    Metrics::bump(&self.metrics.refusals, &name).await;
                    tracing::debug!(vault = %key, request = %address, "settlement refused: {name}");
                }
                Err(e) => {
                    match e.downcast_ref::<solana_rpc_client_api::client_error::Error>().and_then(send::rpc_custom_code)
                    {
                        Some(code) => Metrics::bump(&self.metrics.refusals, &ballast_client::code_name(code)).await,
                        None => tracing::warn!(vault = %key, request = %address, "settlement failed: {e:#}"),
                    }
                }
            }
        }
    }

    /// Counts and logs a final outcome of a send.
    async fn finish(&self, key: &Pubkey, (route, venue): (&str, &str), outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Refused(name) => self.refused(key, name).await,
            Outcome::Rebalanced { sell, buy, amount_in, signature } => {
                self.metrics.rebalances.fetch_add(1, Ordering::Relaxed);
                Metrics::bump(&self.metrics.routes, route).await;
                Metrics::bump(&self.metrics.venues, venue).await;
                tracing::info!(vault = %key, sell, buy, amount_in, route, venue, %signature, "rebalanced");
                Outcome::Rebalanced { sell, buy, amount_in, signature }
            }
            other => other,
        }
    }

    async fn refused(&self, key: &Pubkey, name: String) -> Outcome {
        Metrics::bump(&self.metrics.refusals, &name).await;
        if is_quiet_refusal(&name) {
            tracing::debug!(vault = %key, "refused (someone else rebalanced or prices moved): {name}");
        } else {
            tracing::warn!(vault = %key, "program refused: {name}");
        }
        Outcome::Refused(name)
    }
}

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
    tracing::info!(keeper = %payer.pubkey(), metrics = %bound, dry_run = opts.dry_run, "keeper starting");
    let keeper = Keeper::new(opts, payer, metrics);
    keeper.ensure_funded().await;
    keeper
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Logs to stderr, filtered by `BALLAST_LOG` (default `info`), with colours only on a terminal.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BALLAST_LOG").unwrap_or_else(|_| "info".into());
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

impl Keeper {
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
