//! The websocket half of the localnet's RPC: Solana's JSON-RPC 2.0 pubsub, as `@solana/web3.js`,
//! `@anchor-lang/core` and `@solana/kit` use it to confirm transactions and follow accounts and logs.
//! `signatureSubscribe` (answered at once when the signature already landed), `slotSubscribe`,
//! `accountSubscribe`, `programSubscribe` and `logsSubscribe`, each with its unsubscribe. Everything
//! is final as soon as it is processed, so the `commitment` options are accepted and ignored; the
//! clients' keep-alive `ping` gets no answer.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use solana_transaction::Signature;
use tokio::sync::broadcast::error::RecvError;

use ballast_harness::chain::Chain;
use ballast_harness::ledger::{ChainEvent, TxRecord};

use crate::wire::{self, code, context, encode_account, matches_filters, notification, reply, tx_error_json};
use crate::wire::{RpcError, RpcState};

/// Subscription ids, unique across connections like a validator's.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What an account looked like when last notified.
type Seen = (u64, Pubkey, Vec<u8>);

enum Sub {
    Signature(Signature),
    Slot,
    Account { key: Pubkey, encoding: String, last: Option<Seen> },
    Program { program: Pubkey, encoding: String, filters: Vec<Value>, seen: HashMap<Pubkey, Seen> },
    Logs(LogsFilter),
}

enum LogsFilter {
    All,
    Mentions(Pubkey),
}

/// `GET` with an upgrade: one pubsub connection.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<Arc<RpcState>>) -> Response {
    ws.on_upgrade(move |socket| connection(socket, state))
}

