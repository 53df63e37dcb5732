//! Encoders of the JSON shapes a Solana node answers with: accounts, `getProgramAccounts` filters, token
//! amounts, transactions (`EncodedTransactionWithStatusMeta`) and transaction errors.

use anchor_lang::prelude::Pubkey;
use base64::Engine as _;
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;

use ballast_harness::ledger::TxRecord;

use super::{code, config, param, RpcError, RpcResult};

pub fn encode_account(acc: &solana_account::Account, encoding: &str) -> Value {
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

/// The `encoding` of a config object (base64 when absent).
pub fn encoding_of(cfg: &Value) -> &str {
    cfg.get("encoding").and_then(Value::as_str).unwrap_or("base64")
}

/// Accepts the filters of `getProgramAccounts`: `dataSize` and `memcmp` (base58 or base64 bytes).
pub fn matches_filters(data: &[u8], filters: &[Value]) -> Result<bool, RpcError> {
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

/// Parameter 0 of `sendTransaction` / `simulateTransaction`: the transaction in its encoding.
pub fn decode_tx(params: &Value) -> Result<VersionedTransaction, RpcError> {
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

pub fn tx_error_json(err: &solana_transaction_error::TransactionError) -> Value {
    serde_json::to_value(err).unwrap_or_else(|_| json!(format!("{err:?}")))
}

/// A token amount in the `UiTokenAmount` shape.
pub fn ui_token_amount(amount: u64, decimals: u8) -> Value {
    let digits = format!("{amount:0>width$}", width = decimals as usize + 1);
    let (whole, frac) = digits.split_at(digits.len() - decimals as usize);
    let frac = frac.trim_end_matches('0');
    let ui = if frac.is_empty() { whole.to_string() } else { format!("{whole}.{frac}") };
    json!({"amount": amount.to_string(), "decimals": decimals, "uiAmount": ui.parse::<f64>().ok(), "uiAmountString": ui})
}

/// A stable stand-in blockhash for `slot` (the bank does not keep one per warped slot).
pub fn slot_hash(slot: u64) -> String {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&slot.to_le_bytes());
    bytes[8..16].copy_from_slice(b"ballast\0");
    bs58::encode(bytes).into_string()
}

/// A processed transaction in the `EncodedTransactionWithStatusMeta` shape (`json`, `jsonParsed`,
/// `base64` or `base58`). Instructions of every program are given partially decoded.
pub fn encode_transaction(t: &TxRecord, encoding: &str, max_version: Option<u64>) -> RpcResult {
    let v0 = matches!(t.transaction.message, solana_message::VersionedMessage::V0(_));
    if v0 && max_version.is_none() {
        return Err(RpcError::new(
            code::UNSUPPORTED_TRANSACTION_VERSION,
            "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0",
        ));
    }
    let transaction = match encoding {
        "base64" | "base58" => {
            let bytes = bincode::serialize(&t.transaction).map_err(|e| RpcError::internal(e.to_string()))?;
            if encoding == "base64" {
                json!([base64::engine::general_purpose::STANDARD.encode(bytes), "base64"])
            } else {
                json!([bs58::encode(bytes).into_string(), "base58"])
            }
        }
        _ => json!({
            "signatures": t.transaction.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "message": encode_message(t, encoding == "jsonParsed"),
        }),
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
    let mut out = json!({"transaction": transaction, "meta": meta});
    if max_version.is_some() {
        out["version"] = if v0 { json!(0) } else { json!("legacy") };
    }
    Ok(out)
}

/// A message as JSON: account keys (with signer, writable and source when `parsed`), header, blockhash,
/// instructions (program and accounts by address when `parsed`, by index otherwise) and table lookups.
fn encode_message(t: &TxRecord, parsed: bool) -> Value {
    let msg = &t.transaction.message;
    let keys = msg.static_account_keys();
    let header = msg.header();
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
    let key = |i: &u8| t.keys.get(*i as usize).map(|k| k.to_string()).unwrap_or_default();
    let instructions: Vec<Value> = msg
        .instructions()
        .iter()
        .map(|ix| {
            let data = bs58::encode(&ix.data).into_string();
            if parsed {
                json!({"programId": key(&ix.program_id_index), "accounts": ix.accounts.iter().map(key).collect::<Vec<_>>(),
                       "data": data, "stackHeight": null})
            } else {
                json!({"programIdIndex": ix.program_id_index, "accounts": ix.accounts, "data": data, "stackHeight": null})
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
    message
}
