//! Single-asset withdrawals (exits): request → settle (quoted after the request, at the worse of two quotes,
//! minus the fee and the buy-back the payout forces) → or cancel after expiry. The attacks on them, each with
//! its bound: latency arbitrage, a settlement in the request's transaction or on an earlier reading,
//! deposit→exit cycles in two assets, a request that empties a reserve, pauses, a frozen payout asset,
//! 1-unit payouts, two requests by one owner, shares sent to the escrow, a redirected payout. The
//! one-transaction alternative (in-kind withdrawal, swaps, one overall minimum) is tested in [`composed`].

mod composed;

use anchor_spl::token::spl_token;
use ballast::errors::BallastError;
use ballast::events::WithdrawSettledEvent;
use ballast::state::{pause, WithdrawRequest};
use ballast_client::{self as client, pda};
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{self, User, VaultFixture};
use ballast_tests::*;
use solana_signer::Signer;

/// The seeded $10 000 vault (SOL 40 %, BTC 30 %, USDC 30 %) and a second holder who deposited $1 000 in kind.
async fn vault_with_holder() -> (Chain, VaultFixture, User, User) {
    let (mut chain, fx, seed) = setup_seeded().await;
    let holder = fx.user(&mut chain, &[10_000_000_000, 10_000_000, 1_000_000_000]).await.unwrap();
    fx.deposit(&mut chain, &holder, vec![2_666_666_667, 500_000, 300_000_000], 1).await.unwrap();
    (chain, fx, seed, holder)
}

/// USD value of `amount` base units of asset `i` at its mid price now.
async fn usd(chain: &mut Chain, fx: &VaultFixture, i: usize, amount: u64) -> f64 {
    amount as f64 * fx.unit_price(chain, i).await
}

/// Lets the settlement delay pass and publishes fresh readings.
async fn after_delay(chain: &mut Chain, fx: &VaultFixture) {
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
    fx.refresh_prices(chain).await;
}

#[tokio::test]
async fn a_holder_leaves_entirely_in_usdc_paying_the_fee_and_the_buy_back() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    let shares = chain.token_amount(&holder.shares).await;
    let value = share_value(&mut chain, &fx, shares).await;
    assert!((value - 1_000.0).abs() < 1.0, "the holder owns ${value:.2}");
    let usdc0 = chain.token_amount(&holder.tokens[2]).await;
    let supply = fx.share_supply(&mut chain).await;
    fx.request_withdraw(&mut chain, &holder, 2, shares, 1).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, 0, "the shares are escrowed");
    assert_eq!(fx.share_supply(&mut chain).await, supply, "and still outstanding");
    after_delay(&mut chain, &fx).await;
    let ev = fx.settle_withdraw_reported(&mut chain, &owner).await.unwrap();
    let got = chain.token_amount(&holder.tokens[2]).await - usdc0;
    assert_eq!(got, ev.amount_out);
    assert_eq!(ev.amount_received, ev.amount_out);
    // $11 000 vault, USDC $3 300 (30 %). Paying $1 000 leaves $2 300 of $10 000 against a $3 000 target: the
    // vault must buy back $700, charged 105 bps = $7.35; the fee is 10 bps of $1 000 = $1.
    assert!((ev.traded_value as f64 / 1e6 - 700.0).abs() < 1.0, "traded ${}", ev.traded_value as f64 / 1e6);
    assert!((ev.trade_charge_value as f64 / 1e6 - 7.35).abs() < 0.02, "charge {}", ev.trade_charge_value);
    assert!((ev.fee_value as f64 / 1e6 - 1.0).abs() < 0.01, "fee {}", ev.fee_value);
    // Received: $1 000 − $1 − $7.35, less the 0.05 % confidence on the vault (valued low) and on USDC (paid
    // high): about 990.65 USDC.
    let received = got as f64 / 1e6;
    let expected = (value - 1.0 - 7.35) / 1.0005 * (1.0 - 0.0005);
    assert!((received - expected).abs() < 0.05, "received {received:.4} USDC, expected {expected:.4}");
    assert!(fx.withdraw_request(&mut chain, &owner).await.is_none(), "request closed");
    let escrow = pda::withdraw_escrow(&pda::withdraw_request(&fx.key, &owner));
    assert!(chain.account(&escrow).await.is_none(), "escrow closed, its rent back to the owner");
    // The payout pulled USDC out of its band: the auction opened for the buy-back the leaver paid for.
    assert_ne!(fx.state(&mut chain).await.auction_started_at, 0);
}

