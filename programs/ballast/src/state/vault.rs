//! The vault account and its operations: the rebalance auction's state, pauses, readings, the asset registry
//! and the invariant every mutation is checked against.

use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::BallastError;
use crate::math;
use crate::state::FeeState;

use super::{AmmEntry, Asset, PendingParams, ScheduleState, TargetMode, VaultParams};

/// Lifecycle of a vault: assets are added while `Configuring`, then governance activates it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum VaultStatus {
    Configuring,
    Active,
}

/// Pause flags. In-kind withdrawals have no flag: they can never be paused.
pub mod pause {
    pub const DEPOSITS: u8 = 1 << 0;
    pub const REBALANCE: u8 = 1 << 1;
    pub const GOVERNANCE: u8 = 1 << 2;
    /// Single-asset withdrawals (requests and settlements; cancelling and in-kind `withdraw` always work).
    pub const EXITS: u8 = 1 << 3;
    pub const ALL: u8 = DEPOSITS | REBALANCE | GOVERNANCE | EXITS;
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
    /// Changes with every instruction that changes the vault (`Vault::seal`): a valuation cache entry is
    /// only used while it still equals the entry's (`ValuationCache`).
    pub valuation_seq: u64,
    pub reserved: [u8; 44],
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
    pub const VERSION: u8 = 6;

    /// What one asset adds to the vault's largest serialized form: its `Asset`, its entries in a flash
    /// rebalance's `Flight` (three u64 and a i32 price exponent and three u16 limits), in a pending change
    /// (`AssetParams` and two schedule weights) and in a running schedule (two weights).
    pub const PER_ASSET_SPACE: usize =
        Asset::INIT_SPACE + (3 * 8 + 4 + 3 * 2) + super::AssetParams::INIT_SPACE + 2 * 2 + 2 * 2;

    /// Bytes the vault's account needs (discriminator included) to hold `assets` assets with every optional
    /// part present. A vault is created for none and grows by `PER_ASSET_SPACE` with each `add_asset` (an
    /// account a program creates or grows may gain at most 10 KiB an instruction).
    pub const fn space(assets: usize) -> usize {
        8 + Self::INIT_SPACE - (MAX_ASSETS - assets) * Self::PER_ASSET_SPACE
    }

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
            pause::EXITS => err!(BallastError::ExitsPaused),
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

    /// Reserve balances minus owed, escrowed and still-vesting amounts at `now`, in vault order.
    pub fn available_balances(&self, reserve_amounts: &[u64], now: i64) -> Result<Vec<u64>> {
        require!(reserve_amounts.len() == self.assets.len(), BallastError::LengthMismatch);
        self.assets
            .iter()
            .zip(reserve_amounts)
            .map(|(a, r)| a.available(*r, now).map_err(|_| error!(BallastError::UnexpectedBalanceChange)))
            .collect()
    }

    /// Sets `amounts[i]` base units of each asset vesting from `now` (charges a flow left in the vault: they
    /// join the holders' balances over `auction_secs`, the time the trades they pay for take; the end is
    /// fixed now, so a later change of `auction_secs` does not un-vest them).
    pub fn vest(&mut self, amounts: &[(usize, u64)], now: i64) -> Result<()> {
        use crate::errors::MathResultExt;
        let period = self.params.auction_secs;
        for (i, amount) in amounts {
            let asset = self.assets.get_mut(*i).ok_or(BallastError::AssetIndexOutOfRange)?;
            asset.vest(*amount, now, period).or_math_err()?;
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
    /// Marks the vault changed (valuation cache entries refreshed before are no longer used) and checks the
    /// invariants: the last step of every instruction that changes the vault.
    pub fn seal(&mut self) -> Result<()> {
        self.valuation_seq = self.valuation_seq.wrapping_add(1);
        self.invariant()
    }

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
