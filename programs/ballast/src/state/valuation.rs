//! The valuation cache: one account per vault holding, for every asset, the last oracle reading a permissionless
//! `refresh_valuation` checked and the reserve balance it read, stamped with the slot and the vault's
//! `valuation_seq`. An instruction that values the vault from the cache (instead of every `[oracle, reserve]`
//! pair, which no transaction can name past about 28 assets) accepts an entry only if it was refreshed in the
//! same slot and no instruction has changed the vault since (`Vault::valuation_seq`): within one slot and one
//! vault state the reading and the balance are what a direct read would have seen, and the instruction still
//! applies its own oracle limits to the reading.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::math::OracleReading;

/// Entries a cache holds: the capacity large vaults need (`docs/large-vaults.md`), independent of
/// `MAX_ASSETS` so the account's layout does not change when the asset limit does.
pub const CACHE_CAPACITY: usize = 128;

/// One asset's cached valuation inputs.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CacheEntry {
    pub price: i64,
    pub conf: u64,
    pub ema_price: i64,
    pub ema_conf: u64,
    pub publish_time: i64,
    /// The reserve's token balance when refreshed.
    pub reserve_amount: u64,
    /// Slot of the refresh (0: never refreshed).
    pub slot: u64,
    /// The vault's `valuation_seq` when refreshed.
    pub seq: u64,
    pub expo: i32,
    /// 0 when the reading passed the vault's oracle limits; otherwise the error code that refused it (the
    /// balance is still recorded, for flows that need no price: `withdraw_to_claim`).
    pub refused: u32,
}

impl CacheEntry {
    pub fn reading(&self) -> OracleReading {
        OracleReading {
            price: self.price,
            conf: self.conf,
            expo: self.expo,
            publish_time: self.publish_time,
            ema_price: self.ema_price,
            ema_conf: self.ema_conf,
        }
    }

    pub fn record(&mut self, reading: &OracleReading, reserve_amount: u64, slot: u64, seq: u64, refused: u32) {
        *self = CacheEntry {
            price: reading.price,
            conf: reading.conf,
            ema_price: reading.ema_price,
            ema_conf: reading.ema_conf,
            publish_time: reading.publish_time,
            reserve_amount,
            slot,
            seq,
            expo: reading.expo,
            refused,
        };
    }

    /// The entry's reading and reserve balance if it was refreshed in `slot` with the vault at `seq` and its
    /// reading passed; otherwise `ValuationStale` (another slot, or never), `ValuationOutdated` (the vault
    /// changed since) or `ValuationReadingRefused`.
    pub fn fresh(&self, slot: u64, seq: u64) -> Result<(OracleReading, u64)> {
        let balance = self.fresh_balance(slot, seq)?;
        require!(self.refused == 0, BallastError::ValuationReadingRefused);
        Ok((self.reading(), balance))
    }

    /// The reserve balance if the entry was refreshed in `slot` with the vault at `seq`, whether or not its
    /// reading passed (for flows that need no price).
    pub fn fresh_balance(&self, slot: u64, seq: u64) -> Result<u64> {
        require!(self.slot == slot && slot != 0, BallastError::ValuationStale);
        require!(self.seq == seq, BallastError::ValuationOutdated);
        Ok(self.reserve_amount)
    }
}

/// PDA `[VALUATION_SEED, vault]`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct ValuationCache {
    pub vault: Pubkey,
    pub bump: u8,
    pub padding: [u8; 7],
    pub entries: [CacheEntry; CACHE_CAPACITY],
}

impl ValuationCache {
    /// Account size with the discriminator.
    pub const SPACE: usize = 8 + std::mem::size_of::<ValuationCache>();
}

// The program creates the cache as a PDA, which may be at most 10 KiB (`MAX_PERMITTED_DATA_INCREASE`): 128
// entries of 72 bytes fit.
const _: () = assert!(std::mem::size_of::<CacheEntry>() == 72);
const _: () = assert!(ValuationCache::SPACE <= 10_240);
// Every asset a vault may hold has an entry.
const _: () = assert!(crate::constants::MAX_ASSETS <= CACHE_CAPACITY);
