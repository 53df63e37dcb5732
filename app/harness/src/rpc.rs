//! A Solana JSON-RPC endpoint over the embedded chain (axum). It implements the subset the keeper,
//! the Solana Rust RPC client and Anchor's TypeScript client need, with the same JSON shapes as a real
//! node; anything else is answered with JSON-RPC error -32601.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use tokio::sync::Mutex;

use crate::chain::Chain;
use crate::ledger::{ChainEvent, TxRecord};

/// Version reported by `getVersion` and in every `context`.
pub const API_VERSION: &str = "3.1.12";
/// How many recent prioritization-fee records are kept.
const FEE_HISTORY: usize = 150;

/// A processed transaction's compute-unit price and the accounts it wrote.
#[derive(Debug, Clone)]
struct FeeRecord {
    slot: u64,
    micro_lamports: u64,
    writable: Vec<Pubkey>,
}

/// State shared by every request.
pub struct RpcState {
    pub chain: Arc<Mutex<Chain>>,
    /// The chain's event broadcast (for websocket subscriptions).
    pub events: tokio::sync::broadcast::Sender<ChainEvent>,
    fees: Mutex<Vec<FeeRecord>>,
    /// Landed transactions per sample period, for `getRecentPerformanceSamples`.
    started: std::time::Instant,
    /// The local network's development methods (`ballast_*`), when serving `ballast localnet`.
    pub dev: std::sync::OnceLock<Arc<crate::localnet::DevMethods>>,
}

impl RpcState {
    /// Serves `chain`, turning its transaction ledger on (logs, `getTransaction`, subscriptions).
    pub async fn new(chain: Arc<Mutex<Chain>>) -> Arc<RpcState> {
        let events = {
            let mut c = chain.lock().await;
            c.enable_ledger();
            c.events.clone()
        };
        Arc::new(RpcState {
            chain,
            events,
            fees: Mutex::new(Vec::new()),
            started: std::time::Instant::now(),
            dev: std::sync::OnceLock::new(),
        })
    }
}

/// A JSON-RPC error.
#[derive(Debug)]
pub struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl RpcError {
    pub fn message(&self) -> &str {
        &self.message
    }
    fn invalid_params(msg: impl Into<String>) -> Self {
        RpcError { code: -32602, message: msg.into(), data: None }
    }
    fn internal(msg: impl Into<String>) -> Self {
        RpcError { code: -32603, message: msg.into(), data: None }
    }
}

type RpcResult = Result<Value, RpcError>;

/// The router: `POST /` for JSON-RPC (single or batch), a websocket upgrade on `GET /` for pubsub,
/// `GET /health` like a validator.
pub fn router(state: Arc<RpcState>) -> Router {
    Router::new()
        .route("/", post(handle).get(crate::dashboard::root))
        .route("/health", get(|| async { "ok" }))
        .merge(dashboard_routes())
        .with_state(state)
}

/// The dashboard's page assets and JSON API (see [`crate::dashboard`]).
fn dashboard_routes() -> Router<Arc<RpcState>> {
    Router::new()
        .route("/dashboard.js", get(crate::dashboard::script))
        .route("/api/program", get(crate::dashboard::api_program))
        .route("/api/vaults", get(crate::dashboard::api_vaults))
        .route("/api/history", get(crate::dashboard::api_history))
        .route("/api/tx/{kind}", post(crate::dashboard::api_tx))
}

/// The websocket-only router a validator serves on its RPC port + 1.
pub fn pubsub_router(state: Arc<RpcState>) -> Router {
    Router::new().route("/", get(crate::pubsub::upgrade)).with_state(state)
}

/// Serves `app` on `addr`; returns the bound address (use port 0 for a free port).
pub async fn serve_router(app: Router, addr: SocketAddr) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("rpc server stopped: {e}");
        }
    });
    Ok((bound, handle))
}

/// Serves the JSON-RPC router on `addr`; returns the bound address (use port 0 for a free port).
pub async fn serve(
    state: Arc<RpcState>,
    addr: SocketAddr,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_router(router(state), addr).await
}

