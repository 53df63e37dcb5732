//! `ballast localnet`: the embedded chain with the demo vault, served over JSON-RPC, with a slot ticker
//! and an oracle price feed that moves along a scripted or random path (and re-prices the pools, as
//! arbitrageurs would) so that keepers have something to do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use ballast_harness::chain::Chain;
use ballast_harness::demo_vault;
use ballast_harness::dex::{Amm, AnyPool};
use ballast_harness::fixture::{self, PoolFixture, VaultFixture};

use crate::methods::development::{apply_step, DevMethods};
use crate::wire::RpcState;
use crate::{dashboard, methods, pubsub, wire};

/// How oracle prices move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PricePath {
    /// Prices are only re-published (kept fresh), never moved.
    Hold,
    /// The demo's scripted path, repeated.
    Scripted,
    /// Independent random moves of the non-stable assets, up to `max_bps` per step, from `seed`.
    Random { max_bps: u32, seed: u64 },
}

impl std::str::FromStr for PricePath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hold" => Ok(PricePath::Hold),
            "scripted" => Ok(PricePath::Scripted),
            "random" => Ok(PricePath::Random { max_bps: 800, seed: 7 }),
            other => Err(format!("unknown price path {other:?}: use hold, scripted or random")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LocalnetOptions {
    /// JSON-RPC over HTTP (and websocket upgrades on the same port).
    pub addr: SocketAddr,
    /// The websocket pubsub port; by default the RPC port + 1, as validators serve it (port 0: any).
    pub ws_addr: Option<SocketAddr>,
    /// A second address for the web dashboard (it is always on the RPC address too).
    pub dashboard_addr: Option<SocketAddr>,
    pub price_path: PricePath,
    /// Real time between two price steps.
    pub step: Duration,
    /// Real time between two clock ticks; each tick advances the chain by one second (2–3 slots).
    pub tick: Duration,
    /// Where to write the demo vault's governance and guardian keypairs (Solana CLI JSON format), so
    /// local tools can sign governance transactions.
    pub keys_dir: Option<std::path::PathBuf>,
    /// A large vault of this many assets beside the demo vault (`ballast_addLargeVault`).
    pub large_vault: Option<usize>,
}

impl Default for LocalnetOptions {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8899".parse().unwrap(),
            ws_addr: None,
            dashboard_addr: None,
            price_path: PricePath::Scripted,
            step: Duration::from_secs(3),
            tick: Duration::from_millis(500),
            keys_dir: None,
            large_vault: None,
        }
    }
}

/// A running local network.
pub struct Localnet {
    pub addr: SocketAddr,
    pub ws_addr: SocketAddr,
    pub dashboard_addr: SocketAddr,
    pub chain: Arc<Mutex<Chain>>,
    pub fx: Arc<VaultFixture>,
    /// The reference-AMM pool of every pair.
    pub pools: Vec<PoolFixture>,
    /// Every whitelisted pool: the reference ones, and real Raydium CPMM and Orca Whirlpool pools for
    /// SOL/USDC and BTC/USDC.
    pub all_pools: Vec<AnyPool>,
    /// The large vault beside the demo vault, when asked for.
    pub large_vault: Option<Pubkey>,
    tasks: Vec<JoinHandle<()>>,
}

