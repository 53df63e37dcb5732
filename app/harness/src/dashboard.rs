//! The web dashboard of `ballast localnet`: one page (`dashboard/index.html`, no build step, no
//! third-party code) plus a small JSON API computed with the keeper's own planner. The page follows
//! the chain over the Solana websocket (`slotSubscribe`, `accountSubscribe` on each vault,
//! `logsSubscribe` on the program) and refetches the views when something changed.
//!
//! - `GET /` (without a websocket upgrade): the page; `GET /api/vaults`: per vault NAV, share price,
//!   weights against targets and bands, drift, oracle prices with age and confidence, pause flags,
//!   pending governance changes with their countdown, and what a keeper would do now;
//! - `GET /api/history`: rebalances decoded from the program's events (keeper, route, amount in,
//!   min-out, received, bounty) and per-keeper totals;
//! - `POST /api/tx/deposit` and `POST /api/tx/withdraw`: unsigned transactions for a depositor to sign
//!   (the page's local development wallet signs them in the browser and sends them over JSON-RPC).

use std::collections::BTreeMap;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AnchorDeserialize, Discriminator};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ballast::events::RebalanceEvent;
use ballast::state::{pause, Vault};
use ballast_client::planner;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::chain::Chain;
use crate::rpc::RpcState;

const INDEX_HTML: &str = include_str!("dashboard/index.html");
const DASHBOARD_JS: &str = include_str!("dashboard/dashboard.js");

/// Tolerance a depositor accepts between building and landing a transaction (1 %).
const SLIPPAGE_BPS: u128 = 100;
/// Rebalances listed by `/api/history`.
const HISTORY_LIMIT: usize = 50;

