//! The settlement job: every open single-asset request of a vault that the current oracle readings may settle
//! is settled, deposits first (they add to the reserves a withdrawal pays from), then withdrawals. Whether a
//! request is ready is the program's own rule for its kind, on the request's stored window and never the
//! vault's current parameters ([`ready`]: `DepositRequest::settleable`; [`ready_withdrawal`]:
//! `WithdrawRequest::settleable`): every reading published at or after the request's `settle_from` and at most
//! `SETTLEMENT_MAX_AGE_SECS` old, the request not expired. The program pays no bounty for it; a keeper settles
//! so that depositors get their shares, leavers their payout, and the vault its rebalancing trades priced in.
//!
//! A settlement the chain refuses for a reason the next second does not change (a payout that would leave the
//! asset more than one max-size trade short, `WithdrawalTooLarge`; a minimum not met; exits paused) is counted
//! as a rejection and deferred ([`Deferrals`]): not sent again until the vault's reserves change (a deposit, a
//! rebalance trade, another settlement) or a backoff of cluster time has passed (30 s, doubling up to
//! 10 minutes). The keeper never cancels: an expired request is its owner's to cancel.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::errors::BallastError;
use ballast::events::{DepositSettledEvent, WithdrawSettledEvent};
use ballast::state::{DepositRequest, Vault, WithdrawRequest};
use ballast_client::discover;
use ballast_client::planner::{Planned, Snapshot};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::request::RpcRequest;
use solana_signer::Signer;
use solana_transaction::Signature;

use super::{Action, Job, JobFuture, JobKind, Outcome, Skip};
use crate::errors::{Fault, Rejection};
use crate::metrics::Metrics;
use crate::send::Sent;
use crate::snapshot::RpcView;
use crate::Keeper;

/// Compute units a settlement is given.
const SETTLE_UNITS: u32 = 400_000;
/// Cluster seconds a refused settlement waits before it is sent again (unless the vault's reserves change
/// first); doubles after every refusal, up to [`MAX_RETRY_SECS`].
const FIRST_RETRY_SECS: i64 = 30;
const MAX_RETRY_SECS: i64 = 600;

/// The settlement job: one outcome per request it settles, tries to settle, or defers (none when none is
/// ready).
pub struct Settle;

impl Job for Settle {
    fn kind(&self) -> JobKind {
        JobKind::Settle
    }

    fn run<'a>(&'a self, k: &'a Keeper, key: &'a Pubkey, planned: &'a Planned) -> JobFuture<'a> {
        Box::pin(settle(k, key, &planned.snapshot))
    }
}

/// Whether the readings in `snap` may settle the deposit `request` now: the program's own rule
/// (`DepositRequest::settleable`), on the request's stored window, never the vault's current parameters.
pub fn ready(snap: &Snapshot, request: &DepositRequest) -> bool {
    request.settleable(snap.now, &snap.readings).is_ok()
}

/// Whether the readings in `snap` may settle the withdrawal `request` now: the program's own rule
/// (`WithdrawRequest::settleable`, the same window as a deposit's), on the request's stored window.
pub fn ready_withdrawal(snap: &Snapshot, request: &WithdrawRequest) -> bool {
    request.settleable(snap.now, &snap.readings).is_ok()
}

/// Which kind of request a settlement settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deposit,
    Withdrawal,
}

impl Kind {
    /// The name in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deposit => "deposit",
            Kind::Withdrawal => "withdrawal",
        }
    }
}

/// A request the readings may settle now, and the instruction that settles it.
struct Ready {
    kind: Kind,
    address: Pubkey,
    requested_at: i64,
    /// The depositor, or the withdrawing holder.
    owner: Pubkey,
    asset: u8,
    /// What the request escrows: base units of the asset (a deposit) or shares (a withdrawal).
    escrowed: u64,
    /// The settlement's instructions (a withdrawal's starts by re-creating the owner's token account if it
    /// was closed).
    ixs: Vec<Instruction>,
}

