//! In-kind deposit: the depositor adds every asset in the vault's current proportions and receives
//! shares. No oracle is needed: proportions, not prices, decide the shares. The management fee is accrued
//! first; with a performance fee, the deposit needs it crystallised on fresh readings in the same slot
//! (`accrue_fees` first in the same transaction), so that it never pays a fee on a gain made before it came.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use anchor_spl::token_2022::Token2022;

use crate::errors::{BallastError, MathResultExt};
use crate::events::DepositEvent;
use crate::instructions::accounts::{reload_amount, transfer_legs};
use crate::instructions::keeper::accrue;
use crate::math;
use crate::state::{pause, FeeMark, Vault};
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct DepositArgs {
    /// Most the depositor is willing to pay of each asset, in vault asset order.
    pub max_amounts_in: Vec<u64>,
    /// Fewest shares the depositor accepts (slippage guard).
    pub min_shares_out: u64,
}

/// Remaining accounts: `[mint_i, reserve_i, depositor_token_account_i]` for each asset in vault order.
#[derive(Accounts)]
pub struct Deposit<'info> {
    pub depositor: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    /// Receives the shares; any owner.
    #[account(mut, token::mint = share_mint)]
    pub depositor_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl Deposit<'_> {
    pub fn validate(&self, args: &DepositArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::DEPOSITS)?;
        require!(args.max_amounts_in.len() == vault.assets.len(), BallastError::AmountsLengthMismatch);
        require!(self.share_mint.supply > 0, BallastError::EmptyVaultNeedsSingleDeposit);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, Deposit<'info>>, args: DepositArgs) -> Result<()> {
        // Fees first: the management fee up to now; the performance fee must have been crystallised on fresh
        // readings just before (this deposit reads no prices).
        let clock = Clock::get()?;
        let minted = ctx.accounts.share_mint.supply;
        accrue(&mut ctx.accounts.vault, minted, &clock, FeeMark::Unpriced)?;
        ctx.accounts.vault.require_fresh_fee_mark(clock.slot)?;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let depositor = accounts.depositor.key();

        // Checks: every leg belongs to the vault and the depositor owns the source accounts.
        let legs = transfer_legs(vault, ctx.remaining_accounts)?;
        for (leg, asset) in legs.iter().zip(&vault.assets) {
            leg.require_live_mint(asset)?;
            require_keys_eq!(leg.user_account(asset)?.owner, depositor, BallastError::TokenAccountOwnerMismatch);
        }

        // Compute: shares round down, amounts in round up, against the holders' balances (owed and
        // escrowed amounts excluded) and every share outstanding (fee shares owed included); the entry fee's
        // shares are not minted (their value stays with the holders).
        // The supply it buys into counts the fee of a gain not crystallised yet as minted (it owns none of it).
        let supply = vault.entry_supply(minted, clock.slot)?;
        let reserves: Vec<u64> = legs.iter().map(|l| l.reserve_amount).collect();
        let balances = vault.available_balances(&reserves, clock.unix_timestamp)?;
        let entry_bps = vault.params.fees.entry_bps;
        let math::InKindDeposit { amounts, gross_shares, shares } =
            match math::in_kind_deposit(&args.max_amounts_in, &balances, supply, entry_bps) {
                Err(math::MathError::DivideByZero) => return err!(BallastError::EmptyVaultNeedsSingleDeposit),
                r => r.or_math_err()?,
            };
        require!(shares > 0, BallastError::ZeroShares);
        require!(shares >= args.min_shares_out, BallastError::SharesBelowMinimum);
        let kept = entry_fee_kept(&amounts, gross_shares, shares)?;

        // CPI: pull each asset, then mint shares.
        let token_ai = accounts.token_program.to_account_info();
        let token_2022_ai = accounts.token_2022_program.to_account_info();
        let depositor_ai = accounts.depositor.to_account_info();
        for ((leg, asset), amount) in legs.iter().zip(&vault.assets).zip(&amounts) {
            let program = tok::program_for(&asset.token_program, &token_ai, &token_2022_ai)?;
            tok::transfer(program, leg.user, leg.mint, leg.reserve, &depositor_ai, *amount, asset.decimals, None)?;
        }
        tok::mint_shares(
            &accounts.share_mint.to_account_info(),
            &accounts.depositor_shares.to_account_info(),
            vault,
            shares,
        )?;

        // Reconcile: each reserve grew by exactly what was pulled.
        for ((leg, asset), amount) in legs.iter().zip(&vault.assets).zip(&amounts) {
            let after = reload_amount(leg.reserve, &asset.token_program, &asset.mint)?;
            require!(
                after == leg.reserve_amount.checked_add(*amount).ok_or(BallastError::MathOverflow)?,
                BallastError::UnexpectedBalanceChange
            );
        }
        // The new shares are marked at this slot's entry price: a gain the performance fee's mark has not
        // followed yet (an EMA behind the price) stays the old holders' to pay.
        let vault_key = vault.key();
        let outstanding = ctx.accounts.vault.shares_outstanding(minted)?;
        ctx.accounts.vault.mark_entry(outstanding, shares, clock.slot)?;
        // The entry fee vests to the holders (a deposit and withdrawal in kind around this one cannot take it).
        ctx.accounts.vault.vest(&kept, clock.unix_timestamp)?;
        ctx.accounts.vault.seal()?;
        crate::events::emit(DepositEvent {
            vault: vault_key,
            depositor,
            amounts_in: amounts,
            shares_out: shares,
            share_supply_after: minted.checked_add(shares).ok_or(BallastError::MathOverflow)?,
        });
        Ok(())
    }
}

/// What the entry fee leaves with the holders, per asset: the part of each amount pulled that the unminted
/// shares (`gross_shares − shares`) paid for, rounded down.
fn entry_fee_kept(amounts: &[u64], gross_shares: u64, shares: u64) -> Result<Vec<(usize, u64)>> {
    amounts
        .iter()
        .map(|a| {
            math::mul_div_floor(*a as u128, gross_shares.saturating_sub(shares) as u128, gross_shares.max(1) as u128)
                .and_then(math::to_u64)
        })
        .collect::<core::result::Result<Vec<u64>, _>>()
        .or_math_err()
        .map(|k| k.into_iter().enumerate().collect())
}
