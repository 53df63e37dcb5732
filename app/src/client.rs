//! Instruction builders, PDA finders and account decoding for ballast. Pure: no chain, no RPC, so the
//! demo, the tests, the keeper and the simulator all build transactions the same way.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use ballast::constants::*;
use ballast::instructions::*;
use ballast::state::{AmmEntry, Vault};

/// PDA finders (seeds come from `ballast::constants`).
pub mod pda {
    use super::*;

    pub fn vault(creator: &Pubkey, vault_id: u64) -> Pubkey {
        Pubkey::find_program_address(&[VAULT_SEED, creator.as_ref(), &vault_id.to_le_bytes()], &ballast::ID).0
    }
    pub fn share_mint(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[SHARE_MINT_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn locked_shares(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[LOCKED_SHARES_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn reserve(vault: &Pubkey, mint: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[RESERVE_SEED, vault.as_ref(), mint.as_ref()], &ballast::ID).0
    }
}

/// Decodes a vault account (checks the discriminator).
pub fn decode_vault(data: &[u8]) -> anyhow::Result<Vault> {
    Ok(Vault::try_deserialize(&mut &data[..])?)
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData, remaining: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction { program_id: ballast::ID, accounts: metas, data: data.data() }
}

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

pub fn propose_params(governance: &Pubkey, vault: &Pubkey, args: ProposeParamsArgs) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ProposeParams { args }, vec![])
}

pub fn execute_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ExecuteParams {}, vec![])
}

pub fn cancel_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::CancelParams {}, vec![])
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
    ix(ballast::accounts::SetPause { authority: *authority, vault: *vault }, ballast::instruction::SetPause { flags }, vec![])
}

pub fn add_amm(governance: &Pubkey, vault: &Pubkey, amm_program: &Pubkey, pool: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::AddAmm { governance: *governance, vault: *vault, amm_program: *amm_program, pool: *pool },
        ballast::instruction::AddAmm {},
        vec![],
    )
}

pub fn remove_amm(governance: &Pubkey, vault: &Pubkey, entry: AmmEntry) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::RemoveAmm { entry }, vec![])
}

/// `[mint, reserve, user]` per asset, as `deposit` and `withdraw` expect.
pub fn transfer_legs(vault: &Vault, user_accounts: &[Pubkey]) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .zip(user_accounts)
        .flat_map(|(a, user)| {
            [AccountMeta::new_readonly(a.mint, false), AccountMeta::new(a.reserve, false), AccountMeta::new(*user, false)]
        })
        .collect()
}

/// `[oracle, reserve]` per asset, as `deposit_single` and `rebalance` expect.
pub fn valuation_accounts(vault: &Vault) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .flat_map(|a| [AccountMeta::new_readonly(a.oracle, false), AccountMeta::new_readonly(a.reserve, false)])
        .collect()
}

pub fn deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    depositor_shares: &Pubkey,
    user_accounts: &[Pubkey],
    args: DepositArgs,
) -> Instruction {
    ix(
        ballast::accounts::Deposit {
            depositor: *depositor,
            vault: *vault_key,
            share_mint: vault.share_mint,
            depositor_shares: *depositor_shares,
            token_program: spl_token::ID,
            token_2022_program: spl_token_2022::ID,
        },
        ballast::instruction::Deposit { args },
        transfer_legs(vault, user_accounts),
    )
}

pub fn deposit_single(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    depositor_shares: &Pubkey,
    depositor_token: &Pubkey,
    args: DepositSingleArgs,
) -> Instruction {
    let asset = vault.assets[args.asset_index as usize];
    ix(
        ballast::accounts::DepositSingle {
            depositor: *depositor,
            vault: *vault_key,
            share_mint: vault.share_mint,
            locked_shares: vault.locked_shares,
            depositor_shares: *depositor_shares,
            mint: asset.mint,
            reserve: asset.reserve,
            depositor_token: *depositor_token,
            token_program: spl_token::ID,
            asset_token_program: asset.token_program,
        },
        ballast::instruction::DepositSingle { args },
        valuation_accounts(vault),
    )
}

pub fn withdraw(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    owner_shares: &Pubkey,
    destinations: &[Pubkey],
    args: WithdrawArgs,
) -> Instruction {
    ix(
        ballast::accounts::Withdraw {
            owner: *owner,
            vault: *vault_key,
            share_mint: vault.share_mint,
            owner_shares: *owner_shares,
            token_program: spl_token::ID,
            token_2022_program: spl_token_2022::ID,
        },
        ballast::instruction::Withdraw { args },
        transfer_legs(vault, destinations),
    )
}
