//! What governance sets: the vault's parameters and each asset's, a pending (timelocked) change, a gradual
//! weight schedule, and how a change is checked and applied.

use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::BallastError;
use crate::math;

use super::{FeeParams, Vault};

/// How ε bands are set (see `math::adaptive::BandRule`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum BandMode {
    /// Each asset's configured `band_bps`.
    Fixed,
    /// `clamp(band_bps × vol / reference_vol, min, max) + conf_multiplier × conf/price`.
    VolatilityScaled { reference_vol_bps: u16, min_bps: u16, max_bps: u16, conf_multiplier: u16 },
    /// Per asset `clamp((3 · cost · (target · (1 − target))² / risk_aversion)^(1/3) − β · s · √check_interval,
    /// min, max)`: the band that minimises a year's trading cost plus `risk_aversion × TE%²`, TE the tracking
    /// error of returns against the target portfolio (`math::adaptive::cost_optimal_band`, `docs/bands.md`).
    /// `cost_bps` is the proportional cost of trading one unit (the route's fee plus the bounty: linear
    /// price impact costs the same a year whatever the band, so it is left out),
    /// `risk_aversion_milli` the weight of tracking error (1000 = 1), `check_interval_secs` how often the
    /// vault's keepers check its bands (0: continuously; a band checked every Δ overshoots by about
    /// `0.58 × s × √Δ`, `s` the weight's volatility, so it is set that much narrower).
    CostOptimal { cost_bps: u16, risk_aversion_milli: u32, check_interval_secs: u32, min_bps: u16, max_bps: u16 },
}

/// Where target weights come from.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum TargetMode {
    /// The configured (or scheduled) weights.
    Fixed,
    /// CPPI: risky exposure `clamp(multiplier × (V − floor), 0, max_risky)`, split in the configured
    /// proportions, the rest in `safe_index`. The floor is per share (micro-USD per whole share), so
    /// deposits and withdrawals do not move it; with `ratchet_bps > 0` it ratchets up to that fraction of
    /// the best share price seen.
    Cppi { safe_index: u8, multiplier_bps: u32, max_risky_bps: u16, floor_per_share: u64, ratchet_bps: u16 },
}

/// Vault-wide parameters changed through the timelock.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct VaultParams {
    /// Largest loss against the oracle-derived floor a rebalance swap may take (bps).
    pub slippage_cap_bps: u16,
    /// Oracle readings older than this many seconds are refused.
    pub oracle_max_age_secs: u32,
    /// Oracle readings with `conf / price` above this (bps) are refused.
    pub oracle_max_conf_bps: u16,
    /// Minimum slots between two rebalances.
    pub rebalance_cooldown_slots: u64,
    /// Keeper bounty in bps of the rebalance trade's value.
    pub bounty_bps: u16,
    /// Absolute cap of the keeper bounty in micro-USD (0 disables the bounty).
    pub bounty_cap_value: u64,
    /// Delay in seconds between proposing and executing a parameter change.
    pub timelock_secs: u32,
    pub band_mode: BandMode,
    pub target_mode: TargetMode,
    /// Time constant of the volatility EWMA (seconds).
    pub vol_tau_secs: u32,
    /// Fee on single-asset deposits and withdrawals, bps of the value moved, kept by the vault (at least
    /// `MIN_DEPOSIT_FEE_BPS`).
    pub deposit_fee_bps: u16,
    /// A deposit or withdrawal request settles only with oracle readings published at least this long after it.
    pub deposit_delay_secs: u32,
    /// After the delay, how long a request may wait for settlement before it can only be cancelled.
    pub deposit_window_secs: u32,
    /// Oracle readings used by `rebalance` may be at most this old (tighter than `oracle_max_age_secs`):
    /// the keeper chooses the reading, and an old one shifts the floor.
    pub rebalance_max_age_secs: u32,
    /// Oracle readings used by `rebalance` may carry at most this `conf / price` (bps).
    pub rebalance_max_conf_bps: u16,
    /// Whether keepers may rebalance through routes of their choosing (`rebalance_begin` / `rebalance_end`).
    /// The direct `rebalance` through whitelisted AMMs is always available.
    pub flash_enabled: bool,
    /// Seconds the rebalance auction takes to relax from fair value (mid) to the slippage-cap floor
    /// (`math::auction`): the price a rebalance must pay falls linearly with the time since the auction
    /// opened, so keepers compete for the trade instead of paying the floor.
    pub auction_secs: u32,
    /// What a single-asset deposit pays (bps of the value it makes the vault trade back to target,
    /// `math::deposit_traded_value`; kept by the vault) for those trades. At least what the auction can reach
    /// (`slippage_cap_bps + bounty_bps`): a depositor who trades the vault back himself at the auction's
    /// floor then gains nothing from the cycle.
    pub trade_cost_bps: u16,
    /// An open rebalance auction that no valuing instruction has seen out of band (on readings a rebalance
    /// could use) for longer than this is stale: it restarts at fair value when next seen, so its price only
    /// relaxes while the vault is observed out of band. Keepers renew it with `poke`.
    pub auction_heartbeat_secs: u32,
    /// The performance fee's mark moves, and the rebalance auction opens, only on readings whose every price
    /// is within this distance (bps) of its Pyth EMA: a print that one publisher could move neither
    /// crystallises a fee nor starts the auction's clock.
    pub max_ema_divergence_bps: u16,
    /// Whether the vault's own whitelisted pools are a second price source: a rebalance's fair output is the
    /// higher of the oracle's and its pair's pools' mid prices, and a single-asset deposit is valued at the
    /// lower (the vault at the higher) of the oracle, its EMA and the pools trading the deposited asset. The
    /// instructions then take those pools' price accounts (`math::sources`).
    pub pool_price_bound: bool,
    /// Single-asset flows (requests and settlements) are refused while a whitelisted pool they read prices an
    /// asset further than this (bps) from the oracle's mid: anyone may settle, and a pool pushed in the
    /// settlement's transaction would otherwise lower a payout (or a deposit's shares) as far as the user's
    /// minimum. Within it a pool still makes the price more conservative; beyond it nobody settles until the
    /// pools and the oracle agree again.
    pub max_pool_divergence_bps: u16,
    /// Management, performance, entry and exit fees and who receives the running ones (`state::fees`).
    pub fees: FeeParams,
}

