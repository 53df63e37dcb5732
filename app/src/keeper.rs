//! `ballast keeper`: a permissionless rebalancing bot speaking JSON-RPC to any Solana endpoint (the
//! local one from `ballast localnet`, or a real cluster).
//!
//! Each iteration: find vaults (getProgramAccounts on the vault discriminator, or the given list), fetch
//! oracles, reserves and whitelisted pools in batches, plan every whitelisted route with the program's own
//! math, estimate the pool's real output at its depth, pick the route that reduces drift most, weigh the
//! keeper's bounty against its fees, simulate, size the compute budget from the simulation, price it from
//! recent prioritization fees, send, and confirm. Before rebalancing, it settles the vault's open
//! single-asset deposit requests whose settlement delay has passed (`settle_deposit`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use anchor_spl::associated_token::{get_associated_token_address_with_program_id, spl_associated_token_account};
use anyhow::{anyhow, Context as _, Result};
use ballast::errors::BallastError;
use ballast::instructions::RebalanceArgs;
use ballast::math::rebalance::{self as planner, AssetLimits, RebalancePlan, TradeRequest};
use ballast::math::{self, AssetPosition, OracleReading, PriceBounds, Rounding};
use ballast::state::{DepositRequest, Vault};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;
use tokio::sync::Mutex;

use crate::client;
use crate::rebalancer::Snapshot;

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
    /// Send attempts per trade (fresh blockhash and backoff between them).
    pub max_attempts: u32,
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
        }
    }
}

/// Counters exposed on `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub iterations: AtomicU64,
    pub rebalances: AtomicU64,
    /// Deposit requests settled.
    pub deposits_settled: AtomicU64,
    pub dry_run_trades: AtomicU64,
    pub errors: AtomicU64,
    /// Program refusals by error name (e.g. another keeper got there first: CooldownNotElapsed).
    pub refusals: Mutex<BTreeMap<String, u64>>,
    /// Trades not attempted, by reason.
    pub skips: Mutex<BTreeMap<String, u64>>,
    /// Last observed max |drift| (bps) per vault.
    pub drift: Mutex<BTreeMap<String, u64>>,
    /// Effective band (bps) in force per `vault/asset index` (volatility-scaled bands move).
    pub bands: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    async fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
        *map.lock().await.entry(key.to_string()).or_default() += 1;
    }

    /// Prometheus text exposition format.
    pub async fn render(&self) -> String {
        let mut s = String::new();
        let counter = |s: &mut String, name: &str, help: &str, v: u64| {
            s.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"));
        };
        counter(
            &mut s,
            "ballast_keeper_iterations_total",
            "Keeper loop iterations.",
            self.iterations.load(Ordering::Relaxed),
        );
        counter(
            &mut s,
            "ballast_keeper_rebalances_total",
            "Rebalance transactions confirmed.",
            self.rebalances.load(Ordering::Relaxed),
        );
        counter(
            &mut s,
            "ballast_keeper_deposits_settled_total",
            "Single-asset deposit requests settled.",
            self.deposits_settled.load(Ordering::Relaxed),
        );
        counter(
            &mut s,
            "ballast_keeper_dry_run_trades_total",
            "Trades a dry run would have sent.",
            self.dry_run_trades.load(Ordering::Relaxed),
        );
        counter(&mut s, "ballast_keeper_errors_total", "Unexpected errors.", self.errors.load(Ordering::Relaxed));
        s.push_str("# HELP ballast_keeper_refusals_total Rebalances the program refused, by error.\n# TYPE ballast_keeper_refusals_total counter\n");
        for (k, v) in self.refusals.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_refusals_total{{error=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_skips_total Trades not attempted, by reason.\n# TYPE ballast_keeper_skips_total counter\n");
        for (k, v) in self.skips.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_skips_total{{reason=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_max_drift_bps Largest |weight - target| seen, per vault.\n# TYPE ballast_keeper_max_drift_bps gauge\n");
        for (k, v) in self.drift.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_max_drift_bps{{vault=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_band_bps Effective band in force, per vault and asset.\n# TYPE ballast_keeper_band_bps gauge\n");
        for (k, v) in self.bands.lock().await.iter() {
            let (vault, asset) = k.split_once('/').unwrap_or((k.as_str(), ""));
            s.push_str(&format!("ballast_keeper_band_bps{{vault=\"{vault}\",asset=\"{asset}\"}} {v}\n"));
        }
        s
    }
}

/// Serves `/metrics` and `/health` on `addr`; returns the bound address.
pub async fn serve_metrics(
    metrics: Arc<Metrics>,
    addr: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|axum::extract::State(m): axum::extract::State<Arc<Metrics>>| async move { m.render().await }),
        )
        .route("/health", get(|| async { "ok" }))
        .with_state(metrics);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((
        bound,
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }),
    ))
}

/// A whitelisted reference-AMM pool with its reserves.
#[derive(Debug, Clone)]
struct Route {
    pool: Pubkey,
    /// (vault asset index, pool vault, pool reserve) for the pool's two mints.
    sides: [(usize, Pubkey, u64); 2],
    fee_bps: u16,
}

/// A trade worth considering.
#[derive(Debug, Clone)]
struct Candidate {
    request: TradeRequest,
    plan: RebalancePlan,
    route: Route,
    expected_out: u64,
    /// Reduction of Σ|value − target| (micro-USD) if the pool pays `expected_out`.
    drift_reduction: u128,
    /// Execution cost: trade value minus the value received, at mid prices (micro-USD).
    execution_cost: i128,
    /// Bounty the program will pay for the expected drift reduction (micro-USD).
    bounty_value: u128,
}

/// What happened to one vault in one iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Hold(String),
    Skipped(String),
    DryRun { sell: usize, buy: usize, amount_in: u64 },
    Rebalanced { sell: usize, buy: usize, amount_in: u64, signature: String },
    Refused(String),
}

