//! Single-asset deposits: request → settle (priced after the request, at the worse of two valuations,
//! minus a fee) → or cancel after expiry. The oracle-latency attack from the outside review is replayed
//! against the new flow.

use ballast::errors::BallastError;
use ballast::state::VaultParams;
use ballast_client::{self as client, pda};
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{self, User, VaultFixture};
use ballast_tests::*;
use solana_signer::Signer;

/// USD value of `amounts` at the oracles' mid prices now.
async fn usd(chain: &mut Chain, fx: &VaultFixture, amounts: &[u64]) -> f64 {
    let mut total = 0.0;
    for (i, a) in amounts.iter().enumerate() {
        total += *a as f64 * fx.unit_price(chain, i).await;
    }
    total
}

/// Withdraws all of `user`'s shares in kind; returns what came out.
async fn withdraw_all(chain: &mut Chain, fx: &VaultFixture, user: &User) -> Vec<u64> {
    let before: Vec<u64> = futures_amounts(chain, user).await;
    let shares = chain.token_amount(&user.shares).await;
    fx.withdraw(chain, user, shares, vec![0, 0, 0]).await.unwrap();
    let after = futures_amounts(chain, user).await;
    after.iter().zip(&before).map(|(a, b)| a - b).collect()
}

async fn futures_amounts(chain: &mut Chain, user: &User) -> Vec<u64> {
    let mut v = Vec::new();
    for t in &user.tokens {
        v.push(chain.token_amount(t).await);
    }
    v
}

/// The attacker sees SOL's next price (`pct` % one second later) and tries to profit from depositing
/// 10 SOL before it and withdrawing in kind after. Returns (value out, value of the 10 SOL), both at the
/// prices after the move.
async fn latency_attack(pct: i64) -> (f64, f64) {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let attacker = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    chain.advance_time(1).await;
    fx.refresh_prices(&mut chain).await;
    fx.request_deposit(&mut chain, &attacker, 0, 10_000_000_000, 1).await.unwrap();
    // One second later the move is published; settling with it is too early …
    chain.advance_time(1).await;
    fx.refresh_prices(&mut chain).await;
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * (100 + pct) / 100).await;
    assert_ballast_err(
        fx.settle_deposit(&mut chain, &attacker.keypair.pubkey()).await,
        BallastError::DepositRequestTooEarly,
    );
    // … the first allowed settlement uses prices published after the delay.
    let delay = fx.state(&mut chain).await.params.deposit_delay_secs as i64;
    chain.advance_time(delay - 1).await;
    fx.refresh_prices(&mut chain).await;
    fx.settle_deposit(&mut chain, &attacker.keypair.pubkey()).await.unwrap();
    assert!(fx.deposit_request(&mut chain, &attacker.keypair.pubkey()).await.is_none(), "request closed");
    let out = withdraw_all(&mut chain, &fx, &attacker).await;
    let value_out = usd(&mut chain, &fx, &out).await;
    let value_in = usd(&mut chain, &fx, &[10_000_000_000, 0, 0]).await;
    (value_out, value_in)
}

#[tokio::test]
async fn knowing_the_next_price_does_not_pay() {
    for pct in [-5, 5] {
        let (out, value_in) = latency_attack(pct).await;
        assert!(out <= value_in, "SOL {pct:+}%: attacker turned ${value_in:.2} into ${out:.2}");
    }
}

#[tokio::test]
async fn an_honest_depositor_pays_at_most_the_fee_the_trade_charge_and_the_confidence_haircut() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    // 10 SOL ($1 500) into a $10 000 vault at target (SOL 40 %): afterwards SOL is $5 500 of $11 500
    // against a $4 600 target, so $900 (60 % of the deposit) must be traded, charged 105 bps: $9.45.
    let report = fx.report(&mut chain).await.unwrap();
    let traded =
        ballast::math::deposit_traded_value(report.values[0], report.nav, 4_000, 1_500_000_000).unwrap() as f64 / 1e6;
    assert!((traded - 900.0).abs() < 1.0, "traded ${traded:.2}");
    fx.deposit_single(&mut chain, &user, 0, 10_000_000_000, 1).await.unwrap();
    let out = withdraw_all(&mut chain, &fx, &user).await;
    let value_out = usd(&mut chain, &fx, &out).await;
    let value_in = usd(&mut chain, &fx, &[10_000_000_000, 0, 0]).await;
    let p = fixture::default_params();
    let fee = p.deposit_fee_bps as f64 / 10_000.0;
    let charge = traded * p.trade_cost_bps as f64 / 10_000.0 / value_in;
    let conf = 0.0005; // the fixture's oracles publish a 0.05 % confidence interval
    let cost = 1.0 - value_out / value_in;
    assert!(cost <= fee + charge + 2.0 * conf + 0.000_1, "cost {:.4} %", cost * 100.0);
    assert!(cost >= (fee + charge) * 0.9, "the fee and the trade charge are charged: cost {:.4} %", cost * 100.0);
}

