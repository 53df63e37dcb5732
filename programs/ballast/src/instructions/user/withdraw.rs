//! In-kind withdrawal: burn shares, receive the pro-rata part of every reserve (rounded down).
//! Never paused and never needs an oracle, so depositors can always leave.
//!
//! One asset never blocks the others: a leg that pays nothing needs no live mint, and a holder may name
//! assets to **skip** (`skip_mask`, bit i = asset i), for example a reserve frozen by its mint's freeze
//! authority. The shares are burned in full; what the skipped assets would have paid is recorded in the
//! holder's claim account and kept aside in the vault (`Asset::owed`, outside its value, deposits and later
//! withdrawals) until `redeem_claim` pays it. Nothing is forfeited and nothing is lost silently: the event
//! lists every amount paid and every amount owed.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Mint, Token, TokenAccount};
use anchor_spl::token_2022::Token2022;

use crate::errors::{BallastError, MathResultExt};
use crate::events::WithdrawEvent;
use crate::instructions::accounts::{reload_amount, transfer_legs, TransferLeg};
use crate::instructions::keeper::accrue;
use crate::math;
use crate::state::{Claim, FeeMark, Vault};
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawArgs {
    /// Shares to burn.
    pub shares: u64,
    /// Fewest base units of each asset the owner accepts (paid or, for skipped assets, owed), in vault
    /// asset order.
    pub min_amounts_out: Vec<u64>,
    /// Assets not to pay out now (bit i = asset i); their amounts go to the owner's claim account.
    pub skip_mask: u128,
}

/// Remaining accounts: `[mint_i, reserve_i, destination_token_account_i]` for each asset in vault order.
/// For a skipped asset or one that pays nothing, the mint and destination are not read (any account with
/// the mint's address and any destination will do).
#[derive(Accounts)]
pub struct Withdraw<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = share_mint, token::authority = owner)]
    pub owner_shares: Box<Account<'info, TokenAccount>>,
    /// The owner's claim account; required when `skip_mask` is not zero.
    #[account(mut, has_one = vault, has_one = owner)]
    pub claim: Option<Box<Account<'info, Claim>>>,
    pub token_program: Program<'info, Token>,
    pub token_2022_program: Program<'info, Token2022>,
}

impl Withdraw<'_> {
    pub fn validate(&self, args: &WithdrawArgs) -> Result<()> {
        require!(args.shares > 0, BallastError::ZeroAmount);
        let n = self.vault.assets.len();
        require!(args.min_amounts_out.len() == n, BallastError::AmountsLengthMismatch);
        require!(n >= 128 || args.skip_mask >> n == 0, BallastError::InvalidSkipMask);
        require!(args.skip_mask == 0 || self.claim.is_some(), BallastError::ClaimAccountRequired);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, Withdraw<'info>>, args: WithdrawArgs) -> Result<()> {
        // Fees first: the management fee up to now (no prices: a withdrawal never waits for an oracle).
        let minted = ctx.accounts.share_mint.supply;
        let now = Clock::get()?.unix_timestamp;
        accrue(&mut ctx.accounts.vault, minted, &Clock::get()?, FeeMark::Unpriced)?;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let legs = transfer_legs(vault, ctx.remaining_accounts)?;

        // Compute: pro-rata of what the vault holds for its holders (owed and escrowed amounts excluded) over
        // every share outstanding (fee shares owed included), less the exit fee, rounded down.
        let supply = vault.shares_outstanding(minted)?;
        let reserves: Vec<u64> = legs.iter().map(|l| l.reserve_amount).collect();
        let available = vault.available_balances(&reserves, now)?;
        let math::InKindPayout { gross, net: amounts } =
            math::in_kind_payout(args.shares, &available, supply, vault.params.fees.exit_bps).or_math_err()?;
        require!(amounts.iter().any(|a| *a > 0), BallastError::ZeroWithdrawal);
        for (a, min) in amounts.iter().zip(&args.min_amounts_out) {
            require!(a >= min, BallastError::AmountBelowMinimum);
        }

        // CPI: burn first (fails if the owner lacks the shares), then pay every leg that is not skipped.
        burn_shares(&accounts.share_mint, &accounts.owner_shares, &accounts.owner, args.shares)?;
        let (paid, owed) = pay_out(accounts, &legs, &amounts, args.skip_mask)?;

        // Reconcile: each reserve fell by exactly what was paid.
        reconcile(&legs, vault, &paid)?;
        let event = WithdrawEvent {
            vault: vault.key(),
            owner: accounts.owner.key(),
            shares_burned: args.shares,
            amounts_out: paid,
            skip_mask: args.skip_mask,
            amounts_owed: owed.clone(),
            share_supply_after: minted.checked_sub(args.shares).ok_or(BallastError::MathOverflow)?,
        };

        // Commit: the exit fee vests to the holders who stay; skipped amounts move from the holders' pool to the
        // owner's claim.
        let kept: Vec<(usize, u64)> = gross.iter().zip(&amounts).map(|(g, a)| g - a).enumerate().collect();
        ctx.accounts.vault.vest(&kept, now)?;
        if owed.iter().any(|o| *o > 0) {
            let accounts = &mut *ctx.accounts;
            let claim = accounts.claim.as_mut().ok_or(BallastError::ClaimAccountRequired)?;
            owe(claim, &mut accounts.vault, &owed)?;
        }
        ctx.accounts.vault.seal()?;
        crate::events::emit(event);
        Ok(())
    }
}

