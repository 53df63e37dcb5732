//! `accrue_fees` (permissionless): accrues the running fees up to now on fresh oracle readings (the
//! performance fee is crystallised only on readings a rebalance could use, valued at their low bounds), then
//! mints every fee share owed into the recipients' share accounts by weight. Also the shared step every
//! valuing instruction runs first ([`accrue`]).

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token};

use crate::errors::{BallastError, MathResultExt};
use crate::events::FeesDistributed;
use crate::instructions::accounts::{load_valuation, PricedReserves};
use crate::math::{self, Rounding};
use crate::state::Vault;
use crate::token as tok;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then the share account of
/// every fee recipient with a weight, in the vault's recipient order.
#[derive(Accounts)]
pub struct AccrueFees<'info> {
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    pub token_program: Program<'info, Token>,
}

/// The vault's value at the readings' low bounds (what the performance fee is measured on).
pub fn nav_low(vault: &Vault, valuation: &PricedReserves) -> Result<u128> {
    valuation.nav(vault, |b| b.low, Rounding::Floor)
}

/// Accrues the running fees of `vault` (with `minted` shares in the mint) up to `now`, priced when `nav` is
/// given, and emits what was charged.
pub fn accrue(vault: &mut Account<Vault>, minted: u64, now: i64, nav: Option<u128>) -> Result<()> {
    let (accrual, elapsed) = vault.accrue_fees(minted, now, nav)?;
    crate::events::emit_fees(vault.key(), &accrual, elapsed, vault.fees.pending_shares);
    Ok(())
}

impl AccrueFees<'_> {
    pub fn validate(&self) -> Result<()> {
        self.vault.require_active()
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, AccrueFees<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let n = ctx.accounts.vault.assets.len();
        require!(ctx.remaining_accounts.len() >= 2 * n, BallastError::WrongRemainingAccounts);
        let (valuation_accounts, recipients) = ctx.remaining_accounts.split_at(2 * n);
        let fresh = ctx.accounts.vault.params.rebalance_oracle_limits();
        let valuation = load_valuation(&mut ctx.accounts.vault, valuation_accounts, clock.unix_timestamp, &fresh)?;
        let minted = ctx.accounts.share_mint.supply;
        let nav = nav_low(&ctx.accounts.vault, &valuation)?;
        accrue(&mut ctx.accounts.vault, minted, clock.unix_timestamp, Some(nav))?;
        ctx.accounts.distribute(recipients)?;
        ctx.accounts.vault.invariant()
    }
}

impl<'info> AccrueFees<'info> {
    /// Mints the owed fee shares into the recipients' accounts by weight (rounding remainders stay owed).
    fn distribute(&mut self, accounts: &[AccountInfo<'info>]) -> Result<()> {
        let vault = &self.vault;
        let used: Vec<_> = vault.params.fees.recipients.iter().filter(|r| r.weight_bps > 0).copied().collect();
        let pending = vault.fees.pending_shares;
        if pending == 0 || used.is_empty() {
            return Ok(());
        }
        require!(accounts.len() == used.len(), BallastError::FeeRecipientMismatch);
        let weights: Vec<u16> = used.iter().map(|r| r.weight_bps).collect();
        let parts = math::fees::split_by_weights(pending, &weights).or_math_err()?;
        let share_mint = self.share_mint.to_account_info();
        for ((recipient, info), part) in used.iter().zip(accounts).zip(&parts) {
            require_keys_eq!(info.key(), recipient.account, BallastError::FeeRecipientMismatch);
            let account = tok::load_token_account(info, &anchor_spl::token::ID, &self.share_mint.key())?;
            require!(account.owner != vault.key(), BallastError::FeeRecipientIsVault);
            tok::mint_shares(&share_mint, info, vault, *part)?;
        }
        let minted: u64 = parts.iter().sum();
        let vault = &mut self.vault;
        vault.fees.pending_shares = pending.checked_sub(minted).ok_or(BallastError::MathOverflow)?;
        crate::events::emit(FeesDistributed {
            vault: vault.key(),
            recipients: used.iter().map(|r| r.account).collect(),
            shares: parts,
            pending_shares: vault.fees.pending_shares,
        });
        Ok(())
    }
}
