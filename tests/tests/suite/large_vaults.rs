//! Vaults of 32, 64 and 128 assets, every flow on the routes a vault that large must take: created (the vault's
//! account growing with each asset), seeded by single-asset deposits valued from the valuation cache, poked,
//! rebalanced through the reference AMM and the real Raydium CPMM program (refresh batches and the trade back
//! to back in one slot), fees accrued, and left through a withdrawal into a claim redeemed asset by asset.
//! Attacks on the withdrawal first: a cache from another slot, a deposit between refresh and withdrawal, an
//! oracle that fails, every reserve frozen.

use ballast::errors::BallastError;
use ballast::state::Vault;
use ballast_client::{self as client, RouteMode};
use ballast_harness::chain::Chain;
use ballast_harness::dex::Amm;
use ballast_harness::fixture::{self, User, VaultFixture};
use ballast_harness::pyth::PriceSpec;
use ballast_tests::*;
use solana_program_test::BanksClientError;
use solana_signer::Signer;

/// Distinct accounts a transaction of `ixs` paid by `payer` names (programs included).
fn accounts_named(
    ixs: &[anchor_lang::solana_program::instruction::Instruction],
    payer: &anchor_lang::prelude::Pubkey,
) -> usize {
    let mut keys: Vec<_> =
        ixs.iter().flat_map(|ix| ix.accounts.iter().map(|a| a.pubkey).chain([ix.program_id])).collect();
    keys.push(*payer);
    keys.sort();
    keys.dedup();
    keys.len()
}

/// How many assets `ix` refreshes, if it is a `refresh_valuation`.
fn refresh_count(ix: &anchor_lang::solana_program::instruction::Instruction) -> Option<usize> {
    use anchor_lang::Discriminator;
    let refresh =
        ix.program_id == ballast::ID && ix.data.starts_with(ballast::instruction::RefreshValuation::DISCRIMINATOR);
    refresh.then(|| (ix.accounts.len() - 2) / 2)
}

/// `user`'s whole position withdrawn into their claim (opened first), valued from a cache refreshed in the
/// same slot.
async fn withdraw_to_claim(chain: &mut Chain, fx: &VaultFixture, user: &User) -> Result<u64, BanksClientError> {
    let vault = fx.state(chain).await;
    let owner = user.keypair.pubkey();
    if chain.account(&client::pda::claim(&fx.key, &owner)).await.is_none() {
        let open = client::open_claim(&chain.payer_key(), &fx.key, &owner);
        chain.send(&client::with_heap_frame(&vault, vec![open]), &[]).await?;
    }
    let shares = chain.token_amount(&user.shares).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &user.shares, shares);
    fx.send_valued_always(chain, &[ix], &[&user.keypair]).await.map(|_| shares)
}

/// Redeems every asset `owner` is owed into `user`'s token accounts, eight assets a transaction.
async fn redeem_all(chain: &mut Chain, fx: &VaultFixture, user: &User) -> Result<(), BanksClientError> {
    let vault = fx.state(chain).await;
    let owed = fx.claim_owed(chain, &user.keypair.pubkey()).await;
    let owner = user.keypair.pubkey();
    let ixs: Vec<_> = (0..owed.len())
        .filter(|i| owed[*i] > 0)
        .map(|i| client::redeem_claim(&owner, &fx.key, &vault, i as u8, &user.tokens[i]))
        .collect();
    for batch in ixs.chunks(8) {
        chain.send(&client::with_heap_frame(&vault, batch.to_vec()), &[&user.keypair]).await?;
    }
    Ok(())
}

