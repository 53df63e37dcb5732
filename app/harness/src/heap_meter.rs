//! What ballast's instructions allocate on the heap, measured on the embedded chain.
//!
//! On the cluster the program's allocator (`ballast::heap::UpwardBump`) is a bump allocator that only gives
//! back (or grows in place) its most recent block. Here the program runs natively; this module's global
//! allocator replays, per ballast invocation on the invoking thread, every allocation, reallocation and free
//! the program makes on a model of that allocator and keeps the highest address it reached. The model tracks
//! only the latest block, so it never gives back more than the real allocator would (a block freed after the
//! one above it was freed counts as kept): the figure can only overstate. What the embedded runtime allocates
//! while serving the program's calls (cross-program invocations, logs) is left out: on the cluster that is the
//! runtime's memory, not the program's heap. Added to it is what the cluster's entrypoint allocates before the
//! program runs and the native entry does not ([`ENTRYPOINT_BYTES_PER_ACCOUNT`] per account).
//!
//! The figures are an estimate of the on-chain heap, not a reading of it (no SBF build runs here); the tests
//! hold them against the 32 KiB every transaction has and the 256 KiB frame large vaults request.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};

use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::program_error::ProgramError;

/// The cluster entrypoint's allocations per account: the `AccountInfo` (48 bytes) in the vector handed to the
/// program and its lamports and data `Rc<RefCell<…>>` (40 bytes each with their counters), with padding.
pub const ENTRYPOINT_BYTES_PER_ACCOUNT: usize = 48 + 2 * 48;

struct Metered;

/// The model of the program's allocator during one invocation.
#[derive(Clone, Copy)]
struct Model {
    /// Next free offset (the heap's first word is the allocator's cursor).
    pos: usize,
    peak: usize,
    /// The latest block: its real address, model offset and size.
    last: Option<(usize, usize, usize)>,
}

const FRESH: Model = Model { pos: size_of::<usize>(), peak: size_of::<usize>(), last: None };

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static MODEL: Cell<Model> = const { Cell::new(FRESH) };
    static RECORDS: RefCell<Vec<HeapUse>> = const { RefCell::new(Vec::new()) };
}

fn replay(f: impl FnOnce(&mut Model)) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let _ = MODEL.try_with(|m| {
                let mut model = m.get();
                f(&mut model);
                model.peak = model.peak.max(model.pos);
                m.set(model);
            });
        }
    });
}

impl Model {
    fn alloc(&mut self, real: *mut u8, layout: Layout) {
        let mask = layout.align() - 1;
        let begin = (self.pos + mask) & !mask;
        self.pos = begin + layout.size();
        self.last = Some((real as usize, begin, layout.size()));
    }

    /// The model offset of `real` when it is the latest block and still ends at the cursor.
    fn latest(&self, real: *mut u8, size: usize) -> Option<usize> {
        self.last.filter(|(r, begin, s)| *r == real as usize && *s == size && begin + s == self.pos).map(|l| l.1)
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; the meter only replays it on its model.
unsafe impl GlobalAlloc for Metered {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        replay(|m| m.alloc(p, layout));
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        replay(|m| m.alloc(p, layout));
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        replay(|m| {
            if let Some(begin) = m.latest(ptr, layout.size()) {
                m.pos = begin;
                m.last = None;
            }
        });
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let latest = ACTIVE
            .try_with(|a| a.get())
            .unwrap_or(false)
            .then(|| MODEL.with(|m| m.get().latest(ptr, layout.size())))
            .flatten();
        // SAFETY: as above.
        let q = unsafe { System.realloc(ptr, layout, new_size) };
        replay(|m| match latest {
            Some(begin) => {
                m.pos = begin + new_size;
                m.last = Some((q as usize, begin, new_size));
            }
            None => {
                if let Ok(grown) = Layout::from_size_align(new_size, layout.align()) {
                    m.alloc(q, grown);
                }
            }
        });
        q
    }
}

#[global_allocator]
static GLOBAL: Metered = Metered;

/// One ballast invocation's heap: the instruction's discriminator and the bytes it would take on the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapUse {
    pub discriminator: [u8; 8],
    pub accounts: usize,
    pub bytes: usize,
}

