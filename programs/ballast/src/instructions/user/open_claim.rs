//! Creates a holder's claim account, where withdrawals that skip assets record what is still owed.
//! Anyone may pay for it; it always belongs to `owner`. Pre-funding the address cannot block it.

use anchor_lang::prelude::*;

use crate::constants::{CLAIM_SEED, MAX_ASSETS};
use crate::create::{create_pda_account, write_account};
use crate::errors::BallastError;
use crate::events::ClaimOpenedEvent;
use crate::state::{Claim, Vault};

#[derive(Accounts)]
#[instruction(owner: Pubkey)]
pub struct OpenClaim<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    /// CHECK: created here at the PDA checked by `seeds`, then written as a `Claim`; an existing account is
    /// refused in `create_pda_account`.
    #[account(mut, seeds = [CLAIM_SEED, vault.key().as_ref(), owner.as_ref()], bump)]
    pub claim: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl OpenClaim<'_> {
    pub fn handler(ctx: Context<OpenClaim>, owner: Pubkey) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = accounts.vault.key();
        let bump = ctx.bumps.claim;
        create_pda_account(
            &accounts.payer.to_account_info(),
            &accounts.claim.to_account_info(),
            8 + Claim::INIT_SPACE,
            &crate::ID,
            &[CLAIM_SEED, vault.as_ref(), owner.as_ref(), &[bump]],
            &accounts.system_program.to_account_info(),
        )?;
        write_account(&accounts.claim.to_account_info(), &Claim { vault, owner, bump, owed: [0; MAX_ASSETS] })?;
        crate::events::emit(ClaimOpenedEvent { vault, owner, claim: accounts.claim.key() });
        Ok(())
    }
}
