use anchor_lang::prelude::*;

use crate::constants::MIN_ASSETS;
use crate::errors::BallastError;
use crate::events::VaultActivatedEvent;
use crate::math;
use crate::state::VaultStatus;

use super::Governed;

impl Governed<'_> {
    fn validate_activate(&self) -> Result<()> {
        let vault = &self.vault;
        require!(vault.status == VaultStatus::Configuring, BallastError::VaultAlreadyActive);
        require!(vault.assets.len() >= MIN_ASSETS, BallastError::TooFewAssets);
        require!(math::weights_sum_to_bps(&vault.targets()), BallastError::WeightsDoNotSum);
        Ok(())
    }

    /// Freezes the asset list and opens deposits.
    #[access_control(ctx.accounts.validate_activate())]
    pub fn activate(ctx: Context<Governed>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.status = VaultStatus::Active;
        vault.seal()?;
        crate::events::emit(VaultActivatedEvent {
            vault: vault.key(),
            asset_count: u8::try_from(vault.assets.len()).map_err(|_| BallastError::TooManyAssets)?,
            targets_bps: vault.targets(),
        });
        Ok(())
    }
}
