//! Keeper metrics: Prometheus counters and gauges, served on `/metrics` with `/health`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::Mutex;

use crate::errors::Fault;

/// Counters exposed on `/metrics`: the runtime's, and each job's own.
#[derive(Default)]
pub struct Metrics {
    pub iterations: AtomicU64,
    pub errors: AtomicU64,
    /// Endpoint faults survived, by kind ([`Fault::label`]: http_429, http_5xx, timeout, transport,
    /// confirmation_lost, …).
    pub faults: Mutex<BTreeMap<String, u64>>,
    /// Last observed max |drift| (bps) per vault.
    pub drift: Mutex<BTreeMap<String, u64>>,
    /// Effective band (bps) in force per `vault/asset index` (volatility-scaled bands move).
    pub bands: Mutex<BTreeMap<String, u64>>,
    pub rebalance: RebalanceMetrics,
    pub settle: SettleMetrics,
    pub fees: FeeMetrics,
    /// Every job's reports, by job and result (the job's name and its outcome's label, e.g. `settle`,
    /// `done`): what the keeper did, one count per report `Keeper::iteration` returns.
    pub reports: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

/// The fee job's counters and the fee shares vaults owe.
#[derive(Default)]
pub struct FeeMetrics {
    /// `accrue_fees` transactions confirmed.
    pub accruals: AtomicU64,
    /// Accruals the chain rejected, by error name.
    pub rejections: Mutex<BTreeMap<String, u64>>,
    /// Fee shares owed to the recipients, per vault (last seen).
    pub pending: Mutex<BTreeMap<String, u64>>,
}

/// The rebalance job's counters.
#[derive(Default)]
pub struct RebalanceMetrics {
    pub rebalances: AtomicU64,
    pub dry_run_trades: AtomicU64,
    /// Rejections by error name (e.g. another keeper got there first: CooldownNotElapsed).
    pub rejections: Mutex<BTreeMap<String, u64>>,
    /// Trades not attempted, by reason.
    pub skips: Mutex<BTreeMap<String, u64>>,
    /// Rebalances confirmed, by route kind (direct, flash, jupiter, orca; with_lookup_tables).
    pub routes: Mutex<BTreeMap<String, u64>>,
    /// Rebalances confirmed, by venue (reference, raydium-cpmm, orca-whirlpool, jupiter).
    pub venues: Mutex<BTreeMap<String, u64>>,
    /// Pokes confirmed, by reason (OpenAuction, CloseAuction).
    pub pokes: Mutex<BTreeMap<String, u64>>,
}

/// The settlement job's counters.
#[derive(Default)]
pub struct SettleMetrics {
    /// Deposit requests settled.
    pub settled: AtomicU64,
    /// Single-asset withdrawal requests settled.
    pub withdrawals_settled: AtomicU64,
    /// Settlements the chain rejected, by error name.
    pub rejections: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Counts one endpoint fault.
    pub async fn fault(&self, kind: Fault) {
        Self::bump(&self.faults, kind.label()).await;
    }

    /// Counts one unexpected error (and its fault kind).
    pub async fn error(&self, err: &anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.fault(Fault::of(err)).await;
    }

    /// Records a vault's state: max |drift| and the effective band per asset.
    pub async fn observe(&self, vault: &anchor_lang::prelude::Pubkey, val: &ballast_client::planner::Valuation) {
        let mut gauge = self.bands.lock().await;
        for (i, b) in val.bands().iter().enumerate() {
            gauge.insert(format!("{vault}/{i}"), *b as u64);
        }
        drop(gauge);
        if let Ok(d) = val.max_abs_drift_bps() {
            self.drift.lock().await.insert(vault.to_string(), d);
        }
        tracing::debug!(%vault, targets = ?val.targets(), bands = ?val.bands(), "targets and effective bands in force");
    }

    pub async fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
        *map.lock().await.entry(key.to_string()).or_default() += 1;
    }

