//! Keeper metrics: Prometheus counters and gauges, served on `/metrics` with `/health`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::Mutex;

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
    /// Rebalances confirmed, by route kind (direct, flash).
    pub routes: Mutex<BTreeMap<String, u64>>,
    /// Endpoint faults survived, by kind (http_429, http_5xx, timeout, transport, confirmation_lost, …).
    pub faults: Mutex<BTreeMap<String, u64>>,
    /// Rebalances confirmed, by venue (reference, raydium-cpmm, orca-whirlpool, jupiter).
    pub venues: Mutex<BTreeMap<String, u64>>,
    /// Pokes confirmed, by reason (OpenAuction, CloseAuction).
    pub pokes: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Counts one endpoint fault.
    pub async fn fault(&self, kind: &str) {
        Self::bump(&self.faults, kind).await;
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
        s.push_str("# HELP ballast_keeper_rebalances_by_route_total Rebalances confirmed, by route kind.\n# TYPE ballast_keeper_rebalances_by_route_total counter\n");
        for (k, v) in self.routes.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_rebalances_by_route_total{{route=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_rebalances_by_venue_total Rebalances confirmed, by where they traded.\n# TYPE ballast_keeper_rebalances_by_venue_total counter\n");
        for (k, v) in self.venues.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_rebalances_by_venue_total{{venue=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_pokes_total Pokes confirmed, by reason (opening or closing a rebalance auction).\n# TYPE ballast_keeper_pokes_total counter\n");
        for (k, v) in self.pokes.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_pokes_total{{reason=\"{k}\"}} {v}\n"));
        }
        s.push_str("# HELP ballast_keeper_rpc_faults_total Endpoint faults survived, by kind.\n# TYPE ballast_keeper_rpc_faults_total counter\n");
        for (k, v) in self.faults.lock().await.iter() {
            s.push_str(&format!("ballast_keeper_rpc_faults_total{{kind=\"{k}\"}} {v}\n"));
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