/// Timing and charges of single-asset deposits and withdrawals (fixed in each request when it is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTerms {
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    pub delay_secs: u32,
    pub window_secs: u32,
}

impl RequestTerms {
    /// First unix time at which a request made at `requested_at` may settle (and the earliest publish
    /// time of the readings that settle it).
    pub fn settle_from(&self, requested_at: i64) -> i64 {
        requested_at.saturating_add(self.delay_secs as i64)
    }

    /// Last unix time at which a request made at `requested_at` may settle.
    pub fn expires_at(&self, requested_at: i64) -> i64 {
        self.settle_from(requested_at).saturating_add(self.window_secs as i64)
    }
}

impl VaultParams {
    /// Bounds check. `at_init` allows a zero timelock, which a later change may never set.
    pub fn check(&self, at_init: bool) -> Result<()> {
        require!(
            (MIN_SLIPPAGE_BPS..=MAX_SLIPPAGE_BPS).contains(&self.slippage_cap_bps),
            BallastError::SlippageOutOfBounds
        );
        require!(
            (MIN_ORACLE_MAX_AGE_SECS..=MAX_ORACLE_MAX_AGE_SECS).contains(&self.oracle_max_age_secs),
            BallastError::OracleMaxAgeOutOfBounds
        );
        require!(
            (MIN_ORACLE_CONF_BPS..=MAX_ORACLE_CONF_BPS).contains(&self.oracle_max_conf_bps),
            BallastError::OracleConfOutOfBounds
        );
        require!(self.rebalance_cooldown_slots <= MAX_COOLDOWN_SLOTS, BallastError::CooldownOutOfBounds);
        require!(self.bounty_bps <= MAX_BOUNTY_BPS, BallastError::BountyOutOfBounds);
        require!(
            self.timelock_secs <= MAX_TIMELOCK_SECS && (at_init || self.timelock_secs > 0),
            BallastError::TimelockOutOfBounds
        );
        require!((MIN_VOL_TAU_SECS..=MAX_VOL_TAU_SECS).contains(&self.vol_tau_secs), BallastError::VolTauOutOfBounds);
        require!(
            (MIN_DEPOSIT_FEE_BPS..=MAX_DEPOSIT_FEE_BPS).contains(&self.deposit_fee_bps)
                && (MIN_TRADE_COST_BPS..=MAX_TRADE_COST_BPS).contains(&self.trade_cost_bps)
                && (MIN_DEPOSIT_DELAY_SECS..=MAX_DEPOSIT_DELAY_SECS).contains(&self.deposit_delay_secs)
                && (MIN_DEPOSIT_WINDOW_SECS..=MAX_DEPOSIT_WINDOW_SECS).contains(&self.deposit_window_secs),
            BallastError::DepositTermsOutOfBounds
        );
        require!(
            self.rebalance_max_age_secs >= 1
                && self.rebalance_max_age_secs <= self.oracle_max_age_secs.min(MAX_REBALANCE_ORACLE_AGE_SECS)
                && self.rebalance_max_conf_bps >= 1
                && self.rebalance_max_conf_bps <= self.oracle_max_conf_bps.min(MAX_REBALANCE_CONF_BPS),
            BallastError::RebalanceOracleOutOfBounds
        );
        self.check_auction()?;
        if let BandMode::CostOptimal { cost_bps, risk_aversion_milli, check_interval_secs, min_bps, max_bps } =
            self.band_mode
        {
            require!(
                (1..=MAX_COST_ESTIMATE_BPS).contains(&cost_bps)
                    && (1..=MAX_RISK_AVERSION_MILLI).contains(&risk_aversion_milli)
                    && check_interval_secs <= MAX_CHECK_INTERVAL_SECS
                    && (MIN_BAND_BPS..=MAX_BAND_BPS).contains(&min_bps)
                    && (min_bps..=MAX_BAND_BPS).contains(&max_bps),
                BallastError::BandModeOutOfBounds
            );
        }
        if let BandMode::VolatilityScaled { reference_vol_bps, min_bps, max_bps, conf_multiplier } = self.band_mode {
            require!(
                reference_vol_bps > 0
                    && (MIN_BAND_BPS..=MAX_BAND_BPS).contains(&min_bps)
                    && (min_bps..=MAX_BAND_BPS).contains(&max_bps)
                    && conf_multiplier <= MAX_CONF_MULTIPLIER,
                BallastError::BandModeOutOfBounds
            );
        }
        if let TargetMode::Cppi { multiplier_bps, max_risky_bps, ratchet_bps, .. } = self.target_mode {
            require!(
                (1..=MAX_CPPI_MULTIPLIER_BPS).contains(&multiplier_bps)
                    && max_risky_bps as u64 <= math::BPS
                    && ratchet_bps as u64 <= math::BPS,
                BallastError::CppiOutOfBounds
            );
        }
        self.fees.check()
    }

