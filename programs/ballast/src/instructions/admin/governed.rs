use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::state::Vault;

/// Accounts of every instruction that needs nothing but governance's signature on its vault:
/// `activate_vault`, `propose_params`, `stage_params`, `append_params`, `execute_params`, `cancel_params`,
/// `transfer_governance`,
/// `remove_amm`. Each instruction adds its own `validate_*` and handler in its file.
#[derive(Accounts)]
pub struct Governed<'info> {
    pub governance: Signer<'info>,
    #[account(mut, has_one = governance @ BallastError::NotGovernance, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
}