async fn handle(State(state): State<Arc<RpcState>>, Json(body): Json<Value>) -> Json<Value> {
    match body {
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(one(&state, c).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&state, call).await),
    }
}

async fn one(state: &RpcState, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "Invalid request"}});
    };
    let params = call.get("params").cloned().unwrap_or(Value::Array(vec![]));
    match dispatch(state, method, &params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => {
            let mut err = json!({"code": e.code, "message": e.message});
            if let Some(d) = e.data {
                err["data"] = d;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": err})
        }
    }
}

pub(crate) fn param(params: &Value, i: usize) -> Option<&Value> {
    params.as_array().and_then(|a| a.get(i))
}

fn pubkey_param(params: &Value, i: usize) -> Result<Pubkey, RpcError> {
    let s = param(params, i)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params(format!("missing pubkey parameter {i}")))?;
    Pubkey::from_str(s).map_err(|_| RpcError::invalid_params(format!("Invalid param: WrongSize or invalid pubkey {s}")))
}

fn config(params: &Value, i: usize) -> Value {
    param(params, i).cloned().unwrap_or(Value::Null)
}

async fn slot(chain: &Chain) -> u64 {
    chain.ctx.banks_client.get_sysvar::<anchor_lang::prelude::Clock>().await.map(|c| c.slot).unwrap_or(0)
}

fn context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": API_VERSION}, "value": value})
}

pub(crate) fn encode_account(acc: &solana_account::Account, encoding: &str) -> Value {
    let data = match encoding {
        "base58" => json!([bs58::encode(&acc.data).into_string(), "base58"]),
        _ => json!([base64::engine::general_purpose::STANDARD.encode(&acc.data), "base64"]),
    };
    json!({
        "data": data,
        "executable": acc.executable,
        "lamports": acc.lamports,
        "owner": acc.owner.to_string(),
        "rentEpoch": acc.rent_epoch,
        "space": acc.data.len(),
    })
}

fn encoding_of(cfg: &Value) -> &str {
    cfg.get("encoding").and_then(Value::as_str).unwrap_or("base64")
}

/// Accepts the filters of `getProgramAccounts`: `dataSize` and `memcmp` (base58 or base64 bytes).
pub(crate) fn matches_filters(data: &[u8], filters: &[Value]) -> Result<bool, RpcError> {
    for f in filters {
        if let Some(size) = f.get("dataSize").and_then(Value::as_u64) {
            if data.len() as u64 != size {
                return Ok(false);
            }
        } else if let Some(m) = f.get("memcmp") {
            let offset =
                m.get("offset").and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("memcmp.offset"))?
                    as usize;
            let want = match m.get("bytes") {
                // Raw bytes as a JSON array of numbers (what `Memcmp::new_raw_bytes` sends).
                Some(Value::Array(raw)) => raw
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| RpcError::invalid_params("memcmp.bytes: not a byte array"))?,
                Some(Value::String(text)) => match m.get("encoding").and_then(Value::as_str).unwrap_or("base58") {
                    "base64" => base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|_| RpcError::invalid_params("memcmp base64"))?,
                    _ => bs58::decode(text).into_vec().map_err(|_| RpcError::invalid_params("memcmp base58"))?,
                },
                _ => return Err(RpcError::invalid_params("memcmp.bytes missing")),
            };
            if data.len() < offset + want.len() || data[offset..offset + want.len()] != want[..] {
                return Ok(false);
            }
        } else {
            return Err(RpcError::invalid_params(format!("unsupported filter {f}")));
        }
    }
    Ok(true)
}

fn decode_tx(params: &Value) -> Result<VersionedTransaction, RpcError> {
    let raw =
        param(params, 0).and_then(Value::as_str).ok_or_else(|| RpcError::invalid_params("missing transaction"))?;
    let cfg = config(params, 1);
    let bytes = match cfg.get("encoding").and_then(Value::as_str).unwrap_or("base58") {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| RpcError::invalid_params(format!("invalid base64: {e}")))?,
        _ => bs58::decode(raw).into_vec().map_err(|e| RpcError::invalid_params(format!("invalid base58: {e}")))?,
    };
    bincode::deserialize(&bytes)
        .map_err(|e| RpcError::invalid_params(format!("failed to deserialize transaction: {e}")))
}

