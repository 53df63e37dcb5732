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

use crate::chain::Chain;
use crate::fixture::{PoolFixture, VaultFixture};
use crate::rpc::{self, RpcState};

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
    pub addr: SocketAddr,
    pub price_path: PricePath,
    /// Real time between two price steps.
    pub step: Duration,
    /// Real time between two clock ticks; each tick advances the chain by one second (2–3 slots).
    pub tick: Duration,
}

impl Default for LocalnetOptions {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8899".parse().unwrap(),
            price_path: PricePath::Scripted,
            step: Duration::from_secs(3),
            tick: Duration::from_millis(500),
        }
    }
}

/// A running local network.
pub struct Localnet {
    pub addr: SocketAddr,
    pub chain: Arc<Mutex<Chain>>,
    pub fx: Arc<VaultFixture>,
    pub pools: Vec<PoolFixture>,
    tasks: Vec<JoinHandle<()>>,
}

impl Localnet {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn vault(&self) -> Pubkey {
        self.fx.key
    }

    /// Moves asset `i`'s price by `pct` percent now, refreshes the others and re-prices the pools.
    pub async fn shock(&self, i: usize, pct: i64) -> Result<()> {
        let mut chain = self.chain.lock().await;
        apply_step(&mut chain, &self.fx, &self.pools, &[(i, pct * 100)]).await
    }

    /// Stops the background tasks and the server.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Refreshes every oracle, applies `moves` (asset, basis points), and arbitrages every pool.
async fn apply_step(chain: &mut Chain, fx: &VaultFixture, pools: &[PoolFixture], moves: &[(usize, i64)]) -> Result<()> {
    fx.refresh_prices(chain).await;
    for (i, bps) in moves {
        let p = fx.oracle_reading(chain, *i).await.price;
        fx.set_price(chain, *i, (p as i128 * (10_000 + *bps as i128) / 10_000) as i64).await;
    }
    for pool in pools {
        fx.arbitrage(chain, pool).await?;
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
    let chain = Arc::new(Mutex::new(chain));
    let fx = Arc::new(fx);
    let (addr, server) = rpc::serve(RpcState::new(chain.clone()), opts.addr).await?;

    let ticker = {
        let chain = chain.clone();
        let tick = opts.tick;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                chain.lock().await.advance_time(1).await;
            }
        })
    };
    let feed = {
        let (chain, fx, pools) = (chain.clone(), fx.clone(), pools.clone());
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
    Ok(Localnet { addr, chain, fx, pools, tasks: vec![server, ticker, feed] })
}
