//! Seeds, limits and bounds. Every PDA seed lives here; constraints and clients refer to these names.

/// Seed of the vault PDA: `[VAULT_SEED, creator, vault_id (u64 LE)]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of the share mint PDA: `[SHARE_MINT_SEED, vault]`.
pub const SHARE_MINT_SEED: &[u8] = b"shares";
/// Seed of the locked-shares token account: `[LOCKED_SHARES_SEED, vault]`.
pub const LOCKED_SHARES_SEED: &[u8] = b"locked_shares";
/// Seed of a vault's valuation cache: `[VALUATION_SEED, vault]`.
pub const VALUATION_SEED: &[u8] = b"valuation";
/// Seed of a per-asset reserve token account: `[RESERVE_SEED, vault, mint]`.
pub const RESERVE_SEED: &[u8] = b"reserve";
/// Seed of a holder's claim account: `[CLAIM_SEED, vault, owner]`.
pub const CLAIM_SEED: &[u8] = b"claim";
/// Seed of a pending single-asset deposit: `[DEPOSIT_REQUEST_SEED, vault, depositor]`.
pub const DEPOSIT_REQUEST_SEED: &[u8] = b"deposit_request";
/// Seed of a pending single-asset withdrawal: `[WITHDRAW_REQUEST_SEED, vault, owner]`.
pub const WITHDRAW_REQUEST_SEED: &[u8] = b"withdraw_request";
/// Seed of the share account holding a withdrawal request's shares: `[WITHDRAW_ESCROW_SEED, request]`.
pub const WITHDRAW_ESCROW_SEED: &[u8] = b"withdraw_escrow";

/// Most assets a vault can hold. The vault's account grows with its assets (`Vault::space`); past
/// `DIRECT_MAX_ASSETS` its valuing instructions read the valuation cache and its holders leave through claims
/// (`docs/large-vaults.md`).
pub const MAX_ASSETS: usize = 128;
/// Most assets a vault may hold for every flow to fit one transaction naming each asset's accounts (in-kind
/// deposits and withdrawals, direct valuation). Larger vaults deposit single-asset and withdraw into claims.
pub const DIRECT_MAX_ASSETS: usize = 16;
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
/// Slippage cap bounds (bps). The floor is `fair output at mid × (1 − slippage cap)`, so together with the
/// bounty (at most `MAX_BOUNTY_BPS`) a keeper can take at most 4 % of a trade against the mid of the
/// readings it used (see docs/security.md).
pub const MIN_SLIPPAGE_BPS: u16 = 1;
pub const MAX_SLIPPAGE_BPS: u16 = 300;
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
/// Single-asset deposit fee bounds (bps); the floor is defence in depth behind delayed settlement.
pub const MIN_DEPOSIT_FEE_BPS: u16 = 5;
pub const MAX_DEPOSIT_FEE_BPS: u16 = 500;
/// Settlement delay bounds of deposit requests (seconds). The least delay is longer than the future skew
/// an oracle reading may have (`math::MAX_FUTURE_SKEW_SECS`, 5 s), so no reading valid when a request is
/// made can settle it, and a request and its settlement never fit in one transaction.
pub const MIN_DEPOSIT_DELAY_SECS: u32 = 6;
pub const MAX_DEPOSIT_DELAY_SECS: u32 = 300;
/// Settlement window bounds of deposit requests (seconds after the delay).
pub const MIN_DEPOSIT_WINDOW_SECS: u32 = 10;
pub const MAX_DEPOSIT_WINDOW_SECS: u32 = 3_600;
/// Settlement reads only fresh readings: published at most this long before the settling slot's clock,
/// so whoever settles cannot pick an older reading that is still inside the general age limit.
pub const SETTLEMENT_MAX_AGE_SECS: u64 = 1;
/// Upper bounds of the rebalance-specific oracle limits. A keeper picks the reading a rebalance uses
/// (Pyth pull oracles): within a few seconds the choice is worth a few bps at most.
pub const MAX_REBALANCE_ORACLE_AGE_SECS: u32 = 10;
pub const MAX_REBALANCE_CONF_BPS: u16 = 200;
/// Bounds of the cost-optimal band mode: the cost estimate (bps of a unit traded) and the risk aversion
/// (thousandths).
pub const MAX_COST_ESTIMATE_BPS: u16 = 1_000;
pub const MAX_RISK_AVERSION_MILLI: u32 = 1_000_000;
/// Longest band-check interval a cost-optimal band may assume (a week).
pub const MAX_CHECK_INTERVAL_SECS: u32 = 604_800;
/// Bounds of the rebalance auction (seconds from fair value to the slippage-cap floor): long enough for
/// keepers to compete, short enough that a vault out of band is not left waiting.
pub const MIN_AUCTION_SECS: u32 = 10;
pub const MAX_AUCTION_SECS: u32 = 3_600;
/// The auction's price moves in whole seconds (the cluster clock's resolution), so its step is bounded
/// instead: at least this many seconds per bps of the slippage cap (`auction_secs ≥ 2 × slippage_cap_bps`),
/// i.e. at most 0.5 bps a second. A keeper acting at the second a route clears the auction therefore pays
/// the vault at most 0.5 bps less than that route.
pub const AUCTION_SECS_PER_CAP_BPS: u32 = 2;
/// Bounds of the auction's heartbeat: an open auction that no valuing instruction has seen out of band
/// for longer than this is stale and restarts at fair value (it must exceed the rebalance readings' age
/// limit, or a valid reading could not keep it alive).
pub const MAX_AUCTION_HEARTBEAT_SECS: u32 = 120;
/// Bounds of the largest distance between a price and its Pyth EMA (bps of the EMA) at which the
/// performance fee's mark may move (and, where the program needs agreement, a reading counts).
pub const MIN_EMA_DIVERGENCE_BPS: u16 = 10;
pub const MAX_EMA_DIVERGENCE_BPS: u16 = 5_000;
/// Bounds of `max_pool_divergence_bps`: at least a pool's fee (an arbitraged pool's mid sits within it of the
/// market), at most 10 %.
pub const MIN_POOL_DIVERGENCE_BPS: u16 = 10;
pub const MAX_POOL_DIVERGENCE_BPS: u16 = 1_000;
/// Bounds of the trade cost charged to single-asset deposits (bps of the value the deposit makes the vault
/// trade): at least 1 bps, so a deposit never makes the vault trade for free.
pub const MIN_TRADE_COST_BPS: u16 = 1;
pub const MAX_TRADE_COST_BPS: u16 = 1_000;
/// Largest CPPI multiplier (10×).
pub const MAX_CPPI_MULTIPLIER_BPS: u32 = 100_000;

/// Fee bounds. The running fees: management at most 5 % a year, performance at most 30 % of the gain above
/// the high-water mark. Entry and exit fees at most 1 % each (they stay with the vault; a holder can always
/// leave for at most that).
pub const MAX_MANAGEMENT_FEE_BPS: u16 = 500;
pub const MAX_PERFORMANCE_FEE_BPS: u16 = 3_000;
pub const MAX_ENTRY_FEE_BPS: u16 = 100;
pub const MAX_EXIT_FEE_BPS: u16 = 100;
/// Most fee recipients (operator, host platform, managers, …).
pub const MAX_FEE_RECIPIENTS: usize = 4;
