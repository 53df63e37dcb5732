//! The settlement job: every open deposit request of a vault that the current oracle readings may settle
//! (published at least the deposit delay after the request, and the request not expired) is settled. The
//! program pays no bounty for it; a keeper settles so that depositors get their shares and the vault its
//! rebalancing trades priced in.

use std::sync::atomic::Ordering;

use anchor_lang::prelude::Pubkey;
use ballast::state::DepositRequest;
use ballast_client::planner::{Planned, Snapshot};
use solana_signer::Signer;

use super::{Action, Job, JobFuture, JobKind, Outcome, Skip};
use crate::errors::Fault;
use crate::metrics::Metrics;
use crate::send::{Draft, Sent};
use crate::Keeper;

/// Compute units a settlement is given.
const SETTLE_UNITS: u32 = 400_000;

/// The settlement job: one outcome per deposit request it tries to settle (none when none is ready).
pub struct Settle;

impl Job for Settle {
    fn kind(&self) -> JobKind {
        JobKind::Settle
    }

    fn run<'a>(&'a self, k: &'a Keeper, key: &'a Pubkey, planned: &'a Planned) -> JobFuture<'a> {
        Box::pin(settle(k, key, &planned.snapshot))
    }
}

/// Whether the readings in `snap` may settle `request` now: the program's own rule
/// (`DepositRequest::settleable`), on the request's stored window, never the vault's current parameters.
pub fn ready(snap: &Snapshot, request: &DepositRequest) -> bool {
    request.settleable(snap.now, &snap.readings).is_ok()
}

/// Settles the vault's ready requests; errors are counted and logged.
async fn settle(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> Vec<Outcome> {
    let found = match ballast_client::discover::deposit_requests(&mut crate::snapshot::RpcView(&k.rpc), key).await {
        Ok(f) => f,
        Err(e) => {
            tracing::debug!(vault = %key, "cannot list deposit requests: {e:#}");
            return vec![];
        }
    };
    let mut out = Vec::new();
    for (address, request) in found.into_iter().filter(|(_, r)| ready(snap, r)) {
        let ix = [ballast_client::settle_deposit(&k.payer.pubkey(), key, &snap.vault, &request)];
        let outcome = match k.sender().send_once(&Draft::plain(&ix, SETTLE_UNITS)).await {
            Ok(Sent::Landed(signature)) => {
                k.metrics.settle.settled.fetch_add(1, Ordering::Relaxed);
                tracing::info!(vault = %key, request = %address, depositor = %request.depositor, "deposit settled");
                Outcome::Done { action: Action::Settle { request: address }, signature }
            }
            Ok(Sent::Rejected(rejection)) => {
                Metrics::bump(&k.metrics.settle.rejections, &rejection.name()).await;
                tracing::debug!(vault = %key, request = %address, "settlement rejected: {rejection}");
                Outcome::Rejected(rejection)
            }
            // Not known to have landed: the next iteration finds it settled or settles it.
            Ok(Sent::GaveUp) => Outcome::Skipped(Skip::SendGaveUp),
            Err(e) => {
                k.metrics.error(&e).await;
                tracing::warn!(vault = %key, request = %address, "settlement failed: {e:#}");
                Outcome::Failed(Fault::of(&e))
            }
        };
        out.push(outcome);
    }
    out
}
