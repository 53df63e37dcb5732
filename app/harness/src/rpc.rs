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
    fees: Mutex<Vec<FeeRecord>>,
}

impl RpcState {
    pub fn new(chain: Arc<Mutex<Chain>>) -> Arc<RpcState> {
        Arc::new(RpcState { chain, fees: Mutex::new(Vec::new()) })
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
    fn invalid_params(msg: impl Into<String>) -> Self {
        RpcError { code: -32602, message: msg.into(), data: None }
    }
    fn internal(msg: impl Into<String>) -> Self {
        RpcError { code: -32603, message: msg.into(), data: None }
    }
}

type RpcResult = Result<Value, RpcError>;

/// The router: `POST /` for JSON-RPC (single or batch), `GET /health` like a validator.
pub fn router(state: Arc<RpcState>) -> Router {
    Router::new().route("/", post(handle)).route("/health", get(|| async { "ok" })).with_state(state)
}

/// Serves the router on `addr`; returns the bound address (use port 0 for a free port).
pub async fn serve(
    state: Arc<RpcState>,
    addr: SocketAddr,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(state);
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("rpc server stopped: {e}");
        }
    });
    Ok((bound, handle))
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

fn param(params: &Value, i: usize) -> Option<&Value> {
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

fn encode_account(acc: &solana_account::Account, encoding: &str) -> Value {
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
fn matches_filters(data: &[u8], filters: &[Value]) -> Result<bool, RpcError> {
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

fn tx_error_json(err: &solana_transaction_error::TransactionError) -> Value {
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
        Some(d) => (json!(d.logs), json!(d.units_consumed)),
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

/// Compute-unit price set by a transaction's ComputeBudget instruction, if any.
fn unit_price(tx: &VersionedTransaction) -> u64 {
    let keys = tx.message.static_account_keys();
    for ix in tx.message.instructions() {
        let program = keys.get(ix.program_id_index as usize);
        if program == Some(&solana_compute_budget_interface::ID) && ix.data.first() == Some(&3) && ix.data.len() >= 9 {
            return u64::from_le_bytes(ix.data[1..9].try_into().unwrap());
        }
    }
    0
}

async fn dispatch(state: &RpcState, method: &str, params: &Value) -> RpcResult {
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
            let keys: Vec<Pubkey> = chain.known.iter().copied().collect();
            let mut out = Vec::new();
            for key in keys {
                if let Some(acc) = chain.account(&key).await {
                    if acc.owner == program && matches_filters(&acc.data, &filters)? {
                        out.push(
                            json!({"pubkey": key.to_string(), "account": encode_account(&acc, encoding_of(&cfg))}),
                        );
                    }
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
            let price = unit_price(&tx);
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
        "getEpochInfo" => Ok(
            json!({"absoluteSlot": slot, "blockHeight": slot, "epoch": 0, "slotIndex": slot, "slotsInEpoch": 432_000, "transactionCount": null}),
        ),
        other => Err(RpcError { code: -32601, message: format!("Method not found: {other}"), data: None }),
    }
}
