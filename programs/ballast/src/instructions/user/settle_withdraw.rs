//! Step two of a single-asset withdrawal (anyone may send it; keepers do): quote the escrowed shares again
//! with **fresh** readings (published at most `SETTLEMENT_MAX_AGE_SECS` before the settling slot's clock, and
//! not before the request's `settle_from`), burn them and pay the **smaller** of the request's and this
//! payout from the asset's reserve, minus the fee and the cost of the trades the payout makes the vault do
//! (`trade_cost_bps` of what it must buy back to bring the asset inside its band; nothing for a payout of an
//! overweight asset). Both charges stay in the vault; both are the lower of the request's terms and today's.
//!
//! The same reasons as a deposit's settlement: the sender of a transaction picks which valid reading the
//! program sees and may know the next one; the worse of two quotes, one made after a delay no reading valid
//! at request can bridge, leaves no reading or timing that pays the leaver more than either point in time.
//! A payout whose forced trade exceeds one rebalance trade of the asset is refused (`WithdrawalTooLarge`,
//! with the largest payout possible now in the program log).

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, CloseAccount, Mint, Token, TokenAccount};
use anchor_spl::token_interface::{Mint as AssetMint, TokenAccount as AssetTokenAccount, TokenInterface};

use crate::constants::WITHDRAW_ESCROW_SEED;
use crate::errors::{BallastError, MathResultExt};
use crate::events::WithdrawSettledEvent;
use crate::instructions::accounts::{load_flow_valuation, reload_amount, settlement_limits, PricedReserves};
use crate::instructions::keeper::{accrue, fee_mark};
use crate::instructions::user::exit::ExitEffect;
use crate::math;
use crate::state::{pause, AuctionChange, Vault, WithdrawRequest};
use crate::token as tok;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then (with `pool_price_bound`)
/// the price accounts of every whitelisted pool trading the paid asset, in whitelist order.
#[derive(Accounts)]
pub struct SettleWithdraw<'info> {
    /// Anyone (a keeper); pays only the transaction fee.
    pub settler: Signer<'info>,
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut, has_one = vault, has_one = owner, close = owner)]
    pub request: Box<Account<'info, WithdrawRequest>>,
    /// CHECK: receives the request's and the escrow's rent; must be the request's owner (`has_one`).
    #[account(mut)]
    pub owner: UncheckedAccount<'info>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    /// The request's escrowed shares.
    #[account(
        mut,
        seeds = [WITHDRAW_ESCROW_SEED, request.key().as_ref()],
        bump = request.escrow_bump,
        token::mint = share_mint,
        token::authority = vault,
    )]
    pub escrow: Box<Account<'info, TokenAccount>>,
    /// The paid asset's mint (checked in `validate`).
    #[account(mint::token_program = asset_token_program)]
    pub mint: Box<InterfaceAccount<'info, AssetMint>>,
    /// The vault's reserve of that asset (checked in `validate`).
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub reserve: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    /// The token account named in the request.
    #[account(mut, token::mint = mint, token::token_program = asset_token_program)]
    pub destination: Box<InterfaceAccount<'info, AssetTokenAccount>>,
    pub asset_token_program: Interface<'info, TokenInterface>,
    pub token_program: Program<'info, Token>,
}

