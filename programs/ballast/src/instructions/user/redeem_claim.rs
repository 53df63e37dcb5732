//! Pays out what a claim holds for one asset (once its reserve can move again). Works while paused.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::errors::BallastError;
use crate::events::ClaimRedeemedEvent;
use crate::instructions::accounts::reload_amount;
use crate::state::{Claim, Vault};
use crate::token as tok;

#[derive(Accounts)]
pub struct RedeemClaim<'info> {
    pub owner: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut, has_one = vault, has_one = owner)]
    pub claim: Box<Account<'info, Claim>>,
    /// The asset's mint (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// The vault's reserve of the asset (checked in `validate`).
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub reserve: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    /// Receives the payout; any owner.
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub destination: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub asset_token_program: Interface<'info, TokenInterface>,
}

impl RedeemClaim<'_> {
    pub fn validate(&self, asset_index: u8) -> Result<()> {
        let (mint, reserve, program) = (self.mint.key(), self.reserve.key(), self.asset_token_program.key());
        self.vault.asset_accounts(asset_index as usize, &mint, &reserve, &program)?;
        require_keys_neq!(self.destination.key(), reserve, BallastError::DuplicateAccount);
        require!(self.claim.owed[asset_index as usize] > 0, BallastError::NothingToRedeem);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(asset_index))]
    pub fn handler(ctx: Context<RedeemClaim>, asset_index: u8) -> Result<()> {
        let i = asset_index as usize;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let asset = vault.assets[i];
        let amount = accounts.claim.owed[i];
        let before = accounts.reserve.amount;
        let signer = vault.signer();
        let seeds = signer.seeds();
        tok::transfer(
            &accounts.asset_token_program.to_account_info(),
            &accounts.reserve.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.destination.to_account_info(),
            &vault.to_account_info(),
            amount,
            asset.decimals,
            Some(&[&seeds]),
        )?;
        let after = reload_amount(&accounts.reserve.to_account_info(), &asset.token_program, &asset.mint)?;
        require!(Some(after) == before.checked_sub(amount), BallastError::UnexpectedBalanceChange);
        let (vault_key, owner) = (vault.key(), accounts.owner.key());
        ctx.accounts.claim.owed[i] = 0;
        let vault = &mut ctx.accounts.vault;
        let a = &mut vault.assets[i];
        a.owed = a.owed.checked_sub(amount).ok_or(BallastError::MathOverflow)?;
        vault.seal()?;
        crate::events::emit(ClaimRedeemedEvent { vault: vault_key, owner, asset_index, amount });
        Ok(())
    }
}
