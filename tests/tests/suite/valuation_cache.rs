//! The valuation cache (`refresh_valuation`, `poke` valued from the cache): what a cached valuation may be
//! used for, and every way to feed it something a direct read would not have seen. Attacks first: an entry
//! from another slot, an asset left out, the vault changed between refresh and use, a refresh by CPI, a
//! refresh naming another asset's oracle or reserve, another vault's cache, a batch with a failing entry.

use ballast::errors::BallastError;
use ballast::events::ValuationRefreshedEvent;
use ballast_client::{self as client};
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{self, VaultFixture};
use ballast_harness::pyth::PriceSpec;
use ballast_tests::*;
use solana_signer::Signer;

/// A seeded vault with its valuation cache.
async fn cached_on(chain: Chain) -> (Chain, VaultFixture) {
    let (mut chain, fx, _seed) = seeded_on(chain).await;
    chain.send(&[client::init_valuation_cache(&chain.payer_key(), &fx.key)], &[]).await.expect("cache");
    (chain, fx)
}

async fn cached() -> (Chain, VaultFixture) {
    cached_on(Chain::start().await).await
}

/// Every asset refreshed in one instruction, then `poke` valued from the cache, in one transaction.
async fn refresh_and_poke(chain: &mut Chain, fx: &VaultFixture) -> Result<(), solana_program_test::BanksClientError> {
    let vault = fx.state(chain).await;
    let n = vault.assets.len();
    chain.send(&[client::refresh_valuation(&fx.key, &vault, 0, n), client::poke_cached(&fx.key, &vault)], &[]).await
}

async fn poke_cached(chain: &mut Chain, fx: &VaultFixture) -> Result<(), solana_program_test::BanksClientError> {
    let vault = fx.state(chain).await;
    chain.send(&[client::poke_cached(&fx.key, &vault)], &[]).await
}

/// Writes asset `i`'s price with the fixture's feed at `price_pct` % of its spec, published `age` s ago.
async fn set_price(chain: &mut Chain, fx: &VaultFixture, i: usize, price_pct: i64, age: i64) {
    let now = chain.clock().await.unix_timestamp;
    let a = &fx.assets[i];
    let spec = PriceSpec::new(a.feed_id, a.spec.price * price_pct / 100, a.spec.expo, now - age);
    chain.set_price(&a.oracle, &spec).await;
}

/// The cached path values the vault as the direct one does: SOL up 40 % takes it out of its band, and a
/// poke from a cache refreshed in the same slot opens the auction and records the new readings.
#[tokio::test]
async fn a_poke_from_a_cache_refreshed_in_the_same_slot_values_the_vault() {
    let (mut chain, fx) = cached().await;
    chain.advance_time(2).await;
    fx.refresh_prices(&mut chain).await;
    set_price(&mut chain, &fx, 0, 140, 0).await;
    let before = fx.state(&mut chain).await;
    assert_eq!(before.auction_started_at, 0);
    refresh_and_poke(&mut chain, &fx).await.expect("cached poke");
    let after = fx.state(&mut chain).await;
    let now = chain.clock().await.unix_timestamp;
    assert_ne!(after.auction_started_at, 0, "the auction opened on the cached valuation");
    assert!(after.assets.iter().all(|a| a.last_publish_time == now), "readings recorded");
    assert!(after.valuation_seq > before.valuation_seq, "the poke changed the vault: entries are spent");
    // The same entries cannot serve a second time: the poke itself changed the vault.
    assert_ballast_err(poke_cached(&mut chain, &fx).await, BallastError::ValuationOutdated);
}

