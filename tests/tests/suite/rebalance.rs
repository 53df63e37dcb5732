//! Permissionless rebalance through the reference AMM: happy path, every refusal, reconciliation,
//! bounty and a multi-step run.

use anchor_lang::prelude::Pubkey;
use ballast::errors::BallastError;
use ballast::instructions::RebalanceArgs;
use ballast::math::rebalance::TradeRequest;
use ballast::state::pause;
use ballast_client as client;
use ballast_client::planner::Decision;
use ballast_harness::chain::custom_error;
use ballast_harness::fixture::Turn;
use ballast_tests::*;
use solana_signer::Signer;

const SOL: u8 = 0;
const BTC: u8 = 1;
const USDC: u8 = 2;

#[tokio::test]
async fn rebalance_sells_overweight_for_underweight_exactly_as_planned() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    let Decision::Trade(c) = m.fx.plan(&mut m.chain).await.decision else { panic!("a trade is needed") };
    let (request, plan) = (c.request, c.plan);
    assert_eq!((request.sell, request.buy), (SOL as usize, USDC as usize));
    let before = m.fx.holdings(&mut m.chain).await;
    // Ask for far more than allowed: the program clamps to the same plan.
    m.rebalance(SOL, USDC, u64::MAX, 0).await.unwrap();
    let after = m.fx.holdings(&mut m.chain).await;
    let bounty = m.chain.token_amount(&m.keeper_accounts[0]).await;
    assert_eq!(before[0] - after[0], plan.amount_in + bounty, "sold exactly amount_in + bounty");
    assert!(after[2] - before[2] >= plan.min_out, "received at least the floor");
    assert_eq!(after[1], before[1], "BTC untouched");
    assert!(bounty > 0 && bounty <= plan.max_bounty, "bounty {bounty} within the room the clamp kept");
    let report = m.fx.report(&mut m.chain).await.unwrap();
    // SOL is still at or above its target, USDC at or below: no overshoot.
    assert!(report.weights_bps[0] >= 3_999, "SOL weight {}", report.weights_bps[0]);
    assert!(report.weights_bps[2] <= 3_000, "USDC weight {}", report.weights_bps[2]);
    assert!(m.fx.state(&mut m.chain).await.last_rebalance_slot > 0);
}

#[tokio::test]
async fn inside_band_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 5).await;
    assert_ballast_err(m.rebalance(SOL, USDC, 1_000_000_000, 0).await, BallastError::RebalanceNotNeeded);
}

#[tokio::test]
async fn wrong_direction_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    assert_ballast_err(m.rebalance(USDC, SOL, 1_000_000_000, 0).await, BallastError::RebalanceWrongDirection);
    // Selling and buying the same asset passes one reserve twice as a mutable account.
    let err = m.rebalance(SOL, SOL, 1_000_000_000, 0).await.unwrap_err();
    assert_eq!(custom_error(&err), Some(anchor_lang::error::ErrorCode::ConstraintDuplicateMutableAccount as u32));
}

#[tokio::test]
async fn cooldown_enforced() {
    // Max trade 5 % of the vault: SOL +60 % needs several full-size trades.
    let mut m = Market::with_max_trade(ballast_harness::chain::Chain::start().await, 500).await;
    m.move_price(SOL as usize, 60).await;
    // A full-size trade (clamped to the largest allowed) starts the cooldown.
    m.rebalance(SOL, USDC, u64::MAX, 0).await.unwrap();
    // SOL is still far above target: a second trade is needed but must wait 10 slots.
    assert_ballast_err(m.rebalance(SOL, BTC, 1_000_000_000, 0).await, BallastError::CooldownNotElapsed);
    m.chain.advance_slots(10).await;
    m.fx.refresh_prices(&mut m.chain).await;
    // The trade restarted the auction at fair value: 4 s later no pool pays that much …
    let err = m.rebalance(SOL, BTC, 1_000_000_000, 0).await.unwrap_err();
    assert_eq!(custom_error(&err), Some(u32::from(ballast_amm::AmmError::SlippageExceeded)));
    // … once it has run its course, the second trade goes through.
    m.relax_auction().await;
    m.rebalance(SOL, BTC, 1_000_000_000, 0).await.unwrap();
}

#[tokio::test]
async fn paused_rebalance_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    let gov = m.fx.governance.pubkey();
    m.chain.send(&[client::set_pause(&gov, &m.fx.key, pause::REBALANCE)], &[&m.fx.governance]).await.unwrap();
    assert_ballast_err(m.rebalance(SOL, USDC, 1_000_000_000, 0).await, BallastError::RebalancePaused);
}