impl Localnet {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn dashboard_url(&self) -> String {
        format!("http://{}/", self.dashboard_addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    pub fn vault(&self) -> Pubkey {
        self.fx.key
    }

    /// Moves asset `i`'s price by `pct` percent now, refreshes the others and re-prices the pools.
    pub async fn shock(&self, i: usize, pct: i64) -> Result<()> {
        let mut chain = self.chain.lock().await;
        apply_step(&mut chain, &self.fx, &self.all_pools, &[(i, pct * 100)]).await
    }

    /// Moves the clock `secs` forward now (prices re-published, pools re-priced, the vault poked), as
    /// `ballast_warpTime` does.
    pub async fn warp(&self, secs: i64) -> Result<()> {
        let mut chain = self.chain.lock().await;
        chain.advance_time(secs).await;
        apply_step(&mut chain, &self.fx, &self.all_pools, &[]).await
    }

    /// Lets the demo vault's rebalance auction (opened by the last price step's poke when an asset left its
    /// band) run its course: the next rebalance is held to the slippage-cap floor.
    pub async fn relax_auction(&self) -> Result<()> {
        let secs = {
            let mut chain = self.chain.lock().await;
            self.fx.state(&mut chain).await.params.auction_secs
        };
        self.let_auction_run(secs as i64).await
    }

    /// Moves the clock `secs` forward while the demo vault's auction runs (prices re-published and the vault
    /// poked every half heartbeat, as watching keepers do), then re-prices the pools.
    pub async fn let_auction_run(&self, secs: i64) -> Result<()> {
        let mut chain = self.chain.lock().await;
        self.fx.let_auction_run(&mut chain, secs).await.map_err(|e| anyhow::anyhow!("poke: {e}"))?;
        apply_step(&mut chain, &self.fx, &self.all_pools, &[]).await
    }

    /// Stops the background tasks and the server.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Starts the chain, the demo vault and pools, the RPC server and the background tasks.
pub async fn start(opts: LocalnetOptions) -> Result<Localnet> {
    let (chain, fx, pools, all_pools) = demo_chain().await?;
    if let Some(dir) = &opts.keys_dir {
        std::fs::create_dir_all(dir)?;
        for (name, key) in [("governance.json", &fx.governance), ("guardian.json", &fx.guardian)] {
            std::fs::write(dir.join(name), serde_json::to_string(&key.to_bytes().to_vec())?)?;
        }
    }
    let state = RpcState::new(chain.clone()).await;
    let dev = Arc::new(DevMethods::new(fx.clone(), all_pools.clone()));
    let _ = state.dev.set(dev.clone());
    for a in &fx.assets {
        state.set_label(a.mint, &a.spec.symbol);
    }
    let large_vault = match opts.large_vault {
        Some(n) => Some(dev.add_large_vault(&state, n).await?),
        None => None,
    };
    let (addr, server) = serve(router(state.clone()), opts.addr).await?;
    let ws_wanted = opts.ws_addr.unwrap_or_else(|| {
        let port = if addr.port() == 0 || opts.addr.port() == 0 { 0 } else { addr.port().saturating_add(1) };
        SocketAddr::new(addr.ip(), port)
    });
    let (ws_addr, ws_server) = serve(pubsub_router(state.clone()), ws_wanted).await?;
    let mut tasks = vec![server, ws_server];
    let dashboard_addr = match opts.dashboard_addr {
        Some(a) => {
            let (bound, task) = serve(router(state), a).await?;
            tasks.push(task);
            bound
        }
        None => addr,
    };
    tasks.push(tokio::spawn(ticker(chain.clone(), dev, opts.tick)));
    tasks.push(tokio::spawn(feed(chain.clone(), fx.clone(), all_pools.clone(), opts.price_path, opts.step)));
    Ok(Localnet { addr, ws_addr, dashboard_addr, chain, fx, pools, all_pools, large_vault, tasks })
}

type DemoChain = (Arc<Mutex<Chain>>, Arc<VaultFixture>, Vec<PoolFixture>, Vec<AnyPool>);

/// The chain with the seeded demo vault, a reference pool per pair, and real liquidity beside them: Raydium
/// CPMM and Orca Whirlpool pools for SOL/USDC and BTC/USDC, executed by the real programs.
async fn demo_chain() -> Result<DemoChain> {
    let mut chain = Chain::start().await;
    let (fx, _alice) = demo_vault::seeded_demo_vault(&mut chain, fixture::default_params()).await?;
    let pools = demo_vault::demo_pools(&mut chain, &fx).await?;
    let mut all_pools: Vec<AnyPool> = pools.iter().copied().map(AnyPool::Reference).collect();
    for amm in [Amm::Raydium, Amm::Orca] {
        all_pools.extend(fx.create_pools(&mut chain, amm, &[(0, 2), (1, 2)], 250_000.0, 30).await?);
    }
    Ok((Arc::new(Mutex::new(chain)), Arc::new(fx), pools, all_pools))
}

/// Each tick moves the clock one second and re-publishes the prices of every vault served.
async fn ticker(chain: Arc<Mutex<Chain>>, dev: Arc<DevMethods>, tick: Duration) {
    loop {
        tokio::time::sleep(tick).await;
        let mut c = chain.lock().await;
        c.advance_time(1).await;
        // Publishers post every tick (Pyth: every 400 ms), so a reading is never more than a second old:
        // settlements and rebalances need fresh ones.
        for p in dev.priced() {
            p.fx.refresh_prices(&mut c).await;
        }
    }
}

/// Each step moves prices along `path`, re-prices the pools and pokes the vault.
async fn feed(chain: Arc<Mutex<Chain>>, fx: Arc<VaultFixture>, pools: Vec<AnyPool>, path: PricePath, step: Duration) {
    let mut n = 0usize;
    let mut rng = rand::rngs::StdRng::seed_from_u64(match path {
        PricePath::Random { seed, .. } => seed,
        _ => 0,
    });
    loop {
        tokio::time::sleep(step).await;
        let moves: Vec<(usize, i64)> = match path {
            PricePath::Hold => vec![],
            PricePath::Scripted => {
                let (i, pct) = demo_vault::PRICE_PATH[n % demo_vault::PRICE_PATH.len()];
                vec![(i, pct * 100)]
            }
            // The last demo asset is the stablecoin; it does not move.
            PricePath::Random { max_bps, .. } => {
                (0..fx.assets.len() - 1).map(|i| (i, rng.gen_range(-(max_bps as i64)..=max_bps as i64))).collect()
            }
        };
        n += 1;
        let mut c = chain.lock().await;
        match apply_step(&mut c, &fx, &pools, &moves).await {
            Ok(()) => {
                let moved: Vec<String> = moves
                    .iter()
                    .map(|(i, bps)| format!("{} {:+.2}%", fx.assets[*i].spec.symbol, *bps as f64 / 100.0))
                    .collect();
                tracing::info!(
                    step = n,
                    "prices moved: {}",
                    if moved.is_empty() { "none".into() } else { moved.join(", ") }
                )
            }
            Err(e) => tracing::warn!("price step failed: {e}"),
        }
    }
}

/// The router of the RPC port: `POST /` for JSON-RPC (single or batch), on `GET /` a websocket upgrade for
/// pubsub or else the dashboard's page, `GET /health` like a validator, and the dashboard's API.
pub fn router(state: Arc<RpcState>) -> Router {
    Router::new()
        .route("/", post(json_rpc).get(root))
        .route("/health", get(|| async { "ok" }))
        .route("/dashboard.js", get(dashboard::script))
        .route("/api/program", get(dashboard::api_program))
        .route("/api/vaults", get(dashboard::api_vaults))
        .route("/api/history", get(dashboard::api_history))
        .route("/api/tx/{kind}", post(dashboard::api_tx))
        .with_state(state)
}

/// The websocket-only router a validator serves on its RPC port + 1.
pub fn pubsub_router(state: Arc<RpcState>) -> Router {
    Router::new().route("/", get(pubsub::upgrade)).with_state(state)
}

async fn json_rpc(state: State<Arc<RpcState>>, body: Json<Value>) -> Json<Value> {
    wire::handle(state, methods::dispatch, body).await
}

async fn root(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>, state: State<Arc<RpcState>>) -> Response {
    match ws {
        Ok(ws) => pubsub::upgrade(ws, state).await,
        Err(_) => dashboard::page().await,
    }
}

/// Serves `app` on `addr`; returns the bound address (use port 0 for a free port).
pub async fn serve(app: Router, addr: SocketAddr) -> Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("rpc server stopped: {e}");
        }
    });
    Ok((bound, handle))
}
