//! One asset never blocks the others: frozen reserves are skipped into a claim, closed mints that pay
//! nothing are not read, and a mint with a freeze authority is listed only with an acknowledgement.

use anchor_spl::token::spl_token;
use ballast::errors::BallastError;
use ballast::instructions::WithdrawArgs;
use ballast_client::{self as client, pda};
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{self, AssetSpec, User, VaultFixture};
use ballast_tests::*;
use solana_signer::Signer;

/// SOL, BTC and a USDC whose mint has a freeze authority (the chain payer), seeded at target weights by
/// one holder, plus a second holder who deposited in kind.
async fn frozen_usdc_vault() -> (Chain, VaultFixture, User, User) {
    let mut chain = Chain::start().await;
    let mut specs = three_assets();
    specs[2] = specs[2].clone().with_freeze_authority();
    let fx = fixture::create_vault(&mut chain, &specs, fixture::default_params()).await.unwrap();
    let seed = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    for (i, amount) in [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)] {
        fx.deposit_single(&mut chain, &seed, i, amount, 1).await.unwrap();
    }
    fx.let_charges_vest(&mut chain).await;
    let other = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    fx.deposit(&mut chain, &other, vec![100_000_000_000, 10_000_000, 10_000_000_000], 1).await.unwrap();
    (chain, fx, seed, other)
}

#[tokio::test]
async fn a_freeze_authority_must_be_acknowledged_to_list_the_mint() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 0, fixture::default_params()).await.unwrap();
    let spec = AssetSpec::new("USDC", 6, 1_00000000, -8, 5_000, 300).with_freeze_authority();
    let mut assets = fixture::create_assets(&mut chain, &[spec]).await.unwrap();
    let mut unacknowledged = assets.remove(0);
    unacknowledged.spec.freeze_authority = false; // same mint, listed without the acknowledgement
    assert_ballast_err(
        fx.add_asset(&mut chain, unacknowledged.clone()).await,
        BallastError::FreezeAuthorityNotAcknowledged,
    );
    unacknowledged.spec.freeze_authority = true;
    fx.add_asset(&mut chain, unacknowledged).await.unwrap();
    let vault = fx.state(&mut chain).await;
    assert_eq!(vault.assets[0].flags & ballast::state::asset_flags::FREEZE_AUTHORITY_ACKNOWLEDGED, 1);
}