/// Lamports sent to the cache's address before it exists (requirement 18) do not block its creation; a second
/// creation is refused (`AccountAlreadyExists`), and the cache works. (With Anchor's `init` the lamports made
/// the creation fail with `InvalidInstructionData`: anyone could keep a vault from ever having a cache for
/// 0.005 SOL; it now goes through `create.rs` like every other account the program creates.)
#[tokio::test]
async fn a_prefunded_cache_address_is_created_and_a_second_creation_refused() {
    let (mut chain, fx, _seed) = seeded_on(Chain::start().await).await;
    let payer = chain.payer_key();
    let cache = client::valuation_cache_address(&fx.key);
    let fund = anchor_lang::solana_program::system_instruction::transfer(&payer, &cache, 5_000_000);
    chain.send(&[fund], &[]).await.unwrap();
    chain.send(&[client::init_valuation_cache(&payer, &fx.key)], &[]).await.expect("created over the lamports");
    let other = fx.user(&mut chain, &[0, 0, 0]).await.unwrap();
    let again = chain.send(&[client::init_valuation_cache(&other.keypair.pubkey(), &fx.key)], &[&other.keypair]).await;
    assert_ballast_err(again, BallastError::AccountAlreadyExists);
    refresh_and_poke(&mut chain, &fx).await.expect("the cache works");
}

/// Refresh and use reordered across slots: an entry from the previous slot is refused, whatever its age in
/// seconds (the clock does not move here).
#[tokio::test]
async fn an_entry_from_an_earlier_slot_is_refused() {
    let (mut chain, fx) = cached().await;
    let vault = fx.state(&mut chain).await;
    chain.send(&[client::refresh_valuation(&fx.key, &vault, 0, 3)], &[]).await.unwrap();
    chain.advance_slots(1).await;
    assert_ballast_err(poke_cached(&mut chain, &fx).await, BallastError::ValuationStale);
    // A never-refreshed cache is refused the same way.
    let (mut chain, fx) = cached().await;
    assert_ballast_err(poke_cached(&mut chain, &fx).await, BallastError::ValuationStale);
}

/// An asset left out of the refresh (assets 0 and 1 refreshed, 2 not) is refused, not valued at an old
/// entry.
#[tokio::test]
async fn an_asset_left_out_of_the_refresh_is_refused() {
    let (mut chain, fx) = cached().await;
    let vault = fx.state(&mut chain).await;
    let (r, logs) = chain
        .send_logged(&[client::refresh_valuation(&fx.key, &vault, 0, 2), client::poke_cached(&fx.key, &vault)], &[])
        .await;
    assert_ballast_err(r, BallastError::ValuationStale);
    assert!(logs.iter().any(|l| l.contains("valuation cache entry of asset 2")), "{logs:#?}");
}

/// A deposit between refresh and use, in the same slot: the cached reserves no longer hold, and the poke is
/// refused (`ValuationOutdated`) instead of valuing the vault without the deposit.
#[tokio::test]
async fn a_deposit_between_refresh_and_use_is_refused() {
    let (mut chain, fx) = cached().await;
    let vault = fx.state(&mut chain).await;
    let slot = chain.clock().await.slot;
    chain.send(&[client::refresh_valuation(&fx.key, &vault, 0, 3)], &[]).await.unwrap();
    let user = fx.user(&mut chain, &[1_000_000_000, 1_000_000, 1_000_000_000]).await.unwrap();
    fx.deposit(&mut chain, &user, vec![1_000_000_000, 1_000_000, 1_000_000_000], 1).await.unwrap();
    assert_eq!(chain.clock().await.slot, slot, "same slot");
    assert_ballast_err(poke_cached(&mut chain, &fx).await, BallastError::ValuationOutdated);
    // Refreshed again after the deposit, the same slot works.
    refresh_and_poke(&mut chain, &fx).await.expect("refreshed after the deposit");
}