#[tokio::test]
async fn an_exit_in_an_overweight_asset_pays_no_trade_charge_and_helps_the_vault() {
    let (mut chain, fx, seed) = setup_seeded().await;
    // SOL +10 %: $4 400 of $10 400 (42.3 %, inside its 5 % band). Taking $400 of SOL brings it to target.
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * 110 / 100).await;
    let before = fx.report(&mut chain).await.unwrap();
    let shares = (400.0 / share_value(&mut chain, &fx, 1_000_000).await * 1_000_000.0) as u64;
    fx.request_withdraw(&mut chain, &seed, 0, shares, 1).await.unwrap();
    after_delay(&mut chain, &fx).await;
    let ev = fx.settle_withdraw_reported(&mut chain, &seed.keypair.pubkey()).await.unwrap();
    assert_eq!((ev.traded_value, ev.trade_charge_value), (0, 0));
    let after = fx.report(&mut chain).await.unwrap();
    assert!(
        after.drift_bps[0].abs() < before.drift_bps[0].abs() / 10,
        "{:?} → {:?}",
        before.drift_bps,
        after.drift_bps
    );
    assert_eq!(fx.state(&mut chain).await.auction_started_at, 0, "nothing to trade: no auction");
}

/// The leaver sees SOL's next price (`pct` % one second after the request) and asks for SOL. Returns (value
/// of the SOL received, value of the shares), both at the prices after the move.
async fn exit_latency_attack(pct: i64) -> (f64, f64) {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let shares = chain.token_amount(&holder.shares).await;
    let sol0 = chain.token_amount(&holder.tokens[0]).await;
    fx.request_withdraw(&mut chain, &holder, 0, shares, 1).await.unwrap();
    chain.advance_time(1).await;
    fx.refresh_prices(&mut chain).await;
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * (100 + pct) / 100).await;
    assert_ballast_err(
        fx.settle_withdraw(&mut chain, &holder.keypair.pubkey()).await,
        BallastError::WithdrawRequestTooEarly,
    );
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64 - 1).await;
    fx.refresh_prices(&mut chain).await;
    let value_after = share_value(&mut chain, &fx, shares).await;
    fx.settle_withdraw(&mut chain, &holder.keypair.pubkey()).await.unwrap();
    let got = chain.token_amount(&holder.tokens[0]).await - sol0;
    (usd(&mut chain, &fx, 0, got).await, value_after)
}

#[tokio::test]
async fn knowing_the_next_price_does_not_pay_on_the_way_out() {
    for pct in [-5, 5] {
        let (out, value) = exit_latency_attack(pct).await;
        assert!(out <= value, "SOL {pct:+}%: ${value:.2} of shares left as ${out:.2} of SOL");
    }
}

#[tokio::test]
async fn an_exit_never_settles_in_its_own_transaction_or_on_a_reading_from_before_its_delay() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    let vault = fx.state(&mut chain).await;
    let args = ballast::instructions::RequestWithdrawArgs { asset_index: 2, shares: 1_000_000, min_amount_out: 1 };
    let request = client::request_withdraw(&owner, &fx.key, &vault, &holder.shares, &holder.tokens[2], args);
    let as_settled = WithdrawRequest {
        vault: fx.key,
        owner,
        bump: 0,
        escrow_bump: 0,
        asset_index: 2,
        shares: 1_000_000,
        min_amount_out: 1,
        destination: holder.tokens[2],
        requested_at: 0,
        nav_at_request: 0,
        supply_at_request: 0,
        asset_value_at_request: 0,
        asset_amount_at_request: 0,
        fee_bps: 0,
        trade_cost_bps: 0,
        settle_from: 0,
        expires_at: 0,
    };
    let payer = chain.payer().pubkey();
    let settle = client::settle_withdraw(&payer, &fx.key, &vault, &as_settled);
    assert_ballast_err(chain.send(&[request, settle], &[&holder.keypair]).await, BallastError::WithdrawRequestTooEarly);
    // Requested; a reading published one second before the delay ends is fresh but too early.
    fx.request_withdraw(&mut chain, &holder, 2, 1_000_000, 1).await.unwrap();
    chain.advance_time(fixture::default_params().deposit_delay_secs as i64 - 1).await;
    fx.refresh_prices(&mut chain).await;
    chain.advance_time(1).await;
    assert_ballast_err(fx.settle_withdraw(&mut chain, &owner).await, BallastError::WithdrawRequestTooEarly);
    fx.refresh_prices(&mut chain).await;
    fx.settle_withdraw(&mut chain, &owner).await.unwrap();
}

