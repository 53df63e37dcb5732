//! Deposits (in kind and single asset), withdrawals, share math and pause behaviour.

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use ballast::errors::BallastError;
use ballast::instructions::{DepositArgs, RequestDepositArgs, WithdrawArgs};
use ballast::math::LOCKED_SHARES;
use ballast::state::pause;
use ballast_client as client;
use ballast_harness::chain::{Chain, TokenProgram};
use ballast_harness::fixture::{self, AssetSpec};
use ballast_harness::pyth::PriceSpec;
use ballast_tests::*;
use solana_signer::Signer;

#[tokio::test]
async fn first_deposit_single_locks_seed_shares() {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[0, 0, 10_000_000_000]).await.unwrap();
    // $1 000 of USDC valued at price − conf = 0.9995, minus the 10 bps deposit fee (rounded up), minus
    // the trade charge: the empty vault must trade away the 70 % of the deposit above USDC's 30 % target
    // ($700 at mid), at 105 bps (the auction's 100 bps cap and the 5 bps bounty): $7.35.
    fx.deposit_single(&mut chain, &user, 2, 1_000_000_000, 1).await.unwrap();
    let vault = fx.state(&mut chain).await;
    let value = 999_500_000u64 - 999_500 - 7_350_000;
    assert_eq!(chain.token_amount(&vault.locked_shares).await, LOCKED_SHARES);
    assert_eq!(chain.token_amount(&user.shares).await, value - LOCKED_SHARES);
    assert_eq!(fx.share_supply(&mut chain).await, value);
    assert_eq!(fx.holdings(&mut chain).await, vec![0, 0, 1_000_000_000]);
    assert_eq!(chain.token_amount(&user.tokens[2]).await, 9_000_000_000);
    // The vault recorded the oracle reading it used.
    assert!(vault.assets[2].last_publish_time > 0);
    assert_eq!(vault.assets[2].last_price, 1_00000000);
}

#[tokio::test]
async fn first_deposit_must_exceed_locked_shares() {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[0, 0, 10_000_000]).await.unwrap();
    // 1.0005 USDC at 0.9995 is worth 0.99999975 USD → 999_999 micro-USD < the locked 1 000 000.
    assert_ballast_err(fx.deposit_single(&mut chain, &user, 2, 1_000_500, 0).await, BallastError::FirstDepositTooSmall);
}

#[tokio::test]
async fn in_kind_deposit_into_empty_vault_refused() {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[1_000_000_000, 1_000_000, 1_000_000_000]).await.unwrap();
    assert_ballast_err(
        fx.deposit(&mut chain, &user, vec![1_000_000_000, 1_000_000, 1_000_000_000], 0).await,
        BallastError::EmptyVaultNeedsSingleDeposit,
    );
}

