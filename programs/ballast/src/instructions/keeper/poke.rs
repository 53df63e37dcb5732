//! Permissionless crank: reads every oracle (all checks) so that the vault's volatility estimates and
//! newest publish times stay current between rebalances.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::PokeEvent;
use crate::instructions::accounts::load_valuation;
use crate::math::adaptive;
use crate::state::Vault;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order.
#[derive(Accounts)]
pub struct Poke<'info> {
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
}

impl Poke<'_> {
    pub fn validate(&self) -> Result<()> {
        self.vault.require_active()
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, Poke<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let limits = ctx.accounts.vault.params.oracle_limits();
        load_valuation(&mut ctx.accounts.vault, ctx.remaining_accounts, clock.unix_timestamp, &limits)?;
        let vault = &mut ctx.accounts.vault;
        vault.finalize_schedule(clock.slot);
        vault.invariant()?;
        crate::events::emit(PokeEvent {
            vault: vault.key(),
            vol_bps: vault.assets.iter().map(|a| adaptive::annual_vol_bps(&a.vol.into())).collect(),
        });
        Ok(())
    }
}
