//! Transaction methods: simulate, send (with preflight), statuses, prioritization fees, airdrops, fees.

use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

use super::{Call, Handler};
use crate::wire::encode::decode_tx;
use crate::wire::{code, config, context, param, pubkey_param, tx_error_json};
use crate::wire::{FeeRecord, RpcError, RpcResult, FEE_HISTORY};
use ballast_harness::chain::Chain;

pub fn methods() -> Vec<(&'static str, Handler)> {
    crate::handlers![
        "simulateTransaction" => simulate_transaction,
        "sendTransaction" => send_transaction,
        "getSignatureStatuses" => get_signature_statuses,
        "getRecentPrioritizationFees" => get_recent_prioritization_fees,
        "requestAirdrop" => request_airdrop,
        "getFeeForMessage" => get_fee_for_message,
    ]
}

/// Simulation result in the `RpcSimulateTransactionResult` shape.
async fn simulate(
    chain: &mut Chain,
    tx: &VersionedTransaction,
) -> Result<(Option<solana_transaction_error::TransactionError>, Value), RpcError> {
    // Simulated with the heap the transaction has, as the cluster's preflight would.
    let (keys, heap) = chain.heap_scope(tx).await;
    let simulating = chain.ctx.banks_client.simulate_transaction(tx.clone());
    let sim = ballast_harness::heap_meter::limited(keys, heap, simulating)
        .await
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let err = sim.result.clone().and_then(|r| r.err());
    let (logs, units) = match &sim.simulation_details {
        Some(d) => (json!(ballast_harness::logs::normalize(&d.logs)), json!(d.units_consumed)),
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

async fn simulate_transaction(mut c: Call<'_>) -> RpcResult {
    let tx = decode_tx(c.params)?;
    let (_, value) = simulate(&mut c.chain, &tx).await?;
    Ok(context(c.slot, value))
}

async fn send_transaction(mut c: Call<'_>) -> RpcResult {
    let tx = decode_tx(c.params)?;
    let cfg = config(c.params, 1);
    let signature = tx.signatures.first().copied().unwrap_or_default();
    if !cfg.get("skipPreflight").and_then(Value::as_bool).unwrap_or(false) {
        let (err, value) = simulate(&mut c.chain, &tx).await?;
        if let Some(err) = err {
            let mut e = RpcError::new(
                code::SEND_TRANSACTION_PREFLIGHT_FAILURE,
                format!("Transaction simulation failed: {err}"),
            );
            e.data = Some(value);
            return Err(e);
        }
    }
    let price = ballast_harness::ledger::compute_budget(&tx).1;
    let writable: Vec<Pubkey> = tx
        .message
        .static_account_keys()
        .iter()
        .enumerate()
        .filter(|(i, _)| tx.message.is_maybe_writable(*i, None))
        .map(|(_, k)| *k)
        .collect();
    // The outcome is recorded by the bank and reported by getSignatureStatuses.
    if c.chain.process(tx).await.is_ok() {
        let mut fees = c.state.fees.lock().await;
        fees.push(FeeRecord { slot: c.slot, micro_lamports: price, writable });
        let excess = fees.len().saturating_sub(FEE_HISTORY);
        fees.drain(..excess);
    }
    Ok(json!(signature.to_string()))
}

async fn get_signature_statuses(c: Call<'_>) -> RpcResult {
    let sigs =
        param(c.params, 0).and_then(Value::as_array).ok_or_else(|| RpcError::invalid_params("missing signatures"))?;
    let mut parsed = Vec::with_capacity(sigs.len());
    for s in sigs {
        let sig = s
            .as_str()
            .and_then(|s| solana_transaction::Signature::from_str(s).ok())
            .ok_or_else(|| RpcError::invalid_params("invalid signature"))?;
        parsed.push(sig);
    }
    let statuses = c
        .chain
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
    Ok(context(c.slot, Value::Array(value)))
}

/// Per slot, the lowest compute-unit price paid by a landed transaction that wrote any of the accounts.
async fn get_recent_prioritization_fees(c: Call<'_>) -> RpcResult {
    let wanted: Vec<Pubkey> = match param(c.params, 0).and_then(Value::as_array) {
        Some(a) => a.iter().filter_map(|v| v.as_str().and_then(|s| Pubkey::from_str(s).ok())).collect(),
        None => vec![],
    };
    let fees = c.state.fees.lock().await;
    let mut per_slot: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for f in fees.iter().filter(|f| wanted.is_empty() || f.writable.iter().any(|w| wanted.contains(w))) {
        let e = per_slot.entry(f.slot).or_insert(u64::MAX);
        *e = (*e).min(f.micro_lamports);
    }
    Ok(Value::Array(per_slot.into_iter().map(|(slot, fee)| json!({"slot": slot, "prioritizationFee": fee})).collect()))
}

async fn request_airdrop(mut c: Call<'_>) -> RpcResult {
    let key = pubkey_param(c.params, 0)?;
    let lamports =
        param(c.params, 1).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing lamports"))?;
    let payer = c.chain.payer();
    let ix = anchor_lang::solana_program::system_instruction::transfer(&payer.pubkey(), &key, lamports);
    let tx = c.chain.sign(&[ix], &[]).await;
    let sig = tx.signatures[0];
    c.chain.process(tx.into()).await.map_err(|e| RpcError::internal(format!("airdrop failed: {e}")))?;
    Ok(json!(sig.to_string()))
}

async fn get_fee_for_message(c: Call<'_>) -> RpcResult {
    Ok(context(c.slot, json!(5_000)))
}