    /// The auction's bounds: its duration (a step of at most 0.5 bps a second), its heartbeat, the trade cost
    /// single-asset deposits pay (at least what the auction can reach) and the EMA agreement the fee mark needs.
    fn check_auction(&self) -> Result<()> {
        require!(
            (MIN_AUCTION_SECS..=MAX_AUCTION_SECS).contains(&self.auction_secs)
                && self.auction_secs >= AUCTION_SECS_PER_CAP_BPS.saturating_mul(self.slippage_cap_bps as u32),
            BallastError::AuctionOutOfBounds
        );
        require!(
            self.auction_heartbeat_secs > self.rebalance_max_age_secs
                && self.auction_heartbeat_secs <= MAX_AUCTION_HEARTBEAT_SECS.min(self.auction_secs),
            BallastError::AuctionHeartbeatOutOfBounds
        );
        require!(
            self.trade_cost_bps as u32 >= self.slippage_cap_bps as u32 + self.bounty_bps as u32,
            BallastError::TradeCostBelowAuction
        );
        require!(
            (MIN_EMA_DIVERGENCE_BPS..=MAX_EMA_DIVERGENCE_BPS).contains(&self.max_ema_divergence_bps),
            BallastError::EmaDivergenceOutOfBounds
        );
        require!(
            (MIN_POOL_DIVERGENCE_BPS..=MAX_POOL_DIVERGENCE_BPS).contains(&self.max_pool_divergence_bps),
            BallastError::PoolDivergenceOutOfBounds
        );
        Ok(())
    }

    /// Raises the auction's duration and the single-asset trade cost to the least the slippage cap and the
    /// bounty require (`AUCTION_SECS_PER_CAP_BPS` seconds per bps; cap plus bounty), leaving larger values.
    pub fn fit_to_slippage_cap(&mut self) {
        let least_secs = AUCTION_SECS_PER_CAP_BPS.saturating_mul(self.slippage_cap_bps as u32);
        self.auction_secs = self.auction_secs.max(least_secs).min(MAX_AUCTION_SECS);
        self.trade_cost_bps = self.trade_cost_bps.max(self.slippage_cap_bps.saturating_add(self.bounty_bps));
    }

    /// The parts of the parameters that shape a rebalance trade.
    pub fn trade_policy(&self) -> math::rebalance::TradePolicy {
        math::rebalance::TradePolicy {
            slippage_cap_bps: self.slippage_cap_bps,
            auction_secs: self.auction_secs,
            heartbeat_secs: self.auction_heartbeat_secs,
            bounty_bps: self.bounty_bps,
            bounty_cap_value: self.bounty_cap_value,
        }
    }

