//! Prices no caller can pick (requirement 17 and 22): with Pyth pull oracles the sender chooses which signed
//! reading the program sees, so every price that moves money has a second source and is used only in the
//! direction that cannot favour whoever supplied it: Pyth's EMA (one print cannot move it) and the vault's own
//! whitelisted pools (the market, arbitraged, has already moved when a sender holds back a newer reading). A
//! pool can be pushed inside the transaction that reads it, so it only ever makes a price more conservative.
//!
//! The attacks of the outside review, on the market of `best_execution.rs` ($10 000 vault, 30 bps pools with
//! $1M a side, default parameters), with their numbers on main in the doc comments.

use ballast::errors::BallastError;
use ballast::math::rebalance::TradeRequest;
use ballast_client::planner::{Decision, Hold};
use ballast_harness::chain::Chain;
use ballast_harness::fixture;
use ballast_harness::pyth::PriceSpec;
use ballast_tests::*;
use solana_signer::Signer;

use crate::best_execution::{bps, candidate, flash_paying, wealth};

const SOL: u8 = 0;
const USDC: u8 = 2;

/// The pools moved to `pct` % on SOL while the oracle still shows the old price (published `secs` ago: the
/// sender holds back the newer reading).
async fn pools_move_oracle_held(m: &mut Market, pct: i64) {
    let a = m.fx.assets[SOL as usize].clone();
    let held = m.fx.oracle_reading(&mut m.chain, SOL as usize).await;
    // Publish the new price, arbitrage every pool to it, then put the held-back reading back.
    m.fx.set_price(&mut m.chain, SOL as usize, held.price * (100 + pct) / 100).await;
    for pool in m.pools.clone() {
        m.fx.arbitrage(&mut m.chain, &pool).await.unwrap();
    }
    let spec = PriceSpec::new(a.feed_id, held.price, held.expo, held.publish_time).with_ema(held.ema_price);
    m.chain.set_price(&a.oracle, &spec).await;
}

/// Held back: SOL is out of band and its auction has run 100 s; SOL then rises 2 % and the pools follow, but
/// the keeper leaves the 3 s old reading in place. On main the floor fell by 196 bps (per unit sold,
/// 0.212058 → 0.207900) at the same auction time and a self-sandwich took 294 bps of a $489 trade. Now the
/// fair output is the higher of the oracle's and the pair's pools', so the held-back reading moves the floor
/// by at most what the pool's mid differs from the fresh reading: ≤ 10 bps of the trade.
#[tokio::test]
async fn a_keeper_who_holds_back_a_newer_reading_gains_at_most_10_bps() {
    let mut m = Market::new().await;
    m.move_price_after(SOL as usize, 25, 2).await;
    m.poke().await;
    m.let_auction_run(100).await;
    let request = TradeRequest { sell: SOL as usize, buy: USDC as usize, amount_in: 2_000_000_000, min_out: 0 };
    m.chain.advance_time(2).await;
    m.fx.refresh_prices(&mut m.chain).await;
    m.poke().await;
    m.chain.advance_time(3).await;
    pools_move_oracle_held(&mut m, 2).await;
    let held = m.fx.effects_of(&mut m.chain, &request).await.unwrap();
    // The honest keeper posts the newer reading.
    let p = m.fx.oracle_reading(&mut m.chain, SOL as usize).await.price;
    m.fx.set_price(&mut m.chain, SOL as usize, p * 102 / 100).await;
    let fresh = m.fx.effects_of(&mut m.chain, &request).await.unwrap();
    // Per unit sold (the clamp follows the prices too).
    let unit = |e: &ballast::math::rebalance::RebalanceEffects| e.plan.floor_out as f64 / e.plan.amount_in as f64;
    let gain = bps(unit(&fresh) - unit(&held), unit(&fresh));
    println!(
        "floor per SOL with the held-back reading {:.6} vs the fresh one {:.6}: the keeper gains {gain:.2} bps of the trade (main: 196)",
        unit(&held) / 1e-3,
        unit(&fresh) / 1e-3
    );
    assert!(gain <= 10.0, "{gain:.2} bps");
    // The program holds the keeper to it: one unit under the floor with the held-back reading is refused.
    pools_move_oracle_held(&mut m, 0).await;
    let c = candidate(&mut m).await;
    let keeper = m.fx.user(&mut m.chain, &[0, 0, 0]).await.unwrap();
    let (amount, floor) = (c.plan.amount_in, c.plan.floor_out);
    assert_ballast_err(
        flash_paying(&mut m, &keeper, (SOL, USDC), amount, floor - 1, vec![]).await,
        BallastError::SwapOutputBelowMinimum,
    );
    flash_paying(&mut m, &keeper, (SOL, USDC), amount, floor, vec![]).await.unwrap();
}