/// The shares the program log says fit now ("largest payout now: … (about N shares …").
fn largest_shares(logs: &[String]) -> u64 {
    let line = logs
        .iter()
        .find(|l| l.contains("largest payout now"))
        .unwrap_or_else(|| panic!("the largest payout is logged: {logs:#?}"));
    line.split("(about ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).expect("shares")
}

#[tokio::test]
async fn a_request_that_would_empty_a_reserve_is_refused_with_the_largest_payout_possible() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let owner = seed.keypair.pubkey();
    let all = chain.token_amount(&seed.shares).await;
    let vault = fx.state(&mut chain).await;
    let args = |shares| ballast::instructions::RequestWithdrawArgs { asset_index: 2, shares, min_amount_out: 1 };
    let ix = client::request_withdraw(&owner, &fx.key, &vault, &seed.shares, &seed.tokens[2], args(all));
    let (result, logs) = chain.send_logged(&[ix], &[&seed.keypair]).await;
    assert_ballast_err(result, BallastError::WithdrawalTooLarge);
    // $10 000, USDC $3 000 at a 30 % target, max trade 25 %: paying x forces 0.7x of buy-back against
    // 25 % of (10 000 − x): x ≤ $2 631.58 (the
    // log names it in shares).
    let fits = largest_shares(&logs);
    let worth = share_value(&mut chain, &fx, fits).await;
    assert!((worth - 2_631.6).abs() < 5.0, "largest payout ${worth:.2}");
    fx.withdraw_single(&mut chain, &seed, 2, fits, 1).await.unwrap();
    assert!(chain.token_amount(&seed.tokens[2]).await > 2_550_000_000);
}

#[tokio::test]
async fn requests_that_fit_alone_but_not_together_settle_first_come_and_the_other_cancels() {
    let (mut chain, fx, seed, holder) = vault_with_holder().await;
    // Both ask for USDC: the seed for $2 000, the holder for their $1 000. Each fits alone.
    let seed_shares = (2_000.0 / share_value(&mut chain, &fx, 1_000_000).await * 1_000_000.0) as u64;
    let holder_shares = chain.token_amount(&holder.shares).await;
    fx.request_withdraw(&mut chain, &seed, 2, seed_shares, 1).await.unwrap();
    fx.request_withdraw(&mut chain, &holder, 2, holder_shares, 1).await.unwrap();
    after_delay(&mut chain, &fx).await;
    fx.settle_withdraw(&mut chain, &seed.keypair.pubkey()).await.unwrap();
    // USDC is now $1 300 of $9 000: the holder's $1 000 would force more than one max-size trade.
    assert_ballast_err(
        fx.settle_withdraw(&mut chain, &holder.keypair.pubkey()).await,
        BallastError::WithdrawalTooLarge,
    );
    // In kind still pays everyone meanwhile.
    let rest = chain.token_amount(&seed.shares).await;
    fx.withdraw(&mut chain, &seed, rest / 2, vec![0, 0, 0]).await.unwrap();
    // After expiry the holder's shares come back, all of them.
    assert_ballast_err(fx.cancel_withdraw(&mut chain, &holder).await, BallastError::WithdrawRequestNotExpired);
    chain.advance_time(fixture::default_params().deposit_window_secs as i64 + 1).await;
    fx.refresh_prices(&mut chain).await;
    assert_ballast_err(
        fx.settle_withdraw(&mut chain, &holder.keypair.pubkey()).await,
        BallastError::WithdrawRequestExpired,
    );
    fx.cancel_withdraw(&mut chain, &holder).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, holder_shares);
}

