//! Timelocked parameter changes: `propose_params`, `execute_params`, `cancel_params`; and, for a vault whose
//! asset parameters do not fit one transaction (above about 110 assets: 564 bytes plus 6 an asset, with a fee payer
//! beside governance), the same proposal staged:
//! `stage_params` (the vault parameters and the first assets'), then `append_params` until every asset's are in.
//! A staged change cannot be executed, and its timelock starts when the last `append_params` completes it.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::{ParamsCancelledEvent, ParamsExecutedEvent, ParamsProposedEvent, ParamsStagedEvent};
use crate::state::{pause, AssetParams, FeeParams, FeeRecipient, PendingParams, Vault, VaultParams};

use super::Governed;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ProposeParamsArgs {
    /// The complete new vault parameters.
    pub params: VaultParams,
    /// The complete new per-asset parameters, in the vault's asset order.
    pub assets: Vec<AssetParams>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StageParamsArgs {
    /// The complete new vault parameters.
    pub params: VaultParams,
    /// The new parameters of the vault's first assets, in its asset order (`append_params` adds the others).
    pub assets: Vec<AssetParams>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AppendParamsArgs {
    /// The index of the first asset these parameters are for: the number staged so far.
    pub first: u16,
    /// The change this part continues: `PendingParams::staged_hash` of its vault parameters and the assets'
    /// staged so far.
    pub staged_hash: [u8; 32],
    /// The new parameters of the next assets, in the vault's asset order.
    pub assets: Vec<AssetParams>,
}

impl Governed<'_> {
    fn validate_stage(&self, args: &StageParamsArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::GOVERNANCE)?;
        require!(vault.pending_params.is_none(), BallastError::ParamsChangeAlreadyPending);
        let staged = PendingParams {
            params: args.params,
            assets: args.assets.clone(),
            schedule: None,
            eta: PendingParams::STAGING,
        };
        Vault::check_pending(&staged, vault.assets.len())
    }

    fn validate_append(&self, args: &AppendParamsArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        let staged = vault.pending_params.as_ref().filter(|p| p.is_staging()).ok_or(BallastError::NoParamsStaging)?;
        require!(usize::from(args.first) == staged.assets.len(), BallastError::ParamsStageOutOfOrder);
        require!(
            PendingParams::staged_hash(&staged.params, &staged.assets) == args.staged_hash,
            BallastError::StagedParamsMismatch
        );
        let total = staged.assets.len().checked_add(args.assets.len()).ok_or(BallastError::MathOverflow)?;
        require!(total <= vault.assets.len(), BallastError::AssetCountMismatch);
        for a in &args.assets {
            a.check()?;
        }
        Ok(())
    }

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
        require!(!pending.is_staging(), BallastError::ParamsStillStaging);
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
        let pending = PendingParams { params: args.params, assets: args.assets, schedule: None, eta: 0 };
        let vault_key = ctx.accounts.vault.key();
        queue(&mut ctx.accounts.vault, &vault_key, ctx.remaining_accounts, pending)
    }

    /// Starts a proposal whose asset parameters come in several transactions: the vault parameters and the first
    /// assets' (all of them: queued at once, as `propose_params`). Remaining accounts, when it completes the
    /// change: the share account of every fee recipient with a weight, in the proposed order.
    #[access_control(ctx.accounts.validate_stage(&args))]
    pub fn stage_params(ctx: Context<Governed>, args: StageParamsArgs) -> Result<()> {
        let staged =
            PendingParams { params: args.params, assets: args.assets, schedule: None, eta: PendingParams::STAGING };
        let vault_key = ctx.accounts.vault.key();
        stage(&mut ctx.accounts.vault, &vault_key, ctx.remaining_accounts, staged)
    }

    /// Adds the next assets' parameters to the change being staged; the one that completes it queues it behind the
    /// timelock (checked as `propose_params` checks a proposal, with the same remaining accounts).
    #[access_control(ctx.accounts.validate_append(&args))]
    pub fn append_params(ctx: Context<Governed>, args: AppendParamsArgs) -> Result<()> {
        let vault_key = ctx.accounts.vault.key();
        let vault = &mut ctx.accounts.vault;
        let mut staged = vault.pending_params.take().ok_or(BallastError::NoParamsStaging)?;
        staged.assets.extend(args.assets);
        stage(vault, &vault_key, ctx.remaining_accounts, staged)
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

/// Keeps `staged` on the vault while assets are missing; queues it once complete (checked as a proposal).
fn stage(vault: &mut Vault, vault_key: &Pubkey, remaining: &[AccountInfo], mut staged: PendingParams) -> Result<()> {
    let total = vault.assets.len();
    if staged.assets.len() < total {
        let count = |n: usize| u16::try_from(n).map_err(|_| error!(BallastError::MathOverflow));
        let (staged_count, total) = (count(staged.assets.len())?, count(total)?);
        vault.pending_params = Some(staged);
        vault.seal()?;
        crate::events::emit(ParamsStagedEvent { vault: *vault_key, staged: staged_count, total });
        return Ok(());
    }
    // Complete: checked as a proposal (`queue` sets its eta).
    staged.eta = 0;
    vault.check_proposal(vault_key, &staged)?;
    queue(vault, vault_key, remaining, staged)
}

/// Queues the complete change `pending` behind the current timelock, from now. Remaining accounts: the share
/// account of every fee recipient with a weight, in the proposed order.
fn queue(vault: &mut Vault, vault_key: &Pubkey, remaining: &[AccountInfo], mut pending: PendingParams) -> Result<()> {
    check_fee_recipient_accounts(vault, vault_key, &pending.params.fees, remaining)?;
    let now = Clock::get()?.unix_timestamp;
    pending.eta = now.checked_add(vault.params.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
    let (params, assets, eta) = (pending.params, pending.assets.clone(), pending.eta);
    vault.pending_params = Some(pending);
    vault.seal()?;
    crate::events::emit(ParamsProposedEvent { vault: *vault_key, params, assets, eta });
    Ok(())
}
