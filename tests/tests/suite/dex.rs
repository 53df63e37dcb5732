//! Real liquidity, executed: the vault rebalances through the real Raydium CPMM and Orca Whirlpool programs
//! (compiled builds in `tests/fixtures/dex/`, executed in the test validator's SBF VM beside ballast's
//! native programs): direct through each adapter, flash through each and across both, the keeper's quote
//! against what the programs pay, and every adapter refusal with its exact error.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::AccountMeta;
use ballast::errors::BallastError;
use ballast::instructions::RebalanceArgs;
use ballast_client::dex::{self, Leg, PoolKind};
use ballast_client::planner::{self, AmmQuote as _};
use ballast_client::{self as client, RouteMode};
use ballast_harness::dex::{Amm, AnyPool};
use ballast_tests::*;
use solana_signer::Signer;

const SOL: usize = 0;
const BTC: usize = 1;
const USDC: usize = 2;

/// The fixture files are the documented builds: their sha256 is the one in `tests/fixtures/dex/README.md`.
#[test]
fn the_dex_fixtures_are_the_documented_builds() {
    use sha2_like::digest;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dex");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for (file, sha) in [
        ("raydium_cp_swap.so", "4ec452fc44ad608c638a08355b8f964c92109a646f63ab481f98ee5e90c00e7b"),
        ("whirlpool.so", "b9be0d3aeb5bb0f18e967093b84061f70c042a8f9d1b8f4f2028cabd076e0195"),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(digest(&bytes), sha, "{file}");
        assert!(readme.contains(sha), "the README states {file}'s sha256");
        assert!(bytes.len() < 1_000_000, "{file} under 1 MB");
    }
    for (file, prefix) in [
        ("D4FPEruKEHrG5TenZ2mpDGEfu1iUvTiqBxvpU8HLBvC2.json", "0bea56f5"),
        ("DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8.json", "7201d2b8"),
    ] {
        let hex = digest(&std::fs::read(dir.join(file)).unwrap());
        assert!(hex.starts_with(prefix), "{file}: {hex}");
    }
}

