//! Every oracle check, exercised through `deposit_single` with accounts in the real PriceUpdateV2 layout.

use anchor_lang::prelude::Pubkey;
use ballast::errors::BallastError;
use ballast::instructions::RequestDepositArgs;
use ballast_client as client;
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{User, VaultFixture};
use ballast_harness::pyth::{self, PriceSpec};
use ballast_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_signer::Signer;

async fn setup_user() -> (Chain, VaultFixture, User) {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    (chain, fx, user)
}

/// Writes a price for asset `i` built from the fixture's feed, then lets `f` alter it.
async fn set(chain: &mut Chain, fx: &VaultFixture, i: usize, f: impl FnOnce(&mut PriceSpec)) {
    let now = chain.clock().await.unix_timestamp;
    let a = &fx.assets[i];
    let mut spec = PriceSpec::new(a.feed_id, a.spec.price, a.spec.expo, now);
    f(&mut spec);
    chain.set_price(&a.oracle, &spec).await;
}

async fn deposit(
    chain: &mut Chain,
    fx: &VaultFixture,
    user: &User,
) -> Result<(), solana_program_test::BanksClientError> {
    fx.deposit_single(chain, user, 2, 1_000_000_000, 1).await
}

#[tokio::test]
async fn fresh_prices_accepted() {
    let (mut chain, fx, user) = setup_user().await;
    deposit(&mut chain, &fx, &user).await.unwrap();
}

#[tokio::test]
async fn stale_price_refused() {
    let (mut chain, fx, user) = setup_user().await;
    // max age is 60 s: the prices published at setup are 61 s old after this.
    chain.advance_time(61).await;
    fx.refresh_prices(&mut chain).await;
    let now = chain.clock().await.unix_timestamp;
    set(&mut chain, &fx, 0, |s| s.publish_time = now - 61).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleStale);
    // Exactly 60 s old passes.
    set(&mut chain, &fx, 0, |s| s.publish_time = now - 60).await;
    deposit(&mut chain, &fx, &user).await.unwrap();
}

#[tokio::test]
async fn wrong_feed_refused() {
    let (mut chain, fx, user) = setup_user().await;
    set(&mut chain, &fx, 1, |s| s.feed_id = pyth::feed_id("ETH")).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleWrongFeed);
}

#[tokio::test]
async fn non_positive_price_refused() {
    let (mut chain, fx, user) = setup_user().await;
    set(&mut chain, &fx, 0, |s| s.price = -150_00000000).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleNonPositivePrice);
    set(&mut chain, &fx, 0, |s| s.price = 0).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleNonPositivePrice);
}

#[tokio::test]
async fn wide_confidence_refused() {
    let (mut chain, fx, user) = setup_user().await;
    // cap is 200 bps: conf = 2.01 % of price fails, 2 % passes.
    set(&mut chain, &fx, 2, |s| s.conf = 2_010_000).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleConfidenceTooWide);
    set(&mut chain, &fx, 2, |s| s.conf = 2_000_000).await;
    deposit(&mut chain, &fx, &user).await.unwrap();
}

#[tokio::test]
async fn publish_time_going_back_refused() {
    let (mut chain, fx, user) = setup_user().await;
    deposit(&mut chain, &fx, &user).await.unwrap();
    let used = fx.state(&mut chain).await.assets[0].last_publish_time;
    set(&mut chain, &fx, 0, |s| s.publish_time = used - 1).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OraclePublishTimeWentBack);
    // The same publish time again is fine.
    set(&mut chain, &fx, 0, |s| s.publish_time = used).await;
    deposit(&mut chain, &fx, &user).await.unwrap();
}

#[tokio::test]
async fn partially_verified_update_refused() {
    let (mut chain, fx, user) = setup_user().await;
    set(&mut chain, &fx, 0, |s| s.verification = VerificationLevel::Partial { num_signatures: 12 }).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleNotFullyVerified);
}

#[tokio::test]
async fn exponent_out_of_range_refused() {
    let (mut chain, fx, user) = setup_user().await;
    set(&mut chain, &fx, 0, |s| s.expo = -19).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleExponentOutOfRange);
}

#[tokio::test]
async fn oracle_owned_by_another_program_refused() {
    let (mut chain, fx, user) = setup_user().await;
    let now = chain.clock().await.unix_timestamp;
    let a = &fx.assets[0];
    let data = pyth::encode(&PriceSpec::new(a.feed_id, a.spec.price, a.spec.expo, now));
    chain.set_raw_account(&a.oracle, data, Pubkey::new_unique()).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleWrongOwner);
}

#[tokio::test]
async fn garbage_oracle_data_refused() {
    let (mut chain, fx, user) = setup_user().await;
    chain.set_raw_account(&fx.assets[0].oracle, vec![7; 134], pyth::RECEIVER_PROGRAM_ID).await;
    assert_ballast_err(deposit(&mut chain, &fx, &user).await, BallastError::OracleInvalidData);
}

#[tokio::test]
async fn unpinned_oracle_account_refused() {
    let (mut chain, fx, user) = setup_user().await;
    // A perfectly valid price account for the same feed, but not the pinned address.
    let impostor = Pubkey::new_unique();
    let now = chain.clock().await.unix_timestamp;
    let a = &fx.assets[0];
    chain.set_price(&impostor, &PriceSpec::new(a.feed_id, a.spec.price * 2, a.spec.expo, now)).await;
    let vault = fx.state(&mut chain).await;
    let mut ix = client::request_deposit(
        &user.keypair.pubkey(),
        &fx.key,
        &vault,
        &user.shares,
        &user.tokens[2],
        RequestDepositArgs { asset_index: 2, amount: 1_000_000_000, min_shares_out: 1 },
    );
    ix.accounts[10].pubkey = impostor; // first remaining account: asset 0's oracle
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::OracleAccountMismatch);
}
