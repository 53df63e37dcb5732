//! Builders of single-asset withdrawals: `request_withdraw` (escrow the shares, record the quote),
//! `settle_withdraw` (anyone: pay the worse of the two quotes in the chosen asset) and `cancel_withdraw`
//! (after expiry: the shares come back).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token::spl_token;
use ballast::instructions::RequestWithdrawArgs;
use ballast::state::{Vault, WithdrawRequest};

use crate::{deposit_valuation_accounts, ix, pda};

/// `request_withdraw`: escrow `args.shares` of `owner_shares`; the payout goes to `destination` (a token
/// account of the chosen asset) at settlement.
pub fn request_withdraw(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    owner_shares: &Pubkey,
    destination: &Pubkey,
    args: RequestWithdrawArgs,
) -> Instruction {
    let asset = vault.assets[args.asset_index as usize];
    let request = pda::withdraw_request(vault_key, owner);
    let remaining = deposit_valuation_accounts(vault, args.asset_index as usize);
    ix(
        ballast::accounts::RequestWithdraw {
            owner: *owner,
            vault: *vault_key,
            share_mint: vault.share_mint,
            request,
            escrow: pda::withdraw_escrow(&request),
            owner_shares: *owner_shares,
            mint: asset.mint,
            destination: *destination,
            asset_token_program: asset.token_program,
            token_program: spl_token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::RequestWithdraw { args },
        remaining,
    )
}

/// `settle_withdraw` of `request` (anyone signs as `settler`).
pub fn settle_withdraw(settler: &Pubkey, vault_key: &Pubkey, vault: &Vault, request: &WithdrawRequest) -> Instruction {
    let asset = vault.assets[request.asset_index as usize];
    let key = pda::withdraw_request(vault_key, &request.owner);
    ix(
        ballast::accounts::SettleWithdraw {
            settler: *settler,
            vault: *vault_key,
            request: key,
            owner: request.owner,
            share_mint: vault.share_mint,
            escrow: pda::withdraw_escrow(&key),
            mint: asset.mint,
            reserve: asset.reserve,
            destination: request.destination,
            asset_token_program: asset.token_program,
            token_program: spl_token::ID,
        },
        ballast::instruction::SettleWithdraw {},
        deposit_valuation_accounts(vault, request.asset_index as usize),
    )
}

/// A settlement as a keeper sends it: the owner's associated token account of the asset created first if it is
/// missing (the settler pays its rent; an owner who closed it cannot block the settlement), then
/// `settle_withdraw`.
pub fn settle_withdraw_ixs(
    settler: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    request: &WithdrawRequest,
) -> Vec<Instruction> {
    use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
    let asset = vault.assets[request.asset_index as usize];
    vec![
        create_associated_token_account_idempotent(settler, &request.owner, &asset.mint, &asset.token_program),
        settle_withdraw(settler, vault_key, vault, request),
    ]
}

/// `cancel_withdraw`: after expiry, the escrowed shares go back to `shares_to`.
pub fn cancel_withdraw(owner: &Pubkey, vault_key: &Pubkey, vault: &Vault, shares_to: &Pubkey) -> Instruction {
    let key = pda::withdraw_request(vault_key, owner);
    ix(
        ballast::accounts::CancelWithdraw {
            owner: *owner,
            vault: *vault_key,
            request: key,
            share_mint: vault.share_mint,
            escrow: pda::withdraw_escrow(&key),
            shares_to: *shares_to,
            token_program: spl_token::ID,
        },
        ballast::instruction::CancelWithdraw {},
        vec![],
    )
}

/// `assert_min_balance`: the transaction fails unless `token_account` ends with at least `min_balance`.
pub fn assert_min_balance(token_account: &Pubkey, min_balance: u64) -> Instruction {
    ix(
        ballast::accounts::AssertMinBalance { token_account: *token_account },
        ballast::instruction::AssertMinBalance { min_balance },
        vec![],
    )
}
