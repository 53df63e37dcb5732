//! The fee job: for a vault with running fees, sends `accrue_fees` once the performance fee was last
//! crystallised at least `--fee-interval-secs` ago: the management and performance fees are accrued on fresh
//! readings and every fee share owed is minted into the recipients' share accounts. Whoever runs it pays the
//! transaction fee and earns nothing from the program: it is the operator's (or the host platform's) job.

use std::sync::atomic::Ordering;

use anchor_lang::prelude::Pubkey;
use ballast_client::planner::Snapshot;

use crate::send::{Draft, Sent};
use crate::Keeper;

/// Compute units an accrual is given.
const ACCRUE_UNITS: u32 = 300_000;

/// What the fee job did with one vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeOutcome {
    /// The vault has no running fee, or its fees were crystallised recently.
    NotDue,
    Accrued,
    Refused(crate::Refusal),
    Unknown,
}

/// Whether the vault's running fees are due for an accrual at `snap.now`.
pub fn due(snap: &Snapshot, interval_secs: u64) -> bool {
    let fees = snap.vault.params.fees;
    let running = fees.management_bps > 0 || fees.performance_bps > 0;
    let since = snap.now.saturating_sub(snap.vault.fees.last_priced_accrual);
    running && since >= interval_secs as i64
}

/// Accrues and distributes the vault's fees when due.
pub async fn run(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> FeeOutcome {
    k.metrics.fees.pending.lock().await.insert(key.to_string(), snap.vault.fees.pending_shares);
    if !due(snap, k.opts.fee_interval.as_secs()) {
        return FeeOutcome::NotDue;
    }
    let ix = [ballast_client::accrue_fees(key, &snap.vault)];
    match k.sender().send_once(&Draft::plain(&ix, ACCRUE_UNITS)).await {
        Ok(Sent::Landed(sig)) => {
            k.metrics.fees.accruals.fetch_add(1, Ordering::Relaxed);
            tracing::info!(vault = %key, %sig, "fees accrued and distributed");
            FeeOutcome::Accrued
        }
        Ok(Sent::Refused(refusal)) => {
            crate::Metrics::bump(&k.metrics.fees.refusals, &refusal.name()).await;
            tracing::warn!(vault = %key, "fee accrual refused: {refusal}");
            FeeOutcome::Refused(refusal)
        }
        Ok(Sent::GaveUp) => FeeOutcome::Unknown,
        Err(e) => {
            k.metrics.error(&e).await;
            tracing::warn!(vault = %key, "fee accrual failed: {e:#}");
            FeeOutcome::Unknown
        }
    }
}
