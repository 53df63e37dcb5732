//! A fault-injecting JSON-RPC proxy for testing clients (the keeper) against a flaky endpoint: it sits in
//! front of an upstream URL (e.g. `ballast localnet`) on 127.0.0.1 and, per a plan, answers 429 or 5xx
//! without forwarding, delays a reply, or forwards a request and then loses the reply (a transaction
//! that lands but whose confirmation never arrives). Every forwarded `sendTransaction` is recorded, so a
//! test can tell a retried send of the same transaction from a second trade.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 429 Too Many Requests; do not forward.
    TooManyRequests,
    /// Answer 502 Bad Gateway; do not forward.
    ServerError,
    /// Forward after this delay.
    Delay(Duration),
    /// Forward, then answer 503 instead of the upstream reply.
    LoseReply,
    /// Forward `getLatestBlockhash`, then replace the blockhash with one the cluster never produced (as an
    /// endpoint lagging far behind, or a transaction held until its blockhash expired, would).
    StaleBlockhash,
}

/// Which requests get which fault.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// Faults for the next requests of a method, in order.
    pub by_method: HashMap<String, VecDeque<Fault>>,
    /// A fault for every `n`-th request of any method (counted across all requests).
    pub every: Option<(u64, Fault)>,
}

/// What the proxy saw.
#[derive(Debug, Default, Clone)]
pub struct ProxyStats {
    pub requests: u64,
    pub faults: u64,
    /// Every distinct transaction forwarded by `sendTransaction` (its encoded form).
    pub sent_transactions: BTreeSet<String>,
    /// How many `sendTransaction` requests were forwarded (a resend of the same transaction counts again).
    pub send_requests: u64,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    plan: Arc<Mutex<FaultPlan>>,
    stats: Arc<Mutex<ProxyStats>>,
}

/// A running proxy.
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub plan: Arc<Mutex<FaultPlan>>,
    pub stats: Arc<Mutex<ProxyStats>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) in front of `upstream`.
    pub async fn start(upstream: &str) -> Result<FaultProxy> {
        let plan = Arc::new(Mutex::new(FaultPlan::default()));
        let stats = Arc::new(Mutex::new(ProxyStats::default()));
        let state = ProxyState {
            upstream: upstream.to_string(),
            http: reqwest::Client::new(),
            plan: plan.clone(),
            stats: stats.clone(),
        };
        let app = axum::Router::new().route("/", axum::routing::post(handle)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultProxy { addr, plan, stats, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues `faults` for the next requests of `method`.
    pub async fn inject(&self, method: &str, faults: &[Fault]) {
        self.plan.lock().await.by_method.entry(method.to_string()).or_default().extend(faults.iter().copied());
    }

    /// Applies `fault` to every `n`-th request (None: stop).
    pub async fn every(&self, rule: Option<(u64, Fault)>) {
        self.plan.lock().await.every = rule;
    }

    pub async fn stats(&self) -> ProxyStats {
        self.stats.lock().await.clone()
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

async fn handle(axum::extract::State(s): axum::extract::State<ProxyState>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("").to_string();
    let fault = {
        let mut stats = s.stats.lock().await;
        stats.requests += 1;
        let n = stats.requests;
        let mut plan = s.plan.lock().await;
        let queued = plan.by_method.get_mut(&method).and_then(|q| q.pop_front());
        let fault = queued.or(match plan.every {
            Some((k, f)) if k > 0 && n % k == 0 => Some(f),
            _ => None,
        });
        if fault.is_some() {
            stats.faults += 1;
        }
        fault
    };
    match fault {
        Some(Fault::TooManyRequests) => return StatusCode::TOO_MANY_REQUESTS.into_response(),
        Some(Fault::ServerError) => return StatusCode::BAD_GATEWAY.into_response(),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    if method == "sendTransaction" {
        let tx = request.pointer("/params/0").and_then(Value::as_str).unwrap_or("").to_string();
        let mut stats = s.stats.lock().await;
        stats.send_requests += 1;
        stats.sent_transactions.insert(tx);
    }
    let upstream = s.http.post(&s.upstream).header("content-type", "application/json").body(body.to_vec()).send().await;
    let reply = match upstream {
        Ok(r) => r.bytes().await.unwrap_or_default(),
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    if fault == Some(Fault::LoseReply) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if fault == Some(Fault::StaleBlockhash) {
        let mut v: Value = serde_json::from_slice(&reply).unwrap_or(Value::Null);
        if let Some(h) = v.pointer_mut("/result/value/blockhash") {
            *h = Value::String(bs58::encode([7u8; 32]).into_string());
        }
        return ([("content-type", "application/json")], v.to_string()).into_response();
    }
    ([("content-type", "application/json")], reply).into_response()
}