/// An in-kind withdrawal between refresh and use (found by the outside review: `withdraw` sealed the vault only
/// when it owed a claim). The cached reserves were the vault before the withdrawal while the share supply was
/// after it: a $1M deposit in kind, refresh, withdraw it, cached poke valued a $1M vault at ~2× its share price
/// and crystallised a 20 % performance fee on the fake gain (1 293 bps of the vault to the fee recipients).
/// Now every withdrawal moves the sequence and the poke is refused.
#[tokio::test]
async fn a_withdrawal_between_refresh_and_use_is_refused() {
    let (mut chain, fx, seed) = seeded_on(Chain::start().await).await;
    chain.send(&[client::init_valuation_cache(&chain.payer_key(), &fx.key)], &[]).await.unwrap();
    let vault = fx.state(&mut chain).await;
    chain.send(&[client::refresh_valuation(&fx.key, &vault, 0, 3)], &[]).await.unwrap();
    let shares = chain.token_amount(&seed.shares).await / 2;
    fx.withdraw(&mut chain, &seed, shares, vec![0, 0, 0]).await.unwrap();
    assert_ballast_err(poke_cached(&mut chain, &fx).await, BallastError::ValuationOutdated);
}

/// A refresh reached by CPI is refused: only a top-level instruction may refresh.
#[tokio::test]
async fn a_refresh_by_cpi_is_refused() {
    let (mut chain, fx) = cached_on(Chain::start_with_program::<Relay>("relay", RELAY_ID).await).await;
    let vault = fx.state(&mut chain).await;
    let r = chain.send(&[relayed(client::refresh_valuation(&fx.key, &vault, 0, 3))], &[]).await;
    assert_ballast_err(r, BallastError::RefreshByCpi);
    chain.send(&[client::refresh_valuation(&fx.key, &vault, 0, 3)], &[]).await.expect("top level");
}

/// A refresh naming another asset's oracle or reserve fails the whole transaction, in a batch too (a wrong
/// account is never merely skipped).
#[tokio::test]
async fn a_refresh_reading_another_assets_oracle_or_reserve_fails() {
    let (mut chain, fx) = cached().await;
    let vault = fx.state(&mut chain).await;
    let mut ix = client::refresh_valuation(&fx.key, &vault, 0, 3);
    // Remaining accounts start after vault and cache: [oracle_0, reserve_0, oracle_1, reserve_1, ...].
    ix.accounts[2].pubkey = vault.assets[1].oracle;
    assert_ballast_err(chain.send(&[ix], &[]).await, BallastError::OracleAccountMismatch);
    let mut ix = client::refresh_valuation(&fx.key, &vault, 1, 1);
    ix.accounts[3].pubkey = vault.assets[2].reserve;
    assert_ballast_err(chain.send(&[ix], &[]).await, BallastError::ReserveMismatch);
    // More assets than the vault has.
    let mut ix = client::refresh_valuation(&fx.key, &vault, 2, 1);
    ix.data = anchor_lang::InstructionData::data(&ballast::instruction::RefreshValuation {
        args: ballast::instructions::RefreshValuationArgs { first: 3 },
    });
    assert_ballast_err(chain.send(&[ix], &[]).await, BallastError::RefreshOutOfRange);
}

/// Another vault's cache, refreshed in the same slot, is refused by the poke (`ValuationCacheMismatch`); a
/// refresh of one vault cannot write another's cache (its address is the vault's PDA).
#[tokio::test]
async fn another_vaults_cache_is_refused() {
    let (mut chain, fx) = cached().await;
    let other =
        fixture::create_vault_numbered(&mut chain, 1, &three_assets(), fixture::default_params()).await.unwrap();
    seed_at_targets(&mut chain, &other).await;
    chain.send(&[client::init_valuation_cache(&chain.payer_key(), &other.key)], &[]).await.unwrap();
    let mine = fx.state(&mut chain).await;
    let theirs = other.state(&mut chain).await;
    let mut poke = client::poke_cached(&fx.key, &mine);
    poke.accounts[2].pubkey = client::valuation_cache_address(&other.key);
    let r = chain.send(&[client::refresh_valuation(&other.key, &theirs, 0, 3), poke], &[]).await;
    assert_ballast_err(r, BallastError::ValuationCacheMismatch);
    let mut refresh = client::refresh_valuation(&fx.key, &mine, 0, 3);
    refresh.accounts[1].pubkey = client::valuation_cache_address(&other.key);
    let r = chain.send(&[refresh], &[]).await;
    assert_eq!(
        ballast_harness::chain::custom_error(&r.unwrap_err()),
        Some(anchor_lang::error::ErrorCode::ConstraintSeeds as u32)
    );
}