pub(crate) fn tx_error_json(err: &solana_transaction_error::TransactionError) -> Value {
    serde_json::to_value(err).unwrap_or_else(|_| json!(format!("{err:?}")))
}

/// Simulation result in the `RpcSimulateTransactionResult` shape.
async fn simulate(
    chain: &Chain,
    tx: &VersionedTransaction,
) -> Result<(Option<solana_transaction_error::TransactionError>, Value), RpcError> {
    let sim =
        chain.ctx.banks_client.simulate_transaction(tx.clone()).await.map_err(|e| RpcError::internal(e.to_string()))?;
    let err = sim.result.clone().and_then(|r| r.err());
    let (logs, units) = match &sim.simulation_details {
        Some(d) => (json!(crate::logs::normalize(&d.logs)), json!(d.units_consumed)),
        None => (Value::Null, Value::Null),
    };
    let value = json!({
        "err": err.as_ref().map(tx_error_json),
        "logs": logs,
        "accounts": null,
        "unitsConsumed": units,
        "returnData": null,
        "innerInstructions": null,
        "replacementBlockhash": null,
        "loadedAccountsDataSize": sim.simulation_details.as_ref().map(|d| d.loaded_accounts_data_size),
    });
    Ok((err, value))
}

async fn dispatch(state: &RpcState, method: &str, params: &Value) -> RpcResult {
    if method.starts_with("ballast_") {
        return match state.dev.get() {
            Some(dev) => {
                dev.call(&state.chain, method, params).await.map_err(|e| RpcError::invalid_params(format!("{e:#}")))
            }
            None => Err(RpcError { code: -32601, message: format!("Method not found: {method}"), data: None }),
        };
    }
    let mut chain = state.chain.lock().await;
    let slot = slot(&chain).await;
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": API_VERSION, "feature-set": 0})),
        "getSlot" => Ok(json!(slot)),
        "getBlockHeight" => Ok(json!(chain.ctx.banks_client.get_root_block_height().await.unwrap_or(slot))),
        "getGenesisHash" => {
            Ok(json!(chain.ctx.banks_client.get_latest_blockhash().await.map(|h| h.to_string()).unwrap_or_default()))
        }
        "getLatestBlockhash" => {
            let (hash, last_valid) = chain
                .ctx
                .banks_client
                .get_latest_blockhash_with_commitment(Default::default())
                .await
                .map_err(|e| RpcError::internal(e.to_string()))?
                .ok_or_else(|| RpcError::internal("no blockhash"))?;
            Ok(context(slot, json!({"blockhash": hash.to_string(), "lastValidBlockHeight": last_valid})))
        }
        "getBalance" => {
            let key = pubkey_param(params, 0)?;
            let lamports =
                chain.ctx.banks_client.get_balance(key).await.map_err(|e| RpcError::internal(e.to_string()))?;
            Ok(context(slot, json!(lamports)))
        }
        "getMinimumBalanceForRentExemption" => {
            let size =
                param(params, 0).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing size"))?;
            let rent = chain.ctx.banks_client.get_rent().await.map_err(|e| RpcError::internal(e.to_string()))?;
            Ok(json!(rent.minimum_balance(size as usize)))
        }
        "getAccountInfo" => {
            let key = pubkey_param(params, 0)?;
            let cfg = config(params, 1);
            let acc = chain.account(&key).await;
            Ok(context(slot, acc.map(|a| encode_account(&a, encoding_of(&cfg))).unwrap_or(Value::Null)))
        }
        "getMultipleAccounts" => {
            let keys = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("missing pubkeys"))?;
            if keys.len() > 100 {
                return Err(RpcError::invalid_params("Too many inputs provided; max 100"));
            }
            let cfg = config(params, 1);
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                let key = k
                    .as_str()
                    .and_then(|s| Pubkey::from_str(s).ok())
                    .ok_or_else(|| RpcError::invalid_params("invalid pubkey"))?;
                out.push(
                    chain.account(&key).await.map(|a| encode_account(&a, encoding_of(&cfg))).unwrap_or(Value::Null),
                );
            }
            Ok(context(slot, Value::Array(out)))
        }
        "getProgramAccounts" => {
            let program = pubkey_param(params, 0)?;
            let cfg = config(params, 1);
            let filters = cfg.get("filters").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut out = Vec::new();
            for (key, acc) in chain.program_accounts(&program).await {
                if matches_filters(&acc.data, &filters)? {
                    out.push(json!({"pubkey": key.to_string(), "account": encode_account(&acc, encoding_of(&cfg))}));
                }
            }
            if cfg.get("withContext").and_then(Value::as_bool).unwrap_or(false) {
                Ok(context(slot, Value::Array(out)))
            } else {
                Ok(Value::Array(out))
            }
        }
        "simulateTransaction" => {
            let tx = decode_tx(params)?;
            let (_, value) = simulate(&chain, &tx).await?;
            Ok(context(slot, value))
        }
        "sendTransaction" => {
            let tx = decode_tx(params)?;
            let cfg = config(params, 1);
            let signature = tx.signatures.first().copied().unwrap_or_default();
            if !cfg.get("skipPreflight").and_then(Value::as_bool).unwrap_or(false) {
                let (err, value) = simulate(&chain, &tx).await?;
                if let Some(err) = err {
                    return Err(RpcError {
                        code: -32002,
                        message: format!("Transaction simulation failed: {err}"),
                        data: Some(value),
                    });
                }
            }
            let price = crate::ledger::compute_budget(&tx).1;
            let writable: Vec<Pubkey> = tx
                .message
                .static_account_keys()
                .iter()
                .enumerate()
                .filter(|(i, _)| tx.message.is_maybe_writable(*i, None))
                .map(|(_, k)| *k)
                .collect();
            // The outcome is recorded by the bank and reported by getSignatureStatuses.
            let ok = chain.process(tx).await.is_ok();
            if ok {
                let mut fees = state.fees.lock().await;
                fees.push(FeeRecord { slot, micro_lamports: price, writable });
                let excess = fees.len().saturating_sub(FEE_HISTORY);
                fees.drain(..excess);
            }
            Ok(json!(signature.to_string()))
        }
        "getSignatureStatuses" => {
            let sigs = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("missing signatures"))?;
            let mut parsed = Vec::with_capacity(sigs.len());
            for s in sigs {
                let sig = s
                    .as_str()
                    .and_then(|s| solana_transaction::Signature::from_str(s).ok())
                    .ok_or_else(|| RpcError::invalid_params("invalid signature"))?;
                parsed.push(sig);
            }
            let statuses = chain
                .ctx
                .banks_client
                .get_transaction_statuses(parsed)
                .await
                .map_err(|e| RpcError::internal(e.to_string()))?;
            let value: Vec<Value> = statuses
                .into_iter()
                .map(|st| match st {
                    None => Value::Null,
                    Some(st) => {
                        let err = st.err.as_ref().map(tx_error_json);
                        let status = match &err {
                            Some(e) => json!({"Err": e}),
                            None => json!({"Ok": null}),
                        };
                        json!({"slot": st.slot, "confirmations": null, "err": err, "status": status, "confirmationStatus": "finalized"})
                    }
                })
                .collect();
            Ok(context(slot, Value::Array(value)))
        }
        "getRecentPrioritizationFees" => {
            let wanted: Vec<Pubkey> = match param(params, 0).and_then(Value::as_array) {
                Some(a) => a.iter().filter_map(|v| v.as_str().and_then(|s| Pubkey::from_str(s).ok())).collect(),
                None => vec![],
            };
            let fees = state.fees.lock().await;
            // Per slot, the lowest price paid by a landed transaction that wrote any of the accounts.
            let mut per_slot: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
            for f in fees.iter().filter(|f| wanted.is_empty() || f.writable.iter().any(|w| wanted.contains(w))) {
                let e = per_slot.entry(f.slot).or_insert(u64::MAX);
                *e = (*e).min(f.micro_lamports);
            }
            Ok(Value::Array(
                per_slot.into_iter().map(|(slot, fee)| json!({"slot": slot, "prioritizationFee": fee})).collect(),
            ))
        }
        "requestAirdrop" => {
            let key = pubkey_param(params, 0)?;
            let lamports =
                param(params, 1).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing lamports"))?;
            let payer = chain.payer();
            let ix = anchor_lang::solana_program::system_instruction::transfer(&payer.pubkey(), &key, lamports);
            let tx = chain.sign(&[ix], &[]).await;
            let sig = tx.signatures[0];
            chain.process(tx.into()).await.map_err(|e| RpcError::internal(format!("airdrop failed: {e}")))?;
            Ok(json!(sig.to_string()))
        }
        "getFeeForMessage" => Ok(context(slot, json!(5_000))),
        "getEpochInfo" => {
            let height = chain.ctx.banks_client.get_root_block_height().await.unwrap_or(slot);
            let count = chain.ledger.as_ref().map(|l| l.transaction_count);
            Ok(json!({"absoluteSlot": slot, "blockHeight": height, "epoch": slot / 432_000,
                      "slotIndex": slot % 432_000, "slotsInEpoch": 432_000, "transactionCount": count}))
        }
        "getTokenAccountBalance" | "getTokenSupply" => {
            let key = pubkey_param(params, 0)?;
            let acc = chain
                .account(&key)
                .await
                .ok_or_else(|| RpcError::invalid_params("Invalid param: could not find account"))?;
            let (decimals, amount) = if method == "getTokenSupply" {
                ballast_client::decode::mint_info(&acc.data)
                    .map_err(|_| RpcError::invalid_params("Invalid param: not a Token mint"))?
            } else {
                let (mint, amount) = ballast_client::decode::token_account(&acc.data)
                    .map_err(|_| RpcError::invalid_params("Invalid param: not a Token account"))?;
                let mint = chain
                    .account(&mint)
                    .await
                    .ok_or_else(|| RpcError::invalid_params("Invalid param: could not find mint"))?;
                let (decimals, _) = ballast_client::decode::mint_info(&mint.data)
                    .map_err(|_| RpcError::invalid_params("Invalid param: not a Token mint"))?;
                (decimals, amount)
            };
            Ok(context(slot, ui_token_amount(amount, decimals)))
        }
        // What explorers ask about the cluster: one local node, no stake, no inflation.
        "getVoteAccounts" => Ok(json!({"current": [], "delinquent": []})),
        "getClusterNodes" => Ok(json!([{"pubkey": chain.payer().pubkey().to_string(), "gossip": null, "tpu": null,
            "rpc": null, "version": API_VERSION, "featureSet": 0, "shredVersion": 0}])),
        "getInflationGovernor" => {
            Ok(json!({"initial": 0.0, "terminal": 0.0, "taper": 0.0, "foundation": 0.0, "foundationTerm": 0.0}))
        }
        "getInflationRate" => Ok(json!({"total": 0.0, "validator": 0.0, "foundation": 0.0, "epoch": slot / 432_000})),
        "getStakeMinimumDelegation" => Ok(context(slot, json!(1_000_000_000u64))),
        "minimumLedgerSlot" => Ok(json!(chain.ledger.as_ref().and_then(|l| l.first_slot()).unwrap_or(0))),
        "getBlocks" | "getBlocksWithLimit" => {
            let from = param(params, 0)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("missing start slot"))?;
            let to = if method == "getBlocks" {
                param(params, 1).and_then(Value::as_u64).unwrap_or(slot).min(slot)
            } else {
                let limit = param(params, 1)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| RpcError::invalid_params("missing limit"))?;
                from.saturating_add(limit.saturating_sub(1)).min(slot)
            };
            if to.saturating_sub(from) > 500_000 {
                return Err(RpcError::invalid_params("Slot range too large; max 500000"));
            }
            // Slots that hold transactions (the others were warped over, like skipped slots).
            let ledger = ledger(&chain)?;
            Ok(json!(ledger.slots_between(from, to)))
        }
        "getEpochSchedule" => Ok(json!({
            "slotsPerEpoch": 432_000, "leaderScheduleSlotOffset": 432_000, "warmup": false,
            "firstNormalEpoch": 0, "firstNormalSlot": 0
        })),
        "getFirstAvailableBlock" => Ok(json!(chain.ledger.as_ref().and_then(|l| l.first_slot()).unwrap_or(0))),
        "getTransactionCount" => Ok(json!(chain.ledger.as_ref().map(|l| l.transaction_count).unwrap_or(0))),
        "getSupply" => {
            // The bank's capitalization is not exposed; the payer's and the known accounts' lamports are
            // the supply this local chain can account for. Nothing is locked, all of it circulates.
            let keys: Vec<Pubkey> = chain.known.iter().copied().chain([chain.payer().pubkey()]).collect();
            let mut total: u64 = 0;
            for k in keys {
                total = total.saturating_add(chain.ctx.banks_client.get_balance(k).await.unwrap_or(0));
            }
            Ok(context(
                slot,
                json!({"total": total, "circulating": total, "nonCirculating": 0, "nonCirculatingAccounts": []}),
            ))
        }
        "getRecentPerformanceSamples" => {
            let limit = param(params, 0).and_then(Value::as_u64).unwrap_or(720).min(720) as usize;
            let ledger = ledger(&chain)?;
            // One sample per 60 slots (about 24 s), newest first, over the slots the ledger holds.
            let mut samples: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
            for (s, n) in ledger.counts_per_slot() {
                *samples.entry(s / 60).or_default() += n;
            }
            let uptime = state.started.elapsed().as_secs().max(1);
            let out: Vec<Value> = samples
                .into_iter()
                .rev()
                .take(limit)
                .map(|(bucket, n)| {
                    json!({"slot": (bucket + 1) * 60, "numSlots": 60, "numTransactions": n,
                           "numNonVoteTransactions": n, "samplePeriodSecs": 60.min(uptime)})
                })
                .collect();
            Ok(Value::Array(out))
        }
        "getBlockTime" => {
            let wanted = past_slot(params, slot)?;
            let ledger = ledger(&chain)?;
            match ledger.in_slot(wanted).first() {
                Some(t) => Ok(json!(t.block_time)),
                None => {
                    // A slot without transactions: the current clock minus its distance at 400 ms a slot.
                    let clock = chain.clock().await;
                    Ok(json!(clock.unix_timestamp - ((slot - wanted) as i64 * 2 / 5)))
                }
            }
        }
        "getBlock" => {
            let wanted = past_slot(params, slot)?;
            let cfg = config(params, 1);
            let ledger = ledger(&chain)?;
            let txs = ledger.in_slot(wanted);
            if txs.is_empty() {
                // The chain warps over slots without transactions: to clients they are skipped slots.
                return Err(RpcError {
                    code: -32007,
                    message: format!("Slot {wanted} was skipped, or missing due to ledger jump to recent snapshot"),
                    data: None,
                });
            }
            let block_time = txs[0].block_time;
            let encoding = cfg.get("encoding").and_then(Value::as_str).unwrap_or("json");
            let max_version = cfg.get("maxSupportedTransactionVersion").and_then(Value::as_u64);
            let details = cfg.get("transactionDetails").and_then(Value::as_str).unwrap_or("full");
            let mut block = json!({
                "blockhash": slot_hash(wanted), "previousBlockhash": slot_hash(wanted.saturating_sub(1)),
                "parentSlot": wanted.saturating_sub(1), "blockTime": block_time, "blockHeight": wanted,
            });
            match details {
                "none" => {}
                "signatures" => {
                    block["signatures"] = json!(txs.iter().map(|t| t.signature.to_string()).collect::<Vec<_>>());
                }
                _ => {
                    let mut out = Vec::with_capacity(txs.len());
                    for t in &txs {
                        out.push(encode_transaction(t, encoding, max_version)?);
                    }
                    block["transactions"] = Value::Array(out);
                }
            }
            if cfg.get("rewards").and_then(Value::as_bool).unwrap_or(true) {
                block["rewards"] = json!([]);
            }
            Ok(block)
        }
        "getTransaction" => {
            let sig = param(params, 0)
                .and_then(Value::as_str)
                .and_then(|s| solana_transaction::Signature::from_str(s).ok())
                .ok_or_else(|| RpcError::invalid_params("invalid signature"))?;
            let cfg = config(params, 1);
            // Older clients pass the encoding as a bare string.
            let encoding = cfg.as_str().or_else(|| cfg.get("encoding").and_then(Value::as_str)).unwrap_or("json");
            let max_version = cfg.get("maxSupportedTransactionVersion").and_then(Value::as_u64);
            match chain.ledger.as_ref().and_then(|l| l.get(&sig)) {
                None => Ok(Value::Null),
                Some(t) => {
                    let mut out = encode_transaction(&t, encoding, max_version)?;
                    out["slot"] = json!(t.slot);
                    out["blockTime"] = json!(t.block_time);
                    Ok(out)
                }
            }
        }
        "getSignaturesForAddress" => {
            let address = pubkey_param(params, 0)?;
            let cfg = config(params, 1);
            let sig_of = |k: &str| {
                cfg.get(k).and_then(Value::as_str).map(|s| {
                    solana_transaction::Signature::from_str(s)
                        .map_err(|_| RpcError::invalid_params(format!("invalid {k}")))
                })
            };
            let before = sig_of("before").transpose()?;
            let until = sig_of("until").transpose()?;
            let limit = cfg.get("limit").and_then(Value::as_u64).unwrap_or(1000);
            if limit == 0 || limit > 1000 {
                return Err(RpcError::invalid_params("Invalid limit; max 1000"));
            }
            let ledger = ledger(&chain)?;
            let out: Vec<Value> = ledger
                .for_address(&address, before.as_ref(), until.as_ref(), limit as usize)
                .iter()
                .map(|t| {
                    let err = t.err.as_ref().map(tx_error_json);
                    json!({"signature": t.signature.to_string(), "slot": t.slot, "err": err, "memo": null,
                           "blockTime": t.block_time, "confirmationStatus": "finalized"})
                })
                .collect();
            Ok(Value::Array(out))
        }
        other => Err(RpcError { code: -32601, message: format!("Method not found: {other}"), data: None }),
    }
}

