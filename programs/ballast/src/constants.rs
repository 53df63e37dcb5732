//! Seeds, limits and bounds. Every PDA seed lives here; constraints and clients refer to these names.

/// Seed of the vault PDA: `[VAULT_SEED, creator, vault_id (u64 LE)]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of the share mint PDA: `[SHARE_MINT_SEED, vault]`.
pub const SHARE_MINT_SEED: &[u8] = b"shares";
/// Seed of the locked-shares token account: `[LOCKED_SHARES_SEED, vault]`.
pub const LOCKED_SHARES_SEED: &[u8] = b"locked_shares";
/// Seed of a per-asset reserve token account: `[RESERVE_SEED, vault, mint]`.
pub const RESERVE_SEED: &[u8] = b"reserve";

/// Most assets a vault can hold.
pub const MAX_ASSETS: usize = 16;
/// Fewest assets an active vault holds.
pub const MIN_ASSETS: usize = 2;
/// Most whitelisted (AMM program, pool) entries per vault.
pub const MAX_AMMS: usize = 8;

/// ε band bounds per asset (bps of vault value).
pub const MIN_BAND_BPS: u16 = 1;
pub const MAX_BAND_BPS: u16 = 2_500;
/// Per-asset max trade bounds (bps of vault value per rebalance).
pub const MIN_MAX_TRADE_BPS: u16 = 1;
pub const MAX_MAX_TRADE_BPS: u16 = 10_000;
/// Slippage cap bounds (bps).
pub const MIN_SLIPPAGE_BPS: u16 = 1;
pub const MAX_SLIPPAGE_BPS: u16 = 1_000;
/// Oracle limits.
pub const MIN_ORACLE_MAX_AGE_SECS: u32 = 1;
pub const MAX_ORACLE_MAX_AGE_SECS: u32 = 3_600;
pub const MIN_ORACLE_CONF_BPS: u16 = 1;
pub const MAX_ORACLE_CONF_BPS: u16 = 1_000;
/// Rebalance cooldown upper bound (slots; about a week at 400 ms).
pub const MAX_COOLDOWN_SLOTS: u64 = 1_512_000;
/// Keeper bounty bounds (bps of the trade's value).
pub const MAX_BOUNTY_BPS: u16 = 100;
/// Governance timelock upper bound (30 days).
pub const MAX_TIMELOCK_SECS: u32 = 30 * 24 * 3_600;
/// Volatility EWMA time constant bounds (1 minute to 30 days).
pub const MIN_VOL_TAU_SECS: u32 = 60;
pub const MAX_VOL_TAU_SECS: u32 = 30 * 24 * 3_600;
/// Largest confidence multiplier of a volatility-scaled band.
pub const MAX_CONF_MULTIPLIER: u16 = 100;
/// Largest CPPI multiplier (10×).
pub const MAX_CPPI_MULTIPLIER_BPS: u32 = 100_000;