impl SettleWithdraw<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::EXITS)?;
        require_keys_eq!(self.destination.key(), self.request.destination, BallastError::PayoutDestinationMismatch);
        let (mint, reserve, program) = (self.mint.key(), self.reserve.key(), self.asset_token_program.key());
        vault.asset_accounts(self.request.asset_index as usize, &mint, &reserve, &program)?;
        // The request's own window (the readings are checked against it once read).
        self.request.settleable(Clock::get()?.unix_timestamp, &[]).map_err(Into::into)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, SettleWithdraw<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let request = (*ctx.accounts.request).clone();
        let idx = request.asset_index as usize;

        // Prices: every reading checked, fresh, and published after the settlement delay.
        let (now, fresh) = (clock.unix_timestamp, settlement_limits(&ctx.accounts.vault));
        let key = ctx.accounts.vault.key();
        let (valuation, pools) = load_flow_valuation(
            &mut ctx.accounts.vault,
            &key,
            idx,
            ctx.remaining_accounts,
            &clock,
            &fresh,
            |readings| request.settleable(now, readings).map_err(Into::into),
        )?;

        // Fees first, on these fresh readings: the leaver pays the fees of the time they held the shares.
        let minted = ctx.accounts.share_mint.supply;
        let mark = fee_mark(&ctx.accounts.vault, &valuation)?;
        accrue(&mut ctx.accounts.vault, minted, &clock, mark)?;

        // Compute: the payout at the worse of the two quotes, less the fee and the trade charge.
        let supply = ctx.accounts.vault.shares_outstanding(minted)?;
        let priced = price_exit(&ctx.accounts.vault, &valuation, &pools, &request, supply, clock.slot)?;
        let out = priced.out;
        require!(out.amount > 0, BallastError::ZeroWithdrawal);

        // CPI: burn the escrowed shares, pay out, close the escrow.
        let received = ctx.accounts.pay_out(out.amount)?;
        require!(received >= request.min_amount_out, BallastError::AmountBelowMinimum);
        let supply_after = supply.checked_sub(request.shares).ok_or(BallastError::MathOverflow)?;
        let event = WithdrawSettledEvent {
            vault: ctx.accounts.vault.key(),
            owner: request.owner,
            settler: ctx.accounts.settler.key(),
            asset_index: request.asset_index,
            shares_burned: request.shares,
            gross_at_request: priced.gross_at_request,
            gross_at_settlement: priced.gross_at_settlement,
            value_used: out.value,
            fee_value: out.fee_value,
            trade_charge_value: out.trade_charge_value,
            traded_value: priced.effect.traded_value,
            amount_out: out.amount,
            amount_received: received,
            share_supply_after: minted.checked_sub(request.shares).ok_or(BallastError::MathOverflow)?,
        };

        // Commit: the auction follows the bands after the payout.
        let vault = &mut ctx.accounts.vault;
        let auction = commit(vault, &valuation, &priced, idx, supply_after, &clock)?;
        let vault_key = vault.key();
        crate::events::emit(event);
        crate::events::emit_auction(vault_key, auction);
        Ok(())
    }
}

/// What a settlement pays, from the fresh readings.
struct PricedExit {
    gross_at_request: u64,
    gross_at_settlement: u64,
    out: math::exit::SettledExit,
    /// The payout (before charges) seen at mid.
    effect: ExitEffect,
    /// The shares burned and the supply they were part of.
    shares: u64,
    supply: u64,
}

fn price_exit(
    vault: &Vault,
    valuation: &PricedReserves,
    pools: &[math::sources::PoolPrice],
    request: &WithdrawRequest,
    supply: u64,
    slot: u64,
) -> Result<PricedExit> {
    let idx = request.asset_index as usize;
    let (at_request, now) = (request.quote(), valuation.exit_quote(vault, idx, supply, pools)?);
    let gross_at_request = at_request.gross(request.shares).or_math_err()?;
    let gross_at_settlement = now.gross(request.shares).or_math_err()?;
    let gross = gross_at_request.min(gross_at_settlement);
    let effect = ExitEffect::of(vault, valuation, idx, gross, supply, slot)?;
    effect.require_fits(idx, gross, request.shares)?;
    let terms = vault.params.withdraw_terms();
    let (fee_bps, trade_cost_bps) =
        (request.fee_bps.min(terms.fee_bps), request.trade_cost_bps.min(terms.trade_cost_bps));
    let charge = math::deposit_trade_charge(effect.traded_value, trade_cost_bps).or_math_err()?;
    let out = math::exit::settle_exit(&at_request, &now, request.shares, fee_bps, charge).or_math_err()?;
    Ok(PricedExit { gross_at_request, gross_at_settlement, out, effect, shares: request.shares, supply })
}

