//! Step two of a single-asset deposit (anyone may send it; keepers do): value the escrowed deposit again
//! with oracle readings published at least `deposit_delay_secs` after the request, and mint shares at
//! the worse of the two valuations for the depositor, minus the deposit fee (which stays in the vault).
//!
//! Why the worse of two: the sender of a transaction picks which valid price update the program reads
//! and may know the next one. A request valued only at request time lets a depositor who sees a move
//! coming sell the moving asset to the vault at the old price; valued only at settlement, the settler
//! could pick the moment. Taking the lower deposit value and the higher share price of the two leaves
//! no choice of reading or timing that values the deposit above what it was worth at either point.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::errors::{BallastError, MathResultExt};
use crate::events::DepositSettledEvent;
use crate::instructions::accounts::load_valuation;
use crate::math;
use crate::state::{pause, DepositRequest, Vault};
use crate::token as tok;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order.
#[derive(Accounts)]
pub struct SettleDeposit<'info> {
    /// Anyone (a keeper); pays only the transaction fee.
    pub settler: Signer<'info>,
    #[account(mut, has_one = share_mint, has_one = locked_shares, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(
        mut,
        has_one = vault,
        has_one = depositor,
        close = depositor,
    )]
    pub request: Box<Account<'info, DepositRequest>>,
    /// CHECK: receives the request account's rent; must be the request's depositor (`has_one`).
    #[account(mut)]
    pub depositor: UncheckedAccount<'info>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    /// Vault-owned account that receives the locked shares of the vault's first deposit.
    #[account(mut)]
    pub locked_shares: Box<Account<'info, TokenAccount>>,
    /// The share account named in the request (checked in `validate`).
    #[account(mut, token::mint = share_mint)]
    pub shares_destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl SettleDeposit<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::DEPOSITS)?;
        require_keys_eq!(
            self.shares_destination.key(),
            self.request.shares_destination,
            BallastError::SharesDestinationMismatch
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            now <= vault.params.deposit_terms().expires_at(self.request.requested_at),
            BallastError::DepositRequestExpired
        );
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, SettleDeposit<'info>>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let request = (*ctx.accounts.request).clone();
        let idx = request.asset_index as usize;

        // Prices: every reading checked, and every one published after the settlement delay.
        let params = ctx.accounts.vault.params;
        let terms = params.deposit_terms();
        let earliest = request.requested_at.saturating_add(terms.delay_secs as i64);
        let valuation = load_valuation(&mut ctx.accounts.vault, ctx.remaining_accounts, now, &params.oracle_limits())?;
        require!(valuation.readings.iter().all(|r| r.publish_time >= earliest), BallastError::DepositRequestTooEarly);

        // Compute: the worse of the two valuations, the fee kept by the vault.
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let supply = accounts.share_mint.supply;
        let now_quote = valuation.deposit_quote(vault, idx, request.amount, supply)?;
        let settled = math::settle_deposit(
            &math::DepositQuote {
                value: request.value_at_request,
                nav: request.nav_at_request,
                supply: request.supply_at_request,
            },
            &now_quote,
            terms.fee_bps,
        );
        let out = match settled {
            Err(math::MathError::DivideByZero) if supply == 0 => return err!(BallastError::FirstDepositTooSmall),
            r => r.or_math_err()?,
        };
        require!(out.shares.to_depositor > 0, BallastError::ZeroShares);
        require!(out.shares.to_depositor >= request.min_shares_out, BallastError::SharesBelowMinimum);

        // CPI: mint shares (and the locked seed shares on the vault's first deposit).
        let share_mint = accounts.share_mint.to_account_info();
        tok::mint_shares(&share_mint, &accounts.locked_shares.to_account_info(), vault, out.shares.locked)?;
        tok::mint_shares(&share_mint, &accounts.shares_destination.to_account_info(), vault, out.shares.to_depositor)?;
        let supply_after = supply
            .checked_add(out.shares.to_depositor)
            .and_then(|s| s.checked_add(out.shares.locked))
            .ok_or(BallastError::MathOverflow)?;
        let event = DepositSettledEvent {
            vault: vault.key(),
            depositor: request.depositor,
            settler: accounts.settler.key(),
            asset_index: request.asset_index,
            amount: request.amount,
            value_at_request: request.value_at_request,
            value_at_settlement: now_quote.value,
            value_used: out.value,
            fee_value: out.fee_value,
            nav_at_request: request.nav_at_request,
            nav_at_settlement: now_quote.nav,
            shares_out: out.shares.to_depositor,
            locked_shares: out.shares.locked,
            share_supply_after: supply_after,
        };

        // Commit: the escrowed amount joins the vault's value.
        let vault = &mut ctx.accounts.vault;
        let a = &mut vault.assets[idx];
        a.pending_in = a.pending_in.checked_sub(request.amount).ok_or(BallastError::MathOverflow)?;
        vault.invariant()?;
        crate::events::emit(event);
        Ok(())
    }
}