#[tokio::test]
async fn in_kind_deposit_is_proportional_and_rounds_for_the_vault() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let before = fx.holdings(&mut chain).await;
    let supply = fx.share_supply(&mut chain).await;
    let user = fx.user(&mut chain, &[10_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    let max_in = vec![2_000_000_000, 10_000_000, 10_000_000_000];
    fx.deposit(&mut chain, &user, max_in.clone(), 1).await.unwrap();
    let shares = chain.token_amount(&user.shares).await;
    // SOL is the binding asset: shares = floor(2e9 × supply / sol_balance).
    let expected = (2_000_000_000u128 * supply as u128 / before[0] as u128) as u64;
    assert_eq!(shares, expected);
    let after = fx.holdings(&mut chain).await;
    for i in 0..3 {
        let paid = after[i] - before[i];
        let exact = shares as u128 * before[i] as u128;
        // paid = ceil(shares × balance / supply): never less than the exact pro-rata amount.
        assert_eq!(paid as u128, exact.div_ceil(supply as u128), "asset {i}");
        assert!(paid <= max_in[i]);
        assert_eq!(
            chain.token_amount(&user.tokens[i]).await,
            [10_000_000_000u64, 10_000_000, 10_000_000_000][i] - paid
        );
    }
}

#[tokio::test]
async fn min_shares_and_zero_share_deposits_refused() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let user = fx.user(&mut chain, &[10_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    assert_ballast_err(
        fx.deposit(&mut chain, &user, vec![1_000_000_000, 1_000_000, 1_000_000_000], u64::MAX).await,
        BallastError::SharesBelowMinimum,
    );
    // One base unit of each asset buys less than one share.
    assert_ballast_err(fx.deposit(&mut chain, &user, vec![1, 1, 1], 0).await, BallastError::ZeroShares);
    // One base unit of SOL ($0.00000015) is worth zero shares.
    assert_ballast_err(fx.deposit_single(&mut chain, &user, 0, 1, 0).await, BallastError::ZeroShares);
    assert_ballast_err(
        fx.deposit_single(&mut chain, &user, 0, 1_000_000_000, u64::MAX).await,
        BallastError::SharesBelowMinimum,
    );
    assert_ballast_err(fx.deposit_single(&mut chain, &user, 0, 0, 0).await, BallastError::ZeroAmount);
    assert_ballast_err(fx.deposit(&mut chain, &user, vec![1, 1], 0).await, BallastError::AmountsLengthMismatch);
}

#[tokio::test]
async fn deposit_single_values_deposit_low_and_vault_high() {
    let (mut chain, fx, _seed) = setup_seeded().await;
    let supply = fx.share_supply(&mut chain).await;
    let user = fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
    let holdings = fx.holdings(&mut chain).await;
    let report = fx.report(&mut chain).await.unwrap();
    fx.deposit_single(&mut chain, &user, 0, 1_000_000_000, 1).await.unwrap();
    // 1 SOL at 150 × (1 − 0.0005) = 149.925 USD, minus the 10 bps fee and 105 bps of the part of the
    // $150 the vault must trade back to target; vault valued at price + conf (×1.0005).
    let traded = ballast::math::deposit_traded_value(report.values[0], report.nav, 4_000, 150_000_000).unwrap();
    let charge = ballast::math::deposit_trade_charge(traded, fixture::default_params().trade_cost_bps).unwrap();
    assert!(charge > 900_000 && charge < 1_000_000, "about 105 bps of $90: {charge}");
    let value_in = 149_925_000u128 - 149_925 - charge;
    let prices_high = [150.075f64, 60_030.0, 1.0005];
    let decimals = [9, 8, 6];
    let nav_high: u128 =
        (0..3).map(|i| (holdings[i] as f64 / 10f64.powi(decimals[i]) * prices_high[i] * 1e6).ceil() as u128).sum();
    let expected = value_in * supply as u128 / nav_high;
    let got = chain.token_amount(&user.shares).await as u128;
    assert!(got.abs_diff(expected) <= 1, "shares {got} vs {expected}");
    // Never more than the mid-price fair share.
    let nav_mid: u128 =
        (0..3).map(|i| (holdings[i] as f64 / 10f64.powi(decimals[i]) * [150.0, 60_000.0, 1.0][i] * 1e6) as u128).sum();
    assert!(got < 150_000_000u128 * supply as u128 / nav_mid);
}

#[tokio::test]
async fn withdraw_pays_pro_rata_rounded_down() {
    let (mut chain, fx, user) = setup_seeded().await;
    let before = fx.holdings(&mut chain).await;
    let supply = fx.share_supply(&mut chain).await;
    let wallet: Vec<u64> = {
        let mut w = Vec::new();
        for t in &user.tokens {
            w.push(chain.token_amount(t).await);
        }
        w
    };
    let burn = 1_234_567_891;
    fx.withdraw(&mut chain, &user, burn, vec![0; 3]).await.unwrap();
    let after = fx.holdings(&mut chain).await;
    for i in 0..3 {
        let expected = (burn as u128 * before[i] as u128 / supply as u128) as u64;
        assert_eq!(before[i] - after[i], expected);
        assert_eq!(chain.token_amount(&user.tokens[i]).await, wallet[i] + expected);
    }
    assert_eq!(fx.share_supply(&mut chain).await, supply - burn);
}

#[tokio::test]
async fn withdraw_rejections() {
    let (mut chain, fx, user) = setup_seeded().await;
    let shares = chain.token_amount(&user.shares).await;
    assert_ballast_err(fx.withdraw(&mut chain, &user, 0, vec![0; 3]).await, BallastError::ZeroAmount);
    // One share pays floor(2.67) lamports of SOL and nothing of the others (rounded for the vault).
    let before = fx.holdings(&mut chain).await;
    fx.withdraw(&mut chain, &user, 1, vec![0; 3]).await.unwrap();
    let after = fx.holdings(&mut chain).await;
    assert_eq!([before[0] - after[0], before[1] - after[1], before[2] - after[2]], [2, 0, 0]);
    assert_ballast_err(
        fx.withdraw(&mut chain, &user, shares / 2, vec![u64::MAX, 0, 0]).await,
        BallastError::AmountBelowMinimum,
    );
    assert_ballast_err(
        fx.withdraw(&mut chain, &user, shares / 2, vec![0; 2]).await,
        BallastError::AmountsLengthMismatch,
    );
    // More shares than the owner holds: the burn fails inside the token program, nothing moves.
    let before = fx.holdings(&mut chain).await;
    assert!(fx.withdraw(&mut chain, &user, shares + 1, vec![0; 3]).await.is_err());
    assert_eq!(fx.holdings(&mut chain).await, before);
}

#[tokio::test]
async fn burning_more_shares_than_exist_is_told_as_such() {
    let (mut chain, fx, user) = setup_seeded().await;
    let supply = fx.share_supply(&mut chain).await;
    assert_ballast_err(
        fx.withdraw(&mut chain, &user, supply + 1, vec![0, 0, 0]).await,
        BallastError::SharesExceedSupply,
    );
}

#[tokio::test]
async fn withdrawal_paying_nothing_refused() {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[0, 10_000_000, 0]).await.unwrap();
    // Only BTC: 5 000 000 units against ~3e9 shares, so one share is worth less than one unit.
    fx.deposit_single(&mut chain, &user, 1, 5_000_000, 1).await.unwrap();
    assert_ballast_err(fx.withdraw(&mut chain, &user, 1, vec![0; 3]).await, BallastError::ZeroWithdrawal);
}

#[tokio::test]
async fn withdrawals_never_take_more_than_the_vault_holds() {
    let (mut chain, fx, seed) = setup_seeded().await;
    let bob = fx.user(&mut chain, &[3_000_000_000, 3_000_000, 3_000_000_000]).await.unwrap();
    fx.deposit(&mut chain, &bob, vec![3_000_000_000, 3_000_000, 3_000_000_000], 1).await.unwrap();
    // Bob leaves in many small pieces, each rounded down.
    let mut left = chain.token_amount(&bob.shares).await;
    let piece = left / 7 + 3;
    while left > 0 {
        let burn = piece.min(left);
        match fx.withdraw(&mut chain, &bob, burn, vec![0; 3]).await {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(ballast_harness::chain::custom_error(&e), Some(u32::from(BallastError::ZeroWithdrawal)));
                break;
            }
        }
        left -= burn;
    }
    for i in 0..3 {
        let wallet = chain.token_amount(&bob.tokens[i]).await;
        assert!(wallet <= [3_000_000_000u64, 3_000_000, 3_000_000_000][i], "bob gained asset {i}");
    }
    // Everyone but the locked shares leaves: the reserves keep the locked part and are never overdrawn.
    let seed_shares = chain.token_amount(&seed.shares).await;
    fx.withdraw(&mut chain, &seed, seed_shares, vec![0; 3]).await.unwrap();
    assert_eq!(fx.share_supply(&mut chain).await, LOCKED_SHARES + left);
    for h in fx.holdings(&mut chain).await {
        assert!(h > 0, "locked shares keep a positive balance of every asset");
    }
}

