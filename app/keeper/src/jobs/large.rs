//! Vaults above `DIRECT_MAX_ASSETS` assets: no transaction can name every asset's oracle and reserve, so the
//! keeper values them from the vault's valuation cache. Each action is the clients' plan
//! (`ballast_client::cached_transactions`): refresh batches in their own transactions, the last batch with the
//! action, each with the heap frame. The keeper sends them one after another and the action only after the
//! refreshes landed (its simulation needs them); on a cluster a bundle service lands them in one slot
//! atomically, here a slot that moves on in between fails the action with `ValuationStale` and the next turn
//! tries again. The transactions go through lookup tables of the vault's accounts the keeper creates once per
//! vault (its payer pays their rent and is their authority) and finds again on chain when it restarts.

use std::collections::HashMap;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{anyhow, Context, Result};
use ballast::state::Vault;
use solana_address_lookup_table_interface::instruction as alt;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use tokio::sync::Mutex;

use crate::errors::Rejection;
use crate::send::{Draft, Sent};
use crate::Keeper;

/// Compute units a refresh batch is given, and the last transaction is simulated with.
const REFRESH_UNITS: u32 = crate::send::MAX_UNITS;
const SIMULATION_UNITS: u32 = crate::send::MAX_UNITS;
/// Addresses one `extend_lookup_table` transaction adds.
const EXTEND_CHUNK: usize = 20;
/// How long the keeper waits for a new lookup table to become usable (the slot after its last extension).
const TABLE_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The lookup tables the keeper made, per vault.
#[derive(Default)]
pub struct Tables(Mutex<HashMap<Pubkey, Vec<AddressLookupTableAccount>>>);

/// Whether vault `vault` is valued from its cache by the keeper.
pub fn is_large(vault: &Vault) -> bool {
    vault.assets.len() > ballast::constants::DIRECT_MAX_ASSETS
}

/// Sends `body` (built with every asset's `[oracle, reserve]`) once, the way vault `vault` is valued: as it is up
/// to `DIRECT_MAX_ASSETS` assets, else from its cache ([`send_cached`]). `limit`: the compute units of the
/// (last) transaction. The poke, the settlements and the fee accrual go this way.
pub async fn send_valued(k: &Keeper, key: &Pubkey, vault: &Vault, body: &[Instruction], limit: u32) -> Result<Sent> {
    if is_large(vault) {
        send_cached(k, key, vault, body, 0, limit).await
    } else {
        k.sender().send_once(&Draft::plain(body, limit)).await
    }
}

/// Runs `body` (built with every asset's `[oracle, reserve]`, as for a small vault) from the vault's cache
/// ([`prepare`], then the last transaction sent once). `limit`: the last one's compute-unit limit, raised to what
/// its simulation used with a margin (it carries a refresh batch).
pub async fn send_cached(
    k: &Keeper,
    key: &Pubkey,
    vault: &Vault,
    body: &[Instruction],
    price: u64,
    limit: u32,
) -> Result<Sent> {
    match prepare(k, key, vault, body, price).await? {
        Ok(ready) => {
            let limit = limit.max(crate::send::limit_for(ready.units));
            k.sender().send_once(&Draft { body: &ready.body, price, limit, tables: &ready.tables }).await
        }
        Err(Some(rejection)) => Ok(Sent::Rejected(rejection)),
        Err(None) => Ok(Sent::GaveUp),
    }
}

/// The last transaction of `body`'s cached plan, ready to send: its instructions, the lookup tables and the
/// units it simulated with.
pub struct Ready {
    pub body: Vec<Instruction>,
    pub tables: Vec<AddressLookupTableAccount>,
    pub units: u64,
}

/// Sends the refresh transactions of `body`'s cached plan and simulates the last one on them. `Err(Some)`: a
/// refresh or the simulation was refused; `Err(None)`: a refresh did not land.
pub async fn prepare(
    k: &Keeper,
    key: &Pubkey,
    vault: &Vault,
    body: &[Instruction],
    price: u64,
) -> Result<Result<Ready, Option<Rejection>>> {
    let tables = tables(k, key, vault).await?;
    let txs = ballast_client::cached_transactions(body, key, vault);
    let (last, refreshes) = txs.split_last().ok_or_else(|| anyhow!("no transaction planned"))?;
    for refresh in refreshes {
        match k.sender().send_once(&Draft { body: refresh, price, limit: REFRESH_UNITS, tables: &tables }).await? {
            Sent::Landed(_) => {}
            Sent::Rejected(rejection) => return Ok(Err(Some(rejection))),
            Sent::GaveUp => return Ok(Err(None)),
        }
    }
    let draft = Draft { body: last, price, limit: SIMULATION_UNITS, tables: &tables };
    Ok(match k.sender().simulate(&draft).await? {
        Ok(units) => Ok(Ready { body: last.clone(), tables, units }),
        Err(rejection) => Err(Some(rejection)),
    })
}

