//! An outside review of the 128-asset changes (`withdraw_to_claim`, the valuation cache's refused entries,
//! `Vault::space` growth, `skip_mask: u128`, `Claim::owed: [u64; 128]`). Each test is one attack: a test of an
//! attack that works asserts the safe behaviour (so it fails today and prints the numbers); a test of an attack
//! that is blocked asserts the specific defence.

use anchor_lang::solana_program::instruction::Instruction;
use ballast::errors::BallastError;
use ballast::state::Vault;
use ballast_client as client;
use ballast_harness::chain::{custom_error, error_name, Chain};
use ballast_harness::dex::Amm;
use ballast_harness::fixture::{User, VaultFixture};
use ballast_harness::pyth::PriceSpec;
use ballast_tests::*;
use solana_program_test::BanksClientError;
use solana_signer::Signer;

/// Sends each transaction, recording each result (does not stop at the first failure).
async fn send_all(
    chain: &mut Chain,
    txs: &[Vec<Instruction>],
    last_signer: &solana_keypair::Keypair,
) -> Vec<Result<(), BanksClientError>> {
    let last = txs.len() - 1;
    let mut out = Vec::new();
    for (k, tx) in txs.iter().enumerate() {
        let signers: &[&solana_keypair::Keypair] = if k == last { &[last_signer] } else { &[] };
        out.push(chain.send(tx, signers).await);
    }
    out
}

fn describe(r: &Result<(), BanksClientError>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => format!("{} ({:?})", error_name(e), custom_error(e)),
    }
}

async fn ensure_claim(chain: &mut Chain, fx: &VaultFixture, owner: &anchor_lang::prelude::Pubkey) {
    if chain.account(&client::pda::claim(&fx.key, owner)).await.is_none() {
        let open = client::open_claim(&chain.payer_key(), &fx.key, owner);
        let framed = client::with_heap_frame(&fx.state(chain).await, vec![open]);
        chain.send(&framed, &[]).await.unwrap();
    }
}

/// `shares` of `from`'s share account moved to `to`'s (a plain SPL transfer).
async fn give_shares(chain: &mut Chain, from: &User, to: &User, shares: u64) {
    let ix = anchor_spl::token::spl_token::instruction::transfer(
        &anchor_spl::token::ID,
        &from.shares,
        &to.shares,
        &from.keypair.pubkey(),
        &[],
        shares,
    )
    .unwrap();
    chain.send(&[ix], &[&from.keypair]).await.unwrap();
}

/// ATTACK (liveness, fixed): whoever can make ONE asset's pinned oracle account unreadable (closed by its Pyth
/// write authority via `reclaim_rent`, re-owned, a partially verified update written into it) locked every
/// holder of a large vault: an account-level failure (`read_asset_reading`: owner, layout, verification, feed
/// id) failed the whole refresh batch (`OracleWrongOwner`), so `withdraw_to_claim` never had a same-slot
/// balance for that asset (`ValuationStale`), and past ~19 assets there is no other exit. Measured before the
/// fix: the seed holder's 9 998 bps of the vault ($9 998.97) could not leave. Now the batch records the
/// balance with the reason, like a refused reading: the holder leaves; valuing from that entry stays refused.
#[tokio::test]
async fn a_closed_oracle_account_blocks_every_withdrawal_from_a_large_vault() {
    let n = 32;
    let (m, seed) = DexMarket::large(Amm::Reference, n).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let owner = seed.keypair.pubkey();
    ensure_claim(chain, &fx, &owner).await;
    let held = chain.token_amount(&seed.shares).await;
    let value = share_value(chain, &fx, held).await;

    // Asset 5's pinned PriceUpdateV2 account is closed (what the write authority's `reclaim_rent` leaves: a
    // system-owned, empty account).
    chain.set_raw_account(&fx.assets[5].oracle, vec![], anchor_lang::system_program::ID).await;

    let vault = fx.state(chain).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, held);
    let txs = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &vault);
    let results = send_all(chain, &txs, &seed.keypair).await;
    for (k, r) in results.iter().enumerate() {
        println!("closed oracle of asset 5 in a {n}-asset vault: tx {k}: {}", describe(r));
    }
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(chain.token_amount(&seed.shares).await, 0, "the holder left (${value:.2})");
    assert!(fx.claim_owed(chain, &owner).await[5] > 0, "asset 5's part is owed");
    // The entry holds the balance and the reason; valuing from it is refused.
    let vault = fx.state(chain).await;
    let poke = client::cached_transactions(&[client::poke(&fx.key, &vault)], &fx.key, &vault);
    let r = send_all(chain, &poke, &chain.payer()).await;
    assert_ballast_err(r.into_iter().last().unwrap(), BallastError::ValuationReadingRefused);
    // Alone, the same refresh still fails with the account's own error.
    let alone = client::with_heap_frame(&vault, vec![client::refresh_valuation(&fx.key, &vault, 5, 1)]);
    assert_ballast_err(chain.send(&alone, &[]).await, BallastError::OracleWrongOwner);
}

