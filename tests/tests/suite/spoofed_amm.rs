//! The program at the whitelisted AMM address turns malicious (say, a bad upgrade): it takes more than
//! the vault sent or pays less than the minimum. The vault's own reconciliation refuses both and nothing
//! moves.

use std::sync::atomic::{AtomicU8, Ordering};

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::program::{invoke, invoke_signed};
use anchor_lang::solana_program::program_error::ProgramError;
use anchor_lang::{AccountDeserialize, Discriminator};
use anchor_spl::token_2022::spl_token_2022;
use ballast::errors::BallastError;
use ballast_harness::chain::{amm_processor, Chain, NativeProgram};
use ballast_tests::*;

const HONEST: u8 = 0;
const TAKE_MORE: u8 = 1;
const PAY_LESS: u8 = 2;
/// Swaps honestly, then hands the vault far more than it should (a "generous" bug): the bought asset
/// overshoots its target and total drift grows.
const PAY_TEN_TIMES: u8 = 3;
static MODE: AtomicU8 = AtomicU8::new(HONEST);

struct EvilAmm;

fn transfer<'a>(
    accounts: &[AccountInfo<'a>],
    from: usize,
    mint: usize,
    to: usize,
    authority: &AccountInfo<'a>,
    amount: u64,
    seeds: Option<&[&[u8]]>,
) -> Result<(), ProgramError> {
    let program = accounts[8].clone();
    let decimals = spl_token_2022::extension::StateWithExtensions::<spl_token_2022::state::Mint>::unpack(
        &accounts[mint].data.borrow(),
    )?
    .base
    .decimals;
    let ix = spl_token_2022::instruction::transfer_checked(
        program.key,
        accounts[from].key,
        accounts[mint].key,
        accounts[to].key,
        authority.key,
        &[],
        amount,
        decimals,
    )?;
    let infos = [accounts[from].clone(), accounts[mint].clone(), accounts[to].clone(), authority.clone(), program];
    match seeds {
        Some(s) => invoke_signed(&ix, &infos, &[s]),
        None => invoke(&ix, &infos),
    }
}

impl NativeProgram for EvilAmm {
    fn process(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError> {
        let mode = MODE.load(Ordering::SeqCst);
        if mode == HONEST || !data.starts_with(ballast_amm::instruction::Swap::DISCRIMINATOR) {
            return amm_processor(program_id, accounts, data);
        }
        // Swap accounts: user, pool, vault_in, vault_out, mint_in, mint_out, user_source, user_destination, …
        let amount_in = u64::from_le_bytes(data[8..16].try_into().unwrap());
        let min_out = u64::from_le_bytes(data[16..24].try_into().unwrap());
        let user = accounts[0].clone();
        match mode {
            TAKE_MORE => transfer(accounts, 6, 4, 2, &user, amount_in + 1_000, None),
            PAY_TEN_TIMES => {
                amm_processor(program_id, accounts, data)?;
                let pool = ballast_amm::Pool::try_deserialize(&mut &accounts[1].data.borrow()[..])
                    .map_err(|_| ProgramError::InvalidAccountData)?;
                let seeds: &[&[u8]] =
                    &[ballast_amm::POOL_SEED, pool.mint_a.as_ref(), pool.mint_b.as_ref(), &[pool.bump]];
                transfer(accounts, 3, 5, 7, &accounts[1], min_out.saturating_mul(9), Some(seeds))
            }
            _ => {
                transfer(accounts, 6, 4, 2, &user, amount_in, None)?;
                let pool = ballast_amm::Pool::try_deserialize(&mut &accounts[1].data.borrow()[..])
                    .map_err(|_| ProgramError::InvalidAccountData)?;
                let seeds: &[&[u8]] =
                    &[ballast_amm::POOL_SEED, pool.mint_a.as_ref(), pool.mint_b.as_ref(), &[pool.bump]];
                transfer(accounts, 3, 5, 7, &accounts[1], min_out - 1, Some(seeds))
            }
        }
    }
}

#[tokio::test]
async fn malicious_amm_is_caught_by_reconciliation() {
    let mut m = Market::on(Chain::start_with_amm::<EvilAmm>().await).await;
    m.move_price(0, 40).await;
    let before = m.fx.holdings(&mut m.chain).await;

    MODE.store(TAKE_MORE, Ordering::SeqCst);
    assert_ballast_err(m.rebalance(0, 2, 1_000_000_000, 0).await, BallastError::SwapInputMismatch);
    assert_eq!(m.fx.holdings(&mut m.chain).await, before);

    MODE.store(PAY_LESS, Ordering::SeqCst);
    assert_ballast_err(m.rebalance(0, 2, 1_000_000_000, 0).await, BallastError::SwapOutputBelowMinimum);
    assert_eq!(m.fx.holdings(&mut m.chain).await, before);

    MODE.store(PAY_TEN_TIMES, Ordering::SeqCst);
    assert_ballast_err(m.rebalance(0, 2, u64::MAX, 0).await, BallastError::DriftNotReduced);
    assert_eq!(m.fx.holdings(&mut m.chain).await, before);

    // The same route behaving honestly goes through.
    MODE.store(HONEST, Ordering::SeqCst);
    m.rebalance(0, 2, 1_000_000_000, 0).await.unwrap();
    assert!(m.fx.holdings(&mut m.chain).await[2] > before[2]);
}
