//! The keeper's jobs, each its own module and metrics, run over one runtime (the [`crate::Keeper`]: one
//! endpoint, one fee payer, one sender, one snapshot per vault per iteration), each a [`Job`]:
//! - [`rebalance`]: opens and closes rebalance auctions (`poke`) and sends the trade that removes most drift
//!   along the best route that clears the auction;
//! - [`settle`]: settles single-asset deposit and withdrawal requests once readings at least the settlement
//!   delay newer than the request are published (the program's own readiness rule for each), and defers a
//!   settlement the chain refused for a lasting reason (a payout the vault cannot make now);
//! - [`fees`]: accrues a vault's running fees on fresh readings and mints the fee shares owed to its
//!   recipients, every `--fee-interval-secs` (for the vault's operator: it pays transaction fees and earns
//!   nothing itself).
//!
//! Every job says what it did as [`Outcome`]s; the keeper wraps them in [`Report`]s (job, vault, outcome),
//! counts each (`ballast_keeper_reports_total{job,result}`) and returns them all from an iteration.
//!
//! `--jobs rebalance,settle,fees` chooses which run (`rebalance,settle` by default).

pub mod fees;
pub mod large;
pub mod rebalance;
pub mod settle;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use ballast_client::planner::{self, Planned};
use solana_transaction::Signature;

use crate::errors::{Fault, Rejection};
use crate::worth::Worth;
use crate::Keeper;

/// A job's name: what `--jobs` lists and the `job` label of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    Rebalance,
    Settle,
    Fees,
}

impl JobKind {
    /// Every job, in the order `--jobs` lists them.
    pub const ALL: [JobKind; 3] = [JobKind::Rebalance, JobKind::Settle, JobKind::Fees];

    /// The name on the command line and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Rebalance => "rebalance",
            JobKind::Settle => "settle",
            JobKind::Fees => "fees",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a job's `run` returns: a boxed future, so that the keeper can hold its jobs as `&dyn Job`.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Vec<Outcome>> + Send + 'a>>;

/// One of the keeper's jobs: it acts on one vault's plan and says what it did.
pub trait Job: Sync {
    /// Its name.
    fn kind(&self) -> JobKind;

    /// Whether the job runs under `--dry-run` (logging what it would send and sending nothing); jobs without
    /// a dry run are left out.
    fn dry_runs(&self) -> bool {
        false
    }

    /// Acts on vault `key` planned as `planned`: one outcome per action taken or declined (none when there is
    /// nothing to act on). Errors are outcomes too ([`Outcome::Failed`]), counted and logged by the job.
    fn run<'a>(&'a self, k: &'a Keeper, key: &'a Pubkey, planned: &'a Planned) -> JobFuture<'a>;
}

/// Every job, in the order they run on a vault: settlements first (a deposit or a withdrawal changes what the
/// vault holds only once settled, and the program re-opens the auction if it adds trades), then fees, then the
/// rebalance.
pub const JOBS: [&dyn Job; 3] = [&settle::Settle, &fees::Fees, &rebalance::Rebalance];

/// What one job did for one vault in one iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub job: JobKind,
    pub vault: Pubkey,
    pub outcome: Outcome,
}

