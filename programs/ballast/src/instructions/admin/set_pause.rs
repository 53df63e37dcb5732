use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::PauseSetEvent;
use crate::state::{pause, Vault};

#[derive(Accounts)]
pub struct SetPause<'info> {
    /// Governance (any flags) or the guardian (may only add flags).
    pub authority: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
}

impl SetPause<'_> {
    pub fn validate(&self, flags: u8) -> Result<()> {
        let vault = &self.vault;
        let who = self.authority.key();
        require!(flags & !pause::ALL == 0, BallastError::InvalidPauseFlags);
        if who == vault.governance {
            return Ok(());
        }
        require!(vault.guardian != Pubkey::default() && who == vault.guardian, BallastError::NotGovernanceOrGuardian);
        require!(flags & vault.paused == vault.paused, BallastError::GuardianCannotUnpause);
        Ok(())
    }

    /// Sets the pause bitset (`pause::DEPOSITS | REBALANCE | GOVERNANCE`). Withdrawals cannot be paused.
    #[access_control(ctx.accounts.validate(flags))]
    pub fn handler(ctx: Context<SetPause>, flags: u8) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        let old = vault.paused;
        vault.paused = flags;
        // Pausing rebalancing closes the auction: its price must not relax while nobody may trade at it (it
        // reopens at fair value when next seen out of band after the pause).
        let closed = flags & pause::REBALANCE != 0 && vault.auction_started_at != 0;
        if closed {
            vault.close_auction();
        }
        vault.seal()?;
        crate::events::emit(PauseSetEvent {
            vault: vault.key(),
            by: ctx.accounts.authority.key(),
            old_flags: old,
            new_flags: flags,
        });
        if closed {
            crate::events::emit_auction(vault.key(), crate::state::AuctionChange::Closed);
        }
        Ok(())
    }
}
