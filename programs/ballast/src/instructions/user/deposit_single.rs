//! Single-asset deposit valued at the conservative oracle price. Also the vault's first deposit: an
//! empty vault has no proportions for an in-kind deposit to follow.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, MintTo, Token, TokenAccount};
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::errors::{BallastError, MathResultExt};
use crate::events::DepositSingleEvent;
use crate::instructions::accounts::{load_valuation, reload_amount};
use crate::math::{self, Rounding};
use crate::state::{pause, Vault};
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct DepositSingleArgs {
    /// Index of the deposited asset in the vault's asset list.
    pub asset_index: u8,
    /// Exact amount of the asset to deposit (base units).
    pub amount: u64,
    /// Fewest shares the depositor accepts.
    pub min_shares_out: u64,
}

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order (all assets are priced to
/// value the vault).
#[derive(Accounts)]
pub struct DepositSingle<'info> {
    pub depositor: Signer<'info>,
    #[account(mut, has_one = share_mint, has_one = locked_shares)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    /// Vault-owned account that receives the locked shares of the first deposit.
    #[account(mut)]
    pub locked_shares: Box<Account<'info, TokenAccount>>,
    /// Receives the shares; any owner.
    #[account(mut, token::mint = share_mint)]
    pub depositor_shares: Box<Account<'info, TokenAccount>>,
    /// The deposited asset's mint; must be the vault's asset at `asset_index` (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// The vault's reserve of that asset (checked in `validate`).
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub reserve: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    #[account(mut, token::mint = mint, token::authority = depositor, token::token_program = asset_token_program)]
    pub depositor_token: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub asset_token_program: Interface<'info, TokenInterface>,
}

impl DepositSingle<'_> {
    pub fn validate(&self, args: &DepositSingleArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::DEPOSITS)?;
        require!(args.amount > 0, BallastError::ZeroAmount);
        let asset = vault.assets.get(args.asset_index as usize).ok_or(BallastError::AssetIndexOutOfRange)?;
        require_keys_eq!(self.mint.key(), asset.mint, BallastError::MintMismatch);
        require_keys_eq!(self.reserve.key(), asset.reserve, BallastError::ReserveMismatch);
        require_keys_eq!(self.asset_token_program.key(), asset.token_program, BallastError::WrongTokenProgram);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, DepositSingle<'info>>, args: DepositSingleArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let idx = args.asset_index as usize;

        // Prices: every oracle checked and recorded.
        let valuation = load_valuation(&mut ctx.accounts.vault, ctx.remaining_accounts, now)?;

        // Compute: deposit valued low, vault valued high, shares rounded down.
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let positions_high = valuation.positions(vault, |b| b.high);
        let nav_high =
            math::total_value(&math::position_values(&positions_high, Rounding::Ceil).or_math_err()?).or_math_err()?;
        let asset = vault.assets[idx];
        let low = valuation.bounds[idx].low;
        let value_in = math::value_of(args.amount, asset.decimals, low, Rounding::Floor).or_math_err()?;
        let supply = accounts.share_mint.supply;
        let out = match math::shares_for_value(value_in, nav_high, supply) {
            Err(math::MathError::DivideByZero) if supply == 0 => return err!(BallastError::FirstDepositTooSmall),
            r => r.or_math_err()?,
        };
        require!(out.to_depositor > 0, BallastError::ZeroShares);
        require!(out.to_depositor >= args.min_shares_out, BallastError::SharesBelowMinimum);

        // CPI: pull the asset, mint shares (and the locked seed shares on the first deposit).
        let reserve_before = accounts.reserve.amount;
        tok::transfer(
            &accounts.asset_token_program.to_account_info(),
            &accounts.depositor_token.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.reserve.to_account_info(),
            &accounts.depositor.to_account_info(),
            args.amount,
            asset.decimals,
            None,
        )?;
        let signer = vault.signer();
        let seeds = signer.seeds();
        let mint_shares = |to: AccountInfo<'info>, amount: u64| -> Result<()> {
            token::mint_to(
                CpiContext::new_with_signer(
                    token::ID,
                    MintTo { mint: accounts.share_mint.to_account_info(), to, authority: vault.to_account_info() },
                    &[&seeds],
                ),
                amount,
            )
        };
        if out.locked > 0 {
            mint_shares(accounts.locked_shares.to_account_info(), out.locked)?;
        }
        mint_shares(accounts.depositor_shares.to_account_info(), out.to_depositor)?;

        // Reconcile: the reserve grew by exactly the amount.
        let after = reload_amount(&accounts.reserve.to_account_info(), &asset.token_program, &asset.mint)?;
        require!(
            after == reserve_before.checked_add(args.amount).ok_or(BallastError::MathOverflow)?,
            BallastError::UnexpectedBalanceChange
        );
        let supply_after = supply
            .checked_add(out.to_depositor)
            .and_then(|s| s.checked_add(out.locked))
            .ok_or(BallastError::MathOverflow)?;
        emit!(DepositSingleEvent {
            vault: vault.key(),
            depositor: accounts.depositor.key(),
            asset_index: args.asset_index,
            amount_in: args.amount,
            value_in,
            nav_before: nav_high,
            shares_out: out.to_depositor,
            locked_shares: out.locked,
            share_supply_after: supply_after,
        });
        Ok(())
    }
}