#[tokio::test]
async fn exits_stay_open_while_deposits_are_paused_and_only_their_own_flag_stops_them() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let gov = fx.governance.pubkey();
    let owner = holder.keypair.pubkey();
    chain
        .send(&[client::set_pause(&gov, &fx.key, pause::DEPOSITS | pause::REBALANCE)], &[&fx.governance])
        .await
        .unwrap();
    fx.withdraw_single(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    chain.send(&[client::set_pause(&gov, &fx.key, pause::EXITS)], &[&fx.governance]).await.unwrap();
    after_delay(&mut chain, &fx).await;
    assert_ballast_err(fx.settle_withdraw(&mut chain, &owner).await, BallastError::ExitsPaused);
    chain.advance_time(fixture::default_params().deposit_window_secs as i64 + 1).await;
    let shares = chain.token_amount(&holder.shares).await;
    fx.cancel_withdraw(&mut chain, &holder).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, shares + 100_000_000);
    fx.refresh_prices(&mut chain).await;
    assert_ballast_err(fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await, BallastError::ExitsPaused);
    // In kind is never paused.
    fx.withdraw(&mut chain, &holder, 100_000_000, vec![0, 0, 0]).await.unwrap();
}

#[tokio::test]
async fn a_frozen_payout_asset_fails_settlement_and_the_shares_come_back() {
    let mut chain = Chain::start().await;
    let mut specs = three_assets();
    specs[2] = specs[2].clone().with_freeze_authority();
    let fx = fixture::create_vault(&mut chain, &specs, fixture::default_params()).await.unwrap();
    let seed = seed_at_targets(&mut chain, &fx).await;
    let shares = chain.token_amount(&seed.shares).await;
    fx.request_withdraw(&mut chain, &seed, 2, 500_000_000, 1).await.unwrap();
    let payer = chain.payer().pubkey();
    let (reserve, mint) = (pda::reserve(&fx.key, &fx.assets[2].mint), fx.assets[2].mint);
    let freeze = spl_token::instruction::freeze_account(&spl_token::ID, &reserve, &mint, &payer, &[]).unwrap();
    chain.send(&[freeze], &[]).await.unwrap();
    after_delay(&mut chain, &fx).await;
    let err = fx.settle_withdraw(&mut chain, &seed.keypair.pubkey()).await.unwrap_err();
    assert_eq!(ballast_harness::chain::custom_error(&err), Some(spl_token::error::TokenError::AccountFrozen as u32));
    chain.advance_time(fixture::default_params().deposit_window_secs as i64 + 1).await;
    fx.cancel_withdraw(&mut chain, &seed).await.unwrap();
    assert_eq!(chain.token_amount(&seed.shares).await, shares);
}

#[tokio::test]
async fn tiny_exits_round_to_the_vault() {
    let (mut chain, fx, seed) = setup_seeded().await;
    // One share unit ($0.000001) pays no USDC unit after the fee: refused, not paid as dust.
    assert_ballast_err(fx.request_withdraw(&mut chain, &seed, 2, 1, 0).await, BallastError::ZeroWithdrawal);
    // 2 000 share units (about $0.002): fewer USDC units than the shares are worth.
    let usdc0 = chain.token_amount(&seed.tokens[2]).await;
    fx.withdraw_single(&mut chain, &seed, 2, 2_000, 1).await.unwrap();
    let got = chain.token_amount(&seed.tokens[2]).await - usdc0;
    let worth = share_value(&mut chain, &fx, 2_000).await;
    assert!(got > 0 && (got as f64 / 1e6) < worth, "{got} units for ${worth:.6}");
}

