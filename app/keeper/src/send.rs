//! The sender every job goes through: compute budget and priority fee, simulation (never send what does not
//! simulate), and sending with retries, resends and confirmation. One signed transaction is resent as it is
//! while its blockhash is valid, so a send whose reply was lost can never become a second trade; a rejection is
//! classified by the program whose instruction failed (the sender knows the instructions it signed:
//! [`Draft::programs`]), an endpoint failure counted as a fault.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{anyhow, Result};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Signature;
use solana_transaction_error::TransactionError;

use crate::errors::{rejection_of, Fault, Rejection, Unconfirmed};
use crate::metrics::Metrics;

/// How long a sent transaction is polled for (50 × 200 ms).
const CONFIRM_POLLS: u32 = 50;
const CONFIRM_POLL: Duration = Duration::from_millis(200);
/// Backoff before the second send attempt; doubles after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// The most compute units a transaction may use.
pub const MAX_UNITS: u32 = 1_400_000;

/// The compute-unit limit of a transaction that simulated with `units`: half again as many (the chain state may
/// differ a little when it lands), at most [`MAX_UNITS`].
pub fn limit_for(units: u64) -> u32 {
    let padded = (u128::from(units) * 3).div_ceil(2).max(1);
    u32::try_from(padded).unwrap_or(MAX_UNITS).min(MAX_UNITS)
}

/// A transaction's instructions and how to price them.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub body: &'a [Instruction],
    /// Micro-lamports per compute unit.
    pub price: u64,
    /// Compute-unit limit.
    pub limit: u32,
    /// Address lookup tables (a v0 transaction when not empty).
    pub tables: &'a [AddressLookupTableAccount],
}

impl<'a> Draft<'a> {
    /// `body` alone, no priority fee, with `limit` compute units.
    pub fn plain(body: &'a [Instruction], limit: u32) -> Draft<'a> {
        Draft { body, price: 0, limit, tables: &[] }
    }

    /// The instructions signed, in order: the compute-unit limit, the price (when not zero), then the body.
    pub fn instructions(&self) -> Vec<Instruction> {
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(self.limit)];
        if self.price > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(self.price));
        }
        ixs.extend_from_slice(self.body);
        ixs
    }

    /// The program each top-level instruction calls, in order: what a transaction error's instruction index
    /// points into ([`Rejection::of`]).
    pub fn programs(&self) -> Vec<Pubkey> {
        self.instructions().iter().map(|ix| ix.program_id).collect()
    }

    /// The message of the signed transaction: legacy without lookup tables; v0 resolving accounts through
    /// them otherwise (large routes). Both keep the instructions' order.
    pub fn message(&self, payer: &Pubkey, blockhash: solana_message::Hash) -> Result<VersionedMessage> {
        let ixs = self.instructions();
        Ok(if self.tables.is_empty() {
            VersionedMessage::Legacy(solana_message::Message::new_with_blockhash(&ixs, Some(payer), &blockhash))
        } else {
            VersionedMessage::V0(v0::Message::try_compile(payer, &ixs, self.tables, blockhash)?)
        })
    }
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Landed and succeeded.
    Landed(Signature),
    /// The chain rejected it (in preflight, or it landed and failed).
    Rejected(Rejection),
    /// Not known to have landed after every attempt.
    GaveUp,
}

/// Sends for one keeper: its endpoint, fee payer and fault counters.
pub struct Sender<'a> {
    pub rpc: &'a RpcClient,
    pub payer: &'a Keypair,
    pub metrics: &'a Metrics,
    /// Send attempts per transaction.
    pub max_attempts: u32,
}