/// Every flow of an `n`-asset vault, rebalancing through `amm`.
async fn every_flow(n: usize, amm: Amm) {
    let (mut m, seed) = DexMarket::large(amm, n).await;
    let vault = m.fx.state(&mut m.chain).await;
    // Created: the account grew with each asset to the documented size, and the seed deposits (one per asset,
    // valued from the cache) brought every asset within its band.
    assert_eq!(vault.assets.len(), n);
    assert_eq!(m.chain.account(&m.fx.key).await.unwrap().data.len(), Vault::space(n), "{n} assets");
    let report = m.fx.report(&mut m.chain).await.unwrap();
    assert!(report.max_abs_drift_bps < 25, "{n}: seeded within the bands: {report:?}");
    assert!((report.nav as f64 / 1e6 - 10_000.0).abs() < 100.0, "{n}: a $10 000 vault: {}", report.nav);
    // Refresh: batches of at most 29 assets in their own transactions, the last one with the use, at most 5
    // transactions (one bundle), none naming more than 64 accounts.
    for ix in [
        client::poke(&m.fx.key, &vault),
        client::withdraw_to_claim(&seed.keypair.pubkey(), &m.fx.key, &vault, &seed.shares, 1),
    ] {
        let txs = client::cached_transactions(&[ix], &m.fx.key, &vault);
        assert!(txs.len() <= client::BUNDLE_MAX_TRANSACTIONS, "{n}: {} transactions", txs.len());
        for tx in &txs {
            assert!(accounts_named(tx, &m.chain.payer_key()) <= 64, "{n}");
        }
        let refreshed: usize = txs.iter().flatten().filter_map(refresh_count).sum();
        assert_eq!(refreshed, n, "{n}: every asset refreshed once");
    }

    // Rebalance: T0 up 60 %, the planner pokes (from the cache) until the auction lets it trade, and the trade
    // valued from the cache pays the quote to the unit.
    m.move_price(0, 60).await;
    let weight0 = |r: &ballast_harness::fixture::Report| r.values[0] as f64 / r.nav as f64;
    let before = m.fx.report(&mut m.chain).await.unwrap();
    assert!(before.drift_bps[0] > 25, "{n}: T0 out of its band: {} bps", before.drift_bps[0]);
    let (c, received) = m.keeper_trades(RouteMode::Direct, true).await;
    assert_eq!((c.request.sell, c.request.buy), (0, 2), "{n}: T0 is sold for T2");
    assert!(received > 0 && received == c.expected_out, "{n} {amm:?}: the quote, to the unit");
    let after = m.fx.report(&mut m.chain).await.unwrap();
    assert!(weight0(&after) < weight0(&before), "{n}: T0's weight fell");
    let vault = m.fx.state(&mut m.chain).await;
    let now = m.chain.clock().await.unix_timestamp;
    assert!(vault.assets.iter().all(|a| now - a.last_publish_time <= 2), "{n}: every reading recorded by the pokes");

    // Fees: accrued from the cache.
    let before = m.fx.state(&mut m.chain).await.fees.last_accrual;
    m.chain.advance_time(60).await;
    m.fx.accrue_fees(&mut m.chain).await.expect("accrue_fees from the cache");
    assert!(m.fx.state(&mut m.chain).await.fees.last_accrual > before, "{n}: the fee clock moved");

    // Withdraw into a claim, then redeem asset by asset: the seed depositor leaves with everything it holds.
    let holdings = m.fx.holdings(&mut m.chain).await;
    let supply = m.fx.share_supply(&mut m.chain).await + m.fx.state(&mut m.chain).await.fees.pending_shares;
    let held = m.chain.token_amount(&seed.shares).await;
    let value = share_value(&mut m.chain, &m.fx, held).await;
    let shares = withdraw_to_claim(&mut m.chain, &m.fx, &seed).await.expect("withdraw_to_claim");
    assert_eq!(m.chain.token_amount(&seed.shares).await, 0, "{n}: shares burned");
    assert_eq!(m.fx.holdings(&mut m.chain).await, holdings, "{n}: nothing left the reserves yet");
    let owed = m.fx.claim_owed(&mut m.chain, &seed.keypair.pubkey()).await;
    for (i, (o, h)) in owed.iter().zip(&holdings).enumerate() {
        let pro_rata = (*h as u128 * shares as u128 / supply as u128) as u64;
        assert!(*o <= pro_rata, "{n}: asset {i}: owed {o} > pro rata {pro_rata}");
    }
    let owed_usd = usd_of(&mut m.chain, &m.fx, &owed.iter().map(|o| *o as i128).collect::<Vec<_>>()).await;
    assert!(owed_usd <= value && owed_usd > value * 0.99, "{n}: owed ${owed_usd:.2} of ${value:.2}");
    let vault = m.fx.state(&mut m.chain).await;
    assert!(vault.assets.iter().zip(&owed).all(|(a, o)| a.owed == *o), "{n}: the vault keeps the owed aside");
    let tokens_before = m.chain.token_amounts(&seed.tokens).await;
    redeem_all(&mut m.chain, &m.fx, &seed).await.expect("redeem");
    let tokens_after = m.chain.token_amounts(&seed.tokens).await;
    for i in 0..n {
        assert_eq!(tokens_after[i] - tokens_before[i], owed[i], "{n}: asset {i} paid in full");
    }
    assert!(m.fx.claim_owed(&mut m.chain, &seed.keypair.pubkey()).await.iter().all(|o| *o == 0));
    assert!(m.fx.state(&mut m.chain).await.assets.iter().all(|a| a.owed == 0));

    // Heap: every instruction of the flow (creation, seeding, refreshes, pokes, the trade, fees, the withdrawal
    // and redemptions) within the 256 KiB frame its transactions request (`ballast_harness::heap_meter`).
    let heap = heap_by_instruction();
    eprintln!("{n} assets, heap by instruction (bytes): {heap:?}");
    assert!(heap.len() >= 10, "{n}: the instructions were metered on this thread: {heap:?}");
    for (name, bytes) in &heap {
        assert!(*bytes <= ballast::heap::HEAP_BYTES, "{n}: {name} needs {bytes} bytes of heap");
    }
}

