//! Development methods of `ballast localnet` over JSON-RPC (prefix `ballast_`), for local tools, tests and
//! the dashboard's development wallet. A real cluster has none of them.
//!
//! - `ballast_faucet [owner]`: 10 SOL, and demo tokens (20 SOL-token, 0.1 BTC, 5 000 USDC) in the owner's
//!   associated token accounts, which it creates, with the share account; returns the accounts.
//! - `ballast_warpTime [secs]`: moves the clock forward (1 s to 30 days), re-publishes oracle prices.
//! - `ballast_movePrice [asset_index, percent, vault?]`: moves one oracle price (−50 % to +100 %) of the demo
//!   vault, or of the large vault named, and re-prices its pools as arbitrageurs would.
//! - `ballast_addLargeVault [assets]`: a vault of 17 to 128 equally weighted assets beside the demo vault
//!   (`T0` … `T127`, seeded with $10 000 through single-asset deposits, its valuation cache, reference pools on
//!   three pairs), kept priced like the demo vault; returns its address. `ballast localnet --large-vault N`
//!   starts with one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use serde_json::{json, Value};
use solana_signer::Signer;

use crate::wire::{param, DevApi, RpcError, RpcResult, RpcState};
use ballast_harness::chain::{Chain, TokenProgram};
use ballast_harness::dex::{Amm, AnyPool};
use ballast_harness::fixture::{self, VaultFixture};
use ballast_harness::large_vault;

/// The prefix of every development method.
pub const PREFIX: &str = "ballast_";

/// What the faucet hands out per demo asset (base units: SOL-token 9 decimals, BTC 8, USDC 6).
pub const FAUCET_AMOUNTS: [u64; 3] = [20_000_000_000, 10_000_000, 5_000_000_000];
/// Lamports the faucet sends.
pub const FAUCET_LAMPORTS: u64 = 10_000_000_000;

/// Band of every asset of a large vault added beside the demo vault (bps).
pub const LARGE_VAULT_BAND_BPS: u16 = 25;

/// A vault and the pools re-priced when its prices move.
#[derive(Clone)]
pub struct Priced {
    pub fx: Arc<VaultFixture>,
    pub pools: Vec<AnyPool>,
}

/// The development methods over the demo vault, the large vaults added beside it, and their pools.
pub struct DevMethods {
    pub fx: Arc<VaultFixture>,
    /// Every pool of the demo vault, re-priced on each price move.
    pub pools: Vec<AnyPool>,
    /// Large vaults added beside the demo vault, in order.
    large: std::sync::Mutex<Vec<Priced>>,
}

/// Answers a `ballast_*` method (error -32601 when the server has no development methods).
pub async fn dispatch(state: &RpcState, method: &str, params: &Value) -> RpcResult {
    match state.dev.get() {
        Some(dev) => dev.call(state, method, params).await.map_err(|e| RpcError::invalid_params(format!("{e:#}"))),
        None => Err(RpcError::method_not_found(method)),
    }
}

impl DevApi for DevMethods {
    fn call<'a>(
        &'a self,
        state: &'a RpcState,
        method: &'a str,
        params: &'a Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>> {
        Box::pin(self.answer(state, method, params))
    }
}

impl DevMethods {
    pub fn new(fx: Arc<VaultFixture>, pools: Vec<AnyPool>) -> Self {
        Self { fx, pools, large: Default::default() }
    }

    /// The demo vault and every large vault added beside it, with their pools.
    pub fn priced(&self) -> Vec<Priced> {
        let mut all = vec![Priced { fx: self.fx.clone(), pools: self.pools.clone() }];
        all.extend(self.large.lock().map(|l| l.clone()).unwrap_or_default());
        all
    }