impl Ready {
    /// What settling it does.
    fn action(&self) -> Action {
        match self.kind {
            Kind::Deposit => Action::Settle { request: self.address },
            Kind::Withdrawal => Action::SettleWithdrawal { request: self.address },
        }
    }

    /// The request as [`Deferrals`] know it: an owner's next request reuses the address, not the time.
    fn id(&self) -> RequestId {
        (self.address, self.requested_at)
    }
}

/// A request: its address and the unix time it was made.
type RequestId = (Pubkey, i64);

/// A vault's open requests of both kinds.
struct Requests {
    /// Every open request, ready or not; `None` when a listing failed (nothing is known to be closed).
    open: Option<Vec<RequestId>>,
    /// Those the readings may settle now, deposits first.
    ready: Vec<Ready>,
}

/// Lists the vault's deposit and withdrawal requests; a listing that fails is logged and leaves out its kind.
async fn requests(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> Requests {
    let settler = k.payer.pubkey();
    let mut out = Requests { open: Some(Vec::new()), ready: Vec::new() };
    match discover::deposit_requests(&mut RpcView(&k.rpc), key).await {
        Ok(found) => {
            for (address, r) in found {
                out.open.iter_mut().for_each(|o| o.push((address, r.requested_at)));
                if ready(snap, &r) {
                    let ixs = vec![ballast_client::settle_deposit(&settler, key, &snap.vault, &r)];
                    let (owner, asset, escrowed) = (r.depositor, r.asset_index, r.amount);
                    let (kind, requested_at) = (Kind::Deposit, r.requested_at);
                    out.ready.push(Ready { kind, address, requested_at, owner, asset, escrowed, ixs });
                }
            }
        }
        Err(e) => out.failed(key, Kind::Deposit, &e),
    }
    match discover::withdraw_requests(&mut RpcView(&k.rpc), key).await {
        Ok(found) => {
            for (address, r) in found {
                out.open.iter_mut().for_each(|o| o.push((address, r.requested_at)));
                if ready_withdrawal(snap, &r) {
                    let ixs = ballast_client::settle_withdraw_ixs(&settler, key, &snap.vault, &r);
                    let (owner, asset, escrowed) = (r.owner, r.asset_index, r.shares);
                    let (kind, requested_at) = (Kind::Withdrawal, r.requested_at);
                    out.ready.push(Ready { kind, address, requested_at, owner, asset, escrowed, ixs });
                }
            }
        }
        Err(e) => out.failed(key, Kind::Withdrawal, &e),
    }
    out
}

impl Requests {
    fn failed(&mut self, vault: &Pubkey, kind: Kind, e: &anyhow::Error) {
        tracing::debug!(%vault, "cannot list {} requests: {e:#}", kind.name());
        self.open = None;
    }
}

/// Settles the vault's ready requests that are not deferred; errors are counted and logged.
async fn settle(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> Vec<Outcome> {
    let Requests { open, ready } = requests(k, key, snap).await;
    if let Some(open) = open {
        k.deferrals.forget_closed(key, &open);
    }
    let mut out = Vec::new();
    // Whether a settlement landed in this pass: a later refusal saw reserves the snapshot does not show.
    let mut landed = false;
    // A large vault's settlement is paid for (its refreshes) before the program may refuse it: its deferrals
    // run out with time only, never lifted early by a change of reserves (anyone can make one for a transfer).
    let large = super::large::is_large(&snap.vault);
    let reserves: &[u64] = if large { &[] } else { &snap.balances };
    for r in ready {
        if let Some(until) = k.deferrals.until(r.id(), snap.now, reserves) {
            tracing::debug!(vault = %key, request = %r.address, until, "{} settlement deferred", r.kind.name());
            out.push(Outcome::Skipped(Skip::Deferred { until }));
            continue;
        }
        let outcome = send(k, key, &snap.vault, &r).await;
        match &outcome {
            Outcome::Done { .. } => {
                landed = true;
                k.deferrals.forget(r.id());
            }
            Outcome::Rejected(rejection) if lasts(rejection) => {
                let seen = (!landed).then(|| reserves.to_vec());
                let until = k.deferrals.defer(*key, r.id(), snap.now, seen);
                tracing::info!(
                    vault = %key, request = %r.address, owner = %r.owner, asset = r.asset, until,
                    "{} settlement rejected: {rejection}; not sent again before the reserves change or unix time \
                     {until}",
                    r.kind.name()
                );
            }
            _ => {}
        }
        out.push(outcome);
    }
    out
}

/// Sends one settlement and says how it ended; counts it.
async fn send(k: &Keeper, key: &Pubkey, vault: &Vault, r: &Ready) -> Outcome {
    match super::large::send_valued(k, key, vault, &r.ixs, SETTLE_UNITS).await {
        Ok(Sent::Landed(signature)) => {
            let settled = match r.kind {
                Kind::Deposit => &k.metrics.settle.settled,
                Kind::Withdrawal => &k.metrics.settle.withdrawals_settled,
            };
            settled.fetch_add(1, Ordering::Relaxed);
            log_settled(&k.rpc, key, r, &signature).await;
            Outcome::Done { action: r.action(), signature }
        }
        Ok(Sent::Rejected(rejection)) => {
            Metrics::bump(&k.metrics.settle.rejections, &rejection.name()).await;
            tracing::debug!(vault = %key, request = %r.address, "{} settlement rejected: {rejection}", r.kind.name());
            Outcome::Rejected(rejection)
        }
        // Not known to have landed: the next iteration finds it settled or settles it.
        Ok(Sent::GaveUp) => Outcome::Skipped(Skip::SendGaveUp),
        Err(e) => {
            k.metrics.error(&e).await;
            tracing::warn!(vault = %key, request = %r.address, "{} settlement failed: {e:#}", r.kind.name());
            Outcome::Failed(Fault::of(&e))
        }
    }
}

/// Whether a refusal outlasts the moment, so that sending the same settlement again at once would be refused
/// again: any ballast error but the window's own (a reading that aged or a clock a second off between the
/// snapshot and the slot), a vault in the middle of a flash rebalance, and a valuation cache that a slot or
/// another transaction overtook between its refresh and the settlement (a large vault's next turn refreshes it).
pub fn lasts(rejection: &Rejection) -> bool {
    let passing = [
        BallastError::DepositRequestTooEarly,
        BallastError::WithdrawRequestTooEarly,
        BallastError::OracleStale,
        BallastError::VaultInFlight,
        BallastError::ValuationStale,
        BallastError::ValuationOutdated,
    ];
    matches!(rejection, Rejection::Ballast(_)) && !passing.into_iter().any(|e| rejection.is(e))
}

/// Logs a landed settlement with its amounts: what the request escrowed, and what the settlement paid (from
/// its event in the transaction's logs, when the endpoint returns them).
async fn log_settled(rpc: &RpcClient, vault: &Pubkey, r: &Ready, signature: &Signature) {
    let logs = transaction_logs(rpc, signature).await.unwrap_or_default();
    let (request, owner, asset, escrowed) = (r.address, r.owner, r.asset, r.escrowed);
    match r.kind {
        Kind::Deposit => match ballast_client::events::decode::<DepositSettledEvent>(&logs).pop() {
            Some(ev) => tracing::info!(
                %vault, %request, depositor = %owner, asset, amount = escrowed, shares_out = ev.shares_out, %signature,
                "deposit settled: {escrowed} base units of asset {asset} for {} shares", ev.shares_out
            ),
            None => tracing::info!(
                %vault, %request, depositor = %owner, asset, amount = escrowed, %signature,
                "deposit settled: {escrowed} base units of asset {asset}"
            ),
        },
        Kind::Withdrawal => match ballast_client::events::decode::<WithdrawSettledEvent>(&logs).pop() {
            Some(ev) => tracing::info!(
                %vault, %request, %owner, asset, shares = escrowed, amount_out = ev.amount_out,
                amount_received = ev.amount_received, %signature,
                "withdrawal settled: {escrowed} shares burned for {} base units of asset {asset}", ev.amount_out
            ),
            None => tracing::info!(
                %vault, %request, %owner, asset, shares = escrowed, %signature,
                "withdrawal settled: {escrowed} shares burned for asset {asset}"
            ),
        },
    }
}

/// The log lines of a landed transaction (`getTransaction`), if the endpoint has them.
async fn transaction_logs(rpc: &RpcClient, signature: &Signature) -> Option<Vec<String>> {
    let config = serde_json::json!({
        "encoding": "json",
        "commitment": "confirmed",
        "maxSupportedTransactionVersion": 0,
    });
    let params = serde_json::json!([signature.to_string(), config]);
    let tx: serde_json::Value = match rpc.send(RpcRequest::GetTransaction, params).await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::debug!(%signature, "no transaction logs: {e}");
            return None;
        }
    };
    let lines = tx.get("meta")?.get("logMessages")?.as_array()?;
    Some(lines.iter().filter_map(|l| l.as_str().map(str::to_string)).collect())
}

