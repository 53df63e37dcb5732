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
//! What a keeper can take from one trade is bounded: the floor is the fair output at the mid prices of
//! readings at most `rebalance_max_age_secs` old with at most `rebalance_max_conf_bps` of confidence,
//! minus one haircut (`slippage_cap_bps` ≤ 3 %), and the bounty is `bounty_bps` (≤ 1 %) of half the drift
//! removed, capped per drift episode. Only a trade of at least half the allowed size, or one that brings
//! every asset inside its band, starts the cooldown, so dust trades cannot lock other keepers out.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::amm::{self, SwapAccounts};
use crate::checks;
use crate::errors::{BallastError, MathResultExt};
use crate::events::RebalanceEvent;
use crate::instructions::accounts::{load_valuation, reload_amount, reserve_balances};
use crate::math::{self, rebalance as planner, Rounding};
use crate::state::{pause, AmmEntry, Vault};
use crate::token as tok;

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

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order, then the AMM adapter's
/// own accounts (reference AMM: `[pool_vault_in, pool_vault_out]`).
#[derive(Accounts)]
pub struct Rebalance<'info> {
    pub keeper: Signer<'info>,
    #[account(mut)]
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
    /// CHECK: whitelisted together with `amm_program` (checked in `validate`); its layout is the AMM's.
    pub pool: UncheckedAccount<'info>,
    pub sell_token_program: Interface<'info, TokenInterface>,
    pub buy_token_program: Interface<'info, TokenInterface>,
    /// The vault's share mint (its supply scales a CPPI floor).
    pub share_mint: Box<Account<'info, anchor_spl::token::Mint>>,
}

