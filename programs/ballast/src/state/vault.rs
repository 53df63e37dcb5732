use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::BallastError;
use crate::math;
use crate::state::{FeeParams, FeeState};

/// Lifecycle of a vault: assets are added while `Configuring`, then governance activates it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum VaultStatus {
    Configuring,
    Active,
}

/// Pause flags. Withdrawals have no flag: they can never be paused.
pub mod pause {
    pub const DEPOSITS: u8 = 1 << 0;
    pub const REBALANCE: u8 = 1 << 1;
    pub const GOVERNANCE: u8 = 1 << 2;
    pub const ALL: u8 = DEPOSITS | REBALANCE | GOVERNANCE;
}

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
    /// Fee on single-asset deposits, bps of the deposit's value, kept by the vault (at least
    /// `MIN_DEPOSIT_FEE_BPS`).
    pub deposit_fee_bps: u16,
    /// A deposit request settles only with oracle readings published at least this long after it.
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
    /// Management, performance, entry and exit fees and who receives the running ones (`state::fees`).
    pub fees: FeeParams,
}

/// Timing and charges of single-asset deposits (fixed in each request when it is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositTerms {
    pub fee_bps: u16,
    pub trade_cost_bps: u16,
    pub delay_secs: u32,
    pub window_secs: u32,
}

impl DepositTerms {
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

    pub fn deposit_terms(&self) -> DepositTerms {
        DepositTerms {
            // The vault's entry fee applies to single-asset deposits too; both stay with the vault.
            fee_bps: self.deposit_fee_bps.saturating_add(self.fees.entry_bps),
            trade_cost_bps: self.trade_cost_bps,
            delay_secs: self.deposit_delay_secs,
            window_secs: self.deposit_window_secs,
        }
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

/// One asset of the vault.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Asset {
    pub mint: Pubkey,
    /// Vault-owned token account `[RESERVE_SEED, vault, mint]`.
    pub reserve: Pubkey,
    /// Token program owning the mint (SPL Token or Token-2022).
    pub token_program: Pubkey,
    /// Pinned Pyth PriceUpdateV2 account.
    pub oracle: Pubkey,
    /// Pinned Pyth feed id; the oracle account must carry it.
    pub feed_id: [u8; 32],
    pub decimals: u8,
    pub reserve_bump: u8,
    pub params: AssetParams,
    /// Newest oracle publish time this vault has used (oracle readings may never go back).
    pub last_publish_time: i64,
    /// Last oracle price used (mantissa, exponent), for clients and events.
    pub last_price: i64,
    pub last_expo: i32,
    /// Volatility estimate, updated on every fresh oracle reading.
    pub vol: VolState,
    /// Volatility of the asset's return relative to the portfolio's, sampled when every asset is read
    /// together (`Vault::observe_all`).
    pub rel_vol: RelVolState,
    /// Base units in the reserve owed to claims (withdrawals that skipped this asset); not the holders'.
    pub owed: u64,
    /// Base units in the reserve escrowed by open deposit requests; not the holders' until settled.
    pub pending_in: u64,
    /// Bitset of `asset_flags::*`.
    pub flags: u8,
    pub reserved: [u8; 2],
}

/// Per-asset flags.
pub mod asset_flags {
    /// Governance acknowledged, when listing, that the mint has a freeze authority.
    pub const FREEZE_AUTHORITY_ACKNOWLEDGED: u8 = 1 << 0;
}

impl Asset {
    /// What the holders own of `reserve_amount` (the reserve's balance): owed and escrowed amounts are
    /// excluded.
    pub fn available(&self, reserve_amount: u64) -> math::MathResult<u64> {
        use math::SafeMath;
        reserve_amount.safe_sub(self.owed)?.safe_sub(self.pending_in)
    }

    /// Folds a checked oracle reading into the asset: volatility estimate, newest publish time, price.
    /// Used by the program on every valuation and by keepers to predict the program's state.
    pub fn observe(&mut self, reading: &math::OracleReading, vol_tau_secs: u32) -> math::MathResult<()> {
        self.vol = math::adaptive::update_vol(
            &self.vol.into(),
            reading.price,
            reading.expo,
            reading.publish_time,
            vol_tau_secs as u64,
        )?
        .into();
        self.last_publish_time = reading.publish_time;
        self.last_price = reading.price;
        self.last_expo = reading.expo;
        Ok(())
    }
}

/// On-chain form of `math::adaptive::RelVolState` (the exponent fits a byte: readings are checked to
/// `[MIN_EXPO, MAX_EXPO]`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct RelVolState {
    pub var_per_sec_e18: u64,
    pub price: i64,
    pub expo: i8,
}

