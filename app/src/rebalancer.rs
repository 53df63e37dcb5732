//! Off-chain rebalance decisions with the program's own math: snapshot a vault, ask
//! `math::rebalance::suggest` for the trade, and `math::rebalance::plan` for what the program will do.

use ballast::math::rebalance::{self as planner, AssetLimits, RebalancePlan, Refusal, TradePolicy, TradeRequest};
use ballast::math::{AssetPosition, OracleReading, PriceBounds};
use ballast::state::Vault;

/// Vault state as a keeper sees it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub vault: Vault,
    pub readings: Vec<OracleReading>,
    pub balances: Vec<u64>,
}

/// What a keeper should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every asset is inside its band (or prices are unusable): nothing to do.
    Hold(String),
    Trade {
        request: TradeRequest,
        plan: RebalancePlan,
    },
}

impl Snapshot {
    pub fn bounds(&self) -> Result<Vec<PriceBounds>, String> {
        self.readings
            .iter()
            .enumerate()
            .map(|(i, r)| r.bounds().map_err(|e| format!("price of asset {i}: {e:?}")))
            .collect()
    }

    pub fn positions(&self, bounds: &[PriceBounds]) -> Vec<AssetPosition> {
        self.vault
            .assets
            .iter()
            .zip(&self.balances)
            .zip(bounds)
            .map(|((a, bal), b)| AssetPosition { balance: *bal, decimals: a.decimals, price: b.mid })
            .collect()
    }

    pub fn limits(&self) -> Vec<AssetLimits> {
        self.vault
            .assets
            .iter()
            .map(|a| AssetLimits {
                target_bps: a.params.target_bps,
                band_bps: a.params.band_bps,
                max_trade_bps: a.params.max_trade_bps,
            })
            .collect()
    }

    pub fn policy(&self) -> TradePolicy {
        let p = &self.vault.params;
        TradePolicy {
            slippage_cap_bps: p.slippage_cap_bps,
            bounty_bps: p.bounty_bps,
            bounty_cap_value: p.bounty_cap_value,
        }
    }

    /// The trade that reduces drift most, sized to the program's cap, or why there is none.
    pub fn decide(&self) -> Decision {
        let bounds = match self.bounds() {
            Ok(b) => b,
            Err(e) => return Decision::Hold(e),
        };
        let positions = self.positions(&bounds);
        let limits = self.limits();
        let request = match planner::suggest(&positions, &limits) {
            Ok(Some(r)) => r,
            Ok(None) => return Decision::Hold("every asset inside its band".into()),
            Err(e) => return Decision::Hold(format!("math: {e:?}")),
        };
        match planner::plan(&positions, &bounds, &limits, &self.policy(), &request) {
            Ok(plan) => Decision::Trade { request: TradeRequest { amount_in: plan.amount_in, ..request }, plan },
            Err(Refusal::NotNeeded) => Decision::Hold("inside band".into()),
            Err(r) => Decision::Hold(format!("refused: {r:?}")),
        }
    }
}