/// ATTACK (upgrade, fixed): `Claim::owed` grew from `[u64; 16]` to `[u64; 128]`: a claim opened before the
/// upgrade (201 bytes, the same layout prefix) no longer deserializes, so `redeem_claim` could never pay it
/// (3003), `open_claim` refused the existing address, and the vault kept `Asset::owed` aside forever (measured:
/// 749 924 225 USDC base units). Now `open_claim` grows such a claim in place (anyone may pay): what it owes is
/// kept and redeemed in full.
#[tokio::test]
async fn a_claim_opened_before_the_upgrade_can_never_be_redeemed() {
    let (mut chain, fx, user) = setup_seeded().await;
    let chain = &mut chain;
    let owner = user.keypair.pubkey();
    let shares = chain.token_amount(&user.shares).await;
    fx.withdraw_skipping(chain, &user, shares / 4, vec![0; 3], 0b100).await.expect("withdraw skipping USDC");
    let owed = fx.claim_owed(chain, &owner).await;
    assert!(owed[2] > 0);
    // The account as the previous program version wrote it: discriminator, vault, owner, bump, 16 × u64.
    let claim = client::pda::claim(&fx.key, &owner);
    let data = chain.account(&claim).await.unwrap().data;
    assert_eq!(ballast::state::Claim::LEGACY_SPACE, 8 + 32 + 32 + 1 + 16 * 8);
    let legacy = data[..ballast::state::Claim::LEGACY_SPACE].to_vec();
    chain.set_raw_account(&claim, legacy, ballast::ID).await;

    let vault = fx.state(chain).await;
    let redeem = || client::redeem_claim(&owner, &fx.key, &vault, 2, &user.tokens[2]);
    let r = chain.send(&[redeem()], &[&user.keypair]).await;
    assert_eq!(custom_error(r.as_ref().unwrap_err()), Some(3003), "the old layout does not load: {}", describe(&r));
    chain.send(&[client::open_claim(&chain.payer_key(), &fx.key, &owner)], &[]).await.expect("grown in place");
    assert_eq!(chain.account(&claim).await.unwrap().data.len(), 8 + 32 + 32 + 1 + 128 * 8);
    assert_eq!(fx.claim_owed(chain, &owner).await, owed, "what it owes is kept");
    let before = chain.token_amount(&user.tokens[2]).await;
    chain.send(&[redeem()], &[&user.keypair]).await.expect("redeemed");
    assert_eq!(chain.token_amount(&user.tokens[2]).await - before, owed[2]);
    assert_eq!(fx.state(chain).await.assets[2].owed, 0);
    // A claim of today's layout is not re-opened.
    let again = chain.send(&[client::open_claim(&chain.payer_key(), &fx.key, &owner)], &[]).await;
    assert_ballast_err(again, BallastError::AccountAlreadyExists);
}