/// The transaction ledger (`RpcState::new` turns it on).
fn ledger(chain: &Chain) -> Result<&crate::ledger::Ledger, RpcError> {
    chain.ledger.as_ref().ok_or_else(|| RpcError::internal("no ledger"))
}

/// Parameter 0 as a slot the chain has reached (error -32004 for a future one).
fn past_slot(params: &Value, current: u64) -> Result<u64, RpcError> {
    let wanted = param(params, 0).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing slot"))?;
    if wanted > current {
        return Err(RpcError { code: -32004, message: format!("Block not available for slot {wanted}"), data: None });
    }
    Ok(wanted)
}

/// A token amount in the `UiTokenAmount` shape.
fn ui_token_amount(amount: u64, decimals: u8) -> Value {
    let digits = format!("{amount:0>width$}", width = decimals as usize + 1);
    let (whole, frac) = digits.split_at(digits.len() - decimals as usize);
    let frac = frac.trim_end_matches('0');
    let ui = if frac.is_empty() { whole.to_string() } else { format!("{whole}.{frac}") };
    json!({"amount": amount.to_string(), "decimals": decimals, "uiAmount": ui.parse::<f64>().ok(), "uiAmountString": ui})
}

/// A stable stand-in blockhash for `slot` (the bank does not keep one per warped slot).
fn slot_hash(slot: u64) -> String {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&slot.to_le_bytes());
    bytes[8..16].copy_from_slice(b"ballast\0");
    bs58::encode(bytes).into_string()
}