#[tokio::test]
async fn a_32_asset_vault_runs_every_flow_through_the_reference_amm() {
    every_flow(32, Amm::Reference).await;
}

#[tokio::test]
async fn a_64_asset_vault_runs_every_flow_through_raydium() {
    every_flow(64, Amm::Raydium).await;
}

#[tokio::test]
async fn a_128_asset_vault_runs_every_flow_through_the_reference_amm() {
    every_flow(128, Amm::Reference).await;
}

#[tokio::test]
async fn a_128_asset_vault_runs_every_flow_through_raydium() {
    every_flow(128, Amm::Raydium).await;
}

/// The withdrawal into a claim takes its balances from the cache only as a direct read would have seen them:
/// refreshed a slot earlier (`ValuationStale`), or refreshed before a deposit request changed the vault
/// (`ValuationOutdated`), it is refused and nothing is burned; refreshed in its own slot it lands.
#[tokio::test]
async fn a_withdrawal_into_a_claim_refuses_a_stale_or_outdated_cache() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let owner = seed.keypair.pubkey();
    let open = client::open_claim(&chain.payer_key(), &fx.key, &owner);
    let framed = client::with_heap_frame(&fx.state(chain).await, vec![open]);
    chain.send(&framed, &[]).await.unwrap();
    let shares = chain.token_amount(&seed.shares).await;
    let vault = fx.state(chain).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, shares / 2);
    let txs = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &vault);
    let (refresh, use_) = txs.split_at(txs.len() - 1);
    for tx in refresh {
        chain.send(tx, &[]).await.unwrap();
    }
    chain.advance_slots(1).await;
    assert_ballast_err(chain.send(&use_[0], &[&seed.keypair]).await, BallastError::ValuationStale);
    // Every asset refreshed in this slot, then a deposit request valued from it (which changes the vault), then
    // the withdrawal's transactions: the entries refreshed before the request are outdated.
    for ix in client::refresh_valuation_batches(&fx.key, &vault, client::REFRESH_BATCH) {
        chain.send(&client::with_heap_frame(&vault, vec![ix]), &[]).await.unwrap();
    }
    let amount = fx.amount_for_usd(chain, 1, 50.0).await;
    let other = fx.user(chain, &[0, amount]).await.unwrap();
    let request = client::request_deposit(
        &other.keypair.pubkey(),
        &fx.key,
        &vault,
        &other.shares,
        &other.tokens[1],
        ballast::instructions::RequestDepositArgs { asset_index: 1, amount, min_shares_out: 1 },
    );
    chain.send(&[client::valued_from_cache(request, &fx.key, &vault)], &[&other.keypair]).await.unwrap();
    assert_ballast_err(chain.send(&use_[0], &[&seed.keypair]).await, BallastError::ValuationOutdated);
    assert_eq!(chain.token_amount(&seed.shares).await, shares, "nothing burned");
    fx.send_valued_always(chain, &[ix], &[&seed.keypair]).await.expect("refreshed in its own slot, it lands");
    assert_eq!(chain.token_amount(&seed.shares).await, shares - shares / 2);
}