#[tokio::test]
async fn pause_stops_deposits_but_never_withdrawals() {
    let (mut chain, fx, user) = setup_seeded().await;
    let gov = fx.governance.pubkey();
    chain.send(&[client::set_pause(&gov, &fx.key, pause::ALL)], &[&fx.governance]).await.unwrap();
    let other = fx.user(&mut chain, &[1_000_000_000, 1_000_000, 1_000_000_000]).await.unwrap();
    assert_ballast_err(fx.deposit_single(&mut chain, &other, 2, 500_000_000, 0).await, BallastError::DepositsPaused);
    assert_ballast_err(
        fx.deposit(&mut chain, &other, vec![1_000_000_000, 1_000_000, 1_000_000_000], 0).await,
        BallastError::DepositsPaused,
    );
    let shares = chain.token_amount(&user.shares).await;
    fx.withdraw(&mut chain, &user, shares, vec![1, 1, 1]).await.unwrap();
    assert_eq!(chain.token_amount(&user.shares).await, 0);
    assert_eq!(fx.share_supply(&mut chain).await, LOCKED_SHARES);
}

#[tokio::test]
async fn withdraw_works_with_stale_or_broken_oracles() {
    let (mut chain, fx, user) = setup_seeded().await;
    chain.advance_time(10_000).await;
    chain.set_raw_account(&fx.assets[0].oracle, vec![1, 2, 3], Pubkey::new_unique()).await;
    let shares = chain.token_amount(&user.shares).await;
    fx.withdraw(&mut chain, &user, shares / 3, vec![0; 3]).await.unwrap();
}

