//! `ballast bench --rpc`: a bounded loopback load test of `ballast localnet`'s JSON-RPC and websocket
//! pubsub. `clients` concurrent clients each open a websocket (slot, vault-account and logs
//! subscriptions), send `requests` JSON-RPC reads over HTTP (a mix of what wallets, keepers and
//! explorers ask), and confirm `confirms` airdrops over `signatureSubscribe`. Reports p50/p99/max
//! latency of each kind and every error. A benchmark: nothing here asserts a speed.

use std::time::{Duration, Instant};

use anyhow::Result;
use ballast_localnet::localnet::{self, LocalnetOptions, PricePath};
use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};

#[derive(Debug, Clone, Copy)]
pub struct RpcBenchOptions {
    pub clients: usize,
    pub requests: usize,
    pub confirms: usize,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut v: Vec<Duration>) -> Latency {
        v.sort();
        let at =
            |q: f64| v.get(((v.len() as f64 - 1.0) * q).round() as usize).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0);
        Latency { count: v.len(), p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1.0) }
    }
}

#[derive(Debug, Serialize)]
pub struct RpcBench {
    pub clients: usize,
    pub requests_per_client: usize,
    pub secs: f64,
    pub requests_per_sec: f64,
    pub http: Latency,
    pub subscribe: Latency,
    pub confirm: Latency,
    pub notifications: usize,
    pub errors: usize,
    pub first_errors: Vec<String>,
}

#[derive(Default)]
struct ClientResult {
    http: Vec<Duration>,
    subscribe: Vec<Duration>,
    confirm: Vec<Duration>,
    notifications: usize,
    errors: Vec<String>,
}

async fn call(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Result<Value> {
    let body: Value = http
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await?
        .json()
        .await?;
    match body.get("error") {
        Some(e) => anyhow::bail!("{method}: {e}"),
        None => Ok(body["result"].clone()),
    }
}

async fn client(url: String, ws: String, vault: String, reserves: Vec<String>, opts: RpcBenchOptions) -> ClientResult {
    let mut r = ClientResult::default();
    let http = reqwest::Client::new();
    let pubsub = match PubsubClient::new(ws.as_str()).await {
        Ok(p) => p,
        Err(e) => {
            r.errors.push(format!("websocket: {e}"));
            return r;
        }
    };
    let t = Instant::now();
    let slots = pubsub.slot_subscribe().await;
    r.subscribe.push(t.elapsed());
    let t = Instant::now();
    let vault_key = vault.parse().unwrap_or_default();
    let account = pubsub.account_subscribe(&vault_key, None).await;
    r.subscribe.push(t.elapsed());
    let t = Instant::now();
    let logs = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![ballast::ID.to_string()]),
            RpcTransactionLogsConfig { commitment: None },
        )
        .await;
    r.subscribe.push(t.elapsed());
    let (Ok((mut slots, _)), Ok((_account, _)), Ok((_logs, _))) = (slots, account, logs) else {
        r.errors.push("a subscription was refused".into());
        return r;
    };
    for i in 0..opts.requests {
        let (method, params) = match i % 5 {
            0 => ("getSlot", json!([])),
            1 => ("getAccountInfo", json!([vault, {"encoding": "base64"}])),
            2 => ("getLatestBlockhash", json!([])),
            3 => ("getMultipleAccounts", json!([reserves, {"encoding": "base64"}])),
            _ => ("getSignaturesForAddress", json!([vault, {"limit": 10}])),
        };
        let t = Instant::now();
        match call(&http, &url, method, params).await {
            Ok(_) => r.http.push(t.elapsed()),
            Err(e) => r.errors.push(e.to_string()),
        }
        // Drain slot notifications that arrived meanwhile.
        while let Some(Some(_)) = slots.next().now_or_never() {
            r.notifications += 1;
        }
    }
    for _ in 0..opts.confirms {
        let t = Instant::now();
        let to = anchor_lang::prelude::Pubkey::new_unique().to_string();
        let sig = match call(&http, &url, "requestAirdrop", json!([to, 1_000_000_000u64])).await {
            Ok(Value::String(s)) => s,
            Ok(other) => {
                r.errors.push(format!("requestAirdrop answered {other}"));
                continue;
            }
            Err(e) => {
                r.errors.push(e.to_string());
                continue;
            }
        };
        let Ok(sig) = sig.parse() else { continue };
        match pubsub.signature_subscribe(&sig, None).await {
            Ok((mut s, _)) => match tokio::time::timeout(Duration::from_secs(10), s.next()).await {
                Ok(Some(_)) => {
                    r.confirm.push(t.elapsed());
                    r.notifications += 1;
                }
                _ => r.errors.push("no signature notification within 10 s".into()),
            },
            Err(e) => r.errors.push(format!("signatureSubscribe: {e}")),
        }
    }
    r
}

pub async fn run(opts: RpcBenchOptions) -> Result<RpcBench> {
    let net = localnet::start(LocalnetOptions {
        addr: "127.0.0.1:0".parse()?,
        price_path: PricePath::Hold,
        tick: Duration::from_millis(200),
        ..Default::default()
    })
    .await?;
    let vault = net.vault().to_string();
    let reserves: Vec<String> = {
        let mut chain = net.chain.lock().await;
        net.fx.state(&mut chain).await.assets.iter().map(|a| a.reserve.to_string()).collect()
    };
    let start = Instant::now();
    let tasks: Vec<_> = (0..opts.clients)
        .map(|_| tokio::spawn(client(net.url(), net.ws_url(), vault.clone(), reserves.clone(), opts)))
        .collect();
    let mut all = ClientResult::default();
    for t in tasks {
        let r = t.await?;
        all.http.extend(r.http);
        all.subscribe.extend(r.subscribe);
        all.confirm.extend(r.confirm);
        all.notifications += r.notifications;
        all.errors.extend(r.errors);
    }
    let secs = start.elapsed().as_secs_f64();
    net.stop();
    Ok(RpcBench {
        clients: opts.clients,
        requests_per_client: opts.requests,
        secs,
        requests_per_sec: all.http.len() as f64 / secs,
        http: Latency::of(all.http),
        subscribe: Latency::of(all.subscribe),
        confirm: Latency::of(all.confirm),
        notifications: all.notifications,
        errors: all.errors.len(),
        first_errors: all.errors.into_iter().take(5).collect(),
    })
}