/// Burns `shares` from the owner's share account (fails if the owner lacks them): every in-kind withdrawal's
/// first CPI.
pub(crate) fn burn_shares<'info>(
    share_mint: &Account<'info, Mint>,
    from: &Account<'info, TokenAccount>,
    owner: &Signer<'info>,
    shares: u64,
) -> Result<()> {
    let burn =
        Burn { mint: share_mint.to_account_info(), from: from.to_account_info(), authority: owner.to_account_info() };
    token::burn(CpiContext::new(token::ID, burn), shares)
}

/// Each reserve fell by exactly what was paid from it.
fn reconcile(legs: &[TransferLeg], vault: &Vault, paid: &[u64]) -> Result<()> {
    for ((leg, asset), p) in legs.iter().zip(&vault.assets).zip(paid) {
        if *p > 0 {
            let after = reload_amount(leg.reserve, &asset.token_program, &asset.mint)?;
            require!(Some(after) == leg.reserve_amount.checked_sub(*p), BallastError::UnexpectedBalanceChange);
        }
    }
    Ok(())
}

/// Moves the skipped amounts `owed` from the holders' pool to the owner's claim.
pub(crate) fn owe(claim: &mut Claim, vault: &mut Vault, owed: &[u64]) -> Result<()> {
    for (c, o) in claim.owed.iter_mut().zip(owed) {
        *c = c.checked_add(*o).ok_or(BallastError::MathOverflow)?;
    }
    for (a, o) in vault.assets.iter_mut().zip(owed) {
        a.owed = a.owed.checked_add(*o).ok_or(BallastError::MathOverflow)?;
    }
    Ok(())
}

/// Pays every leg of `amounts` that is not skipped (`skip_mask`) from its reserve, the vault signing; returns
/// what was paid and what is owed (the skipped amounts) per asset.
fn pay_out<'info>(
    accounts: &Withdraw<'info>,
    legs: &[TransferLeg<'info>],
    amounts: &[u64],
    skip_mask: u128,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let vault = &accounts.vault;
    let signer = vault.signer();
    let seeds = signer.seeds();
    let token_ai = accounts.token_program.to_account_info();
    let token_2022_ai = accounts.token_2022_program.to_account_info();
    let vault_ai = vault.to_account_info();
    let mut paid = vec![0u64; amounts.len()];
    let mut owed = vec![0u64; amounts.len()];
    for (i, ((leg, asset), amount)) in legs.iter().zip(&vault.assets).zip(amounts).enumerate() {
        if *amount == 0 {
            continue;
        }
        if skip_mask & (1u128 << i) != 0 {
            owed[i] = *amount;
            continue;
        }
        leg.require_live_mint(asset)?;
        leg.user_account(asset)?;
        let program = tok::program_for(&asset.token_program, &token_ai, &token_2022_ai)?;
        tok::transfer(program, leg.reserve, leg.mint, leg.user, &vault_ai, *amount, asset.decimals, Some(&[&seeds]))?;
        paid[i] = *amount;
    }
    Ok((paid, owed))
}
