//! The embedded in-process chain: a solana-program-test bank with ballast and the reference AMM loaded
//! natively, plus the real SPL Token, Token-2022 and Associated Token programs.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use anchor_lang::prelude::Clock;
use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_error::ProgramError;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use anyhow::{anyhow, Result};
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use crate::ledger::{event_channel, ChainEvent, Ledger, TxRecord};
use crate::pyth::{self, PriceSpec};

/// Anchor's generated `entry` ties every argument to one lifetime, while program-test wants a function
/// generic over independent lifetimes. This wrapper bridges the two.
fn ballast_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError> {
    // SAFETY: `AccountInfo<'b>` is invariant in 'b, so the slice cannot be shortened by subtyping. The
    // slice itself lives for its borrow 'a ≤ 'b, and `entry` uses the accounts only during this call,
    // so viewing them as `AccountInfo<'a>` never lets a reference outlive its data.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    let keys: Vec<Pubkey> = accounts.iter().map(|a| *a.key).collect();
    crate::heap_meter::metered(data, &keys, || ballast::entry(program_id, accounts, data))
}

/// The same bridge for the reference AMM (see [`ballast_processor`]). Public so that a test AMM can
/// delegate to the real one.
pub fn amm_processor(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError> {
    // SAFETY: as in `ballast_processor`.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    ballast_amm::entry(program_id, accounts, data)
}

/// Which token program a mint belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProgram {
    Token,
    Token2022,
}

impl TokenProgram {
    pub fn id(self) -> Pubkey {
        match self {
            TokenProgram::Token => spl_token::ID,
            TokenProgram::Token2022 => spl_token_2022::ID,
        }
    }
}

pub use crate::footprint::{transaction_footprint, wire_size, Footprint, MAX_TX_ACCOUNTS, PACKET_DATA_SIZE};

pub use solana_message::AddressLookupTableAccount as LookupTable;

/// A Token-2022 mint extension the test and demo tooling can create.
#[derive(Debug, Clone, Copy)]
pub enum MintExtension {
    TransferFee {
        bps: u16,
        max_fee: u64,
    },
    TransferHook {
        program: Pubkey,
    },
    PermanentDelegate {
        delegate: Pubkey,
    },
    /// `MintCloseAuthority` (None: the extension is present but nobody can close the mint).
    CloseAuthority {
        authority: Option<Pubkey>,
    },
}

impl MintExtension {
    pub(crate) fn kind(self) -> spl_token_2022::extension::ExtensionType {
        use spl_token_2022::extension::ExtensionType;
        match self {
            MintExtension::TransferFee { .. } => ExtensionType::TransferFeeConfig,
            MintExtension::TransferHook { .. } => ExtensionType::TransferHook,
            MintExtension::PermanentDelegate { .. } => ExtensionType::PermanentDelegate,
            MintExtension::CloseAuthority { .. } => ExtensionType::MintCloseAuthority,
        }
    }
}

/// Everything about a mint the test and demo tooling can vary.
#[derive(Debug, Clone)]
pub struct MintSpec {
    pub decimals: u8,
    pub program: TokenProgram,
    pub extensions: Vec<MintExtension>,
    /// Freeze authority (`None`: nobody can freeze accounts of this mint).
    pub freeze_authority: Option<Pubkey>,
}

/// A running embedded chain.
pub struct Chain {
    pub ctx: ProgramTestContext,
    sent: HashSet<Vec<u8>>,
    /// Every address this chain has seen (written directly or named by a processed transaction). The
    /// bank cannot list accounts by owner, so `getProgramAccounts` scans this index.
    pub known: BTreeSet<Pubkey>,
    /// Chain events (slots, landed transactions, direct writes) for the websocket subscriptions.
    pub events: tokio::sync::broadcast::Sender<ChainEvent>,
    /// Processed transactions with their logs; `None` (the default) keeps the bank's plain path.
    pub ledger: Option<Ledger>,
    /// Lookup tables created here: [`Chain::send`] goes through them when a legacy transaction is too large.
    pub tables: Vec<AddressLookupTableAccount>,
    /// Whether [`Chain::advance_time`] moves the slot with the clock (the default: 2.5 slots a second).
    /// The simulator turns it off: its vaults use nothing slot-based (no cooldown, no schedule), and each
    /// warp costs the bank a new working bank (over a millisecond, a quarter of a simulated step). Off,
    /// only the clock's time moves, and a repeated message moves one slot rather than wait for a blockhash.
    pub slots_follow_time: bool,
}