/// One oracle failing does not hold a holder in a large vault (the direct `withdraw` cannot name its
/// accounts): a refresh batch records the asset's balance with the reason its reading was refused; valuing
/// from that entry is refused (`ValuationReadingRefused`), withdrawing into a claim is not.
#[tokio::test]
async fn a_failing_oracle_does_not_hold_back_a_withdrawal_into_a_claim() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    chain.advance_time(120).await;
    fx.refresh_prices(chain).await;
    // Asset 5's feed stops: its last update is two minutes old (past the vault's oracle age limit).
    let a = &fx.assets[5];
    let now = chain.clock().await.unix_timestamp;
    chain.set_price(&a.oracle, &PriceSpec::new(a.feed_id, a.spec.price, a.spec.expo, now - 120)).await;
    let vault = fx.state(chain).await;
    assert_ballast_err(
        fx.send_valued_always(chain, &[client::poke(&fx.key, &vault)], &[]).await,
        BallastError::ValuationReadingRefused,
    );
    let holdings = fx.holdings(chain).await;
    withdraw_to_claim(chain, &fx, &seed).await.expect("withdraws despite the stale feed");
    let owed = fx.claim_owed(chain, &seed.keypair.pubkey()).await;
    assert!(owed[5] > 0 && owed[5] <= holdings[5], "the stale asset's part is owed: {}", owed[5]);
    redeem_all(chain, &fx, &seed).await.expect("redeemed, the stale asset too: redemption needs no price");
}

/// Every reserve of a 128-asset vault frozen by its mint's freeze authority: the withdrawal into a claim still
/// burns the shares and records every amount (it moves no token); redemptions wait for the thaw, asset by
/// asset, and then pay in full.
#[tokio::test]
async fn a_withdrawal_into_a_claim_with_every_reserve_frozen() {
    let n = 128;
    let specs = fixture::numbered_specs(n, 25).into_iter().map(|s| s.with_freeze_authority()).collect();
    let (m, seed) = DexMarket::large_of(Amm::Reference, specs).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    for i in 0..n {
        fx.set_frozen(chain, i, true).await.unwrap();
    }
    withdraw_to_claim(chain, &fx, &seed).await.expect("withdraws with every reserve frozen");
    let owed = fx.claim_owed(chain, &seed.keypair.pubkey()).await;
    assert!(owed.iter().all(|o| *o > 0), "every asset owed");
    let r = redeem_all(chain, &fx, &seed).await;
    assert!(r.is_err(), "a frozen reserve pays nothing");
    assert_eq!(fx.claim_owed(chain, &seed.keypair.pubkey()).await, owed, "nothing lost");
    for i in 0..n {
        fx.set_frozen(chain, i, false).await.unwrap();
    }
    redeem_all(chain, &fx, &seed).await.expect("redeemed after the thaw");
    assert!(fx.claim_owed(chain, &seed.keypair.pubkey()).await.iter().all(|o| *o == 0));
}