/// A first depositor who mints a tiny share supply and then donates to inflate the share price gains
/// nothing, and the next depositor loses no more than rounding dust.
#[tokio::test]
async fn inflation_attack_does_not_pay() {
    let mut chain = Chain::start().await;
    let specs = vec![
        AssetSpec::new("USDC", 6, 1_00000000, -8, 5_000, 300),
        AssetSpec::new("USDT", 6, 1_00000000, -8, 5_000, 300),
    ];
    // The least trade charge (the victim's USDC deposit into a vault holding only USDC is charged for the
    // trades it adds, a few cents at 1 bps; the charge may not be below the auction's cap plus the bounty,
    // so both are at their least too), so that the share math is what is measured.
    let mut params = fixture::default_params();
    params.slippage_cap_bps = ballast::constants::MIN_SLIPPAGE_BPS;
    params.bounty_bps = 0;
    params.trade_cost_bps = ballast::constants::MIN_TRADE_COST_BPS;
    let fx = fixture::create_vault(&mut chain, &specs, params).await.unwrap();
    // Exact prices (zero confidence) so that only the share math is measured.
    async fn exact_prices(chain: &mut Chain, fx: &fixture::VaultFixture) {
        let now = chain.clock().await.unix_timestamp;
        for a in &fx.assets {
            let mut spec = PriceSpec::new(a.feed_id, 1_00000000, -8, now);
            spec.conf = 0;
            spec.ema_conf = 0;
            chain.set_price(&a.oracle, &spec).await;
        }
    }
    async fn deposit_exact(chain: &mut Chain, fx: &fixture::VaultFixture, user: &fixture::User, amount: u64) {
        exact_prices(chain, fx).await;
        fx.request_deposit(chain, user, 0, amount, 1).await.unwrap();
        chain.advance_time(fixture::default_params().deposit_delay_secs as i64).await;
        exact_prices(chain, fx).await;
        fx.settle_deposit(chain, &user.keypair.pubkey()).await.unwrap();
    }
    let attacker = fx.user(&mut chain, &[20_000_000_000, 0]).await.unwrap();
    let victim = fx.user(&mut chain, &[1_000_000_000, 0]).await.unwrap();

    // 1. Attacker makes the first deposit: $1.001054 − the 10 bps fee ($0.001002) − 1 bps of the half that
    //    must be traded ($0.000051) = $1.000001 → 1 share unit for them, 1 000 000 locked.
    deposit_exact(&mut chain, &fx, &attacker, 1_001_054).await;
    assert_eq!(chain.token_amount(&attacker.shares).await, 1);
    // 2. Attacker donates $10 000 straight into the reserve.
    let reserve = fx.state(&mut chain).await.assets[0].reserve;
    let ix = spl_token_2022::instruction::transfer_checked(
        &TokenProgram::Token.id(),
        &attacker.tokens[0],
        &fx.assets[0].mint,
        &reserve,
        &attacker.keypair.pubkey(),
        &[],
        10_000_000_000,
        6,
    )
    .unwrap();
    chain.send(&[ix], &[&attacker.keypair]).await.unwrap();
    // 3. Victim deposits $1 000.
    deposit_exact(&mut chain, &fx, &victim, 1_000_000_000).await;
    // 4. Both leave.
    for u in [&attacker, &victim] {
        let s = chain.token_amount(&u.shares).await;
        if s > 0 {
            let _ = fx.withdraw(&mut chain, u, s, vec![0, 0]).await;
        }
    }
    let attacker_end = chain.token_amount(&attacker.tokens[0]).await;
    let victim_end = chain.token_amount(&victim.tokens[0]).await;
    assert!(attacker_end < 20_000_000_000, "attacker must not profit: ended with {attacker_end}");
    assert!(attacker_end < 20_000_000_000 - 9_990_000_000, "the donation is lost to the locked shares");
    // The victim pays the 10 bps deposit fee ($1) and the 1 bps trade charge on the $500 its deposit adds
    // to the vault's imbalance ($0.05), and loses under $0.05 more.
    let victim_loss = 1_000_000_000 - victim_end;
    assert!(victim_loss <= 1_000_000 + 100_000, "victim lost {victim_loss} base units (> $1.10 of $1 000)");
}

