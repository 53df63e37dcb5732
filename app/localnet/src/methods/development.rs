//! Development methods of `ballast localnet` over JSON-RPC (prefix `ballast_`), for local tools, tests and
//! the dashboard's development wallet. A real cluster has none of them.
//!
//! - `ballast_faucet [owner]`: 10 SOL, and demo tokens (20 SOL-token, 0.1 BTC, 5 000 USDC) in the owner's
//!   associated token accounts, which it creates, with the share account; returns the accounts.
//! - `ballast_warpTime [secs]`: moves the clock forward (1 s to 30 days), re-publishes oracle prices.
//! - `ballast_movePrice [asset_index, percent]`: moves one oracle price (−50 % to +100 %) and re-prices the
//!   pools as arbitrageurs would.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use serde_json::{json, Value};
use solana_signer::Signer;
use tokio::sync::Mutex;

use crate::wire::{param, DevApi, RpcError, RpcResult, RpcState};
use ballast_harness::chain::{Chain, TokenProgram};
use ballast_harness::dex::AnyPool;
use ballast_harness::fixture::VaultFixture;

/// The prefix of every development method.
pub const PREFIX: &str = "ballast_";

/// What the faucet hands out per demo asset (base units: SOL-token 9 decimals, BTC 8, USDC 6).
pub const FAUCET_AMOUNTS: [u64; 3] = [20_000_000_000, 10_000_000, 5_000_000_000];
/// Lamports the faucet sends.
pub const FAUCET_LAMPORTS: u64 = 10_000_000_000;

/// The development methods over the demo vault and its pools.
pub struct DevMethods {
    pub fx: Arc<VaultFixture>,
    /// Every pool of the demo vault, re-priced on each price move.
    pub pools: Vec<AnyPool>,
}

/// Answers a `ballast_*` method (error -32601 when the server has no development methods).
pub async fn dispatch(state: &RpcState, method: &str, params: &Value) -> RpcResult {
    match state.dev.get() {
        Some(dev) => {
            dev.call(&state.chain, method, params).await.map_err(|e| RpcError::invalid_params(format!("{e:#}")))
        }
        None => Err(RpcError::method_not_found(method)),
    }
}

impl DevApi for DevMethods {
    fn call<'a>(
        &'a self,
        chain: &'a Mutex<Chain>,
        method: &'a str,
        params: &'a Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>> {
        Box::pin(self.answer(chain, method, params))
    }
}

impl DevMethods {
    async fn answer(&self, chain: &Mutex<Chain>, method: &str, params: &Value) -> Result<Value> {
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