    /// The CPPI floor a change to these parameters starts from (0 outside CPPI mode).
    pub fn cppi_floor(&self) -> u64 {
        match self.target_mode {
            TargetMode::Cppi { floor_per_share, .. } => floor_per_share,
            TargetMode::Fixed => 0,
        }
    }

    pub fn band_rule(&self) -> math::adaptive::BandRule {
        match self.band_mode {
            BandMode::Fixed => math::adaptive::BandRule::Fixed,
            BandMode::CostOptimal { cost_bps, risk_aversion_milli, check_interval_secs, min_bps, max_bps } => {
                math::adaptive::BandRule::CostOptimal {
                    cost_bps,
                    risk_aversion_milli,
                    check_interval_secs,
                    min_bps,
                    max_bps,
                }
            }
            BandMode::VolatilityScaled { reference_vol_bps, min_bps, max_bps, conf_multiplier } => {
                math::adaptive::BandRule::VolatilityScaled { reference_vol_bps, min_bps, max_bps, conf_multiplier }
            }
        }
    }

    pub fn oracle_limits(&self) -> math::OracleLimits {
        math::OracleLimits {
            max_age_secs: self.oracle_max_age_secs as u64,
            max_conf_bps: self.oracle_max_conf_bps as u64,
        }
    }

    /// The tighter limits `rebalance` applies to the readings behind its floor.
    pub fn rebalance_oracle_limits(&self) -> math::OracleLimits {
        math::OracleLimits {
            max_age_secs: self.rebalance_max_age_secs as u64,
            max_conf_bps: self.rebalance_max_conf_bps as u64,
        }
    }

    pub fn deposit_terms(&self) -> RequestTerms {
        RequestTerms {
            // The vault's entry fee applies to single-asset deposits too; both stay with the vault.
            fee_bps: self.deposit_fee_bps.saturating_add(self.fees.entry_bps),
            trade_cost_bps: self.trade_cost_bps,
            delay_secs: self.deposit_delay_secs,
            window_secs: self.deposit_window_secs,
        }
    }

    /// The same single-asset fee, trade cost and timing on the way out, with the vault's exit fee in place
    /// of its entry fee (`deposit_fee_bps` is the single-asset fee both ways).
    pub fn withdraw_terms(&self) -> RequestTerms {
        RequestTerms { fee_bps: self.deposit_fee_bps.saturating_add(self.fees.exit_bps), ..self.deposit_terms() }
    }
}

/// Per-asset parameters changed through the timelock.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct AssetParams {
    /// Target weight in bps; all targets sum to 10 000.
    pub target_bps: u16,
    /// ε band in bps of vault value around the target.
    pub band_bps: u16,
    /// Largest single rebalance trade touching this asset, in bps of vault value.
    pub max_trade_bps: u16,
}

impl AssetParams {
    pub fn check(&self) -> Result<()> {
        require!((MIN_BAND_BPS..=MAX_BAND_BPS).contains(&self.band_bps), BallastError::BandOutOfBounds);
        require!(
            (MIN_MAX_TRADE_BPS..=MAX_MAX_TRADE_BPS).contains(&self.max_trade_bps),
            BallastError::MaxTradeOutOfBounds
        );
        require!(self.target_bps > 0, BallastError::ZeroTargetWeight);
        require!(self.target_bps as u64 <= math::BPS, BallastError::WeightsDoNotSum);
        Ok(())
    }
}

/// A gradual weight change in progress (or queued in `PendingParams`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct ScheduleState {
    #[max_len(MAX_ASSETS)]
    pub from: Vec<u16>,
    #[max_len(MAX_ASSETS)]
    pub to: Vec<u16>,
    pub start_slot: u64,
    pub end_slot: u64,
}

impl ScheduleState {
    pub fn to_math(&self) -> math::adaptive::WeightSchedule {
        math::adaptive::WeightSchedule {
            from: self.from.clone(),
            to: self.to.clone(),
            start_slot: self.start_slot,
            end_slot: self.end_slot,
        }
    }
}

/// A proposed parameter change waiting for its timelock, or still being staged (`eta` = [`PendingParams::STAGING`]:
/// its asset parameters arrive in several transactions, `stage_params` then `append_params`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct PendingParams {
    pub params: VaultParams,
    #[max_len(MAX_ASSETS)]
    pub assets: Vec<AssetParams>,
    /// A gradual weight change to start when applied (`from` is filled in at execution).
    pub schedule: Option<ScheduleState>,
    /// Unix time after which `execute_params` may apply it.
    pub eta: i64,
}