impl Rebalance<'_> {
    pub fn validate(&self, args: &RebalanceArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::REBALANCE)?;
        // sell == buy never gets here: the two reserves would be the same mutable account, which Anchor
        // refuses (ConstraintDuplicateMutableAccount); the pure planner refuses it too (SameAsset).
        let sell = vault.assets.get(args.sell_index as usize).ok_or(BallastError::AssetIndexOutOfRange)?;
        let buy = vault.assets.get(args.buy_index as usize).ok_or(BallastError::AssetIndexOutOfRange)?;
        require_keys_eq!(self.sell_mint.key(), sell.mint, BallastError::MintMismatch);
        require_keys_eq!(self.buy_mint.key(), buy.mint, BallastError::MintMismatch);
        require_keys_eq!(self.sell_reserve.key(), sell.reserve, BallastError::ReserveMismatch);
        require_keys_eq!(self.buy_reserve.key(), buy.reserve, BallastError::ReserveMismatch);
        require_keys_eq!(self.sell_token_program.key(), sell.token_program, BallastError::WrongTokenProgram);
        require_keys_eq!(self.buy_token_program.key(), buy.token_program, BallastError::WrongTokenProgram);
        require_keys_eq!(self.share_mint.key(), vault.share_mint, BallastError::ShareMintMismatch);
        let route = AmmEntry { program_id: self.amm_program.key(), pool: self.pool.key() };
        require!(vault.amms.contains(&route), BallastError::AmmNotWhitelisted);
        let slot = Clock::get()?.slot;
        let ready = vault.last_rebalance_slot.saturating_add(vault.params.rebalance_cooldown_slots);
        require!(vault.last_rebalance_slot == 0 || slot >= ready, BallastError::CooldownNotElapsed);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler<'info>(ctx: Context<'info, Rebalance<'info>>, args: RebalanceArgs) -> Result<()> {
        let clock = Clock::get()?;
        let (s, b) = (args.sell_index as usize, args.buy_index as usize);
        let n = ctx.accounts.vault.assets.len();
        require!(ctx.remaining_accounts.len() >= 2 * n, BallastError::WrongRemainingAccounts);
        let (valuation_accounts, amm_accounts) = ctx.remaining_accounts.split_at(2 * n);
        {
            // The vault PDA signs the swap: none of the accounts it controls may reach the AMM.
            let vault = &ctx.accounts.vault;
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
        }

        // Prices and balances (every oracle checked under the rebalance limits and recorded).
        let oracle_limits = ctx.accounts.vault.params.rebalance_oracle_limits();
        let valuation =
            load_valuation(&mut ctx.accounts.vault, valuation_accounts, clock.unix_timestamp, &oracle_limits)?;
        let supply = ctx.accounts.share_mint.supply;
        let mid = valuation.positions(&ctx.accounts.vault, |p| p.mid);
        let nav = valuation.nav(&ctx.accounts.vault, |p| p.mid, Rounding::Floor)?;
        // Targets (fixed, scheduled or CPPI) and effective bands (fixed or volatility-scaled) in force.
        let limits =
            ctx.accounts.vault.prepare_rebalance(&valuation.readings, nav, supply, clock.slot).or_math_err()?;
        let accounts = &ctx.accounts;
        let vault = &accounts.vault;

        // Compute: the pure effects decide need, size, floor and the room for the bounty.
        let policy = vault.params.trade_policy();
        let request = planner::TradeRequest { sell: s, buy: b, amount_in: args.amount_in, min_out: args.min_out };
        let effects = vault
            .rebalance_effects(&mid, &valuation.bounds, &limits, &request)
            .map_err(|r| error!(BallastError::from(r)))?;
        let plan = effects.plan;
        let before = checks::Balances { reserves: valuation.reserve_amounts.clone(), share_supply: supply };

        // CPI: swap through the whitelisted AMM with the vault signing.
        let signer = vault.signer();
        let seeds = signer.seeds();
        let vault_ai = vault.to_account_info();
        let sell_reserve = accounts.sell_reserve.to_account_info();
        let sell_mint = accounts.sell_mint.to_account_info();
        let sell_program = accounts.sell_token_program.to_account_info();
        amm::swap_exact_in(
            &SwapAccounts {
                amm_program: &accounts.amm_program.to_account_info(),
                pool: &accounts.pool.to_account_info(),
                authority: &vault_ai,
                source: &sell_reserve,
                destination: &accounts.buy_reserve.to_account_info(),
                source_mint: &sell_mint,
                destination_mint: &accounts.buy_mint.to_account_info(),
                source_token_program: &sell_program,
                destination_token_program: &accounts.buy_token_program.to_account_info(),
                extra: amm_accounts,
            },
            plan.amount_in,
            plan.min_out,
            &[&seeds],
        )?;

        // Reconcile: every reserve and the share supply against what the swap may change.
        let after = reserve_balances(vault, valuation_accounts, &accounts.share_mint.to_account_info())?;
        let received = checks::post_swap(&before, &after, s, b, &plan)?;

        // Bounty: a share of the drift this trade removed, within what is left of the episode's cap; then the
        // drift check on the final balances.
        let done = effects
            .complete(&mid, valuation.bounds[s].high, &limits, &policy, received, vault.episode_bounty_paid)
            .or_math_err()?;
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
        require!(after.reserves[s].checked_sub(sell_final) == Some(done.bounty), BallastError::UnexpectedBalanceChange);
        require!(done.drift_after < effects.drift_before, BallastError::DriftNotReduced);

        // Commit.
        let event = RebalanceEvent {
            vault: vault.key(),
            keeper: accounts.keeper.key(),
            sell_index: args.sell_index,
            buy_index: args.buy_index,
            requested_amount_in: args.amount_in,
            amount_in: plan.amount_in,
            clamped: plan.clamped,
            floor_out: plan.floor_out,
            min_out: plan.min_out,
            amount_out: received,
            bounty: done.bounty,
            bounty_value: done.bounty_value,
            started_cooldown: done.started_cooldown,
            episode_bounty_paid: done.episode_bounty_paid,
            prices: valuation.readings.iter().map(|r| r.price).collect(),
            expos: valuation.readings.iter().map(|r| r.expo).collect(),
            weights_before_bps: math::weights_bps(&effects.values_before).or_math_err()?,
            weights_after_bps: math::weights_bps(&done.values_after).or_math_err()?,
            drift_before: effects.drift_before,
            drift_after: done.drift_after,
            targets_bps: effects.targets.clone(),
            bands_bps: limits.iter().map(|l| l.band_bps).collect(),
        };
        let vault = &mut ctx.accounts.vault;
        if done.started_cooldown {
            vault.last_rebalance_slot = clock.slot;
        }
        vault.episode_bounty_paid = done.episode_bounty_paid;
        vault.invariant()?;
        emit!(event);
        Ok(())
    }
}
