//! Builders of the vault's set-up and governance instructions.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_spl::token::spl_token;
use ballast::instructions::*;

use crate::{ix, pda};

pub fn initialize_vault(creator: &Pubkey, args: InitializeVaultArgs) -> Instruction {
    let vault = pda::vault(creator, args.vault_id);
    ix(
        ballast::accounts::InitializeVault {
            creator: *creator,
            vault,
            share_mint: pda::share_mint(&vault),
            locked_shares: pda::locked_shares(&vault),
            token_program: spl_token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitializeVault { args },
        vec![],
    )
}

#[allow(clippy::too_many_arguments)]
pub fn add_asset(
    payer: &Pubkey,
    governance: &Pubkey,
    vault: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    oracle: &Pubkey,
    args: AddAssetArgs,
) -> Instruction {
    ix(
        ballast::accounts::AddAsset {
            payer: *payer,
            governance: *governance,
            vault: *vault,
            mint: *mint,
            reserve: pda::reserve(vault, mint),
            oracle: *oracle,
            token_program: *token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::AddAsset { args },
        vec![],
    )
}

pub fn activate_vault(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ActivateVault {}, vec![])
}

fn govern(governance: &Pubkey, vault: &Pubkey) -> ballast::accounts::Governed {
    ballast::accounts::Governed { governance: *governance, vault: *vault }
}

/// The share accounts of the fee recipients with a weight, in order: what `propose_params` and
/// `execute_params` check (each a share account the vault does not own).
pub fn fee_recipient_metas(fees: &ballast::state::FeeParams) -> Vec<AccountMeta> {
    fees.recipients.iter().filter(|r| r.weight_bps > 0).map(|r| AccountMeta::new_readonly(r.account, false)).collect()
}

/// `propose_params`, with the proposed fee recipients' share accounts.
pub fn propose_params(governance: &Pubkey, vault: &Pubkey, args: ProposeParamsArgs) -> Instruction {
    let recipients = fee_recipient_metas(&args.params.fees);
    ix(govern(governance, vault), ballast::instruction::ProposeParams { args }, recipients)
}

/// `execute_params` of a pending change that names no fee recipient (see [`execute_pending`] otherwise).
pub fn execute_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ExecuteParams {}, vec![])
}

/// `execute_params` of the change pending in `state` (the vault at `vault`), with its fee recipients' share
/// accounts.
pub fn execute_pending(governance: &Pubkey, vault: &Pubkey, state: &ballast::state::Vault) -> Instruction {
    let recipients = state.pending_params.as_ref().map(|p| fee_recipient_metas(&p.params.fees)).unwrap_or_default();
    ix(govern(governance, vault), ballast::instruction::ExecuteParams {}, recipients)
}

pub fn cancel_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::CancelParams {}, vec![])
}

pub fn schedule_weights(governance: &Pubkey, vault: &Pubkey, args: ScheduleWeightsArgs) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ScheduleWeights { args }, vec![])
}

/// `lower_fees`: lower fee rates at once (same recipients); send after `accrue_fees` in one transaction when
/// a running fee changes.
pub fn lower_fees(governance: &Pubkey, vault: &Pubkey, fees: ballast::state::FeeParams) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::LowerFees { fees }, vec![])
}

pub fn transfer_governance(governance: &Pubkey, vault: &Pubkey, new_governance: Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::TransferGovernance { new_governance }, vec![])
}

pub fn accept_governance(pending: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::AcceptGovernance { pending_governance: *pending, vault: *vault },
        ballast::instruction::AcceptGovernance {},
        vec![],
    )
}

pub fn set_pause(authority: &Pubkey, vault: &Pubkey, flags: u8) -> Instruction {
    ix(
        ballast::accounts::SetPause { authority: *authority, vault: *vault },
        ballast::instruction::SetPause { flags },
        vec![],
    )
}

pub fn add_amm(governance: &Pubkey, vault: &Pubkey, amm_program: &Pubkey, pool: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::AddAmm { governance: *governance, vault: *vault, amm_program: *amm_program, pool: *pool },
        ballast::instruction::AddAmm {},
        vec![],
    )
}

/// `remove_amm`: the route through `pool` leaves the whitelist (and stops being a price source).
pub fn remove_amm(governance: &Pubkey, vault: &Pubkey, pool: Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::RemoveAmm { pool }, vec![])
}
