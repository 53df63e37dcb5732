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
    /// Share supply (scales a CPPI floor) and the slot the trade would land in.
    pub supply: u64,
    pub slot: u64,
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

    /// Positions at mid prices with the holders' balances (reserve balances minus owed and escrowed
    /// amounts, as the program counts them).
    pub fn positions(&self, bounds: &[PriceBounds]) -> Vec<AssetPosition> {
        self.vault
            .assets
            .iter()
            .zip(&self.balances)
            .zip(bounds)
            .map(|((a, bal), b)| AssetPosition {
                balance: a.available(*bal).unwrap_or(0),
                decimals: a.decimals,
                price: b.mid,
            })
            .collect()
    }

    /// Targets and effective bands the program will use: the vault state is advanced exactly as the
    /// program advances it (readings observed, schedule finished, CPPI floor ratcheted), then asked.
    pub fn limits(&self, positions: &[AssetPosition]) -> Result<Vec<AssetLimits>, String> {
        let mut vault = self.vault.clone();
        let tau = vault.params.vol_tau_secs;
        for (asset, reading) in vault.assets.iter_mut().zip(&self.readings) {
            asset.observe(reading, tau).map_err(|e| format!("{e:?}"))?;
        }
        let values =
            ballast::math::position_values(positions, ballast::math::Rounding::Floor).map_err(|e| format!("{e:?}"))?;
        let nav = ballast::math::total_value(&values).map_err(|e| format!("{e:?}"))?;
        vault.prepare_rebalance(&self.readings, nav, self.supply, self.slot).map_err(|e| format!("{e:?}"))
    }

    pub fn policy(&self) -> TradePolicy {
        self.vault.params.trade_policy()
    }

    /// The trade that reduces drift most, sized to the program's cap, or why there is none.
    pub fn decide(&self) -> Decision {
        let bounds = match self.bounds() {
            Ok(b) => b,
            Err(e) => return Decision::Hold(e),
        };
        let positions = self.positions(&bounds);
        let limits = match self.limits(&positions) {
            Ok(l) => l,
            Err(e) => return Decision::Hold(e),
        };
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