#[tokio::test]
async fn a_frozen_reserve_is_skipped_into_a_claim_and_redeemed_after_the_thaw() {
    let (mut chain, fx, seed, other) = frozen_usdc_vault().await;
    fx.set_frozen(&mut chain, 2, true).await.unwrap();
    let shares = chain.token_amount(&seed.shares).await;
    let before = fx.holdings(&mut chain).await;
    let supply = fx.share_supply(&mut chain).await;

    // All-or-nothing fails on the frozen reserve (the token program refuses: AccountFrozen = 17) …
    let err = fx.withdraw(&mut chain, &seed, shares, vec![0, 0, 0]).await.unwrap_err();
    assert_eq!(ballast_harness::chain::custom_error(&err), Some(spl_token::error::TokenError::AccountFrozen as u32));
    // … skipping needs the claim account …
    let vault = fx.state(&mut chain).await;
    let owner = seed.keypair.pubkey();
    let no_claim = client::withdraw(
        &owner,
        &fx.key,
        &vault,
        &seed.shares,
        &seed.tokens,
        WithdrawArgs { shares, min_amounts_out: vec![0, 0, 0], skip_mask: 0b100 },
    );
    let mut no_claim = no_claim;
    let claim_pos = 4; // owner, vault, share_mint, owner_shares, claim
    no_claim.accounts[claim_pos].pubkey = ballast::ID; // "no claim"
    assert_ballast_err(chain.send(&[no_claim], &[&seed.keypair]).await, BallastError::ClaimAccountRequired);
    // … and may only name assets the vault has.
    assert_ballast_err(
        fx.withdraw_skipping(&mut chain, &seed, shares, vec![0, 0, 0], 0b1000).await,
        BallastError::InvalidSkipMask,
    );

    // Skipping the frozen asset: SOL and BTC paid now, USDC owed through the claim.
    fx.withdraw_skipping(&mut chain, &seed, shares, vec![0, 0, 0], 0b100).await.unwrap();
    let owed_usdc = (shares as u128 * before[2] as u128 / supply as u128) as u64;
    assert_eq!(fx.claim_owed(&mut chain, &owner).await, vec![0, 0, owed_usdc]);
    let after = fx.holdings(&mut chain).await;
    assert_eq!(after[2], before[2], "nothing left the frozen reserve");
    assert_eq!(before[0] - after[0], (shares as u128 * before[0] as u128 / supply as u128) as u64);
    assert_eq!(fx.state(&mut chain).await.assets[2].owed, owed_usdc);

    // The owed USDC is outside the other holder's share: they get exactly their pro-rata part.
    fx.set_frozen(&mut chain, 2, false).await.unwrap();
    let other_shares = chain.token_amount(&other.shares).await;
    let supply2 = fx.share_supply(&mut chain).await;
    let avail_usdc = after[2] - owed_usdc;
    let usdc0 = chain.token_amount(&other.tokens[2]).await;
    fx.withdraw(&mut chain, &other, other_shares, vec![0, 0, 0]).await.unwrap();
    let got = chain.token_amount(&other.tokens[2]).await - usdc0;
    assert_eq!(got, (other_shares as u128 * avail_usdc as u128 / supply2 as u128) as u64);

    // After the thaw the claim pays out exactly what is owed, once.
    let vault = fx.state(&mut chain).await;
    let usdc_before = chain.token_amount(&seed.tokens[2]).await;
    let redeem = client::redeem_claim(&owner, &fx.key, &vault, 2, &seed.tokens[2]);
    chain.send(std::slice::from_ref(&redeem), &[&seed.keypair]).await.unwrap();
    assert_eq!(chain.token_amount(&seed.tokens[2]).await - usdc_before, owed_usdc);
    assert_eq!(fx.claim_owed(&mut chain, &owner).await, vec![0, 0, 0]);
    assert_eq!(fx.state(&mut chain).await.assets[2].owed, 0);
    assert_ballast_err(chain.send(&[redeem], &[&seed.keypair]).await, BallastError::NothingToRedeem);
    // Someone else cannot redeem another holder's claim.
    let thief = fx.user(&mut chain, &[0, 0, 0]).await.unwrap();
    let mut steal = client::redeem_claim(&thief.keypair.pubkey(), &fx.key, &vault, 2, &thief.tokens[2]);
    steal.accounts[2].pubkey = pda::claim(&fx.key, &owner);
    let err = chain.send(&[steal], &[&thief.keypair]).await.unwrap_err();
    assert_eq!(
        ballast_harness::chain::custom_error(&err),
        Some(anchor_lang::error::ErrorCode::ConstraintHasOne as u32)
    );
}

#[tokio::test]
async fn a_leg_that_pays_nothing_needs_no_live_mint() {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[100_000_000_000, 0, 10_000_000_000]).await.unwrap();
    fx.deposit_single(&mut chain, &user, 0, 10_000_000_000, 1).await.unwrap();
    fx.deposit_single(&mut chain, &user, 2, 1_000_000_000, 1).await.unwrap();
    // BTC was never deposited; its mint account now disappears (as a closed mint's would).
    chain.set_raw_account(&fx.assets[1].mint, vec![], anchor_lang::system_program::ID).await;
    let shares = chain.token_amount(&user.shares).await;
    let sol_before = chain.token_amount(&user.tokens[0]).await;
    fx.withdraw(&mut chain, &user, shares / 2, vec![0, 0, 0]).await.unwrap();
    assert!(chain.token_amount(&user.tokens[0]).await > sol_before);
    assert_eq!(fx.holdings(&mut chain).await[1], 0);
}

#[tokio::test]
async fn a_prefunded_claim_address_does_not_block_opening_the_claim() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let owner = seed.keypair.pubkey();
    let payer = chain.payer().pubkey();
    let target = pda::claim(&fx.key, &owner);
    let fund = anchor_lang::solana_program::system_instruction::transfer(&payer, &target, 1_000_000);
    chain.send(&[fund], &[]).await.unwrap();
    chain.send(&[client::open_claim(&payer, &fx.key, &owner)], &[]).await.unwrap();
    assert_eq!(fx.claim_owed(&mut chain, &owner).await, vec![0, 0, 0]);
    // Opening it twice is refused.
    assert_ballast_err(
        chain.send(&[client::open_claim(&payer, &fx.key, &owner)], &[]).await,
        BallastError::AccountAlreadyExists,
    );
}