impl PendingParams {
    /// The `eta` of a change still being staged: never reached, and its timelock starts only once it is complete.
    pub const STAGING: i64 = i64::MAX;

    pub fn is_staging(&self) -> bool {
        self.eta == Self::STAGING
    }

    /// What ties a part of a staged change to the change it continues (`AppendParamsArgs::staged_hash`): the
    /// SHA-256 of the staged vault parameters and of the asset parameters staged so far (Borsh). A part signed
    /// for another staged change (one cancelled and staged again) cannot complete this one.
    pub fn staged_hash(params: &VaultParams, assets: &[AssetParams]) -> [u8; 32] {
        let mut bytes = Vec::with_capacity(512);
        // Writing into a vector cannot fail.
        let _ = params.serialize(&mut bytes);
        let _ = assets.serialize(&mut bytes);
        solana_sha256_hasher::hash(&bytes).to_bytes()
    }
}

impl Vault {
    /// Applies a pending change as `execute_params` does at `slot` (also used to check a proposal before
    /// it is queued). A schedule whose start has already passed keeps its duration from `slot`, so a change
    /// executed late is still gradual.
    pub fn apply_pending(&mut self, pending: PendingParams, slot: u64) -> Result<()> {
        use crate::errors::MathResultExt;
        let old_params = self.params;
        if pending.params.cppi_floor() != old_params.cppi_floor()
            || pending.params.target_mode != old_params.target_mode
        {
            self.cppi_floor_per_share = pending.params.cppi_floor();
        }
        self.params = pending.params;
        require!(pending.assets.len() == self.assets.len(), BallastError::AssetCountMismatch);
        let targets_changed = self.assets.iter().zip(&pending.assets).any(|(a, n)| a.params.target_bps != n.target_bps);
        for (asset, p) in self.assets.iter_mut().zip(&pending.assets) {
            asset.params = *p;
        }
        if targets_changed {
            // New targets replace whatever a running schedule was moving towards.
            self.schedule = None;
        }
        if let Some(mut schedule) = pending.schedule {
            // The move starts from the weights in force now (mid-schedule weights if one was running).
            schedule.from = match &self.schedule {
                Some(running) => math::adaptive::scheduled_targets(&running.to_math(), slot).or_math_err()?,
                None => self.targets(),
            };
            if schedule.start_slot < slot {
                let span = schedule.end_slot.saturating_sub(schedule.start_slot);
                schedule.start_slot = slot;
                schedule.end_slot = slot.checked_add(span).ok_or(BallastError::MathOverflow)?;
            }
            self.schedule = Some(schedule);
        }
        Ok(())
    }

    /// Checks that `pending` passes everything `execute_params` and `invariant` require, as if executed now
    /// (the fee recipients' accounts are checked by the instruction, which has them).
    pub fn check_proposal(&self, vault_key: &Pubkey, pending: &PendingParams) -> Result<()> {
        Self::check_pending(pending, self.assets.len())?;
        self.check_fee_recipients(vault_key, &pending.params.fees)?;
        let mut probe = self.clone();
        probe.pending_params = None;
        probe.apply_pending(pending.clone(), Clock::get()?.slot)?;
        probe.invariant()
    }

    /// Everything `execute_params` and `invariant` will require of a pending change, checked when it is
    /// proposed (and by `invariant` while it waits).
    /// A change still being staged holds at most the vault's assets, each checked; the rest waits for the last
    /// `append_params`.
    pub fn check_pending(p: &PendingParams, asset_count: usize) -> Result<()> {
        p.params.check(false)?;
        let counted = if p.is_staging() {
            p.assets.len() <= asset_count && p.schedule.is_none()
        } else {
            p.assets.len() == asset_count
        };
        require!(counted, BallastError::AssetCountMismatch);
        for a in &p.assets {
            a.check()?;
        }
        if p.is_staging() {
            return Ok(());
        }
        let targets: Vec<u16> = p.assets.iter().map(|a| a.target_bps).collect();
        require!(math::weights_sum_to_bps(&targets), BallastError::WeightsDoNotSum);
        if let TargetMode::Cppi { safe_index, .. } = p.params.target_mode {
            require!((safe_index as usize) < asset_count, BallastError::CppiOutOfBounds);
        }
        if let Some(s) = &p.schedule {
            require!(s.to.len() == asset_count, BallastError::AssetCountMismatch);
            require!(math::weights_sum_to_bps(&s.to), BallastError::WeightsDoNotSum);
            require!(s.end_slot > s.start_slot, BallastError::ScheduleInvalid);
        }
        Ok(())
    }
}