/// Runs `f` (a ballast invocation of instruction `data` on the accounts `keys`) metered, and records its use on
/// this thread. A nested invocation is metered on its own. When the transaction's heap is known ([`limited`]: the
/// chain registers it for each transaction it processes or simulates) an invocation that took more fails as it
/// would on a cluster (there: an access violation; here `HEAP_EXCEEDED`, with a log line).
pub fn metered(data: &[u8], keys: &[anchor_lang::prelude::Pubkey], f: impl FnOnce() -> ProgramResult) -> ProgramResult {
    let accounts = keys.len();
    let limit = limit(instruction_key(data, keys));
    let (was_active, was_model) = (ACTIVE.with(|a| a.replace(true)), MODEL.with(|m| m.replace(FRESH)));
    let was_running = RUNNING.with(|r| r.replace(limit));
    let r = f();
    RUNNING.with(|r| r.set(was_running));
    let model = MODEL.with(|m| m.replace(was_model));
    ACTIVE.with(|a| a.set(was_active));
    let mut discriminator = [0u8; 8];
    let n = data.len().min(8);
    discriminator[..n].copy_from_slice(&data[..n]);
    let bytes = model.peak.saturating_add(accounts.saturating_mul(ENTRYPOINT_BYTES_PER_ACCOUNT));
    let record = HeapUse { discriminator, accounts, bytes };
    RECORDS.with(|r| r.borrow_mut().push(record));
    if GLOBAL_ON.load(std::sync::atomic::Ordering::Relaxed) {
        GLOBAL_RECORDS.lock().unwrap_or_else(|e| e.into_inner()).push(record);
    }
    match limit {
        Some(limit) if bytes > limit => {
            let name = instruction_name(&discriminator);
            let line =
                format!("{name} needs {bytes} bytes of heap; the transaction has {limit} (request a heap frame)");
            paused(|| anchor_lang::solana_program::log::sol_log(&line));
            Err(ProgramError::Custom(HEAP_EXCEEDED))
        }
        _ => r,
    }
}

/// The error a ballast invocation fails with on the embedded chain when it took more heap than its transaction
/// has (on a cluster the program faults with an access violation).
pub const HEAP_EXCEEDED: u32 = 0x4845_4150;

/// The heaps of the transactions being processed or simulated, by ballast instruction ([`instruction_key`]): the
/// bank may run an invocation on another thread than the one that sent the transaction (a multi-threaded
/// runtime), and tests run chains side by side in one process, so the limit travels with the instruction itself.
static REGISTERED: std::sync::Mutex<Vec<(u64, usize)>> = std::sync::Mutex::new(Vec::new());

thread_local! {
    /// The limit of the ballast invocation running on this thread (for invocations it makes in turn).
    static RUNNING: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Identifies a ballast instruction by its data and its accounts, in order.
pub fn instruction_key<'k>(data: &[u8], keys: impl IntoIterator<Item = &'k anchor_lang::prelude::Pubkey>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    for k in keys {
        k.hash(&mut h);
    }
    h.finish()
}

/// The heap the invocation of instruction `key` has: its transaction's when registered ([`limited`]), else that
/// of the ballast invocation it runs inside, else unknown (nothing enforced).
fn limit(key: u64) -> Option<usize> {
    let registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(k, _)| *k == key).map(|e| e.1);
    registered.or_else(|| RUNNING.with(|r| r.get()))
}

/// Runs `f` (the processing or simulation of one transaction) with `limit` bytes of heap enforced on its ballast
/// instructions, `keys` ([`instruction_key`]), until `f` ends or is dropped.
pub async fn limited<F: std::future::Future>(keys: Vec<u64>, limit: usize, f: F) -> F::Output {
    struct Registered(Vec<u64>, usize);
    impl Drop for Registered {
        fn drop(&mut self) {
            let mut all = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
            for key in &self.0 {
                if let Some(i) = all.iter().position(|e| *e == (*key, self.1)) {
                    all.swap_remove(i);
                }
            }
        }
    }
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).extend(keys.iter().map(|k| (*k, limit)));
    let _registered = Registered(keys, limit);
    f.await
}

/// The heap a transaction has: the frame its `RequestHeapFrame` instruction asks for, else the default 32 KiB.
pub fn frame_of(tx: &solana_transaction::versioned::VersionedTransaction) -> usize {
    let keys = tx.message.static_account_keys();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| keys.get(usize::from(ix.program_id_index)) == Some(&solana_compute_budget_interface::ID))
        .find_map(|ix| match ix.data.as_slice() {
            [1, a, b, c, d, ..] => Some(u32::from_le_bytes([*a, *b, *c, *d]) as usize),
            _ => None,
        })
        .unwrap_or(ballast::heap::DEFAULT_HEAP_BYTES)
}

static GLOBAL_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static GLOBAL_RECORDS: std::sync::Mutex<Vec<HeapUse>> = std::sync::Mutex::new(Vec::new());

