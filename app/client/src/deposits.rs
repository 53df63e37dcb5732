//! Builders of the depositor's instructions: deposits (in kind, single-asset requests and their
//! settlement), claims and withdrawals, with the account legs they pass.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use ballast::instructions::*;
use ballast::state::{AmmEntry, DepositRequest, Vault};

use crate::{ix, pda};

/// `[mint, reserve, user]` per asset, as `deposit` and `withdraw` expect.
pub fn transfer_legs(vault: &Vault, user_accounts: &[Pubkey]) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .zip(user_accounts)
        .flat_map(|(a, user)| {
            [
                AccountMeta::new_readonly(a.mint, false),
                AccountMeta::new(a.reserve, false),
                AccountMeta::new(*user, false),
            ]
        })
        .collect()
}

/// `[oracle, reserve]` per asset, as `request_deposit`, `settle_deposit`, `rebalance` and `poke` expect.
pub fn valuation_accounts(vault: &Vault) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .flat_map(|a| [AccountMeta::new_readonly(a.oracle, false), AccountMeta::new_readonly(a.reserve, false)])
        .collect()
}

/// The price accounts of `pools` (whitelisted entries with their asset indices, in whitelist order), as the
/// program reads the vault's own pools as a second price source: each pool, then for a constant-product pool
/// its vaults of mint a and mint b (derived: both the reference AMM's and Raydium CPMM's are PDAs).
pub fn pool_price_accounts(pools: &[(AmmEntry, (usize, usize))]) -> Vec<AccountMeta> {
    let mut metas = Vec::new();
    for (e, _) in pools {
        metas.push(AccountMeta::new_readonly(e.pool, false));
        let vaults = if e.program_id == ballast_amm::ID {
            vec![crate::amm::pool_vault(&e.pool, &e.mint_a), crate::amm::pool_vault(&e.pool, &e.mint_b)]
        } else if e.program_id == crate::dex::raydium::ID {
            vec![crate::dex::raydium::vault(&e.pool, &e.mint_a), crate::dex::raydium::vault(&e.pool, &e.mint_b)]
        } else {
            vec![]
        };
        metas.extend(vaults.into_iter().map(|k| AccountMeta::new_readonly(k, false)));
    }
    metas
}

/// `[oracle, reserve]` per asset, then the price accounts of the whitelisted pools trading asset `index`
/// (when the vault reads pools as prices): what `request_deposit` and `settle_deposit` take.
pub fn deposit_valuation_accounts(vault: &Vault, index: usize) -> Vec<AccountMeta> {
    let mut metas = valuation_accounts(vault);
    metas.extend(pool_price_accounts(&vault.asset_pools(index)));
    metas
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

/// An in-kind deposit as a client sends it: with a performance fee, `accrue_fees` first in the same
/// transaction (the program takes an in-kind deposit only in the slot the fee was crystallised in, so that it
/// never pays a fee on a gain made before it), then `deposit`.
pub fn deposit_with_fees(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    depositor_shares: &Pubkey,
    user_accounts: &[Pubkey],
    args: DepositArgs,
) -> Vec<Instruction> {
    let mut ixs = Vec::with_capacity(2);
    if vault.params.fees.performance_bps > 0 {
        ixs.push(crate::accrue_fees(vault_key, vault));
    }
    ixs.push(deposit(depositor, vault_key, vault, depositor_shares, user_accounts, args));
    ixs
}

/// `request_deposit`: escrow `args.amount` of one asset; shares go to `shares_destination` at settlement.
pub fn request_deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    shares_destination: &Pubkey,
    depositor_token: &Pubkey,
    args: RequestDepositArgs,
) -> Instruction {
    let asset = vault.assets[args.asset_index as usize];
    let remaining = deposit_valuation_accounts(vault, args.asset_index as usize);
    ix(
        ballast::accounts::RequestDeposit {
            depositor: *depositor,
            vault: *vault_key,
            share_mint: vault.share_mint,
            request: pda::deposit_request(vault_key, depositor),
            shares_destination: *shares_destination,
            mint: asset.mint,
            reserve: asset.reserve,
            depositor_token: *depositor_token,
            asset_token_program: asset.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::RequestDeposit { args },
        remaining,
    )
}

/// `settle_deposit` of `request` (anyone signs as `settler`).
pub fn settle_deposit(settler: &Pubkey, vault_key: &Pubkey, vault: &Vault, request: &DepositRequest) -> Instruction {
    ix(
        ballast::accounts::SettleDeposit {
            settler: *settler,
            vault: *vault_key,
            request: pda::deposit_request(vault_key, &request.depositor),
            depositor: request.depositor,
            share_mint: vault.share_mint,
            locked_shares: vault.locked_shares,
            shares_destination: request.shares_destination,
            token_program: spl_token::ID,
        },
        ballast::instruction::SettleDeposit {},
        deposit_valuation_accounts(vault, request.asset_index as usize),
    )
}

/// `cancel_deposit`: refund an expired request to `refund_to`.
pub fn cancel_deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    request: &DepositRequest,
    refund_to: &Pubkey,
) -> Instruction {
    let asset = vault.assets[request.asset_index as usize];
    ix(
        ballast::accounts::CancelDeposit {
            depositor: *depositor,
            vault: *vault_key,
            request: pda::deposit_request(vault_key, depositor),
            mint: asset.mint,
            reserve: asset.reserve,
            refund_to: *refund_to,
            asset_token_program: asset.token_program,
        },
        ballast::instruction::CancelDeposit {},
        vec![],
    )
}

/// `open_claim` for `owner` (paid by `payer`).
pub fn open_claim(payer: &Pubkey, vault_key: &Pubkey, owner: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::OpenClaim {
            payer: *payer,
            vault: *vault_key,
            claim: pda::claim(vault_key, owner),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::OpenClaim { owner: *owner },
        vec![],
    )
}

/// `redeem_claim` of one asset to `destination`.
pub fn redeem_claim(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    asset_index: u8,
    destination: &Pubkey,
) -> Instruction {
    let asset = vault.assets[asset_index as usize];
    ix(
        ballast::accounts::RedeemClaim {
            owner: *owner,
            vault: *vault_key,
            claim: pda::claim(vault_key, owner),
            mint: asset.mint,
            reserve: asset.reserve,
            destination: *destination,
            asset_token_program: asset.token_program,
        },
        ballast::instruction::RedeemClaim { asset_index },
        vec![],
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
            claim: (args.skip_mask != 0).then(|| pda::claim(vault_key, owner)),
            token_program: spl_token::ID,
            token_2022_program: spl_token_2022::ID,
        },
        ballast::instruction::Withdraw { args },
        transfer_legs(vault, destinations),
    )
}

/// `withdraw_to_claim`: burns `shares` for the pro-rata part of every reserve, all of it recorded in the owner's
/// claim (opened first: [`open_claim`]) and paid out by [`redeem_claim`]. The valuation cache must be refreshed in
/// the same slot (balances only: [`cached_transactions`] sends the refresh and this).
pub fn withdraw_to_claim(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    owner_shares: &Pubkey,
    shares: u64,
) -> Instruction {
    ix(
        ballast::accounts::WithdrawToClaim {
            owner: *owner,
            vault: *vault_key,
            share_mint: vault.share_mint,
            owner_shares: *owner_shares,
            claim: pda::claim(vault_key, owner),
            cache: crate::valuation_cache_address(vault_key),
            token_program: spl_token::ID,
        },
        ballast::instruction::WithdrawToClaim { shares },
        vec![],
    )
}
