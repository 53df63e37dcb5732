//! Step one of a single-asset withdrawal: the shares move into an escrow share account the vault owns (they
//! stay in the supply and keep their value), and the quote and terms at request time are recorded. The
//! payout comes later, from `settle_withdraw`, at the worse for the leaver of this quote and one made with
//! readings published after the request, so nobody can pick or foresee the price they leave at.
//!
//! Possible while deposits are paused (only `pause::EXITS` stops it); in-kind `withdraw` stays the
//! unpausable, price-free exit.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::constants::{WITHDRAW_ESCROW_SEED, WITHDRAW_REQUEST_SEED};
use crate::create::{create_pda_account, write_account};
use crate::errors::{BallastError, MathResultExt};
use crate::events::WithdrawRequestedEvent;
use crate::instructions::accounts::load_flow_valuation;
use crate::instructions::keeper::accrue;
use crate::instructions::user::exit::ExitEffect;
use crate::math;
use crate::state::{pause, FeeMark, Vault, WithdrawRequest};
use crate::token as tok;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RequestWithdrawArgs {
    /// Index of the asset to be paid in.
    pub asset_index: u8,
    /// Shares to withdraw (escrowed now, burned at settlement).
    pub shares: u64,
    /// Fewest base units the destination must receive at settlement; below it the request cannot settle
    /// and its shares come back with `cancel_withdraw` after expiry.
    pub min_amount_out: u64,
}

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then (with `pool_price_bound`)
/// the price accounts of every whitelisted pool trading the paid asset, in whitelist order.
#[derive(Accounts)]
pub struct RequestWithdraw<'info> {
    /// Pays the rent of the request and escrow accounts (returned when the request settles or is cancelled).
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    pub share_mint: Box<Account<'info, Mint>>,
    /// CHECK: created here at the PDA checked by `seeds` (pre-funding cannot block it), then written as a
    /// `WithdrawRequest`; an existing request is refused in `validate`.
    #[account(mut, seeds = [WITHDRAW_REQUEST_SEED, vault.key().as_ref(), owner.key().as_ref()], bump)]
    pub request: UncheckedAccount<'info>,
    /// CHECK: created here at the PDA checked by `seeds` as a share account owned by the vault.
    #[account(mut, seeds = [WITHDRAW_ESCROW_SEED, request.key().as_ref()], bump)]
    pub escrow: UncheckedAccount<'info>,
    /// The owner's shares.
    #[account(mut, token::mint = share_mint, token::authority = owner)]
    pub owner_shares: Box<Account<'info, TokenAccount>>,
    /// The paid asset's mint; must be the vault's asset at `asset_index` (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// Receives the payout at settlement: the owner's associated token account of the asset (checked in
    /// `validate`). Anyone can create an associated token account, so a settler re-creates it if the owner
    /// closed it: the owner cannot pick the settlement's moment by closing and re-opening the destination.
    #[account(token::mint = mint, token::token_program = asset_token_program)]
    pub destination: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub asset_token_program: Interface<'info, TokenInterface>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl RequestWithdraw<'_> {
    pub fn validate(&self, args: &RequestWithdrawArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::EXITS)?;
        require!(args.shares > 0, BallastError::ZeroAmount);
        let asset = vault.assets.get(args.asset_index as usize).ok_or(BallastError::AssetIndexOutOfRange)?;
        require_keys_eq!(self.mint.key(), asset.mint, BallastError::MintMismatch);
        require_keys_eq!(self.asset_token_program.key(), asset.token_program, BallastError::WrongTokenProgram);
        let owners = anchor_spl::associated_token::get_associated_token_address_with_program_id(
            &self.owner.key(),
            &asset.mint,
            &asset.token_program,
        );
        require_keys_eq!(self.destination.key(), owners, BallastError::PayoutNotToOwnersTokenAccount);
        require!(self.request.data_is_empty(), BallastError::WithdrawRequestAlreadyOpen);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, RequestWithdraw<'info>>, args: RequestWithdrawArgs) -> Result<()> {
        let clock = Clock::get()?;
        let idx = args.asset_index as usize;

        // Prices at request time (every oracle checked and recorded).
        let limits = ctx.accounts.vault.params.oracle_limits();
        let vault_key = ctx.accounts.vault.key();
        let (valuation, pools) = load_flow_valuation(
            &mut ctx.accounts.vault,
            &vault_key,
            idx,
            ctx.remaining_accounts,
            &clock,
            &limits,
            |_| Ok(()),
        )?;
        // The management fee up to now (the performance fee waits for settlement's fresh readings).
        let minted = ctx.accounts.share_mint.supply;
        accrue(&mut ctx.accounts.vault, minted, &clock, FeeMark::Unpriced)?;

        // Quote, and refuse now what could never settle: settlement can only pay less than this quote without
        // its trade charge, and the trade the payout forces must fit one rebalance trade.
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let supply = vault.shares_outstanding(minted)?;
        let quote = valuation.exit_quote(vault, idx, supply, &pools)?;
        let terms = vault.params.withdraw_terms();
        let best = math::exit::settle_exit(&quote, &quote, args.shares, terms.fee_bps, 0).or_math_err()?;
        require!(best.amount > 0, BallastError::ZeroWithdrawal);
        require!(best.amount >= args.min_amount_out, BallastError::AmountBelowMinimum);
        ExitEffect::of(vault, &valuation, idx, best.gross, supply, clock.slot)?.require_fits(
            idx,
            best.gross,
            args.shares,
        )?;

        // Escrow: the shares move to the vault-owned escrow account.
        accounts.escrow_shares(ctx.bumps.escrow, args.shares)?;

        let request = WithdrawRequest {
            vault: vault.key(),
            owner: accounts.owner.key(),
            bump: ctx.bumps.request,
            escrow_bump: ctx.bumps.escrow,
            asset_index: args.asset_index,
            shares: args.shares,
            min_amount_out: args.min_amount_out,
            destination: accounts.destination.key(),
            requested_at: clock.unix_timestamp,
            nav_at_request: quote.nav,
            supply_at_request: quote.supply,
            asset_value_at_request: quote.asset_value,
            asset_amount_at_request: quote.asset_amount,
            fee_bps: terms.fee_bps,
            trade_cost_bps: terms.trade_cost_bps,
            settle_from: terms.settle_from(clock.unix_timestamp),
            expires_at: terms.expires_at(clock.unix_timestamp),
        };
        accounts.open_request(&request)?;
        ctx.accounts.vault.seal()?;
        crate::events::emit(WithdrawRequestedEvent {
            vault: request.vault,
            owner: request.owner,
            asset_index: request.asset_index,
            shares: request.shares,
            min_amount_out: request.min_amount_out,
            nav_at_request: request.nav_at_request,
            supply_at_request: request.supply_at_request,
            asset_value_at_request: request.asset_value_at_request,
            asset_amount_at_request: request.asset_amount_at_request,
            gross_at_request: best.gross,
            fee_bps: request.fee_bps,
            trade_cost_bps: request.trade_cost_bps,
            settle_from: request.settle_from,
            expires_at: request.expires_at,
        });
        Ok(())
    }
}

