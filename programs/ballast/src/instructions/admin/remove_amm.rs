use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::AmmWhitelistChangedEvent;
use crate::state::{pause, AmmEntry};

use super::Governed;

impl Governed<'_> {
    fn validate_remove_amm(&self, entry: &AmmEntry) -> Result<()> {
        self.vault.require_not_paused(pause::GOVERNANCE)?;
        require!(self.vault.amms.contains(entry), BallastError::AmmNotWhitelisted);
        Ok(())
    }

    /// Removes a route; takes effect immediately (removing can only make the vault safer).
    #[access_control(ctx.accounts.validate_remove_amm(&entry))]
    pub fn remove_amm(ctx: Context<Governed>, entry: AmmEntry) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.amms.retain(|e| *e != entry);
        vault.invariant()?;
        crate::events::emit(AmmWhitelistChangedEvent {
            vault: vault.key(),
            program_id: entry.program_id,
            pool: entry.pool,
            added: false,
        });
        Ok(())
    }
}
