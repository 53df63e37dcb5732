use anchor_lang::prelude::*;

use crate::constants::MIN_ASSETS;
use crate::errors::BallastError;
use crate::events::VaultActivatedEvent;
use crate::math;
use crate::state::{Vault, VaultStatus};

#[derive(Accounts)]
pub struct ActivateVault<'info> {
    pub governance: Signer<'info>,
    #[account(mut, has_one = governance @ BallastError::NotGovernance)]
    pub vault: Box<Account<'info, Vault>>,
}

impl ActivateVault<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        require!(vault.status == VaultStatus::Configuring, BallastError::VaultAlreadyActive);
        require!(vault.assets.len() >= MIN_ASSETS, BallastError::TooFewAssets);
        require!(math::weights_sum_to_bps(&vault.targets()), BallastError::WeightsDoNotSum);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<ActivateVault>) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.status = VaultStatus::Active;
        vault.invariant()?;
        emit!(VaultActivatedEvent {
            vault: vault.key(),
            asset_count: vault.assets.len() as u8,
            targets_bps: vault.targets(),
        });
        Ok(())
    }
}
