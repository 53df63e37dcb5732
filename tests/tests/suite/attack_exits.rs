//! The outside review of single-asset withdrawals (exits), each attack with its fix or its bound
//! (`RUST_LOG=error cargo test -p ballast-tests --test suite -- attack_exits:: --nocapture` prints the numbers).
//!
//! 1. A hostile settler pushes the whitelisted pools the settlement reads as a second source (they can only
//!    shrink the payout) and takes the difference with a flash in-kind deposit around the settlement. Fixed:
//!    a flow is refused while a pool it reads is more than `max_pool_divergence_bps` from the oracle, and
//!    whatever a settlement leaves in the vault vests to the holders over `auction_secs`, so a flash deposit
//!    takes none of it (`a_settler_who_holds_nothing_gains_nothing_from_squeezing_an_exit`,
//!    `with_no_minimum_a_pushed_pool_cannot_squeeze_an_exit`). Bound: a large holder who settles can squeeze an
//!    exit by at most the pool bound (`a_large_holder_can_squeeze_an_exit_by_at_most_the_pool_bound`).
//! 2. The same flash in-kind deposit around an honest settlement took ~92 % of the fee and trade charge meant
//!    for the holders: now none (`a_flash_in_kind_deposit_around_a_settlement_takes_none_of_the_charges`).
//! 3. A payout that tips an asset over its band edge pays for all the trading the bands then require (the rule
//!    that stops a flow from making the vault trade for free): bounded by the trade cost of the drift made
//!    tradeable and by the payout's value (`an_exit_that_tips_the_vault_out_of_band_pays_for_the_trading_it_makes_due`).
//! 4. A settlement on a one-second-old reading just before a jump the pools have not followed: bounded by
//!    that second's move (`settling_on_a_one_second_old_reading_gains_at_most_that_seconds_move`).
//! 5. The leaver closed the destination to hold every other settler back and pick the moment (enabling 4): fixed, the
//!    payout goes to the owner's associated token account, which settlers re-create
//!    (`a_leaver_cannot_hold_settlers_back_by_closing_the_destination`).

use anchor_spl::token::spl_token;
use ballast::events::WithdrawSettledEvent;
use ballast::instructions::RequestWithdrawArgs;
use ballast_client::{self as client};
use ballast_harness::chain::{Chain, TokenProgram};
use ballast_harness::fixture::{self, VaultFixture};
use ballast_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

// ---------------------------------------------------------------------------------------------------------
// 1. Hostile settler: pool squeeze + flash in-kind deposit.
// ---------------------------------------------------------------------------------------------------------

/// What one run of the squeeze scenario measured.
#[derive(Debug)]
struct Squeeze {
    /// USDC the leaver received (USD).
    received: f64,
    /// The leaver's shares at mid just before settlement (USD).
    value: f64,
    /// The settler's profit (USD at mid): tokens back from the round trip minus what it started with.
    settler_pnl: f64,
    /// The whale's (a passive holder) share value change across the settlement (USD).
    whale_change: f64,
    /// Pool round-trip cost the settler paid (USD at mid).
    push_cost: f64,
    /// The leaver's `min_amount_out` (USD of USDC).
    min: f64,
}

/// A $100 000 vault (the $10 000 seed, a passive $70 000 whale and a $20 000 leaver, all in kind) with the
/// Market's $1M-a-side whitelisted reference pools (30 bps). The leaver asks for all its shares in USDC with
/// `min_amount_out` = `min_frac` of the shares' value (an ordinary slippage setting: the worse-of-two rule
/// makes a tolerance necessary). At settlement either the keeper settles honestly (`push = None`) or a
/// settler with borrowed tokens, in one bundle: deposits $900 000 in kind, sells SOL into the SOL/USDC pool and
/// BTC into the BTC/USDC pool so that each pool's price of USDC rises by `push` (fraction), settles, buys the
/// SOL and BTC back with the USDC it got, and withdraws in kind.
async fn squeeze(min_frac: f64, push: Option<f64>) -> Squeeze {
    squeeze_with(min_frac, push.map(|p| (900_000.0, p))).await.expect("the settlement lands")
}

