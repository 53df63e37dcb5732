//! The web dashboard of `ballast localnet`: one page (`dashboard/index.html`, no build step, no
//! third-party code) plus a small JSON API computed with the keeper's own planner. The page follows
//! the chain over the Solana websocket (`slotSubscribe`, `accountSubscribe` on each vault,
//! `logsSubscribe` on the program) and refetches the views when something changed.
//!
//! - `GET /` (without a websocket upgrade): the page; `GET /api/vaults`: per vault NAV, share price,
//!   weights against targets and bands, drift, oracle prices with age and confidence, each price's EMA
//!   and its divergence against the vault's `max_ema_divergence_bps`, the USD price every whitelisted pool
//!   trading the asset implies (through the other asset's oracle) with its divergence, pause flags,
//!   pending governance changes with their countdown, and what a keeper would do now; token amounts come
//!   as base units (strings) next to the asset's decimals, which the page shows in token units;
//! - `GET /api/history`: rebalances decoded from the program's events (keeper, route, amount in,
//!   min-out, received, bounty) and per-keeper totals;
//! - `POST /api/tx/deposit`, `POST /api/tx/withdraw` and `POST /api/tx/exit` (every share out in one asset,
//!   in one transaction, with its preview): unsigned transactions for a depositor to sign (the page's local
//!   development wallet signs them in the browser and sends them over JSON-RPC).

use std::collections::BTreeMap;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ballast::events::RebalanceEvent;
use ballast::state::Vault;
use serde::Deserialize;
use serde_json::{json, Value};

use ballast_harness::chain::Chain;

use crate::wire::RpcState;

mod tx;
mod view;

const INDEX_HTML: &str = include_str!("index.html");
const DASHBOARD_JS: &str = include_str!("dashboard.js");

/// Rebalances listed by `/api/history`.
const HISTORY_LIMIT: usize = 50;

/// The page.
pub async fn page() -> Response {
    Html(INDEX_HTML).into_response()
}

/// `GET /api/program`: the program the page follows.
pub async fn api_program() -> Response {
    Json(json!({"programId": ballast::ID.to_string()})).into_response()
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], DASHBOARD_JS).into_response()
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg.into()}))).into_response()
}

/// Every ballast vault the chain holds (the keeper's discovery, over the embedded chain).
async fn vaults(chain: &mut Chain) -> Vec<(Pubkey, Vault)> {
    ballast_client::discover::vaults(chain, &[]).await.unwrap_or_default()
}

/// A short name per mint: the labels the server was given (the demo's symbols), else the address's first
/// characters.
fn symbol(state: &RpcState, mint: &Pubkey) -> String {
    state.label(mint).unwrap_or_else(|| mint.to_string()[..6].to_string())
}

fn ui(amount: u128, decimals: u8) -> f64 {
    amount as f64 / 10f64.powi(i32::from(decimals))
}

/// `GET /api/vaults`.
pub async fn api_vaults(State(state): State<Arc<RpcState>>) -> Response {
    let mut chain = state.chain.lock().await;
    let clock = chain.clock().await;
    let mut out = Vec::new();
    for (key, vault) in vaults(&mut chain).await {
        out.push(view::vault(&state, &mut chain, key, vault, clock.unix_timestamp).await);
    }
    Json(json!({"slot": clock.slot, "unixTime": clock.unix_timestamp, "vaults": out})).into_response()
}

/// Per-keeper totals of the rebalance history.
#[derive(Debug, Clone, Copy, Default)]
struct KeeperTotals {
    rebalances: u64,
    bounty_usd: f64,
    fees_lamports: u64,
    last_time: i64,
}

/// `GET /api/history`: rebalances decoded from the program's `RebalanceEvent`s, newest first, and
/// per-keeper totals.
pub async fn api_history(State(state): State<Arc<RpcState>>) -> Response {
    let mut chain = state.chain.lock().await;
    let Some(ledger) = chain.ledger.as_ref() else { return bad("no ledger") };
    let records = ledger.for_address(&ballast::ID, None, None, usize::MAX);
    let decimals: BTreeMap<Pubkey, Vec<(Pubkey, u8)>> = vaults(&mut chain)
        .await
        .into_iter()
        .map(|(k, v)| (k, v.assets.iter().map(|a| (a.mint, a.decimals)).collect()))
        .collect();
    drop(chain);
    let mut rebalances = Vec::new();
    let mut keepers: BTreeMap<String, KeeperTotals> = BTreeMap::new();
    let mut failed = 0u64;
    for t in &records {
        if t.err.is_some() {
            failed += 1;
            continue;
        }
        for ev in ballast_client::events::decode::<RebalanceEvent>(&t.logs) {
            let k = keepers.entry(ev.keeper.to_string()).or_default();
            k.rebalances += 1;
            k.bounty_usd += ev.bounty_value as f64 / 1e6;
            k.fees_lamports += t.fee;
            k.last_time = k.last_time.max(t.block_time);
            if rebalances.len() < HISTORY_LIMIT {
                let assets = decimals.get(&ev.vault).cloned().unwrap_or_default();
                rebalances.push(view::rebalance(&state, &ev, &assets, t));
            }
        }
    }
    let keepers: Vec<Value> = keepers
        .into_iter()
        .map(|(k, t)| {
            json!({"keeper": k, "rebalances": t.rebalances, "bountyUsd": t.bounty_usd,
                   "feesLamports": t.fees_lamports, "lastTime": t.last_time})
        })
        .collect();
    Json(json!({"rebalances": rebalances, "keepers": keepers, "failedTransactions": failed})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxRequest {
    pub owner: String,
    pub vault: String,
    /// Deposit: the most of each asset to put in (base units).
    #[serde(default)]
    pub max_amounts_in: Vec<String>,
    /// Withdraw and exit: shares to burn (base units).
    #[serde(default)]
    pub shares: Option<String>,
    /// Exit: the index of the asset to end with.
    #[serde(default)]
    pub to: Option<String>,
    /// Exit: tolerance on the total expected output (bps; default 50).
    #[serde(default)]
    pub slippage_bps: Option<u16>,
}

/// `POST /api/tx/deposit`, `POST /api/tx/withdraw` and `POST /api/tx/exit`: an unsigned legacy transaction
/// (base64) with the owner as fee payer, and the preview it was built from.
pub async fn api_tx(
    State(state): State<Arc<RpcState>>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    Json(req): Json<TxRequest>,
) -> Response {
    match tx::build(&state, &kind, req).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad(format!("{e:#}")),
    }
}
