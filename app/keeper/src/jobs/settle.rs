//! The settlement job: every open deposit request of a vault that the current oracle readings may settle
//! (published at least the deposit delay after the request, and the request not expired) is settled. The
//! program pays no bounty for it; a keeper settles so that depositors get their shares and the vault its
//! rebalancing trades priced in.

use std::sync::atomic::Ordering;

use anchor_lang::prelude::Pubkey;
use ballast::state::DepositRequest;
use ballast_client::planner::Snapshot;
use solana_signer::Signer;

use crate::metrics::Metrics;
use crate::send::{Draft, Sent};
use crate::Keeper;

/// Compute units a settlement is given.
const SETTLE_UNITS: u32 = 400_000;

/// What happened to one deposit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Settled {
        request: Pubkey,
    },
    Refused {
        request: Pubkey,
        refusal: crate::Refusal,
    },
    /// Not known to have landed (the next iteration finds it settled or settles it).
    Unknown {
        request: Pubkey,
    },
}

/// Whether the readings in `snap` may settle `request` now: the program's own rule
/// (`DepositRequest::settleable`), on the request's stored window, never the vault's current parameters.
pub fn ready(snap: &Snapshot, request: &DepositRequest) -> bool {
    request.settleable(snap.now, &snap.readings).is_ok()
}

/// Settles the vault's ready requests; errors are counted and logged.
pub async fn run(k: &Keeper, key: &Pubkey, snap: &Snapshot) -> Vec<Settlement> {
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
        let settlement = match k.sender().send_once(&Draft::plain(&ix, SETTLE_UNITS)).await {
            Ok(Sent::Landed(_)) => {
                k.metrics.settle.settled.fetch_add(1, Ordering::Relaxed);
                tracing::info!(vault = %key, request = %address, depositor = %request.depositor, "deposit settled");
                Settlement::Settled { request: address }
            }
            Ok(Sent::Refused(refusal)) => {
                Metrics::bump(&k.metrics.settle.refusals, &refusal.name()).await;
                tracing::debug!(vault = %key, request = %address, "settlement refused: {refusal}");
                Settlement::Refused { request: address, refusal }
            }
            Ok(Sent::GaveUp) => Settlement::Unknown { request: address },
            Err(e) => {
                k.metrics.error(&e).await;
                tracing::warn!(vault = %key, request = %address, "settlement failed: {e:#}");
                Settlement::Unknown { request: address }
            }
        };
        out.push(settlement);
    }
    out
}
