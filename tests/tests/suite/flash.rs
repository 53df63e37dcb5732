//! Flash rebalance (`rebalance_begin` … keeper's instructions … `rebalance_end`): the happy path through the
//! reference AMM, equality with the direct route, and every refusal with nothing moved.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::errors::BallastError;
use ballast::instructions::{ProposeParamsArgs, RebalanceArgs, WithdrawArgs};
use ballast_client::planner::Decision;
use ballast_client::{self as client};
use ballast_harness::chain::Chain;
use ballast_tests::*;
use solana_program_test::BanksClientError;
use solana_signer::Signer;

const SOL: u8 = 0;
const BTC: u8 = 1;
const USDC: u8 = 2;

/// The planned trade's amount (SOL after a +40 % move).
async fn planned(m: &mut Market) -> u64 {
    let Decision::Trade(c) = m.fx.plan(&mut m.chain).await.decision else { panic!("a trade is needed") };
    assert_eq!((c.request.sell, c.request.buy), (SOL as usize, USDC as usize));
    c.plan.amount_in
}

/// The keeper's swap of `amount` of `from` for `to` through the pool of the pair, paid to `to_account`.
fn swap(m: &Market, from: u8, to: u8, amount: u64, to_account: Pubkey) -> Instruction {
    let (a, b) = (&m.fx.assets[from as usize], &m.fx.assets[to as usize]);
    client::amm::swap(
        &m.keeper.pubkey(),
        &a.mint,
        &b.mint,
        &m.keeper_accounts[from as usize],
        &to_account,
        &a.spec.program.id(),
        &b.spec.program.id(),
        amount,
        0,
    )
}

fn reserve(m: &Market, i: u8) -> Pubkey {
    client::pda::reserve(&m.fx.key, &m.fx.assets[i as usize].mint)
}

async fn begin_ix(m: &mut Market, amount: u64) -> Instruction {
    let vault = m.fx.state(&mut m.chain).await;
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: amount, min_out: 0 };
    client::rebalance_begin(&m.keeper.pubkey(), &m.fx.key, &vault, &m.keeper_accounts[SOL as usize], args)
}

async fn end_ix(m: &mut Market) -> Instruction {
    let vault = m.fx.state(&mut m.chain).await;
    client::rebalance_end(&m.keeper.pubkey(), &m.fx.key, &vault, SOL, &m.keeper_accounts[SOL as usize])
}

/// begin → `middle` → end, signed by the keeper.
async fn flash(middle: Vec<Instruction>, m: &mut Market, amount: u64) -> Result<(), BanksClientError> {
    let mut ixs = vec![begin_ix(m, amount).await];
    ixs.extend(middle);
    ixs.push(end_ix(m).await);
    let keeper = m.keeper.insecure_clone();
    m.chain.send(&ixs, &[&keeper]).await
}

async fn shocked() -> (Market, u64) {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    let amount = planned(&mut m).await;
    (m, amount)
}

/// Asserts a failed flash moved nothing (holdings, keeper balances, vault state).
async fn nothing_moved(m: &mut Market, holdings: &[u64], result: Result<(), BanksClientError>, err: BallastError) {
    assert_ballast_err(result, err);
    assert_eq!(m.fx.holdings(&mut m.chain).await, holdings);
    let vault = m.fx.state(&mut m.chain).await;
    assert!(vault.flight.is_none());
    assert_eq!(vault.last_rebalance_slot, 0);
}

#[tokio::test]
async fn a_flash_rebalance_through_the_reference_amm_lands() {
    let (mut m, amount) = shocked().await;
    let before = m.fx.holdings(&mut m.chain).await;
    let to = reserve(&m, USDC);
    flash(vec![swap(&m, SOL, USDC, amount, to)], &mut m, amount).await.unwrap();
    let after = m.fx.holdings(&mut m.chain).await;
    let bounty = m.chain.token_amount(&m.keeper_accounts[0]).await;
    assert_eq!(before[0] - after[0], amount + bounty, "sold exactly amount_in plus the bounty");
    assert!(bounty > 0);
    assert!(after[2] > before[2]);
    assert_eq!(after[1], before[1]);
    let vault = m.fx.state(&mut m.chain).await;
    assert!(vault.flight.is_none() && vault.last_rebalance_slot > 0);
}

