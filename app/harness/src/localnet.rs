//! `ballast localnet`: the embedded chain with the demo vault, served over JSON-RPC, with a slot ticker
//! and an oracle price feed that moves along a scripted or random path (and re-prices the pools, as
//! arbitrageurs would) so that keepers have something to do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use serde_json::{json, Value};
use solana_signer::Signer;

use crate::chain::{Chain, TokenProgram};
use crate::dex::{Amm, AnyPool};
use crate::fixture::{PoolFixture, VaultFixture};
use crate::rpc::{self, param, RpcState};

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
        self.warp(secs as i64).await
    }

    /// Stops the background tasks and the server.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Refreshes every oracle, applies `moves` (asset, basis points), and arbitrages every pool.
async fn apply_step(chain: &mut Chain, fx: &VaultFixture, pools: &[AnyPool], moves: &[(usize, i64)]) -> Result<()> {
    fx.refresh_prices(chain).await;
    for (i, bps) in moves {
        let p = fx.oracle_reading(chain, *i).await.price;
        fx.set_price(chain, *i, (p as i128 * (10_000 + *bps as i128) / 10_000) as i64).await;
    }
    for pool in pools {
        fx.arbitrage_any(chain, pool).await?;
    }
    // Crank: the vault reads the new prices, so its volatility estimates follow the path.
    let vault = fx.state(chain).await;
    chain.send(&[crate::client::poke(&fx.key, &vault)], &[]).await.map_err(|e| anyhow::anyhow!("poke: {e}"))?;
    Ok(())
}

/// Starts the chain, the demo vault and pools, the RPC server and the background tasks.
pub async fn start(opts: LocalnetOptions) -> Result<Localnet> {
    let mut chain = Chain::start().await;
    let (fx, _alice) = crate::demo_vault::seeded_demo_vault(&mut chain, crate::fixture::default_params()).await?;
    let pools = crate::demo_vault::demo_pools(&mut chain, &fx).await?;
    // Real liquidity beside the reference pools: Raydium CPMM and Orca Whirlpool pools for SOL/USDC and
    // BTC/USDC, executed by the real programs.
    let mut all_pools: Vec<AnyPool> = pools.iter().copied().map(AnyPool::Reference).collect();
    for amm in [Amm::Raydium, Amm::Orca] {
        all_pools.extend(fx.create_pools(&mut chain, amm, &[(0, 2), (1, 2)], 250_000.0, 30).await?);
    }
    let chain = Arc::new(Mutex::new(chain));
    let fx = Arc::new(fx);
    if let Some(dir) = &opts.keys_dir {
        std::fs::create_dir_all(dir)?;
        for (name, key) in [("governance.json", &fx.governance), ("guardian.json", &fx.guardian)] {
            std::fs::write(dir.join(name), serde_json::to_string(&key.to_bytes().to_vec())?)?;
        }
    }
    let state = RpcState::new(chain.clone()).await;
    let _ = state.dev.set(Arc::new(DevMethods { fx: fx.clone(), pools: all_pools.clone() }));
    let (addr, server) = rpc::serve(state.clone(), opts.addr).await?;
    let ws_wanted = opts.ws_addr.unwrap_or_else(|| {
        let port = if addr.port() == 0 || opts.addr.port() == 0 { 0 } else { addr.port().saturating_add(1) };
        SocketAddr::new(addr.ip(), port)
    });
    let (ws_addr, ws_server) = rpc::serve_router(rpc::pubsub_router(state.clone()), ws_wanted).await?;
    let mut tasks = vec![server, ws_server];
    let dashboard_addr = match opts.dashboard_addr {
        Some(a) => {
            let (bound, task) = rpc::serve(state, a).await?;
            tasks.push(task);
            bound
        }
        None => addr,
    };

    let ticker = {
        let (chain, fx) = (chain.clone(), fx.clone());
        let tick = opts.tick;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let mut c = chain.lock().await;
                c.advance_time(1).await;
                // Publishers post every tick (Pyth: every 400 ms), so a reading is never more than a
                // second old: settlements and rebalances need fresh ones.
                fx.refresh_prices(&mut c).await;
            }
        })
    };
    let feed = {
        let (chain, fx, pools) = (chain.clone(), fx.clone(), all_pools.clone());
        let (path, step) = (opts.price_path, opts.step);
        tokio::spawn(async move {
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
                        let (i, pct) = crate::demo_vault::PRICE_PATH[n % crate::demo_vault::PRICE_PATH.len()];
                        vec![(i, pct * 100)]
                    }
                    PricePath::Random { max_bps, .. } => {
                        // The last demo asset is the stablecoin; it does not move.
                        (0..fx.assets.len() - 1)
                            .map(|i| (i, rng.gen_range(-(max_bps as i64)..=max_bps as i64)))
                            .collect()
                    }
                };
                n += 1;
                let mut c = chain.lock().await;
                match apply_step(&mut c, &fx, &pools, &moves).await {
                    Ok(()) => tracing::info!(step = n, ?moves, "prices moved"),
                    Err(e) => tracing::warn!("price step failed: {e}"),
                }
            }
        })
    };
    tasks.extend([ticker, feed]);
    Ok(Localnet { addr, ws_addr, dashboard_addr, chain, fx, pools, all_pools, tasks })
}

