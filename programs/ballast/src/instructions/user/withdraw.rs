//! In-kind withdrawal: burn shares, receive the pro-rata part of every reserve (rounded down).
//! Never paused and never needs an oracle, so depositors can always leave.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Mint, Token, TokenAccount};
use anchor_spl::token_2022::Token2022;

use crate::errors::{BallastError, MathResultExt};
use crate::events::WithdrawEvent;
use crate::instructions::accounts::{reload_amount, transfer_legs};
use crate::math;
use crate::state::Vault;
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawArgs {
    /// Shares to burn.
    pub shares: u64,
    /// Fewest base units of each asset the owner accepts, in vault asset order.
    pub min_amounts_out: Vec<u64>,
}

/// Remaining accounts: `[mint_i, reserve_i, destination_token_account_i]` for each asset in vault order.
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = share_mint)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = share_mint, token::authority = owner)]
    pub owner_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl Withdraw<'_> {
    pub fn validate(&self, args: &WithdrawArgs) -> Result<()> {
        require!(args.shares > 0, BallastError::ZeroAmount);
        require!(args.min_amounts_out.len() == self.vault.assets.len(), BallastError::AmountsLengthMismatch);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, Withdraw<'info>>, args: WithdrawArgs) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let legs = transfer_legs(vault, ctx.remaining_accounts)?;

        // Compute: amounts out round down.
        let supply = accounts.share_mint.supply;
        let balances: Vec<u64> = legs.iter().map(|l| l.reserve_amount).collect();
        let amounts = math::in_kind_amounts_out(args.shares, &balances, supply).or_math_err()?;
        require!(amounts.iter().any(|a| *a > 0), BallastError::ZeroWithdrawal);
        for (a, min) in amounts.iter().zip(&args.min_amounts_out) {
            require!(a >= min, BallastError::AmountBelowMinimum);
        }

        // CPI: burn first (fails if the owner lacks the shares), then pay out from the reserves.
        token::burn(
            CpiContext::new(
                token::ID,
                Burn {
                    mint: accounts.share_mint.to_account_info(),
                    from: accounts.owner_shares.to_account_info(),
                    authority: accounts.owner.to_account_info(),
                },
            ),
            args.shares,
        )?;
        let signer = vault.signer();
        let seeds = signer.seeds();
        let token_ai = accounts.token_program.to_account_info();
        let token_2022_ai = accounts.token_2022_program.to_account_info();
        let vault_ai = vault.to_account_info();
        for ((leg, asset), amount) in legs.iter().zip(&vault.assets).zip(&amounts) {
            let program = tok::program_for(&asset.token_program, &token_ai, &token_2022_ai)?;
            tok::transfer(
                program,
                leg.reserve,
                leg.mint,
                leg.user,
                &vault_ai,
                *amount,
                asset.decimals,
                Some(&[&seeds]),
            )?;
        }

        // Reconcile: each reserve fell by exactly what was paid.
        for ((leg, asset), amount) in legs.iter().zip(&vault.assets).zip(&amounts) {
            let after = reload_amount(leg.reserve, &asset.token_program, &asset.mint)?;
            require!(Some(after) == leg.reserve_amount.checked_sub(*amount), BallastError::UnexpectedBalanceChange);
        }
        emit!(WithdrawEvent {
            vault: vault.key(),
            owner: accounts.owner.key(),
            shares_burned: args.shares,
            amounts_out: amounts,
            share_supply_after: supply.checked_sub(args.shares).ok_or(BallastError::MathOverflow)?,
        });
        Ok(())
    }
}
