//! The fee job: for a vault with running fees, sends `accrue_fees` once the performance fee was last
//! crystallised at least `--fee-interval-secs` ago: the management and performance fees are accrued on fresh
//! readings and every fee share owed is minted into the recipients' share accounts. Whoever runs it pays the
//! transaction fee and earns nothing from the program: it is the operator's (or the host platform's) job.

use std::sync::atomic::Ordering;

use anchor_lang::prelude::Pubkey;
use ballast_client::planner::{Planned, Snapshot};

use super::{Action, Idle, Job, JobFuture, JobKind, Outcome, Skip};
use crate::errors::Fault;
use crate::metrics::Metrics;
use crate::send::Sent;
use crate::Keeper;

/// Compute units an accrual is given.
const ACCRUE_UNITS: u32 = 300_000;

/// The fee job: one outcome per vault.
pub struct Fees;

impl Job for Fees {
    fn kind(&self) -> JobKind {
        JobKind::Fees
    }

    fn run<'a>(&'a self, k: &'a Keeper, key: &'a Pubkey, planned: &'a Planned) -> JobFuture<'a> {
        Box::pin(async move { vec![accrue(k, key, &planned.snapshot).await] })
    }
}

/// Whether the vault's running fees are due for an accrual at `snap.now`.
pub fn due(snap: &Snapshot, interval_secs: u64) -> bool {
    let fees = snap.vault.params.fees;
    let running = fees.management_bps > 0 || fees.performance_bps > 0;
    let since = snap.now.saturating_sub(snap.vault.fees.last_priced_accrual);
    running && since >= interval_secs as i64
}

/// Seconds a reading ages between the snapshot and the accrual landing, allowed for by [`priced`].
const LANDING_SECS: i64 = 2;

/// Whether `snap`'s readings would let `accrue_fees` crystallise the fees: each valid under the vault's rebalance
/// limits a couple of seconds from now, and each within `max_ema_divergence_bps` of its EMA.
pub fn priced(snap: &Snapshot) -> bool {
    use ballast::math::{oracle_validity, OracleReading, OracleValidity};
    let vault = &snap.vault;
    let limits = vault.params.rebalance_oracle_limits();
    let at = snap.now.saturating_add(LANDING_SECS);
    let valid = snap
        .readings
        .iter()
        .zip(&vault.assets)
        .all(|(r, a)| oracle_validity(r, at, a.last_publish_time, &limits) == OracleValidity::Valid);
    valid && OracleReading::first_divergent(&snap.readings, vault.params.max_ema_divergence_bps).is_none()
}

/// Accrues and distributes the vault's fees when due, on readings that crystallise them; a refused accrual is
/// not sent again before a doubling backoff passes.
async fn accrue(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> Outcome {
    k.metrics.fees.pending.lock().await.insert(key.to_string(), snap.vault.fees.pending_shares);
    if !due(snap, k.opts.fee_interval.as_secs()) {
        return Outcome::Held(Idle::FeesNotDue);
    }
    if !priced(snap) {
        return Outcome::Held(Idle::FeesNotPriced);
    }
    let id = (*key, 0);
    if let Some(until) = k.fee_deferrals.until(id, snap.now, &[]) {
        return Outcome::Skipped(Skip::Deferred { until });
    }
    let ix = [ballast_client::accrue_fees(key, &snap.vault)];
    match super::large::send_valued(k, key, &snap.vault, &ix, ACCRUE_UNITS).await {
        Ok(Sent::Landed(signature)) => {
            k.fee_deferrals.forget(id);
            k.metrics.fees.accruals.fetch_add(1, Ordering::Relaxed);
            tracing::info!(vault = %key, %signature, "fees accrued and distributed");
            Outcome::Done { action: Action::AccrueFees, signature }
        }
        Ok(Sent::Rejected(rejection)) => {
            Metrics::bump(&k.metrics.fees.rejections, &rejection.name()).await;
            let until = k.fee_deferrals.defer(*key, id, snap.now, Some(Vec::new()));
            tracing::warn!(vault = %key, until, "fee accrual rejected: {rejection}; not sent again before unix time {until}");
            Outcome::Rejected(rejection)
        }
        Ok(Sent::GaveUp) => Outcome::Skipped(Skip::SendGaveUp),
        Err(e) => {
            k.metrics.error(&e).await;
            tracing::warn!(vault = %key, "fee accrual failed: {e:#}");
            Outcome::Failed(Fault::of(&e))
        }
    }
}