/// Account requests [`Chain::accounts_of`] has in flight at once (the bank client's channel bounds what
/// it keeps in flight; a `getProgramAccounts` scan can name thousands of addresses).
const ACCOUNTS_AT_ONCE: usize = 256;

/// The balance an SPL Token or Token-2022 account holds (0 for a missing or undecodable account).
pub fn token_amount_of(account: Option<&solana_account::Account>) -> u64 {
    account.and_then(|a| ballast_client::decode::token_amount(&a.data).ok()).unwrap_or(0)
}

/// Custom program error code of a failed transaction, if it failed with one.
pub fn custom_error(err: &BanksClientError) -> Option<u32> {
    use solana_transaction::InstructionError;
    match err {
        BanksClientError::TransactionError(TransactionError::InstructionError(_, InstructionError::Custom(c)))
        | BanksClientError::SimulationError {
            err: TransactionError::InstructionError(_, InstructionError::Custom(c)),
            ..
        } => Some(*c),
        _ => None,
    }
}

/// A natively loaded program, for replacing the reference AMM in adversarial tests.
pub trait NativeProgram {
    fn process(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError>;
}

/// The real reference AMM.
pub struct ReferenceAmm;

impl NativeProgram for ReferenceAmm {
    fn process(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError> {
        amm_processor(program_id, accounts, data)
    }
}

pub use ballast_client::code_name;

/// A readable name for a failed transaction: its program error's name, else the error itself.
pub fn error_name(err: &BanksClientError) -> String {
    match custom_error(err) {
        Some(code) => code_name(code),
        None => format!("{err}"),
    }
}

impl Chain {
    /// Starts a fresh chain with ballast and the reference AMM loaded. Quiet unless `RUST_LOG` is set.
    pub async fn start() -> Chain {
        Self::start_with_amm::<ReferenceAmm>().await
    }

    /// Starts a chain with one more native program `P` at `id` (e.g. a program that reaches ballast by CPI).
    pub async fn start_with_program<P: NativeProgram>(name: &'static str, id: Pubkey) -> Chain {
        Self::start_custom::<ReferenceAmm, P>(Some((name, id))).await
    }

    /// Starts a chain whose program at the reference AMM's address is `P` (e.g. a malicious upgrade).
    pub async fn start_with_amm<P: NativeProgram>() -> Chain {
        Self::start_custom::<P, ReferenceAmm>(None).await
    }