/// `GET /`: the websocket upgrade of the pubsub, or the page.
pub async fn root(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>, state: State<Arc<RpcState>>) -> Response {
    match ws {
        Ok(ws) => crate::pubsub::upgrade(ws, state).await,
        Err(_) => Html(INDEX_HTML).into_response(),
    }
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

/// Every ballast vault the chain holds.
async fn vaults(chain: &mut Chain) -> Vec<(Pubkey, Vault)> {
    let accounts = chain.program_accounts(&ballast::ID).await;
    accounts
        .into_iter()
        .filter(|(_, acc)| acc.data.starts_with(Vault::DISCRIMINATOR))
        .filter_map(|(k, acc)| Vault::try_deserialize(&mut &acc.data[..]).ok().map(|v| (k, v)))
        .collect()
}

/// A short name per mint: the demo's symbols, else the address's first characters.
fn symbol(state: &RpcState, mint: &Pubkey) -> String {
    state
        .dev
        .get()
        .and_then(|d| d.fx.assets.iter().find(|a| a.mint == *mint).map(|a| a.spec.symbol.clone()))
        .unwrap_or_else(|| mint.to_string()[..6].to_string())
}

fn ui(amount: u128, decimals: u8) -> f64 {
    amount as f64 / 10f64.powi(i32::from(decimals))
}

/// `Debug` text of a struct split into top-level `field: value` pairs.
fn fields(debug: &str) -> BTreeMap<String, String> {
    let inner = debug.split_once('{').map(|(_, r)| r.trim_end_matches('}')).unwrap_or("");
    let (mut out, mut depth, mut current) = (BTreeMap::new(), 0i32, String::new());
    let mut push = |s: &str| {
        if let Some((k, v)) = s.split_once(':') {
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    };
    for c in inner.chars() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                push(&current);
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    push(&current);
    out
}

/// `GET /api/vaults`.
pub async fn api_vaults(State(state): State<Arc<RpcState>>) -> Response {
    let mut chain = state.chain.lock().await;
    let clock = chain.clock().await;
    let mut out = Vec::new();
    for (key, vault) in vaults(&mut chain).await {
        out.push(vault_view(&state, &mut chain, key, vault, clock.unix_timestamp).await);
    }
    Json(json!({"slot": clock.slot, "unixTime": clock.unix_timestamp, "vaults": out})).into_response()
}

async fn vault_view(state: &RpcState, chain: &mut Chain, key: Pubkey, vault: Vault, now: i64) -> Value {
    let share_decimals = match chain.account(&vault.share_mint).await {
        Some(acc) => ballast_client::decode::mint_info(&acc.data).map(|m| m.0).unwrap_or(6),
        None => 6,
    };
    let pending = vault.pending_params.as_ref().map(|p| {
        let (now_f, next_f) = (fields(&format!("{:?}", vault.params)), fields(&format!("{:?}", p.params)));
        let mut changes: Vec<String> = next_f
            .iter()
            .filter(|(k, v)| now_f.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}: {} → {v}", now_f.get(k).map(String::as_str).unwrap_or("?")))
            .collect();
        for (i, (a, next)) in vault.assets.iter().zip(&p.assets).enumerate() {
            if a.params != *next {
                changes.push(format!(
                    "asset {i}: target {} → {} bps, band {} → {} bps, max trade {} → {} bps",
                    a.params.target_bps,
                    next.target_bps,
                    a.params.band_bps,
                    next.band_bps,
                    a.params.max_trade_bps,
                    next.max_trade_bps
                ));
            }
        }
        if p.schedule.is_some() {
            changes.push("a gradual weight schedule starts".into());
        }
        json!({"eta": p.eta, "secondsLeft": (p.eta - now).max(0), "changes": changes})
    });
    let paused = json!({
        "deposits": vault.paused & pause::DEPOSITS != 0,
        "rebalance": vault.paused & pause::REBALANCE != 0,
        "governance": vault.paused & pause::GOVERNANCE != 0,
    });
    let base = json!({
        "address": key.to_string(), "status": format!("{:?}", vault.status), "paused": paused,
        "governance": vault.governance.to_string(), "shareMint": vault.share_mint.to_string(),
        "shareDecimals": share_decimals, "pendingParams": pending, "lastRebalanceSlot": vault.last_rebalance_slot,
        "bandMode": format!("{:?}", vault.params.band_mode),
    });
    let planned = match planner::plan_vault(chain, vault.clone()).await {
        Ok(p) => p,
        Err(e) => {
            let mut v = base;
            v["error"] = json!(format!("cannot value the vault: {e:#}"));
            return v;
        }
    };
    let (snap, val) = (&planned.snapshot, &planned.valuation);
    let weights = ballast::math::weights_bps(&val.values).unwrap_or_default();
    let targets = val.targets();
    let bands = val.bands();
    let nav_usd = val.nav as f64 / 1e6;
    let supply_ui = ui(u128::from(snap.supply), share_decimals);
    let assets: Vec<Value> = vault
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let r = &snap.readings[i];
            let price = r.price as f64 * 10f64.powi(r.expo);
            let conf_bps = if r.price > 0 { u128::from(r.conf) * 10_000 / r.price.unsigned_abs() as u128 } else { 0 };
            let weight = weights.get(i).copied().unwrap_or(0);
            let drift = weight as i64 - i64::from(targets[i]);
            json!({
                "index": i, "symbol": symbol(state, &a.mint), "mint": a.mint.to_string(), "decimals": a.decimals,
                "reserve": a.reserve.to_string(), "balance": ui(u128::from(val.positions[i].balance), a.decimals),
                "price": price, "priceAgeSecs": now - r.publish_time, "confBps": conf_bps as u64,
                "valueUsd": val.values[i] as f64 / 1e6, "weightBps": weight, "targetBps": targets[i],
                "bandBps": bands[i], "driftBps": drift, "outOfBand": drift.unsigned_abs() > u64::from(bands[i]),
            })
        })
        .collect();
    let decision = match &planned.decision {
        planner::Decision::Trade(c) => format!(
            "trade: sell {} {} for {}",
            ui(u128::from(c.request.amount_in), vault.assets[c.request.sell].decimals),
            symbol(state, &vault.assets[c.request.sell].mint),
            symbol(state, &vault.assets[c.request.buy].mint)
        ),
        planner::Decision::Hold(why) => format!("hold: {why}"),
        planner::Decision::Poke(why) => why.to_string(),
        planner::Decision::Wait { at, candidate } => format!(
            "wait {} s: the auction reaches the pool's price for {} {} → {}",
            (at - planned.snapshot.now).max(0),
            ui(u128::from(candidate.request.amount_in), vault.assets[candidate.request.sell].decimals),
            symbol(state, &vault.assets[candidate.request.sell].mint),
            symbol(state, &vault.assets[candidate.request.buy].mint)
        ),
    };
    let mut v = base;
    v["navUsd"] = json!(nav_usd);
    v["shareSupply"] = json!(supply_ui);
    v["sharePriceUsd"] = json!(if supply_ui > 0.0 { nav_usd / supply_ui } else { 0.0 });
    v["maxDriftBps"] = json!(val.max_abs_drift_bps().unwrap_or(0));
    v["assets"] = Value::Array(assets);
    v["keeperWouldDo"] = json!(decision);
    v
}

