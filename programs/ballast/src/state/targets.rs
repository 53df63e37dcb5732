//! The targets and bands in force (fixed, scheduled or CPPI targets; fixed, volatility-scaled or
//! cost-optimal bands) and what a rebalance will do with them: the pure steps the program runs between
//! reading and swapping, and keepers replay on a copy of the vault.

use anchor_lang::prelude::*;

use crate::math;

use super::{AmmEntry, TargetMode, Vault};

impl Vault {
    /// What a rebalance of `request` will do (need, size, floor, room for the bounty, the drift it starts
    /// from), with this vault's trade policy, at the auction's point `auction`. Pure: the program
    /// calls it between reading and swapping, keepers call it on a copy of the vault with the same inputs.
    pub fn rebalance_effects(
        &self,
        positions: &[math::AssetPosition],
        bounds: &[math::PriceBounds],
        limits: &[math::rebalance::AssetLimits],
        request: &math::rebalance::TradeRequest,
        auction: math::auction::AuctionPoint,
        pools: &[math::sources::PoolPrice],
    ) -> core::result::Result<math::rebalance::RebalanceEffects, math::rebalance::Refusal> {
        math::rebalance::effects(positions, bounds, limits, &self.params.trade_policy(), request, auction, pools)
    }

    /// The whitelisted pools of the pair (`sell`, `buy`) a rebalance reads as its second source.
    pub fn pair_pools(&self, sell: usize, buy: usize) -> Vec<(AmmEntry, (usize, usize))> {
        self.price_pools(|a, b| (a, b) == (sell, buy) || (a, b) == (buy, sell))
    }

    /// The whitelisted pools trading `asset` a single-asset deposit of it reads as its second source.
    pub fn asset_pools(&self, asset: usize) -> Vec<(AmmEntry, (usize, usize))> {
        self.price_pools(|a, b| a == asset || b == asset)
    }

    /// State transitions that precede planning a rebalance at `slot`: a finished schedule is applied and
    /// the CPPI floor ratchets. Returns the limits (targets and effective bands) in force.
    pub fn prepare_rebalance(
        &mut self,
        readings: &[math::OracleReading],
        nav: u128,
        supply: u64,
        slot: u64,
    ) -> math::MathResult<Vec<math::rebalance::AssetLimits>> {
        self.finalize_schedule(slot);
        self.ratchet_cppi_floor(nav, supply)?;
        self.limits_in_force(readings, nav, supply, slot)
    }

    /// Ends a finished schedule: its final weights become the configured targets.
    pub fn finalize_schedule(&mut self, slot: u64) {
        if let Some(s) = &self.schedule {
            if slot >= s.end_slot {
                let to = s.to.clone();
                for (a, t) in self.assets.iter_mut().zip(to) {
                    a.params.target_bps = t;
                }
                self.schedule = None;
            }
        }
    }

    /// Raises the CPPI floor to `ratchet_bps` of the current share price when that is higher.
    pub fn ratchet_cppi_floor(&mut self, nav: u128, supply: u64) -> math::MathResult<()> {
        if let TargetMode::Cppi { ratchet_bps, .. } = self.params.target_mode {
            if ratchet_bps > 0 && supply > 0 {
                let per_share = math::mul_div_floor(nav, 1_000_000, supply as u128)?;
                let candidate = math::mul_div_floor(per_share, ratchet_bps as u128, math::BPS as u128)?;
                self.cppi_floor_per_share = self.cppi_floor_per_share.max(u64::try_from(candidate).unwrap_or(u64::MAX));
            }
        }
        Ok(())
    }

    /// Targets and effective bands in force at `slot`, for a vault worth `nav` (mid, micro-USD) with
    /// `supply` shares, given the latest oracle readings (vol states already updated with them).
    /// The program and off-chain keepers both call this.
    pub fn limits_in_force(
        &self,
        readings: &[math::OracleReading],
        nav: u128,
        supply: u64,
        slot: u64,
    ) -> math::MathResult<Vec<math::rebalance::AssetLimits>> {
        use math::adaptive;
        let schedule = self.schedule.as_ref().map(|s| s.to_math());
        let cppi = match self.params.target_mode {
            TargetMode::Cppi { safe_index, multiplier_bps, max_risky_bps, .. } => {
                let floor = math::mul_div_floor(self.cppi_floor_per_share as u128, supply as u128, 1_000_000)?;
                Some((adaptive::CppiRule { safe_index: safe_index as usize, multiplier_bps, max_risky_bps }, floor))
            }
            TargetMode::Fixed => None,
        };
        let targets = adaptive::targets_in_force(
            &self.targets(),
            schedule.as_ref(),
            cppi.as_ref().map(|(r, f)| (r, *f)),
            slot,
            nav,
        )?;
        let rule = self.params.band_rule();
        // Cost-optimal bands contain the weight's moves, which follow the asset's volatility relative to
        // the portfolio (estimated from the readings, correlations included); volatility-scaled bands follow
        // the asset's own.
        let vols: Vec<u64> = match rule {
            adaptive::BandRule::CostOptimal { .. } => {
                self.assets.iter().map(|a| adaptive::annual_bps(a.rel_vol.var_per_sec_e18)).collect()
            }
            _ => self.assets.iter().map(|a| adaptive::annual_vol_bps(&a.vol.into())).collect(),
        };
        Ok(self
            .assets
            .iter()
            .zip(readings)
            .zip(targets)
            .zip(vols)
            .map(|(((a, r), target_bps), vol_bps)| math::rebalance::AssetLimits {
                target_bps,
                band_bps: adaptive::effective_band(
                    a.params.band_bps,
                    target_bps,
                    &rule,
                    vol_bps,
                    adaptive::conf_bps(r.price, r.conf),
                ),
                max_trade_bps: a.params.max_trade_bps,
            })
            .collect())
    }
}