/// Also records every invocation process-wide, whichever thread the bank runs it on (a multi-threaded
/// runtime: the demo), for [`take_all`].
pub fn record_process_wide() {
    GLOBAL_ON.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The invocations recorded process-wide ([`record_process_wide`]) since the last call.
pub fn take_all() -> Vec<HeapUse> {
    std::mem::take(&mut *GLOBAL_RECORDS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Runs `f` with the meter paused (the runtime's own work on the program's behalf).
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let was = ACTIVE.try_with(|a| a.replace(false)).unwrap_or(false);
    let r = f();
    let _ = ACTIVE.try_with(|a| a.set(was));
    r
}

/// The invocations metered on this thread since the last call.
pub fn take() -> Vec<HeapUse> {
    RECORDS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// The name of the ballast instruction a [`HeapUse`] metered.
pub fn instruction_name(discriminator: &[u8; 8]) -> &'static str {
    use anchor_lang::Discriminator;
    let known: [(&'static str, &[u8]); 32] = [
        ("initialize_vault", ballast::instruction::InitializeVault::DISCRIMINATOR),
        ("add_asset", ballast::instruction::AddAsset::DISCRIMINATOR),
        ("activate_vault", ballast::instruction::ActivateVault::DISCRIMINATOR),
        ("propose_params", ballast::instruction::ProposeParams::DISCRIMINATOR),
        ("execute_params", ballast::instruction::ExecuteParams::DISCRIMINATOR),
        ("cancel_params", ballast::instruction::CancelParams::DISCRIMINATOR),
        ("transfer_governance", ballast::instruction::TransferGovernance::DISCRIMINATOR),
        ("accept_governance", ballast::instruction::AcceptGovernance::DISCRIMINATOR),
        ("schedule_weights", ballast::instruction::ScheduleWeights::DISCRIMINATOR),
        ("set_pause", ballast::instruction::SetPause::DISCRIMINATOR),
        ("add_amm", ballast::instruction::AddAmm::DISCRIMINATOR),
        ("remove_amm", ballast::instruction::RemoveAmm::DISCRIMINATOR),
        ("deposit", ballast::instruction::Deposit::DISCRIMINATOR),
        ("request_deposit", ballast::instruction::RequestDeposit::DISCRIMINATOR),
        ("settle_deposit", ballast::instruction::SettleDeposit::DISCRIMINATOR),
        ("cancel_deposit", ballast::instruction::CancelDeposit::DISCRIMINATOR),
        ("request_withdraw", ballast::instruction::RequestWithdraw::DISCRIMINATOR),
        ("settle_withdraw", ballast::instruction::SettleWithdraw::DISCRIMINATOR),
        ("cancel_withdraw", ballast::instruction::CancelWithdraw::DISCRIMINATOR),
        ("assert_min_balance", ballast::instruction::AssertMinBalance::DISCRIMINATOR),
        ("open_claim", ballast::instruction::OpenClaim::DISCRIMINATOR),
        ("redeem_claim", ballast::instruction::RedeemClaim::DISCRIMINATOR),
        ("rebalance", ballast::instruction::Rebalance::DISCRIMINATOR),
        ("rebalance_begin", ballast::instruction::RebalanceBegin::DISCRIMINATOR),
        ("rebalance_end", ballast::instruction::RebalanceEnd::DISCRIMINATOR),
        ("init_valuation_cache", ballast::instruction::InitValuationCache::DISCRIMINATOR),
        ("refresh_valuation", ballast::instruction::RefreshValuation::DISCRIMINATOR),
        ("poke", ballast::instruction::Poke::DISCRIMINATOR),
        ("withdraw", ballast::instruction::Withdraw::DISCRIMINATOR),
        ("withdraw_to_claim", ballast::instruction::WithdrawToClaim::DISCRIMINATOR),
        ("accrue_fees", ballast::instruction::AccrueFees::DISCRIMINATOR),
        ("lower_fees", ballast::instruction::LowerFees::DISCRIMINATOR),
    ];
    known.iter().find(|(_, d)| *d == discriminator.as_slice()).map_or("unknown", |(n, _)| n)
}

/// The largest heap each ballast instruction metered on this thread took since the last call, by name.
pub fn heap_by_instruction() -> std::collections::BTreeMap<&'static str, usize> {
    largest_by_instruction(take())
}

/// The largest heap of each instruction among `uses`, by name.
pub fn largest_by_instruction(uses: Vec<HeapUse>) -> std::collections::BTreeMap<&'static str, usize> {
    let mut by = std::collections::BTreeMap::new();
    for u in uses {
        let e = by.entry(instruction_name(&u.discriminator)).or_insert(0);
        *e = (*e).max(u.bytes);
    }
    by
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 000 bytes taken in one block: over the default 32 KiB, within the frame.
    fn takes_40_kb() -> ProgramResult {
        std::hint::black_box(Vec::<u8>::with_capacity(40_000));
        Ok(())
    }

    /// Two transactions in flight at once (two chains of one process, or one chain's bank running an invocation
    /// on another thread than the sender's): each instruction keeps its own transaction's heap, whichever thread
    /// runs it, and nothing is enforced on one no transaction registered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_instruction_keeps_its_own_transaction_s_heap() {
        let (framed, bare) = (instruction_key(b"framed", &[]), instruction_key(b"bare", &[]));
        limited(vec![framed], 256 * 1024, async {
            limited(vec![bare], ballast::heap::DEFAULT_HEAP_BYTES, async {
                let on_another_thread = tokio::spawn(async { metered(b"bare", &[], takes_40_kb) }).await.unwrap();
                assert_eq!(on_another_thread, Err(ProgramError::Custom(HEAP_EXCEEDED)));
                assert_eq!(metered(b"framed", &[], takes_40_kb), Ok(()));
            })
            .await
        })
        .await;
        assert_eq!(metered(b"bare", &[], takes_40_kb), Ok(()), "no transaction in flight: nothing enforced");
    }
}
