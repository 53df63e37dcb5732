//! Two-step governance transfer: the current governance names a successor, the successor accepts.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::{GovernanceAcceptedEvent, GovernanceTransferProposedEvent};
use crate::state::{pause, Vault};

use super::Governed;

impl Governed<'_> {
    fn validate_transfer(&self, new_governance: &Pubkey) -> Result<()> {
        self.vault.require_not_paused(pause::GOVERNANCE)?;
        require!(*new_governance != Pubkey::default(), BallastError::InvalidGovernance);
        Ok(())
    }

    /// Names `new_governance` as pending; it takes over only when it signs `accept_governance`.
    /// Calling again replaces the pending successor.
    #[access_control(ctx.accounts.validate_transfer(&new_governance))]
    pub fn transfer_governance(ctx: Context<Governed>, new_governance: Pubkey) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.pending_governance = new_governance;
        crate::events::emit(GovernanceTransferProposedEvent {
            vault: vault.key(),
            governance: vault.governance,
            pending_governance: new_governance,
        });
        Ok(())
    }
}

#[derive(Accounts)]
pub struct AcceptGovernance<'info> {
    pub pending_governance: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
}

impl AcceptGovernance<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        require!(vault.pending_governance != Pubkey::default(), BallastError::NoPendingGovernance);
        require_keys_eq!(vault.pending_governance, self.pending_governance.key(), BallastError::NotPendingGovernance);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<AcceptGovernance>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        let old = vault.governance;
        vault.governance = vault.pending_governance;
        vault.pending_governance = Pubkey::default();
        crate::events::emit(GovernanceAcceptedEvent {
            vault: vault.key(),
            old_governance: old,
            new_governance: vault.governance,
        });
        Ok(())
    }
}