/// [`squeeze`] with the flash deposit's size given: `attack = Some((flash_usd, push))` (a push of 0: no pool
/// is touched, the settler only deposits in kind around an honest settlement).
async fn squeeze_with(min_frac: f64, attack: Option<(f64, f64)>) -> Result<Squeeze, u32> {
    let mut m = Market::new().await;
    let (chain, fx) = (&mut m.chain, &m.fx);
    let whale = in_kind_holder(chain, fx, 70_000.0).await;
    let leaver = in_kind_holder(chain, fx, 20_000.0).await;
    let shares = chain.token_amount(&leaver.shares).await;
    let value_at_request = share_value(chain, fx, shares).await;
    let min_amount_out = (value_at_request * min_frac * 1e6) as u64;
    fx.request_withdraw(chain, &leaver, 2, shares, min_amount_out).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(chain).await;

    let value = share_value(chain, fx, shares).await;
    let whale_shares = chain.token_amount(&whale.shares).await;
    let whale_before = share_value(chain, fx, whale_shares).await;
    let usdc0 = chain.token_amount(&leaver.tokens[2]).await;
    let owner = leaver.keypair.pubkey();
    let (mut settler_pnl, mut push_cost) = (0.0, 0.0);
    match attack {
        None => {
            fx.settle_withdraw(chain, &owner).await.unwrap();
        }
        Some((flash_usd, push)) => {
            // Pool reserves: x·y = k, selling Δ of x moves the mid by (x / (x + Δ))²; Δ = x·(1/√(1 − push) − 1).
            let pool_sol = chain
                .token_amount(
                    &m.pools
                        .iter()
                        .find(|p| (p.index_a, p.index_b) == (0, 2) || (p.index_a, p.index_b) == (2, 0))
                        .unwrap()
                        .vault_of(0),
                )
                .await;
            let pool_btc = chain
                .token_amount(
                    &m.pools
                        .iter()
                        .find(|p| (p.index_a, p.index_b) == (1, 2) || (p.index_a, p.index_b) == (2, 1))
                        .unwrap()
                        .vault_of(1),
                )
                .await;
            let k = 1.0 / (1.0 - push).sqrt() - 1.0;
            let (sell_sol, sell_btc) = ((pool_sol as f64 * k) as u64, (pool_btc as f64 * k) as u64);
            // Borrowed: the flash deposit and the inventory to push the pools with.
            let mut loan = if flash_usd > 0.0 { in_kind_amounts(chain, fx, flash_usd).await } else { vec![0; 3] };
            let deposit = loan.clone();
            loan[0] += sell_sol;
            loan[1] += sell_btc;
            let settler = fx.user(chain, &loan).await.unwrap();
            // (On mainnet one Jito bundle; here consecutive transactions at the same clock, nobody in between.)
            if flash_usd > 0.0 {
                fx.deposit(chain, &settler, deposit, 1).await.unwrap();
            }
            let b0 = chain.token_amounts(&settler.tokens).await;
            let u0 = b0[2];
            if sell_sol > 0 {
                chain.send(&[user_swap(fx, &settler, 0, 2, sell_sol)], &[&settler.keypair]).await.unwrap();
            }
            let u1 = chain.token_amount(&settler.tokens[2]).await;
            if sell_btc > 0 {
                chain.send(&[user_swap(fx, &settler, 1, 2, sell_btc)], &[&settler.keypair]).await.unwrap();
            }
            let u2 = chain.token_amount(&settler.tokens[2]).await;
            let vault = fx.state(chain).await;
            let request = fx.withdraw_request(chain, &owner).await.unwrap();
            let ix = client::settle_withdraw(&settler.keypair.pubkey(), &fx.key, &vault, &request);
            let (result, logs) = chain.send_logged(&[ix], &[&settler.keypair]).await;
            if let Err(e) = result {
                println!(
                    "  squeezed settlement refused: {:?}",
                    logs.iter().find(|l| l.contains("bps from the oracle"))
                );
                return Err(ballast_harness::chain::custom_error(&e).unwrap_or(0));
            }
            let ev = client::events::decode::<WithdrawSettledEvent>(&logs).pop().unwrap();
            println!(
                "  settlement: gross at request {} / at settlement {} USDC units, paid {}; fee ${:.2}, charge ${:.2}",
                ev.gross_at_request,
                ev.gross_at_settlement,
                ev.amount_out,
                ev.fee_value as f64 / 1e6,
                ev.trade_charge_value as f64 / 1e6
            );
            if u1 > u0 {
                chain.send(&[user_swap(fx, &settler, 2, 0, u1 - u0)], &[&settler.keypair]).await.unwrap();
            }
            if u2 > u1 {
                chain.send(&[user_swap(fx, &settler, 2, 1, u2 - u1)], &[&settler.keypair]).await.unwrap();
            }
            // The round trip's cost: what the pools kept (the settlement moves none of the settler's tokens).
            let b3 = chain.token_amounts(&settler.tokens).await;
            let round: Vec<i128> = b3.iter().zip(&b0).map(|(a, b)| *a as i128 - *b as i128).collect();
            push_cost = -usd_of(chain, fx, &round).await;
            let settler_shares = chain.token_amount(&settler.shares).await;
            if settler_shares > 0 {
                fx.withdraw(chain, &settler, settler_shares, vec![0, 0, 0]).await.unwrap();
            }
            let end = chain.token_amounts(&settler.tokens).await;
            let pnl: Vec<i128> = end.iter().zip(&loan).map(|(e, l)| *e as i128 - *l as i128).collect();
            settler_pnl = usd_of(chain, fx, &pnl).await;
        }
    }
    let received = (chain.token_amount(&leaver.tokens[2]).await - usdc0) as f64 / 1e6;
    // What the settlement left in the vault reaches the holders as it vests.
    fx.let_charges_vest(chain).await;
    let whale_after = share_value(chain, fx, whale_shares).await;
    let min = min_amount_out as f64 / 1e6;
    Ok(Squeeze { received, value, settler_pnl, whale_change: whale_after - whale_before, push_cost, min })
}