#[tokio::test]
async fn one_owner_holds_one_exit_at_a_time_beside_a_deposit_request() {
    let (mut chain, fx, seed) = setup_seeded().await;
    fx.request_withdraw(&mut chain, &seed, 2, 1_000_000, 1).await.unwrap();
    assert_ballast_err(
        fx.request_withdraw(&mut chain, &seed, 0, 1_000_000, 1).await,
        BallastError::WithdrawRequestAlreadyOpen,
    );
    fx.request_deposit(&mut chain, &seed, 2, 1_000_000, 1).await.unwrap();
    after_delay(&mut chain, &fx).await;
    fx.settle_withdraw(&mut chain, &seed.keypair.pubkey()).await.unwrap();
    fx.settle_deposit(&mut chain, &seed.keypair.pubkey()).await.unwrap();
}

#[tokio::test]
async fn shares_sent_to_the_escrow_cannot_block_settlement_or_cancel() {
    let (mut chain, fx, seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    // Someone sends 5 share units to the escrow (a token account cannot be closed while it holds any).
    let escrow = pda::withdraw_escrow(&pda::withdraw_request(&fx.key, &owner));
    let gift = spl_token::instruction::transfer(&spl_token::ID, &seed.shares, &escrow, &seed.keypair.pubkey(), &[], 5)
        .unwrap();
    fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    chain.send(std::slice::from_ref(&gift), &[&seed.keypair]).await.unwrap();
    let supply = fx.share_supply(&mut chain).await;
    after_delay(&mut chain, &fx).await;
    fx.settle_withdraw(&mut chain, &owner).await.unwrap();
    assert_eq!(fx.share_supply(&mut chain).await, supply - 100_000_005, "the gift is burned with the request");
    // And a cancel returns everything in the escrow.
    let shares = chain.token_amount(&holder.shares).await;
    fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    chain.send(&[gift], &[&seed.keypair]).await.unwrap();
    chain
        .advance_time(
            (fixture::default_params().deposit_delay_secs + fixture::default_params().deposit_window_secs + 1) as i64,
        )
        .await;
    fx.cancel_withdraw(&mut chain, &holder).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, shares + 5);
}

#[tokio::test]
async fn a_settler_cannot_redirect_the_payout() {
    let (mut chain, fx, seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    after_delay(&mut chain, &fx).await;
    let vault = fx.state(&mut chain).await;
    let mut request = fx.withdraw_request(&mut chain, &owner).await.unwrap();
    request.destination = seed.tokens[2];
    let payer = chain.payer().pubkey();
    let ix = client::settle_withdraw(&payer, &fx.key, &vault, &request);
    assert_ballast_err(chain.send(&[ix], &[]).await, BallastError::PayoutDestinationMismatch);
    fx.settle_withdraw(&mut chain, &owner).await.unwrap();
}

/// Deposits $1 000 of USDC and leaves with the shares in SOL, both single-asset: the vault trades for the
/// cycler only at the cycler's cost. Returns (cycler's loss, in bps of the $1 000; change of the other holder's
/// share value, in bps).
async fn deposit_exit_cycle() -> (f64, f64) {
    let (mut chain, fx, seed) = setup_seeded().await;
    let cycler = fx.user(&mut chain, &[0, 0, 1_000_000_000]).await.unwrap();
    let seed_shares = chain.token_amount(&seed.shares).await;
    let seed_before = share_value(&mut chain, &fx, seed_shares).await;
    fx.deposit_single(&mut chain, &cycler, 2, 1_000_000_000, 1).await.unwrap();
    let shares = chain.token_amount(&cycler.shares).await;
    fx.withdraw_single(&mut chain, &cycler, 0, shares, 1).await.unwrap();
    let got = chain.token_amount(&cycler.tokens[0]).await;
    let out = usd(&mut chain, &fx, 0, got).await;
    let seed_after = share_value(&mut chain, &fx, seed_shares).await;
    ((1_000.0 - out) / 1_000.0 * 1e4, (seed_after - seed_before) / seed_before * 1e4)
}

#[tokio::test]
async fn a_deposit_exit_cycle_in_two_assets_costs_the_cycler_and_never_the_holders() {
    let (loss_bps, holders_bps) = deposit_exit_cycle().await;
    // In: 10 bps fee + 105 bps on the $700 overshoot (73.5 bps of the deposit); out: 10 bps + 105 bps on the
    // SOL buy-back (about $600 of it: 63 bps); plus the confidence haircuts: about 160 bps in all.
    assert!((140.0..=185.0).contains(&loss_bps), "the cycle cost {loss_bps:.1} bps");
    assert!(holders_bps >= 0.0, "the other holders lost {holders_bps:.2} bps");
}

#[tokio::test]
async fn settlement_reports_what_it_paid_and_kept() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    fx.request_withdraw(&mut chain, &holder, 1, 500_000_000, 1).await.unwrap();
    after_delay(&mut chain, &fx).await;
    let ev: WithdrawSettledEvent = fx.settle_withdraw_reported(&mut chain, &holder.keypair.pubkey()).await.unwrap();
    assert_eq!(ev.shares_burned, 500_000_000);
    assert_eq!(ev.asset_index, 1);
    assert!(ev.gross_at_settlement >= ev.amount_out && ev.gross_at_request >= ev.amount_out);
    assert!(ev.value_used > ev.fee_value + ev.trade_charge_value);
}