impl RequestWithdraw<'_> {
    /// Creates the escrow share account (the owner pays its rent; the vault is its authority) and moves
    /// `shares` into it.
    fn escrow_shares(&self, bump: u8, shares: u64) -> Result<()> {
        let request_key = self.request.key();
        tok::create_vault_token_account(
            &self.owner.to_account_info(),
            &self.escrow.to_account_info(),
            &self.share_mint.to_account_info(),
            &self.vault.to_account_info(),
            &self.token_program.to_account_info(),
            &self.system_program.to_account_info(),
            &[WITHDRAW_ESCROW_SEED, request_key.as_ref(), &[bump]],
        )?;
        tok::transfer(
            &self.token_program.to_account_info(),
            &self.owner_shares.to_account_info(),
            &self.share_mint.to_account_info(),
            &self.escrow.to_account_info(),
            &self.owner.to_account_info(),
            shares,
            math::SHARE_DECIMALS,
            None,
        )
    }

    /// Creates the request account at its PDA (the owner pays the rent) and writes `request` into it.
    fn open_request(&self, request: &WithdrawRequest) -> Result<()> {
        let (vault_key, owner) = (self.vault.key(), self.owner.key());
        create_pda_account(
            &self.owner.to_account_info(),
            &self.request.to_account_info(),
            8 + WithdrawRequest::INIT_SPACE,
            &crate::ID,
            &[WITHDRAW_REQUEST_SEED, vault_key.as_ref(), owner.as_ref(), &[request.bump]],
            &self.system_program.to_account_info(),
        )?;
        write_account(&self.request.to_account_info(), request)
    }
}
