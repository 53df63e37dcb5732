//! Remaining-account layouts shared by several instructions. Each layout is checked in full against
//! the vault's asset registry: count, order and every key.
//!
//! - transfer legs (`deposit`, `withdraw`): `[mint_i, reserve_i, user_token_account_i]` for every asset i
//!   in vault order;
//! - valuation (`request_deposit`, `settle_deposit`, `request_withdraw`, `settle_withdraw`, `rebalance`,
//!   `rebalance_begin`, `poke`, `accrue_fees`): `[oracle_i, reserve_i]` for every asset i in vault order, or
//!   the vault's valuation cache alone (`ValuationSource`).

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::math::sources::PoolPrice;
use crate::math::{self, AssetPosition, OracleLimits, OracleReading, PriceBounds, Rounding, UsdPrice};
use crate::oracle;
use crate::state::{AmmEntry, Asset, Vault};
use crate::token::load_token_account;

/// One asset's accounts for an in-kind transfer. Only the keys of the mint and reserve are checked up
/// front (and the reserve's balance read); the mint's liveness and the user's account are checked by
/// the legs that actually move tokens, so an asset that pays nothing never blocks the others.
pub struct TransferLeg<'info> {
    pub mint: &'info AccountInfo<'info>,
    pub reserve: &'info AccountInfo<'info>,
    pub user: &'info AccountInfo<'info>,
    /// The reserve's token balance (owed and escrowed amounts included).
    pub reserve_amount: u64,
}

impl TransferLeg<'_> {
    /// The mint still belongs to the asset's token program (not closed).
    pub fn require_live_mint(&self, asset: &Asset) -> Result<()> {
        require_keys_eq!(*self.mint.owner, asset.token_program, BallastError::WrongTokenProgram);
        Ok(())
    }

    /// The user's token account, decoded and checked (asset's token program and mint).
    pub fn user_account(&self, asset: &Asset) -> Result<anchor_spl::token_interface::TokenAccount> {
        load_token_account(self.user, &asset.token_program, &asset.mint)
    }
}