/// `GET /api/history`.
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
    let mut keepers: BTreeMap<String, (u64, f64, u64, i64)> = BTreeMap::new();
    let mut failed = 0u64;
    for t in &records {
        if t.err.is_some() {
            failed += 1;
            continue;
        }
        for line in &t.logs {
            let Some(data) = line.strip_prefix("Program data: ") else { continue };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else { continue };
            if !bytes.starts_with(RebalanceEvent::DISCRIMINATOR) {
                continue;
            }
            let Ok(ev) = RebalanceEvent::deserialize(&mut &bytes[RebalanceEvent::DISCRIMINATOR.len()..]) else {
                continue;
            };
            let assets = decimals.get(&ev.vault).cloned().unwrap_or_default();
            let side = |i: u8| assets.get(i as usize).copied().unwrap_or_default();
            let (sell_mint, sell_dec) = side(ev.sell_index);
            let (buy_mint, buy_dec) = side(ev.buy_index);
            let bounty_usd = ev.bounty_value as f64 / 1e6;
            let k = keepers.entry(ev.keeper.to_string()).or_insert((0, 0.0, 0, 0));
            k.0 += 1;
            k.1 += bounty_usd;
            k.2 += t.fee;
            k.3 = k.3.max(t.block_time);
            if rebalances.len() < HISTORY_LIMIT {
                rebalances.push(json!({
                    "signature": t.signature.to_string(), "slot": t.slot, "time": t.block_time,
                    "vault": ev.vault.to_string(), "keeper": ev.keeper.to_string(), "route": format!("{:?}", ev.route),
                    "sell": symbol(&state, &sell_mint), "buy": symbol(&state, &buy_mint),
                    "amountIn": ui(u128::from(ev.amount_in), sell_dec), "minOut": ui(u128::from(ev.min_out), buy_dec),
                    "received": ui(u128::from(ev.amount_out), buy_dec), "bounty": ui(u128::from(ev.bounty), sell_dec),
                    "bountyUsd": bounty_usd, "driftBefore": ev.drift_before.to_string(), "driftAfter": ev.drift_after.to_string(),
                }));
            }
        }
    }
    let keepers: Vec<Value> = keepers
        .into_iter()
        .map(|(k, (n, usd, fees, last))| {
            json!({"keeper": k, "rebalances": n, "bountyUsd": usd, "feesLamports": fees, "lastTime": last})
        })
        .collect();
    Json(json!({"rebalances": rebalances, "keepers": keepers, "failedTransactions": failed})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxRequest {
    owner: String,
    vault: String,
    /// Deposit: the most of each asset to put in (base units).
    #[serde(default)]
    max_amounts_in: Vec<String>,
    /// Withdraw: shares to burn (base units).
    #[serde(default)]
    shares: Option<String>,
}

/// `POST /api/tx/deposit` and `POST /api/tx/withdraw`: an unsigned legacy transaction (base64) with
/// the owner as fee payer, and the preview it was built from.
pub async fn api_tx(
    State(state): State<Arc<RpcState>>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    Json(req): Json<TxRequest>,
) -> Response {
    match build_tx(&state, &kind, req).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad(format!("{e:#}")),
    }
}

