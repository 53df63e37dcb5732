//! Adapter for Orca Whirlpools, the v1 `swap` (SPL Token legs), built with Orca's published client crate
//! (`orca_whirlpools_client`: the `Whirlpool` account, the `Swap` instruction builder). The instruction is
//! invoked through Anchor's `invoke_signed`, not the crate's `SwapCpi`: off chain (the program running
//! natively in the test validator) `solana_cpi::invoke_signed` is a no-op that returns `Ok`, while
//! Anchor's goes through the runtime's syscall stubs, so only the latter executes the swap in tests; on
//! chain both are the same syscall.
//!
//! Extra accounts: `[token_vault_a, token_vault_b, tick_array_0, tick_array_1, tick_array_2, oracle]`: the
//! pool's vaults of its mints a and b, the three tick arrays the swap may cross in its direction (the
//! keeper picks them from the current tick), and the pool's oracle PDA `["oracle", pool]`.
//!
//! Checked before the CPI: the pool is a Whirlpool owned by the Whirlpool program, its mints are the two
//! assets of the trade, the vaults are its own, every tick array belongs to it, the oracle is its PDA, and
//! both legs are SPL Token (the v1 swap moves tokens with SPL Token only). The swap is exact-in with the
//! program's min-out as `other_amount_threshold` and the sqrt-price limit at the end of the range in the
//! swap's direction; the caller reconciles balances afterwards as for every AMM.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::program::invoke_signed;
use orca_whirlpools_client::{
    FixedTickArray, Swap, SwapInstructionArgs, Whirlpool, FIXED_TICK_ARRAY_DISCRIMINATOR, WHIRLPOOL_DISCRIMINATOR,
    WHIRLPOOL_ID,
};

use super::SwapAccounts;
use crate::errors::BallastError;

pub const ID: Pubkey = WHIRLPOOL_ID;
pub const EXTRA_ACCOUNTS: usize = 6;
/// Whirlpool's sqrt-price bounds (Q64.64): the limit of an exact-in swap that may move the price as far as
/// its amount takes it.
pub const MIN_SQRT_PRICE: u128 = 4_295_048_016;
pub const MAX_SQRT_PRICE: u128 = 79_226_673_515_401_279_992_447_579_055;
/// Seed of a pool's oracle PDA.
pub const ORACLE_SEED: &[u8] = b"oracle";

/// Decodes a Whirlpool account (discriminator checked), boxed: it is 653 bytes.
pub fn decode_pool(data: &[u8]) -> Option<Box<Whirlpool>> {
    if data.get(..8)? != WHIRLPOOL_DISCRIMINATOR || data.len() < Whirlpool::LEN {
        return None;
    }
    Whirlpool::from_bytes(&data[..Whirlpool::LEN]).ok().map(Box::new)
}

/// The pool a (fixed) tick array belongs to: its last field. Read in place rather than decoded: the array
/// is ~10 KB, far more than an SBF stack frame.
pub fn tick_array_pool(data: &[u8]) -> Option<Pubkey> {
    if data.get(..8)? != FIXED_TICK_ARRAY_DISCRIMINATOR || data.len() != FixedTickArray::LEN {
        return None;
    }
    let at = FixedTickArray::LEN - 32;
    Some(Pubkey::new_from_array(data.get(at..FixedTickArray::LEN)?.try_into().ok()?))
}

/// The pool's oracle PDA.
pub fn oracle(pool: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[ORACLE_SEED, pool.as_ref()], &ID).0
}

pub fn swap(a: &SwapAccounts, amount_in: u64, min_out: u64, signer: &[&[&[u8]]]) -> Result<()> {
    require!(a.extra.len() == EXTRA_ACCOUNTS, BallastError::WrongRemainingAccounts);
    let (vault_a, vault_b, oracle_account) = (&a.extra[0], &a.extra[1], &a.extra[5]);
    let tick_arrays = [&a.extra[2], &a.extra[3], &a.extra[4]];
    require_keys_eq!(*a.pool.owner, ID, BallastError::InvalidAmm);
    let pool = decode_pool(&a.pool.try_borrow_data()?).ok_or(BallastError::InvalidAmm)?;
    let (source_mint, destination_mint) = (a.source_mint.key(), a.destination_mint.key());
    let a_to_b = source_mint == pool.token_mint_a && destination_mint == pool.token_mint_b;
    let b_to_a = source_mint == pool.token_mint_b && destination_mint == pool.token_mint_a;
    require!(a_to_b || b_to_a, BallastError::AmmPoolMintMismatch);
    require_keys_eq!(vault_a.key(), pool.token_vault_a, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(vault_b.key(), pool.token_vault_b, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(oracle_account.key(), oracle(&a.pool.key()), BallastError::AmmPoolAccountMismatch);
    for t in tick_arrays {
        require_keys_eq!(*t.owner, ID, BallastError::AmmTickArrayMismatch);
        let belongs = tick_array_pool(&t.try_borrow_data()?).ok_or(BallastError::AmmTickArrayMismatch)?;
        require_keys_eq!(belongs, a.pool.key(), BallastError::AmmTickArrayMismatch);
    }
    let spl_token = anchor_spl::token::ID;
    require!(
        a.source_token_program.key() == spl_token && a.destination_token_program.key() == spl_token,
        BallastError::AmmTokenProgramNotSupported
    );

    let (owner_a, owner_b) = if a_to_b { (a.source, a.destination) } else { (a.destination, a.source) };
    let ix = Swap {
        token_program: a.source_token_program.key(),
        token_authority: a.authority.key(),
        whirlpool: a.pool.key(),
        token_owner_account_a: owner_a.key(),
        token_vault_a: vault_a.key(),
        token_owner_account_b: owner_b.key(),
        token_vault_b: vault_b.key(),
        tick_array0: tick_arrays[0].key(),
        tick_array1: tick_arrays[1].key(),
        tick_array2: tick_arrays[2].key(),
        oracle: oracle_account.key(),
    }
    .instruction(SwapInstructionArgs {
        amount: amount_in,
        other_amount_threshold: min_out,
        sqrt_price_limit: if a_to_b { MIN_SQRT_PRICE } else { MAX_SQRT_PRICE },
        amount_specified_is_input: true,
        a_to_b,
    });
    let infos = [
        a.source_token_program.clone(),
        a.authority.clone(),
        a.pool.clone(),
        owner_a.clone(),
        vault_a.clone(),
        owner_b.clone(),
        vault_b.clone(),
        tick_arrays[0].clone(),
        tick_arrays[1].clone(),
        tick_arrays[2].clone(),
        oracle_account.clone(),
        a.amm_program.clone(),
    ];
    invoke_signed(&ix, &infos, signer)?;
    Ok(())
}

/// The pool's two mints (a and b).
pub fn mints(data: &[u8]) -> Result<(Pubkey, Pubkey)> {
    let pool = decode_pool(data).ok_or(BallastError::InvalidAmm)?;
    Ok((pool.token_mint_a, pool.token_mint_b))
}

/// The pool's mid price: its square root of the price of a in b, Q64.64.
pub fn mid(data: &[u8]) -> Result<crate::math::sources::PoolMid> {
    let pool = decode_pool(data).ok_or(BallastError::InvalidAmm)?;
    Ok(crate::math::sources::PoolMid::SqrtPriceQ64(pool.sqrt_price))
}