impl Sender<'_> {
    /// Signs `draft` behind its compute-unit limit and price against the newest blockhash.
    pub async fn sign(&self, draft: &Draft<'_>) -> Result<VersionedTransaction> {
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let message = draft.message(&self.payer.pubkey(), blockhash)?;
        Ok(VersionedTransaction::try_new(message, &[self.payer])?)
    }

    /// Units consumed, or the rejection. A blockhash the endpoint does not know (a lagging node) is counted and
    /// signed again, up to `max_attempts` times.
    pub async fn simulate(&self, draft: &Draft<'_>) -> Result<Result<u64, Rejection>> {
        let programs = draft.programs();
        let mut attempt = 1;
        loop {
            let tx = self.sign(draft).await?;
            let sim = self.rpc.simulate_transaction(&tx).await?.value;
            let result = match sim.err {
                None => Ok(sim.units_consumed.unwrap_or(0)),
                Some(err) => Err(Rejection::of(&TransactionError::from(err), &programs)),
            };
            match result {
                Err(r) if r.is_unknown_blockhash() && attempt < self.max_attempts => {
                    self.metrics.fault(Fault::BlockhashExpired).await;
                    attempt += 1;
                }
                other => return Ok(other),
            }
        }
    }

    /// Sends once with preflight and waits for the result (for pokes and settlements: a lost reply is
    /// found by the next iteration's snapshot).
    pub async fn send_once(&self, draft: &Draft<'_>) -> Result<Sent> {
        let (tx, programs) = (self.sign(draft).await?, draft.programs());
        match self.rpc.send_transaction(&tx).await {
            Ok(signature) => self.confirm(&signature, &programs).await,
            Err(e) => match rejection_of(&e, &programs) {
                Some(rejection) => Ok(Sent::Rejected(rejection)),
                None => Err(e.into()),
            },
        }
    }

    /// Sends with retries: the same signed transaction is resent with backoff (re-signed only when its
    /// blockhash expired); before each resend, and after the last, the signature's status is checked, so a
    /// send that landed but whose reply was lost is found and never sent twice.
    pub async fn send(&self, draft: &Draft<'_>) -> Result<Sent> {
        let (mut tx, programs) = (self.sign(draft).await?, draft.programs());
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=self.max_attempts {
            let signature = tx.signatures[0];
            if attempt > 1 {
                if let Some(result) = self.status(&signature, &programs).await {
                    self.metrics.fault(Fault::ConfirmationLost).await;
                    return Ok(result);
                }
            }
            let config = RpcSendTransactionConfig { skip_preflight: false, ..Default::default() };
            match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(signature) => match self.confirm(&signature, &programs).await {
                    Ok(sent) => return Ok(sent),
                    Err(e) => {
                        self.metrics.fault(Fault::of(&e)).await;
                        tracing::warn!(attempt, "confirmation failed: {e:#}; checking again");
                    }
                },
                Err(e) => {
                    let fault = Fault::of_client(&e);
                    match rejection_of(&e, &programs) {
                        // Rejected in preflight; if our own earlier send landed, that is why.
                        Some(rejection) if !rejection.is_unknown_blockhash() => {
                            return Ok(self.status(&signature, &programs).await.unwrap_or(Sent::Rejected(rejection)));
                        }
                        _ => {}
                    }
                    self.metrics.fault(fault).await;
                    tracing::warn!(attempt, kind = fault.label(), "send failed: {e}; retrying");
                    if fault == Fault::BlockhashExpired {
                        tx = self.sign(draft).await?;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        // A last look: the final attempt may have landed.
        Ok(self.status(&tx.signatures[0], &programs).await.unwrap_or(Sent::GaveUp))
    }

    /// The landed result of `signature`, if it landed (transport errors count as "not known to have
    /// landed").
    async fn status(&self, signature: &Signature, programs: &[Pubkey]) -> Option<Sent> {
        let statuses = self.rpc.get_signature_statuses(&[*signature]).await.ok()?.value;
        let status = statuses.into_iter().next().flatten()?;
        Some(landed(*signature, status.err, programs))
    }

    /// Polls `signature` until it lands; [`Unconfirmed`] when it is not seen in time.
    async fn confirm(&self, signature: &Signature, programs: &[Pubkey]) -> Result<Sent> {
        for _ in 0..CONFIRM_POLLS {
            let statuses = self.rpc.get_signature_statuses(&[*signature]).await?.value;
            if let Some(Some(status)) = statuses.first() {
                return Ok(landed(*signature, status.err.clone(), programs));
            }
            tokio::time::sleep(CONFIRM_POLL).await;
        }
        Err(Unconfirmed(*signature).into())
    }
}

fn landed(signature: Signature, err: Option<impl Into<TransactionError>>, programs: &[Pubkey]) -> Sent {
    match err {
        None => Sent::Landed(signature),
        Some(e) => Sent::Rejected(Rejection::of(&e.into(), programs)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The programs a rejection is classified by line up with the signed message's instructions, legacy and
    /// v0 alike.
    #[test]
    fn a_drafts_programs_are_its_messages_instructions_in_order() {
        let payer = Pubkey::new_unique();
        let ix = |program| Instruction::new_with_bytes(program, &[], vec![]);
        let body = [ix(anchor_spl::associated_token::ID), ix(ballast::ID), ix(ballast_amm::ID), ix(ballast::ID)];
        let table = AddressLookupTableAccount { key: Pubkey::new_unique(), addresses: vec![Pubkey::new_unique()] };
        let tables = [table];
        let budget = solana_compute_budget_interface::ID;
        for (price, tables) in [(0, &tables[..0]), (7, &tables[..])] {
            let draft = Draft { body: &body, price, limit: 1_000, tables };
            let programs = draft.programs();
            let mut expected = vec![budget; if price > 0 { 2 } else { 1 }];
            expected.extend(body.iter().map(|ix| ix.program_id));
            assert_eq!(programs, expected);
            let message = draft.message(&payer, solana_message::Hash::default()).unwrap();
            assert_eq!(matches!(message, VersionedMessage::V0(_)), price > 0);
            let keys = message.static_account_keys();
            let called: Vec<Pubkey> =
                message.instructions().iter().map(|ix| keys[usize::from(ix.program_id_index)]).collect();
            assert_eq!(called, programs);
        }
    }
}