    /// `P` at the reference AMM's address, and `Q` at `extra`'s address when given.
    async fn start_custom<P: NativeProgram, Q: NativeProgram>(extra: Option<(&'static str, Pubkey)>) -> Chain {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        let mut pt = ProgramTest::new("ballast", ballast::ID, processor!(ballast_processor));
        pt.add_program("ballast_amm", ballast_amm::ID, processor!(P::process));
        if let Some((name, id)) = extra {
            pt.add_program(name, id, processor!(Q::process));
        }
        pt.prefer_bpf(false);
        // The real DEX programs (SBF, metered) and the accounts they need.
        crate::programs::add_to(&mut pt);
        let ctx = pt.start_with_context().await;
        crate::logs::install_event_stubs();
        Chain {
            ctx,
            sent: HashSet::new(),
            known: BTreeSet::new(),
            events: event_channel(),
            ledger: None,
            tables: Vec::new(),
            slots_follow_time: true,
        }
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// The payer's address (without copying its keypair, which re-derives the public key).
    pub fn payer_key(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// Signs with the payer plus `signers` and processes the transaction. Re-sending an identical
    /// transaction fetches a fresh blockhash first, so it is processed again rather than deduplicated.
    /// Signs and processes `ixs`: a legacy transaction, or a v0 one through the chain's lookup tables when the
    /// legacy form would not fit a packet and tables exist (large vaults: `fixture::create_vault`).
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), BanksClientError> {
        let tx = self.sign(ixs, signers).await;
        if !self.tables.is_empty() {
            let signatures = tx.message.header.num_required_signatures as usize;
            if wire_size(signatures, &tx.message.serialize()) > PACKET_DATA_SIZE {
                // Same blockhash (no wait for a new one: refreshes and their use stay in one slot).
                let payer = &self.ctx.payer;
                let v0 = v0::Message::try_compile(&payer.pubkey(), ixs, &self.tables, tx.message.recent_blockhash)
                    .ok()
                    .and_then(|message| {
                        let mut all: Vec<&Keypair> = vec![payer];
                        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
                        VersionedTransaction::try_new(VersionedMessage::V0(message), &all).ok()
                    });
                if let Some(v0) = v0 {
                    return self.process(v0).await;
                }
            }
        }
        self.process(tx.into()).await
    }

    /// Signs and processes like [`Chain::send`] and returns the compute units the transaction consumed: what
    /// the SBF VM metered (SPL Token, the real DEX programs); natively registered programs (ballast, the
    /// reference AMM) count 1 unit an instruction.
    pub async fn send_metered(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<u64, BanksClientError> {
        let tx = VersionedTransaction::from(self.sign(ixs, signers).await);
        let (keys, heap) = self.heap_scope(&tx).await;
        let processing = self.ctx.banks_client.process_transaction_with_metadata(tx);
        let outcome = crate::heap_meter::limited(keys, heap, processing).await?;
        outcome.result.map_err(BanksClientError::TransactionError)?;
        Ok(outcome.metadata.map(|m| m.compute_units_consumed).unwrap_or(0))
    }

    /// Signs and processes like [`Chain::send`] and returns the transaction's log lines whether it landed or
    /// not (events decode from them with `ballast_client::events::decode`).
    pub async fn send_logged(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> (Result<(), BanksClientError>, Vec<String>) {
        let tx = VersionedTransaction::from(self.sign(ixs, signers).await);
        let (keys, heap) = self.heap_scope(&tx).await;
        let processing = self.ctx.banks_client.process_transaction_with_metadata(tx);
        match crate::heap_meter::limited(keys, heap, processing).await {
            Ok(outcome) => {
                let logs = outcome.metadata.map(|m| crate::logs::normalize(&m.log_messages)).unwrap_or_default();
                (outcome.result.map_err(BanksClientError::TransactionError), logs)
            }
            Err(e) => (Err(e), Vec::new()),
        }
    }

    /// Processes any signed transaction and indexes the addresses it names. With the ledger on, the
    /// transaction is recorded with its logs, fee and balances, and announced to subscribers.
    /// Transactions are executed on the working bank directly (no status polling).
    pub async fn process(&mut self, tx: VersionedTransaction) -> Result<(), BanksClientError> {
        // The heap the transaction has, enforced on ballast's invocations as a cluster would (`heap_meter`).
        let (keys, heap) = self.heap_scope(&tx).await;
        crate::heap_meter::limited(keys, heap, self.process_unmetered(tx)).await
    }

    async fn process_unmetered(&mut self, tx: VersionedTransaction) -> Result<(), BanksClientError> {
        self.known.extend(tx.message.static_account_keys().iter().copied());
        if self.ledger.is_none() {
            // Executed on the working bank at once: the plain `process_transaction` hands the transaction
            // to the bank's batching thread and polls for its status every 200 ms.
            let outcome = self.ctx.banks_client.process_transaction_with_metadata(tx).await?;
            return outcome.result.map_err(BanksClientError::TransactionError);
        }
        let (loaded_writable, loaded_readonly) = self.loaded_addresses(&tx).await;
        let mut keys: Vec<Pubkey> = tx.message.static_account_keys().to_vec();
        keys.extend(loaded_writable.iter().chain(&loaded_readonly).copied());
        self.known.extend(keys.iter().copied());
        let pre_balances = self.balances(&keys).await;
        let fee = crate::ledger::fee(&tx);
        let clock = self.clock().await;
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let outcome = self.ctx.banks_client.process_transaction_with_metadata(tx.clone()).await?;
        let Some(meta) = outcome.metadata else {
            // Refused before execution (e.g. an unknown blockhash): nothing landed.
            return outcome.result.map_err(BanksClientError::TransactionError);
        };
        let post_balances = self.balances(&keys).await;
        let record = Arc::new(TxRecord {
            signature,
            slot: clock.slot,
            block_time: clock.unix_timestamp,
            transaction: tx,
            err: outcome.result.clone().err(),
            logs: crate::logs::normalize(&meta.log_messages),
            compute_units: meta.compute_units_consumed,
            fee,
            keys,
            loaded_writable,
            loaded_readonly,
            pre_balances,
            post_balances,
        });
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.push(record.clone());
        }
        let _ = self.events.send(ChainEvent::Transaction(record));
        outcome.result.map_err(BanksClientError::TransactionError)
    }

    /// Lamports of each of `keys` (0 for a missing account).
    async fn balances(&mut self, keys: &[Pubkey]) -> Vec<u64> {
        self.accounts_of(keys).await.iter().map(|acc| acc.as_ref().map_or(0, |a| a.lamports)).collect()
    }

    /// The addresses a v0 transaction loads from lookup tables (writable, read-only).
    pub(crate) async fn loaded_addresses(&mut self, tx: &VersionedTransaction) -> (Vec<Pubkey>, Vec<Pubkey>) {
        use solana_address_lookup_table_interface::state::AddressLookupTable;
        let (mut writable, mut readonly) = (Vec::new(), Vec::new());
        for lookup in tx.message.address_table_lookups().unwrap_or_default() {
            let Some(acc) = self.account(&lookup.account_key).await else { continue };
            let Ok(table) = AddressLookupTable::deserialize(&acc.data) else { continue };
            let pick = |idx: &[u8]| -> Vec<Pubkey> {
                idx.iter().filter_map(|i| table.addresses.get(*i as usize).copied()).collect()
            };
            writable.extend(pick(&lookup.writable_indexes));
            readonly.extend(pick(&lookup.readonly_indexes));
        }
        (writable, readonly)
    }

    /// Turns on the transaction ledger (see [`Ledger`]).
    pub fn enable_ledger(&mut self) {
        self.ledger.get_or_insert_with(Ledger::default);
    }

    /// Builds and signs a transaction (payer first) against the newest blockhash, moving on to a fresh
    /// one when the same message was already sent with it (so it is processed again, not deduplicated).
    pub async fn sign(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Transaction {
        // Messages carry their blockhash: those sent with older ones can never collide again.
        self.take_latest_blockhash().await;
        loop {
            let payer = &self.ctx.payer;
            let mut all: Vec<&Keypair> = vec![payer];
            all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
            let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, self.ctx.last_blockhash);
            if self.sent.insert(tx.message_data()) {
                return tx;
            }
            if self.slots_follow_time {
                self.refresh_blockhash().await;
            } else {
                self.next_slot_same_time().await;
            }
        }
    }

    /// Every account owned by `program` among the addresses the chain has seen (the bank cannot list
    /// accounts by owner), in address order.
    pub async fn program_accounts(&mut self, program: &Pubkey) -> Vec<(Pubkey, solana_account::Account)> {
        let keys: Vec<Pubkey> = self.known.iter().copied().collect();
        let accounts = self.accounts_of(&keys).await;
        keys.into_iter()
            .zip(accounts)
            .filter_map(|(key, acc)| Some((key, acc?)))
            .filter(|(_, acc)| acc.owner == *program)
            .collect()
    }

    pub async fn account(&mut self, key: &Pubkey) -> Option<solana_account::Account> {
        self.ctx.banks_client.get_account(*key).await.ok().flatten()
    }

    /// Every account of `keys` (None where missing), asked for together: the requests travel to the bank
    /// in batches of [`ACCOUNTS_AT_ONCE`] instead of one round trip each.
    pub async fn accounts_of(&mut self, keys: &[Pubkey]) -> Vec<Option<solana_account::Account>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(ACCOUNTS_AT_ONCE) {
            let client = &self.ctx.banks_client;
            out.extend(
                futures_util::future::join_all(chunk.iter().map(|k| {
                    let client = client.clone();
                    async move { client.get_account(*k).await.ok().flatten() }
                }))
                .await,
            );
        }
        out
    }

    /// Balance of an SPL Token or Token-2022 account (0 if it does not exist).
    pub async fn token_amount(&mut self, key: &Pubkey) -> u64 {
        token_amount_of(self.account(key).await.as_ref())
    }

    /// Balances of SPL Token or Token-2022 accounts (0 for any that does not exist), read at once.
    pub async fn token_amounts(&mut self, keys: &[Pubkey]) -> Vec<u64> {
        self.accounts_of(keys).await.iter().map(|acc| token_amount_of(acc.as_ref())).collect()
    }

    /// Supply of a mint (0 if it does not exist).
    pub async fn mint_supply(&mut self, key: &Pubkey) -> u64 {
        self.account(key).await.and_then(|acc| ballast_client::decode::mint_supply(&acc.data).ok()).unwrap_or(0)
    }

    pub async fn clock(&mut self) -> Clock {
        self.ctx.banks_client.get_sysvar::<Clock>().await.expect("clock")
    }

    /// Moves the cluster clock forward by exactly `secs` seconds, and the slot by about as many slots as
    /// that takes at 400 ms per slot (unless `slots_follow_time` is off: then the slot stays).
    pub async fn advance_time(&mut self, secs: i64) {
        let before = self.clock().await;
        if !self.slots_follow_time {
            let mut clock = before;
            clock.unix_timestamp += secs;
            self.ctx.set_sysvar(&clock);
            return;
        }
        let slots = (secs.max(1) as u64) * 5 / 2;
        self.ctx.warp_to_slot(before.slot + slots).expect("warp");
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp + secs;
        self.ctx.set_sysvar(&clock);
        self.take_latest_blockhash().await;
        let _ = self.events.send(ChainEvent::Slot { parent: before.slot, slot: clock.slot });
    }

    /// Moves to a blockhash different from the last one used (waits for the bank to produce one if
    /// needed: only re-sending an identical message requires that).
    pub async fn refresh_blockhash(&mut self) {
        self.ctx.last_blockhash = self.ctx.get_new_latest_blockhash().await.expect("fresh blockhash");
    }

    /// Takes the bank's newest blockhash without waiting (a warp produces one; the old one would expire
    /// 150 slots later).
    async fn take_latest_blockhash(&mut self) {
        let latest = self.ctx.banks_client.get_latest_blockhash().await.expect("latest blockhash");
        if latest != self.ctx.last_blockhash {
            self.sent.clear();
            self.ctx.last_blockhash = latest;
        }
    }

    /// One slot on ([`Chain::advance_slots`]), the clock's time put back: a new blockhash at once.
    async fn next_slot_same_time(&mut self) {
        let time = self.clock().await.unix_timestamp;
        self.advance_slots(1).await;
        let mut clock = self.clock().await;
        clock.unix_timestamp = time;
        self.ctx.set_sysvar(&clock);
    }

    /// Moves the slot forward by `slots` and the unix time by 400 ms a slot (rounded down to the second).
    pub async fn advance_slots(&mut self, slots: u64) {
        let before = self.clock().await;
        self.ctx.warp_to_slot(before.slot + slots).expect("warp");
        // The warped bank puts the clock on its own estimate of the time; keep the one [`Chain::advance_time`]
        // set, moved by 400 ms a slot (without this a lookup table's creation moved a long-running chain's clock
        // and aged a new vault's oracle prices past their limit).
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp + (slots as i64).saturating_mul(2) / 5;
        self.ctx.set_sysvar(&clock);
        self.take_latest_blockhash().await;
        let _ = self.events.send(ChainEvent::Slot { parent: before.slot, slot: before.slot + slots });
    }

    /// Writes a PriceUpdateV2 account at `address` (owned by the Pyth receiver program).
    pub async fn set_price(&mut self, address: &Pubkey, spec: &PriceSpec) {
        self.set_raw_account(address, pyth::encode(spec), pyth::RECEIVER_PROGRAM_ID).await;
    }

    /// Writes arbitrary account data with a rent-exempt balance.
    pub async fn set_raw_account(&mut self, address: &Pubkey, data: Vec<u8>, owner: Pubkey) {
        let lamports = self.ctx.genesis_config().rent.minimum_balance(data.len());
        let mut account = solana_account::AccountSharedData::new(lamports, data.len(), &owner);
        account.set_data_from_slice(&data);
        self.ctx.set_account(address, &account);
        self.known.insert(*address);
        if self.events.receiver_count() > 0 {
            let slot = self.clock().await.slot;
            let _ = self.events.send(ChainEvent::Accounts { slot, keys: vec![*address] });
        }
    }

    /// Creates an address lookup table holding `addresses` (payer is authority) and waits until it is
    /// usable. Returns the table as a v0 message compiler wants it.
    pub async fn create_lookup_table(&mut self, addresses: &[Pubkey]) -> Result<AddressLookupTableAccount> {
        use solana_address_lookup_table_interface::instruction as alt;
        let payer = self.payer().pubkey();
        let recent_slot = self.clock().await.slot;
        self.advance_slots(1).await;
        let (create, table) = alt::create_lookup_table(payer, payer, recent_slot);
        self.send(&[create], &[]).await.map_err(|e| anyhow!("create lookup table: {e}"))?;
        for chunk in addresses.chunks(24) {
            let ix = alt::extend_lookup_table(table, payer, Some(payer), chunk.to_vec());
            self.send(&[ix], &[]).await.map_err(|e| anyhow!("extend lookup table: {e}"))?;
        }
        self.advance_slots(1).await;
        let table = AddressLookupTableAccount { key: table, addresses: addresses.to_vec() };
        self.known.extend(addresses.iter().copied());
        self.tables.push(table.clone());
        Ok(table)
    }

    /// Signs a v0 transaction that resolves accounts through `tables`.
    pub async fn sign_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<VersionedTransaction> {
        self.refresh_blockhash().await;
        let payer = self.payer();
        let message = v0::Message::try_compile(&payer.pubkey(), ixs, tables, self.ctx.last_blockhash)?;
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        Ok(VersionedTransaction::try_new(VersionedMessage::V0(message), &all)?)
    }

    pub async fn send_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<()> {
        let tx = self.sign_v0(ixs, signers, tables).await?;
        for t in tables {
            self.known.extend(t.addresses.iter().copied());
        }
        self.process(tx).await.map_err(|e| anyhow!("{e}"))
    }

    /// Funds a new keypair with SOL for fees and rent.
    pub async fn funded_keypair(&mut self, lamports: u64) -> Result<Keypair> {
        let kp = Keypair::new();
        let payer = self.payer();
        let ix = anchor_lang::solana_program::system_instruction::transfer(&payer.pubkey(), &kp.pubkey(), lamports);
        self.send(&[ix], &[]).await.map_err(|e| anyhow!("fund: {e}"))?;
        Ok(kp)
    }
}

/// The embedded chain as the shared planner reads it.
impl ballast_client::planner::ChainView for Chain {
    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<solana_account::Account>>> {
        Ok(self.accounts_of(keys).await)
    }

    async fn slot(&mut self) -> Result<u64> {
        Ok(self.clock().await.slot)
    }

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        matching: &[(usize, &[u8])],
    ) -> Result<Vec<(Pubkey, solana_account::Account)>> {
        let all = Chain::program_accounts(self, program).await;
        Ok(all.into_iter().filter(|(_, a)| ballast_client::discover::holds(&a.data, matching)).collect())
    }
}
