//! Refund of a deposit request that was not settled in time. Works while paused.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::errors::BallastError;
use crate::events::DepositCancelledEvent;
use crate::instructions::accounts::reload_amount;
use crate::state::{DepositRequest, Vault};
use crate::token as tok;

#[derive(Accounts)]
pub struct CancelDeposit<'info> {
    #[account(mut)]
    pub depositor: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut, has_one = vault, has_one = depositor, close = depositor)]
    pub request: Box<Account<'info, DepositRequest>>,
    /// The escrowed asset's mint (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// The vault's reserve holding the escrow (checked in `validate`).
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub reserve: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    /// Receives the refund; any owner.
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub refund_to: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub asset_token_program: Interface<'info, TokenInterface>,
}

impl CancelDeposit<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        let (mint, reserve, program) = (self.mint.key(), self.reserve.key(), self.asset_token_program.key());
        vault.asset_accounts(self.request.asset_index as usize, &mint, &reserve, &program)?;
        require_keys_neq!(self.refund_to.key(), reserve, BallastError::DuplicateAccount);
        let now = Clock::get()?.unix_timestamp;
        // The expiry fixed at request: no later parameter change can keep a request from its refund.
        require!(now > self.request.expires_at, BallastError::DepositRequestNotExpired);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CancelDeposit>) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let request = &accounts.request;
        let idx = request.asset_index as usize;
        let asset = vault.assets[idx];
        let before = accounts.reserve.amount;
        let signer = vault.signer();
        let seeds = signer.seeds();
        tok::transfer(
            &accounts.asset_token_program.to_account_info(),
            &accounts.reserve.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.refund_to.to_account_info(),
            &vault.to_account_info(),
            request.amount,
            asset.decimals,
            Some(&[&seeds]),
        )?;
        let after = reload_amount(&accounts.reserve.to_account_info(), &asset.token_program, &asset.mint)?;
        require!(Some(after) == before.checked_sub(request.amount), BallastError::UnexpectedBalanceChange);
        let event = DepositCancelledEvent {
            vault: vault.key(),
            depositor: request.depositor,
            asset_index: request.asset_index,
            amount: request.amount,
        };
        let amount = request.amount;
        let vault = &mut ctx.accounts.vault;
        let a = &mut vault.assets[idx];
        a.pending_in = a.pending_in.checked_sub(amount).ok_or(BallastError::MathOverflow)?;
        vault.seal()?;
        crate::events::emit(event);
        Ok(())
    }
}