/// A vault of `DIRECT_MAX_ASSETS` (16) assets keeps the one-transaction routes and needs no heap frame: every
/// instruction of its flows (seeding by single-asset deposits, pokes, a direct and a flash rebalance on the
/// real Raydium program, fees, a single-asset withdrawal, an in-kind withdrawal) stays within the 32 KiB every
/// transaction has, as metered (`ballast_harness::heap_meter`); the clients ask for a frame only above 16.
#[tokio::test]
async fn a_16_asset_vault_fits_the_default_heap() {
    let n = ballast::constants::DIRECT_MAX_ASSETS;
    let (mut m, seed) = DexMarket::large(Amm::Raydium, n).await;
    assert!(client::heap_frame(&m.fx.state(&mut m.chain).await).is_none());
    // A 16-asset trade or in-kind withdrawal names too many accounts for a legacy transaction: sent as v0 with
    // a lookup table of every account but the signers, as a keeper would.
    async fn send_v0(
        m: &mut DexMarket,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        signer: &solana_keypair::Keypair,
    ) {
        let mut keys: Vec<_> =
            ixs.iter().flat_map(|ix| ix.accounts.iter().filter(|a| !a.is_signer).map(|a| a.pubkey)).collect();
        keys.extend(ixs.iter().map(|ix| ix.program_id));
        keys.sort();
        keys.dedup();
        let table = m.chain.create_lookup_table(&keys).await.unwrap();
        m.chain.send_v0(ixs, &[signer], &[table]).await.unwrap();
    }
    for mode in [RouteMode::Direct, RouteMode::Flash] {
        m.move_price(0, 60).await;
        let c = m.until_trade().await;
        let before = m.fx.holdings(&mut m.chain).await[c.request.buy];
        let ixs = m.trade_ixs(mode, &c, false).await;
        let keeper = m.keeper.insecure_clone();
        send_v0(&mut m, &ixs, &keeper).await;
        let received = m.fx.holdings(&mut m.chain).await[c.request.buy] - before;
        assert!(received > 0 && received == c.expected_out, "{mode:?}");
    }
    m.chain.advance_time(60).await;
    m.fx.accrue_fees(&mut m.chain).await.expect("accrue_fees");
    let shares = m.chain.token_amount(&seed.shares).await;
    m.fx.withdraw_single(&mut m.chain, &seed, 3, shares / 200, 1).await.expect("single-asset withdrawal");
    let vault = m.fx.state(&mut m.chain).await;
    let args = ballast::instructions::WithdrawArgs { shares: shares / 2, min_amounts_out: vec![0; n], skip_mask: 0 };
    let owner = seed.keypair.pubkey();
    let withdraw = client::withdraw(&owner, &m.fx.key, &vault, &seed.shares, &seed.tokens, args);
    send_v0(&mut m, &[withdraw], &seed.keypair).await;
    let heap = heap_by_instruction();
    eprintln!("{n} assets, heap by instruction (bytes): {heap:?}");
    for name in
        ["poke", "rebalance", "rebalance_begin", "rebalance_end", "settle_deposit", "settle_withdraw", "withdraw"]
    {
        assert!(heap.contains_key(name), "{name} metered: {heap:?}");
    }
    for (name, bytes) in &heap {
        assert!(*bytes <= ballast::heap::DEFAULT_HEAP_BYTES, "{n}: {name} needs {bytes} bytes of heap");
    }
}

