//! ballast: a multi-asset vault with oracle-priced, permissionless, band-triggered rebalancing.
//!
//! This file only dispatches; each instruction lives in `instructions/<actor>/<name>.rs` with its
//! `Args`, `Accounts`, `validate()` and handler.
#![allow(clippy::result_large_err)]
#![deny(arithmetic_overflow)]
// Tests may unwrap and cast freely; program code may not (see `[workspace.lints]`).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation))]

use anchor_lang::prelude::*;

pub mod amm;
pub mod checks;
pub mod constants;
pub mod create;
pub mod errors;
pub mod events;
pub mod heap;
pub mod instructions;
/// The pure math (`ballast-math`), re-exported so program code and clients reach it as `ballast::math`.
pub use ballast_math as math;
pub mod oracle;
pub mod state;
pub mod token;

use instructions::*;
use state::FeeParams;

declare_id!("34WGzzUz8ZhUbLXsmBm6HaBrjTxGP1BsfLQmLuf9F74x");

#[program]
pub mod ballast {
    use super::*;

    /// Creates a vault in the `Configuring` state with its share mint and locked-shares account.
    pub fn initialize_vault(ctx: Context<InitializeVault>, args: InitializeVaultArgs) -> Result<()> {
        InitializeVault::handler(ctx, args)
    }

    /// Governance adds one asset (mint, pinned oracle, weights) and creates its reserve.
    pub fn add_asset(ctx: Context<AddAsset>, args: AddAssetArgs) -> Result<()> {
        AddAsset::handler(ctx, args)
    }

    /// Governance freezes the asset list once weights sum to 10 000 bps; deposits open.
    pub fn activate_vault(ctx: Context<Governed>) -> Result<()> {
        Governed::activate(ctx)
    }

    /// Governance queues new parameters; they apply after the timelock.
    pub fn propose_params(ctx: Context<Governed>, args: ProposeParamsArgs) -> Result<()> {
        Governed::propose_params(ctx, args)
    }

    /// Governance starts a parameter change staged over several transactions (a vault whose asset parameters do
    /// not fit one): the vault parameters and the first assets'.
    pub fn stage_params(ctx: Context<Governed>, args: StageParamsArgs) -> Result<()> {
        Governed::stage_params(ctx, args)
    }

    /// Governance adds the next assets' parameters to the staged change; the last completes and queues it.
    pub fn append_params(ctx: Context<Governed>, args: AppendParamsArgs) -> Result<()> {
        Governed::append_params(ctx, args)
    }

    /// Governance applies queued parameters once the timelock elapsed.
    pub fn execute_params(ctx: Context<Governed>) -> Result<()> {
        Governed::execute_params(ctx)
    }

    /// Governance drops queued parameters.
    pub fn cancel_params(ctx: Context<Governed>) -> Result<()> {
        Governed::cancel_params(ctx)
    }

    /// Governance names a successor (step one of two).
    pub fn transfer_governance(ctx: Context<Governed>, new_governance: Pubkey) -> Result<()> {
        Governed::transfer_governance(ctx, new_governance)
    }

    /// The named successor takes over (step two of two).
    pub fn accept_governance(ctx: Context<AcceptGovernance>) -> Result<()> {
        AcceptGovernance::handler(ctx)
    }

    /// Governance queues a gradual weight change (applied by `execute_params` after the timelock).
    pub fn schedule_weights(ctx: Context<Governed>, args: ScheduleWeightsArgs) -> Result<()> {
        Governed::schedule_weights(ctx, args)
    }

    /// Governance sets pause flags; the guardian may only add them. In-kind withdrawals cannot be paused.
    pub fn set_pause(ctx: Context<SetPause>, flags: u8) -> Result<()> {
        SetPause::handler(ctx, flags)
    }

    /// Governance whitelists an (AMM program, pool) route for rebalancing.
    pub fn add_amm(ctx: Context<AddAmm>) -> Result<()> {
        AddAmm::handler(ctx)
    }

    /// Governance removes the whitelisted route through `pool`.
    pub fn remove_amm(ctx: Context<Governed>, pool: Pubkey) -> Result<()> {
        Governed::remove_amm(ctx, pool)
    }