#[tokio::test]
async fn remaining_accounts_are_checked_against_the_registry() {
    let (mut chain, fx, user) = setup_seeded().await;
    let vault = fx.state(&mut chain).await;
    let owner = user.keypair.pubkey();
    let wargs = || WithdrawArgs { shares: 1_000_000, min_amounts_out: vec![0; 3], skip_mask: 0 };

    // Withdraw: 7 fixed accounts, then [mint, reserve, destination] × 3.
    let base = client::withdraw(&owner, &fx.key, &vault, &user.shares, &user.tokens, wargs());
    let mut ix = base.clone();
    ix.accounts.pop();
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::WrongRemainingAccounts);
    let mut ix = base.clone();
    ix.accounts[7 + 1].pubkey = vault.assets[1].reserve; // SOL reserve replaced by BTC reserve
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::ReserveMismatch);
    let mut ix = base.clone();
    ix.accounts[7].pubkey = vault.assets[1].mint;
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::MintMismatch);
    let mut ix = base.clone();
    ix.accounts[7 + 2].pubkey = vault.assets[0].reserve; // destination aliases the reserve
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::DuplicateAccount);
    let mut ix = base.clone();
    ix.accounts[7 + 2].pubkey = user.tokens[1]; // destination holds another mint
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::TokenAccountMintMismatch);

    // Deposit: source accounts must belong to the depositor.
    let thief = fx.user(&mut chain, &[0, 0, 0]).await.unwrap();
    let ix = client::deposit(
        &thief.keypair.pubkey(),
        &fx.key,
        &vault,
        &thief.shares,
        &user.tokens,
        DepositArgs { max_amounts_in: vec![1_000_000_000, 1_000_000, 1_000_000_000], min_shares_out: 0 },
    );
    assert_ballast_err(chain.send(&[ix], &[&thief.keypair]).await, BallastError::TokenAccountOwnerMismatch);

    // Deposit single: the mint must be the asset at the given index.
    let mut ix = client::request_deposit(
        &owner,
        &fx.key,
        &vault,
        &user.shares,
        &user.tokens[0],
        RequestDepositArgs { asset_index: 0, amount: 1_000, min_shares_out: 0 },
    );
    let mut args_ix = ix.clone();
    ix.data = anchor_lang::InstructionData::data(&ballast::instruction::RequestDeposit {
        args: RequestDepositArgs { asset_index: 1, amount: 1_000, min_shares_out: 0 },
    });
    assert_ballast_err(chain.send(&[ix], &[&user.keypair]).await, BallastError::MintMismatch);
    args_ix.data = anchor_lang::InstructionData::data(&ballast::instruction::RequestDeposit {
        args: RequestDepositArgs { asset_index: 7, amount: 1_000, min_shares_out: 0 },
    });
    assert_ballast_err(chain.send(&[args_ix], &[&user.keypair]).await, BallastError::AssetIndexOutOfRange);
}
