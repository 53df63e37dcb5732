//! Timelocked parameter changes: `propose_params`, `execute_params`, `cancel_params`.

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::events::{ParamsCancelledEvent, ParamsExecutedEvent, ParamsProposedEvent};
use crate::math;
use crate::state::{pause, AssetParams, PendingParams, VaultParams};

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
        args.params.check(false)?;
        require!(args.assets.len() == vault.assets.len(), BallastError::AssetCountMismatch);
        for a in &args.assets {
            a.check()?;
        }
        let targets: Vec<u16> = args.assets.iter().map(|a| a.target_bps).collect();
        require!(math::weights_sum_to_bps(&targets), BallastError::WeightsDoNotSum);
        Ok(())
    }

    fn validate_execute(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        let pending = vault.pending_params.as_ref().ok_or(BallastError::NoParamsChangePending)?;
        require!(Clock::get()?.unix_timestamp >= pending.eta, BallastError::TimelockNotElapsed);
        Ok(())
    }

    fn validate_cancel(&self) -> Result<()> {
        // Cancelling is allowed while governance is paused: it only ever removes a pending change.
        require!(self.vault.pending_params.is_some(), BallastError::NoParamsChangePending);
        Ok(())
    }

    /// Queues a parameter change that `execute_params` may apply once the current timelock elapsed.
    #[access_control(ctx.accounts.validate_propose(&args))]
    pub fn propose_params(ctx: Context<Governed>, args: ProposeParamsArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let vault = &mut ctx.accounts.vault;
        let eta = now.checked_add(vault.params.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
        vault.pending_params =
            Some(PendingParams { params: args.params, assets: args.assets.clone(), schedule: None, eta });
        vault.invariant()?;
        emit!(ParamsProposedEvent { vault: vault.key(), params: args.params, assets: args.assets, eta });
        Ok(())
    }

    /// Applies the pending change after its timelock.
    #[access_control(ctx.accounts.validate_execute())]
    pub fn execute_params(ctx: Context<Governed>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        let pending = vault.pending_params.take().ok_or(BallastError::NoParamsChangePending)?;
        let slot = Clock::get()?.slot;
        let old_params = vault.params;
        let old_assets: Vec<AssetParams> = vault.assets.iter().map(|a| a.params).collect();
        if pending.params.cppi_floor() != old_params.cppi_floor()
            || pending.params.target_mode != old_params.target_mode
        {
            vault.cppi_floor_per_share = pending.params.cppi_floor();
        }
        vault.params = pending.params;
        let targets_changed = old_assets.iter().zip(&pending.assets).any(|(o, n)| o.target_bps != n.target_bps);
        for (asset, p) in vault.assets.iter_mut().zip(&pending.assets) {
            asset.params = *p;
        }
        if targets_changed {
            // New targets replace whatever a running schedule was moving towards.
            vault.schedule = None;
        }
        if let Some(mut schedule) = pending.schedule {
            // The move starts from the weights in force now (mid-schedule weights if one was running).
            schedule.from = match &vault.schedule {
                Some(running) => math::adaptive::scheduled_targets(&running.to_math(), slot).or_math_err()?,
                None => vault.targets(),
            };
            vault.schedule = Some(schedule);
        }
        vault.invariant()?;
        emit!(ParamsExecutedEvent {
            vault: vault.key(),
            old_params,
            new_params: pending.params,
            old_assets,
            new_assets: pending.assets,
        });
        Ok(())
    }

    /// Drops the pending change.
    #[access_control(ctx.accounts.validate_cancel())]
    pub fn cancel_params(ctx: Context<Governed>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.pending_params = None;
        emit!(ParamsCancelledEvent { vault: vault.key() });
        Ok(())
    }
}