/// The leaver asks for its $20 000 in USDC with a 3 % tolerance. Honestly settled it receives $19 815
/// (10 bps fee, 105 bps on $14 000 of buy-back, confidence). On the review's tree a settler who held nothing
/// pushed both USDC pools 1 % inside a flash in-kind deposit of $900 000 and netted +$418 (the leaver got
/// $19 482, −167 bps). Now a settlement is refused while a pool it reads is more than `max_pool_divergence_bps`
/// (100) from the oracle, and what a settlement leaves the holders vests: pushed 0.5 %, the leaver loses at most
/// that much more and the settler is out of pocket by the pools' round trip.
#[tokio::test]
async fn a_settler_who_holds_nothing_gains_nothing_from_squeezing_an_exit() {
    let honest = squeeze(0.97, None).await;
    let attacked = squeeze(0.97, Some(0.005)).await;
    let lost = honest.received - attacked.received;
    println!(
        "honest: received ${:.2} for ${:.2} of shares; squeezed 0.5 %: ${:.2} (−{:.1} bps of the trade, {:.1} bps of \
         the $100k vault); settler {:+.2} (pool round trip cost ${:.2}); whale {:+.2} → {:+.2}",
        honest.received,
        honest.value,
        attacked.received,
        lost / honest.value * 1e4,
        lost / 100_000.0 * 1e4,
        attacked.settler_pnl,
        attacked.push_cost,
        honest.whale_change,
        attacked.whale_change,
    );
    assert!(attacked.settler_pnl < 0.0, "the settler gained {:.2}", attacked.settler_pnl);
    assert!(lost / honest.value * 1e4 <= 100.0, "the squeeze took {lost:.2}");
}

/// The residual, bounded by the pool bound: a holder of 70 % of the vault who settles the exit and pushes the
/// pools keeps 70 % of what the squeeze leaves in the vault once it has vested. Pushed 0.5 % (inside the 100
/// bps bound) the leaver loses under 100 bps of the trade and the whale's gain after the pools' round trip is
/// printed; pushed 2 %, the settlement is refused (`PoolPriceDivergence`) and the leaver waits for an honest one.
#[tokio::test]
async fn a_large_holder_can_squeeze_an_exit_by_at_most_the_pool_bound() {
    let honest = squeeze(0.97, None).await;
    let attacked = squeeze_with(0.97, Some((0.0, 0.005))).await.expect("within the bound");
    let whale_gain = attacked.whale_change - honest.whale_change - attacked.push_cost;
    let lost_bps = (honest.received - attacked.received) / honest.value * 1e4;
    println!(
        "leaver ${:.2} honest → ${:.2} squeezed 0.5 % (−{lost_bps:.1} bps; minimum ${:.2}); the whale's gain after \
         the pools' round trip: {whale_gain:+.2}",
        honest.received, attacked.received, attacked.min
    );
    assert!(lost_bps <= 100.0 && attacked.received <= honest.received);
    let refused = squeeze_with(0.97, Some((0.0, 0.02))).await.map(|_| ());
    assert_eq!(refused, Err(u32::from(ballast::errors::BallastError::PoolPriceDivergence)));
}