impl From<RelVolState> for math::adaptive::RelVolState {
    fn from(v: RelVolState) -> Self {
        math::adaptive::RelVolState { var_per_sec_e18: v.var_per_sec_e18, price: v.price, expo: v.expo as i32 }
    }
}

impl From<math::adaptive::RelVolState> for RelVolState {
    /// An exponent outside a byte (never a checked reading's) is stored as none: the next sample restarts.
    fn from(v: math::adaptive::RelVolState) -> Self {
        match i8::try_from(v.expo) {
            Ok(expo) => RelVolState { var_per_sec_e18: v.var_per_sec_e18, price: v.price, expo },
            Err(_) => RelVolState { var_per_sec_e18: v.var_per_sec_e18, price: 0, expo: 0 },
        }
    }
}

/// On-chain form of `math::adaptive::VolState`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct VolState {
    pub var_per_sec_e18: u64,
    pub last_price: i64,
    pub last_expo: i32,
    pub last_time: i64,
}

impl From<VolState> for math::adaptive::VolState {
    fn from(v: VolState) -> Self {
        math::adaptive::VolState {
            var_per_sec_e18: v.var_per_sec_e18,
            last_price: v.last_price,
            last_expo: v.last_expo,
            last_time: v.last_time,
        }
    }
}

impl From<math::adaptive::VolState> for VolState {
    fn from(v: math::adaptive::VolState) -> Self {
        VolState {
            var_per_sec_e18: v.var_per_sec_e18,
            last_price: v.last_price,
            last_expo: v.last_expo,
            last_time: v.last_time,
        }
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

/// An approved AMM route: program id and pool.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct AmmEntry {
    pub program_id: Pubkey,
    pub pool: Pubkey,
    /// The two mints the pool trades (read from it when whitelisted; default for a program without an
    /// adapter): what lets an instruction know which whitelisted pools price a pair or an asset.
    pub mint_a: Pubkey,
    pub mint_b: Pubkey,
}

impl AmmEntry {
    /// The vault asset indices of the pool's two mints, when both are assets of `vault`.
    pub fn assets(&self, vault: &Vault) -> Option<(usize, usize)> {
        Some((vault.asset_index(&self.mint_a)?, vault.asset_index(&self.mint_b)?))
    }
}

/// A proposed parameter change waiting for its timelock.
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

#[account]
#[derive(InitSpace, Debug)]
pub struct Vault {
    /// Layout version.
    pub version: u8,
    pub bump: u8,
    pub share_mint_bump: u8,
    pub locked_shares_bump: u8,
    pub status: VaultStatus,
    /// Bitset of `pause::*` flags.
    pub paused: u8,
    pub creator: Pubkey,
    pub vault_id: u64,
    pub governance: Pubkey,
    /// Set by `transfer_governance`; `Pubkey::default()` when none.
    pub pending_governance: Pubkey,
    /// May set pause flags (never lift them). `Pubkey::default()` when none.
    pub guardian: Pubkey,
    pub share_mint: Pubkey,
    pub locked_shares: Pubkey,
    pub params: VaultParams,
    pub pending_params: Option<PendingParams>,
    #[max_len(MAX_ASSETS)]
    pub assets: Vec<Asset>,
    #[max_len(MAX_AMMS)]
    pub amms: Vec<AmmEntry>,
    /// Slot of the last successful rebalance.
    pub last_rebalance_slot: u64,
    /// Active gradual weight change, if any.
    pub schedule: Option<ScheduleState>,
    /// CPPI floor in force (micro-USD per whole share); ratchets up when configured.
    pub cppi_floor_per_share: u64,
    /// Bounty paid (micro-USD) since the vault was last inside all its bands: the bounty cap holds per
    /// episode of drift, not per transaction.
    pub episode_bounty_paid: u64,
    /// A flash rebalance between `rebalance_begin` and `rebalance_end` (only ever set inside one
    /// transaction: without its end, the begin's transaction fails as a whole).
    pub flight: Option<Flight>,
    /// Unix time the rebalance auction opened (0: none open). Opened when the program sees an asset outside
    /// its band and none is running (`poke`, a rebalance attempt, a deposit settlement), restarted once it
    /// has sold half a full-size trade, closed when every asset is seen inside (`math::auction::AuctionState`).
    pub auction_started_at: i64,
    /// Publish time of the newest readings that showed the vault out of band while the auction ran: an
    /// auction not seen out of band within `auction_heartbeat_secs` is stale.
    pub auction_seen_at: i64,
    /// Volume the running auction has sold, ppm of a full-size trade.
    pub auction_sold_ppm: u32,
    /// Fee shares owed, the share price's high-water mark and the accrual clock.
    pub fees: FeeState,
    /// Time of the last relative-volatility sample (`Asset::rel_vol`); 0 = none yet.
    pub rel_vol_time: i64,
    pub reserved: [u8; 52],
}

pub use crate::math::auction::AuctionChange;

/// What `rebalance_begin` decided and `rebalance_end` must see: the trade, the balances before it, and the
/// prices and limits it was planned with (so the end completes it exactly as a direct `rebalance` would).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct Flight {
    pub keeper: Pubkey,
    /// Where the sold asset went.
    pub destination: Pubkey,
    pub sell: u8,
    pub buy: u8,
    pub requested_amount_in: u64,
    pub amount_in: u64,
    pub clamped: bool,
    pub cap_amount: u64,
    pub floor_out: u64,
    /// `max(floor_out, keeper min_out)`: what the bought reserve must gain at least.
    pub min_out: u64,
    pub max_bounty: u64,
    /// The value of a full-size trade and the auction's sold volume after this one (ppm of it).
    pub full_value: u128,
    pub sold_ppm_after: u32,
    /// Oldest publish time of the readings begin planned with (renews the auction).
    pub evidence_at: i64,
    pub drift_before: u128,
    pub share_supply_before: u64,
    /// Reserve balances (as read) and the holders' balances (owed and escrowed excluded) before the trade.
    #[max_len(MAX_ASSETS)]
    pub reserves_before: Vec<u64>,
    #[max_len(MAX_ASSETS)]
    pub balances_before: Vec<u64>,
    /// Output of `amount_in` at mid prices and how long the auction had run when the trade was planned.
    pub fair_out: u64,
    pub auction_elapsed_secs: u64,
    /// Mid prices (mantissa, exponent) and the sold asset's high price the trade was planned with.
    #[max_len(MAX_ASSETS)]
    pub mid_mantissas: Vec<u64>,
    #[max_len(MAX_ASSETS)]
    pub mid_expos: Vec<i32>,
    pub sell_high_mantissa: u64,
    /// Targets, bands and max trade sizes in force.
    #[max_len(MAX_ASSETS)]
    pub targets: Vec<u16>,
    #[max_len(MAX_ASSETS)]
    pub bands: Vec<u16>,
    #[max_len(MAX_ASSETS)]
    pub max_trades: Vec<u16>,
}

