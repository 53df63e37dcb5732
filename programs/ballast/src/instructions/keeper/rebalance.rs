//! Permissionless rebalance: sell an overweight asset for an underweight one through a whitelisted AMM.
//!
//! Order (Kamino's effects/reconcile shape): checks (`validate`) → prices (`load_valuation`) → pure
//! effects (`Vault::rebalance_effects`: need, size, floor, room for the bounty) → CPI swap → reconcile every
//! reserve and the share supply (`checks::post_swap`) → complete (`RebalanceEffects::complete`: bounty,
//! drift after, cooldown, episode) → pay the bounty → record and emit.
//!
//! An `amount_in` larger than allowed is **clamped** (not refused) to the largest trade that moves
//! neither asset past its target (valued at mid prices, bounty included) and stays within both assets'
//! max trade size; the event reports the clamp. A keeper therefore cannot overshoot by asking for more.
//!
//! The price is an auction (`math::auction`): the least output accepted starts at the fair output at
//! the mid prices of readings at most `rebalance_max_age_secs` (≤ 10 s) old with at most
//! `rebalance_max_conf_bps` of confidence, and falls linearly over `auction_secs` to that output minus one
//! haircut (`slippage_cap_bps` ≤ 3 %, at most 0.5 bps a second). The auction opens when the program sees an
//! asset out of its band and none is running: if none is open (or the open one was not seen out of band
//! within the heartbeat), this instruction opens it and trades nothing (`AuctionEvent`). One auction sells
//! at most one full-size trade at its prices; once half of one has been sold (in one trade or several) it
//! restarts at fair value and the cooldown starts (`math::auction::AuctionState`). Keepers therefore compete:
//! the first whose route pays the current price takes the trade. The bounty is `bounty_bps` (≤ 1 %) of half
//! the drift removed, capped per drift episode. Dust trades neither lock other keepers out (they start no
//! cooldown) nor sell the drift at one relaxed price (they consume the auction).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::amm::{self, SwapAccounts};
use crate::checks;
use crate::errors::BallastError;
use crate::events::RouteKind;
use crate::instructions::accounts::{reload_amount, share_supply};
use crate::state::Vault;
use crate::token as tok;

use super::trade;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct RebalanceArgs {
    /// Index of the overweight asset to sell.
    pub sell_index: u8,
    /// Index of the underweight asset to buy.
    pub buy_index: u8,
    /// Amount of the sold asset to swap (clamped by the program, see module docs).
    pub amount_in: u64,
    /// Keeper's minimum output; the program uses `max(its own floor, min_out)`.
    pub min_out: u64,
}

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order (or the vault's valuation cache,
/// refreshed in the same slot), then (with `pool_price_bound`)
/// the price accounts of every whitelisted pool of the pair in whitelist order (each pool, then its reserves
/// for a constant-product pool), then the AMM adapter's own accounts (reference AMM:
/// `[pool_vault_in, pool_vault_out]`).
#[derive(Accounts)]
pub struct Rebalance<'info> {
    pub keeper: Signer<'info>,
    #[account(mut, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    pub sell_mint: Box<InterfaceAccount<'info, Mint>>,
    pub buy_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The vault's reserve of the sold asset (checked in `validate`).
    #[account(mut)]
    pub sell_reserve: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The vault's reserve of the bought asset (checked in `validate`).
    #[account(mut)]
    pub buy_reserve: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives the keeper bounty, paid in the sold asset.
    #[account(mut, token::mint = sell_mint, token::token_program = sell_token_program)]
    pub keeper_bounty_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: must form a whitelisted (program, pool) pair with `pool` (checked in `validate`) and have an
    /// adapter (checked in `amm::swap_exact_in`).
    pub amm_program: UncheckedAccount<'info>,
    /// CHECK: whitelisted together with `amm_program` (checked in `validate`); its layout is the AMM's and
    /// its adapter checks it (owner, mints, vaults). Writable: real AMMs update their pool on a swap.
    #[account(mut)]
    pub pool: UncheckedAccount<'info>,
    pub sell_token_program: Interface<'info, TokenInterface>,
    pub buy_token_program: Interface<'info, TokenInterface>,
    /// The vault's share mint (its supply scales a CPPI floor).
    pub share_mint: Box<Account<'info, anchor_spl::token::Mint>>,
}

