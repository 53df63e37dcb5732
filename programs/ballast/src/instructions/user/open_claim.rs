//! Creates a holder's claim account, where withdrawals that skip assets record what is still owed.
//! Anyone may pay for it; it always belongs to `owner`. Pre-funding the address cannot block it.
//!
//! A claim written before vaults held more than 16 assets (`Claim::LEGACY_SPACE`: 16 amounts) is grown in place
//! to today's layout instead (the same fields first, the new amounts zero): what it owes is kept and becomes
//! redeemable again.

use anchor_lang::prelude::*;

use crate::constants::{CLAIM_SEED, MAX_ASSETS};
use crate::create::{create_pda_account, grow_account, write_account};
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
    /// refused in `create_pda_account`, except a claim of the 16-asset layout, which is grown to today's.
    #[account(mut, seeds = [CLAIM_SEED, vault.key().as_ref(), owner.as_ref()], bump)]
    pub claim: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl OpenClaim<'_> {
    pub fn handler(ctx: Context<OpenClaim>, owner: Pubkey) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = accounts.vault.key();
        let bump = ctx.bumps.claim;
        let info = accounts.claim.to_account_info();
        if *info.owner == crate::ID {
            use anchor_lang::Discriminator;
            let legacy =
                info.data_len() == Claim::LEGACY_SPACE && info.try_borrow_data()?.starts_with(Claim::DISCRIMINATOR);
            require!(legacy, BallastError::AccountAlreadyExists);
            let (payer, system) = (accounts.payer.to_account_info(), accounts.system_program.to_account_info());
            grow_account(&payer, &info, 8 + Claim::INIT_SPACE, &system)?;
            info.try_borrow_mut_data()?[Claim::LEGACY_SPACE..].fill(0);
            crate::events::emit(ClaimOpenedEvent { vault, owner, claim: accounts.claim.key() });
            return Ok(());
        }
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