    /// Deposit every asset in the vault's current proportions for shares.
    pub fn deposit<'info>(ctx: Context<'info, Deposit<'info>>, args: DepositArgs) -> Result<()> {
        Deposit::handler(ctx, args)
    }

    /// Single-asset deposit, step one: escrow the tokens and record the valuation at request time.
    pub fn request_deposit<'info>(ctx: Context<'info, RequestDeposit<'info>>, args: RequestDepositArgs) -> Result<()> {
        RequestDeposit::handler(ctx, args)
    }

    /// Anyone (keepers): settle a deposit request with prices published after it, at the worse of the two
    /// valuations, minus the deposit fee.
    pub fn settle_deposit<'info>(ctx: Context<'info, SettleDeposit<'info>>) -> Result<()> {
        SettleDeposit::handler(ctx)
    }

    /// Refund a deposit request that expired unsettled. Works while paused.
    pub fn cancel_deposit(ctx: Context<CancelDeposit>) -> Result<()> {
        CancelDeposit::handler(ctx)
    }

    /// Single-asset withdrawal, step one: escrow the shares and record the quote at request time. Works while
    /// deposits are paused.
    pub fn request_withdraw<'info>(
        ctx: Context<'info, RequestWithdraw<'info>>,
        args: RequestWithdrawArgs,
    ) -> Result<()> {
        RequestWithdraw::handler(ctx, args)
    }

    /// Single-asset withdrawal, step two (anyone): burn the shares and pay the worse of the two quotes in the
    /// chosen asset, less the fee and the cost of the trades the payout forces.
    pub fn settle_withdraw<'info>(ctx: Context<'info, SettleWithdraw<'info>>) -> Result<()> {
        SettleWithdraw::handler(ctx)
    }

    /// Return the shares of a withdrawal request that expired unsettled. Works while paused.
    pub fn cancel_withdraw(ctx: Context<CancelWithdraw>) -> Result<()> {
        CancelWithdraw::handler(ctx)
    }

    /// Fails unless `token_account` holds at least `min_balance`: the one overall minimum of a composed exit
    /// (in-kind withdraw, then swaps into one token), placed last in its transaction.
    pub fn assert_min_balance(ctx: Context<AssertMinBalance>, min_balance: u64) -> Result<()> {
        AssertMinBalance::handler(ctx, min_balance)
    }

    /// Create `owner`'s claim account (anyone may pay for it), needed to skip assets when withdrawing.
    pub fn open_claim(ctx: Context<OpenClaim>, owner: Pubkey) -> Result<()> {
        OpenClaim::handler(ctx, owner)
    }

    /// Pay out what a claim holds for one asset. Works while paused.
    pub fn redeem_claim(ctx: Context<RedeemClaim>, asset_index: u8) -> Result<()> {
        RedeemClaim::handler(ctx, asset_index)
    }

    /// Anyone: sell an overweight asset for an underweight one through a whitelisted AMM, with a
    /// program-derived minimum output, balance reconciliation and a capped keeper bounty.
    pub fn rebalance<'info>(ctx: Context<'info, Rebalance<'info>>, args: RebalanceArgs) -> Result<()> {
        Rebalance::handler(ctx, args)
    }

    /// Anyone: begin a flash rebalance (all of `rebalance`'s gating and floor; a `rebalance_end` of the
    /// same vault must follow in the same transaction); the sold asset goes to the keeper's account.
    pub fn rebalance_begin<'info>(ctx: Context<'info, RebalanceBegin<'info>>, args: RebalanceArgs) -> Result<()> {
        RebalanceBegin::handler(ctx, args)
    }

    /// The keeper that began it: reconcile every reserve and the share supply, pay the bounty, end the
    /// flash rebalance.
    pub fn rebalance_end<'info>(ctx: Context<'info, RebalanceEnd<'info>>) -> Result<()> {
        RebalanceEnd::handler(ctx)
    }

    /// Anyone creates a vault's valuation cache (pays its rent once).
    pub fn init_valuation_cache(ctx: Context<InitValuationCache>) -> Result<()> {
        InitValuationCache::handler(ctx)
    }

    /// Anyone records a batch of assets' checked readings and reserve balances in the vault's valuation cache
    /// for this slot (top-level only).
    pub fn refresh_valuation<'info>(
        ctx: Context<'info, RefreshValuation<'info>>,
        args: RefreshValuationArgs,
    ) -> Result<()> {
        RefreshValuation::handler(ctx, args)
    }

    /// Anyone: refresh the vault's oracle readings and volatility estimates.
    pub fn poke<'info>(ctx: Context<'info, Poke<'info>>) -> Result<()> {
        Poke::handler(ctx)
    }

    /// Burn shares for the pro-rata part of every reserve, optionally skipping named assets (their amounts
    /// go to the owner's claim). Works while paused.
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, args: WithdrawArgs) -> Result<()> {
        Withdraw::handler(ctx, args)
    }

    /// Burn shares for the pro-rata part of every reserve, all of it recorded in the owner's claim (balances
    /// from the valuation cache refreshed in this slot): the withdrawal of a vault too large for `withdraw`'s
    /// accounts, paid out by `redeem_claim`. Works while paused; needs no price.
    pub fn withdraw_to_claim(ctx: Context<WithdrawToClaim>, shares: u64) -> Result<()> {
        WithdrawToClaim::handler(ctx, shares)
    }

    /// Anyone: accrue the management and performance fees up to now on fresh readings and mint the fee
    /// shares owed into the recipients' share accounts by weight.
    pub fn accrue_fees<'info>(ctx: Context<'info, AccrueFees<'info>>) -> Result<()> {
        AccrueFees::handler(ctx)
    }

    /// Governance: lower fee rates at once (same recipients; raising goes through `propose_params`).
    pub fn lower_fees(ctx: Context<Governed>, fees: FeeParams) -> Result<()> {
        Governed::lower_fees(ctx, fees)
    }
}