/// Requirement 11 on a large vault: with every pause flag the guardian has set, deposits stop and a holder still
/// leaves: the refresh, the withdrawal into a claim and every redemption land, each paying what the claim holds.
#[tokio::test]
async fn a_withdrawal_into_a_claim_and_its_redemptions_work_while_everything_is_paused() {
    use ballast::state::pause;
    let (m, seed) = DexMarket::large(Amm::Reference, 20).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let vault = fx.state(chain).await;
    let guardian = fx.guardian.insecure_clone();
    let pause_all = client::set_pause(&guardian.pubkey(), &fx.key, pause::ALL);
    chain.send(&client::with_heap_frame(&vault, vec![pause_all]), &[&guardian]).await.unwrap();
    assert!(fx.state(chain).await.is_paused(pause::ALL));
    let amount = fx.amount_for_usd(chain, 3, 100.0).await;
    let mut amounts = vec![0; 20];
    amounts[3] = amount;
    let depositor = fx.user(chain, &amounts).await.unwrap();
    assert_ballast_err(fx.request_deposit(chain, &depositor, 3, amount, 1).await, BallastError::DepositsPaused);
    let mut before = Vec::new();
    for t in &seed.tokens {
        before.push(chain.token_amount(t).await);
    }
    withdraw_to_claim(chain, &fx, &seed).await.expect("withdraws into a claim while paused");
    let owed = fx.claim_owed(chain, &seed.keypair.pubkey()).await;
    assert!(owed[..20].iter().all(|o| *o > 0), "every asset owed");
    redeem_all(chain, &fx, &seed).await.expect("redeems while paused");
    for (i, t) in seed.tokens.iter().enumerate() {
        assert_eq!(chain.token_amount(t).await - before[i], owed[i], "asset {i} paid what the claim held");
    }
    assert!(fx.claim_owed(chain, &seed.keypair.pubkey()).await.iter().all(|o| *o == 0));
    assert_eq!(chain.token_amount(&seed.shares).await, 0);
}

/// Requirement 14 on a large vault's withdrawal: one reserve holding its mint's whole possible supply
/// (`u64::MAX` base units, donated) and prices of 1e-8 and 1e12 USD: the refresh records the balances, the claim
/// holds exactly the program's pro-rata amounts (`math::in_kind_payout`, in u128), and the redemption of the
/// `u64::MAX` reserve's share pays it to the unit.
#[tokio::test]
async fn a_withdrawal_into_a_claim_pays_pro_rata_at_extreme_balances_and_prices() {
    let (m, seed) = DexMarket::large(Amm::Reference, 17).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let big = &fx.assets[2];
    let supply = chain.mint_supply(&big.mint).await;
    let reserve = client::pda::reserve(&fx.key, &big.mint);
    chain.mint_to(&big.mint, &reserve, u64::MAX - supply, big.spec.program).await.unwrap();
    let now = chain.clock().await.unix_timestamp;
    chain.set_price(&fx.assets[0].oracle, &PriceSpec::new(fx.assets[0].feed_id, 1, -8, now)).await;
    chain.set_price(&fx.assets[1].oracle, &PriceSpec::new(fx.assets[1].feed_id, 1_000_000_000_000, 0, now)).await;
    let vault = fx.state(chain).await;
    let holdings = fx.holdings(chain).await;
    assert_eq!(chain.mint_supply(&big.mint).await, u64::MAX, "the mint at its largest supply");
    assert!(holdings[2] > u64::MAX - supply, "the reserve holds almost all of it");
    let available: Vec<u64> = vault.assets.iter().zip(&holdings).map(|(a, b)| a.available(*b, now).unwrap()).collect();
    let (shares, share_supply) = (chain.token_amount(&seed.shares).await / 3, fx.share_supply(chain).await);
    let expected =
        ballast::math::in_kind_payout(shares, &available, share_supply, vault.params.fees.exit_bps).unwrap().net;
    assert!(expected[2] > u64::MAX / 4, "a third of the u64::MAX reserve: {}", expected[2]);
    let owner = seed.keypair.pubkey();
    let open = client::open_claim(&chain.payer_key(), &fx.key, &owner);
    chain.send(&client::with_heap_frame(&vault, vec![open]), &[]).await.unwrap();
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, shares);
    fx.send_valued_always(chain, &[ix], &[&seed.keypair]).await.expect("withdraws at extreme balances and prices");
    let owed = fx.claim_owed(chain, &owner).await;
    assert_eq!(owed[..17].to_vec(), expected, "the claim holds the exact pro-rata amounts");
    let before = chain.token_amount(&seed.tokens[2]).await;
    let redeem = client::redeem_claim(&owner, &fx.key, &vault, 2, &seed.tokens[2]);
    chain.send(&client::with_heap_frame(&vault, vec![redeem]), &[&seed.keypair]).await.expect("redeems");
    assert_eq!(chain.token_amount(&seed.tokens[2]).await - before, expected[2]);
}