#[tokio::test]
async fn amm_must_be_whitelisted() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    let pool = m.pool(SOL as usize, USDC as usize);
    let gov = m.fx.governance.pubkey();
    m.chain.send(&[client::remove_amm(&gov, &m.fx.key, pool.key)], &[&m.fx.governance]).await.unwrap();
    assert_ballast_err(m.rebalance(SOL, USDC, 1_000_000_000, 0).await, BallastError::AmmNotWhitelisted);
    // A different program posing as the AMM with a whitelisted pool is refused too.
    m.chain.send(&[client::add_amm(&gov, &m.fx.key, &ballast_amm::ID, &pool.key)], &[&m.fx.governance]).await.unwrap();
    let vault = m.fx.state(&mut m.chain).await;
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: 1_000_000_000, min_out: 0 };
    let mut ix = m.fx.rebalance_ix(&vault, &m.keeper, &m.keeper_accounts[0], &pool, args);
    ix.accounts[7].pubkey = anchor_spl::token::ID; // amm_program: an executable that is not whitelisted
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::AmmNotWhitelisted);
}

#[tokio::test]
async fn sandwiched_pool_refused_and_nothing_moves() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    // An attacker dumps SOL into the SOL/USDC pool first: the pool now pays far less USDC per SOL.
    let pool = m.pool(SOL as usize, USDC as usize);
    let src = m.fx.payer_account(&mut m.chain, 0).await.unwrap();
    let dst = m.fx.payer_account(&mut m.chain, 2).await.unwrap();
    let dump = m.fx.amount_for_usd(&mut m.chain, 0, 200_000.0).await;
    let sol_mint = m.fx.assets[0].mint;
    m.chain.mint_to(&sol_mint, &src, dump, m.fx.assets[0].spec.program).await.unwrap();
    let payer = m.chain.payer().pubkey();
    let t = anchor_spl::token::ID;
    let ix = client::amm::swap(&payer, &sol_mint, &m.fx.assets[2].mint, &src, &dst, &t, &t, dump, 0);
    m.chain.send(&[ix], &[]).await.unwrap();
    let before = m.fx.holdings(&mut m.chain).await;
    let pool_before = (m.chain.token_amount(&pool.vault_a).await, m.chain.token_amount(&pool.vault_b).await);
    let err = m.rebalance(SOL, USDC, 1_000_000_000, 0).await.unwrap_err();
    // The program's floor, passed to the AMM as min-out, makes the AMM refuse.
    assert_eq!(custom_error(&err), Some(u32::from(ballast_amm::AmmError::SlippageExceeded)));
    assert_eq!(m.fx.holdings(&mut m.chain).await, before);
    assert_eq!((m.chain.token_amount(&pool.vault_a).await, m.chain.token_amount(&pool.vault_b).await), pool_before);
}

#[tokio::test]
async fn keeper_min_out_only_tightens() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    // An impossible keeper minimum makes the AMM refuse; a zero minimum still gets the program's floor.
    let err = m.rebalance(SOL, USDC, 1_000_000_000, u64::MAX).await.unwrap_err();
    assert_eq!(custom_error(&err), Some(u32::from(ballast_amm::AmmError::SlippageExceeded)));
    m.rebalance(SOL, USDC, 1_000_000_000, 0).await.unwrap();
}

#[tokio::test]
async fn foreign_accounts_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    let vault = m.fx.state(&mut m.chain).await;
    let pool = m.pool(SOL as usize, USDC as usize);
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: 1_000_000_000, min_out: 0 };
    let base = m.fx.rebalance_ix(&vault, &m.keeper, &m.keeper_accounts[0], &pool, args);
    // sell reserve replaced by someone else's SOL account
    let mut ix = base.clone();
    ix.accounts[4].pubkey = m.seed.tokens[0];
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::ReserveMismatch);
    // buy mint of another asset
    let mut ix = base.clone();
    ix.accounts[3].pubkey = vault.assets[1].mint;
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::MintMismatch);
    // a vault reserve smuggled in as an AMM account
    let mut ix = base.clone();
    let last = ix.accounts.len() - 1;
    ix.accounts[last].pubkey = vault.assets[1].reserve;
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::AmmAccountNotAllowed);
    // bounty account of the wrong mint: Anchor's token constraint
    let mut ix = base.clone();
    ix.accounts[6].pubkey = m.keeper_accounts[2];
    let err = m.chain.send(&[ix], &[&m.keeper]).await.unwrap_err();
    assert_eq!(custom_error(&err), Some(anchor_lang::error::ErrorCode::ConstraintTokenMint as u32));
    // a mint that is not the vault's share mint
    let mut ix = base.clone();
    ix.accounts[11].pubkey = vault.assets[2].mint;
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::ShareMintMismatch);
    // unpinned oracle
    let mut ix = base.clone();
    let impostor = Pubkey::new_unique();
    let a = &m.fx.assets[1];
    let now = m.chain.clock().await.unix_timestamp;
    m.chain
        .set_price(&impostor, &ballast_harness::pyth::PriceSpec::new(a.feed_id, a.spec.price, a.spec.expo, now))
        .await;
    ix.accounts[12 + 2].pubkey = impostor; // remaining accounts start at 12: [oracle_0, reserve_0, oracle_1, …]
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::OracleAccountMismatch);
}

