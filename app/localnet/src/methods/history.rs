//! What explorers ask about the past: transactions, signatures of an address, blocks and their times,
//! read from the chain's transaction ledger. Slots without transactions (the chain warps over them) are
//! reported as skipped.

use serde_json::{json, Value};

use super::{Call, Handler};
use crate::wire::encode::{encode_transaction, slot_hash};
use crate::wire::{code, config, param, pubkey_param, signature_param, tx_error_json};
use crate::wire::{RpcError, RpcResult};
use ballast_harness::chain::Chain;
use ballast_harness::ledger::Ledger;

pub fn methods() -> Vec<(&'static str, Handler)> {
    crate::handlers![
        "getTransaction" => get_transaction,
        "getSignaturesForAddress" => get_signatures_for_address,
        "getBlock" => get_block,
        "getBlocks" => get_blocks,
        "getBlocksWithLimit" => get_blocks,
        "getBlockTime" => get_block_time,
    ]
}

/// The transaction ledger (`RpcState::new` turns it on).
fn ledger(chain: &Chain) -> Result<&Ledger, RpcError> {
    chain.ledger.as_ref().ok_or_else(|| RpcError::internal("no ledger"))
}

/// Parameter 0 as a slot the chain has reached (error -32004 for a future one).
fn past_slot(params: &Value, current: u64) -> Result<u64, RpcError> {
    let wanted = param(params, 0).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing slot"))?;
    if wanted > current {
        return Err(RpcError::new(code::BLOCK_NOT_AVAILABLE, format!("Block not available for slot {wanted}")));
    }
    Ok(wanted)
}

async fn get_transaction(c: Call<'_>) -> RpcResult {
    let sig = signature_param(c.params, 0)?;
    let cfg = config(c.params, 1);
    // Older clients pass the encoding as a bare string.
    let encoding = cfg.as_str().or_else(|| cfg.get("encoding").and_then(Value::as_str)).unwrap_or("json");
    let max_version = cfg.get("maxSupportedTransactionVersion").and_then(Value::as_u64);
    match c.chain.ledger.as_ref().and_then(|l| l.get(&sig)) {
        None => Ok(Value::Null),
        Some(t) => {
            let mut out = encode_transaction(&t, encoding, max_version)?;
            out["slot"] = json!(t.slot);
            out["blockTime"] = json!(t.block_time);
            Ok(out)
        }
    }
}

async fn get_signatures_for_address(c: Call<'_>) -> RpcResult {
    let address = pubkey_param(c.params, 0)?;
    let cfg = config(c.params, 1);
    let sig_of = |k: &str| {
        cfg.get(k).and_then(Value::as_str).map(|s| {
            s.parse::<solana_transaction::Signature>().map_err(|_| RpcError::invalid_params(format!("invalid {k}")))
        })
    };
    let before = sig_of("before").transpose()?;
    let until = sig_of("until").transpose()?;
    let limit = cfg.get("limit").and_then(Value::as_u64).unwrap_or(1000);
    if limit == 0 || limit > 1000 {
        return Err(RpcError::invalid_params("Invalid limit; max 1000"));
    }
    let out: Vec<Value> = ledger(&c.chain)?
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

/// `getBlocks` (start, end) and `getBlocksWithLimit` (start, limit): the slots that hold transactions.
async fn get_blocks(c: Call<'_>) -> RpcResult {
    let from =
        param(c.params, 0).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing start slot"))?;
    let to = if c.method == "getBlocks" {
        param(c.params, 1).and_then(Value::as_u64).unwrap_or(c.slot).min(c.slot)
    } else {
        let limit =
            param(c.params, 1).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing limit"))?;
        from.saturating_add(limit.saturating_sub(1)).min(c.slot)
    };
    if to.saturating_sub(from) > 500_000 {
        return Err(RpcError::invalid_params("Slot range too large; max 500000"));
    }
    Ok(json!(ledger(&c.chain)?.slots_between(from, to)))
}

async fn get_block_time(mut c: Call<'_>) -> RpcResult {
    let wanted = past_slot(c.params, c.slot)?;
    if let Some(t) = ledger(&c.chain)?.in_slot(wanted).first() {
        return Ok(json!(t.block_time));
    }
    // A slot without transactions: the current clock minus its distance at 400 ms a slot.
    let clock = c.chain.clock().await;
    Ok(json!(clock.unix_timestamp - ((c.slot - wanted) as i64 * 2 / 5)))
}

async fn get_block(c: Call<'_>) -> RpcResult {
    let wanted = past_slot(c.params, c.slot)?;
    let cfg = config(c.params, 1);
    let txs = ledger(&c.chain)?.in_slot(wanted);
    if txs.is_empty() {
        // The chain warps over slots without transactions: to clients they are skipped slots.
        return Err(RpcError::new(
            code::SLOT_SKIPPED,
            format!("Slot {wanted} was skipped, or missing due to ledger jump to recent snapshot"),
        ));
    }
    let encoding = cfg.get("encoding").and_then(Value::as_str).unwrap_or("json");
    let max_version = cfg.get("maxSupportedTransactionVersion").and_then(Value::as_u64);
    let mut block = json!({
        "blockhash": slot_hash(wanted), "previousBlockhash": slot_hash(wanted.saturating_sub(1)),
        "parentSlot": wanted.saturating_sub(1), "blockTime": txs[0].block_time, "blockHeight": wanted,
    });
    match cfg.get("transactionDetails").and_then(Value::as_str).unwrap_or("full") {
        "none" => {}
        "signatures" => block["signatures"] = json!(txs.iter().map(|t| t.signature.to_string()).collect::<Vec<_>>()),
        _ => {
            let encoded: Result<Vec<Value>, RpcError> =
                txs.iter().map(|t| encode_transaction(t, encoding, max_version)).collect();
            block["transactions"] = Value::Array(encoded?);
        }
    }
    if cfg.get("rewards").and_then(Value::as_bool).unwrap_or(true) {
        block["rewards"] = json!([]);
    }
    Ok(block)
}