/// Checks and decodes `[mint, reserve, user]` × assets.
pub fn transfer_legs<'info>(vault: &Vault, remaining: &'info [AccountInfo<'info>]) -> Result<Vec<TransferLeg<'info>>> {
    require!(remaining.len() == 3 * vault.assets.len(), BallastError::WrongRemainingAccounts);
    vault
        .assets
        .iter()
        .zip(remaining.chunks_exact(3))
        .map(|(asset, chunk)| {
            let (mint, reserve, user) = (&chunk[0], &chunk[1], &chunk[2]);
            require_keys_eq!(mint.key(), asset.mint, BallastError::MintMismatch);
            require_keys_eq!(reserve.key(), asset.reserve, BallastError::ReserveMismatch);
            require_keys_neq!(user.key(), asset.reserve, BallastError::DuplicateAccount);
            let reserve_account = load_token_account(reserve, &asset.token_program, &asset.mint)?;
            Ok(TransferLeg { mint, reserve, user, reserve_amount: reserve_account.amount })
        })
        .collect()
}

/// Oracle readings and reserve balances of every asset.
pub struct PricedReserves {
    pub readings: Vec<OracleReading>,
    /// The holders' balances: reserve balances minus owed and escrowed amounts.
    pub balances: Vec<u64>,
    /// The reserves' token balances as read (for reconciliation).
    pub reserve_amounts: Vec<u64>,
    /// Conservative and mid prices of every reading.
    pub bounds: Vec<PriceBounds>,
}

impl PricedReserves {
    /// Oldest publish time among the readings: what they are evidence of is true from then on at the
    /// latest.
    pub fn evidence_at(&self) -> i64 {
        self.readings.iter().map(|r| r.publish_time).min().unwrap_or(0)
    }

    /// Positions priced with one side of the bounds (`|b| b.mid`, `|b| b.high`, …).
    pub fn positions(&self, vault: &Vault, price: impl Fn(&PriceBounds) -> UsdPrice) -> Vec<AssetPosition> {
        vault
            .assets
            .iter()
            .zip(&self.balances)
            .zip(&self.bounds)
            .map(|((a, balance), b)| AssetPosition { balance: *balance, decimals: a.decimals, price: price(b) })
            .collect()
    }

    /// What every asset is priced from: its reading's bounds and its EMA's.
    pub fn sources(&self, vault: &Vault) -> Vec<math::sources::AssetSources> {
        vault
            .assets
            .iter()
            .zip(&self.readings)
            .zip(&self.bounds)
            .map(|((a, r), b)| math::sources::AssetSources { decimals: a.decimals, spot: *b, ema: r.ema_bounds().ok() })
            .collect()
    }

    /// A single-asset deposit of `amount` of asset `index` as request and settlement value it: the deposit at
    /// the least any source says (its price and its EMA at their lower confidence bounds, and every pool in
    /// `pools` trading it), the vault at the most (`math::sources`), and the share supply. A reading a sender
    /// held back, or a print the EMA has not followed, can therefore only value the deposit lower.
    pub fn deposit_quote(
        &self,
        vault: &Vault,
        index: usize,
        amount: u64,
        supply: u64,
        pools: &[PoolPrice],
    ) -> Result<math::DepositQuote> {
        use math::sources::{nav_bound, value_bound, Side};
        require!(index < vault.assets.len(), BallastError::AssetIndexOutOfRange);
        let sources = self.sources(vault);
        let nav = nav_bound(&self.balances, &sources, pools, Side::High).or_math_err()?;
        let value = value_bound(index, amount, &sources, pools, Side::Low).or_math_err()?;
        Ok(math::DepositQuote { value, nav, supply })
    }

    /// A single-asset withdrawal paid in asset `index` as request and settlement quote it: the vault at the
    /// least any source says (its prices and EMAs at their lower confidence bounds, and every pool in `pools`),
    /// the paid asset at the most (the holders' balance of it valued high), and the share supply. A reading a
    /// sender held back, or a pool pushed in the same transaction, can therefore only shrink the payout.
    pub fn exit_quote(
        &self,
        vault: &Vault,
        index: usize,
        supply: u64,
        pools: &[PoolPrice],
    ) -> Result<math::exit::ExitQuote> {
        use math::sources::{nav_bound, value_bound, Side};
        require!(index < vault.assets.len(), BallastError::AssetIndexOutOfRange);
        let sources = self.sources(vault);
        let nav = nav_bound(&self.balances, &sources, pools, Side::Low).or_math_err()?;
        let asset_amount = self.balances[index];
        // An empty reserve (or one priced at zero) pays nothing: no payout fits.
        let asset_value = value_bound(index, asset_amount, &sources, pools, Side::High).or_math_err()?;
        require!(asset_amount > 0 && asset_value > 0, BallastError::WithdrawalTooLarge);
        Ok(math::exit::ExitQuote { nav, supply, asset_value, asset_amount })
    }

    /// The holders' value (micro-USD) at one side of the bounds with the given rounding.
    pub fn nav(&self, vault: &Vault, price: impl Fn(&PriceBounds) -> UsdPrice, rounding: Rounding) -> Result<u128> {
        let values = math::position_values(&self.positions(vault, price), rounding).or_math_err()?;
        math::total_value(&values).or_math_err()
    }
}

/// Checks `[oracle, reserve]` × assets, reads every oracle with all checks under `limits` and records
/// the readings in the vault (publish times only move forward; `Vault::observe_all`).
pub fn load_valuation(
    vault: &mut Vault,
    remaining: &[AccountInfo],
    now: i64,
    limits: &OracleLimits,
) -> Result<PricedReserves> {
    require!(remaining.len() == 2 * vault.assets.len(), BallastError::WrongRemainingAccounts);
    let n = vault.assets.len();
    let (mut readings, mut reserve_amounts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (asset, chunk) in vault.assets.iter().zip(remaining.chunks_exact(2)) {
        let reading = oracle::read_asset_price(&chunk[0], asset, limits, now)?;
        require_keys_eq!(chunk[1].key(), asset.reserve, BallastError::ReserveMismatch);
        let reserve = load_token_account(&chunk[1], &asset.token_program, &asset.mint)?;
        readings.push(reading);
        reserve_amounts.push(reserve.amount);
    }
    priced_reserves(vault, readings, reserve_amounts, now)
}

/// Where an instruction's readings and reserve balances come from: every asset's `[oracle, reserve]`, or the
/// vault's valuation cache (`state::valuation`) refreshed in the same slot.
#[derive(Clone, Copy)]
pub enum ValuationSource<'a, 'info> {
    Accounts(&'a [AccountInfo<'info>]),
    Cache(&'a AccountInfo<'info>),
}

impl<'a, 'info> ValuationSource<'a, 'info> {
    /// Splits the valuation off the front of `remaining`: the cache when the first account is this program's
    /// (an oracle is the Pyth receiver's), otherwise `[oracle, reserve]` × `assets`; and the rest.
    pub fn split(assets: usize, remaining: &'a [AccountInfo<'info>]) -> Result<(Self, &'a [AccountInfo<'info>])> {
        match remaining.split_first() {
            Some((first, rest)) if *first.owner == crate::ID => Ok((ValuationSource::Cache(first), rest)),
            _ => {
                require!(remaining.len() >= 2 * assets, BallastError::WrongRemainingAccounts);
                let (accounts, rest) = remaining.split_at(2 * assets);
                Ok((ValuationSource::Accounts(accounts), rest))
            }
        }
    }

    /// The readings (checked under `limits` at `clock`, recorded in the vault) and balances, from this source.
    pub fn load(
        self,
        vault: &mut Vault,
        vault_key: &Pubkey,
        clock: &Clock,
        limits: &OracleLimits,
    ) -> Result<PricedReserves> {
        match self {
            ValuationSource::Accounts(accounts) => load_valuation(vault, accounts, clock.unix_timestamp, limits),
            ValuationSource::Cache(cache) => {
                load_cached_valuation(vault, vault_key, cache, clock.unix_timestamp, clock.slot, limits)
            }
        }
    }

    /// Every reserve's balance after a CPI that may only have moved the reserves `moved` (their accounts as
    /// passed to the instruction). From `[oracle, reserve]` accounts every reserve is re-read; from the cache
    /// the others are as before (no other reserve was passed to the CPI, so none can have moved).
    pub fn reserves_after(
        self,
        vault: &Vault,
        before: &[u64],
        moved: &[(usize, &AccountInfo<'info>)],
    ) -> Result<Vec<u64>> {
        match self {
            ValuationSource::Accounts(accounts) => vault
                .assets
                .iter()
                .zip(accounts.chunks_exact(2))
                .map(|(a, chunk)| reload_amount(&chunk[1], &a.token_program, &a.mint))
                .collect(),
            ValuationSource::Cache(_) => {
                let mut after = before.to_vec();
                for (i, info) in moved {
                    let asset = vault.assets.get(*i).ok_or(BallastError::AssetIndexOutOfRange)?;
                    require_keys_eq!(info.key(), asset.reserve, BallastError::ReserveMismatch);
                    *after.get_mut(*i).ok_or(BallastError::AssetIndexOutOfRange)? =
                        reload_amount(info, &asset.token_program, &asset.mint)?;
                }
                Ok(after)
            }
        }
    }
}

/// What [`load_valuation`] returns, from the vault's valuation cache (`state::valuation`) instead of the
/// `[oracle, reserve]` accounts: every asset's entry must have been refreshed in `slot` with the vault as it
/// is now (`ValuationStale`, `ValuationOutdated`, the log names the asset), and its reading passes `limits`
/// here as a direct read would.
pub fn load_cached_valuation(
    vault: &mut Vault,
    vault_key: &Pubkey,
    cache: &AccountInfo,
    now: i64,
    slot: u64,
    limits: &OracleLimits,
) -> Result<PricedReserves> {
    use crate::state::ValuationCache;
    use anchor_lang::Discriminator;
    require_keys_eq!(*cache.owner, crate::ID, ErrorCode::AccountOwnedByWrongProgram);
    let data = cache.try_borrow_data()?;
    let body = data
        .strip_prefix(ValuationCache::DISCRIMINATOR)
        .and_then(|b| b.get(..std::mem::size_of::<ValuationCache>()))
        .ok_or(ErrorCode::AccountDiscriminatorMismatch)?;
    let cache: &ValuationCache = bytemuck::try_from_bytes(body).map_err(|_| ErrorCode::AccountDidNotDeserialize)?;
    require_keys_eq!(cache.vault, *vault_key, BallastError::ValuationCacheMismatch);
    let n = vault.assets.len();
    let (mut readings, mut reserve_amounts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, (asset, entry)) in vault.assets.iter().zip(cache.entries.iter()).enumerate() {
        let (reading, reserve) = entry.fresh(slot, vault.valuation_seq).inspect_err(|_| {
            crate::events::log(&format!(
                "valuation cache entry of asset {i} is from slot {} (reading refused: {})",
                entry.slot, entry.refused
            ));
        })?;
        oracle::check_reading(&reading, asset.last_publish_time, limits, now)?;
        readings.push(reading);
        reserve_amounts.push(reserve);
    }
    priced_reserves(vault, readings, reserve_amounts, now)
}

/// Records `readings` in the vault (`Vault::observe_all`) and prices them with the reserves' balances.
fn priced_reserves(
    vault: &mut Vault,
    readings: Vec<OracleReading>,
    reserve_amounts: Vec<u64>,
    now: i64,
) -> Result<PricedReserves> {
    let bounds = readings.iter().map(|r| r.bounds().or_math_err()).collect::<Result<Vec<_>>>()?;
    vault.observe_all(&readings).or_math_err()?;
    let balances = vault.available_balances(&reserve_amounts, now)?;
    Ok(PricedReserves { readings, balances, reserve_amounts, bounds })
}

/// Splits remaining accounts into the valuation (`[oracle, reserve]` × `assets`, or the valuation cache) and
/// exactly the price accounts of `pools`.
pub fn split_valuation<'a, 'info>(
    assets: usize,
    pools: &[(AmmEntry, (usize, usize))],
    remaining: &'a [AccountInfo<'info>],
) -> Result<(ValuationSource<'a, 'info>, &'a [AccountInfo<'info>])> {
    let (source, prices) = ValuationSource::split(assets, remaining)?;
    require!(prices.len() == pool_price_account_count(pools), BallastError::WrongRemainingAccounts);
    Ok((source, prices))
}

