//! Step two of a single-asset deposit (anyone may send it; keepers do): value the escrowed deposit again
//! with **fresh** oracle readings (published at most `SETTLEMENT_MAX_AGE_SECS` before the settling slot's
//! clock, and not before the request's `settle_from`, at least `deposit_delay_secs` ≥ 6 s after the
//! request), and mint shares at the worse of the two valuations for the depositor, minus the deposit fee
//! and the cost of the trades the deposit makes the vault do (`trade_cost_bps` of the part of the deposit
//! that is above the asset's target share afterwards). Both charges stay in the vault; both are the lower
//! of the request's terms and the ones in force now.
//!
//! Why fresh readings: whoever settles picks the price update the program reads. With any reading inside
//! the general age limit allowed, a requester who knows the next price would settle with the last
//! reading before a move; a reading at most a second old leaves no such choice. Why a delay longer than
//! the 5 s future skew: no reading that was valid when the request was made can settle it, so a request
//! and its settlement never share a transaction or a reading.
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
use crate::instructions::accounts::{load_flow_valuation, settlement_limits, PricedReserves};
use crate::instructions::keeper::{accrue, fee_mark};
use crate::math::{self, Rounding};
use crate::state::{pause, AuctionChange, DepositRequest, Vault};
use crate::token as tok;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then (with `pool_price_bound`)
/// the price accounts of every whitelisted pool trading the deposited asset, in whitelist order.
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
        // The request's own window (the readings are checked against it once read).
        self.request.settleable(Clock::get()?.unix_timestamp, &[]).map_err(Into::into)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, SettleDeposit<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let request = (*ctx.accounts.request).clone();

        // Prices: every reading checked, fresh, and published after the settlement delay.
        let (now, fresh) = (clock.unix_timestamp, settlement_limits(&ctx.accounts.vault));
        let vault_key = ctx.accounts.vault.key();
        let (valuation, pools) = load_flow_valuation(
            &mut ctx.accounts.vault,
            &vault_key,
            request.asset_index as usize,
            ctx.remaining_accounts,
            &clock,
            &fresh,
            |readings| request.settleable(now, readings).map_err(Into::into),
        )?;

        // Fees first, on these fresh readings: a deposit never pays a fee on a gain made before it, so the
        // fee is crystallised first (on readings that agree with their EMA), and the new shares are marked at
        // this settlement's entry price (a gain the EMA has not followed yet stays the old holders').
        let minted = ctx.accounts.share_mint.supply;
        let mark = fee_mark(&ctx.accounts.vault, &valuation)?;
        accrue(&mut ctx.accounts.vault, minted, &clock, mark)?;

        // Compute: the shares, at the worse of the two valuations, minus the fee and the trade charge.
        let accounts = &ctx.accounts;
        let supply = accounts.vault.entry_supply(minted, clock.slot)?;
        let priced = price_settlement(&accounts.vault, &valuation, &pools, &request, supply, clock.slot)?;
        let out = priced.out;
        require!(out.shares.to_depositor > 0, BallastError::ZeroShares);
        require!(out.shares.to_depositor >= request.min_shares_out, BallastError::SharesBelowMinimum);

        // CPI: mint shares (and the locked seed shares on the vault's first deposit).
        let (vault, share_mint) = (&accounts.vault, accounts.share_mint.to_account_info());
        tok::mint_shares(&share_mint, &accounts.locked_shares.to_account_info(), vault, out.shares.locked)?;
        tok::mint_shares(&share_mint, &accounts.shares_destination.to_account_info(), vault, out.shares.to_depositor)?;
        let new_shares = out.shares.to_depositor.checked_add(out.shares.locked).ok_or(BallastError::MathOverflow)?;
        let event = DepositSettledEvent {
            vault: vault.key(),
            depositor: request.depositor,
            settler: accounts.settler.key(),
            asset_index: request.asset_index,
            amount: request.amount,
            value_at_request: request.value_at_request,
            value_at_settlement: priced.now_quote.value,
            value_used: out.value,
            fee_value: out.fee_value,
            trade_charge_value: out.trade_charge_value,
            traded_value: priced.traded_value,
            nav_at_request: request.nav_at_request,
            nav_at_settlement: priced.now_quote.nav,
            shares_out: out.shares.to_depositor,
            locked_shares: out.shares.locked,
            share_supply_after: minted.checked_add(new_shares).ok_or(BallastError::MathOverflow)?,
        };

        // Commit: the escrowed amount joins the vault's value; the auction follows the bands.
        let vault = &mut ctx.accounts.vault;
        let outstanding = vault.shares_outstanding(minted)?;
        let supply_after = outstanding.checked_add(new_shares).ok_or(BallastError::MathOverflow)?;
        let auction = commit(vault, &valuation, priced, &request, (outstanding, supply_after), &clock)?;
        let vault_key = vault.key();
        crate::events::emit(event);
        crate::events::emit_auction(vault_key, auction);
        Ok(())
    }
}