/// The keeper itself.
pub struct Keeper {
    pub rpc: RpcClient,
    pub payer: Keypair,
    pub opts: KeeperOptions,
    pub metrics: Arc<Metrics>,
}

fn rpc_custom_code(err: &solana_rpc_client_api::client_error::Error) -> Option<u32> {
    use solana_transaction_error::TransactionError;
    let te = err.get_transaction_error()?;
    match te {
        TransactionError::InstructionError(_, solana_transaction::InstructionError::Custom(c)) => Some(c),
        _ => None,
    }
}

fn is_quiet_refusal(name: &str) -> bool {
    // Another keeper was first, or prices moved back inside the band: nothing to worry about.
    name == BallastError::CooldownNotElapsed.name() || name == BallastError::RebalanceNotNeeded.name()
}

impl Keeper {
    pub fn new(opts: KeeperOptions, payer: Keypair, metrics: Arc<Metrics>) -> Keeper {
        let rpc = RpcClient::new_with_commitment(opts.rpc_url.clone(), CommitmentConfig::confirmed());
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

    /// Vault addresses to keep.
    pub async fn vaults(&self) -> Result<Vec<(Pubkey, Vault)>> {
        let accounts: Vec<(Pubkey, solana_account::Account)> = if self.opts.vaults.is_empty() {
            let config = RpcProgramAccountsConfig {
                filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Vault::DISCRIMINATOR))]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(UiAccountEncoding::Base64),
                    ..Default::default()
                },
                with_context: None,
                sort_results: None,
            };
            self.rpc
                .get_program_ui_accounts_with_config(&ballast::ID, config)
                .await?
                .into_iter()
                .filter_map(|(k, ui)| ui.decode::<solana_account::Account>().map(|a| (k, a)))
                .collect()
        } else {
            let found = self.rpc.get_multiple_accounts(&self.opts.vaults).await?;
            self.opts.vaults.iter().zip(found).filter_map(|(k, a)| a.map(|a| (*k, a))).collect()
        };
        accounts
            .into_iter()
            .map(|(k, a)| {
                Ok((k, Vault::try_deserialize(&mut &a.data[..]).with_context(|| format!("decode vault {k}"))?))
            })
            .collect()
    }

    /// One pass over every vault.
    pub async fn iteration(&self) -> Result<Vec<(Pubkey, Outcome)>> {
        self.metrics.iterations.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        for (key, vault) in self.vaults().await? {
            let outcome = match self.keep(&key, vault).await {
                Ok(o) => o,
                Err(e) => {
                    self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(vault = %key, "error: {e:#}");
                    Outcome::Skipped(format!("error: {e}"))
                }
            };
            out.push((key, outcome));
        }
        Ok(out)
    }

    async fn fetch(&self, keys: &[Pubkey]) -> Result<Vec<Option<solana_account::Account>>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            out.extend(self.rpc.get_multiple_accounts(chunk).await?);
        }
        Ok(out)
    }

    async fn snapshot(&self, vault: Vault) -> Result<(Snapshot, Vec<Route>)> {
        let n = vault.assets.len();
        let mut keys: Vec<Pubkey> = vault.assets.iter().flat_map(|a| [a.oracle, a.reserve]).collect();
        keys.push(vault.share_mint);
        let amm_pools: Vec<Pubkey> =
            vault.amms.iter().filter(|e| e.program_id == ballast_amm::ID).map(|e| e.pool).collect();
        keys.extend(&amm_pools);
        let accounts = self.fetch(&keys).await?;
        let mut readings = Vec::with_capacity(n);
        let mut balances = Vec::with_capacity(n);
        for i in 0..n {
            let oracle = accounts[2 * i].as_ref().ok_or_else(|| anyhow!("oracle of asset {i} missing"))?;
            let u = PriceUpdateV2::try_deserialize(&mut &oracle.data[..])
                .map_err(|e| anyhow!("oracle of asset {i}: {e}"))?;
            let m = u.price_message;
            readings.push(OracleReading {
                price: m.price,
                conf: m.conf,
                expo: m.exponent,
                publish_time: m.publish_time,
            });
            let reserve = accounts[2 * i + 1].as_ref().ok_or_else(|| anyhow!("reserve of asset {i} missing"))?;
            balances.push(u64::from_le_bytes(reserve.data[64..72].try_into()?));
        }
        let supply = accounts[2 * n]
            .as_ref()
            .and_then(|m| m.data.get(36..44))
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .ok_or_else(|| anyhow!("share mint missing"))?;
        let slot = self.rpc.get_slot().await?;
        // Pools: decode, then fetch their vault balances in one batch.
        let mut pools = Vec::new();
        for (pool_key, acc) in amm_pools.iter().zip(&accounts[2 * n + 1..]) {
            let Some(acc) = acc else { continue };
            let Ok(pool) = ballast_amm::Pool::try_deserialize(&mut &acc.data[..]) else { continue };
            let (Some(ia), Some(ib)) = (vault.asset_index(&pool.mint_a), vault.asset_index(&pool.mint_b)) else {
                continue;
            };
            pools.push((*pool_key, pool, ia, ib));
        }
        let vault_keys: Vec<Pubkey> = pools.iter().flat_map(|(_, p, _, _)| [p.vault_a, p.vault_b]).collect();
        let vault_accounts = self.fetch(&vault_keys).await?;
        let amount = |a: &Option<solana_account::Account>| {
            a.as_ref().and_then(|a| a.data.get(64..72)).map(|b| u64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
        };
        let routes = pools
            .iter()
            .enumerate()
            .map(|(k, (key, p, ia, ib))| Route {
                pool: *key,
                sides: [
                    (*ia, p.vault_a, amount(&vault_accounts[2 * k])),
                    (*ib, p.vault_b, amount(&vault_accounts[2 * k + 1])),
                ],
                fee_bps: p.fee_bps,
            })
            .collect();
        Ok((Snapshot { vault, readings, balances, supply, slot }, routes))
    }

    /// Every whitelisted route planned in both directions, with the pool's expected output.
    fn candidates(
        snap: &Snapshot,
        routes: &[Route],
        bounds: &[PriceBounds],
        positions: &[AssetPosition],
        limits: &[AssetLimits],
    ) -> Result<(Vec<Candidate>, Vec<String>)> {
        let policy = snap.policy();
        let targets: Vec<u16> = limits.iter().map(|l| l.target_bps).collect();
        let values = math::position_values(positions, Rounding::Floor).map_err(|e| anyhow!("{e:?}"))?;
        let drift_before = math::total_abs_drift_value(&values, &targets).map_err(|e| anyhow!("{e:?}"))?;
        let mut out = Vec::new();
        let mut reasons = Vec::new();
        for route in routes {
            for (from, to) in [(0, 1), (1, 0)] {
                let (sell, pool_in, reserve_in) = route.sides[from];
                let (buy, pool_out, reserve_out) = route.sides[to];
                let request = TradeRequest { sell, buy, amount_in: positions[sell].balance, min_out: 0 };
                let plan = match planner::plan(positions, bounds, limits, &policy, &request) {
                    Ok(p) => p,
                    Err(r) => {
                        reasons.push(format!("{sell}->{buy}: {r:?}"));
                        continue;
                    }
                };
                let expected_out =
                    ballast_amm::math::swap_out(reserve_in, reserve_out, route.fee_bps, plan.amount_in).unwrap_or(0);
                if expected_out < plan.min_out {
                    reasons.push(format!("{sell}->{buy}: pool pays {expected_out} < floor {}", plan.min_out));
                    continue;
                }
                let mut after = positions.to_vec();
                after[sell].balance -= plan.amount_in;
                after[buy].balance += expected_out;
                let values_after = math::position_values(&after, Rounding::Floor).map_err(|e| anyhow!("{e:?}"))?;
                let drift_after = math::total_abs_drift_value(&values_after, &targets).map_err(|e| anyhow!("{e:?}"))?;
                let bounty_value = planner::bounty_value(
                    drift_before.saturating_sub(drift_after),
                    &policy,
                    snap.vault.episode_bounty_paid,
                )
                .map_err(|e| anyhow!("{e:?}"))?;
                let mid_in =
                    math::value_of(plan.amount_in, positions[sell].decimals, positions[sell].price, Rounding::Floor)
                        .unwrap_or(0);
                let mid_out =
                    math::value_of(expected_out, positions[buy].decimals, positions[buy].price, Rounding::Floor)
                        .unwrap_or(0);
                let _ = (pool_in, pool_out);
                out.push(Candidate {
                    request: TradeRequest { amount_in: plan.amount_in, ..request },
                    plan,
                    route: route.clone(),
                    expected_out,
                    drift_reduction: drift_before.saturating_sub(drift_after),
                    execution_cost: mid_in as i128 - mid_out as i128,
                    bounty_value,
                });
            }
        }
        Ok((out, reasons))
    }

    async fn priority_price(&self, writable: &[Pubkey]) -> u64 {
        let fees = match self.rpc.get_recent_prioritization_fees(writable).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!("no prioritization fees: {e}");
                return 0;
            }
        };
        let mut v: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
        if v.is_empty() {
            return 0;
        }
        v.sort_unstable();
        let idx = ((v.len() - 1) * self.opts.priority_percentile.min(100) as usize) / 100;
        v[idx].min(self.opts.max_priority_micro_lamports)
    }

    async fn keep(&self, key: &Pubkey, vault: Vault) -> Result<Outcome> {
        let (snap, routes) = self.snapshot(vault).await?;
        if !self.opts.dry_run {
            self.settle_deposits(key, &snap).await;
        }
        // Prices, positions and the targets and bands in force, computed once for metrics and planning.
        let bounds = snap.bounds().map_err(|e| anyhow!(e))?;
        let positions = snap.positions(&bounds);
        let limits = snap.limits(&positions).map_err(|e| anyhow!(e))?;
        let targets: Vec<u16> = limits.iter().map(|l| l.target_bps).collect();
        let bands: Vec<u16> = limits.iter().map(|l| l.band_bps).collect();
        tracing::debug!(vault = %key, ?targets, ?bands, "targets and effective bands in force");
        let mut gauge = self.metrics.bands.lock().await;
        for (i, b) in bands.iter().enumerate() {
            gauge.insert(format!("{key}/{i}"), *b as u64);
        }
        drop(gauge);
        if let Ok(d) = math::position_values(&positions, Rounding::Floor)
            .and_then(|v| math::weights_bps(&v))
            .and_then(|w| math::drift_bps(&w, &targets))
        {
            self.metrics.drift.lock().await.insert(key.to_string(), math::max_abs_drift_bps(&d));
        }
        let (mut candidates, reasons) = Self::candidates(&snap, &routes, &bounds, &positions, &limits)?;
        if candidates.is_empty() {
            let why = if reasons.iter().all(|r| r.contains("NotNeeded") || r.contains("WrongDirection")) {
                "inside bands".to_string()
            } else {
                reasons.join("; ")
            };
            tracing::debug!(vault = %key, "hold: {why}");
            return Ok(Outcome::Hold(why));
        }
        candidates.sort_by_key(|c| std::cmp::Reverse(c.drift_reduction));
        let best = candidates.swap_remove(0);
        let TradeRequest { sell, buy, .. } = best.request;

        // Worth it? The keeper earns the bounty and pays the network fee plus priority fee.
        let sell_asset = snap.vault.assets[sell];
        let buy_asset = snap.vault.assets[buy];
        let writable = vec![*key, sell_asset.reserve, buy_asset.reserve, best.route.pool];
        let price = self.priority_price(&writable).await;
        let base_lamports = 5_000u64;
        let fee_usd = (base_lamports as f64 + price as f64 * 400_000.0 / 1e6) / 1e9 * self.opts.sol_price_usd;
        let bounty_usd = best.bounty_value as f64 / 1e6;
        let profit = bounty_usd - fee_usd;
        tracing::debug!(
            vault = %key, sell, buy, amount_in = best.plan.amount_in, expected_out = best.expected_out,
            min_out = best.plan.min_out, execution_cost_usd = best.execution_cost as f64 / 1e6,
            drift_reduction_usd = best.drift_reduction as f64 / 1e6, bounty_usd, fee_usd, "best trade"
        );
        if profit < self.opts.min_profit_usd {
            Metrics::bump(&self.metrics.skips, "not_worth_it").await;
            let why = format!(
                "bounty ${bounty_usd:.4} − fees ${fee_usd:.4} below minimum profit ${:.4}",
                self.opts.min_profit_usd
            );
            tracing::debug!(vault = %key, "skip: {why}");
            return Ok(Outcome::Skipped(why));
        }

        // Build: bounty account (created idempotently), rebalance with a tightened min-out.
        let keeper = self.payer.pubkey();
        let bounty_account =
            get_associated_token_address_with_program_id(&keeper, &sell_asset.mint, &sell_asset.token_program);
        let create_ata = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &keeper,
            &keeper,
            &sell_asset.mint,
            &sell_asset.token_program,
        );
        let min_out = best.plan.min_out.max(best.expected_out - best.expected_out / 200);
        let side = |asset: usize| best.route.sides.iter().find(|s| s.0 == asset).map(|s| s.1).unwrap();
        let args =
            RebalanceArgs { sell_index: sell as u8, buy_index: buy as u8, amount_in: best.plan.amount_in, min_out };
        let rebalance = client::rebalance(
            &keeper,
            key,
            &snap.vault,
            &bounty_account,
            &ballast_amm::ID,
            &best.route.pool,
            &side(sell),
            &side(buy),
            args,
        );
        let body = vec![create_ata, rebalance];

        // Simulate with the maximum budget; never send what does not simulate.
        let units = match self.simulate(&body, price, 1_400_000).await? {
            Ok(units) => units,
            Err(name) => return Ok(self.refused(key, name).await),
        };
        let limit = ((units as u128 * 3).div_ceil(2) as u32).max(1);
        if self.opts.dry_run {
            self.metrics.dry_run_trades.fetch_add(1, Ordering::Relaxed);
            tracing::info!(vault = %key, sell, buy, amount_in = best.plan.amount_in, min_out, cu_limit = limit, cu_price = price, "dry run: would rebalance");
            return Ok(Outcome::DryRun { sell, buy, amount_in: best.plan.amount_in });
        }
        let mut backoff = Duration::from_millis(200);
        for attempt in 1..=self.opts.max_attempts {
            let tx = self.transaction(&body, price, limit).await?;
            let config = RpcSendTransactionConfig { skip_preflight: false, ..Default::default() };
            match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(signature) => match self.confirm(&signature).await? {
                    None => {
                        self.metrics.rebalances.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(vault = %key, sell, buy, amount_in = best.plan.amount_in, %signature, "rebalanced");
                        return Ok(Outcome::Rebalanced {
                            sell,
                            buy,
                            amount_in: best.plan.amount_in,
                            signature: signature.to_string(),
                        });
                    }
                    Some(name) => return Ok(self.refused(key, name).await),
                },
                Err(e) => {
                    if let Some(code) = rpc_custom_code(&e) {
                        return Ok(self.refused(key, crate::chain::code_name(code)).await);
                    }
                    tracing::warn!(vault = %key, attempt, "send failed: {e}; retrying with a fresh blockhash");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        self.metrics.errors.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome::Skipped("send failed after retries".into()))
    }

    /// Settles every open deposit request of the vault that the current oracle readings may settle
    /// (published at least the delay after the request, request not expired). Errors are logged.
    async fn settle_deposits(&self, key: &Pubkey, snap: &Snapshot) {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, DepositRequest::DISCRIMINATOR)),
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, key.as_ref())),
            ]),
            account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
            with_context: None,
            sort_results: None,
        };
        let found = match self.rpc.get_program_ui_accounts_with_config(&ballast::ID, config).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(vault = %key, "cannot list deposit requests: {e}");
                return;
            }
        };
        let terms = snap.vault.params.deposit_terms();
        let oldest_reading = snap.readings.iter().map(|r| r.publish_time).min().unwrap_or(0);
        for (address, ui) in found {
            let Some(acc) = ui.decode::<solana_account::Account>() else { continue };
            let Ok(request) = DepositRequest::try_deserialize(&mut &acc.data[..]) else { continue };
            let ready = oldest_reading >= request.requested_at.saturating_add(terms.delay_secs as i64);
            let live = oldest_reading <= terms.expires_at(request.requested_at);
            if !ready || !live {
                continue;
            }
            let ix = client::settle_deposit(&self.payer.pubkey(), key, &snap.vault, &request);
            let sent = async {
                let tx = self.transaction(&[ix], 0, 400_000).await?;
                let sig = self.rpc.send_transaction(&tx).await?;
                self.confirm(&sig).await
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
                    let name = e.downcast_ref::<solana_rpc_client_api::client_error::Error>().and_then(rpc_custom_code);
                    match name {
                        Some(code) => Metrics::bump(&self.metrics.refusals, &crate::chain::code_name(code)).await,
                        None => tracing::warn!(vault = %key, request = %address, "settlement failed: {e:#}"),
                    }
                }
            }
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

    async fn transaction(&self, body: &[Instruction], price: u64, limit: u32) -> Result<Transaction> {
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(limit)];
        if price > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        ixs.extend_from_slice(body);
        let blockhash = self.rpc.get_latest_blockhash().await?;
        Ok(Transaction::new_signed_with_payer(&ixs, Some(&self.payer.pubkey()), &[&self.payer], blockhash))
    }

    /// Units consumed, or the refusal's error name.
    async fn simulate(&self, body: &[Instruction], price: u64, limit: u32) -> Result<Result<u64, String>> {
        let tx = self.transaction(body, price, limit).await?;
        let sim = self.rpc.simulate_transaction(&tx).await?.value;
        match sim.err {
            None => Ok(Ok(sim.units_consumed.unwrap_or(0))),
            Some(err) => {
                let name = match solana_transaction_error::TransactionError::from(err) {
                    solana_transaction_error::TransactionError::InstructionError(
                        _,
                        solana_transaction::InstructionError::Custom(c),
                    ) => crate::chain::code_name(c),
                    other => format!("{other:?}"),
                };
                Ok(Err(name))
            }
        }
    }

    /// Polls the signature; `None` on success, `Some(error name)` on failure.
    async fn confirm(&self, signature: &solana_transaction::Signature) -> Result<Option<String>> {
        for _ in 0..50 {
            let statuses = self.rpc.get_signature_statuses(&[*signature]).await?.value;
            if let Some(Some(status)) = statuses.first() {
                return Ok(status.err.clone().map(|e| format!("{:?}", e)));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(anyhow!("transaction {signature} not confirmed"))
    }
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