#[tokio::test]
async fn a_composed_exit_lands_whole_or_not_at_all_against_its_one_minimum() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    let vault = fx.state(&mut chain).await;
    let shares = chain.token_amount(&holder.shares).await;
    let usdc0 = chain.token_amount(&holder.tokens[2]).await;
    let withdraw = client::withdraw(
        &owner,
        &fx.key,
        &vault,
        &holder.shares,
        &holder.tokens,
        ballast::instructions::WithdrawArgs { shares, min_amounts_out: vec![0, 0, 0], skip_mask: 0 },
    );
    // The holder's USDC slice is about 300 USDC: asking for 301 more fails the whole transaction.
    let too_much = client::assert_min_balance(&holder.tokens[2], usdc0 + 301_000_000);
    assert_ballast_err(
        chain.send(&[withdraw.clone(), too_much], &[&holder.keypair]).await,
        BallastError::BalanceBelowMinimum,
    );
    assert_eq!(chain.token_amount(&holder.shares).await, shares, "nothing happened");
    let enough = client::assert_min_balance(&holder.tokens[2], usdc0 + 299_000_000);
    chain.send(&[withdraw, enough], &[&holder.keypair]).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, 0);
}

#[tokio::test]
async fn the_payout_goes_to_the_owners_token_account_which_nobody_can_close_to_block_a_settlement() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    // Another token account of USDC the holder owns (not the associated one): refused at request.
    let other = chain.funded_keypair(1_000_000_000).await.unwrap();
    let stray = chain.create_ata(&other.pubkey(), &fx.assets[2].mint, fx.assets[2].spec.program).await.unwrap();
    let vault = fx.state(&mut chain).await;
    let args = ballast::instructions::RequestWithdrawArgs { asset_index: 2, shares: 100_000_000, min_amount_out: 1 };
    let ix = client::request_withdraw(&owner, &fx.key, &vault, &holder.shares, &stray, args.clone());
    assert_ballast_err(chain.send(&[ix], &[&holder.keypair]).await, BallastError::PayoutNotToOwnersTokenAccount);
    // Requested to the associated account; then the owner empties and closes it to hold the settlement back.
    fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    let usdc = chain.token_amount(&holder.tokens[2]).await;
    let empty = spl_token::instruction::transfer(&spl_token::ID, &holder.tokens[2], &stray, &owner, &[], usdc).unwrap();
    let close = spl_token::instruction::close_account(&spl_token::ID, &holder.tokens[2], &owner, &owner, &[]).unwrap();
    chain.send(&[empty, close], &[&holder.keypair]).await.unwrap();
    assert!(chain.account(&holder.tokens[2]).await.is_none(), "closed");
    // Any settler re-creates it in the settlement's transaction and pays.
    after_delay(&mut chain, &fx).await;
    let ev = fx.settle_withdraw_reported(&mut chain, &owner).await.unwrap();
    assert_eq!(chain.token_amount(&holder.tokens[2]).await, ev.amount_out);
    assert!(ev.amount_out > 90_000_000);
}

/// The Anchor constraint error code a refused transaction carries.
fn anchor_code(err: solana_program_test::BanksClientError) -> Option<u32> {
    ballast_harness::chain::custom_error(&err)
}