#[tokio::test]
async fn an_expired_request_only_cancels_and_is_refunded_in_full() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    let reserve_before = fx.holdings(&mut chain).await[0];
    fx.request_deposit(&mut chain, &user, 0, 4_000_000_000, 1).await.unwrap();
    assert_eq!(fx.state(&mut chain).await.assets[0].pending_in, 4_000_000_000);
    assert_eq!(fx.holdings(&mut chain).await[0], reserve_before + 4_000_000_000);
    // A second request while one is open is refused.
    assert_ballast_err(
        fx.request_deposit(&mut chain, &user, 0, 1_000_000_000, 1).await,
        BallastError::DepositRequestAlreadyOpen,
    );
    assert_ballast_err(fx.cancel_deposit(&mut chain, &user).await, BallastError::DepositRequestNotExpired);
    let p = fixture::default_params();
    chain.advance_time((p.deposit_delay_secs + p.deposit_window_secs + 1) as i64).await;
    fx.refresh_prices(&mut chain).await;
    assert_ballast_err(
        fx.settle_deposit(&mut chain, &user.keypair.pubkey()).await,
        BallastError::DepositRequestExpired,
    );
    fx.cancel_deposit(&mut chain, &user).await.unwrap();
    assert_eq!(chain.token_amount(&user.tokens[0]).await, 10_000_000_000);
    assert_eq!(fx.holdings(&mut chain).await[0], reserve_before);
    assert_eq!(fx.state(&mut chain).await.assets[0].pending_in, 0);
    assert_eq!(chain.token_amount(&user.shares).await, 0);
}

#[tokio::test]
async fn a_pause_stops_settlement_but_never_the_refund() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    fx.request_deposit(&mut chain, &user, 0, 4_000_000_000, 1).await.unwrap();
    let gov = fx.governance.pubkey();
    chain.send(&[client::set_pause(&gov, &fx.key, ballast::state::pause::ALL)], &[&fx.governance]).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(&mut chain).await;
    assert_ballast_err(fx.settle_deposit(&mut chain, &user.keypair.pubkey()).await, BallastError::DepositsPaused);
    let p = fixture::default_params();
    chain.advance_time((p.deposit_delay_secs + p.deposit_window_secs + 1) as i64).await;
    fx.cancel_deposit(&mut chain, &user).await.unwrap();
    assert_eq!(chain.token_amount(&user.tokens[0]).await, 10_000_000_000);
    assert_eq!(fx.state(&mut chain).await.assets[0].pending_in, 0);
    assert_eq!(chain.token_amount(&user.shares).await, 0);
}

#[tokio::test]
async fn escrowed_deposits_are_not_the_holders_value() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let whale = fx.user(&mut chain, &[1_000_000_000_000, 0, 0]).await.unwrap();
    let before = fx.report(&mut chain).await.unwrap();
    fx.request_deposit(&mut chain, &whale, 0, 1_000_000_000_000, 1).await.unwrap();
    let during = fx.report(&mut chain).await.unwrap();
    assert_eq!(during.nav, before.nav, "the escrow is outside the vault's value");
    // A holder leaving meanwhile gets the pro-rata part of the holders' SOL, not of the escrow.
    let shares = chain.token_amount(&seed.shares).await;
    let supply = fx.share_supply(&mut chain).await;
    let sol0 = chain.token_amount(&seed.tokens[0]).await;
    fx.withdraw(&mut chain, &seed, shares, vec![0, 0, 0]).await.unwrap();
    let got = chain.token_amount(&seed.tokens[0]).await - sol0;
    assert_eq!(got, (shares as u128 * before.holdings[0] as u128 / supply as u128) as u64);
}

#[tokio::test]
async fn settlement_pays_only_the_named_share_account() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    fx.request_deposit(&mut chain, &user, 0, 1_000_000_000, 1).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(&mut chain).await;
    let vault = fx.state(&mut chain).await;
    let mut request = fx.deposit_request(&mut chain, &user.keypair.pubkey()).await.unwrap();
    request.shares_destination = seed.shares;
    let payer = chain.payer().pubkey();
    let ix = client::settle_deposit(&payer, &fx.key, &vault, &request);
    assert_ballast_err(chain.send(&[ix], &[]).await, BallastError::SharesDestinationMismatch);
    fx.settle_deposit(&mut chain, &user.keypair.pubkey()).await.unwrap();
    assert!(chain.token_amount(&user.shares).await > 0);
}

#[tokio::test]
async fn a_prefunded_request_address_does_not_block_the_request() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    let payer = chain.payer().pubkey();
    let target = pda::deposit_request(&fx.key, &user.keypair.pubkey());
    let fund = anchor_lang::solana_program::system_instruction::transfer(&payer, &target, 1_000_000);
    chain.send(&[fund], &[]).await.unwrap();
    fx.deposit_single(&mut chain, &user, 0, 1_000_000_000, 1).await.unwrap();
    assert!(chain.token_amount(&user.shares).await > 0);
}

#[tokio::test]
async fn deposit_terms_are_bounded() {
    let mut chain = Chain::start().await;
    let payer = chain.payer().pubkey();
    // A delay of 5 s would let a reading valid at request time (up to 5 s ahead of the clock) settle it.
    let bad: [fn(&mut VaultParams); 5] = [
        |p| p.deposit_fee_bps = 0,
        |p| p.deposit_delay_secs = 5,
        |p| p.deposit_window_secs = 5,
        |p| p.trade_cost_bps = 0,
        |p| p.trade_cost_bps = 1_001,
    ];
    for (id, f) in bad.iter().enumerate() {
        let mut params = fixture::default_params();
        f(&mut params);
        let args = ballast::instructions::InitializeVaultArgs {
            vault_id: id as u64,
            governance: payer,
            guardian: Default::default(),
            params,
        };
        assert_ballast_err(
            chain.send(&[client::initialize_vault(&payer, args)], &[]).await,
            BallastError::DepositTermsOutOfBounds,
        );
    }
}