/// ATTACK (liveness at 128 assets, fixed): the client sent a 128-asset withdrawal as 5 refresh transactions
/// plus the use, 6 transactions, more than a Jito bundle holds (5), so on a cluster it could not land
/// atomically: anything that seals the vault between them (a 5 000-lamport `redeem_claim` of the griefer's own
/// claim, a poke) voids the refresh (`ValuationOutdated`, shown on a 32-asset vault: why the plan must be one
/// bundle). The use now rides in the last refresh transaction: 5 transactions at 128 assets.
#[tokio::test]
async fn a_128_asset_withdrawal_needs_more_transactions_than_a_bundle_holds() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let owner = seed.keypair.pubkey();
    // A griefer holding a little of the vault, with a claim of a few units of many assets.
    let griefer = fx.user(chain, &[0; 32]).await.unwrap();
    let held = chain.token_amount(&seed.shares).await;
    give_shares(chain, &seed, &griefer, held / 1000).await;
    ensure_claim(chain, &fx, &griefer.keypair.pubkey()).await;
    let vault = fx.state(chain).await;
    let g_ix = client::withdraw_to_claim(&griefer.keypair.pubkey(), &fx.key, &vault, &griefer.shares, held / 1000);
    let txs = client::cached_transactions(&[g_ix], &fx.key, &vault);
    for r in send_all(chain, &txs, &griefer.keypair).await {
        r.unwrap();
    }
    let g_owed = fx.claim_owed(chain, &griefer.keypair.pubkey()).await;
    println!("griefer's claim: {} assets owed (one seal each)", g_owed.iter().filter(|o| **o > 0).count());

    // The victim's withdrawal, with the griefer's redeem landing between the refresh and the use.
    ensure_claim(chain, &fx, &owner).await;
    let vault = fx.state(chain).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, held / 2);
    let txs = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &vault);
    let (refresh, use_) = txs.split_at(txs.len() - 1);
    for tx in refresh {
        chain.send(tx, &[]).await.unwrap();
    }
    let i = g_owed.iter().position(|o| *o > 0).unwrap();
    let grief = client::redeem_claim(&griefer.keypair.pubkey(), &fx.key, &vault, i as u8, &griefer.tokens[i]);
    chain.send(&client::with_heap_frame(&vault, vec![grief]), &[&griefer.keypair]).await.unwrap();
    assert_ballast_err(chain.send(&use_[0], &[&seed.keypair]).await, BallastError::ValuationOutdated);

    // The client's plan for 128 assets (the 32-asset vault's table repeated: only the count matters).
    let mut big: Vault = vault.clone();
    while big.assets.len() < 128 {
        let a = big.assets[big.assets.len() % 32];
        big.assets.push(a);
    }
    let ix = client::withdraw_to_claim(&owner, &fx.key, &big, &seed.shares, 1);
    let plan = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &big);
    let accounts: Vec<usize> = plan
        .iter()
        .map(|tx| {
            let mut keys: std::collections::BTreeSet<_> =
                tx.iter().flat_map(|ix| ix.accounts.iter().map(|a| a.pubkey).chain([ix.program_id])).collect();
            keys.insert(chain.payer_key());
            keys.len()
        })
        .collect();
    println!("128 assets: {} transactions naming {accounts:?} accounts", plan.len());
    assert!(plan.len() <= client::BUNDLE_MAX_TRANSACTIONS, "{} transactions: more than one bundle", plan.len());
    assert!(accounts.iter().all(|a| *a <= 64), "{accounts:?}");
}

/// BLOCKED: a claim redeemed between the refresh and the use would leave the cache counting the paid-out
/// tokens (reserve R cached, owed lowered by x: the withdrawer's `available` up by x); `redeem_claim` seals
/// the vault, so the use is refused (`ValuationOutdated`) and nothing is burned.
#[tokio::test]
async fn a_claim_redeemed_between_refresh_and_use_voids_the_cache() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let owner = seed.keypair.pubkey();
    let other = fx.user(chain, &[0; 32]).await.unwrap();
    let held = chain.token_amount(&seed.shares).await;
    give_shares(chain, &seed, &other, held / 2).await;
    ensure_claim(chain, &fx, &other.keypair.pubkey()).await;
    ensure_claim(chain, &fx, &owner).await;
    let vault = fx.state(chain).await;
    let o_ix = client::withdraw_to_claim(&other.keypair.pubkey(), &fx.key, &vault, &other.shares, held / 2);
    for r in send_all(chain, &client::cached_transactions(&[o_ix], &fx.key, &vault), &other.keypair).await {
        r.unwrap();
    }
    let o_owed = fx.claim_owed(chain, &other.keypair.pubkey()).await;
    let mine = chain.token_amount(&seed.shares).await;
    let vault = fx.state(chain).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, mine);
    let txs = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &vault);
    let (refresh, use_) = txs.split_at(txs.len() - 1);
    for tx in refresh {
        chain.send(tx, &[]).await.unwrap();
    }
    // The other holder redeems asset 0 (x leaves the reserve and Asset::owed).
    let redeem = client::redeem_claim(&other.keypair.pubkey(), &fx.key, &vault, 0, &other.tokens[0]);
    chain.send(&client::with_heap_frame(&vault, vec![redeem]), &[&other.keypair]).await.unwrap();
    let supply = (fx.share_supply(chain).await + fx.state(chain).await.fees.pending_shares) as u128;
    let state = fx.state(chain).await;
    let available = (fx.holdings(chain).await[0] - state.assets[0].owed - state.assets[0].pending_in) as u128;
    let fair = available * mine as u128 / supply;
    let extra = o_owed[0] as u128 * mine as u128 / supply;
    println!(
        "x = {} units of asset 0 redeemed after the refresh; a cache not voided would owe the withdrawer {extra} units over its fair {fair} (+{} bps of its asset-0 amount)",
        o_owed[0],
        extra * 10_000 / fair.max(1)
    );
    assert_ballast_err(chain.send(&use_[0], &[&seed.keypair]).await, BallastError::ValuationOutdated);
    assert_eq!(chain.token_amount(&seed.shares).await, mine, "nothing burned");
}