/// With `min_amount_out = 1` a 30 % push paid $10 991 for the $20 000 exit on the review's tree (the settler
/// netted +$6 316). Now the pools may not stray more than 100 bps from the oracle: the settlement is refused,
/// whatever the leaver's minimum.
#[tokio::test]
async fn with_no_minimum_a_pushed_pool_cannot_squeeze_an_exit() {
    let refused = squeeze_with(0.0, Some((900_000.0, 0.30))).await.map(|_| ());
    assert_eq!(refused, Err(u32::from(ballast::errors::BallastError::PoolPriceDivergence)));
    let honest = squeeze(0.0, None).await;
    assert!(honest.received > 0.98 * honest.value);
}

/// No pool, no price: a settler deposits $900 000 in kind just before an honest settlement and withdraws it
/// just after. On the review's tree it owned 90 % of the vault when the exit's fee and trade charge landed and
/// took $171.50 of the ~$187 (the whale's gain fell from +$163.42 to +$13.34). Now the charges vest over
/// `auction_secs`: the flash deposit leaves with none of them, and once vested the whale gains what it would
/// have without the snipe.
#[tokio::test]
async fn a_flash_in_kind_deposit_around_a_settlement_takes_none_of_the_charges() {
    let honest = squeeze(0.97, None).await;
    let sniped = squeeze_with(0.97, Some((900_000.0, 0.0))).await.expect("no push");
    println!(
        "leaver received ${:.2} either way (${:.2}); whale {:+.2} honest → {:+.2} sniped; settler {:+.2}",
        honest.received, sniped.received, honest.whale_change, sniped.whale_change, sniped.settler_pnl
    );
    assert!((honest.received - sniped.received).abs() < 0.01);
    assert!(sniped.settler_pnl < 0.01, "the settler took {:.2}", sniped.settler_pnl);
    assert!(honest.whale_change > 100.0, "the whale gains the charges: {:.2}", honest.whale_change);
    assert!((sniped.whale_change - honest.whale_change).abs() < 0.05 * honest.whale_change);
}

// ---------------------------------------------------------------------------------------------------------
// 2. The tipping exit pays for the trading it makes due.
// ---------------------------------------------------------------------------------------------------------

/// The seeded $10 000 vault plus a $1 000 in-kind holder; SOL's price multiplied by `sol_ppm` / 1e6; the
/// holder leaves with $100 of shares in BTC (BTC is underweight after the SOL move, inside its band).
/// Returns the settlement's event and the $ value of the shares.
async fn btc_exit_after_sol_move(sol_ppm: i64) -> (WithdrawSettledEvent, f64) {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let holder = in_kind_holder(&mut chain, &fx, 1_000.0).await;
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * sol_ppm / 1_000_000).await;
    let report = fx.report(&mut chain).await.unwrap();
    println!(
        "  SOL ×{:.5}: weights {:?} bps, targets {:?}, bands {:?}",
        sol_ppm as f64 / 1e6,
        report.weights_bps,
        report.targets_bps,
        report.bands_bps
    );
    let shares = (100.0 / share_value(&mut chain, &fx, 1_000_000).await * 1_000_000.0) as u64;
    let value = share_value(&mut chain, &fx, shares).await;
    fx.request_withdraw(&mut chain, &holder, 1, shares, 1).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(&mut chain).await;
    let ev = fx.settle_withdraw_reported(&mut chain, &holder.keypair.pubkey()).await.unwrap();
    (ev, value)
}