/// A batch with a stale oracle: the asset is skipped and reported (the event names it and the error), the
/// others are refreshed, and the poke is refused for the skipped asset (`ValuationReadingRefused`: its balance
/// is recorded for withdrawals into claims, its reading is not used). Alone, the same refresh fails with the
/// oracle's own error.
#[tokio::test]
async fn a_batch_skips_a_failing_entry_and_a_lone_one_fails() {
    let (mut chain, fx) = cached().await;
    chain.advance_time(61).await;
    fx.refresh_prices(&mut chain).await;
    set_price(&mut chain, &fx, 1, 100, 61).await;
    let vault = fx.state(&mut chain).await;
    let (r, logs) = chain.send_logged(&[client::refresh_valuation(&fx.key, &vault, 0, 3)], &[]).await;
    r.expect("the batch lands");
    let events = client::events::decode::<ValuationRefreshedEvent>(&logs);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].refreshed, vec![0, 2]);
    assert_eq!(events[0].skipped_assets, vec![1]);
    assert_eq!(events[0].skipped_errors, vec![u32::from(BallastError::OracleStale)]);
    let (r, logs) = chain.send_logged(&[client::poke_cached(&fx.key, &vault)], &[]).await;
    assert_ballast_err(r, BallastError::ValuationReadingRefused);
    let refused = format!(
        "valuation cache entry of asset 1 is from slot {} (reading refused: {})",
        chain.clock().await.slot,
        u32::from(BallastError::OracleStale)
    );
    assert!(logs.iter().any(|l| l.contains(&refused)), "{logs:#?}");
    let r = chain.send(&[client::refresh_valuation(&fx.key, &vault, 1, 1)], &[]).await;
    assert_ballast_err(r, BallastError::OracleStale);
}

/// A rebalance valued from the cache (refresh and trade in one transaction), direct and flash, through the
/// reference AMM and the real Raydium CPMM program: it trades what the planner quoted, to the unit, as the
/// direct path does (`dex.rs::the_vault_rebalances_through_the_real_raydium_and_orca_programs`).
#[tokio::test]
async fn a_rebalance_valued_from_the_cache_trades_through_the_reference_amm_and_a_real_cpmm_pool() {
    use ballast_client::RouteMode;
    use ballast_harness::dex::Amm;
    for amm in [Amm::Reference, Amm::Raydium] {
        for mode in [RouteMode::Direct, RouteMode::Flash] {
            let mut m = DexMarket::new(amm).await;
            m.chain.send(&[client::init_valuation_cache(&m.chain.payer_key(), &m.fx.key)], &[]).await.unwrap();
            m.move_price(0, 25).await;
            let seq = m.fx.state(&mut m.chain).await.valuation_seq;
            let (c, received) = m.keeper_trades(mode, true).await;
            assert_eq!((c.request.sell, c.request.buy), (0, 2), "{amm:?} {mode:?}");
            assert_eq!(received, c.expected_out, "{amm:?} {mode:?}: the quote, to the unit");
            assert!(received >= c.plan.floor_out);
            let vault = m.fx.state(&mut m.chain).await;
            assert!(vault.last_rebalance_slot > 0 && vault.flight.is_none());
            assert!(vault.valuation_seq > seq);
        }
    }
}