    /// Counts one report of `job` with `result`.
    pub async fn report(&self, job: &'static str, result: &'static str) {
        *self.reports.lock().await.entry((job, result)).or_default() += 1;
    }

    /// Prometheus text exposition format.
    pub async fn render(&self) -> String {
        let (r, d) = (&self.rebalance, &self.settle);
        let mut s = String::new();
        counter(&mut s, "iterations_total", "Keeper loop iterations.", &self.iterations);
        counter(&mut s, "rebalances_total", "Rebalance transactions confirmed.", &r.rebalances);
        counter(&mut s, "deposits_settled_total", "Single-asset deposit requests settled.", &d.settled);
        counter(
            &mut s,
            "withdrawals_settled_total",
            "Single-asset withdrawal requests settled (shares burned, the asset paid out).",
            &d.withdrawals_settled,
        );
        counter(&mut s, "dry_run_trades_total", "Trades a dry run would have sent.", &r.dry_run_trades);
        counter(&mut s, "fee_accruals_total", "accrue_fees transactions confirmed.", &self.fees.accruals);
        counter(&mut s, "errors_total", "Unexpected errors.", &self.errors);
        // Named before rejections were called so; the name stays (dashboards and alerts read it).
        header(&mut s, "refusals_total", "Transactions the chain rejected, by job and error.", "counter");
        for (job, map) in [("rebalance", &r.rejections), ("settle", &d.rejections), ("fees", &self.fees.rejections)] {
            for (k, v) in map.lock().await.iter() {
                s.push_str(&format!("ballast_keeper_refusals_total{{job=\"{job}\",error=\"{k}\"}} {v}\n"));
            }
        }
        header(
            &mut s,
            "reports_total",
            "What the jobs did, by job and result (done, dry_run, held, waited, skipped, rejected, failed).",
            "counter",
        );
        for ((job, result), v) in self.reports.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_reports_total{{job=\"{job}\",result=\"{result}\"}} {v}\n"));
        }
        let labelled = [
            ("skips_total", "Trades not attempted, by reason.", "reason", &r.skips, "counter"),
            ("rebalances_by_route_total", "Rebalances confirmed, by route kind.", "route", &r.routes, "counter"),
            ("rebalances_by_venue_total", "Rebalances confirmed, by where they traded.", "venue", &r.venues, "counter"),
            (
                "pokes_total",
                "Pokes confirmed, by reason (opening or closing a rebalance auction).",
                "reason",
                &r.pokes,
                "counter",
            ),
            ("rpc_faults_total", "Endpoint faults survived, by kind.", "kind", &self.faults, "counter"),
            ("max_drift_bps", "Largest |weight - target| seen, per vault.", "vault", &self.drift, "gauge"),
            (
                "fee_shares_pending",
                "Fee shares a vault owes its recipients (fee job).",
                "vault",
                &self.fees.pending,
                "gauge",
            ),
        ];
        for (name, help, label, map, kind) in labelled {
            header(&mut s, name, help, kind);
            for (k, v) in map.lock().await.iter() {
                s.push_str(&format!("ballast_keeper_{name}{{{label}=\"{k}\"}} {v}\n"));
            }
        }
        header(&mut s, "band_bps", "Effective band in force, per vault and asset.", "gauge");
        for (k, v) in self.bands.lock().await.iter() {
            let (vault, asset) = k.split_once('/').unwrap_or((k.as_str(), ""));
            s.push_str(&format!("ballast_keeper_band_bps{{vault=\"{vault}\",asset=\"{asset}\"}} {v}\n"));
        }
        s
    }
}

fn header(s: &mut String, name: &str, help: &str, kind: &str) {
    s.push_str(&format!("# HELP ballast_keeper_{name} {help}\n# TYPE ballast_keeper_{name} {kind}\n"));
}

fn counter(s: &mut String, name: &str, help: &str, v: &AtomicU64) {
    header(s, name, help, "counter");
    s.push_str(&format!("ballast_keeper_{name} {}\n", v.load(Ordering::Relaxed)));
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