/// A processed transaction in the `EncodedTransactionWithStatusMeta` shape (`json`, `jsonParsed`,
/// `base64` or `base58`). Instructions of every program are given partially decoded.
fn encode_transaction(t: &TxRecord, encoding: &str, max_version: Option<u64>) -> RpcResult {
    let v0 = matches!(t.transaction.message, solana_message::VersionedMessage::V0(_));
    if v0 && max_version.is_none() {
        return Err(RpcError {
            code: -32015,
            message: "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0".into(),
            data: None,
        });
    }
    let msg = &t.transaction.message;
    let keys = msg.static_account_keys();
    let header = msg.header();
    let transaction = match encoding {
        "base64" | "base58" => {
            let bytes = bincode::serialize(&t.transaction).map_err(|e| RpcError::internal(e.to_string()))?;
            if encoding == "base64" {
                json!([base64::engine::general_purpose::STANDARD.encode(bytes), "base64"])
            } else {
                json!([bs58::encode(bytes).into_string(), "base58"])
            }
        }
        _ => {
            let parsed = encoding == "jsonParsed";
            let account_keys: Vec<Value> = if parsed {
                t.keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let source = if i < keys.len() { "transaction" } else { "lookupTable" };
                        let writable = if i < keys.len() {
                            msg.is_maybe_writable(i, None)
                        } else {
                            i < keys.len() + t.loaded_writable.len()
                        };
                        json!({"pubkey": k.to_string(), "signer": i < header.num_required_signatures as usize,
                               "writable": writable, "source": source})
                    })
                    .collect()
            } else {
                keys.iter().map(|k| json!(k.to_string())).collect()
            };
            let instructions: Vec<Value> = msg
                .instructions()
                .iter()
                .map(|ix| {
                    if parsed {
                        let key = |i: &u8| t.keys.get(*i as usize).map(|k| k.to_string()).unwrap_or_default();
                        json!({"programId": key(&ix.program_id_index),
                               "accounts": ix.accounts.iter().map(key).collect::<Vec<_>>(),
                               "data": bs58::encode(&ix.data).into_string(), "stackHeight": null})
                    } else {
                        json!({"programIdIndex": ix.program_id_index, "accounts": ix.accounts,
                               "data": bs58::encode(&ix.data).into_string(), "stackHeight": null})
                    }
                })
                .collect();
            let mut message = json!({
                "accountKeys": account_keys,
                "header": {"numRequiredSignatures": header.num_required_signatures,
                           "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                           "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts},
                "recentBlockhash": msg.recent_blockhash().to_string(),
                "instructions": instructions,
            });
            if let Some(lookups) = msg.address_table_lookups() {
                message["addressTableLookups"] = json!(lookups
                    .iter()
                    .map(|l| json!({"accountKey": l.account_key.to_string(), "writableIndexes": l.writable_indexes,
                                    "readonlyIndexes": l.readonly_indexes}))
                    .collect::<Vec<_>>());
            }
            json!({"signatures": t.transaction.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "message": message})
        }
    };
    let err = t.err.as_ref().map(tx_error_json);
    let status = match &err {
        Some(e) => json!({"Err": e}),
        None => json!({"Ok": null}),
    };
    let strings = |v: &[Pubkey]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let meta = json!({
        "err": err, "status": status, "fee": t.fee,
        "preBalances": t.pre_balances, "postBalances": t.post_balances,
        "innerInstructions": [], "logMessages": t.logs,
        "preTokenBalances": [], "postTokenBalances": [], "rewards": [],
        "loadedAddresses": {"writable": strings(&t.loaded_writable), "readonly": strings(&t.loaded_readonly)},
        "computeUnitsConsumed": t.compute_units,
    });
    let version = if v0 { json!(0) } else { json!("legacy") };
    let mut out = json!({"transaction": transaction, "meta": meta});
    if max_version.is_some() {
        out["version"] = version;
    }
    Ok(out)
}
