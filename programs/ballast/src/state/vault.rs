use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::BallastError;
use crate::math;

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
        Ok(())
    }

    pub fn oracle_limits(&self) -> math::OracleLimits {
        math::OracleLimits {
            max_age_secs: self.oracle_max_age_secs as u64,
            max_conf_bps: self.oracle_max_conf_bps as u64,
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
        require!(self.target_bps > 0 && self.target_bps as u64 <= math::BPS, BallastError::WeightsDoNotSum);
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
    /// Reserved for volatility state and future fields.
    pub reserved: [u8; 64],
}

/// An approved AMM route: program id and pool.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct AmmEntry {
    pub program_id: Pubkey,
    pub pool: Pubkey,
}

/// A proposed parameter change waiting for its timelock.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct PendingParams {
    pub params: VaultParams,
    #[max_len(MAX_ASSETS)]
    pub assets: Vec<AssetParams>,
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
    pub reserved: [u8; 128],
}

impl Vault {
    pub const VERSION: u8 = 1;

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

    pub fn targets(&self) -> Vec<u16> {
        self.assets.iter().map(|a| a.params.target_bps).collect()
    }

    pub fn asset_index(&self, mint: &Pubkey) -> Option<usize> {
        self.assets.iter().position(|a| a.mint == *mint)
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
        }
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
