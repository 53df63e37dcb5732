//! Orca Whirlpools off chain, with Orca's published crates: the tick arrays a swap crosses, Orca's own
//! quote (`orca_whirlpools_core`), the accounts the vault's adapter takes after the pool, and the `swap`
//! (v1, SPL Token) and `swap_v2` instructions of a keeper's own swap (`orca_whirlpools_client`), selling
//! the keeper's tokens and paying the vault's reserve directly.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anyhow::{anyhow, Result};
use orca_whirlpools_client::{
    get_oracle_address, get_tick_array_address, Swap, SwapInstructionArgs, SwapV2, SwapV2InstructionArgs, Whirlpool,
};
use orca_whirlpools_core::{swap_quote_by_input_token, TickArrayFacade, TickArrays, WhirlpoolFacade};

use super::Leg;

/// Ticks in one Whirlpool tick array.
pub const TICK_ARRAY_SIZE: i32 = 88;
/// The Whirlpool program.
pub use ballast::amm::orca_whirlpool::ID;
/// Whirlpool's sqrt-price bounds (Q64.64): the limit of a swap that may move the price as far as it needs.
pub use ballast::amm::orca_whirlpool::{MAX_SQRT_PRICE, MIN_SQRT_PRICE};
/// The SPL Memo program (swap_v2 takes it for Token-2022 transfer memos).
pub const MEMO_PROGRAM: Pubkey = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// Start tick of the tick array holding `tick`.
pub fn tick_array_start(tick: i32, tick_spacing: u16) -> i32 {
    let span = TICK_ARRAY_SIZE * tick_spacing as i32;
    tick.div_euclid(span) * span
}

/// The three tick arrays a swap from the current tick crosses, in the swap's direction. A b → a swap
/// (price up) starts from the array holding `tick_current + tick_spacing`, as the program requires.
pub fn tick_arrays(pool: &Pubkey, whirlpool: &Whirlpool, a_to_b: bool) -> Result<[Pubkey; 3]> {
    let span = TICK_ARRAY_SIZE * whirlpool.tick_spacing as i32;
    let shift = if a_to_b { 0 } else { whirlpool.tick_spacing as i32 };
    let start = tick_array_start(whirlpool.tick_current_index + shift, whirlpool.tick_spacing);
    let step = if a_to_b { -span } else { span };
    let mut out = [Pubkey::default(); 3];
    for (k, slot) in out.iter_mut().enumerate() {
        *slot = get_tick_array_address(pool, start + step * k as i32, None).map_err(|e| anyhow!("{e:?}"))?.0;
    }
    Ok(out)
}

/// Orca's own quote (`orca_whirlpools_core`) of an exact-in swap of `amount` of token a (`input_is_a`) or
/// b, given the pool's state and the (up to six) tick arrays the swap may cross: the expected output and the
/// minimum after `slippage_bps`.
pub fn quote_exact_in(
    whirlpool: &Whirlpool,
    tick_arrays: &[TickArrayFacade],
    input_is_a: bool,
    amount: u64,
    slippage_bps: u16,
) -> Result<(u64, u64)> {
    let arrays = match tick_arrays {
        [a] => TickArrays::from([*a]),
        [a, b] => TickArrays::from([*a, *b]),
        [a, b, c] => TickArrays::from([*a, *b, *c]),
        _ => return Err(anyhow!("between one and three tick arrays")),
    };
    let pool: WhirlpoolFacade = whirlpool.clone().into();
    let q = swap_quote_by_input_token(amount, input_is_a, slippage_bps, pool, None, arrays, 0, None, None)
        .map_err(|e| anyhow!("Orca quote: {e:?}"))?;
    Ok((q.token_est_out, q.token_min_out))
}

/// What the vault's adapter (`ballast::amm::orca_whirlpool`) takes after the pool: `[token_vault_a,
/// token_vault_b, tick_array_0, tick_array_1, tick_array_2, oracle]` for a swap in `a_to_b`'s direction.
pub fn adapter_accounts(pool: &Pubkey, whirlpool: &Whirlpool, a_to_b: bool) -> Result<Vec<AccountMeta>> {
    let [t0, t1, t2] = tick_arrays(pool, whirlpool, a_to_b)?;
    let oracle = get_oracle_address(pool, None).map_err(|e| anyhow!("{e:?}"))?.0;
    Ok(vec![
        AccountMeta::new(whirlpool.token_vault_a, false),
        AccountMeta::new(whirlpool.token_vault_b, false),
        AccountMeta::new(t0, false),
        AccountMeta::new(t1, false),
        AccountMeta::new(t2, false),
        AccountMeta::new_readonly(oracle, false),
    ])
}