#[tokio::test]
async fn the_flash_route_and_the_direct_route_give_the_same_result_through_the_same_pool() {
    let (mut direct, amount) = shocked().await;
    let (mut flashed, amount2) = shocked().await;
    assert_eq!(amount, amount2);
    direct.rebalance(SOL, USDC, amount, 0).await.unwrap();
    let to = reserve(&flashed, USDC);
    flash(vec![swap(&flashed, SOL, USDC, amount, to)], &mut flashed, amount).await.unwrap();
    let (a, b) = (direct.fx.holdings(&mut direct.chain).await, flashed.fx.holdings(&mut flashed.chain).await);
    // The two vaults hold different mints (fresh chains), but the same amounts.
    assert_eq!(a, b);
    let bounty = |m: &mut Market| m.keeper_accounts[0];
    let (ka, kb) = (bounty(&mut direct), bounty(&mut flashed));
    assert_eq!(direct.chain.token_amount(&ka).await, flashed.chain.token_amount(&kb).await);
}

#[tokio::test]
async fn begin_without_its_end_is_refused() {
    let (mut m, amount) = shocked().await;
    let h = m.fx.holdings(&mut m.chain).await;
    let to = reserve(&m, USDC);
    let ixs = vec![begin_ix(&mut m, amount).await, swap(&m, SOL, USDC, amount, to)];
    let keeper = m.keeper.insecure_clone();
    let r = m.chain.send(&ixs, &[&keeper]).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashEndMissing).await;
    // An end naming another vault does not count.
    let mut end = end_ix(&mut m).await;
    end.accounts[1].pubkey = Pubkey::new_unique();
    let ixs = vec![begin_ix(&mut m, amount).await, swap(&m, SOL, USDC, amount, to), end];
    let r = m.chain.send(&ixs, &[&keeper]).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashEndMissing).await;
}

