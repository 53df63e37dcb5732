//! Permissionless crank: reads every oracle (all checks) so that the vault's volatility estimates and
//! newest publish times stay current between rebalances, and keeps the rebalance auction in step with the
//! bands: it opens the auction when an asset is outside its band and none is running, renews a running one
//! (its price relaxes only while it is seen out of band at least every `auction_heartbeat_secs`), and
//! closes it when every asset is inside.
//!
//! The auction is only opened or closed on readings that a rebalance could use (at most
//! `rebalance_max_age_secs` old, confidence within `rebalance_max_conf_bps`): an old reading that shows
//! the vault out of band cannot start the auction's clock early. And it is opened only on readings whose
//! every price is within `max_ema_divergence_bps` of its Pyth EMA: a poke that would open the auction on a
//! print the EMA has not followed is refused (`OracleDivergence`).
//!
//! The readings and balances come from every asset's `[oracle, reserve]` or, when the only remaining account
//! is the vault's valuation cache, from its entries refreshed in the same slot (`ValuationSource`).

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::events::PokeEvent;
use crate::instructions::accounts::ValuationSource;
use crate::instructions::keeper::{accrue, fee_mark};
use crate::math::{self, adaptive, Rounding};
use crate::state::{AuctionChange, FeeMark, Vault};

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, or the vault's valuation cache.
#[derive(Accounts)]
pub struct Poke<'info> {
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    /// The vault's share mint (its supply scales a CPPI floor, which sets targets).
    pub share_mint: Box<Account<'info, anchor_spl::token::Mint>>,
}

impl Poke<'_> {
    pub fn validate(&self) -> Result<()> {
        self.vault.require_active()
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, Poke<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let limits = ctx.accounts.vault.params.oracle_limits();
        let vault_key = ctx.accounts.vault.key();
        let n = ctx.accounts.vault.assets.len();
        let (source, rest) = ValuationSource::split(n, ctx.remaining_accounts)?;
        require!(rest.is_empty(), BallastError::WrongRemainingAccounts);
        let valuation = source.load(&mut ctx.accounts.vault, &vault_key, &clock, &limits)?;
        let minted = ctx.accounts.share_mint.supply;
        let vault = &mut ctx.accounts.vault;
        vault.finalize_schedule(clock.slot);
        let fresh = vault.params.rebalance_oracle_limits();
        let rebalance_grade = valuation.readings.iter().zip(&vault.assets).all(|(r, a)| {
            math::oracle_validity(r, clock.unix_timestamp, a.last_publish_time, &fresh) == math::OracleValidity::Valid
        });
        // Fees first: the performance fee only on readings a rebalance could use (an old high cannot
        // crystallise it) that agree with their EMA, the management fee always.
        let mark = if rebalance_grade { fee_mark(vault, &valuation)? } else { FeeMark::Unpriced };
        accrue(vault, minted, &clock, mark)?;
        let supply = vault.shares_outstanding(minted)?;
        let auction = if rebalance_grade {
            let values =
                math::position_values(&valuation.positions(vault, |b| b.mid), Rounding::Floor).or_math_err()?;
            let nav = math::total_value(&values).or_math_err()?;
            let limits = vault.limits_in_force(&valuation.readings, nav, supply, clock.slot).or_math_err()?;
            let change =
                vault.observe_bands(&values, &limits, clock.unix_timestamp, &valuation.readings).or_math_err()?;
            // An asset out of band and no auction running, but a price too far from its EMA: one print does
            // not start the auction's clock (retry once the EMA agrees).
            require!(change != AuctionChange::NotOpened, BallastError::OracleDivergence);
            change
        } else {
            AuctionChange::Unchanged
        };
        vault.seal()?;
        crate::events::emit(PokeEvent {
            vault: vault.key(),
            vol_bps: vault.assets.iter().map(|a| adaptive::annual_vol_bps(&a.vol.into())).collect(),
        });
        crate::events::emit_auction(vault.key(), auction);
        Ok(())
    }
}
