//! Timelocked parameter changes: `propose_params`, `execute_params`, `cancel_params`.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::{ParamsCancelledEvent, ParamsExecutedEvent, ParamsProposedEvent};
use crate::state::{pause, AssetParams, FeeParams, FeeRecipient, PendingParams, Vault, VaultParams};

use super::Governed;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ProposeParamsArgs {
    /// The complete new vault parameters.
    pub params: VaultParams,
    /// The complete new per-asset parameters, in the vault's asset order.
    pub assets: Vec<AssetParams>,
}

impl Governed<'_> {
    fn validate_propose(&self, args: &ProposeParamsArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::GOVERNANCE)?;
        require!(vault.pending_params.is_none(), BallastError::ParamsChangeAlreadyPending);
        let pending = PendingParams { params: args.params, assets: args.assets.clone(), schedule: None, eta: 0 };
        vault.check_proposal(&vault.key(), &pending)
    }

    fn validate_execute(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        let pending = vault.pending_params.as_ref().ok_or(BallastError::NoParamsChangePending)?;
        let now = Clock::get()?.unix_timestamp;
        require!(now >= pending.eta, BallastError::TimelockNotElapsed);
        if vault.params.fees.running_differ(&pending.params.fees) {
            vault.require_fees_accrued_now(now)?;
        }
        Ok(())
    }

    fn validate_lower_fees(&self, fees: &FeeParams) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        fees.check()?;
        require!(vault.params.fees.lowered_to(fees), BallastError::FeeNotLowered);
        if vault.params.fees.running_differ(fees) {
            vault.require_fees_accrued_now(Clock::get()?.unix_timestamp)?;
        }
        Ok(())
    }

    fn validate_cancel(&self) -> Result<()> {
        // Cancelling is allowed while governance is paused: it only ever removes a pending change.
        require!(self.vault.pending_params.is_some(), BallastError::NoParamsChangePending);
        Ok(())
    }

    /// Queues a parameter change that `execute_params` may apply once the current timelock elapsed.
    /// Remaining accounts: the share account of every fee recipient with a weight, in the proposed order.
    #[access_control(ctx.accounts.validate_propose(&args))]
    pub fn propose_params(ctx: Context<Governed>, args: ProposeParamsArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let vault_key = ctx.accounts.vault.key();
        check_fee_recipient_accounts(&ctx.accounts.vault, &vault_key, &args.params.fees, ctx.remaining_accounts)?;
        let vault = &mut ctx.accounts.vault;
        let eta = now.checked_add(vault.params.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
        vault.pending_params =
            Some(PendingParams { params: args.params, assets: args.assets.clone(), schedule: None, eta });
        vault.seal()?;
        crate::events::emit(ParamsProposedEvent { vault: vault.key(), params: args.params, assets: args.assets, eta });
        Ok(())
    }

    /// Applies the pending change after its timelock. Remaining accounts: the share account of every fee
    /// recipient with a weight, in the pending change's order (checked again: an account may have changed
    /// since the proposal).
    #[access_control(ctx.accounts.validate_execute())]
    pub fn execute_params(ctx: Context<Governed>) -> Result<()> {
        let vault_key = ctx.accounts.vault.key();
        let vault = &mut ctx.accounts.vault;
        let pending = vault.pending_params.take().ok_or(BallastError::NoParamsChangePending)?;
        check_fee_recipient_accounts(vault, &vault_key, &pending.params.fees, ctx.remaining_accounts)?;
        let old_params = vault.params;
        let old_assets: Vec<AssetParams> = vault.assets.iter().map(|a| a.params).collect();
        let new_assets = pending.assets.clone();
        vault.apply_pending(pending, Clock::get()?.slot)?;
        // A new performance fee applies only to gains made after it took effect.
        vault.remark_after_fee_change(&old_params.fees)?;
        vault.seal()?;
        crate::events::emit(ParamsExecutedEvent {
            vault: vault.key(),
            old_params,
            new_params: vault.params,
            old_assets,
            new_assets,
            schedule: vault.schedule.clone(),
        });
        Ok(())
    }

    /// Lowers fee rates at once (same recipients): holders only gain, so no timelock. A pending proposal keeps
    /// its own fees.
    #[access_control(ctx.accounts.validate_lower_fees(&fees))]
    pub fn lower_fees(ctx: Context<Governed>, fees: FeeParams) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        let old_params = vault.params;
        vault.params.fees = fees;
        vault.remark_after_fee_change(&old_params.fees)?;
        vault.seal()?;
        let assets: Vec<AssetParams> = vault.assets.iter().map(|a| a.params).collect();
        crate::events::emit(ParamsExecutedEvent {
            vault: vault.key(),
            old_params,
            new_params: vault.params,
            old_assets: assets.clone(),
            new_assets: assets,
            schedule: vault.schedule.clone(),
        });
        Ok(())
    }

    /// Drops the pending change.
    #[access_control(ctx.accounts.validate_cancel())]
    pub fn cancel_params(ctx: Context<Governed>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.pending_params = None;
        vault.seal()?;
        crate::events::emit(ParamsCancelledEvent { vault: vault.key() });
        Ok(())
    }
}

/// Every fee recipient with a weight is, right now, a token account of the vault's share mint that the vault
/// does not own (and not one of the vault's own accounts): `accounts` are their accounts in the order of
/// `fees.recipients`. Checked when a change naming them is proposed and again when it is executed, so that
/// `accrue_fees` can always mint.
fn check_fee_recipient_accounts(
    vault: &Vault,
    vault_key: &Pubkey,
    fees: &FeeParams,
    accounts: &[AccountInfo],
) -> Result<()> {
    vault.check_fee_recipients(vault_key, fees)?;
    let used: Vec<&FeeRecipient> = fees.recipients.iter().filter(|r| r.weight_bps > 0).collect();
    require!(accounts.len() == used.len(), BallastError::FeeRecipientNotShareAccount);
    for (r, info) in used.iter().zip(accounts) {
        require_keys_eq!(info.key(), r.account, BallastError::FeeRecipientNotShareAccount);
        let account = crate::token::load_token_account(info, &anchor_spl::token::ID, &vault.share_mint)
            .map_err(|_| error!(BallastError::FeeRecipientNotShareAccount))?;
        require!(account.owner != *vault_key, BallastError::FeeRecipientIsVault);
    }
    Ok(())
}
