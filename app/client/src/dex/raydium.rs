//! Raydium CPMM off chain: the pool's accounts as the vault's adapter checks them, its quote (Raydium's
//! constant-product-with-fee rule, written once here and tested against what the real program pays), and
//! `swap_base_input` for a keeper's own swap in a flash rebalance.
//!
//! The pool layout and the instruction's interface are the program adapter's
//! (`ballast::amm::raydium_cpmm`): no Raydium crate on the registry builds against this project's Solana
//! crates.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
pub use ballast::amm::raydium_cpmm::{authority, AmmConfig, PoolState, ID, SWAP_BASE_INPUT_DISCRIMINATOR};

use super::Leg;

/// The pool's vault of `mint`: a PDA of the CPMM program, `["pool_vault", pool, mint]`.
pub fn vault(pool: &Pubkey, mint: &Pubkey) -> Pubkey {
    crate::pda::find(&[b"pool_vault", pool.as_ref(), mint.as_ref()], &ID)
}

/// Millionths: the unit of CPMM fee rates.
pub const FEE_RATE_DENOMINATOR: u128 = 1_000_000;

/// Exact-in output of a CPMM pool whose reserves (vault balances less the protocol and fund fees kept in
/// them) are `reserve_in` and `reserve_out`, for `amount_in` with a trade fee of `trade_fee_rate`
/// millionths: the fee is `ceil(amount_in × rate / 10⁶)`, then `floor(net × reserve_out / (reserve_in +
/// net))`. `None` when nothing can be paid.
pub fn quote(reserve_in: u64, reserve_out: u64, trade_fee_rate: u64, amount_in: u64) -> Option<u64> {
    let fee = (amount_in as u128 * trade_fee_rate as u128).div_ceil(FEE_RATE_DENOMINATOR);
    let net = (amount_in as u128).checked_sub(fee)?;
    let out = net.checked_mul(reserve_out as u128)? / (reserve_in as u128).checked_add(net)?.max(1);
    u64::try_from(out).ok().filter(|o| *o > 0 && *o < reserve_out)
}

/// What the vault's adapter needs after the pool: `[authority, amm_config, input_vault, output_vault,
/// observation]`.
pub fn adapter_accounts(pool: &PoolState, mint_in: &Pubkey, mint_out: &Pubkey) -> Option<Vec<AccountMeta>> {
    Some(vec![
        AccountMeta::new_readonly(authority(), false),
        AccountMeta::new_readonly(pool.amm_config, false),
        AccountMeta::new(pool.vault_of(mint_in)?, false),
        AccountMeta::new(pool.vault_of(mint_out)?, false),
        AccountMeta::new(pool.observation_key, false),
    ])
}

/// `swap_base_input` of `amount_in` of `input.mint` from `payer`'s `input.account`, at least `min_out` of
/// `output.mint` to `output.account`, in `pool_key`.
pub fn swap_base_input(
    pool_key: &Pubkey,
    pool: &PoolState,
    payer: &Pubkey,
    input: &Leg,
    output: &Leg,
    amount_in: u64,
    min_out: u64,
) -> Option<Instruction> {
    let mut data = SWAP_BASE_INPUT_DISCRIMINATOR.to_vec();
    data.extend_from_slice(&amount_in.to_le_bytes());
    data.extend_from_slice(&min_out.to_le_bytes());
    Some(Instruction {
        program_id: ID,
        accounts: vec![
            AccountMeta::new_readonly(*payer, true),
            AccountMeta::new_readonly(authority(), false),
            AccountMeta::new_readonly(pool.amm_config, false),
            AccountMeta::new(*pool_key, false),
            AccountMeta::new(input.account, false),
            AccountMeta::new(output.account, false),
            AccountMeta::new(pool.vault_of(&input.mint)?, false),
            AccountMeta::new(pool.vault_of(&output.mint)?, false),
            AccountMeta::new_readonly(input.token_program, false),
            AccountMeta::new_readonly(output.token_program, false),
            AccountMeta::new_readonly(input.mint, false),
            AccountMeta::new_readonly(output.mint, false),
            AccountMeta::new(pool.observation_key, false),
        ],
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_takes_the_fee_first_and_rounds_down() {
        // 1 000 000 in at 0.25 %: fee 2 500, 997 500 net against 1e9 / 1e9: out 996 505.
        assert_eq!(quote(1_000_000_000, 1_000_000_000, 2_500, 1_000_000), Some(996_505));
        // The fee rounds up: 1 unit in pays 1 of fee, nothing is left.
        assert_eq!(quote(1_000_000_000, 1_000_000_000, 2_500, 1), None);
        assert_eq!(quote(0, 0, 2_500, 1_000), None);
    }
}
