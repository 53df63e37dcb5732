//! Cluster methods: health, version, slots, blockhashes, epochs, and what explorers ask about the cluster
//! (one local node, no stake, no inflation; supply as far as the local chain can account for it).

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_signer::Signer;

use super::{Call, Handler};
use crate::wire::{context, param, RpcError, RpcResult, API_VERSION};

/// Slots per epoch reported (a validator's default).
const SLOTS_PER_EPOCH: u64 = 432_000;

pub fn methods() -> Vec<(&'static str, Handler)> {
    crate::handlers![
        "getHealth" => get_health,
        "getVersion" => get_version,
        "getSlot" => get_slot,
        "getBlockHeight" => get_block_height,
        "getGenesisHash" => get_genesis_hash,
        "getLatestBlockhash" => get_latest_blockhash,
        "getEpochInfo" => get_epoch_info,
        "getEpochSchedule" => get_epoch_schedule,
        "getVoteAccounts" => get_vote_accounts,
        "getClusterNodes" => get_cluster_nodes,
        "getInflationGovernor" => get_inflation_governor,
        "getInflationRate" => get_inflation_rate,
        "getStakeMinimumDelegation" => get_stake_minimum_delegation,
        "minimumLedgerSlot" => first_ledger_slot,
        "getFirstAvailableBlock" => first_ledger_slot,
        "getTransactionCount" => get_transaction_count,
        "getSupply" => get_supply,
        "getRecentPerformanceSamples" => get_recent_performance_samples,
    ]
}

async fn get_health(_: Call<'_>) -> RpcResult {
    Ok(json!("ok"))
}

async fn get_version(_: Call<'_>) -> RpcResult {
    Ok(json!({"solana-core": API_VERSION, "feature-set": 0}))
}

async fn get_slot(c: Call<'_>) -> RpcResult {
    Ok(json!(c.slot))
}

async fn get_block_height(c: Call<'_>) -> RpcResult {
    Ok(json!(c.chain.ctx.banks_client.get_root_block_height().await.unwrap_or(c.slot)))
}

async fn get_genesis_hash(c: Call<'_>) -> RpcResult {
    Ok(json!(c.chain.ctx.banks_client.get_latest_blockhash().await.map(|h| h.to_string()).unwrap_or_default()))
}

async fn get_latest_blockhash(c: Call<'_>) -> RpcResult {
    let (hash, last_valid) = c
        .chain
        .ctx
        .banks_client
        .get_latest_blockhash_with_commitment(Default::default())
        .await
        .map_err(|e| RpcError::internal(e.to_string()))?
        .ok_or_else(|| RpcError::internal("no blockhash"))?;
    Ok(context(c.slot, json!({"blockhash": hash.to_string(), "lastValidBlockHeight": last_valid})))
}

async fn get_epoch_info(c: Call<'_>) -> RpcResult {
    let height = c.chain.ctx.banks_client.get_root_block_height().await.unwrap_or(c.slot);
    let count = c.chain.ledger.as_ref().map(|l| l.transaction_count);
    Ok(json!({"absoluteSlot": c.slot, "blockHeight": height, "epoch": c.slot / SLOTS_PER_EPOCH,
              "slotIndex": c.slot % SLOTS_PER_EPOCH, "slotsInEpoch": SLOTS_PER_EPOCH, "transactionCount": count}))
}

async fn get_epoch_schedule(_: Call<'_>) -> RpcResult {
    Ok(json!({
        "slotsPerEpoch": SLOTS_PER_EPOCH, "leaderScheduleSlotOffset": SLOTS_PER_EPOCH, "warmup": false,
        "firstNormalEpoch": 0, "firstNormalSlot": 0
    }))
}

async fn get_vote_accounts(_: Call<'_>) -> RpcResult {
    Ok(json!({"current": [], "delinquent": []}))
}

async fn get_cluster_nodes(c: Call<'_>) -> RpcResult {
    Ok(json!([{"pubkey": c.chain.payer().pubkey().to_string(), "gossip": null, "tpu": null,
        "rpc": null, "version": API_VERSION, "featureSet": 0, "shredVersion": 0}]))
}

async fn get_inflation_governor(_: Call<'_>) -> RpcResult {
    Ok(json!({"initial": 0.0, "terminal": 0.0, "taper": 0.0, "foundation": 0.0, "foundationTerm": 0.0}))
}

async fn get_inflation_rate(c: Call<'_>) -> RpcResult {
    Ok(json!({"total": 0.0, "validator": 0.0, "foundation": 0.0, "epoch": c.slot / SLOTS_PER_EPOCH}))
}

async fn get_stake_minimum_delegation(c: Call<'_>) -> RpcResult {
    Ok(context(c.slot, json!(1_000_000_000u64)))
}

/// `minimumLedgerSlot` and `getFirstAvailableBlock`: the first slot the ledger holds.
async fn first_ledger_slot(c: Call<'_>) -> RpcResult {
    Ok(json!(c.chain.ledger.as_ref().and_then(|l| l.first_slot()).unwrap_or(0)))
}

async fn get_transaction_count(c: Call<'_>) -> RpcResult {
    Ok(json!(c.chain.ledger.as_ref().map(|l| l.transaction_count).unwrap_or(0)))
}

/// The bank's capitalization is not exposed; the payer's and the known accounts' lamports are the supply
/// this local chain can account for. Nothing is locked, all of it circulates.
async fn get_supply(c: Call<'_>) -> RpcResult {
    let keys: Vec<Pubkey> = c.chain.known.iter().copied().chain([c.chain.payer().pubkey()]).collect();
    let mut total: u64 = 0;
    for k in keys {
        total = total.saturating_add(c.chain.ctx.banks_client.get_balance(k).await.unwrap_or(0));
    }
    Ok(context(
        c.slot,
        json!({"total": total, "circulating": total, "nonCirculating": 0, "nonCirculatingAccounts": []}),
    ))
}

/// One sample per 60 slots (about 24 s), newest first, over the slots the ledger holds.
async fn get_recent_performance_samples(c: Call<'_>) -> RpcResult {
    let limit = param(c.params, 0).and_then(Value::as_u64).unwrap_or(720).min(720) as usize;
    let ledger = c.chain.ledger.as_ref().ok_or_else(|| RpcError::internal("no ledger"))?;
    let mut samples: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for (s, n) in ledger.counts_per_slot() {
        *samples.entry(s / 60).or_default() += n;
    }
    let uptime = c.state.started.elapsed().as_secs().max(1);
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
