use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::AmmWhitelistChangedEvent;
use crate::state::{pause, AmmEntry, Vault};

#[derive(Accounts)]
pub struct RemoveAmm<'info> {
    pub governance: Signer<'info>,
    #[account(mut, has_one = governance @ BallastError::NotGovernance)]
    pub vault: Box<Account<'info, Vault>>,
}

impl RemoveAmm<'_> {
    pub fn validate(&self, entry: &AmmEntry) -> Result<()> {
        require!(!self.vault.is_paused(pause::GOVERNANCE), BallastError::GovernancePaused);
        require!(self.vault.amms.contains(entry), BallastError::AmmNotWhitelisted);
        Ok(())
    }

    /// Removes a route; takes effect immediately (removing can only make the vault safer).
    #[access_control(ctx.accounts.validate(&entry))]
    pub fn handler(ctx: Context<RemoveAmm>, entry: AmmEntry) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.amms.retain(|e| *e != entry);
        vault.invariant()?;
        emit!(AmmWhitelistChangedEvent { vault: vault.key(), program_id: entry.program_id, pool: entry.pool, added: false });
        Ok(())
    }
}