/// A trade valued from a cache refreshed before the vault changed (here a poke in between, in the same slot)
/// is refused, and so is one a slot after its refresh; nothing moves.
#[tokio::test]
async fn a_rebalance_on_an_outdated_cache_is_refused() {
    let mut m = DexMarket::new(ballast_harness::dex::Amm::Raydium).await;
    m.chain.send(&[client::init_valuation_cache(&m.chain.payer_key(), &m.fx.key)], &[]).await.unwrap();
    m.move_price(0, 25).await;
    let c = m.until_trade().await;
    let holdings = m.fx.holdings(&mut m.chain).await;
    let mut ixs = m.trade_ixs(client::RouteMode::Direct, &c, true).await;
    // Between the refresh (first) and the trade: a direct poke, which changes the vault.
    let vault = m.fx.state(&mut m.chain).await;
    ixs.insert(1, client::poke(&m.fx.key, &vault));
    let keeper = m.keeper.insecure_clone();
    assert_ballast_err(m.chain.send(&ixs, &[&keeper]).await, BallastError::ValuationOutdated);
    assert_eq!(m.fx.holdings(&mut m.chain).await, holdings);
    // Refresh and trade reordered across slots: refreshed in one transaction, the trade a slot later.
    ixs.remove(1);
    m.chain.send(&ixs[..1], &[]).await.unwrap();
    m.chain.advance_slots(1).await;
    assert_ballast_err(m.chain.send(&ixs[1..], &[&keeper]).await, BallastError::ValuationStale);
    assert_eq!(m.fx.holdings(&mut m.chain).await, holdings);
    // Refreshed in the same transaction, the same trade lands.
    m.chain.send(&ixs, &[&keeper]).await.expect("trades");
}

/// Tokens sent to the traded reserves between the refresh and a cached trade (second outside review): the
/// sold reserve one unit (the trade failed with `SwapInputMismatch`: a one-unit grief of every cached trade
/// sent apart from its refresh), the bought reserve 1 000 units (counted as the swap's output). The trade now
/// reads both reserves as they are: it lands and the vault receives exactly the quote on top of the gift.
#[tokio::test]
async fn a_transfer_into_the_traded_reserves_after_the_refresh_is_neither_output_nor_a_mismatch() {
    use ballast_client::RouteMode;
    let mut m = DexMarket::new(ballast_harness::dex::Amm::Raydium).await;
    m.chain.send(&[client::init_valuation_cache(&m.chain.payer_key(), &m.fx.key)], &[]).await.unwrap();
    m.move_price(0, 25).await;
    let c = m.until_trade().await;
    let ixs = m.trade_ixs(RouteMode::Direct, &c, true).await;
    let vault = m.fx.state(&mut m.chain).await;
    m.chain.send(&ixs[..1], &[]).await.unwrap();
    let gifts = [(0, 1), (2, 1_000)];
    for (i, amount) in gifts {
        let a = &m.fx.assets[i];
        let gift = m.chain.mint_to_ix(&a.mint, &vault.assets[i].reserve, amount, a.spec.program).unwrap();
        m.chain.send(&[gift], &[]).await.unwrap();
    }
    let before = m.fx.holdings(&mut m.chain).await[2];
    let keeper = m.keeper.insecure_clone();
    m.chain.send(&ixs[1..], &[&keeper]).await.expect("the cached trade lands");
    assert_eq!(m.fx.holdings(&mut m.chain).await[2] - before, c.expected_out, "the quote, the gift not counted");
}

/// A chain that has run a while (a second a tick, as `ballast localnet`'s clock does) keeps its time through a
/// warp of a few slots, such as a lookup table's creation: 400 ms a slot. Found adding a 128-asset vault to a
/// local network after the client tests: the warp put the clock on the bank's own estimate of the time (here 25
/// slots moved it by nothing), and the vault's prices, published just before, were refused as stale by its first
/// refresh (`OracleStale` in every entry, then `ValuationReadingRefused`).
#[tokio::test]
async fn a_warp_of_a_few_slots_moves_a_long_running_chain_clock_by_400_ms_a_slot() {
    let mut chain = Chain::start().await;
    for _ in 0..300 {
        chain.advance_time(1).await;
    }
    let before = chain.clock().await;
    chain.advance_slots(1).await;
    assert_eq!(chain.clock().await.unix_timestamp, before.unix_timestamp, "one slot: the same second");
    chain.advance_slots(25).await;
    let after = chain.clock().await;
    assert_eq!((after.slot, after.unix_timestamp), (before.slot + 26, before.unix_timestamp + 10));
}