/// SOL up 22.2 %: SOL at 44.89 % of a 40 % target with a 5 % band, just inside. A $100 BTC exit adds $70 of
/// BTC shortfall and $40 of SOL excess and tips SOL over its edge: the bands then require trading the whole SOL
/// excess, $626.89, and the exit pays 105 bps of it ($6.58, 658 bps of the exit). With SOL already out of band
/// the same exit pays for the $69.93 it adds. Deliberate (docs/security.md): charging only the drift a flow adds
/// let a deposit that tipped a band make the vault trade for free (`review.rs::a_deposit_that_dilutes_another_
/// asset_out_of_its_band_pays_for_the_trades`). Bound: `trade_cost_bps` of the value the bands require after
/// the payout, and never more than the payout's value less the fee; the leaver's `min_amount_out` is checked
/// on what it receives.
#[tokio::test]
async fn an_exit_that_tips_the_vault_out_of_band_pays_for_the_trading_it_makes_due() {
    let (inside, value_in) = btc_exit_after_sol_move(1_222_320).await;
    let (outside, value_out) = btc_exit_after_sol_move(1_232_250).await;
    let bps = |ev: &WithdrawSettledEvent, v: f64| ev.trade_charge_value as f64 / 1e6 / v * 1e4;
    println!(
        "just inside the band: traded ${:.2}, charge ${:.2} ({:.0} bps of the ${value_in:.2} exit); \
         already outside: traded ${:.2}, charge ${:.2} ({:.0} bps of ${value_out:.2})",
        inside.traded_value as f64 / 1e6,
        inside.trade_charge_value as f64 / 1e6,
        bps(&inside, value_in),
        outside.traded_value as f64 / 1e6,
        outside.trade_charge_value as f64 / 1e6,
        bps(&outside, value_out),
    );
    // The charge is the trade cost of what the bands require, never more than the exit's value.
    let cost = fixture::default_params().trade_cost_bps as u128;
    for (ev, v) in [(&inside, value_in), (&outside, value_out)] {
        assert_eq!(ev.trade_charge_value, (ev.traded_value * cost).div_ceil(10_000));
        assert!((ev.trade_charge_value + ev.fee_value) as f64 / 1e6 <= v);
    }
    assert!(inside.traded_value > 5 * outside.traded_value, "{} vs {}", inside.traded_value, outside.traded_value);
}

// ---------------------------------------------------------------------------------------------------------
// 3. Latency at settlement: a 1 s old reading before a jump the pools have not followed yet.
// ---------------------------------------------------------------------------------------------------------

/// A Market vault plus a $1 000 in-kind holder; SOL +10 % (pools arbitraged), so SOL is overweight (inside
/// its band) and a SOL exit forces no buy-back. The holder requests $400 of shares in SOL. One second after
/// `settle_from`, SOL jumps `jump_pct` % (published, and the pools arbitraged, only after the settlement
/// when `stale`; before it otherwise). Returns (SOL received, the seed's share value after everything, the
/// holder's shares' value at the post-jump prices), values at the post-jump prices.
async fn sol_exit_around_a_jump(jump_pct: i64, stale: bool) -> (f64, f64, f64) {
    let mut m = Market::new().await;
    let holder = in_kind_holder(&mut m.chain, &m.fx, 1_000.0).await;
    m.move_price_after(0, 10, 2).await;
    let (chain, fx) = (&mut m.chain, &m.fx);
    let shares = (400.0 / share_value(chain, fx, 1_000_000).await * 1_000_000.0) as u64;
    let sol0 = chain.token_amount(&holder.tokens[0]).await;
    fx.request_withdraw(chain, &holder, 0, shares, 1).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(chain).await; // the readings at settle_from
    chain.advance_time(1).await; // the market jumps now
    let p = fx.oracle_reading(chain, 0).await.price;
    let jumped = p * (100 + jump_pct) / 100;
    // The holder's shares at the post-jump prices, before anything is paid.
    let value_after_jump = {
        let report = fx.report(chain).await.unwrap();
        let outstanding = fx.share_supply(chain).await + fx.state(chain).await.fees.pending_shares;
        let sol_value = report.values[0] as f64 * (100 + jump_pct) as f64 / 100.0;
        let nav = report.values[1..].iter().map(|v| *v as f64).sum::<f64>() + sol_value;
        nav / 1e6 * shares as f64 / outstanding as f64
    };
    if stale {
        // The held-back reading (published 1 s ago, after settle_from) and pools still at the old price.
        fx.settle_withdraw(chain, &holder.keypair.pubkey()).await.unwrap();
        publish_jump(chain, fx, &m.pools, jumped).await;
    } else {
        publish_jump(chain, fx, &m.pools, jumped).await;
        fx.settle_withdraw(chain, &holder.keypair.pubkey()).await.unwrap();
    }
    let got = chain.token_amount(&holder.tokens[0]).await - sol0;
    let seed_shares = chain.token_amount(&m.seed.shares).await;
    let out = got as f64 * m.fx.unit_price(&mut m.chain, 0).await;
    (out, share_value(&mut m.chain, &m.fx, seed_shares).await, value_after_jump)
}

