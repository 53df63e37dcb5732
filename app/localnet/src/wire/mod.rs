//! The wire layer every server of the local network stands on: the shared state ([`RpcState`]), one error
//! type with the JSON-RPC codes a Solana node uses ([`RpcError`], [`code`]), the request envelope
//! (single or batch, [`handle`]), parameter helpers, the one [`context`] wrapper, and the account and
//! transaction encoders ([`encode`]). Method handlers (`methods`), the pubsub and the dashboard depend on
//! it; it depends on none of them.

pub mod encode;

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use ballast_harness::chain::Chain;
use ballast_harness::ledger::ChainEvent;

pub use encode::{encode_account, encoding_of, matches_filters, tx_error_json};

/// Version reported by `getVersion` and in every `context`.
pub const API_VERSION: &str = "3.1.12";

/// JSON-RPC error codes, named as a Solana node names them.
pub mod code {
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// `sendTransaction` refused because its preflight simulation failed.
    pub const SEND_TRANSACTION_PREFLIGHT_FAILURE: i64 = -32002;
    /// A block for a slot the node has not reached.
    pub const BLOCK_NOT_AVAILABLE: i64 = -32004;
    /// A skipped slot.
    pub const SLOT_SKIPPED: i64 = -32007;
    /// A versioned transaction asked for without `maxSupportedTransactionVersion`.
    pub const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;
}

/// A processed transaction's compute-unit price and the accounts it wrote.
#[derive(Debug, Clone)]
pub struct FeeRecord {
    pub slot: u64,
    pub micro_lamports: u64,
    pub writable: Vec<Pubkey>,
}

/// How many recent prioritization-fee records are kept.
pub const FEE_HISTORY: usize = 150;

/// The local network's development methods (`ballast_*`), served only by `ballast localnet`. A trait so
/// that the wire layer does not depend on the methods that implement it.
pub trait DevApi: Send + Sync {
    fn call<'a>(
        &'a self,
        state: &'a RpcState,
        method: &'a str,
        params: &'a Value,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Value>> + Send + 'a>>;
}

/// State shared by every request.
pub struct RpcState {
    pub chain: Arc<Mutex<Chain>>,
    /// The chain's event broadcast (for websocket subscriptions).
    pub events: tokio::sync::broadcast::Sender<ChainEvent>,
    pub fees: Mutex<Vec<FeeRecord>>,
    /// When serving started (sample periods of `getRecentPerformanceSamples`).
    pub started: std::time::Instant,
    /// The development methods, when serving `ballast localnet`.
    pub dev: std::sync::OnceLock<Arc<dyn DevApi>>,
    /// Names of known mints (the demo's symbols), for the dashboard.
    labels: std::sync::RwLock<std::collections::HashMap<Pubkey, String>>,
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
            labels: Default::default(),
        })
    }

    /// Names `mint` (shown by the dashboard).
    pub fn set_label(&self, mint: Pubkey, label: &str) {
        if let Ok(mut l) = self.labels.write() {
            l.insert(mint, label.to_string());
        }
    }

    pub fn label(&self, mint: &Pubkey) -> Option<String> {
        self.labels.read().ok().and_then(|l| l.get(mint).cloned())
    }
}

/// A JSON-RPC error.
#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn invalid_params(msg: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, msg)
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(code::INTERNAL_ERROR, msg)
    }
    pub fn method_not_found(method: &str) -> Self {
        Self::new(code::METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }
    /// The error as the `error` member of a JSON-RPC response.
    pub fn to_json(&self) -> Value {
        let mut err = json!({"code": self.code, "message": self.message});
        if let Some(d) = &self.data {
            err["data"] = d.clone();
        }
        err
    }
}

pub type RpcResult = Result<Value, RpcError>;

/// What a method handler answers: a boxed future borrowing the request.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = RpcResult> + Send + 'a>>;

/// Answers one JSON-RPC request body, single or batch, with `dispatch` answering each call.
pub async fn handle<D>(State(state): State<Arc<RpcState>>, dispatch: D, Json(body): Json<Value>) -> Json<Value>
where
    D: for<'a> Fn(&'a RpcState, &'a str, &'a Value) -> BoxFuture<'a>,
{
    match body {
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(one(&state, &dispatch, c).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&state, &dispatch, call).await),
    }
}

async fn one<D>(state: &RpcState, dispatch: &D, call: Value) -> Value
where
    D: for<'a> Fn(&'a RpcState, &'a str, &'a Value) -> BoxFuture<'a>,
{
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error(&id, &RpcError::new(code::INVALID_REQUEST, "Invalid request"));
    };
    let params = call.get("params").cloned().unwrap_or(Value::Array(vec![]));
    match dispatch(state, method, &params).await {
        Ok(result) => reply(&id, result),
        Err(e) => error(&id, &e),
    }
}

/// A JSON-RPC success response.
pub fn reply(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error response.
pub fn error(id: &Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": e.to_json()})
}

/// A JSON-RPC notification (pubsub).
pub fn notification(method: &str, subscription: u64, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": subscription}})
}

/// The `{context, value}` wrapper of RPC results and pubsub notifications.
pub fn context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": API_VERSION}, "value": value})
}

pub fn param(params: &Value, i: usize) -> Option<&Value> {
    params.as_array().and_then(|a| a.get(i))
}

/// Parameter `i` as a config object (`Null` when absent).
pub fn config(params: &Value, i: usize) -> Value {
    param(params, i).cloned().unwrap_or(Value::Null)
}

pub fn pubkey_param(params: &Value, i: usize) -> Result<Pubkey, RpcError> {
    let s = param(params, i)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params(format!("missing pubkey parameter {i}")))?;
    Pubkey::from_str(s).map_err(|_| RpcError::invalid_params(format!("Invalid param: WrongSize or invalid pubkey {s}")))
}

pub fn signature_param(params: &Value, i: usize) -> Result<solana_transaction::Signature, RpcError> {
    param(params, i)
        .and_then(Value::as_str)
        .and_then(|s| solana_transaction::Signature::from_str(s).ok())
        .ok_or_else(|| RpcError::invalid_params("invalid signature"))
}

/// The slot the bank is at.
pub async fn slot(chain: &Chain) -> u64 {
    chain.ctx.banks_client.get_sysvar::<anchor_lang::prelude::Clock>().await.map(|c| c.slot).unwrap_or(0)
}
