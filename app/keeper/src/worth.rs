//! Cost and benefit of a planned trade: the keeper earns the bounty and pays the base and priority fees.

use ballast_client::planner::Candidate;

use crate::KeeperOptions;

/// Compute units a rebalance is assumed to use when valuing the priority fee.
pub const ASSUMED_UNITS: f64 = 400_000.0;
/// The network's base fee per signature (lamports).
pub const BASE_FEE_LAMPORTS: f64 = 5_000.0;

/// The keeper's view of one trade.
#[derive(Debug, Clone, PartialEq)]
pub struct Worth {
    pub bounty_usd: f64,
    pub fee_usd: f64,
    /// Why to skip it (`None`: send it).
    pub skip: Option<String>,
}

/// Bounty against fees at `price` micro-lamports per compute unit.
pub fn worth_it(candidate: &Candidate, price: u64, opts: &KeeperOptions) -> Worth {
    let fee_usd = (BASE_FEE_LAMPORTS + price as f64 * ASSUMED_UNITS / 1e6) / 1e9 * opts.sol_price_usd;
    let bounty_usd = candidate.bounty_value as f64 / 1e6;
    let skip = (bounty_usd - fee_usd < opts.min_profit_usd).then(|| {
        format!("bounty ${bounty_usd:.4} − fees ${fee_usd:.4} below minimum profit ${:.4}", opts.min_profit_usd)
    });
    Worth { bounty_usd, fee_usd, skip }
}