/// How many accounts reading `pools` as prices takes: each pool, then its price accounts
/// (`amm::price_account_count`).
pub fn pool_price_account_count(pools: &[(AmmEntry, (usize, usize))]) -> usize {
    pools.iter().map(|(e, _)| 1 + crate::amm::price_account_count(&e.program_id)).sum()
}

/// Reads the mid price of every pool in `pools` (whitelisted entries with their asset indices, in whitelist
/// order) from `accounts`: each pool's account followed by its price accounts, all checked to be its own.
pub fn load_pool_prices(pools: &[(AmmEntry, (usize, usize))], accounts: &[AccountInfo]) -> Result<Vec<PoolPrice>> {
    require!(accounts.len() == pool_price_account_count(pools), BallastError::WrongRemainingAccounts);
    let mut at = 0;
    let mut prices = Vec::with_capacity(pools.len());
    for (entry, assets) in pools {
        let n = crate::amm::price_account_count(&entry.program_id);
        let key = (&entry.program_id, &entry.pool);
        prices.push(crate::amm::pool_price(key, *assets, &accounts[at], &accounts[at + 1..at + 1 + n])?);
        at += 1 + n;
    }
    Ok(prices)
}

/// The prices of a single-asset flow in asset `index` (a deposit or withdrawal request, or its settlement):
/// `[oracle, reserve]` × assets (or the valuation cache) read with every check under `limits` and recorded
/// (`ValuationSource::load`), then
/// `check` on the readings (a settlement's window), then the whitelisted pools trading the asset, which must
/// agree with the oracle (`require_pools_agree`). `remaining`: the valuation accounts, then the pools' price
/// accounts.
pub fn load_flow_valuation(
    vault: &mut Vault,
    vault_key: &Pubkey,
    index: usize,
    remaining: &[AccountInfo],
    clock: &Clock,
    limits: &OracleLimits,
    check: impl FnOnce(&[OracleReading]) -> Result<()>,
) -> Result<(PricedReserves, Vec<PoolPrice>)> {
    let pool_list = vault.asset_pools(index);
    let (source, price_accounts) = split_valuation(vault.assets.len(), &pool_list, remaining)?;
    let valuation = source.load(vault, vault_key, clock, limits)?;
    check(&valuation.readings)?;
    let pools = load_pool_prices(&pool_list, price_accounts)?;
    require_pools_agree(&valuation, vault, &pool_list, &pools)?;
    Ok((valuation, pools))
}