/// BLOCKED: a reading refused at refresh (stale feed of asset 5) leaves an entry whose balance is fresh;
/// no valuing instruction accepts it (`ValuationReadingRefused`): a deposit request priced from it is refused,
/// as is `accrue_fees` (priced fees).
#[tokio::test]
async fn a_refused_reading_is_not_accepted_by_a_valuing_instruction() {
    let (m, _seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    chain.advance_time(120).await;
    fx.refresh_prices(chain).await;
    let a = &fx.assets[5];
    let now = chain.clock().await.unix_timestamp;
    chain.set_price(&a.oracle, &PriceSpec::new(a.feed_id, a.spec.price, a.spec.expo, now - 120)).await;
    let vault = fx.state(chain).await;
    let amount = fx.amount_for_usd(chain, 5, 50.0).await;
    let mut amounts = vec![0; 32];
    amounts[5] = amount;
    let depositor = fx.user(chain, &amounts).await.unwrap();
    let request = client::request_deposit(
        &depositor.keypair.pubkey(),
        &fx.key,
        &vault,
        &depositor.shares,
        &depositor.tokens[5],
        ballast::instructions::RequestDepositArgs { asset_index: 5, amount, min_shares_out: 1 },
    );
    let r = fx.send_valued(chain, &[request], &[&depositor.keypair]).await;
    println!("request_deposit valued from a cache with asset 5 refused: {}", describe(&r));
    assert_ballast_err(r, BallastError::ValuationReadingRefused);
    // A refresh of the refused asset alone writes nothing and names the oracle's own error.
    let lone =
        chain.send(&client::with_heap_frame(&vault, vec![client::refresh_valuation(&fx.key, &vault, 5, 1)]), &[]).await;
    assert_ballast_err(lone, BallastError::OracleStale);
    // The client never sends a lone batch for a vault above DIRECT_MAX_ASSETS (so one refused reading never
    // fails a withdrawer's refresh).
    for n in 17..=128usize {
        let mut v = vault.clone();
        v.assets.truncate(n.min(32));
        while v.assets.len() < n {
            let a = v.assets[v.assets.len() % 32];
            v.assets.push(a);
        }
        let batches = client::refresh_valuation_batches(&fx.key, &v, client::REFRESH_BATCH);
        for b in &batches {
            let count = (b.accounts.len() - 2) / 2;
            assert!(count >= 2, "{n} assets: a lone batch");
        }
    }
}

/// BLOCKED (no gain): tokens donated to a reserve after the refresh are not counted for the withdrawer
/// (the cache's balance is the one a direct read before the donation saw); the donation stays with the
/// remaining holders, and the withdrawer's owed amounts never exceed its pro-rata share of the real reserves.
#[tokio::test]
async fn a_donation_between_refresh_and_use_pays_the_withdrawer_nothing_extra() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let owner = seed.keypair.pubkey();
    ensure_claim(chain, &fx, &owner).await;
    let held = chain.token_amount(&seed.shares).await;
    let shares = held / 2;
    let vault = fx.state(chain).await;
    let supply = fx.share_supply(chain).await + vault.fees.pending_shares;
    let before = fx.holdings(chain).await;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, shares);
    let txs = client::cached_transactions(std::slice::from_ref(&ix), &fx.key, &vault);
    let (refresh, use_) = txs.split_at(txs.len() - 1);
    for tx in refresh {
        chain.send(tx, &[]).await.unwrap();
    }
    let reserve3 = client::pda::reserve(&fx.key, &fx.assets[3].mint);
    chain.mint_to(&fx.assets[3].mint, &reserve3, before[3], fx.assets[3].spec.program).await.unwrap();
    chain.send(&use_[0], &[&seed.keypair]).await.expect("the use still lands: a donation does not seal");
    let owed = fx.claim_owed(chain, &owner).await;
    let pro_rata = (before[3] as u128 * shares as u128 / supply as u128) as u64;
    println!(
        "asset 3 doubled by a donation after the refresh: owed {} (pro rata of the cached {} = {pro_rata}; of the real {} = {})",
        owed[3],
        before[3],
        before[3] * 2,
        (before[3] as u128 * 2 * shares as u128 / supply as u128)
    );
    assert!(owed[3] <= pro_rata, "counted from the cache, not the donation");
    for (i, (o, h)) in owed.iter().zip(&before).enumerate() {
        assert!(*o as u128 <= *h as u128 * shares as u128 / supply as u128, "asset {i}");
    }
}

