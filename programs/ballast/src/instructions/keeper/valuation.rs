//! The valuation cache (`state::valuation`): created once per vault by anyone who pays its rent, refreshed by
//! anyone in batches of assets, read by valuing instructions in the same slot.
//!
//! `refresh_valuation` must be a top-level instruction (`RefreshByCpi`): a program that could refresh inside
//! its own call could read, move and value in one frame what a top-level refresh would have caught between
//! transactions. The accounts it is given must be the assets' own (pinned oracle, reserve: a wrong one fails
//! the transaction); a reading the vault's oracle limits refuse (stale, too uncertain, ...), or a pinned oracle
//! account that cannot be read at all (closed, re-owned, unverified), is skipped with an event when the batch
//! has more than one asset (its reserve balance is still recorded, with the reason, for withdrawals into
//! claims), and fails the transaction when it is alone, so one bad feed does not hold back the rest of a batch
//! and a caller refreshing one asset learns why.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{get_stack_height, TRANSACTION_LEVEL_STACK_HEIGHT};

use crate::constants::VALUATION_SEED;
use crate::create::create_pda_account;
use crate::errors::BallastError;
use crate::events::{ValuationCacheCreatedEvent, ValuationRefreshedEvent};
use crate::math::OracleReading;
use crate::oracle;
use crate::state::{ValuationCache, Vault};
use crate::token::load_token_account;

#[derive(Accounts)]
pub struct InitValuationCache<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub vault: Box<Account<'info, Vault>>,
    /// CHECK: created here at the PDA checked by `seeds` (over any lamports sent to it first: `create.rs`), then
    /// written as the vault's `ValuationCache`; an existing account is refused in `create_pda_account`.
    #[account(mut, seeds = [VALUATION_SEED, vault.key().as_ref()], bump)]
    pub cache: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl InitValuationCache<'_> {
    pub fn handler(ctx: Context<InitValuationCache>) -> Result<()> {
        let accounts = &ctx.accounts;
        let (vault, bump) = (accounts.vault.key(), ctx.bumps.cache);
        let cache = accounts.cache.to_account_info();
        create_pda_account(
            &accounts.payer.to_account_info(),
            &cache,
            ValuationCache::SPACE,
            &crate::ID,
            &[VALUATION_SEED, vault.as_ref(), &[bump]],
            &accounts.system_program.to_account_info(),
        )?;
        {
            use anchor_lang::Discriminator;
            let mut data = cache.try_borrow_mut_data()?;
            let (discriminator, body) = data.split_at_mut(ValuationCache::DISCRIMINATOR.len());
            discriminator.copy_from_slice(ValuationCache::DISCRIMINATOR);
            let state: &mut ValuationCache = bytemuck::try_from_bytes_mut(body)
                .map_err(|_| error!(anchor_lang::error::ErrorCode::AccountDidNotSerialize))?;
            state.vault = vault;
            state.bump = bump;
        }
        crate::events::emit(ValuationCacheCreatedEvent { vault, cache: cache.key() });
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshValuationArgs {
    /// Index of the first asset refreshed; the remaining accounts give `[oracle, reserve]` for it and the
    /// assets after it, in vault order.
    pub first: u16,
}

/// Remaining accounts: `[oracle_i, reserve_i]` for assets `first`, `first + 1`, … (at least one).
#[derive(Accounts)]
pub struct RefreshValuation<'info> {
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut, seeds = [VALUATION_SEED, vault.key().as_ref()], bump = cache.load()?.bump)]
    pub cache: AccountLoader<'info, ValuationCache>,
}

impl RefreshValuation<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(get_stack_height() == TRANSACTION_LEVEL_STACK_HEIGHT, BallastError::RefreshByCpi);
        self.vault.require_active()
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, RefreshValuation<'info>>, args: RefreshValuationArgs) -> Result<()> {
        let clock = Clock::get()?;
        let vault = &ctx.accounts.vault;
        let remaining = ctx.remaining_accounts;
        let count = remaining.len() / 2;
        let first = args.first as usize;
        require!(
            remaining.len().is_multiple_of(2) && count >= 1 && first.saturating_add(count) <= vault.assets.len(),
            BallastError::RefreshOutOfRange
        );
        let limits = vault.params.oracle_limits();
        let mut cache = ctx.accounts.cache.load_mut()?;
        let (mut refreshed, mut skipped) = (Vec::with_capacity(count), Vec::new());
        for (k, chunk) in remaining.chunks_exact(2).enumerate() {
            let i = first + k;
            let index = u16::try_from(i).map_err(|_| error!(BallastError::RefreshOutOfRange))?;
            let asset = &vault.assets[i];
            // The accounts must be the asset's own, in a batch too.
            require_keys_eq!(chunk[0].key(), asset.oracle, BallastError::OracleAccountMismatch);
            require_keys_eq!(chunk[1].key(), asset.reserve, BallastError::ReserveMismatch);
            let reserve = load_token_account(&chunk[1], &asset.token_program, &asset.mint)?;
            // The pinned oracle account unreadable (closed, re-owned, unverified, ...) or its reading refused by
            // the limits: the same verdict.
            let (reading, verdict) = match oracle::read_asset_reading(&chunk[0], asset) {
                Ok(r) => (r, oracle::check_reading(&r, asset.last_publish_time, &limits, clock.unix_timestamp)),
                Err(e) => (OracleReading::default(), Err(e)),
            };
            let entry = &mut cache.entries[i];
            match verdict {
                Ok(()) => {
                    entry.record(&reading, reserve.amount, clock.slot, vault.valuation_seq, 0);
                    refreshed.push(index);
                }
                Err(e) if count > 1 => {
                    // Skipped for valuation; its balance is still recorded (with the reason), so a withdrawal
                    // into a claim, which needs no price, is never held back by one feed or its account.
                    let code = match &e {
                        anchor_lang::error::Error::AnchorError(a) => a.error_code_number,
                        anchor_lang::error::Error::ProgramError(_) => 0,
                    };
                    crate::events::log(&format!("asset {i} skipped: {e}"));
                    entry.record(&reading, reserve.amount, clock.slot, vault.valuation_seq, code.max(1));
                    skipped.push((index, code));
                }
                Err(e) => return Err(e),
            }
        }
        crate::events::emit(ValuationRefreshedEvent {
            vault: vault.key(),
            slot: clock.slot,
            seq: vault.valuation_seq,
            refreshed,
            skipped_assets: skipped.iter().map(|(i, _)| *i).collect(),
            skipped_errors: skipped.iter().map(|(_, c)| *c).collect(),
        });
        Ok(())
    }
}