impl Vault {
    pub const VERSION: u8 = 4;

    /// The rebalance auction's stored state.
    pub fn auction(&self) -> math::auction::AuctionState {
        math::auction::AuctionState {
            started_at: self.auction_started_at,
            seen_at: self.auction_seen_at,
            sold_ppm: self.auction_sold_ppm,
        }
    }

    fn set_auction(&mut self, a: math::auction::AuctionState) {
        self.auction_started_at = a.started_at;
        self.auction_seen_at = a.seen_at;
        self.auction_sold_ppm = a.sold_ppm;
    }

    /// The auction at `now`: closed, stale (not seen out of band within the heartbeat) or running.
    pub fn auction_view(&self, now: i64) -> math::auction::AuctionView {
        self.auction().view(now, self.params.auction_heartbeat_secs)
    }

    /// Where the running auction stands at `now` (`None` when closed or stale).
    pub fn auction_point(&self, now: i64) -> Option<math::auction::AuctionPoint> {
        match self.auction_view(now) {
            math::auction::AuctionView::Running(p) => Some(p),
            _ => None,
        }
    }

    /// Closes the auction (every asset seen inside, or rebalancing paused).
    pub fn close_auction(&mut self) {
        self.set_auction(math::auction::AuctionState::default());
    }

    /// Opens the auction at `now` when an asset is outside its band and none is running (only on `readings`
    /// whose every price agrees with its EMA: otherwise `AuctionChange::NotOpened`), renews it when one is,
    /// closes it when every asset is inside. `values` are the holders' values at mid, `limits` the targets and
    /// bands in force, `readings` the readings behind them (their oldest publish time is the evidence).
    pub fn observe_bands(
        &mut self,
        values: &[u128],
        limits: &[math::rebalance::AssetLimits],
        now: i64,
        readings: &[math::OracleReading],
    ) -> math::MathResult<AuctionChange> {
        let inside = math::rebalance::all_inside(values, limits)?;
        let evidence_at = readings.iter().map(|r| r.publish_time).min().unwrap_or(0);
        if self.is_paused(pause::REBALANCE) {
            // Nobody may trade: the auction is neither opened nor renewed (pausing closed it).
            return Ok(AuctionChange::Unchanged);
        }
        let may_open = self.may_open_auction(readings);
        let mut a = self.auction();
        let change = a.observe(!inside, now, evidence_at, self.params.auction_heartbeat_secs, may_open);
        self.set_auction(a);
        Ok(change)
    }

