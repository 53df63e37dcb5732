//! Flash rebalance: the keeper brings the route. `rebalance_begin` applies all of `rebalance`'s gating and
//! its floor, checks through the instructions sysvar that a `rebalance_end` of the same vault follows in the
//! same transaction and that both are top-level, moves `amount_in` of the sold asset to an account the
//! keeper names and marks the vault in flight; any instructions of the keeper's choosing run in between
//! (Orca, Raydium, an aggregator route, several hops); `rebalance_end` reconciles every reserve and the
//! share supply against what begin recorded, pays the bounty and clears the flag.
//!
//! Why the vault need not trust the route: while in flight every other ballast instruction on the vault
//! refuses (`VaultInFlight`), so nothing can move its reserves or shares but the keeper's own
//! instructions, which can only *add* to reserves (they hold no authority over them); end requires the
//! sold reserve to be exactly `amount_in` lower, the bought one at least `max(floor, keeper min_out)`
//! higher, every other reserve and the supply unchanged, and total drift strictly lower. A transaction
//! whose end fails reverts as a whole, the begin's transfer with it, so the flag never outlives its
//! transaction. Pushing a pool against the vault inside the transaction is bounded by the same floor as
//! a direct `rebalance`.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{get_stack_height, TRANSACTION_LEVEL_STACK_HEIGHT};
use anchor_lang::Discriminator;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};

use crate::checks;
use crate::errors::BallastError;
use crate::events::RouteKind;
use crate::instructions::accounts::reload_amount;
use crate::math::rebalance::{AssetLimits, RebalanceEffects, RebalancePlan, TradeRequest};
use crate::math::{self, AssetPosition, Rounding, UsdPrice};
use crate::state::{Flight, Vault};
use crate::token as tok;

use super::{trade, RebalanceArgs};

/// Fails unless the executing instruction is a top-level ballast instruction whose data starts with
/// `discriminator` (so it was not reached by CPI); returns its index in the transaction.
fn require_top_level(ixs: &AccountInfo, discriminator: &[u8]) -> Result<usize> {
    require!(get_stack_height() == TRANSACTION_LEVEL_STACK_HEIGHT, BallastError::FlashNotTopLevel);
    let current = load_current_index_checked(ixs)? as usize;
    let me = load_instruction_at_checked(current, ixs)?;
    require!(me.program_id == crate::ID && me.data.starts_with(discriminator), BallastError::FlashNotTopLevel);
    Ok(current)
}

/// Accounts of `rebalance_begin`. Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order (or
/// the vault's valuation cache, refreshed in the same slot), then (with `pool_price_bound`) the price accounts
/// of every whitelisted pool of the pair, as `rebalance`.
#[derive(Accounts)]
pub struct RebalanceBegin<'info> {
    pub keeper: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    pub sell_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The vault's reserve of the sold asset (checked in `validate`).
    #[account(mut)]
    pub sell_reserve: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives `amount_in` of the sold asset for the keeper's route; any owner but not a vault reserve.
    #[account(mut, token::mint = sell_mint, token::token_program = sell_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub sell_token_program: Interface<'info, TokenInterface>,
    /// The vault's share mint (its supply scales a CPPI floor and is reconciled at the end).
    pub share_mint: Box<Account<'info, anchor_spl::token::Mint>>,
    /// CHECK: the instructions sysvar (address checked).
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
}