#[tokio::test]
async fn a_second_begin_or_any_other_instruction_on_the_vault_in_flight_is_refused() {
    let (mut m, amount) = shocked().await;
    let h = m.fx.holdings(&mut m.chain).await;
    let to = reserve(&m, USDC);
    let second = begin_ix(&mut m, amount).await;
    let r = flash(vec![second, swap(&m, SOL, USDC, amount, to)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::VaultInFlight).await;
    // A withdrawal or a deposit between begin and end.
    let vault = m.fx.state(&mut m.chain).await;
    let seed = &m.seed;
    let wd = client::withdraw(
        &seed.keypair.pubkey(),
        &m.fx.key,
        &vault,
        &seed.shares,
        &seed.tokens,
        WithdrawArgs { shares: 1_000_000, min_amounts_out: vec![0, 0, 0], skip_mask: 0 },
    );
    let dep = client::deposit(
        &seed.keypair.pubkey(),
        &m.fx.key,
        &vault,
        &seed.shares,
        &seed.tokens,
        ballast::instructions::DepositArgs { max_amounts_in: vec![1_000_000, 1_000, 1_000_000], min_shares_out: 0 },
    );
    let seed_kp = m.seed.keypair.insecure_clone();
    for middle in [wd, dep] {
        let ixs = vec![begin_ix(&mut m, amount).await, middle, swap(&m, SOL, USDC, amount, to), end_ix(&mut m).await];
        let keeper = m.keeper.insecure_clone();
        let r = m.chain.send(&ixs, &[&keeper, &seed_kp]).await;
        nothing_moved(&mut m, &h, r, BallastError::VaultInFlight).await;
    }
}

#[tokio::test]
async fn too_little_the_wrong_asset_or_the_wrong_account_is_refused() {
    let (mut m, amount) = shocked().await;
    let h = m.fx.holdings(&mut m.chain).await;
    let usdc_reserve = reserve(&m, USDC);
    // Half the trade returned: below the floor.
    let r = flash(vec![swap(&m, SOL, USDC, amount / 2, usdc_reserve)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::SwapOutputBelowMinimum).await;
    // BTC bought instead of USDC (into BTC's reserve): the bought reserve gained nothing.
    let btc_reserve = reserve(&m, BTC);
    let r = flash(vec![swap(&m, SOL, BTC, amount, btc_reserve)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::SwapOutputBelowMinimum).await;
    // USDC bought but sent to the keeper's own account.
    let own = m.keeper_accounts[USDC as usize];
    let r = flash(vec![swap(&m, SOL, USDC, amount, own)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::SwapOutputBelowMinimum).await;
    // The right trade, plus a donation that moves another reserve (minted straight into BTC's reserve by
    // the mint authority, an ally of the keeper).
    let payer = m.chain.payer().pubkey();
    let btc_mint = m.fx.assets[BTC as usize].mint;
    let donate = anchor_spl::token::spl_token::instruction::mint_to(
        &anchor_spl::token::ID,
        &btc_mint,
        &btc_reserve,
        &payer,
        &[],
        1,
    )
    .unwrap();
    let ixs = vec![swap(&m, SOL, USDC, amount, usdc_reserve), donate];
    let r = flash(ixs, &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::ReserveChangedUnexpectedly).await;
}

#[tokio::test]
async fn a_keeper_pushing_the_pool_against_the_vault_is_bounded_by_the_floor() {
    let (mut m, amount) = shocked().await;
    let h = m.fx.holdings(&mut m.chain).await;
    let usdc_reserve = reserve(&m, USDC);
    let payer = m.chain.payer().pubkey();
    let pusher = |m: &Market, usd: f64, unit: f64| {
        let (a, b) = (&m.fx.assets[SOL as usize], &m.fx.assets[USDC as usize]);
        let src = anchor_spl::associated_token::get_associated_token_address(&payer, &a.mint);
        let dst = anchor_spl::associated_token::get_associated_token_address(&payer, &b.mint);
        client::amm::swap(
            &payer,
            &a.mint,
            &b.mint,
            &src,
            &dst,
            &a.spec.program.id(),
            &b.spec.program.id(),
            (usd / unit) as u64,
            0,
        )
    };
    // The payer (an ally of the keeper) holds SOL to dump into the pool first.
    let unit = m.fx.unit_price(&mut m.chain, SOL as usize).await;
    let payer_sol = m.fx.payer_account(&mut m.chain, SOL as usize).await.unwrap();
    m.fx.payer_account(&mut m.chain, USDC as usize).await.unwrap();
    let sol_mint = m.fx.assets[SOL as usize].mint;
    m.chain
        .mint_to(&sol_mint, &payer_sol, (200_000.0 / unit) as u64, ballast_harness::chain::TokenProgram::Token)
        .await
        .unwrap();
    // A $100k push in a $1M pool moves the price ~20 %: far past the 1 % floor.
    let r = flash(vec![pusher(&m, 100_000.0, unit), swap(&m, SOL, USDC, amount, usdc_reserve)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::SwapOutputBelowMinimum).await;
    // A $1k push costs the vault less than the floor allows: it goes through, and the vault still got at
    // least the floor.
    let before_usdc = h[USDC as usize];
    flash(vec![pusher(&m, 1_000.0, unit), swap(&m, SOL, USDC, amount, usdc_reserve)], &mut m, amount).await.unwrap();
    let got = m.fx.holdings(&mut m.chain).await[USDC as usize] - before_usdc;
    let fair = amount as f64 * unit / m.fx.unit_price(&mut m.chain, USDC as usize).await;
    assert!(got as f64 >= fair * 0.99 - 1.0, "got {got}, fair {fair}");
}

#[tokio::test]
async fn governance_can_turn_flash_rebalancing_off() {
    let mut params = ballast_client::default_params();
    params.timelock_secs = 60;
    let mut m = Market::with(Chain::start().await, params).await;
    let gov = m.fx.governance.pubkey();
    let assets = m.fx.state(&mut m.chain).await.assets.iter().map(|a| a.params).collect();
    let off = ballast::state::VaultParams { flash_enabled: false, ..params };
    m.chain
        .send(
            &[client::propose_params(&gov, &m.fx.key, ProposeParamsArgs { params: off, assets })],
            &[&m.fx.governance],
        )
        .await
        .unwrap();
    m.chain.advance_time(61).await;
    m.chain.send(&[client::execute_params(&gov, &m.fx.key)], &[&m.fx.governance]).await.unwrap();
    m.move_price(SOL as usize, 40).await;
    let amount = planned(&mut m).await;
    let h = m.fx.holdings(&mut m.chain).await;
    let to = reserve(&m, USDC);
    let r = flash(vec![swap(&m, SOL, USDC, amount, to)], &mut m, amount).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashRebalanceDisabled).await;
    // The direct route stays.
    m.rebalance(SOL, USDC, amount, 0).await.unwrap();
}

#[tokio::test]
async fn begin_or_end_reached_by_cpi_is_refused() {
    let mut m = Market::on(Chain::start_with_program::<Relay>("relay", RELAY_ID).await).await;
    m.move_price(SOL as usize, 40).await;
    let amount = planned(&mut m).await;
    let h = m.fx.holdings(&mut m.chain).await;
    let to = reserve(&m, USDC);
    let keeper = m.keeper.insecure_clone();
    let ixs = vec![relayed(begin_ix(&mut m, amount).await), swap(&m, SOL, USDC, amount, to), end_ix(&mut m).await];
    let r = m.chain.send(&ixs, &[&keeper]).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashNotTopLevel).await;
    let ixs = vec![begin_ix(&mut m, amount).await, swap(&m, SOL, USDC, amount, to), relayed(end_ix(&mut m).await)];
    let r = m.chain.send(&ixs, &[&keeper]).await;
    // The begin sees no top-level end of its vault (the relay's instruction is not ballast's).
    nothing_moved(&mut m, &h, r, BallastError::FlashEndMissing).await;
}

#[tokio::test]
async fn any_route_works_two_hops_through_usdc() {
    use ballast_client::planner::{self, AmmQuote};
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 30).await;
    m.move_price(BTC as usize, -30).await;
    // The program's plan for selling SOL for BTC (sized as the SOL/BTC pool route would be).
    let (snap, routes) = m.fx.snapshot(&mut m.chain).await;
    let val = snap.value().unwrap();
    let (cands, _) = planner::candidates(&snap, &val, &routes).unwrap();
    let c = cands.iter().find(|c| (c.request.sell, c.request.buy) == (SOL as usize, BTC as usize)).expect("SOL → BTC");
    let amount = c.plan.amount_in;
    // Route: SOL → USDC in the SOL/USDC pool, then USDC → BTC in the BTC/USDC pool, straight into the reserve.
    let sol_usdc =
        routes.iter().find(|r| r.vault_of(SOL as usize).is_some() && r.vault_of(USDC as usize).is_some()).unwrap();
    let usdc_out = sol_usdc.quote(SOL as usize, amount).unwrap();
    let hop1 = swap(&m, SOL, USDC, amount, m.keeper_accounts[USDC as usize]);
    let hop2 = swap(&m, USDC, BTC, usdc_out, reserve(&m, BTC));
    let vault = m.fx.state(&mut m.chain).await;
    let args = RebalanceArgs { sell_index: SOL, buy_index: BTC, amount_in: amount, min_out: 0 };
    let begin = client::rebalance_begin(&m.keeper.pubkey(), &m.fx.key, &vault, &m.keeper_accounts[SOL as usize], args);
    let end = client::rebalance_end(&m.keeper.pubkey(), &m.fx.key, &vault, SOL, &m.keeper_accounts[SOL as usize]);
    let before = m.fx.holdings(&mut m.chain).await;
    let keeper = m.keeper.insecure_clone();
    m.chain.send(&[begin, hop1, hop2, end], &[&keeper]).await.unwrap();
    let after = m.fx.holdings(&mut m.chain).await;
    assert!(after[BTC as usize] > before[BTC as usize]);
    assert_eq!(after[USDC as usize], before[USDC as usize], "USDC only passed through the keeper");
    assert!(after[SOL as usize] < before[SOL as usize]);
}

#[tokio::test]
async fn an_end_without_its_begin_another_keepers_end_or_a_reserve_as_destination_is_refused() {
    let (mut m, amount) = shocked().await;
    let h = m.fx.holdings(&mut m.chain).await;
    let keeper = m.keeper.insecure_clone();
    // An end with nothing in flight.
    let end = end_ix(&mut m).await;
    let r = m.chain.send(&[end], &[&keeper]).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashNotInProgress).await;
    // The sold asset may not be handed to one of the vault's own reserves. The only reserve of the sold mint
    // is the sold reserve itself, so Anchor's duplicate-account check refuses it before `validate` (whose
    // FlashDestinationNotAllowed stays as the defence should the accounts ever change).
    let vault = m.fx.state(&mut m.chain).await;
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: amount, min_out: 0 };
    let begin = client::rebalance_begin(&keeper.pubkey(), &m.fx.key, &vault, &reserve(&m, SOL), args);
    let end = end_ix(&mut m).await;
    let err = m.chain.send(&[begin, end], &[&keeper]).await.unwrap_err();
    assert_eq!(
        ballast_harness::chain::custom_error(&err),
        Some(anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount as u32)
    );
    assert_eq!(m.fx.holdings(&mut m.chain).await, h);
    // Another signer cannot end this keeper's flash rebalance.
    let other = m.fx.user(&mut m.chain, &[0, 0, 0]).await.unwrap();
    let mut end = client::rebalance_end(&other.keypair.pubkey(), &m.fx.key, &vault, SOL, &other.tokens[SOL as usize]);
    end.accounts[0].is_signer = true;
    let to = reserve(&m, USDC);
    let ixs = vec![begin_ix(&mut m, amount).await, swap(&m, SOL, USDC, amount, to), end];
    let r = m.chain.send(&ixs, &[&keeper, &other.keypair]).await;
    nothing_moved(&mut m, &h, r, BallastError::FlashNotInProgress).await;
}