/// Older reading: a single-asset deposit requested at t₀; at t₀+7 SOL moves 5 % and the pools follow; the
/// settler settles at t₀+7 with the t₀+6 reading (one second old, published after `settle_from`: two
/// readings are always eligible). On main: +224.6 bps on a SOL deposit (SOL −5 %), +119 bps on a USDC deposit
/// (SOL +5 %). Now a settlement is refused while the pools it reads are more than `max_pool_divergence_bps`
/// from the reading (here by the move), and the deposit is valued at the least and the vault at the most of
/// the oracle, its EMA and those pools: settled on the newer reading, the depositor gains at most the 10 bps fee.
#[tokio::test]
async fn a_settler_who_holds_back_a_newer_reading_gains_at_most_the_fee() {
    let fee = fixture::default_params().deposit_fee_bps as f64;
    for (asset, pct) in [(SOL, -5i64), (USDC, 5)] {
        let mut m = Market::new().await;
        let usd = 1_000.0;
        let amount = m.fx.amount_for_usd(&mut m.chain, asset as usize, usd).await;
        let mut amounts = [0u64; 3];
        amounts[asset as usize] = amount;
        let user = m.fx.user(&mut m.chain, &amounts).await.unwrap();
        m.fx.request_deposit(&mut m.chain, &user, asset, amount, 1).await.unwrap();
        m.chain.advance_time(6).await;
        m.fx.refresh_prices(&mut m.chain).await;
        m.chain.advance_time(1).await;
        pools_move_oracle_held(&mut m, pct).await;
        // With the held-back reading the pools disagree with the oracle by the move: refused.
        assert_ballast_err(
            m.fx.settle_deposit(&mut m.chain, &user.keypair.pubkey()).await,
            BallastError::PoolPriceDivergence,
        );
        // The market has moved: the newer reading is published and settles; everything is worth it now.
        let p = m.fx.oracle_reading(&mut m.chain, SOL as usize).await.price;
        m.fx.set_price(&mut m.chain, SOL as usize, p * (100 + pct) / 100).await;
        m.fx.settle_deposit(&mut m.chain, &user.keypair.pubkey()).await.unwrap();
        let shares = m.chain.token_amount(&user.shares).await;
        m.fx.withdraw(&mut m.chain, &user, shares, vec![0, 0, 0]).await.unwrap();
        let out = wealth(&mut m, &user).await;
        let held = amount as f64 * m.fx.unit_price(&mut m.chain, asset as usize).await;
        let gain = bps(out - held, held);
        println!("asset {asset} deposit, SOL {pct:+} % at +7 s: the +6 s reading refused, settled on the newer one: {gain:+.1} bps (main, on the +6 s reading: +224.6 / +119)");
        assert!(gain <= fee, "gained {gain:.1} bps");
    }
}