/// `swap` (v1: SPL Token legs) exact-in of `amount` of `input.mint` from `payer`'s account for
/// `output.mint` paid to `output.account`, at least `min_out`, in the Whirlpool `pool`.
pub fn swap_v1(
    pool: &Pubkey,
    whirlpool: &Whirlpool,
    payer: &Pubkey,
    input: &Leg,
    output: &Leg,
    amount: u64,
    min_out: u64,
) -> Result<Instruction> {
    swap_v1_to_price(pool, whirlpool, payer, input, output, amount, min_out, None)
}

/// [`swap_v1`] that stops at `sqrt_price_limit` (an arbitrageur moving the pool to a price), or at the end
/// of the range when `None`.
#[allow(clippy::too_many_arguments)]
pub fn swap_v1_to_price(
    pool: &Pubkey,
    whirlpool: &Whirlpool,
    payer: &Pubkey,
    input: &Leg,
    output: &Leg,
    amount: u64,
    min_out: u64,
    sqrt_price_limit: Option<u128>,
) -> Result<Instruction> {
    let a_to_b = input.mint == whirlpool.token_mint_a;
    if !a_to_b && input.mint != whirlpool.token_mint_b {
        return Err(anyhow!("the pool does not trade the input mint"));
    }
    let (a, b) = if a_to_b { (input, output) } else { (output, input) };
    let [t0, t1, t2] = tick_arrays(pool, whirlpool, a_to_b)?;
    let accounts = Swap {
        token_program: input.token_program,
        token_authority: *payer,
        whirlpool: *pool,
        token_owner_account_a: a.account,
        token_vault_a: whirlpool.token_vault_a,
        token_owner_account_b: b.account,
        token_vault_b: whirlpool.token_vault_b,
        tick_array0: t0,
        tick_array1: t1,
        tick_array2: t2,
        oracle: get_oracle_address(pool, None).map_err(|e| anyhow!("{e:?}"))?.0,
    };
    let limit = if a_to_b { MIN_SQRT_PRICE } else { MAX_SQRT_PRICE };
    Ok(accounts.instruction(SwapInstructionArgs {
        amount,
        other_amount_threshold: min_out,
        sqrt_price_limit: sqrt_price_limit.unwrap_or(limit),
        amount_specified_is_input: true,
        a_to_b,
    }))
}

