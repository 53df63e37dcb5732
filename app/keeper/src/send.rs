//! Sending: compute budget and priority fee, simulation (never send what does not simulate), send with
//! preflight, confirmation by polling, and the error name of a refusal.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{anyhow, Result};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// The custom program error code of a failed RPC call, if any.
pub fn rpc_custom_code(err: &solana_rpc_client_api::client_error::Error) -> Option<u32> {
    match err.get_transaction_error()? {
        TransactionError::InstructionError(_, solana_transaction::InstructionError::Custom(c)) => Some(c),
        _ => None,
    }
}

/// The landed result of a signature, if it landed: `Some(None)` succeeded, `Some(Some(name))` failed.
/// Transport errors count as "not known to have landed".
pub async fn status(rpc: &RpcClient, signature: &solana_transaction::Signature) -> Option<Option<String>> {
    let statuses = rpc.get_signature_statuses(&[*signature]).await.ok()?.value;
    let status = statuses.into_iter().next().flatten()?;
    Some(status.err.map(|e| error_name(&e)))
}

/// The kind of an RPC client failure, for the fault metrics.
pub fn client_fault_kind(err: &solana_rpc_client_api::client_error::Error) -> &'static str {
    use solana_rpc_client_api::client_error::ErrorKind;
    match err.kind() {
        ErrorKind::Reqwest(e) if e.is_timeout() => "timeout",
        ErrorKind::Reqwest(e) => match e.status().map(|s| s.as_u16()) {
            Some(429) => "http_429",
            Some(s) if s >= 500 => "http_5xx",
            _ => "transport",
        },
        ErrorKind::Io(_) => "transport",
        ErrorKind::TransactionError(TransactionError::BlockhashNotFound) => "blockhash_expired",
        ErrorKind::RpcError(_) if format!("{err}").contains("BlockhashNotFound") => "blockhash_expired",
        _ => "rpc",
    }
}

/// The kind of any keeper error, for the fault metrics.
pub fn fault_kind(err: &anyhow::Error) -> &'static str {
    match err.downcast_ref::<solana_rpc_client_api::client_error::Error>() {
        Some(e) => client_fault_kind(e),
        None if format!("{err:#}").contains("not confirmed") => "confirmation_timeout",
        None => "other",
    }
}

/// A readable name of a transaction error (a program error's name when it is one).
pub fn error_name(err: &TransactionError) -> String {
    match err {
        TransactionError::InstructionError(_, solana_transaction::InstructionError::Custom(c)) => {
            ballast_client::code_name(*c)
        }
        other => format!("{other:?}"),
    }
}

/// The `percentile` of recent prioritization fees on the `writable` accounts, capped at `max`
/// (micro-lamports per compute unit; 0 when the endpoint reports none).
pub async fn priority_price(rpc: &RpcClient, writable: &[Pubkey], percentile: u8, max: u64) -> u64 {
    let fees = match rpc.get_recent_prioritization_fees(writable).await {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!("no prioritization fees: {e}");
            return 0;
        }
    };
    let mut v: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let idx = ((v.len() - 1) * percentile.min(100) as usize) / 100;
    v[idx].min(max)
}

/// Signs `body` behind a compute-unit limit and price against the newest blockhash.
pub async fn transaction(
    rpc: &RpcClient,
    payer: &Keypair,
    body: &[Instruction],
    price: u64,
    limit: u32,
    tables: &[AddressLookupTableAccount],
) -> Result<VersionedTransaction> {
    let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(limit)];
    if price > 0 {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    ixs.extend_from_slice(body);
    let blockhash = rpc.get_latest_blockhash().await?;
    // Legacy without lookup tables; v0 resolving accounts through them otherwise (large routes).
    let message = if tables.is_empty() {
        VersionedMessage::Legacy(solana_message::Message::new_with_blockhash(&ixs, Some(&payer.pubkey()), &blockhash))
    } else {
        VersionedMessage::V0(v0::Message::try_compile(&payer.pubkey(), &ixs, tables, blockhash)?)
    };
    Ok(VersionedTransaction::try_new(message, &[payer])?)
}

/// Units consumed, or the refusal's error name.
pub async fn simulate(
    rpc: &RpcClient,
    payer: &Keypair,
    body: &[Instruction],
    price: u64,
    limit: u32,
    tables: &[AddressLookupTableAccount],
) -> Result<Result<u64, String>> {
    let tx = transaction(rpc, payer, body, price, limit, tables).await?;
    let sim = rpc.simulate_transaction(&tx).await?.value;
    Ok(match sim.err {
        None => Ok(sim.units_consumed.unwrap_or(0)),
        Some(err) => Err(error_name(&TransactionError::from(err))),
    })
}

/// Polls the signature; `None` on success, `Some(error name)` on failure.
pub async fn confirm(rpc: &RpcClient, signature: &solana_transaction::Signature) -> Result<Option<String>> {
    for _ in 0..50 {
        let statuses = rpc.get_signature_statuses(&[*signature]).await?.value;
        if let Some(Some(status)) = statuses.first() {
            return Ok(status.err.clone().map(|e| error_name(&e)));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(anyhow!("transaction {signature} not confirmed"))
}

/// Reads address lookup tables from the endpoint.
pub async fn lookup_tables(rpc: &RpcClient, keys: &[Pubkey]) -> Result<Vec<AddressLookupTableAccount>> {
    use solana_address_lookup_table_interface::state::AddressLookupTable;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let account = rpc.get_account(key).await?;
        let table = AddressLookupTable::deserialize(&account.data).map_err(|e| anyhow!("lookup table {key}: {e}"))?;
        out.push(AddressLookupTableAccount { key: *key, addresses: table.addresses.to_vec() });
    }
    Ok(out)
}
