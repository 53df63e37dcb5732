//! Step one of a single-asset deposit: the tokens move into the reserve (kept aside, outside the vault's
//! value) and the valuation at request time is recorded. Shares come later, from `settle_deposit`, at a
//! price published after the request, so nobody can pick or foresee the price their deposit is valued at.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, TokenAccount};
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::constants::DEPOSIT_REQUEST_SEED;
use crate::create::{create_pda_account, write_account};
use crate::errors::{BallastError, MathResultExt};
use crate::events::DepositRequestedEvent;
use crate::instructions::accounts::{load_flow_valuation, reload_amount};
use crate::instructions::keeper::accrue;
use crate::math;
use crate::state::{pause, DepositRequest, FeeMark, Vault};
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RequestDepositArgs {
    /// Index of the deposited asset in the vault's asset list.
    pub asset_index: u8,
    /// Exact amount of the asset to deposit (base units).
    pub amount: u64,
    /// Fewest shares the depositor accepts at settlement; below it the request cannot settle and is
    /// refunded by `cancel_deposit` after expiry.
    pub min_shares_out: u64,
}

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then (with `pool_price_bound`)
/// the price accounts of every whitelisted pool trading the deposited asset, in whitelist order.
#[derive(Accounts)]
pub struct RequestDeposit<'info> {
    /// Pays the request account's rent (returned when the request settles or is cancelled).
    #[account(mut)]
    pub depositor: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    pub share_mint: Box<Account<'info, Mint>>,
    /// CHECK: created here at the PDA checked by `seeds` (pre-funding cannot block it), then written as a
    /// `DepositRequest`; an existing request is refused in `create_pda_account`.
    #[account(mut, seeds = [DEPOSIT_REQUEST_SEED, vault.key().as_ref(), depositor.key().as_ref()], bump)]
    pub request: UncheckedAccount<'info>,
    /// Receives the shares at settlement; any owner.
    #[account(token::mint = share_mint)]
    pub shares_destination: Box<Account<'info, TokenAccount>>,
    /// The deposited asset's mint; must be the vault's asset at `asset_index` (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// The vault's reserve of that asset (checked in `validate`).
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub reserve: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    #[account(mut, token::mint = mint, token::authority = depositor, token::token_program = asset_token_program)]
    pub depositor_token: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub asset_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl RequestDeposit<'_> {
    pub fn validate(&self, args: &RequestDepositArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::DEPOSITS)?;
        require!(args.amount > 0, BallastError::ZeroAmount);
        let (mint, reserve, program) = (self.mint.key(), self.reserve.key(), self.asset_token_program.key());
        vault.asset_accounts(args.asset_index as usize, &mint, &reserve, &program)?;
        require!(self.request.data_is_empty(), BallastError::DepositRequestAlreadyOpen);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, RequestDeposit<'info>>, args: RequestDepositArgs) -> Result<()> {
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        let idx = args.asset_index as usize;

        // Prices at request time (every oracle checked and recorded).
        let limits = ctx.accounts.vault.params.oracle_limits();
        let key = ctx.accounts.vault.key();
        let (valuation, pools) =
            load_flow_valuation(&mut ctx.accounts.vault, &key, idx, ctx.remaining_accounts, &clock, &limits, |_| {
                Ok(())
            })?;
        // The management fee up to now (these readings may be up to the general age limit old: the
        // performance fee waits for settlement's fresh ones).
        let minted = ctx.accounts.share_mint.supply;
        accrue(&mut ctx.accounts.vault, minted, &clock, FeeMark::Unpriced)?;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let asset = vault.assets[idx];
        let supply = vault.shares_outstanding(minted)?;
        let quote = valuation.deposit_quote(vault, idx, args.amount, supply, &pools)?;
        // Settlement can only mint fewer shares than the request-time quote: refuse now what could never
        // settle.
        // (The trade charge is left out here: it depends on the vault at settlement, and this check must
        // only refuse what could never settle.)
        let best = match math::settle_deposit(&quote, &quote, vault.params.deposit_terms().fee_bps, 0) {
            Err(math::MathError::DivideByZero) if supply == 0 => return err!(BallastError::FirstDepositTooSmall),
            r => r.or_math_err()?,
        };
        require!(best.shares.to_depositor > 0, BallastError::ZeroShares);
        require!(best.shares.to_depositor >= args.min_shares_out, BallastError::SharesBelowMinimum);

        // Escrow: the tokens go into the reserve, kept aside until settlement or refund.
        accounts.escrow(args.amount, asset.decimals, &asset.token_program, &asset.mint)?;

        let vault_key = vault.key();
        let depositor = accounts.depositor.key();
        let bump = ctx.bumps.request;
        // The terms in force now are the request's: a later change can lower what settlement charges but
        // never raise it, and never move the request's settlement window.
        let terms = vault.params.deposit_terms();
        let request = DepositRequest {
            vault: vault_key,
            depositor,
            bump,
            asset_index: args.asset_index,
            amount: args.amount,
            min_shares_out: args.min_shares_out,
            shares_destination: accounts.shares_destination.key(),
            requested_at: now,
            value_at_request: quote.value,
            nav_at_request: quote.nav,
            supply_at_request: supply,
            fee_bps: terms.fee_bps,
            trade_cost_bps: terms.trade_cost_bps,
            settle_from: terms.settle_from(now),
            expires_at: terms.expires_at(now),
        };
        accounts.open_request(bump, &request)?;

        let vault = &mut ctx.accounts.vault;
        let a = &mut vault.assets[idx];
        a.pending_in = a.pending_in.checked_add(args.amount).ok_or(BallastError::MathOverflow)?;
        vault.seal()?;
        crate::events::emit(DepositRequestedEvent {
            vault: vault_key,
            depositor,
            asset_index: args.asset_index,
            amount: args.amount,
            value_at_request: quote.value,
            nav_at_request: quote.nav,
            supply_at_request: request.supply_at_request,
            fee_bps: request.fee_bps,
            trade_cost_bps: request.trade_cost_bps,
            settle_from: request.settle_from,
            expires_at: request.expires_at,
        });
        Ok(())
    }
}

impl RequestDeposit<'_> {
    /// Moves `amount` from the depositor into the reserve and checks the reserve received exactly that.
    fn escrow(&self, amount: u64, decimals: u8, token_program: &Pubkey, mint: &Pubkey) -> Result<()> {
        let reserve_before = self.reserve.amount;
        tok::transfer(
            &self.asset_token_program.to_account_info(),
            &self.depositor_token.to_account_info(),
            &self.mint.to_account_info(),
            &self.reserve.to_account_info(),
            &self.depositor.to_account_info(),
            amount,
            decimals,
            None,
        )?;
        let after = reload_amount(&self.reserve.to_account_info(), token_program, mint)?;
        require!(
            after == reserve_before.checked_add(amount).ok_or(BallastError::MathOverflow)?,
            BallastError::UnexpectedBalanceChange
        );
        Ok(())
    }

    /// Creates the request account at its PDA (the depositor pays the rent) and writes `request` into it.
    fn open_request(&self, bump: u8, request: &DepositRequest) -> Result<()> {
        let (vault_key, depositor) = (self.vault.key(), self.depositor.key());
        create_pda_account(
            &self.depositor.to_account_info(),
            &self.request.to_account_info(),
            8 + DepositRequest::INIT_SPACE,
            &crate::ID,
            &[DEPOSIT_REQUEST_SEED, vault_key.as_ref(), depositor.as_ref(), &[bump]],
            &self.system_program.to_account_info(),
        )?;
        write_account(&self.request.to_account_info(), request)
    }
}