#[tokio::test]
async fn stale_oracle_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    m.chain.advance_time(120).await;
    assert_ballast_err(m.rebalance(SOL, USDC, 1_000_000_000, 0).await, BallastError::OracleStale);
}

#[tokio::test]
async fn bounty_is_capped() {
    let mut chain = ballast_harness::chain::Chain::start().await;
    let mut params = ballast_harness::fixture::default_params();
    params.bounty_bps = 100;
    params.bounty_cap_value = 10_000; // $0.01
    params.fit_to_slippage_cap();
    let fx = ballast_harness::fixture::create_vault(&mut chain, &three_assets(), params).await.unwrap();
    let seed = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    for (i, amount) in [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)] {
        fx.deposit_single(&mut chain, &seed, i, amount, 1).await.unwrap();
    }
    let pool = fx.create_pool(&mut chain, 0, 2, 1_000_000.0, 30).await.unwrap();
    let keeper = fx.user(&mut chain, &[0, 0, 0]).await.unwrap();
    chain.advance_time(2).await;
    fx.refresh_prices(&mut chain).await;
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * 14 / 10).await;
    fx.arbitrage(&mut chain, &pool).await.unwrap();
    fx.relax_auction(&mut chain).await.unwrap();
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: u64::MAX, min_out: 0 };
    fx.rebalance(&mut chain, &keeper.keypair, &keeper.tokens[0], &pool, args).await.unwrap();
    let bounty = chain.token_amount(&keeper.tokens[0]).await;
    // $0.01 of SOL at ~$210 (priced high) = ~47 600 lamports, far below 1 % of a ~$800 trade.
    assert!(bounty > 0 && bounty <= 47_620, "bounty {bounty}");
}

#[tokio::test]
async fn repeated_rebalances_bring_every_asset_back_inside_its_band() {
    let mut m = Market::new().await;
    let path = [(SOL, 40), (BTC, -30), (USDC, 0), (SOL, -35), (BTC, 50)];
    for (asset, pct) in path {
        m.move_price_after(asset as usize, pct, 2).await;
        // The keeper's planner: opens the auction, waits for it to reach a pool's price, trades; the
        // arbitrageur re-prices the pools after every trade.
        let mut trades = 0;
        for _ in 0..30 {
            let mode = client::RouteMode::Direct;
            match m.fx.keeper_turn(&mut m.chain, mode, &m.keeper, &m.keeper_accounts).await.unwrap() {
                Turn::Traded(c) => {
                    let TradeRequest { sell, buy, .. } = c.request;
                    assert_ne!(sell, buy);
                    trades += 1;
                    for pool in m.pools.clone() {
                        m.fx.arbitrage(&mut m.chain, &pool).await.unwrap();
                    }
                }
                Turn::Held(_) => break,
                _ => {}
            }
        }
        assert!(trades >= 1 || pct == 0, "a {pct}% move needs a trade");
        let r = m.fx.report(&mut m.chain).await.unwrap();
        for i in 0..3 {
            assert!(
                r.drift_bps[i].unsigned_abs() <= r.bands_bps[i] as u64,
                "asset {i} drift {} > band after {pct}% move",
                r.drift_bps[i]
            );
        }
    }
}

#[tokio::test]
async fn dust_trade_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    // One lamport of SOL is worth less than a micro-dollar: the floor would be zero.
    assert_ballast_err(m.rebalance(SOL, USDC, 1, 0).await, BallastError::RebalanceTooSmall);
}

#[tokio::test]
async fn whitelisted_program_without_an_adapter_refused() {
    let mut m = Market::new().await;
    m.move_price(SOL as usize, 40).await;
    // Governance whitelists a route whose program ballast has no adapter for (here the token program,
    // with one of its accounts as "pool").
    let gov = m.fx.governance.pubkey();
    let fake_pool = m.seed.tokens[0];
    let token = anchor_spl::token::ID;
    m.chain.send(&[client::add_amm(&gov, &m.fx.key, &token, &fake_pool)], &[&m.fx.governance]).await.unwrap();
    let vault = m.fx.state(&mut m.chain).await;
    let pool = m.pool(SOL as usize, USDC as usize);
    let args = RebalanceArgs { sell_index: SOL, buy_index: USDC, amount_in: 1_000_000_000, min_out: 0 };
    let mut ix = m.fx.rebalance_ix(&vault, &m.keeper, &m.keeper_accounts[0], &pool, args);
    ix.accounts[7].pubkey = token;
    ix.accounts[8].pubkey = fake_pool;
    assert_ballast_err(m.chain.send(&[ix], &[&m.keeper]).await, BallastError::AmmNotSupported);
}