    /// Whether `readings` may open the auction: every price within `max_ema_divergence_bps` of its Pyth EMA
    /// (one print does not start the auction's clock).
    pub fn may_open_auction(&self, readings: &[math::OracleReading]) -> bool {
        math::OracleReading::first_divergent(readings, self.params.max_ema_divergence_bps).is_none()
    }

    /// (Re)starts the auction at `now` on readings published no earlier than `evidence_at`: the next trade
    /// starts again from fair value.
    pub fn open_auction(&mut self, now: i64, evidence_at: i64) -> AuctionChange {
        let mut a = self.auction();
        let change = a.open(now, evidence_at);
        self.set_auction(a);
        change
    }

    /// The auction after a completed trade (`math::auction::AuctionState::after_trade`).
    pub fn auction_after_trade(
        &mut self,
        sold_ppm: u32,
        inside_after: bool,
        now: i64,
        evidence_at: i64,
    ) -> AuctionChange {
        let mut a = self.auction();
        let change = a.after_trade(sold_ppm, inside_after, now, evidence_at);
        self.set_auction(a);
        change
    }

    /// Owned signer seeds of the vault PDA (`signer().seeds()` gives the slices for `invoke_signed`).
    pub fn signer(&self) -> VaultSigner {
        VaultSigner { creator: self.creator, id: self.vault_id.to_le_bytes(), bump: [self.bump] }
    }

    pub fn is_paused(&self, flag: u8) -> bool {
        self.paused & flag != 0
    }

    /// Fails with the flag's own error (`DepositsPaused`, `RebalancePaused`, `GovernancePaused`) when set.
    pub fn require_not_paused(&self, flag: u8) -> Result<()> {
        if !self.is_paused(flag) {
            return Ok(());
        }
        match flag {
            pause::DEPOSITS => err!(BallastError::DepositsPaused),
            pause::REBALANCE => err!(BallastError::RebalancePaused),
            _ => err!(BallastError::GovernancePaused),
        }
    }

    /// Folds one checked reading of every asset (vault order) into the vault: each asset's own volatility,
    /// newest publish time and price, then the assets' volatilities relative to the portfolio (sampled at the
    /// oldest of the readings' publish times). The program calls this on every full valuation; keepers call
    /// it to predict the program's state.
    pub fn observe_all(&mut self, readings: &[math::OracleReading]) -> math::MathResult<()> {
        if readings.len() != self.assets.len() {
            return Err(math::MathError::LengthMismatch);
        }
        let tau = self.params.vol_tau_secs;
        for (asset, reading) in self.assets.iter_mut().zip(readings) {
            asset.observe(reading, tau)?;
        }
        let Some(time) = readings.iter().map(|r| r.publish_time).min() else { return Ok(()) };
        let states: Vec<math::adaptive::RelVolState> = self.assets.iter().map(|a| a.rel_vol.into()).collect();
        let prices: Vec<(i64, i32)> = readings.iter().map(|r| (r.price, r.expo)).collect();
        let (next, sampled_at) =
            math::adaptive::update_rel_vols(&states, self.rel_vol_time, &prices, &self.targets(), time, tau as u64)?;
        for (asset, state) in self.assets.iter_mut().zip(next) {
            asset.rel_vol = state.into();
        }
        self.rel_vol_time = sampled_at;
        Ok(())
    }

    pub fn targets(&self) -> Vec<u16> {
        self.assets.iter().map(|a| a.params.target_bps).collect()
    }

    /// The whitelisted entry of (`program_id`, `pool`), if any.
    pub fn amm(&self, program_id: &Pubkey, pool: &Pubkey) -> Option<&AmmEntry> {
        self.amms.iter().find(|e| e.program_id == *program_id && e.pool == *pool)
    }