/// Manipulated pool: a pool pushed inside the transaction that reads it can only make prices more
/// conservative. Pushing the SOL/USDC pool so that SOL looks cheap does not lower a rebalance's floor;
/// pushing it so that SOL looks dear raises the floor (the manipulator, who trades next, only hurts himself);
/// pushing it either way never values a SOL deposit higher.
#[tokio::test]
async fn a_manipulated_pool_never_lowers_a_floor_or_raises_a_deposits_value() {
    let mut m = Market::new().await;
    m.move_price_after(SOL as usize, 25, 2).await;
    m.poke().await;
    let request = TradeRequest { sell: SOL as usize, buy: USDC as usize, amount_in: 2_000_000_000, min_out: 0 };
    let honest = m.fx.effects_of(&mut m.chain, &request).await.unwrap();
    // Sell 500 SOL into the pool (SOL looks cheap).
    let sol = m.fx.amount_for_usd(&mut m.chain, SOL as usize, 50_000.0).await;
    m.fx.payer_swap(&mut m.chain, SOL as usize, USDC as usize, sol).await.unwrap();
    let down = m.fx.effects_of(&mut m.chain, &request).await.unwrap();
    assert_eq!(down.plan.floor_out, honest.plan.floor_out, "a pool pushed down does not lower the floor");
    // Buy SOL from the pool (SOL looks dear): the floor rises.
    let usdc = m.fx.amount_for_usd(&mut m.chain, USDC as usize, 100_000.0).await;
    m.fx.payer_swap(&mut m.chain, USDC as usize, SOL as usize, usdc).await.unwrap();
    let up = m.fx.effects_of(&mut m.chain, &request).await.unwrap();
    println!(
        "floor: honest {}, pool pushed down {}, pushed up {} (+{:.1} bps)",
        honest.plan.floor_out,
        down.plan.floor_out,
        up.plan.floor_out,
        bps(up.plan.floor_out as f64 - honest.plan.floor_out as f64, honest.plan.fair_out as f64)
    );
    assert!(up.plan.floor_out > honest.plan.floor_out);

    // A SOL deposit settled with the pool pushed either way is never worth more shares than untouched.
    let mut shares = Vec::new();
    for push in [0i64, -1, 1] {
        let mut m = Market::new().await;
        let amount = m.fx.amount_for_usd(&mut m.chain, SOL as usize, 1_000.0).await;
        let user = m.fx.user(&mut m.chain, &[amount, 0, 0]).await.unwrap();
        m.fx.request_deposit(&mut m.chain, &user, SOL, amount, 1).await.unwrap();
        m.chain.advance_time(6).await;
        m.fx.refresh_prices(&mut m.chain).await;
        // Pushed about 0.4 % either way (inside the 100 bps `max_pool_divergence_bps`): the pool still only makes
        // the valuation more conservative. Pushed 9 % or 5 %: the settlement is refused until the pools agree.
        let (small, large) = match push {
            -1 => (Some((SOL, USDC, 13_000_000_000)), Some((SOL, USDC, 300_000_000_000))),
            1 => (Some((USDC, SOL, 2_000_000_000)), Some((USDC, SOL, 50_000_000_000))),
            _ => (None, None),
        };
        if let Some((sell, buy, amount)) = large {
            m.fx.payer_swap(&mut m.chain, sell as usize, buy as usize, amount).await.unwrap();
            assert_ballast_err(
                m.fx.settle_deposit(&mut m.chain, &user.keypair.pubkey()).await,
                BallastError::PoolPriceDivergence,
            );
            for pool in m.pools.clone() {
                m.fx.arbitrage(&mut m.chain, &pool).await.unwrap();
            }
        }
        if let Some((sell, buy, amount)) = small {
            m.fx.payer_swap(&mut m.chain, sell as usize, buy as usize, amount).await.unwrap();
        }
        m.fx.settle_deposit(&mut m.chain, &user.keypair.pubkey()).await.unwrap();
        shares.push(m.chain.token_amount(&user.shares).await);
    }
    println!("SOL deposit's shares: untouched {}, pool pushed down {}, up {}", shares[0], shares[1], shares[2]);
    assert!(shares[1] <= shares[0] && shares[2] <= shares[0]);
}