async fn connection(mut socket: WebSocket, state: Arc<RpcState>) {
    let mut events = state.events.subscribe();
    let mut subs: HashMap<u64, Sub> = HashMap::new();
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue, // websocket-level ping/pong
                };
                let mut out = Vec::new();
                handle_request(&state, &mut subs, &text, &mut out).await;
                for m in out {
                    if socket.send(Message::Text(m.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
            ev = events.recv() => {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!("pubsub subscriber lagged by {n} events");
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                if subs.is_empty() {
                    continue;
                }
                let mut out = Vec::new();
                {
                    let mut chain = state.chain.lock().await;
                    notify(&mut chain, &mut subs, &ev, &mut out).await;
                }
                for m in out {
                    if socket.send(Message::Text(m.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// JSON-RPC's parse error (the websocket's messages are parsed here, not by the envelope).
const PARSE_ERROR: i64 = -32700;

fn pubkey(v: Option<&Value>) -> Option<Pubkey> {
    v.and_then(Value::as_str).and_then(|s| Pubkey::from_str(s).ok())
}

fn encoding(cfg: Option<&Value>) -> String {
    cfg.and_then(|c| c.get("encoding")).and_then(Value::as_str).unwrap_or("base64").to_string()
}

async fn handle_request(state: &RpcState, subs: &mut HashMap<u64, Sub>, text: &str, out: &mut Vec<Value>) {
    let Ok(call) = serde_json::from_str::<Value>(text) else {
        out.push(wire::error(&Value::Null, &RpcError::new(PARSE_ERROR, "Parse error")));
        return;
    };
    let calls = match call {
        Value::Array(a) => a,
        one => vec![one],
    };
    for call in calls {
        let method = call.get("method").and_then(Value::as_str).unwrap_or("");
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        if method == "ping" {
            continue; // web3.js keep-alive: a notification, nothing to answer
        }
        let params = call.get("params").cloned().unwrap_or(Value::Array(vec![]));
        if method.ends_with("Unsubscribe") {
            let removed = wire::param(&params, 0).and_then(Value::as_u64).and_then(|n| subs.remove(&n)).is_some();
            out.push(if removed {
                reply(&id, json!(true))
            } else {
                wire::error(&id, &RpcError::invalid_params("Invalid subscription id."))
            });
            continue;
        }
        let mut sub = match subscription(method, &params) {
            Ok(sub) => sub,
            Err(e) => {
                out.push(wire::error(&id, &e));
                continue;
            }
        };
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        out.push(reply(&id, json!(n)));
        if start(state, n, &mut sub, out).await {
            subs.insert(n, sub);
        }
    }
}

/// The subscription a `*Subscribe` call asks for.
fn subscription(method: &str, params: &Value) -> Result<Sub, RpcError> {
    let arg = |i: usize| wire::param(params, i);
    let invalid = |what: &str| RpcError::invalid_params(format!("Invalid params: {what}"));
    match method {
        "signatureSubscribe" => arg(0)
            .and_then(Value::as_str)
            .and_then(|s| Signature::from_str(s).ok())
            .map(Sub::Signature)
            .ok_or_else(|| invalid("invalid signature")),
        "slotSubscribe" => Ok(Sub::Slot),
        "accountSubscribe" => pubkey(arg(0))
            .map(|key| Sub::Account { key, encoding: encoding(arg(1)), last: None })
            .ok_or_else(|| invalid("invalid pubkey")),
        "programSubscribe" => {
            let program = pubkey(arg(0)).ok_or_else(|| invalid("invalid program id"))?;
            let filters = arg(1).and_then(|c| c.get("filters")).and_then(Value::as_array).cloned().unwrap_or_default();
            matches_filters(&[], &filters).map_err(|e| invalid(e.message()))?;
            Ok(Sub::Program { program, encoding: encoding(arg(1)), filters, seen: HashMap::new() })
        }
        "logsSubscribe" => match arg(0) {
            Some(Value::String(s)) if s == "all" || s == "allWithVotes" => Ok(Sub::Logs(LogsFilter::All)),
            Some(Value::Object(m)) => m
                .get("mentions")
                .and_then(Value::as_array)
                .filter(|a| a.len() == 1)
                .and_then(|a| pubkey(a.first()))
                .map(|k| Sub::Logs(LogsFilter::Mentions(k)))
                .ok_or_else(|| invalid("mentions takes exactly one pubkey")),
            _ => Err(invalid("logsSubscribe takes \"all\" or {\"mentions\": [pubkey]}")),
        },
        other => Err(RpcError::new(code::METHOD_NOT_FOUND, format!("Method not found: {other}"))),
    }
}

/// Starts subscription `n` from the current state: an account is notified on its next change, a signature
/// that already landed right away (then the one-shot subscription is done: returns false).
async fn start(state: &RpcState, n: u64, sub: &mut Sub, out: &mut Vec<Value>) -> bool {
    let mut chain = state.chain.lock().await;
    match sub {
        Sub::Signature(sig) => {
            let landed = match chain.ledger.as_ref().and_then(|l| l.get(sig)) {
                Some(rec) => Some((rec.slot, rec.err.clone())),
                None => {
                    chain.ctx.banks_client.get_transaction_status(*sig).await.ok().flatten().map(|st| (st.slot, st.err))
                }
            };
            if let Some((slot, err)) = landed {
                out.push(signature_notification(n, slot, err.as_ref().map(tx_error_json)));
                return false;
            }
        }
        Sub::Account { key, last, .. } => *last = chain.account(key).await.map(|a| (a.lamports, a.owner, a.data)),
        Sub::Program { program, filters, seen, .. } => {
            for (k, a) in chain.program_accounts(program).await {
                if matches_filters(&a.data, filters).unwrap_or(false) {
                    seen.insert(k, (a.lamports, a.owner, a.data));
                }
            }
        }
        Sub::Slot | Sub::Logs(_) => {}
    }
    true
}

fn signature_notification(sub: u64, slot: u64, err: Option<Value>) -> Value {
    notification("signatureNotification", sub, context(slot, json!({"err": err})))
}

/// Notifications `ev` causes for this connection's subscriptions.
async fn notify(chain: &mut Chain, subs: &mut HashMap<u64, Sub>, ev: &ChainEvent, out: &mut Vec<Value>) {
    let (slot, touched): (u64, &[Pubkey]) = match ev {
        ChainEvent::Slot { parent, slot } => {
            for (n, sub) in subs.iter() {
                if matches!(sub, Sub::Slot) {
                    out.push(notification(
                        "slotNotification",
                        *n,
                        json!({"parent": parent, "root": slot, "slot": slot}),
                    ));
                }
            }
            return;
        }
        ChainEvent::Transaction(tx) => {
            transaction_notifications(subs, tx, out);
            (tx.slot, &tx.keys)
        }
        ChainEvent::Accounts { slot, keys } => (*slot, keys),
    };
    for (n, sub) in subs.iter_mut() {
        match sub {
            Sub::Account { key, encoding, last } if touched.contains(key) => {
                let now = chain.account(key).await;
                let state = now.as_ref().map(|a| (a.lamports, a.owner, a.data.clone()));
                if state != *last {
                    *last = state;
                    let value = match &now {
                        Some(a) => encode_account(a, encoding),
                        // A closed account is reported as empty, like a validator does.
                        None => {
                            json!({"data": ["", "base64"], "executable": false, "lamports": 0, "owner": Pubkey::default().to_string(), "rentEpoch": 0, "space": 0})
                        }
                    };
                    out.push(notification("accountNotification", *n, context(slot, value)));
                }
            }
            Sub::Program { program, encoding, filters, seen } => {
                for key in touched {
                    let Some(a) = chain.account(key).await else {
                        seen.remove(key);
                        continue;
                    };
                    if a.owner != *program || !matches_filters(&a.data, filters).unwrap_or(false) {
                        continue;
                    }
                    let state = (a.lamports, a.owner, a.data.clone());
                    if seen.get(key) != Some(&state) {
                        seen.insert(*key, state);
                        let value = json!({"pubkey": key.to_string(), "account": encode_account(&a, encoding)});
                        out.push(notification("programNotification", *n, context(slot, value)));
                    }
                }
            }
            _ => {}
        }
    }
}

fn transaction_notifications(subs: &mut HashMap<u64, Sub>, tx: &TxRecord, out: &mut Vec<Value>) {
    let err = tx.err.as_ref().map(tx_error_json);
    let mut done = Vec::new();
    for (n, sub) in subs.iter() {
        match sub {
            Sub::Signature(sig) if *sig == tx.signature => {
                out.push(signature_notification(*n, tx.slot, err.clone()));
                done.push(*n);
            }
            Sub::Logs(filter) => {
                let wanted = match filter {
                    LogsFilter::All => true,
                    LogsFilter::Mentions(k) => tx.keys.contains(k),
                };
                if wanted {
                    let value = json!({"signature": tx.signature.to_string(), "err": err, "logs": tx.logs});
                    out.push(notification("logsNotification", *n, context(tx.slot, value)));
                }
            }
            _ => {}
        }
    }
    for n in done {
        subs.remove(&n);
    }
}
