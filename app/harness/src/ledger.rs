//! What the embedded chain remembers for its JSON-RPC and websocket servers: the transactions it
//! processed (with logs, balances and fees, for `getTransaction`, `getBlock`, `getSignaturesForAddress`)
//! and a broadcast of chain events (new slots, landed transactions, accounts written directly) that
//! drive the websocket subscriptions. Only `ballast localnet` turns the ledger on; tests and the
//! simulator keep the bank's plain path.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Signature;
use solana_transaction_error::TransactionError;
use tokio::sync::broadcast;

/// How many processed transactions the ledger keeps (the oldest are dropped first).
pub const LEDGER_CAPACITY: usize = 20_000;
/// Events buffered per subscriber before a slow one starts missing them.
const EVENT_BUFFER: usize = 4_096;

/// A transaction the chain processed (landed, successfully or not).
#[derive(Debug)]
pub struct TxRecord {
    pub signature: Signature,
    pub slot: u64,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub compute_units: u64,
    pub fee: u64,
    /// Every account the transaction names: its static keys, then the writable and the read-only
    /// addresses it loaded from lookup tables.
    pub keys: Vec<Pubkey>,
    pub loaded_writable: Vec<Pubkey>,
    pub loaded_readonly: Vec<Pubkey>,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
}

/// Something that happened on the chain.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// The chain moved to `slot`.
    Slot { parent: u64, slot: u64 },
    /// A transaction landed.
    Transaction(Arc<TxRecord>),
    /// Accounts were written without a transaction (oracle updates, test set-up).
    Accounts { slot: u64, keys: Vec<Pubkey> },
}

/// Processed transactions, by order and by signature.
#[derive(Debug, Default)]
pub struct Ledger {
    txs: VecDeque<Arc<TxRecord>>,
    by_signature: HashMap<Signature, Arc<TxRecord>>,
    /// Transactions processed since the chain started (including those dropped from the ledger).
    pub transaction_count: u64,
}

impl Ledger {
    pub fn push(&mut self, record: Arc<TxRecord>) {
        self.transaction_count += 1;
        self.by_signature.insert(record.signature, record.clone());
        self.txs.push_back(record);
        while self.txs.len() > LEDGER_CAPACITY {
            if let Some(old) = self.txs.pop_front() {
                self.by_signature.remove(&old.signature);
            }
        }
    }

    pub fn get(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.by_signature.get(signature).cloned()
    }

    /// Transactions of `slot`, in processing order.
    pub fn in_slot(&self, slot: u64) -> Vec<Arc<TxRecord>> {
        self.txs.iter().filter(|t| t.slot == slot).cloned().collect()
    }

    /// Slots (ascending, without repeats) that hold transactions, within `[from, to]`.
    pub fn slots_between(&self, from: u64, to: u64) -> Vec<u64> {
        let mut out: Vec<u64> = self.txs.iter().map(|t| t.slot).filter(|s| (from..=to).contains(s)).collect();
        out.dedup();
        out
    }

    /// Newest first: transactions naming `address`, before `before` (exclusive) and back to `until`
    /// (exclusive), at most `limit`.
    pub fn for_address(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
    ) -> Vec<Arc<TxRecord>> {
        let mut started = before.is_none();
        let mut out = Vec::new();
        for t in self.txs.iter().rev() {
            if !started {
                started = Some(&t.signature) == before;
                continue;
            }
            if Some(&t.signature) == until || out.len() >= limit {
                break;
            }
            if t.keys.contains(address) {
                out.push(t.clone());
            }
        }
        out
    }

    /// The oldest slot still held.
    pub fn first_slot(&self) -> Option<u64> {
        self.txs.front().map(|t| t.slot)
    }

    /// Per slot, how many transactions it holds (newest slots last).
    pub fn counts_per_slot(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for t in &self.txs {
            match out.last_mut() {
                Some((s, n)) if *s == t.slot => *n += 1,
                _ => out.push((t.slot, 1)),
            }
        }
        out
    }
}

/// The sending side of the chain's event broadcast.
pub fn event_channel() -> broadcast::Sender<ChainEvent> {
    broadcast::channel(EVENT_BUFFER).0
}

/// Lamports a validator charges per signature.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// The compute-unit limit and price (micro-lamports per unit) a transaction sets with ComputeBudget
/// instructions; without a limit, 200 000 units per other instruction up to 1 400 000.
pub fn compute_budget(tx: &VersionedTransaction) -> (u64, u64) {
    let keys = tx.message.static_account_keys();
    let (mut limit, mut price, mut others) = (None, 0u64, 0u64);
    for ix in tx.message.instructions() {
        if keys.get(ix.program_id_index as usize) != Some(&solana_compute_budget_interface::ID) {
            others += 1;
            continue;
        }
        match (ix.data.first(), ix.data.get(1..)) {
            (Some(2), Some(rest)) if rest.len() >= 4 => {
                limit = Some(u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]])));
            }
            (Some(3), Some(rest)) if rest.len() >= 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&rest[..8]);
                price = u64::from_le_bytes(b);
            }
            _ => {}
        }
    }
    (limit.unwrap_or((others * 200_000).min(1_400_000)), price)
}

/// Signature fee plus priority fee (price × limit, rounded up), as a validator charges it.
pub fn fee(tx: &VersionedTransaction) -> u64 {
    let (limit, price) = compute_budget(tx);
    let signatures = u64::from(tx.message.header().num_required_signatures);
    let priority = (u128::from(limit) * u128::from(price)).div_ceil(1_000_000);
    signatures * LAMPORTS_PER_SIGNATURE + u64::try_from(priority).unwrap_or(u64::MAX)
}