impl RebalanceBegin<'_> {
    pub fn validate(&self, args: &RebalanceArgs) -> Result<()> {
        let vault = &self.vault;
        trade::require_open(vault)?;
        require!(vault.params.flash_enabled, BallastError::FlashRebalanceDisabled);
        let (sm, sr, sp) = (self.sell_mint.key(), self.sell_reserve.key(), self.sell_token_program.key());
        vault.asset_accounts(args.sell_index as usize, &sm, &sr, &sp)?;
        require!(vault.assets.get(args.buy_index as usize).is_some(), BallastError::AssetIndexOutOfRange);
        require!(
            !vault.assets.iter().any(|a| a.reserve == self.destination.key()),
            BallastError::FlashDestinationNotAllowed
        );
        require_keys_eq!(self.share_mint.key(), vault.share_mint, BallastError::ShareMintMismatch);
        // A matching end for this vault follows, and both are top-level.
        let ixs = self.instructions.to_account_info();
        let current = require_top_level(&ixs, crate::instruction::RebalanceBegin::DISCRIMINATOR)?;
        let vault_key = vault.key();
        let mut i = current + 1;
        while let Ok(ix) = load_instruction_at_checked(i, &ixs) {
            let same_vault = ix.accounts.get(1).is_some_and(|m| m.pubkey == vault_key);
            if ix.program_id == crate::ID
                && same_vault
                && ix.data.starts_with(crate::instruction::RebalanceEnd::DISCRIMINATOR)
            {
                return Ok(());
            }
            i += 1;
        }
        err!(BallastError::FlashEndMissing)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, RebalanceBegin<'info>>, args: RebalanceArgs) -> Result<()> {
        let supply = ctx.accounts.share_mint.supply;
        let (source, price_accounts, rest) =
            trade::split_remaining(&ctx.accounts.vault, &args, ctx.remaining_accounts)?;
        let vault_key = ctx.accounts.vault.key();
        require!(rest.is_empty(), BallastError::WrongRemainingAccounts);
        let trade::Prepared { valuation, mid, limits, effects, auction, fees, .. } =
            trade::prepare(&mut ctx.accounts.vault, &vault_key, source, price_accounts, supply, &args)?;
        let vault = &ctx.accounts.vault;
        crate::events::emit_fees(vault.key(), &fees, vault.fees.pending_shares);
        // A flash rebalance cannot end without trading, so it cannot open (or restart a stale) auction: poke
        // (or a direct rebalance attempt) does.
        let auction = auction.ok_or(BallastError::AuctionNotStarted)?;
        let plan = effects.plan;
        let s = effects.request.sell;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;

        // Hand the sold asset to the keeper's route.
        let sell_asset = vault.assets[s];
        let signer = vault.signer();
        let seeds = signer.seeds();
        let sell_reserve = accounts.sell_reserve.to_account_info();
        tok::transfer(
            &accounts.sell_token_program.to_account_info(),
            &sell_reserve,
            &accounts.sell_mint.to_account_info(),
            &accounts.destination.to_account_info(),
            &vault.to_account_info(),
            plan.amount_in,
            sell_asset.decimals,
            Some(&[&seeds]),
        )?;
        let now = reload_amount(&sell_reserve, &sell_asset.token_program, &sell_asset.mint)?;
        // The sold reserve as it was before the transfer (valued from the cache, it may have received a
        // transfer since the refresh).
        let sell_before = accounts.sell_reserve.amount;
        require!(sell_before.checked_sub(now) == Some(plan.amount_in), BallastError::UnexpectedBalanceChange);

        // Record what the end must see and how to complete the trade.
        let flight = Flight {
            keeper: accounts.keeper.key(),
            destination: accounts.destination.key(),
            sell: args.sell_index,
            buy: args.buy_index,
            requested_amount_in: args.amount_in,
            amount_in: plan.amount_in,
            clamped: plan.clamped,
            cap_amount: plan.cap_amount,
            floor_out: plan.floor_out,
            min_out: plan.min_out,
            max_bounty: plan.max_bounty,
            full_value: plan.full_value,
            sold_ppm_after: plan.sold_ppm_after,
            evidence_at: valuation.evidence_at(),
            fair_out: plan.fair_out,
            auction_elapsed_secs: auction.elapsed_secs,
            drift_before: effects.drift_before,
            share_supply_before: supply,
            reserves_before: {
                let mut before = valuation.reserve_amounts.clone();
                before[s] = sell_before;
                before
            },
            balances_before: valuation.balances.clone(),
            mid_mantissas: mid.iter().map(|p| p.price.mantissa).collect(),
            mid_expos: mid.iter().map(|p| p.price.expo).collect(),
            sell_high_mantissa: valuation.bounds[s].high.mantissa,
            targets: limits.iter().map(|l| l.target_bps).collect(),
            bands: limits.iter().map(|l| l.band_bps).collect(),
            max_trades: limits.iter().map(|l| l.max_trade_bps).collect(),
        };
        let vault = &mut ctx.accounts.vault;
        vault.flight = Some(flight);
        vault.seal()
    }
}

/// Accounts of `rebalance_end`. Remaining accounts: `reserve_i` for every asset in vault order.
#[derive(Accounts)]
pub struct RebalanceEnd<'info> {
    /// The keeper that began the flash rebalance.
    pub keeper: Signer<'info>,
    #[account(mut)]
    pub vault: Box<Account<'info, Vault>>,
    pub sell_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The vault's reserve of the sold asset (pays the bounty; checked in `validate`).
    #[account(mut)]
    pub sell_reserve: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives the keeper bounty, paid in the sold asset.
    #[account(mut, token::mint = sell_mint, token::token_program = sell_token_program)]
    pub keeper_bounty_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub sell_token_program: Interface<'info, TokenInterface>,
    pub share_mint: Box<Account<'info, anchor_spl::token::Mint>>,
    /// CHECK: the instructions sysvar (address checked).
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
}