/// A minimal SHA-256 (FIPS 180-4) for the fixture check, so the test needs no extra crate.
mod sha2_like {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    pub fn digest(data: &[u8]) -> String {
        let mut h: [u32; 8] =
            [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        let mut msg = data.to_vec();
        let bits = (data.len() as u64).wrapping_mul(8);
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&bits.to_be_bytes());
        for block in msg.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
            }
            let mut v = h;
            for i in 0..64 {
                let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
                let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
                let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
                let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
                let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
                let t2 = s0.wrapping_add(maj);
                v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
            }
            for i in 0..8 {
                h[i] = h[i].wrapping_add(v[i]);
            }
        }
        h.iter().map(|x| format!("{x:08x}")).collect()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(digest(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

/// Direct `rebalance` through each real DEX's adapter and a flash rebalance through its pool: the
/// planner picks the real pool, the program's adapter swaps through it, reconciliation passes, and the
/// vault receives what the keeper quoted: exactly for CPMM, within one unit for Whirlpools.
#[tokio::test]
async fn the_vault_rebalances_through_the_real_raydium_and_orca_programs() {
    for amm in [Amm::Raydium, Amm::Orca] {
        for mode in [RouteMode::Direct, RouteMode::Flash] {
            let mut m = DexMarket::new(amm).await;
            m.move_price(SOL, 25).await;
            let (c, received) = m.keeper_trades(mode, false).await;
            let program = c.route.program_id;
            assert_eq!(program, if amm == Amm::Raydium { dex::raydium::ID } else { dex::orca::ID }, "{amm:?}");
            assert_eq!((c.request.sell, c.request.buy), (SOL, USDC));
            match amm {
                Amm::Raydium => assert_eq!(received, c.expected_out, "{mode:?}: CPMM pays its quote exactly"),
                _ => assert!(received.abs_diff(c.expected_out) <= 1, "{mode:?}: {received} vs {}", c.expected_out),
            }
            assert!(received >= c.plan.floor_out);
            let vault = m.fx.state(&mut m.chain).await;
            assert!(vault.last_rebalance_slot > 0 && vault.flight.is_none());
            println!("{amm:?} {mode:?}: {} in, {received} out (quote {})", c.plan.amount_in, c.expected_out);
        }
    }
}

/// The same plan, direct and flash, through the same real pool pays the same to the unit.
#[tokio::test]
async fn direct_and_flash_through_a_real_pool_pay_the_same() {
    let mut outs = Vec::new();
    for mode in [RouteMode::Direct, RouteMode::Flash] {
        let mut m = DexMarket::new(Amm::Raydium).await;
        m.move_price(SOL, 25).await;
        outs.push(m.keeper_trades(mode, false).await.1);
    }
    assert_eq!(outs[0], outs[1]);
}

/// A keeper's own two-hop route inside one flash rebalance: SOL → USDC through the real Raydium CPMM,
/// then USDC → BTC through the real Orca Whirlpool, paid into the vault's BTC reserve.
#[tokio::test]
async fn a_flash_rebalance_routes_two_hops_across_both_dexes() {
    let mut m = DexMarket::new(Amm::Raydium).await;
    let config = ballast_harness::dex::orca::create_config(&mut m.chain, &Default::default()).await.unwrap();
    let whirlpool =
        m.fx.create_whirlpool(&mut m.chain, &config, &Default::default(), USDC, BTC, 1_000_000.0).await.unwrap();
    m.move_price(SOL, 25).await;
    m.fx.relax_auction(&mut m.chain).await.unwrap();
    // The SOL → BTC trade the program allows now, at the auction's current floor.
    let planned = m.fx.plan(&mut m.chain).await;
    let (snap, val) = (&planned.snapshot, &planned.valuation);
    let (cands, _) = planner::candidates(snap, val, &planned.routes).unwrap();
    let c = cands.into_iter().find(|c| (c.request.sell, c.request.buy) == (SOL, BTC)).expect("SOL → BTC allowed");
    let vault = m.fx.state(&mut m.chain).await;
    let (sol, usdc, btc) = (vault.assets[SOL], vault.assets[USDC], vault.assets[BTC]);
    let keeper_usdc = m.keeper_accounts[USDC];
    let leg = |a: &ballast::state::Asset, account| Leg { mint: a.mint, token_program: a.token_program, account };
    // Hop 1: the keeper's SOL (just received from the vault) to its USDC through the CPMM pool …
    let cpmm = m.pool(SOL, USDC);
    let cpmm_kind = match cpmm {
        AnyPool::Cpmm(p) => PoolKind::RaydiumCpmm {
            state: Box::new(p.state(&mut m.chain).await.unwrap()),
            trade_fee_rate: 2_500,
            collected: [0, 0],
        },
        _ => unreachable!(),
    };
    let hop1_out = planned.routes.iter().find(|r| r.pool == cpmm.key()).unwrap().quote(SOL, c.plan.amount_in).unwrap();
    let hop1 = dex::swap_instruction(
        &cpmm.key(),
        &cpmm_kind,
        &m.keeper.pubkey(),
        &leg(&sol, m.keeper_accounts[SOL]),
        &leg(&usdc, keeper_usdc),
        c.plan.amount_in,
        hop1_out,
    )
    .unwrap();
    // … hop 2: that USDC to BTC through the Whirlpool, paid to the vault's reserve.
    let w_kind = m.fx.whirlpool_kind(&mut m.chain, &whirlpool).await.unwrap();
    let hop2 = dex::swap_instruction(
        &whirlpool.key,
        &w_kind,
        &m.keeper.pubkey(),
        &leg(&usdc, keeper_usdc),
        &leg(&btc, btc.reserve),
        hop1_out,
        c.plan.min_out,
    )
    .unwrap();
    let args = RebalanceArgs { sell_index: SOL as u8, buy_index: BTC as u8, amount_in: c.plan.amount_in, min_out: 0 };
    let begin = client::rebalance_begin(&m.keeper.pubkey(), &m.fx.key, &vault, &m.keeper_accounts[SOL], args);
    let end = client::rebalance_end(&m.keeper.pubkey(), &m.fx.key, &vault, SOL as u8, &m.keeper_accounts[SOL]);
    let before = m.fx.holdings(&mut m.chain).await;
    let budget = ballast_harness::dex::raydium::budget(1_000_000);
    m.chain.send(&[budget, begin, hop1, hop2, end], &[&m.keeper]).await.unwrap();
    let after = m.fx.holdings(&mut m.chain).await;
    assert!(after[BTC] - before[BTC] >= c.plan.floor_out, "the vault got at least the floor in BTC");
    assert_eq!(after[USDC], before[USDC], "USDC only passed through the keeper");
    assert!(before[SOL] - after[SOL] >= c.plan.amount_in);
}

/// The keeper's quote for each real DEX against what the program pays, over sizes from $10 to $100 000
/// and both directions: Raydium CPMM to the unit, Orca Whirlpools within one unit.
#[tokio::test]
async fn the_keepers_quote_is_what_the_real_programs_pay() {
    for amm in [Amm::Raydium, Amm::Orca] {
        let mut m = DexMarket::new(amm).await;
        let pool = m.pool(SOL, USDC);
        let mut worst = 0u64;
        let mut cases = 0;
        for (k, usd) in [10.0, 150.0, 1_000.0, 7_500.0, 40_000.0, 100_000.0].iter().enumerate() {
            for (from, to) in [(SOL, USDC), (USDC, SOL)] {
                let amount = m.fx.amount_for_usd(&mut m.chain, from, *usd * (1.0 + k as f64 / 7.0)).await;
                let vault = m.fx.state(&mut m.chain).await;
                let (_, routes) = planner::load(&mut m.chain, vault).await.unwrap();
                let route = routes.iter().find(|r| r.pool == pool.key()).expect("the pool is whitelisted");
                let quote = route.quote(from, amount).unwrap();
                let dst = m.fx.payer_account(&mut m.chain, to).await.unwrap();
                let before = m.chain.token_amount(&dst).await;
                m.fx.payer_swap_through(&mut m.chain, &pool.key(), &route.kind, from, to, amount).await.unwrap();
                let got = m.chain.token_amount(&dst).await - before;
                match amm {
                    Amm::Raydium => assert_eq!(got, quote, "{usd} USD {from}→{to}"),
                    _ => assert!(got.abs_diff(quote) <= 1, "{usd} USD {from}→{to}: {got} vs {quote}"),
                }
                worst = worst.max(got.abs_diff(quote));
                cases += 1;
            }
        }
        println!("{amm:?}: {cases} swaps, worst |paid − quoted| = {worst}");
    }
}

// ---- refusals ----

/// The rebalance instruction through `pool` of `program` with `extra` adapter accounts.
async fn rebalance_through(
    m: &mut DexMarket,
    program: Pubkey,
    pool: Pubkey,
    extra: Vec<AccountMeta>,
    sell: usize,
    buy: usize,
) -> Result<(), solana_program_test::BanksClientError> {
    let vault = m.fx.state(&mut m.chain).await;
    let args = RebalanceArgs { sell_index: sell as u8, buy_index: buy as u8, amount_in: u64::MAX, min_out: 0 };
    let ix = client::rebalance_through(
        &m.keeper.pubkey(),
        &m.fx.key,
        &vault,
        &m.keeper_accounts[sell],
        &program,
        &pool,
        extra,
        args,
    );
    let budget = ballast_harness::dex::raydium::budget(800_000);
    m.chain.send(&[budget, ix], &[&m.keeper]).await
}

/// A market out of band with its auction fully relaxed (every adapter check comes before the swap).
async fn out_of_band(amm: Amm) -> (DexMarket, Vec<planner::Route>) {
    let mut m = DexMarket::new(amm).await;
    m.move_price(SOL, 25).await;
    m.fx.relax_auction(&mut m.chain).await.unwrap();
    let vault = m.fx.state(&mut m.chain).await;
    let (_, routes) = planner::load(&mut m.chain, vault).await.unwrap();
    (m, routes)
}

#[tokio::test]
async fn a_real_pool_of_the_wrong_mints_is_refused() {
    for amm in [Amm::Raydium, Amm::Orca] {
        let (mut m, routes) = out_of_band(amm).await;
        // The whitelisted SOL/BTC pool of the right program, used for a SOL → USDC trade.
        let wrong = routes.iter().find(|r| r.pool == m.pool(SOL, BTC).key()).unwrap().clone();
        let vault = m.fx.state(&mut m.chain).await;
        let extra = wrong.adapter_accounts(&vault, SOL, BTC).unwrap();
        let holdings = m.fx.holdings(&mut m.chain).await;
        let r = rebalance_through(&mut m, wrong.program_id, wrong.pool, extra, SOL, USDC).await;
        assert_ballast_err(r, BallastError::AmmPoolMintMismatch);
        assert_eq!(m.fx.holdings(&mut m.chain).await, holdings, "{amm:?}: nothing moved");
    }
}

#[tokio::test]
async fn a_look_alike_program_is_refused() {
    let (mut m, routes) = out_of_band(Amm::Raydium).await;
    let real = routes.iter().find(|r| r.pool == m.pool(SOL, USDC).key()).unwrap().clone();
    let gov = m.fx.governance.insecure_clone();
    // Governance cannot whitelist the real pool under another program id: the pool is not that program's.
    let ix = client::add_amm(&gov.pubkey(), &m.fx.key, &dex::orca::ID, &real.pool);
    assert_ballast_err(m.chain.send(&[ix], &[&gov]).await, BallastError::InvalidAmm);
    // A look-alike: a copy of the pool's account owned by another program (here the Memo program), listed
    // under that program's id. ballast has no adapter for it: refused before any CPI.
    let memo = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
    let copy = Pubkey::new_unique();
    let data = m.chain.account(&real.pool).await.unwrap().data;
    m.chain.set_raw_account(&copy, data, memo).await;
    let ix = client::add_amm(&gov.pubkey(), &m.fx.key, &memo, &copy);
    m.chain.send(&[ix], &[&gov]).await.unwrap();
    let vault = m.fx.state(&mut m.chain).await;
    let extra = real.adapter_accounts(&vault, SOL, USDC).unwrap();
    assert_ballast_err(rebalance_through(&mut m, memo, copy, extra, SOL, USDC).await, BallastError::AmmNotSupported);
    // And a pool account the real program id does not own (swapped in for the whitelisted one) is refused
    // by the whitelist itself.
    let extra = real.adapter_accounts(&vault, SOL, USDC).unwrap();
    assert_ballast_err(
        rebalance_through(&mut m, dex::raydium::ID, copy, extra, SOL, USDC).await,
        BallastError::AmmNotWhitelisted,
    );
}

#[tokio::test]
async fn a_whirlpool_tick_array_of_another_pool_is_refused() {
    let (mut m, routes) = out_of_band(Amm::Orca).await;
    let route = routes.iter().find(|r| r.pool == m.pool(SOL, USDC).key()).unwrap().clone();
    let other = routes.iter().find(|r| r.pool == m.pool(BTC, USDC).key()).unwrap().clone();
    let vault = m.fx.state(&mut m.chain).await;
    let mut extra = route.adapter_accounts(&vault, SOL, USDC).unwrap();
    let foreign = other.adapter_accounts(&vault, BTC, USDC).unwrap()[2].clone();
    extra[3] = foreign; // the second tick array, taken from the BTC/USDC pool
    let holdings = m.fx.holdings(&mut m.chain).await;
    let r = rebalance_through(&mut m, route.program_id, route.pool, extra, SOL, USDC).await;
    assert_ballast_err(r, BallastError::AmmTickArrayMismatch);
    assert_eq!(m.fx.holdings(&mut m.chain).await, holdings);
    // The pool's vaults and oracle must be its own too.
    let mut extra = route.adapter_accounts(&vault, SOL, USDC).unwrap();
    extra[5] = AccountMeta::new_readonly(Pubkey::new_unique(), false);
    let r = rebalance_through(&mut m, route.program_id, route.pool, extra, SOL, USDC).await;
    assert_ballast_err(r, BallastError::AmmPoolAccountMismatch);
}

#[tokio::test]
async fn a_cpmm_pool_with_swaps_disabled_is_refused() {
    let (mut m, routes) = out_of_band(Amm::Raydium).await;
    let route = routes.iter().find(|r| r.pool == m.pool(SOL, USDC).key()).unwrap().clone();
    let vault = m.fx.state(&mut m.chain).await;
    let extra = route.adapter_accounts(&vault, SOL, USDC).unwrap();
    // Raydium's admin sets bit 2 of the pool status (swaps disabled); here written directly.
    let mut data = m.chain.account(&route.pool).await.unwrap().data;
    data[8 + 10 * 32 + 1] |= ballast::amm::raydium_cpmm::STATUS_SWAP_DISABLED;
    m.chain.set_raw_account(&route.pool, data, dex::raydium::ID).await;
    let r = rebalance_through(&mut m, route.program_id, route.pool, extra.clone(), SOL, USDC).await;
    assert_ballast_err(r, BallastError::AmmPoolSwapDisabled);
    // A config that is not the pool's is refused too.
    let mut wrong = extra;
    wrong[1] = AccountMeta::new_readonly(Pubkey::new_unique(), false);
    let r = rebalance_through(&mut m, route.program_id, route.pool, wrong, SOL, USDC).await;
    assert_ballast_err(r, BallastError::AmmPoolAccountMismatch);
}

/// Raydium CPMM with a Token-2022 leg: a vault whose USDC is a Token-2022 mint rebalances SOL → USDC
/// through a real CPMM pool (its adapter passes each leg's own token program).
#[tokio::test]
async fn a_cpmm_pool_with_a_token_2022_leg_rebalances() {
    use ballast_harness::chain::{Chain, TokenProgram};
    let mut specs = three_assets();
    specs[USDC].program = TokenProgram::Token2022;
    let mut chain = Chain::start().await;
    let fx = ballast_harness::fixture::create_vault(&mut chain, &specs, ballast_harness::fixture::default_params())
        .await
        .unwrap();
    let seed = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.unwrap();
    for (i, amount) in [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)] {
        fx.deposit_single(&mut chain, &seed, i, amount, 1).await.unwrap();
    }
    let pools = fx.create_pools(&mut chain, Amm::Raydium, &[(SOL, USDC)], 1_000_000.0, 30).await.unwrap();
    let keeper = fx.user(&mut chain, &[0, 0, 0]).await.unwrap();
    let mut m = DexMarket { chain, fx, pools, keeper: keeper.keypair, keeper_accounts: keeper.tokens };
    m.move_price(SOL, 25).await;
    let (c, received) = m.keeper_trades(RouteMode::Direct, false).await;
    assert_eq!((c.request.sell, c.request.buy), (SOL, USDC));
    assert_eq!(received, c.expected_out);
    assert_eq!(m.fx.state(&mut m.chain).await.assets[USDC].token_program, TokenProgram::Token2022.id());
}
