//! The keeper's jobs, each its own module and metrics, run over one runtime (the [`crate::Keeper`]: one
//! endpoint, one fee payer, one sender, one snapshot per vault per iteration):
//! - [`rebalance`]: opens and closes rebalance auctions (`poke`) and sends the trade that removes most drift
//!   along the best route that clears the auction;
//! - [`settle`]: settles single-asset deposit requests once readings at least the deposit delay newer than
//!   the request are published;
//! - [`fees`]: accrues a vault's running fees on fresh readings and mints the fee shares owed to its
//!   recipients, every `--fee-interval-secs` (for the vault's operator: it pays transaction fees and earns
//!   nothing itself).
//!
//! `--jobs rebalance,settle,fees` chooses which run (`rebalance,settle` by default).

pub mod fees;
pub mod rebalance;
pub mod settle;

use std::fmt;
use std::str::FromStr;

/// One job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Rebalance,
    Settle,
    Fees,
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
    pub fn runs(&self, job: Job) -> bool {
        match job {
            Job::Rebalance => self.rebalance,
            Job::Settle => self.settle,
            Job::Fees => self.fees,
        }
    }
}

impl FromStr for Jobs {
    type Err = String;
    /// A comma-separated list of `rebalance`, `settle` and `fees`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut jobs = Jobs { rebalance: false, settle: false, fees: false };
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "rebalance" => jobs.rebalance = true,
                "settle" => jobs.settle = true,
                "fees" => jobs.fees = true,
                other => return Err(format!("unknown job {other:?}: use rebalance, settle, fees")),
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
        let names: Vec<&str> = [(self.rebalance, "rebalance"), (self.settle, "settle"), (self.fees, "fees")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
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
}