impl SettleWithdraw<'_> {
    /// Burns the escrow's shares (the request's, and any sent there since: nobody can keep the escrow from
    /// closing), sends `amount` from the reserve to the destination and closes the escrow (its rent to the
    /// owner), the vault signing; returns what the destination received.
    fn pay_out(&self, amount: u64) -> Result<u64> {
        let vault = &self.vault;
        let asset = vault.assets[self.request.asset_index as usize];
        let signer = vault.signer();
        let seeds = signer.seeds();
        let vault_ai = vault.to_account_info();
        let share_program = self.token_program.key();
        token::burn(
            CpiContext::new_with_signer(
                share_program,
                Burn {
                    mint: self.share_mint.to_account_info(),
                    from: self.escrow.to_account_info(),
                    authority: vault_ai.clone(),
                },
                &[&seeds],
            ),
            self.escrow.amount,
        )?;
        let (reserve_before, destination_before) = (self.reserve.amount, self.destination.amount);
        tok::transfer(
            &self.asset_token_program.to_account_info(),
            &self.reserve.to_account_info(),
            &self.mint.to_account_info(),
            &self.destination.to_account_info(),
            &vault_ai,
            amount,
            asset.decimals,
            Some(&[&seeds]),
        )?;
        let reserve_after = reload_amount(&self.reserve.to_account_info(), &asset.token_program, &asset.mint)?;
        require!(Some(reserve_after) == reserve_before.checked_sub(amount), BallastError::UnexpectedBalanceChange);
        let destination_after = reload_amount(&self.destination.to_account_info(), &asset.token_program, &asset.mint)?;
        token::close_account(CpiContext::new_with_signer(
            share_program,
            CloseAccount {
                account: self.escrow.to_account_info(),
                destination: self.owner.to_account_info(),
                authority: vault_ai,
            },
            &[&seeds],
        ))?;
        Ok(destination_after.saturating_sub(destination_before))
    }
}

/// The auction follows the bands after the payout: one that pulls an asset out of its band opens the auction
/// if none is running (or renews the running one), one that brings every asset inside closes it; a
/// settlement never restarts a running auction.
fn commit(
    vault: &mut Vault,
    valuation: &PricedReserves,
    priced: &PricedExit,
    idx: usize,
    supply_after: u64,
    clock: &Clock,
) -> Result<AuctionChange> {
    let values_after = priced.effect.values_after(idx, priced.out.amount)?;
    let nav_after = math::total_value(&values_after).or_math_err()?;
    let limits_after = vault.limits_in_force(&valuation.readings, nav_after, supply_after, clock.slot).or_math_err()?;
    let auction =
        vault.observe_bands(&values_after, &limits_after, clock.unix_timestamp, &valuation.readings).or_math_err()?;
    // What the exit leaves the holders (the fee, the trade charge, the worse of two quotes, the confidence
    // haircut: the shares' value at mid less the payout's) vests to them: a deposit and withdrawal in kind around
    // this settlement cannot take it. In base units of the paid asset, within what the holders hold of it.
    let mid = &priced.effect.mid[idx];
    let paid = math::value_of(priced.out.amount, mid.decimals, mid.price, math::Rounding::Ceil).or_math_err()?;
    let left = math::exit_left_to_holders(priced.shares, priced.effect.nav, priced.supply, paid).or_math_err()?;
    let kept = math::amount_for_value(left, mid.decimals, mid.price, math::Rounding::Floor)
        .or_math_err()?
        .min(mid.balance.saturating_sub(priced.out.amount));
    vault.vest(&[(idx, kept)], clock.unix_timestamp)?;
    vault.seal()?;
    Ok(auction)
}