    /// Adds a vault of `assets` equally weighted assets beside the demo vault (see the module docs), names
    /// its mints for the dashboard, and keeps it priced; returns its address.
    pub async fn add_large_vault(&self, state: &RpcState, assets: usize) -> Result<Pubkey> {
        anyhow::ensure!(
            (ballast::constants::DIRECT_MAX_ASSETS + 1..=ballast::constants::MAX_ASSETS).contains(&assets),
            "a large vault has {} to {} assets",
            ballast::constants::DIRECT_MAX_ASSETS + 1,
            ballast::constants::MAX_ASSETS
        );
        // Adds are serialized by the chain's lock. The demo vault is its creator's vault 0.
        let mut chain = state.chain.lock().await;
        let id = self.priced().len() as u64;
        let specs = fixture::numbered_specs(assets, LARGE_VAULT_BAND_BPS);
        let built = large_vault::large_vault_numbered(&mut chain, id, Amm::Reference, &specs).await?;
        for a in &built.fx.assets {
            state.set_label(a.mint, &a.spec.symbol);
        }
        let key = built.fx.key;
        self.large
            .lock()
            .map_err(|_| anyhow::anyhow!("the list of large vaults is poisoned"))?
            .push(Priced { fx: Arc::new(built.fx), pools: built.pools });
        Ok(key)
    }

    /// The demo vault, or the large vault at `address`.
    fn vault(&self, address: Option<&Value>) -> Result<Priced> {
        let Some(address) = address else { return Ok(self.priced().swap_remove(0)) };
        let key: Pubkey = address
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("parameter 2 must be a vault's address"))?;
        self.priced().into_iter().find(|p| p.fx.key == key).ok_or_else(|| anyhow::anyhow!("no vault {key} here"))
    }

    async fn answer(&self, state: &RpcState, method: &str, params: &Value) -> Result<Value> {
        let chain = &state.chain;
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
                for p in self.priced() {
                    apply_step(&mut c, &p.fx, &p.pools, &[]).await?;
                }
                let clock = c.clock().await;
                Ok(json!({"slot": clock.slot, "unixTimestamp": clock.unix_timestamp}))
            }
            "ballast_movePrice" => {
                let (i, pct) = (int(0, "asset index")?, int(1, "percent")?);
                let p = self.vault(param(params, 2))?;
                anyhow::ensure!(
                    (0..p.fx.assets.len() as i64).contains(&i),
                    "asset index must be below {}",
                    p.fx.assets.len()
                );
                anyhow::ensure!((-50..=100).contains(&pct), "percent must be within -50 and 100");
                let mut c = chain.lock().await;
                apply_step(&mut c, &p.fx, &p.pools, &[(i as usize, pct * 100)]).await?;
                Ok(json!(p.fx.oracle_reading(&mut c, i as usize).await.price))
            }
            "ballast_addLargeVault" => {
                let n = int(0, "number of assets")?;
                let key = self.add_large_vault(state, usize::try_from(n).unwrap_or(0)).await?;
                Ok(json!({"vault": key.to_string(), "assets": n}))
            }
            other => anyhow::bail!("unknown development method {other}"),
        }
    }
}

/// Refreshes every oracle, applies `moves` (asset, basis points), arbitrages every pool, and pokes the vault
/// (its volatility estimates follow the path; an asset out of its band opens the rebalance auction).
pub async fn apply_step(chain: &mut Chain, fx: &VaultFixture, pools: &[AnyPool], moves: &[(usize, i64)]) -> Result<()> {
    fx.refresh_prices(chain).await;
    for (i, bps) in moves {
        let p = fx.oracle_reading(chain, *i).await.price;
        fx.set_price(chain, *i, (p as i128 * (10_000 + *bps as i128) / 10_000) as i64).await;
    }
    for pool in pools {
        fx.arbitrage_any(chain, pool).await?;
    }
    fx.poke(chain).await.map_err(|e| anyhow::anyhow!("poke: {e}"))
}

/// Funds `owner` with SOL and the demo vault's tokens (see the module docs).
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
    let shares = chain.create_ata(owner, &ballast_client::pda::share_mint(&fx.key), TokenProgram::Token).await?;
    Ok(json!({"lamports": FAUCET_LAMPORTS, "tokens": tokens, "shares": shares.to_string()}))
}
