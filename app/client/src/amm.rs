//! Builders for the reference AMM.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;

use ballast_amm::{LP_MINT_SEED, POOL_SEED, POOL_VAULT_SEED};

fn amm_ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ballast_amm::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// Sorts a mint pair the way pools are keyed.
pub fn sorted(a: Pubkey, b: Pubkey) -> (Pubkey, Pubkey) {
    if a < b {
        (a, b)
    } else {
        (b, a)
    }
}

pub fn pool(mint_a: &Pubkey, mint_b: &Pubkey) -> Pubkey {
    crate::pda::find(&[POOL_SEED, mint_a.as_ref(), mint_b.as_ref()], &ballast_amm::ID)
}
pub fn pool_vault(pool: &Pubkey, mint: &Pubkey) -> Pubkey {
    crate::pda::find(&[POOL_VAULT_SEED, pool.as_ref(), mint.as_ref()], &ballast_amm::ID)
}
pub fn lp_mint(pool: &Pubkey) -> Pubkey {
    crate::pda::find(&[LP_MINT_SEED, pool.as_ref()], &ballast_amm::ID)
}

/// `mint_a < mint_b` required.
pub fn create_pool(
    payer: &Pubkey,
    mint_a: &Pubkey,
    mint_b: &Pubkey,
    program_a: &Pubkey,
    program_b: &Pubkey,
    fee_bps: u16,
) -> Instruction {
    let pool = pool(mint_a, mint_b);
    amm_ix(
        ballast_amm::accounts::CreatePool {
            payer: *payer,
            mint_a: *mint_a,
            mint_b: *mint_b,
            pool,
            vault_a: pool_vault(&pool, mint_a),
            vault_b: pool_vault(&pool, mint_b),
            lp_mint: lp_mint(&pool),
            token_program_a: *program_a,
            token_program_b: *program_b,
            token_program: spl_token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        ballast_amm::instruction::CreatePool { fee_bps },
    )
}

/// Accounts of `add_liquidity` / `remove_liquidity`.
#[allow(clippy::too_many_arguments)]
pub fn liquidity_accounts(
    user: &Pubkey,
    mint_a: &Pubkey,
    mint_b: &Pubkey,
    user_a: &Pubkey,
    user_b: &Pubkey,
    user_lp: &Pubkey,
    program_a: &Pubkey,
    program_b: &Pubkey,
) -> ballast_amm::accounts::Liquidity {
    let pool = pool(mint_a, mint_b);
    ballast_amm::accounts::Liquidity {
        user: *user,
        pool,
        mint_a: *mint_a,
        mint_b: *mint_b,
        vault_a: pool_vault(&pool, mint_a),
        vault_b: pool_vault(&pool, mint_b),
        user_a: *user_a,
        user_b: *user_b,
        lp_mint: lp_mint(&pool),
        user_lp: *user_lp,
        token_program_a: *program_a,
        token_program_b: *program_b,
        token_program: spl_token::ID,
    }
}

pub fn add_liquidity(accounts: ballast_amm::accounts::Liquidity, max_a: u64, max_b: u64, min_lp: u64) -> Instruction {
    amm_ix(accounts, ballast_amm::instruction::AddLiquidity { max_a, max_b, min_lp })
}

pub fn remove_liquidity(accounts: ballast_amm::accounts::Liquidity, lp: u64, min_a: u64, min_b: u64) -> Instruction {
    amm_ix(accounts, ballast_amm::instruction::RemoveLiquidity { lp, min_a, min_b })
}

/// Exact-in swap of `mint_in` for `mint_out` in the pool of that pair.
#[allow(clippy::too_many_arguments)]
pub fn swap(
    user: &Pubkey,
    mint_in: &Pubkey,
    mint_out: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    program_in: &Pubkey,
    program_out: &Pubkey,
    amount_in: u64,
    min_out: u64,
) -> Instruction {
    let (a, b) = sorted(*mint_in, *mint_out);
    let pool = pool(&a, &b);
    amm_ix(
        ballast_amm::accounts::Swap {
            user: *user,
            pool,
            vault_in: pool_vault(&pool, mint_in),
            vault_out: pool_vault(&pool, mint_out),
            mint_in: *mint_in,
            mint_out: *mint_out,
            user_source: *source,
            user_destination: *destination,
            token_program_in: *program_in,
            token_program_out: *program_out,
        },
        ballast_amm::instruction::Swap { amount_in, min_out },
    )
}