/// The limits of a settlement's readings: at most `SETTLEMENT_MAX_AGE_SECS` old, the vault's confidence cap.
pub fn settlement_limits(vault: &Vault) -> OracleLimits {
    OracleLimits {
        max_age_secs: crate::constants::SETTLEMENT_MAX_AGE_SECS,
        max_conf_bps: vault.params.oracle_max_conf_bps as u64,
    }
}

/// Refuses a single-asset flow (`PoolPriceDivergence`) while one of the whitelisted `pools` it reads prices its
/// asset further than the vault's `max_pool_divergence_bps` from the oracle, and names that pool in the log.
/// Anyone may settle, and a pool pushed inside the settlement's transaction could otherwise lower what the
/// user gets as far as their minimum; a held-back reading, which the pools would correct, is refused too.
fn require_pools_agree(
    valuation: &PricedReserves,
    vault: &Vault,
    pool_list: &[(AmmEntry, (usize, usize))],
    pools: &[PoolPrice],
) -> Result<()> {
    let sources = valuation.sources(vault);
    let bound = vault.params.max_pool_divergence_bps;
    if let Some((k, bps)) = math::sources::first_divergent_pool(pools, &sources, bound) {
        let pool = pool_list.get(k).map(|(e, _)| e.pool).unwrap_or_default();
        crate::events::log(&format!("pool {pool} prices its asset {bps} bps from the oracle (bound {bound} bps)"));
        return err!(BallastError::PoolPriceDivergence);
    }
    Ok(())
}

/// The share mint's supply (after a CPI).
pub fn share_supply(share_mint: &AccountInfo) -> Result<u64> {
    use anchor_lang::AccountDeserialize;
    Ok(anchor_spl::token::Mint::try_deserialize(&mut &share_mint.try_borrow_data()?[..])?.supply)
}

/// Current amount of a token account (after a CPI).
pub fn reload_amount(info: &AccountInfo, token_program: &Pubkey, mint: &Pubkey) -> Result<u64> {
    Ok(load_token_account(info, token_program, mint)?.amount)
}