impl RebalanceEnd<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        let flight = vault.flight.as_ref().ok_or(BallastError::FlashNotInProgress)?;
        require_keys_eq!(self.keeper.key(), flight.keeper, BallastError::FlashNotInProgress);
        let (sm, sr, sp) = (self.sell_mint.key(), self.sell_reserve.key(), self.sell_token_program.key());
        vault.asset_accounts(flight.sell as usize, &sm, &sr, &sp)?;
        require_keys_eq!(self.share_mint.key(), vault.share_mint, BallastError::ShareMintMismatch);
        require_top_level(&self.instructions.to_account_info(), crate::instruction::RebalanceEnd::DISCRIMINATOR)?;
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, RebalanceEnd<'info>>) -> Result<()> {
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let flight = vault.flight.clone().ok_or(BallastError::FlashNotInProgress)?;
        let (s, b) = (flight.sell as usize, flight.buy as usize);

        // Reconcile: every reserve and the share supply against what begin recorded.
        let reserves = reserves_now(vault, ctx.remaining_accounts)?;
        let before =
            checks::Balances { reserves: flight.reserves_before.clone(), share_supply: flight.share_supply_before };
        let after = checks::Balances { reserves, share_supply: accounts.share_mint.supply };
        let (mid, limits) = planned_positions(vault, &flight);
        let effects = planned_effects(&flight, &mid)?;
        let received = checks::post_swap(&before, &after, s, b, &effects.plan)?;

        // Complete exactly as a direct rebalance would, with the prices and limits begin planned with.
        let sell_high = UsdPrice { mantissa: flight.sell_high_mantissa, expo: flight.mid_expos[s] };
        let done = trade::complete(vault, &effects, &mid, sell_high, &limits, received)?;

        // Bounty from the sold reserve.
        let sell_asset = vault.assets[s];
        let signer = vault.signer();
        let seeds = signer.seeds();
        let sell_reserve = accounts.sell_reserve.to_account_info();
        tok::transfer(
            &accounts.sell_token_program.to_account_info(),
            &sell_reserve,
            &accounts.sell_mint.to_account_info(),
            &accounts.keeper_bounty_account.to_account_info(),
            &vault.to_account_info(),
            done.bounty,
            sell_asset.decimals,
            Some(&[&seeds]),
        )?;
        let sell_final = reload_amount(&sell_reserve, &sell_asset.token_program, &sell_asset.mint)?;
        require!(after.reserves[s].checked_sub(sell_final) == Some(done.bounty), BallastError::UnexpectedBalanceChange);

        let (vault_key, keeper) = (vault.key(), accounts.keeper.key());
        let prices = (
            flight.mid_mantissas.iter().map(|m| i64::try_from(*m).unwrap_or(i64::MAX)).collect(),
            flight.mid_expos.clone(),
        );
        let vault = &mut ctx.accounts.vault;
        vault.flight = None;
        let executed = trade::Executed {
            vault_key,
            keeper,
            route: RouteKind::Flash,
            requested_amount_in: flight.requested_amount_in,
            received,
            auction_elapsed_secs: flight.auction_elapsed_secs,
            evidence_at: flight.evidence_at,
            prices,
            bands_bps: flight.bands.clone(),
        };
        let (event, auction) = trade::commit(vault, &effects, &done, executed)?;
        crate::events::emit(event);
        crate::events::emit_auction(vault_key, auction);
        Ok(())
    }
}

/// Every reserve's balance now (`remaining`: the reserves in vault order).
fn reserves_now(vault: &Vault, remaining: &[AccountInfo]) -> Result<Vec<u64>> {
    require!(remaining.len() == vault.assets.len(), BallastError::WrongRemainingAccounts);
    let mut reserves = Vec::with_capacity(vault.assets.len());
    for (a, info) in vault.assets.iter().zip(remaining) {
        require_keys_eq!(info.key(), a.reserve, BallastError::ReserveMismatch);
        reserves.push(reload_amount(info, &a.token_program, &a.mint)?);
    }
    Ok(reserves)
}

/// The positions at mid prices and the limits `begin` planned with.
fn planned_positions(vault: &Vault, flight: &Flight) -> (Vec<AssetPosition>, Vec<AssetLimits>) {
    let mid: Vec<AssetPosition> = vault
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| AssetPosition {
            balance: flight.balances_before[i],
            decimals: a.decimals,
            price: UsdPrice { mantissa: flight.mid_mantissas[i], expo: flight.mid_expos[i] },
        })
        .collect();
    let limits = (0..mid.len())
        .map(|i| AssetLimits {
            target_bps: flight.targets[i],
            band_bps: flight.bands[i],
            max_trade_bps: flight.max_trades[i],
        })
        .collect();
    (mid, limits)
}

/// The effects `begin` planned (the plan and the values and drift before the trade).
fn planned_effects(flight: &Flight, mid: &[AssetPosition]) -> Result<RebalanceEffects> {
    let plan = RebalancePlan {
        amount_in: flight.amount_in,
        clamped: flight.clamped,
        cap_amount: flight.cap_amount,
        fair_out: flight.fair_out,
        floor_out: flight.floor_out,
        min_out: flight.min_out,
        max_bounty: flight.max_bounty,
        trade_value: 0,
        full_value: flight.full_value,
        sold_ppm_after: flight.sold_ppm_after,
    };
    let values_before = math::position_values(mid, Rounding::Floor).map_err(|e| error!(BallastError::from(e)))?;
    let (sell, buy) = (flight.sell as usize, flight.buy as usize);
    Ok(RebalanceEffects {
        request: TradeRequest { sell, buy, amount_in: flight.requested_amount_in, min_out: flight.min_out },
        plan,
        targets: flight.targets.clone(),
        values_before,
        drift_before: flight.drift_before,
    })
}
