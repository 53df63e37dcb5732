//! The shares of a withdrawal request that was not settled in time go back to their owner. Works while paused
//! and whatever the paid asset's state (frozen, closed): it moves only shares.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, CloseAccount, Mint, Token, TokenAccount};

use crate::constants::WITHDRAW_ESCROW_SEED;
use crate::errors::BallastError;
use crate::events::WithdrawCancelledEvent;
use crate::math;
use crate::state::{Vault, WithdrawRequest};
use crate::token as tok;

#[derive(Accounts)]
pub struct CancelWithdraw<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(has_one = share_mint)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut, has_one = vault, has_one = owner, close = owner)]
    pub request: Box<Account<'info, WithdrawRequest>>,
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(
        mut,
        seeds = [WITHDRAW_ESCROW_SEED, request.key().as_ref()],
        bump = request.escrow_bump,
        token::mint = share_mint,
        token::authority = vault,
    )]
    pub escrow: Box<Account<'info, TokenAccount>>,
    /// Receives the shares back; any share account.
    #[account(mut, token::mint = share_mint)]
    pub shares_to: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl CancelWithdraw<'_> {
    pub fn validate(&self) -> Result<()> {
        // The expiry fixed at request: no later parameter change can keep a request from its refund.
        require!(Clock::get()?.unix_timestamp > self.request.expires_at, BallastError::WithdrawRequestNotExpired);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CancelWithdraw>) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let signer = vault.signer();
        let seeds = signer.seeds();
        // Everything in the escrow (the request's shares, and any sent there since: nobody can keep it from
        // closing).
        let shares = accounts.escrow.amount;
        tok::transfer(
            &accounts.token_program.to_account_info(),
            &accounts.escrow.to_account_info(),
            &accounts.share_mint.to_account_info(),
            &accounts.shares_to.to_account_info(),
            &vault.to_account_info(),
            shares,
            math::SHARE_DECIMALS,
            Some(&[&seeds]),
        )?;
        token::close_account(CpiContext::new_with_signer(
            accounts.token_program.key(),
            CloseAccount {
                account: accounts.escrow.to_account_info(),
                destination: accounts.owner.to_account_info(),
                authority: vault.to_account_info(),
            },
            &[&seeds],
        ))?;
        crate::events::emit(WithdrawCancelledEvent {
            vault: vault.key(),
            owner: accounts.owner.key(),
            asset_index: accounts.request.asset_index,
            shares,
        });
        Ok(())
    }
}