/// EMA: an auction opens only on readings whose every price is within `max_ema_divergence_bps` (3 %) of its
/// Pyth EMA: a print the EMA has not followed neither opens it by `poke` nor by a rebalance attempt
/// (`OracleDivergence`), and the planner holds. A genuine 20 % move in one minute (SOL's band 3 % here, so
/// that 20 % leaves it) still rebalances once the EMA (about 40 minutes) has followed to within 3 %, and
/// everyone can withdraw in kind throughout.
#[tokio::test]
async fn the_auction_opens_only_on_readings_that_agree_with_their_ema() {
    let mut specs = three_assets();
    specs[0].params.band_bps = 300;
    let mut m = Market::with_specs(Chain::start().await, specs).await;
    let a = m.fx.assets[SOL as usize].clone();
    let p = m.fx.oracle_reading(&mut m.chain, SOL as usize).await.price;
    let publish = |spot: i64, ema: i64| PriceSpec::new(a.feed_id, spot, a.spec.expo, 0).with_ema(ema);
    // SOL +20 % over a minute; the EMA moves like Pyth's (5 921 slots, about 40 minutes).
    let ema_at = |from: i64, to: i64, secs: f64| from + ((to - from) as f64 * (1.0 - (-secs / 2_368.0).exp())) as i64;
    let spot = p * 120 / 100;
    m.chain.advance_time(60).await;
    m.fx.refresh_prices(&mut m.chain).await;
    let now = m.chain.clock().await.unix_timestamp;
    m.chain.set_price(&a.oracle, &PriceSpec { publish_time: now, ..publish(spot, ema_at(p, spot, 60.0)) }).await;
    for pool in m.pools.clone() {
        m.fx.arbitrage(&mut m.chain, &pool).await.unwrap();
    }
    assert_ballast_err(m.fx.poke(&mut m.chain).await, BallastError::OracleDivergence);
    assert_ballast_err(m.rebalance(SOL, USDC, u64::MAX, 0).await, BallastError::OracleDivergence);
    assert_eq!(m.fx.plan(&mut m.chain).await.decision, Decision::Hold(Hold::EmaDivergence { asset: SOL as usize }));
    // Everyone can leave in kind meanwhile.
    let seed_shares = m.chain.token_amount(&m.seed.shares).await;
    m.fx.withdraw(&mut m.chain, &m.seed, seed_shares / 10, vec![0, 0, 0]).await.unwrap();
    // Every five minutes the EMA gets closer; the auction opens once it is within 3 %.
    let mut waited = 60.0;
    loop {
        m.chain.advance_time(300).await;
        waited += 300.0;
        m.fx.refresh_prices(&mut m.chain).await;
        let now = m.chain.clock().await.unix_timestamp;
        m.chain.set_price(&a.oracle, &PriceSpec { publish_time: now, ..publish(spot, ema_at(p, spot, waited)) }).await;
        match m.fx.poke(&mut m.chain).await {
            Ok(()) => break,
            Err(e) => assert_eq!(ballast_harness::chain::custom_error(&e), Some(BallastError::OracleDivergence.into())),
        }
        assert!(waited < 3.0 * 3_600.0, "the EMA follows within hours");
    }
    assert!(m.fx.state(&mut m.chain).await.auction_started_at > 0);
    println!("a 20 % move in a minute: the auction opened {:.0} min after it (EMA within 3 %)", waited / 60.0);
    let trades = m.settle(4).await;
    assert!(trades >= 1, "rebalanced");
}

/// The pool bound is a per-vault, timelocked parameter, and the EMA agreement is bounded.
#[tokio::test]
async fn the_second_sources_are_governed_and_bounded() {
    let mut chain = Chain::start().await;
    let payer = chain.payer();
    for (id, (bps, err)) in [(9u16, true), (5_001, true), (10, false), (5_000, false)].into_iter().enumerate() {
        let mut params = fixture::default_params();
        params.max_ema_divergence_bps = bps;
        params.pool_price_bound = id % 2 == 0;
        let args = ballast::instructions::InitializeVaultArgs {
            vault_id: id as u64,
            governance: payer.pubkey(),
            guardian: anchor_lang::prelude::Pubkey::default(),
            params,
        };
        let r = chain.send(&[ballast_client::initialize_vault(&payer.pubkey(), args)], &[]).await;
        if err {
            assert_ballast_err(r, BallastError::EmaDivergenceOutOfBounds);
        } else {
            r.unwrap();
        }
    }
    // The pool bound of single-asset flows: 10..=1000 bps.
    for (id, (bps, err)) in [(9u16, true), (1_001, true), (10, false), (1_000, false)].into_iter().enumerate() {
        let mut params = fixture::default_params();
        params.max_pool_divergence_bps = bps;
        let args = ballast::instructions::InitializeVaultArgs {
            vault_id: 100 + id as u64,
            governance: payer.pubkey(),
            guardian: anchor_lang::prelude::Pubkey::default(),
            params,
        };
        let r = chain.send(&[ballast_client::initialize_vault(&payer.pubkey(), args)], &[]).await;
        if err {
            assert_ballast_err(r, BallastError::PoolDivergenceOutOfBounds);
        } else {
            r.unwrap();
        }
    }
    // Without the pool bound a rebalance takes no pool price accounts and the floor is the oracle's alone.
    let mut params = fixture::default_params();
    params.pool_price_bound = false;
    let mut m = Market::with(Chain::start().await, params).await;
    m.move_price(SOL as usize, 40).await;
    m.rebalance(SOL, USDC, u64::MAX, 0).await.unwrap();
}