/// Settlements the chain refused for a lasting reason ([`lasts`]), each held back until the vault's reserves
/// change or its backoff has passed. One per keeper: requests are keyed by address and request time.
#[derive(Default)]
pub struct Deferrals(Mutex<HashMap<RequestId, Deferral>>);

#[derive(Debug, Clone)]
struct Deferral {
    vault: Pubkey,
    /// The vault's reserves the refusal saw; `None` when another settlement landed before it in the same
    /// pass (the next snapshot's reserves are recorded instead).
    reserves: Option<Vec<u64>>,
    /// Cluster unix time from which it is sent again.
    retry_at: i64,
    backoff: i64,
}

impl Deferrals {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Deferral>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Until when (cluster unix time) the request stays deferred at `now`, the vault holding `reserves`:
    /// `None` when it was never refused, the reserves changed since, or its backoff has passed.
    pub fn until(&self, id: RequestId, now: i64, reserves: &[u64]) -> Option<i64> {
        let mut map = self.lock();
        let d = map.get_mut(&id)?;
        match &d.reserves {
            None => d.reserves = Some(reserves.to_vec()),
            Some(seen) if seen[..] != *reserves => return None,
            Some(_) => {}
        }
        (now < d.retry_at).then_some(d.retry_at)
    }

    /// Defers the request of `vault` refused at `now` on `reserves` (`None` when another settlement of the same
    /// pass landed before: the next snapshot's are recorded); returns until when. Every refusal in a row
    /// doubles the backoff.
    pub fn defer(&self, vault: Pubkey, id: RequestId, now: i64, reserves: Option<Vec<u64>>) -> i64 {
        let mut map = self.lock();
        let backoff = map.get(&id).map_or(FIRST_RETRY_SECS, |d| d.backoff.saturating_mul(2).min(MAX_RETRY_SECS));
        let retry_at = now.saturating_add(backoff);
        map.insert(id, Deferral { vault, reserves, retry_at, backoff });
        retry_at
    }