/// BLOCKED: `skip_mask` bits past the vault's assets are refused before anything else (`InvalidSkipMask`),
/// at 3 and 32 assets, the top bit (127) included; `withdraw_to_claim`'s event mask needs n ≥ 1 (n = 0 is a
/// vault that cannot have shares).
#[tokio::test]
async fn skip_mask_bits_past_the_assets_are_refused() {
    let (m, seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    ensure_claim(chain, &fx, &seed.keypair.pubkey()).await;
    let vault = fx.state(chain).await;
    for mask in [1u128 << 32, 1u128 << 127, u128::MAX] {
        let args = ballast::instructions::WithdrawArgs { shares: 1, min_amounts_out: vec![0; 32], skip_mask: mask };
        // No legs (the mask is checked before them; 32 legs would not fit a transaction).
        let ix = client::withdraw(&seed.keypair.pubkey(), &fx.key, &vault, &seed.shares, &[], args);
        let r = chain.send(&client::with_heap_frame(&vault, vec![ix]), &[&seed.keypair]).await;
        assert_ballast_err(r, BallastError::InvalidSkipMask);
    }
    // A legal mask (bit 31) passes the mask check and fails later, on the missing legs.
    let args = ballast::instructions::WithdrawArgs { shares: 1, min_amounts_out: vec![0; 32], skip_mask: 1u128 << 31 };
    let ix = client::withdraw(&seed.keypair.pubkey(), &fx.key, &vault, &seed.shares, &[], args);
    let r = chain.send(&client::with_heap_frame(&vault, vec![ix]), &[&seed.keypair]).await;
    println!("bit 31 of a 32-asset vault: {}", describe(&r));
    assert_ne!(custom_error(r.as_ref().unwrap_err()), Some(BallastError::InvalidSkipMask.into()));

    let (mut chain3, fx3, user3) = setup_seeded().await;
    for mask in [1u128 << 3, 1u128 << 16, 1u128 << 127] {
        let r = fx3.withdraw_skipping(&mut chain3, &user3, 1, vec![0; 3], mask).await;
        assert_ballast_err(r, BallastError::InvalidSkipMask);
    }
}

/// BOUNDED: the vault's account grows by `PER_ASSET_SPACE` at each `add_asset` (well under the 10 KiB an
/// instruction may grow an account), is created under the 10 KiB a program may create, and a 32-asset vault
/// holds exactly `Vault::space(32)` bytes, rent-exempt. Lamports sent to the vault beforehand only lower the
/// governance payer's top-up.
#[tokio::test]
async fn vault_growth_fits_the_realloc_limit_and_stays_rent_exempt() {
    const LIMIT: usize = 10 * 1024;
    assert!(Vault::space(0) <= LIMIT, "created at {} bytes", Vault::space(0));
    for n in 0..ballast::constants::MAX_ASSETS {
        assert!(Vault::space(n + 1) - Vault::space(n) <= LIMIT);
    }
    assert_eq!(Vault::space(ballast::constants::MAX_ASSETS), 8 + <Vault as anchor_lang::Space>::INIT_SPACE);
    let (m, _seed) = DexMarket::large(Amm::Reference, 32).await;
    let DexMarket { mut chain, fx, .. } = m;
    let acc = chain.account(&fx.key).await.unwrap();
    println!(
        "space(0) = {}, per asset {}, space(32) = {} (account {} bytes, {} lamports), space(128) = {}",
        Vault::space(0),
        Vault::PER_ASSET_SPACE,
        Vault::space(32),
        acc.data.len(),
        acc.lamports,
        Vault::space(128)
    );
    assert_eq!(acc.data.len(), Vault::space(32));
    // Rent-exempt at the default rent (3 480 lamports a byte-year, 2 years, 128 bytes of overhead).
    assert!(acc.lamports >= (acc.data.len() as u64 + 128) * 3_480 * 2);
}

/// ATTACK (liveness on a cluster, second review, fixed): the program's allocator hands out up to 256 KiB, but a
/// transaction that requests no heap frame has 32 KiB mapped: past it the program faults. Only the cache plans
/// carried the frame; `open_claim` (before every `withdraw_to_claim`), the guardian's `set_pause`, a refresh
/// batch sent alone (as the TypeScript client sent it), `add_asset`, `add_amm`, `activate_vault` and
/// `init_valuation_cache` went out bare, and the embedded chain only recorded the heap, so nothing failed here.
/// Measured at 64 assets: `add_amm` 35 184 bytes, and every instruction that decodes the vault passes 32 768
/// between about 45 and 60 assets. The chain now enforces the heap a transaction has (`heap_meter`), the
/// harness and the TypeScript client send the frame for vaults above 16 assets, and bare instructions fail as
/// they would on a cluster.
#[tokio::test]
async fn instructions_sent_without_a_heap_frame_overflow_the_default_heap_of_a_64_asset_vault() {
    bare_and_framed_instructions_of_a_64_asset_vault().await;
}

/// The same on a multi-threaded runtime (the local network's), where the bank may run an invocation on another
/// thread than the sender's and the sending task may move between threads while it waits. Found while serving a
/// 128-asset vault on `ballast localnet`: the heap limit was kept per thread, went stale on the thread a task
/// had left, and a later transaction with the 256 KiB frame failed as if it had 32 KiB (its seed deposit,
/// `HEAP_EXCEEDED`). Building the vault sends each of its 64 seed deposits with the frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heap_a_transaction_has_holds_on_a_multi_threaded_runtime() {
    bare_and_framed_instructions_of_a_64_asset_vault().await;
}