/// `swap_v2` exact-in of `amount` of `input.mint` (the keeper's account) for `output.mint` (paid to
/// `output.account`, the vault's reserve), at least `min_out`, in the Whirlpool `pool` with state `whirlpool`.
pub fn swap_v2(
    pool: &Pubkey,
    whirlpool: &Whirlpool,
    keeper: &Pubkey,
    input: &Leg,
    output: &Leg,
    amount: u64,
    min_out: u64,
) -> Result<Instruction> {
    let a_to_b = input.mint == whirlpool.token_mint_a;
    if !a_to_b && input.mint != whirlpool.token_mint_b {
        return Err(anyhow!("the pool does not trade the input mint"));
    }
    let (a, b) = if a_to_b { (input, output) } else { (output, input) };
    let [t0, t1, t2] = tick_arrays(pool, whirlpool, a_to_b)?;
    let accounts = SwapV2 {
        token_program_a: a.token_program,
        token_program_b: b.token_program,
        memo_program: MEMO_PROGRAM,
        token_authority: *keeper,
        whirlpool: *pool,
        token_mint_a: whirlpool.token_mint_a,
        token_mint_b: whirlpool.token_mint_b,
        token_owner_account_a: a.account,
        token_vault_a: whirlpool.token_vault_a,
        token_owner_account_b: b.account,
        token_vault_b: whirlpool.token_vault_b,
        tick_array0: t0,
        tick_array1: t1,
        tick_array2: t2,
        oracle: get_oracle_address(pool, None).map_err(|e| anyhow!("{e:?}"))?.0,
    };
    Ok(accounts.instruction(SwapV2InstructionArgs {
        amount,
        other_amount_threshold: min_out,
        sqrt_price_limit: if a_to_b { MIN_SQRT_PRICE } else { MAX_SQRT_PRICE },
        amount_specified_is_input: true,
        a_to_b,
        remaining_accounts_info: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use orca_whirlpools_client::SwapV2Builder;
    use orca_whirlpools_core::TickFacade;

    /// With all of the pool's liquidity in range and no tick crossed, a small swap pays about
    /// `amount × price × (1 − fee)`, price = (sqrt_price / 2^64)² token b per token a.
    #[test]
    fn orcas_quote_agrees_with_the_pool_price_for_a_small_swap() {
        let (_, mut w) = pool_state(0, 64);
        w.sqrt_price = 1u128 << 64; // price 1.0
        w.liquidity = 1_000_000_000_000;
        w.fee_rate = 3_000; // 0.3 % (hundredths of a bp)
        let empty = |start: i32| TickArrayFacade { start_tick_index: start, ticks: [TickFacade::default(); 88] };
        let arrays = [empty(0), empty(-5_632), empty(-11_264)];
        let (out, min) = quote_exact_in(&w, &arrays, true, 1_000_000, 100).unwrap();
        let expected = 1_000_000.0 * (1.0 - 0.003);
        assert!((out as f64 - expected).abs() / expected < 0.001, "out {out}, expected about {expected}");
        assert!(min <= out && min as f64 >= out as f64 * 0.99 - 1.0, "min {min}");
        assert!(quote_exact_in(&w, &[], true, 1, 100).is_err());
    }

    fn pool_state(tick: i32, spacing: u16) -> (Pubkey, Whirlpool) {
        let mut w = Whirlpool::from_bytes(&[0u8; Whirlpool::LEN]).unwrap();
        w.tick_spacing = spacing;
        w.fee_tier_index_seed = spacing.to_le_bytes();
        w.tick_current_index = tick;
        w.token_mint_a = Pubkey::new_unique();
        w.token_mint_b = Pubkey::new_unique();
        w.token_vault_a = Pubkey::new_unique();
        w.token_vault_b = Pubkey::new_unique();
        (Pubkey::new_unique(), w)
    }

    /// Our route's instruction equals what Orca's own builder makes for the same pool state, with the tick
    /// arrays and oracle worked out here by hand.
    #[test]
    fn swap_v2_matches_orcas_builder() {
        let (pool, w) = pool_state(1_000, 64);
        let keeper = Pubkey::new_unique();
        let (keeper_a, reserve_b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let token = anchor_spl::token::ID;
        let sell_a = Leg { mint: w.token_mint_a, token_program: token, account: keeper_a };
        let buy_b = Leg { mint: w.token_mint_b, token_program: token, account: reserve_b };
        let ours = swap_v2(&pool, &w, &keeper, &sell_a, &buy_b, 1_000_000, 990_000).unwrap();
        // 88 × 64 = 5 632 ticks an array: tick 1 000 is in the array starting at 0, and a → b moves down.
        let ta = |start: i32| get_tick_array_address(&pool, start, None).unwrap().0;
        let expected = SwapV2Builder::new()
            .token_program_a(token)
            .token_program_b(token)
            .memo_program(MEMO_PROGRAM)
            .token_authority(keeper)
            .whirlpool(pool)
            .token_mint_a(w.token_mint_a)
            .token_mint_b(w.token_mint_b)
            .token_owner_account_a(keeper_a)
            .token_vault_a(w.token_vault_a)
            .token_owner_account_b(reserve_b)
            .token_vault_b(w.token_vault_b)
            .tick_array0(ta(0))
            .tick_array1(ta(-5_632))
            .tick_array2(ta(-11_264))
            .oracle(get_oracle_address(&pool, None).unwrap().0)
            .amount(1_000_000)
            .other_amount_threshold(990_000)
            .sqrt_price_limit(MIN_SQRT_PRICE)
            .amount_specified_is_input(true)
            .a_to_b(true)
            .instruction();
        assert_eq!(ours.program_id, ID);
        assert_eq!(ours.accounts, expected.accounts);
        assert_eq!(ours.data, expected.data);

        // b → a from a negative tick: arrays go up from the one holding it; owner accounts swap sides.
        let (pool, w) = pool_state(-100, 8);
        let (keeper_b, reserve_a) = (Pubkey::new_unique(), Pubkey::new_unique());
        let sell_b = Leg { mint: w.token_mint_b, token_program: token, account: keeper_b };
        let buy_a = Leg { mint: w.token_mint_a, token_program: token, account: reserve_a };
        let ours = swap_v2(&pool, &w, &keeper, &sell_b, &buy_a, 5, 4).unwrap();
        assert_eq!(tick_array_start(-100, 8), -704);
        let ta = |start: i32| get_tick_array_address(&pool, start, None).unwrap().0;
        assert_eq!(ours.accounts[7].pubkey, reserve_a, "token_owner_account_a");
        assert_eq!(ours.accounts[9].pubkey, keeper_b, "token_owner_account_b");
        assert_eq!(
            [ours.accounts[11].pubkey, ours.accounts[12].pubkey, ours.accounts[13].pubkey],
            [ta(-704), ta(0), ta(704)]
        );
        let other = Leg { mint: Pubkey::new_unique(), token_program: token, account: keeper_b };
        assert!(swap_v2(&pool, &w, &keeper, &other, &buy_a, 5, 4).is_err());
    }
}
