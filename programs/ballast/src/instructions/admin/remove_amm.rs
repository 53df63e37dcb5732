use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::AmmWhitelistChangedEvent;
use crate::state::{pause, AmmEntry};

use super::Governed;

impl Governed<'_> {
    fn validate_remove_amm(&self, pool: &Pubkey) -> Result<()> {
        self.vault.require_not_paused(pause::GOVERNANCE)?;
        require!(self.vault.amms.iter().any(|e| e.pool == *pool), BallastError::AmmNotWhitelisted);
        Ok(())
    }

    /// Removes the route through `pool`; takes effect immediately (removing can only make the vault safer;
    /// the pool is no longer a price source either).
    #[access_control(ctx.accounts.validate_remove_amm(&pool))]
    pub fn remove_amm(ctx: Context<Governed>, pool: Pubkey) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        let entry: AmmEntry = *vault.amms.iter().find(|e| e.pool == pool).ok_or(BallastError::AmmNotWhitelisted)?;
        vault.amms.retain(|e| e.pool != pool);
        vault.seal()?;
        crate::events::emit(AmmWhitelistChangedEvent {
            vault: vault.key(),
            program_id: entry.program_id,
            pool: entry.pool,
            added: false,
        });
        Ok(())
    }
}