impl Rebalance<'_> {
    pub fn validate(&self, args: &RebalanceArgs) -> Result<()> {
        let vault = &self.vault;
        trade::require_open(vault)?;
        // sell == buy never gets here: the two reserves would be the same mutable account, which Anchor
        // refuses (ConstraintDuplicateMutableAccount); the pure planner refuses it too (SameAsset).
        let (sm, sr, sp) = (self.sell_mint.key(), self.sell_reserve.key(), self.sell_token_program.key());
        vault.asset_accounts(args.sell_index as usize, &sm, &sr, &sp)?;
        let (bm, br, bp) = (self.buy_mint.key(), self.buy_reserve.key(), self.buy_token_program.key());
        vault.asset_accounts(args.buy_index as usize, &bm, &br, &bp)?;
        require_keys_eq!(self.share_mint.key(), vault.share_mint, BallastError::ShareMintMismatch);
        require!(vault.amm(&self.amm_program.key(), &self.pool.key()).is_some(), BallastError::AmmNotWhitelisted);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, Rebalance<'info>>, args: RebalanceArgs) -> Result<()> {
        let (s, b) = (args.sell_index as usize, args.buy_index as usize);
        let (source, price_accounts, amm_accounts) =
            trade::split_remaining(&ctx.accounts.vault, &args, ctx.remaining_accounts)?;
        check_amm_accounts(&ctx.accounts.vault, amm_accounts)?;

        // Prices, limits in force and the pure effects (need, size, floor, room for the bounty).
        let supply = ctx.accounts.share_mint.supply;
        let vault_key = ctx.accounts.vault.key();
        let trade::Prepared { valuation, mid, limits, effects, auction, now, fees } =
            trade::prepare(&mut ctx.accounts.vault, &vault_key, source, price_accounts, supply, &args)?;
        let vault = &ctx.accounts.vault;
        crate::events::emit_fees(vault.key(), &fees, vault.fees.pending_shares);
        let evidence_at = valuation.evidence_at();
        let Some(auction) = auction else {
            // The first attempt on a vault out of band (no auction open, or the open one went stale) opens
            // the auction at fair value and trades nothing, on readings that agree with their EMA only.
            let vault = &mut ctx.accounts.vault;
            require!(vault.may_open_auction(&valuation.readings), BallastError::OracleDivergence);
            let change = vault.open_auction(now, evidence_at);
            vault.seal()?;
            crate::events::emit_auction(vault.key(), change);
            return Ok(());
        };
        let plan = effects.plan;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;
        let before = accounts.balances_before(&valuation.reserve_amounts, supply, s, b);

        // CPI: swap through the whitelisted AMM with the vault signing.
        let signer = vault.signer();
        let seeds = signer.seeds();
        let vault_ai = vault.to_account_info();
        let sell_reserve = accounts.sell_reserve.to_account_info();
        let buy_reserve = accounts.buy_reserve.to_account_info();
        let sell_mint = accounts.sell_mint.to_account_info();
        let sell_program = accounts.sell_token_program.to_account_info();
        accounts.swap(amm_accounts, plan.amount_in, plan.min_out, &[&seeds])?;

        // Reconcile: every reserve and the share supply against what the swap may change.
        let reserves = source.reserves_after(vault, &before.reserves, &[(s, &sell_reserve), (b, &buy_reserve)])?;
        let after = checks::Balances { reserves, share_supply: share_supply(&accounts.share_mint.to_account_info())? };
        let received = checks::post_swap(&before, &after, s, b, &plan)?;

        // Bounty: a share of the drift this trade removed, within what is left of the episode's cap.
        let done = trade::complete(vault, &effects, &mid, valuation.bounds[s].high, &limits, received)?;
        let sell_asset = vault.assets[s];
        tok::transfer(
            &sell_program,
            &sell_reserve,
            &sell_mint,
            &accounts.keeper_bounty_account.to_account_info(),
            &vault_ai,
            done.bounty,
            sell_asset.decimals,
            Some(&[&seeds]),
        )?;
        let sell_final = reload_amount(&sell_reserve, &sell_asset.token_program, &sell_asset.mint)?;
        let (vault_key, keeper) = (vault.key(), accounts.keeper.key());
        require!(after.reserves[s].checked_sub(sell_final) == Some(done.bounty), BallastError::UnexpectedBalanceChange);
        let executed = trade::Executed {
            vault_key,
            keeper,
            route: RouteKind::Amm,
            requested_amount_in: args.amount_in,
            received,
            auction_elapsed_secs: auction.elapsed_secs,
            evidence_at,
            prices: (
                valuation.readings.iter().map(|r| r.price).collect(),
                valuation.readings.iter().map(|r| r.expo).collect(),
            ),
            bands_bps: limits.iter().map(|l| l.band_bps).collect(),
        };
        let (event, auction) = trade::commit(&mut ctx.accounts.vault, &effects, &done, executed)?;
        crate::events::emit(event);
        crate::events::emit_auction(vault_key, auction);
        Ok(())
    }
}

impl<'info> Rebalance<'info> {
    /// Every reserve and the share supply before the swap: the valuation's reserves with the two traded ones as
    /// they are now (valued from the cache, a transfer into one since the refresh is neither counted as the
    /// swap's output nor a mismatch of its input).
    fn balances_before(&self, valued: &[u64], share_supply: u64, sell: usize, buy: usize) -> checks::Balances {
        let mut reserves = valued.to_vec();
        reserves[sell] = self.sell_reserve.amount;
        reserves[buy] = self.buy_reserve.amount;
        checks::Balances { reserves, share_supply }
    }

    /// `amount_in` of the sold asset for at least `min_out` of the bought one through the whitelisted pool,
    /// the vault PDA signing.
    fn swap(&self, extra: &[AccountInfo<'info>], amount_in: u64, min_out: u64, signer: &[&[&[u8]]]) -> Result<()> {
        amm::swap_exact_in(
            &SwapAccounts {
                amm_program: &self.amm_program.to_account_info(),
                pool: &self.pool.to_account_info(),
                authority: &self.vault.to_account_info(),
                source: &self.sell_reserve.to_account_info(),
                destination: &self.buy_reserve.to_account_info(),
                source_mint: &self.sell_mint.to_account_info(),
                destination_mint: &self.buy_mint.to_account_info(),
                source_token_program: &self.sell_token_program.to_account_info(),
                destination_token_program: &self.buy_token_program.to_account_info(),
                extra,
            },
            amount_in,
            min_out,
            signer,
        )
    }
}

/// The vault PDA signs the swap: none of the accounts it controls may reach the AMM.
fn check_amm_accounts(vault: &Account<Vault>, amm_accounts: &[AccountInfo]) -> Result<()> {
    for acc in amm_accounts {
        let key = acc.key();
        require!(
            key != vault.key()
                && key != vault.share_mint
                && key != vault.locked_shares
                && !vault.assets.iter().any(|a| a.reserve == key),
            BallastError::AmmAccountNotAllowed
        );
    }
    Ok(())
}
