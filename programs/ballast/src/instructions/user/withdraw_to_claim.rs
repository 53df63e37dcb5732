//! In-kind withdrawal of a vault too large for one transaction to name every reserve: burn the shares once and
//! record the pro-rata part of every reserve (less the exit fee, rounded down) in the holder's claim, to be paid
//! out asset by asset by `redeem_claim` (several in one transaction). Never paused and never needs a price.
//!
//! The balances come from the valuation cache, refreshed in the same slot with the vault unchanged since
//! (`ValuationStale`, `ValuationOutdated`): the reserves as a direct read would see them. A refresh records an
//! asset's balance even when its oracle reading is refused, so one bad feed does not hold the withdrawal back;
//! a frozen reserve only delays its own redemption.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::VALUATION_SEED;
use crate::errors::{BallastError, MathResultExt};
use crate::events::WithdrawEvent;
use crate::instructions::keeper::accrue;
use crate::math;
use crate::state::{Claim, FeeMark, ValuationCache, Vault};

use super::withdraw::{burn_shares, owe};

#[derive(Accounts)]
pub struct WithdrawToClaim<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = share_mint, token::authority = owner)]
    pub owner_shares: Box<Account<'info, TokenAccount>>,
    /// The owner's claim account (`open_claim`).
    #[account(mut, has_one = vault, has_one = owner)]
    pub claim: Box<Account<'info, Claim>>,
    /// The vault's valuation cache, every entry refreshed in this slot (balances only: readings may be refused).
    #[account(seeds = [VALUATION_SEED, vault.key().as_ref()], bump = cache.load()?.bump)]
    pub cache: AccountLoader<'info, ValuationCache>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawToClaim<'_> {
    pub fn handler(ctx: Context<WithdrawToClaim>, shares: u64) -> Result<()> {
        require!(shares > 0, BallastError::ZeroAmount);
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        // The balances first, against the vault as the refresh saw it.
        let reserves = {
            let vault = &ctx.accounts.vault;
            let cache = ctx.accounts.cache.load()?;
            let entries = cache.entries.iter().take(vault.assets.len()).enumerate();
            entries
                .map(|(i, e)| {
                    e.fresh_balance(clock.slot, vault.valuation_seq).inspect_err(|_| {
                        crate::events::log(&format!("valuation cache entry of asset {i} is from slot {}", e.slot))
                    })
                })
                .collect::<Result<Vec<u64>>>()?
        };
        // Fees: the management fee up to now (no prices), as an in-kind `withdraw`.
        let minted = ctx.accounts.share_mint.supply;
        accrue(&mut ctx.accounts.vault, minted, &clock, FeeMark::Unpriced)?;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let supply = vault.shares_outstanding(minted)?;
        let available = vault.available_balances(&reserves, now)?;
        let math::InKindPayout { gross, net: amounts } =
            math::in_kind_payout(shares, &available, supply, vault.params.fees.exit_bps).or_math_err()?;
        require!(amounts.iter().any(|a| *a > 0), BallastError::ZeroWithdrawal);

        // CPI: burn (fails if the owner lacks the shares); nothing leaves the reserves here.
        burn_shares(&accounts.share_mint, &accounts.owner_shares, &accounts.owner, shares)?;
        let n = vault.assets.len();
        let event = WithdrawEvent {
            vault: vault.key(),
            owner: accounts.owner.key(),
            shares_burned: shares,
            amounts_out: vec![0; n],
            skip_mask: u128::MAX >> (128 - n),
            amounts_owed: amounts.clone(),
            share_supply_after: minted.checked_sub(shares).ok_or(BallastError::MathOverflow)?,
        };

        // Commit: the exit fee vests to the holders who stay; the amounts move to the owner's claim.
        let kept: Vec<(usize, u64)> = gross.iter().zip(&amounts).map(|(g, a)| g - a).enumerate().collect();
        let accounts = &mut *ctx.accounts;
        accounts.vault.vest(&kept, now)?;
        owe(&mut accounts.claim, &mut accounts.vault, &amounts)?;
        accounts.vault.seal()?;
        crate::events::emit(event);
        Ok(())
    }
}