/// The keeper's lookup tables of vault `key`'s accounts: those it made before (in this process, or found on chain
/// with its payer as their authority: a restarted keeper pays no second rent), else created on first use.
async fn tables(k: &Keeper, key: &Pubkey, vault: &Vault) -> Result<Vec<AddressLookupTableAccount>> {
    let mut made = k.tables.0.lock().await;
    if let Some(t) = made.get(key) {
        return Ok(t.clone());
    }
    let mut addresses = vec![
        *key,
        ballast_client::valuation_cache_address(key),
        vault.share_mint,
        anchor_spl::token::ID,
        anchor_spl::token_2022::ID,
    ];
    addresses.extend(vault.assets.iter().flat_map(|a| [a.oracle, a.reserve, a.mint]));
    let existing = own_tables(k).await.unwrap_or_else(|e| {
        tracing::debug!("cannot list the keeper's lookup tables: {e:#}");
        Vec::new()
    });
    let mut out = Vec::new();
    for chunk in addresses.chunks(256) {
        match existing.iter().find(|t| t.addresses == chunk) {
            Some(found) => out.push(found.clone()),
            None => out.push(create_table(k, chunk).await.context("lookup table")?),
        }
    }
    made.insert(*key, out.clone());
    Ok(out)
}

/// Where a lookup table's authority is (after the state tag, deactivation slot, last extended slot, its start
/// index and the option's tag).
const TABLE_AUTHORITY_OFFSET: usize = 4 + 8 + 8 + 1 + 1;

/// The active lookup tables on chain whose authority is the keeper's payer.
async fn own_tables(k: &Keeper) -> Result<Vec<AddressLookupTableAccount>> {
    use ballast_client::planner::ChainView;
    use solana_address_lookup_table_interface::state::AddressLookupTable;
    let payer = k.payer.pubkey();
    let matching: [(usize, &[u8]); 1] = [(TABLE_AUTHORITY_OFFSET, payer.as_ref())];
    let program = solana_address_lookup_table_interface::program::ID;
    let found = crate::snapshot::RpcView(&k.rpc).program_accounts(&program, &matching).await?;
    Ok(found
        .into_iter()
        .filter_map(|(key, account)| {
            let table = AddressLookupTable::deserialize(&account.data).ok()?;
            let active = table.meta.deactivation_slot == u64::MAX;
            active.then(|| AddressLookupTableAccount { key, addresses: table.addresses.to_vec() })
        })
        .collect())
}

/// Creates a lookup table holding `addresses` (the keeper's payer its authority) and waits until it is usable.
async fn create_table(k: &Keeper, addresses: &[Pubkey]) -> Result<AddressLookupTableAccount> {
    let payer = k.payer.pubkey();
    let recent = recent_slot(k).await?;
    let (create, table) = alt::create_lookup_table(payer, payer, recent);
    landed(k.sender().send_once(&Draft::plain(&[create], 200_000)).await?, "create")?;
    for chunk in addresses.chunks(EXTEND_CHUNK) {
        let extend = alt::extend_lookup_table(table, payer, Some(payer), chunk.to_vec());
        landed(k.sender().send_once(&Draft::plain(&[extend], 200_000)).await?, "extend")?;
    }
    let extended = k.rpc.get_slot().await?;
    let deadline = tokio::time::Instant::now() + TABLE_READY_TIMEOUT;
    while k.rpc.get_slot().await? <= extended {
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow!("lookup table {table} not usable after {TABLE_READY_TIMEOUT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::info!(%table, addresses = addresses.len(), "lookup table created for a large vault");
    Ok(AddressLookupTableAccount { key: table, addresses: addresses.to_vec() })
}

/// The `SlotHashes` sysvar's address.
const SLOT_HASHES: Pubkey = Pubkey::from_str_const("SysvarS1otHashes111111111111111111111111111");

/// The newest slot in the `SlotHashes` sysvar: one a new lookup table may name.
async fn recent_slot(k: &Keeper) -> Result<u64> {
    let data = k.rpc.get_account_data(&SLOT_HASHES).await?;
    // A u64 count, then (slot u64, hash 32 bytes) entries, newest first.
    let slot = data.get(8..16).ok_or_else(|| anyhow!("empty SlotHashes"))?;
    Ok(u64::from_le_bytes(slot.try_into()?))
}

fn landed(sent: Sent, what: &str) -> Result<()> {
    match sent {
        Sent::Landed(_) => Ok(()),
        other => Err(anyhow!("{what} lookup table: {other:?}")),
    }
}