async fn bare_and_framed_instructions_of_a_64_asset_vault() {
    use ballast::state::pause;
    use ballast_harness::heap_meter::HEAP_EXCEEDED;
    let n = 64;
    let (m, seed) = DexMarket::large(Amm::Reference, n).await;
    let DexMarket { mut chain, fx, .. } = m;
    let chain = &mut chain;
    let vault = fx.state(chain).await;
    assert!(client::heap_frame(&vault).is_some(), "a vault of {n} assets needs the frame");
    let owner = seed.keypair.pubkey();
    let guardian = fx.guardian.insecure_clone();
    let batch = client::refresh_valuation_batches(&fx.key, &vault, client::REFRESH_BATCH).remove(0);
    let cases: [(&str, _, Vec<&solana_keypair::Keypair>); 3] = [
        ("open_claim", client::open_claim(&chain.payer_key(), &fx.key, &owner), vec![]),
        ("refresh_valuation", batch, vec![]),
        ("set_pause", client::set_pause(&guardian.pubkey(), &fx.key, pause::DEPOSITS), vec![&guardian]),
    ];
    for (name, ix, signers) in cases {
        let bare = chain.send(std::slice::from_ref(&ix), &signers).await;
        assert_eq!(custom_error(bare.as_ref().unwrap_err()), Some(HEAP_EXCEEDED), "{name} without the frame");
        chain
            .send(&client::with_heap_frame(&vault, vec![ix]), &signers)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(fx.state(chain).await.is_paused(pause::DEPOSITS), "the guardian's pause landed with the frame");
}