#[tokio::test]
async fn a_request_is_refused_by_name_for_what_could_never_settle() {
    let (mut chain, fx, seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    // No shares.
    assert_ballast_err(fx.request_withdraw(&mut chain, &holder, 2, 0, 1).await, BallastError::ZeroAmount);
    // A minimum even the request-time quote (no trade charge) cannot pay: ~$100 of shares for 200 USDC.
    assert_ballast_err(
        fx.request_withdraw(&mut chain, &holder, 2, 100_000_000, 200_000_000).await,
        BallastError::AmountBelowMinimum,
    );
    // An asset the vault does not have (the index patched in the instruction's data).
    let vault = fx.state(&mut chain).await;
    let args = ballast::instructions::RequestWithdrawArgs { asset_index: 2, shares: 100_000_000, min_amount_out: 1 };
    let mut ix = client::request_withdraw(&owner, &fx.key, &vault, &holder.shares, &holder.tokens[2], args.clone());
    ix.data[8] = 9;
    assert_ballast_err(chain.send(&[ix], &[&holder.keypair]).await, BallastError::AssetIndexOutOfRange);
    // Someone else's shares: the share account must be the signer's.
    let steal = client::request_withdraw(&owner, &fx.key, &vault, &seed.shares, &holder.tokens[2], args);
    let err = chain.send(&[steal], &[&holder.keypair]).await.unwrap_err();
    assert_eq!(anchor_code(err), Some(anchor_lang::error::ErrorCode::ConstraintTokenOwner as u32));
}

#[tokio::test]
async fn a_settlement_below_the_minimum_is_refused_and_only_the_owner_cancels() {
    let (mut chain, fx, seed, holder) = vault_with_holder().await;
    let owner = holder.keypair.pubkey();
    // $500 of shares in SOL, at least 99 % of the request-time quote's SOL; SOL then rises 5 %.
    let shares = (500.0 / share_value(&mut chain, &fx, 1_000_000).await * 1_000_000.0) as u64;
    let sol = (500.0 / fx.unit_price(&mut chain, 0).await * 0.99) as u64;
    let held = chain.token_amount(&holder.shares).await;
    fx.request_withdraw(&mut chain, &holder, 0, shares, sol).await.unwrap();
    let p = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p * 105 / 100).await;
    after_delay(&mut chain, &fx).await;
    assert_ballast_err(fx.settle_withdraw(&mut chain, &owner).await, BallastError::AmountBelowMinimum);
    // After expiry only the owner may take the shares back.
    chain.advance_time(fixture::default_params().deposit_window_secs as i64 + 1).await;
    let vault = fx.state(&mut chain).await;
    let mut thief = client::cancel_withdraw(&seed.keypair.pubkey(), &fx.key, &vault, &seed.shares);
    thief.accounts[2].pubkey = pda::withdraw_request(&fx.key, &owner);
    thief.accounts[4].pubkey = pda::withdraw_escrow(&pda::withdraw_request(&fx.key, &owner));
    let err = chain.send(&[thief], &[&seed.keypair]).await.unwrap_err();
    assert_eq!(anchor_code(err), Some(anchor_lang::error::ErrorCode::ConstraintHasOne as u32));
    fx.cancel_withdraw(&mut chain, &holder).await.unwrap();
    assert_eq!(chain.token_amount(&holder.shares).await, held, "every share back");
}

#[tokio::test]
async fn prefunded_request_and_escrow_addresses_do_not_block_an_exit() {
    let (mut chain, fx, _seed, holder) = vault_with_holder().await;
    let payer = chain.payer().pubkey();
    let request = pda::withdraw_request(&fx.key, &holder.keypair.pubkey());
    for target in [request, pda::withdraw_escrow(&request)] {
        let fund = anchor_lang::solana_program::system_instruction::transfer(&payer, &target, 1_000_000);
        chain.send(&[fund], &[]).await.unwrap();
    }
    fx.withdraw_single(&mut chain, &holder, 2, 100_000_000, 1).await.unwrap();
    assert!(fx.withdraw_request(&mut chain, &holder.keypair.pubkey()).await.is_none());
}
