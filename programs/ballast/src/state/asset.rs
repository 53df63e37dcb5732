//! One asset of the vault (its mint, reserve, pinned oracle, parameters, readings and volatility) and an
//! approved AMM route.

use anchor_lang::prelude::*;

use crate::math;

use super::{AssetParams, Vault};

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
    /// Base units the vault kept from flows' charges (fees, trade charges), joining the holders' balance
    /// linearly from `vesting_from` until `vesting_until` (`math::shares::vesting_left`): a deposit and
    /// withdrawal in kind around the settlement that kept them cannot take them. A charge vests over
    /// `auction_secs` when nothing else is vesting; one added to what still is joins it at the amount-weighted
    /// end of the two (`math::vesting_until`), so it may finish sooner, never in the slot it was added.
    pub vesting: u64,
    pub vesting_from: i64,
    pub vesting_until: i64,
}

/// Per-asset flags.
pub mod asset_flags {
    /// Governance acknowledged, when listing, that the mint has a freeze authority.
    pub const FREEZE_AUTHORITY_ACKNOWLEDGED: u8 = 1 << 0;
}

impl Asset {
    /// What the holders own of `reserve_amount` (the reserve's balance) at `now`: owed and escrowed amounts
    /// are excluded, and so is what is still vesting of the charges kept from flows.
    pub fn available(&self, reserve_amount: u64, now: i64) -> math::MathResult<u64> {
        use math::SafeMath;
        let vesting = self.vesting_left(now)?;
        reserve_amount.safe_sub(self.owed)?.safe_sub(self.pending_in)?.safe_sub(vesting)
    }

    /// Base units still vesting at `now`.
    pub fn vesting_left(&self, now: i64) -> math::MathResult<u64> {
        math::vesting_left(self.vesting, self.vesting_from, self.vesting_until, now)
    }

    /// Sets `amount` more base units vesting from `now` over `vesting_secs`: what was still vesting joins it
    /// and the whole vests until the amount-weighted end of the two (`math::vesting_until`).
    pub fn vest(&mut self, amount: u64, now: i64, vesting_secs: u32) -> math::MathResult<()> {
        use math::SafeMath;
        if amount == 0 {
            return Ok(());
        }
        let left = self.vesting_left(now)?;
        self.vesting_until = math::vesting_until(left, self.vesting_until, amount, now, vesting_secs)?;
        self.vesting = left.safe_add(amount)?;
        self.vesting_from = now;
        Ok(())
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