/// What a settlement pays, from the fresh readings: the deposit valued now, the shares at the worse of the two
/// valuations minus the fee and the trade charge (each the lower of the request's terms and today's), and
/// the part of the deposit the vault must trade.
struct Priced {
    now_quote: math::DepositQuote,
    out: math::SettledDeposit,
    traded_value: u128,
    /// The positions at mid prices before the deposit joins them.
    mid: Vec<math::AssetPosition>,
    /// What the deposit leaves the holders (micro-USD at mid: `math::deposit_left_to_holders`).
    left_to_holders: u128,
    /// The deposit's value at mid.
    deposit_mid: u128,
}

fn price_settlement(
    vault: &Vault,
    valuation: &PricedReserves,
    pools: &[math::sources::PoolPrice],
    request: &DepositRequest,
    supply: u64,
    slot: u64,
) -> Result<Priced> {
    let idx = request.asset_index as usize;
    let now_quote = valuation.deposit_quote(vault, idx, request.amount, supply, pools)?;
    let terms = vault.params.deposit_terms();
    let (fee_bps, trade_cost_bps) =
        (request.fee_bps.min(terms.fee_bps), request.trade_cost_bps.min(terms.trade_cost_bps));
    let mid = valuation.positions(vault, |b| b.mid);
    let values = math::position_values(&mid, Rounding::Floor).or_math_err()?;
    let nav = math::total_value(&values).or_math_err()?;
    let limits = vault.limits_in_force(&valuation.readings, nav, supply, slot).or_math_err()?;
    let deposit_mid =
        math::value_of(request.amount, mid[idx].decimals, mid[idx].price, Rounding::Floor).or_math_err()?;
    // What the deposit makes the vault trade: its own overshoot, or the drift it uncovers by diluting another
    // asset out of its band, whichever is more.
    let traded_value =
        math::rebalance::deposit_traded_value_in_bands(&values, &limits, idx, deposit_mid).or_math_err()?;
    let trade_charge = math::deposit_trade_charge(traded_value, trade_cost_bps).or_math_err()?;
    let at_request = math::DepositQuote {
        value: request.value_at_request,
        nav: request.nav_at_request,
        supply: request.supply_at_request,
    };
    let out = match math::settle_deposit(&at_request, &now_quote, fee_bps, trade_charge) {
        Err(math::MathError::DivideByZero) if supply == 0 => return err!(BallastError::FirstDepositTooSmall),
        r => r.or_math_err()?,
    };
    let shares = out.shares.to_depositor.checked_add(out.shares.locked).ok_or(BallastError::MathOverflow)?;
    let left_to_holders = math::deposit_left_to_holders(deposit_mid, nav, supply, shares).or_math_err()?;
    Ok(Priced { now_quote, out, traded_value, mid, left_to_holders, deposit_mid })
}

/// The escrowed amount joins the vault's value; the auction follows the bands: a deposit that pushes an asset
/// out of its band opens the auction if none is running (or renews the running one), one that brings every
/// asset inside closes it. A settlement never restarts a running auction: the deposit has paid for its
/// trades at least what the auction can reach (`trade_cost_bps ≥ slippage_cap_bps + bounty_bps`), so
/// settling into a relaxed auction gains nothing, and a dust settlement cannot hold the price at fair value.
fn commit(
    vault: &mut Vault,
    valuation: &PricedReserves,
    priced: Priced,
    request: &DepositRequest,
    (supply_before, supply_after): (u64, u64),
    clock: &Clock,
) -> Result<AuctionChange> {
    let idx = request.asset_index as usize;
    let mut after = priced.mid;
    after[idx].balance = after[idx].balance.checked_add(request.amount).ok_or(BallastError::MathOverflow)?;
    let values_after = math::position_values(&after, Rounding::Floor).or_math_err()?;
    let nav_after = math::total_value(&values_after).or_math_err()?;
    let limits_after = vault.limits_in_force(&valuation.readings, nav_after, supply_after, clock.slot).or_math_err()?;
    let auction =
        vault.observe_bands(&values_after, &limits_after, clock.unix_timestamp, &valuation.readings).or_math_err()?;
    let new_shares = supply_after.checked_sub(supply_before).ok_or(BallastError::MathOverflow)?;
    vault.mark_entry(supply_before, new_shares, clock.slot)?;
    let a = &mut vault.assets[idx];
    a.pending_in = a.pending_in.checked_sub(request.amount).ok_or(BallastError::MathOverflow)?;
    // What the deposit leaves the holders (the fee, the trade charge, the worse of two quotes, the confidence
    // haircut) vests to them: a deposit and withdrawal in kind around this settlement cannot take it. In base
    // units of the deposited asset: its share of the deposit's value.
    let kept = if priced.deposit_mid == 0 {
        0
    } else {
        let left = priced.left_to_holders.min(priced.deposit_mid);
        math::to_u64(math::mul_div_floor(request.amount as u128, left, priced.deposit_mid).or_math_err()?)
            .or_math_err()?
    };
    vault.vest(&[(idx, kept)], clock.unix_timestamp)?;
    vault.seal()?;
    Ok(auction)
}
