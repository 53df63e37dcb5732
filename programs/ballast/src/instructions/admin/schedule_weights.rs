//! Gradual weight change through the timelock: queued like any parameter change, applied by
//! `execute_params`, then targets move linearly from the weights in force to `to_weights` between
//! `start_slot` and `end_slot`.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::WeightScheduleProposedEvent;
use crate::math;
use crate::state::{pause, PendingParams, ScheduleState};

use super::Governed;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ScheduleWeightsArgs {
    /// Final weights in vault asset order (each > 0, sum 10 000).
    pub to_weights: Vec<u16>,
    pub start_slot: u64,
    /// Must be after `start_slot` and ahead when proposed. If `start_slot` has passed when the change is
    /// executed, the move starts then and keeps its duration.
    pub end_slot: u64,
}

impl Governed<'_> {
    fn validate_schedule(&self, args: &ScheduleWeightsArgs) -> Result<()> {
        let vault = &self.vault;
        vault.require_active()?;
        vault.require_not_paused(pause::GOVERNANCE)?;
        require!(vault.pending_params.is_none(), BallastError::ParamsChangeAlreadyPending);
        require!(args.to_weights.len() == vault.assets.len(), BallastError::AssetCountMismatch);
        require!(math::weights_sum_to_bps(&args.to_weights), BallastError::WeightsDoNotSum);
        require!(args.end_slot > args.start_slot && args.end_slot > Clock::get()?.slot, BallastError::ScheduleInvalid);
        vault.check_proposal(&vault.key(), &Self::pending_schedule(vault, args))
    }

    fn pending_schedule(vault: &crate::state::Vault, args: &ScheduleWeightsArgs) -> PendingParams {
        PendingParams {
            params: vault.params,
            assets: vault.assets.iter().map(|a| a.params).collect(),
            schedule: Some(ScheduleState {
                from: Vec::new(),
                to: args.to_weights.clone(),
                start_slot: args.start_slot,
                end_slot: args.end_slot,
            }),
            eta: 0,
        }
    }

    /// Queues a gradual move to `to_weights`; other parameters stay as they are. If the timelock runs past
    /// `start_slot`, the move starts at execution and keeps its duration (`end_slot − start_slot`).
    #[access_control(ctx.accounts.validate_schedule(&args))]
    pub fn schedule_weights(ctx: Context<Governed>, args: ScheduleWeightsArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let vault = &mut ctx.accounts.vault;
        let eta = now.checked_add(vault.params.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
        vault.pending_params = Some(PendingParams { eta, ..Self::pending_schedule(vault, &args) });
        vault.seal()?;
        crate::events::emit(WeightScheduleProposedEvent {
            vault: vault.key(),
            to_weights: args.to_weights,
            start_slot: args.start_slot,
            end_slot: args.end_slot,
            eta,
        });
        Ok(())
    }
}