impl Report {
    /// Whether this reports a rebalance trade that landed.
    pub fn traded(&self) -> bool {
        matches!(self.outcome, Outcome::Done { action: Action::Trade { .. }, .. })
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The job's transaction landed and did this.
    Done { action: Action, signature: Signature },
    /// A dry run: what the job would have sent (nothing was).
    DryRun(Action),
    /// Nothing to do.
    Held(Idle),
    /// The rebalance auction has not yet fallen to what the keeper's routes pay; they clear at unix time
    /// `until`.
    Waited { until: i64 },
    /// Not attempted, or not known to have landed.
    Skipped(Skip),
    /// The chain rejected the job's transaction.
    Rejected(Rejection),
    /// An endpoint fault of this kind: the vault could not be read or planned, or a send failed.
    Failed(Fault),
}

impl Outcome {
    /// The metrics label (`result`).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::DryRun(_) => "dry_run",
            Outcome::Held(_) => "held",
            Outcome::Waited { .. } => "waited",
            Outcome::Skipped(_) => "skipped",
            Outcome::Rejected(_) => "rejected",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// What a job's transaction does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A `poke` opening or closing the rebalance auction.
    Poke(planner::PokeReason),
    /// A rebalance trade along `route` (`direct`, `flash`, `jupiter`, `orca`) at `venue`.
    Trade { sell: usize, buy: usize, amount_in: u64, route: String, venue: String, lookup_tables: bool },
    /// A single-asset deposit request settled: the depositor's shares minted.
    Settle { request: Pubkey },
    /// A single-asset withdrawal request settled: the escrowed shares burned and the asset paid out.
    SettleWithdrawal { request: Pubkey },
    /// The vault's fees accrued and their shares minted to the recipients.
    AccrueFees,
}

/// Why a job had nothing to do for a vault.
#[derive(Debug, Clone, PartialEq)]
pub enum Idle {
    /// The planner holds (inside the bands, no route, cooldown).
    Plan(planner::Hold),
    /// The vault's fees are not due: no running fee, or crystallised within `--fee-interval-secs`.
    FeesNotDue,
    /// The fees are due but the readings would not crystallise them (one stale, too uncertain or away from its
    /// EMA): an accrual would land unpriced, or, from a large vault's cache, be refused after its refreshes.
    FeesNotPriced,
}

/// Why a transaction was not attempted, or is not known to have landed.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// The bounty does not pay the fees plus the minimum profit.
    NotWorthIt(Worth),
    /// No provider built a route that clears the program's floor.
    NoRoute,
    /// Every send attempt failed and the transaction is not known to have landed (the next iteration's
    /// snapshot shows whether it did).
    SendGaveUp,
    /// A settlement the chain refused for a lasting reason (e.g. `WithdrawalTooLarge`) is not sent again
    /// before the vault's reserves change or cluster unix time `until`.
    Deferred { until: i64 },
}

impl Skip {
    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            Skip::NotWorthIt(_) => "not_worth_it",
            Skip::NoRoute => "no_route",
            Skip::SendGaveUp => "send_gave_up",
            Skip::Deferred { .. } => "deferred",
        }
    }
}

/// Which jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs {
    pub rebalance: bool,
    pub settle: bool,
    pub fees: bool,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs { rebalance: true, settle: true, fees: false }
    }
}

impl Jobs {
    pub fn runs(&self, job: JobKind) -> bool {
        match job {
            JobKind::Rebalance => self.rebalance,
            JobKind::Settle => self.settle,
            JobKind::Fees => self.fees,
        }
    }

    fn enable(&mut self, job: JobKind) {
        match job {
            JobKind::Rebalance => self.rebalance = true,
            JobKind::Settle => self.settle = true,
            JobKind::Fees => self.fees = true,
        }
    }
}

impl FromStr for Jobs {
    type Err = String;
    /// A comma-separated list of `rebalance`, `settle` and `fees`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut jobs = Jobs { rebalance: false, settle: false, fees: false };
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match JobKind::ALL.into_iter().find(|k| k.name() == name) {
                Some(kind) => jobs.enable(kind),
                None => return Err(format!("unknown job {name:?}: use rebalance, settle, fees")),
            }
        }
        if !jobs.rebalance && !jobs.settle && !jobs.fees {
            return Err("no job given: use rebalance, settle, fees (comma-separated)".into());
        }
        Ok(jobs)
    }
}

impl fmt::Display for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = JobKind::ALL.into_iter().filter(|k| self.runs(*k)).map(JobKind::name).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_parse_from_the_command_line_list() {
        assert_eq!("rebalance,settle".parse::<Jobs>(), Ok(Jobs::default()));
        assert_eq!("settle".parse::<Jobs>(), Ok(Jobs { rebalance: false, settle: true, fees: false }));
        assert_eq!(" rebalance ".parse::<Jobs>(), Ok(Jobs { rebalance: true, settle: false, fees: false }));
        assert_eq!("fees,settle".parse::<Jobs>(), Ok(Jobs { rebalance: false, settle: true, fees: true }));
        assert!("rebalance,poke".parse::<Jobs>().unwrap_err().contains("unknown job \"poke\""));
        assert!("".parse::<Jobs>().is_err());
        assert_eq!(Jobs::default().to_string(), "rebalance,settle");
    }

    #[test]
    fn every_job_runs_once_in_order_under_its_name() {
        let kinds: Vec<JobKind> = JOBS.iter().map(|j| j.kind()).collect();
        assert_eq!(kinds, [JobKind::Settle, JobKind::Fees, JobKind::Rebalance]);
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        assert_eq!(names.join(","), "settle,fees,rebalance");
        assert_eq!("settle,fees,rebalance".parse::<Jobs>().map(|j| j.to_string()), Ok("rebalance,settle,fees".into()));
        let dry: Vec<JobKind> = JOBS.iter().filter(|j| j.dry_runs()).map(|j| j.kind()).collect();
        assert_eq!(dry, [JobKind::Rebalance], "only the rebalance job has a dry run");
    }
}