    /// The whitelisted pools a price of `wanted` reads when `pool_price_bound` is on, in whitelist order, with
    /// their asset indices: the supported pools whose two mints are vault assets and that `wanted` selects.
    pub fn price_pools(&self, wanted: impl Fn(usize, usize) -> bool) -> Vec<(AmmEntry, (usize, usize))> {
        if !self.params.pool_price_bound {
            return Vec::new();
        }
        self.amms
            .iter()
            .filter(|e| crate::amm::is_supported(&e.program_id))
            .filter_map(|e| Some((*e, e.assets(self)?)))
            .filter(|(_, (a, b))| wanted(*a, *b))
            .collect()
    }

    pub fn asset_index(&self, mint: &Pubkey) -> Option<usize> {
        self.assets.iter().position(|a| a.mint == *mint)
    }

    /// Reserve balances minus owed and escrowed amounts, in vault order.
    pub fn available_balances(&self, reserve_amounts: &[u64]) -> Result<Vec<u64>> {
        require!(reserve_amounts.len() == self.assets.len(), BallastError::LengthMismatch);
        self.assets
            .iter()
            .zip(reserve_amounts)
            .map(|(a, r)| a.available(*r).map_err(|_| error!(BallastError::UnexpectedBalanceChange)))
            .collect()
    }

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

    /// The asset at `index`, after checking that `mint`, `reserve` and `token_program` are its own.
    pub fn asset_accounts(
        &self,
        index: usize,
        mint: &Pubkey,
        reserve: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<&Asset> {
        let asset = self.assets.get(index).ok_or(BallastError::AssetIndexOutOfRange)?;
        require_keys_eq!(*mint, asset.mint, BallastError::MintMismatch);
        require_keys_eq!(*reserve, asset.reserve, BallastError::ReserveMismatch);
        require_keys_eq!(*token_program, asset.token_program, BallastError::WrongTokenProgram);
        Ok(asset)
    }

    pub fn require_active(&self) -> Result<()> {
        require!(self.status == VaultStatus::Active, BallastError::VaultNotActive);
        Ok(())
    }

    /// Every state rule in one place; called after each mutation.
    pub fn invariant(&self) -> Result<()> {
        require!(self.assets.len() <= MAX_ASSETS, BallastError::TooManyAssets);
        require!(self.amms.len() <= MAX_AMMS, BallastError::AmmWhitelistFull);
        require!(self.paused & !pause::ALL == 0, BallastError::InvalidPauseFlags);
        self.params.check(true)?;
        for (i, a) in self.assets.iter().enumerate() {
            a.params.check()?;
            require!(!self.assets[..i].iter().any(|b| b.mint == a.mint), BallastError::DuplicateMint);
        }
        if self.status == VaultStatus::Active {
            require!(self.assets.len() >= MIN_ASSETS, BallastError::TooFewAssets);
            require!(math::weights_sum_to_bps(&self.targets()), BallastError::WeightsDoNotSum);
            if let TargetMode::Cppi { safe_index, .. } = self.params.target_mode {
                require!((safe_index as usize) < self.assets.len(), BallastError::CppiOutOfBounds);
            }
        }
        if let Some(s) = &self.schedule {
            require!(
                s.from.len() == self.assets.len() && s.to.len() == self.assets.len() && s.end_slot > s.start_slot,
                BallastError::ScheduleInvalid
            );
            require!(math::weights_sum_to_bps(&s.to), BallastError::WeightsDoNotSum);
        }
        if let Some(p) = &self.pending_params {
            Self::check_pending(p, self.assets.len())?;
        }
        let withheld = self.fees.withheld.iter().try_fold(0u64, |acc, w| acc.checked_add(*w));
        require!(withheld.is_some_and(|w| w <= self.fees.pending_shares), BallastError::MathOverflow);
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
    pub fn check_pending(p: &PendingParams, asset_count: usize) -> Result<()> {
        p.params.check(false)?;
        require!(p.assets.len() == asset_count, BallastError::AssetCountMismatch);
        for a in &p.assets {
            a.check()?;
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

/// The vault PDA's seeds, owned so that the slices handed to `invoke_signed` can borrow them.
pub struct VaultSigner {
    creator: Pubkey,
    id: [u8; 8],
    bump: [u8; 1],
}

impl VaultSigner {
    pub fn seeds(&self) -> [&[u8]; 4] {
        [VAULT_SEED, self.creator.as_ref(), &self.id, &self.bump]
    }
}