/// SOL at `price`, every reading re-published now, every pool arbitraged to the new prices.
async fn publish_jump(chain: &mut Chain, fx: &VaultFixture, pools: &[fixture::PoolFixture], price: i64) {
    fx.set_price(chain, 0, price).await;
    fx.refresh_prices(chain).await;
    for pool in pools {
        fx.arbitrage(chain, pool).await.unwrap();
    }
}

/// Bounded by the move in the last second (and any lag of the cluster clock behind the publishers'). SOL +3 %
/// one second before settlement: settled on the last reading before the jump (one second old, so allowed) with
/// the pools not yet arbitraged, the holder's $405 of shares (SOL overweight: no buy-back) pay out $411.15, 150
/// bps more than they are worth after the jump, against −20 bps on a fresh reading. Keepers settle at
/// `settle_from`, and the owner can no longer hold them back (attack 4), so the leaver must win that race.
#[tokio::test]
async fn settling_on_a_one_second_old_reading_gains_at_most_that_seconds_move() {
    let (stale_out, stale_seed, value) = sol_exit_around_a_jump(3, true).await;
    let (fresh_out, fresh_seed, _) = sol_exit_around_a_jump(3, false).await;
    println!(
        "shares worth ${value:.2} after the jump; paid ${stale_out:.2} on the held-back reading \
         ({:+.0} bps), ${fresh_out:.2} on the fresh one ({:+.0} bps); the seed's $10k: {:+.2} vs fresh",
        (stale_out - value) / value * 1e4,
        (fresh_out - value) / value * 1e4,
        stale_seed - fresh_seed,
    );
    // Paid more than the shares are worth after the jump, but no more than the jump itself.
    assert!(stale_out <= value * 1.03, "${stale_out:.2} for ${value:.2}");
    assert!(fresh_out <= value, "${fresh_out:.2} for ${value:.2} on a fresh reading");
    assert!(stale_seed <= fresh_seed);
}

// ---------------------------------------------------------------------------------------------------------
// 4. The leaver cannot control who settles, or when.
// ---------------------------------------------------------------------------------------------------------

/// The leaver named as destination an empty token account it controlled and closed it: every keeper's
/// settlement failed until it re-created the account at the moment it liked. Now the payout goes only to the
/// owner's associated token account (`PayoutNotToOwnersTokenAccount` otherwise), which any settler re-creates in
/// the settlement's transaction.
#[tokio::test]
async fn a_leaver_cannot_hold_settlers_back_by_closing_the_destination() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let owner = seed.keypair.pubkey();
    let second = Keypair::new();
    let usdc = fx.assets[2].mint;
    let destination = chain.create_ata(&second.pubkey(), &usdc, TokenProgram::Token).await.unwrap();
    let vault = fx.state(&mut chain).await;
    let args = RequestWithdrawArgs { asset_index: 2, shares: 100_000_000, min_amount_out: 1 };
    let ix = client::request_withdraw(&owner, &fx.key, &vault, &seed.shares, &destination, args);
    let refused = chain.send(&[ix], &[&seed.keypair]).await;
    assert_eq!(
        ballast_harness::chain::custom_error(&refused.unwrap_err()),
        Some(u32::from(ballast::errors::BallastError::PayoutNotToOwnersTokenAccount))
    );
    // To its own token account, closed after the request: the keeper's settlement re-creates it and pays.
    fx.request_withdraw(&mut chain, &seed, 2, 100_000_000, 1).await.unwrap();
    let usdc_held = chain.token_amount(&seed.tokens[2]).await;
    let park = spl_token::instruction::transfer(&spl_token::ID, &seed.tokens[2], &destination, &owner, &[], usdc_held);
    let close = spl_token::instruction::close_account(&spl_token::ID, &seed.tokens[2], &owner, &owner, &[]).unwrap();
    chain.send(&[park.unwrap(), close], &[&seed.keypair]).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(&mut chain).await;
    fx.settle_withdraw(&mut chain, &owner).await.unwrap();
    assert!(chain.token_amount(&seed.tokens[2]).await > 0);
}