    /// Forgets a request (settled).
    pub fn forget(&self, id: RequestId) {
        self.lock().remove(&id);
    }

    /// Forgets the requests of `vault` that are no longer `open` (settled or cancelled).
    pub fn forget_closed(&self, vault: &Pubkey, open: &[RequestId]) {
        self.lock().retain(|id, d| d.vault != *vault || open.contains(id));
    }

    /// How many requests are deferred.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_settlement_waits_for_its_backoff_or_a_change_of_reserves() {
        let deferrals = Deferrals::default();
        let (vault, id) = (Pubkey::new_unique(), (Pubkey::new_unique(), 100));
        let seen = [1, 2];
        assert_eq!(deferrals.until(id, 100, &seen), None, "never refused");
        assert_eq!(deferrals.defer(vault, id, 110, Some(seen.to_vec())), 140);
        assert_eq!(deferrals.until(id, 111, &seen), Some(140));
        assert_eq!(deferrals.until(id, 139, &seen), Some(140));
        assert_eq!(deferrals.until(id, 140, &seen), None, "the backoff passed");
        assert_eq!(deferrals.until(id, 115, &[1, 3]), None, "the reserves changed");
        // Refused again: twice as long, up to the cap.
        assert_eq!(deferrals.defer(vault, id, 140, Some(seen.to_vec())), 200);
        for _ in 0..10 {
            deferrals.defer(vault, id, 140, Some(seen.to_vec()));
        }
        assert_eq!(deferrals.until(id, 141, &seen), Some(140 + MAX_RETRY_SECS));
        // The owner's next request, at the same address, is not deferred.
        assert_eq!(deferrals.until((id.0, 150), 141, &seen), None);
        deferrals.forget_closed(&Pubkey::new_unique(), &[]);
        assert_eq!(deferrals.len(), 1, "another vault's closed requests");
        deferrals.forget_closed(&vault, &[id]);
        assert_eq!(deferrals.len(), 1, "still open");
        deferrals.forget_closed(&vault, &[]);
        assert!(deferrals.is_empty(), "settled or cancelled");
    }

    /// Refused after another settlement landed in the same pass: the reserves it saw are the next snapshot's.
    #[test]
    fn a_refusal_after_a_landing_is_held_against_the_next_snapshots_reserves() {
        let deferrals = Deferrals::default();
        let (vault, id) = (Pubkey::new_unique(), (Pubkey::new_unique(), 100));
        deferrals.defer(vault, id, 110, None);
        assert_eq!(deferrals.until(id, 111, &[4, 5]), Some(140), "recorded, still deferred");
        assert_eq!(deferrals.until(id, 112, &[4, 5]), Some(140));
        assert_eq!(deferrals.until(id, 113, &[3, 5]), None, "changed since");
        deferrals.forget(id);
        assert!(deferrals.is_empty());
    }

    #[test]
    fn only_lasting_refusals_defer() {
        let ballast = |e: BallastError| Rejection::Ballast(e.into());
        assert!(lasts(&ballast(BallastError::WithdrawalTooLarge)));
        assert!(lasts(&ballast(BallastError::AmountBelowMinimum)));
        assert!(lasts(&ballast(BallastError::ExitsPaused)));
        assert!(!lasts(&ballast(BallastError::WithdrawRequestTooEarly)));
        assert!(!lasts(&ballast(BallastError::DepositRequestTooEarly)));
        assert!(!lasts(&ballast(BallastError::OracleStale)));
        // A large vault's cache overtaken between its refresh and the settlement: the next turn refreshes it.
        assert!(!lasts(&ballast(BallastError::ValuationStale)));
        assert!(!lasts(&ballast(BallastError::ValuationOutdated)));
        let blockhash = solana_transaction_error::TransactionError::BlockhashNotFound;
        assert!(!lasts(&Rejection::Transaction(blockhash)));
    }

    /// A large vault's deferrals are kept with no reserves (`settle` passes `&[]`): a transfer into a reserve, which
    /// anyone can make for a fee, does not re-arm a refused settlement whose refreshes the keeper pays for.
    #[test]
    fn without_reserves_a_deferral_runs_out_with_time_only() {
        let deferrals = Deferrals::default();
        let (vault, id) = (Pubkey::new_unique(), (Pubkey::new_unique(), 7));
        let until = deferrals.defer(vault, id, 1_000, Some(Vec::new()));
        assert_eq!(deferrals.until(id, 1_001, &[]), Some(until));
        assert_eq!(deferrals.until(id, until, &[]), None, "the backoff passed");
        // With reserves (a small vault), a change lifts it at once.
        deferrals.defer(vault, id, 2_000, Some(vec![1, 2]));
        assert_eq!(deferrals.until(id, 2_001, &[1, 3]), None);
    }
}