async fn build_tx(state: &RpcState, kind: &str, req: TxRequest) -> anyhow::Result<Value> {
    use anchor_spl::associated_token::{
        get_associated_token_address_with_program_id as ata, spl_associated_token_account,
    };
    let owner: Pubkey = req.owner.parse().map_err(|_| anyhow::anyhow!("owner is not an address"))?;
    let key: Pubkey = req.vault.parse().map_err(|_| anyhow::anyhow!("vault is not an address"))?;
    let mut chain = state.chain.lock().await;
    let acc = chain.account(&key).await.ok_or_else(|| anyhow::anyhow!("no vault at {key}"))?;
    let vault = Vault::try_deserialize(&mut &acc.data[..]).map_err(|e| anyhow::anyhow!("not a vault: {e}"))?;
    let (snap, _) = planner::load(&mut *chain, vault.clone()).await?;
    let balances: Vec<u64> =
        vault.assets.iter().zip(&snap.balances).map(|(a, b)| a.available(*b).unwrap_or(0)).collect();
    let users: Vec<Pubkey> = vault.assets.iter().map(|a| ata(&owner, &a.mint, &a.token_program)).collect();
    let shares_account = ata(&owner, &vault.share_mint, &anchor_spl::token::ID);
    let less_slippage = |x: u64| (u128::from(x) * (10_000 - SLIPPAGE_BPS) / 10_000) as u64;
    let mut ixs = Vec::new();
    let preview = match kind {
        "deposit" => {
            anyhow::ensure!(
                req.max_amounts_in.len() == vault.assets.len(),
                "give one amount per asset ({})",
                vault.assets.len()
            );
            let max_in: Vec<u64> = req
                .max_amounts_in
                .iter()
                .map(|s| {
                    s.parse::<u64>().map_err(|_| anyhow::anyhow!("amount {s:?} is not a whole number of base units"))
                })
                .collect::<anyhow::Result<_>>()?;
            let shares = ballast::math::in_kind_shares(&max_in, &balances, snap.supply)
                .map_err(|e| anyhow::anyhow!("these amounts buy no shares: {e:?}"))?;
            anyhow::ensure!(shares > 0, "these amounts buy no shares: add some of every asset");
            let amounts = ballast::math::in_kind_amounts_in(shares, &balances, snap.supply).unwrap_or_default();
            ixs.push(spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                &owner,
                &owner,
                &vault.share_mint,
                &anchor_spl::token::ID,
            ));
            let args =
                ballast::instructions::DepositArgs { max_amounts_in: max_in, min_shares_out: less_slippage(shares) };
            ixs.push(ballast_client::deposit(&owner, &key, &vault, &shares_account, &users, args));
            json!({"shares": shares.to_string(), "minSharesOut": less_slippage(shares).to_string(),
                   "amountsIn": amounts.iter().map(u64::to_string).collect::<Vec<_>>()})
        }
        "withdraw" => {
            let shares: u64 = req
                .shares
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("give the shares to burn"))?
                .parse()
                .map_err(|_| anyhow::anyhow!("shares must be a whole number of base units"))?;
            anyhow::ensure!(
                shares > 0 && shares <= snap.supply,
                "shares must be between 1 and the supply ({})",
                snap.supply
            );
            let out = ballast::math::in_kind_amounts_out(shares, &balances, snap.supply)
                .map_err(|e| anyhow::anyhow!("cannot price this withdrawal: {e:?}"))?;
            for a in &vault.assets {
                ixs.push(spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                    &owner,
                    &owner,
                    &a.mint,
                    &a.token_program,
                ));
            }
            let args = ballast::instructions::WithdrawArgs {
                shares,
                min_amounts_out: out.iter().map(|x| less_slippage(*x)).collect(),
                skip_mask: 0,
            };
            ixs.push(ballast_client::withdraw(&owner, &key, &vault, &shares_account, &users, args));
            json!({"amountsOut": out.iter().map(u64::to_string).collect::<Vec<_>>()})
        }
        other => anyhow::bail!("unknown transaction kind {other:?}: deposit or withdraw"),
    };
    let blockhash = chain.ctx.banks_client.get_latest_blockhash().await?;
    let message = solana_message::Message::new_with_blockhash(&ixs, Some(&owner), &blockhash);
    let tx = solana_transaction::Transaction::new_unsigned(message);
    let bytes = bincode::serialize(&tx)?;
    Ok(json!({"transaction": base64::engine::general_purpose::STANDARD.encode(bytes), "preview": preview}))
}
