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

/// `stage_params`: the vault parameters and the first assets' of a change staged over several transactions
/// (`recipients`: the fee recipients' share accounts, needed only when these are all the vault's assets).
pub fn stage_params(
    governance: &Pubkey,
    vault: &Pubkey,
    args: StageParamsArgs,
    recipients: Vec<AccountMeta>,
) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::StageParams { args }, recipients)
}

/// `append_params`: the next assets' parameters of the staged change (`recipients`: the fee recipients' share
/// accounts, needed by the append that completes it).
pub fn append_params(
    governance: &Pubkey,
    vault: &Pubkey,
    args: AppendParamsArgs,
    recipients: Vec<AccountMeta>,
) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::AppendParams { args }, recipients)
}

/// A parameter change as the transactions that carry it, each within a packet with `payer` paying: one
/// `propose_params` when it fits; else (a vault above 108 assets) `stage_params` with the vault parameters and as
/// many assets' as fit, then `append_params` until every asset's are in, the last with the fee recipients' share
/// accounts. A vault above 16 assets' transactions carry the heap frame and the largest compute-unit limit (it
/// decodes and checks the whole vault); each leaves room for a compute-unit price the sender adds. Send them in
/// order; the change is queued, and its timelock starts, when the last lands.
pub fn proposal_transactions(
    payer: &Pubkey,
    governance: &Pubkey,
    vault_key: &Pubkey,
    vault: &ballast::state::Vault,
    args: ProposeParamsArgs,
) -> Vec<Vec<Instruction>> {
    use solana_compute_budget_interface::ComputeBudgetInstruction;
    let large = vault.assets.len() > ballast::constants::DIRECT_MAX_ASSETS;
    let budgeted = |ix: Instruction| {
        let mut ixs = if large { vec![ComputeBudgetInstruction::set_compute_unit_limit(1_400_000)] } else { vec![] };
        ixs.push(ix);
        crate::with_heap_frame(vault, ixs)
    };
    let fits = |ix: &Instruction| {
        let mut tx = budgeted(ix.clone());
        tx.insert(0, ComputeBudgetInstruction::set_compute_unit_price(1));
        crate::exit::measure(payer, &tx, &[]).is_ok_and(|(bytes, _, _)| bytes <= crate::exit::PACKET_DATA_SIZE)
    };
    let whole = propose_params(governance, vault_key, args.clone());
    if fits(&whole) {
        return vec![budgeted(whole)];
    }
    let recipients = fee_recipient_metas(&args.params.fees);
    let n = args.assets.len();
    // The most assets from `first` on that fit one transaction built by `build(first, count)`.
    let most = |first: usize, build: &dyn Fn(usize, usize) -> Instruction| {
        (1..=n - first).rev().find(|count| fits(&build(first, *count))).unwrap_or(1)
    };
    let stage = |_: usize, count: usize| {
        let staged = StageParamsArgs { params: args.params, assets: args.assets[..count].to_vec() };
        stage_params(governance, vault_key, staged, if count == n { recipients.clone() } else { vec![] })
    };
    let append = |first: usize, count: usize| {
        let staged_hash = ballast::state::PendingParams::staged_hash(&args.params, &args.assets[..first]);
        let next =
            AppendParamsArgs { first: first as u16, staged_hash, assets: args.assets[first..first + count].to_vec() };
        append_params(governance, vault_key, next, if first + count == n { recipients.clone() } else { vec![] })
    };
    let count = most(0, &stage);
    let mut txs = vec![budgeted(stage(0, count))];
    let mut first = count;
    while first < n {
        let count = most(first, &append);
        txs.push(budgeted(append(first, count)));
        first += count;
    }
    txs
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