/// Development methods of `ballast localnet` over JSON-RPC (prefix `ballast_`), for local tools, tests
/// and the dashboard's development wallet. A real cluster has none of them.
///
/// - `ballast_faucet [owner]`: 10 SOL, and demo tokens (20 SOL-token, 0.1 BTC, 5 000 USDC) in the owner's
///   associated token accounts, which it creates, with the share account; returns the accounts.
/// - `ballast_warpTime [secs]`: moves the clock forward (1 s to 30 days), re-publishes oracle prices.
/// - `ballast_movePrice [asset_index, percent]`: moves one oracle price (−50 % to +100 %) and re-prices
///   the pools as arbitrageurs would.
pub struct DevMethods {
    pub fx: Arc<VaultFixture>,
    /// Every pool of the demo vault, re-priced on each price move.
    pub pools: Vec<AnyPool>,
}

/// What the faucet hands out per demo asset (base units: SOL-token 9 decimals, BTC 8, USDC 6).
pub const FAUCET_AMOUNTS: [u64; 3] = [20_000_000_000, 10_000_000, 5_000_000_000];
/// Lamports the faucet sends.
pub const FAUCET_LAMPORTS: u64 = 10_000_000_000;

impl DevMethods {
    pub async fn call(&self, chain: &Mutex<Chain>, method: &str, params: &Value) -> Result<Value> {
        let int = |i: usize, what: &str| -> Result<i64> {
            param(params, i)
                .and_then(Value::as_i64)
                .ok_or_else(|| anyhow::anyhow!("missing integer parameter {i} ({what})"))
        };
        match method {
            "ballast_faucet" => {
                let owner: Pubkey = param(params, 0)
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("parameter 0 must be the owner's address"))?;
                let mut c = chain.lock().await;
                faucet(&mut c, &self.fx, &owner).await
            }
            "ballast_warpTime" => {
                let secs = int(0, "seconds")?;
                anyhow::ensure!((1..=30 * 86_400).contains(&secs), "seconds must be within 1 s and 30 days");
                let mut c = chain.lock().await;
                c.advance_time(secs).await;
                apply_step(&mut c, &self.fx, &self.pools, &[]).await?;
                let clock = c.clock().await;
                Ok(json!({"slot": clock.slot, "unixTimestamp": clock.unix_timestamp}))
            }
            "ballast_movePrice" => {
                let (i, pct) = (int(0, "asset index")?, int(1, "percent")?);
                anyhow::ensure!(
                    (0..self.fx.assets.len() as i64).contains(&i),
                    "asset index must be below {}",
                    self.fx.assets.len()
                );
                anyhow::ensure!((-50..=100).contains(&pct), "percent must be within -50 and 100");
                let mut c = chain.lock().await;
                apply_step(&mut c, &self.fx, &self.pools, &[(i as usize, pct * 100)]).await?;
                Ok(json!(self.fx.oracle_reading(&mut c, i as usize).await.price))
            }
            other => anyhow::bail!("unknown development method {other}"),
        }
    }
}

/// Funds `owner` with SOL and the demo vault's tokens (see [`DevMethods`]).
async fn faucet(chain: &mut Chain, fx: &VaultFixture, owner: &Pubkey) -> Result<Value> {
    let payer = chain.payer();
    let ix = anchor_lang::solana_program::system_instruction::transfer(&payer.pubkey(), owner, FAUCET_LAMPORTS);
    chain.send(&[ix], &[]).await.map_err(|e| anyhow::anyhow!("faucet transfer: {e}"))?;
    let mut tokens = Vec::new();
    for (a, amount) in fx.assets.iter().zip(FAUCET_AMOUNTS) {
        let ata = chain.create_ata(owner, &a.mint, a.spec.program).await?;
        chain.mint_to(&a.mint, &ata, amount, a.spec.program).await?;
        tokens.push(json!({"mint": a.mint.to_string(), "account": ata.to_string(), "amount": amount.to_string()}));
    }
    let shares = chain.create_ata(owner, &crate::client::pda::share_mint(&fx.key), TokenProgram::Token).await?;
    Ok(json!({"lamports": FAUCET_LAMPORTS, "tokens": tokens, "shares": shares.to_string()}))
}
