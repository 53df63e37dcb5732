//! The one-transaction exit to one asset (`ballast_client::exit`): the in-kind `withdraw`, a swap of each other
//! slice into the chosen asset through the best whitelisted route, `assert_min_balance` last. It lands whole
//! (the owner ends with the chosen asset only, the reported dust aside, at least the minimum) or not at all;
//! a transaction too large for the legacy format goes through a lookup table or is refused with its size.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::errors::BallastError;
use ballast_client::exit::{self, ExitPlan, ExitRequest};
use ballast_client::planner;
use ballast_harness::chain::{wire_size, Chain};
use ballast_harness::dex::Amm;
use ballast_harness::fixture::{User, VaultFixture};
use ballast_tests::*;
use solana_message::AddressLookupTableAccount;
use solana_program_test::BanksClientError;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;

const USDC: usize = 2;

/// A holder who deposited $1 000 in kind (SOL $400, BTC $300, USDC $300) and keeps some of each asset.
async fn holder(chain: &mut Chain, fx: &VaultFixture) -> User {
    let holder = fx.user(chain, &[10_000_000_000, 10_000_000, 1_000_000_000]).await.unwrap();
    fx.deposit(chain, &holder, vec![2_666_666_667, 500_000, 300_000_000], 1).await.unwrap();
    holder
}

/// Plans `owner`'s exit of `shares` to asset `to` over the embedded chain.
async fn plan(
    chain: &mut Chain,
    fx: &VaultFixture,
    owner: &User,
    shares: u64,
    to: usize,
    slippage_bps: u16,
    lookup_tables: Vec<AddressLookupTableAccount>,
) -> anyhow::Result<ExitPlan> {
    let vault = fx.state(chain).await;
    let (snap, routes) = planner::load(chain, vault).await?;
    let req = ExitRequest {
        owner: owner.keypair.pubkey(),
        shares,
        to,
        slippage_bps,
        minted: fx.share_supply(chain).await,
        balance_before: chain.token_amount(&owner.tokens[to]).await,
        accounts_exist: vec![true; 3],
        lookup_tables,
    };
    exit::plan_exit(&snap, &routes, &req)
}

/// Signs `ixs` as `owner` alone (fee payer too) and processes them as one legacy transaction; returns its
/// wire size.
async fn send_as(chain: &mut Chain, owner: &User, ixs: &[Instruction]) -> (Result<(), BanksClientError>, usize) {
    chain.refresh_blockhash().await;
    let hash = chain.ctx.last_blockhash;
    let tx = Transaction::new_signed_with_payer(ixs, Some(&owner.keypair.pubkey()), &[&owner.keypair], hash);
    let size = wire_size(1, &tx.message_data());
    (chain.process(tx.into()).await, size)
}

async fn balances(chain: &mut Chain, user: &User) -> (Vec<u64>, u64) {
    (chain.token_amounts(&user.tokens).await, chain.token_amount(&user.shares).await)
}

#[tokio::test]
async fn an_exit_to_usdc_lands_in_one_transaction_with_at_least_its_minimum() {
    let mut m = Market::new().await;
    let h = holder(&mut m.chain, &m.fx).await;
    let (before, shares) = balances(&mut m.chain, &h).await;
    let p = plan(&mut m.chain, &m.fx, &h, shares, USDC, 50, vec![]).await.unwrap();
    let v = &p.preview;
    // SOL and BTC each through their reference pool to USDC; USDC's own slice needs no swap.
    for (i, s) in v.slices.iter().enumerate() {
        assert_eq!(s.asset, i);
        assert!(s.amount > 0 && s.kept == 0, "{s:?}");
        if i == USDC {
            assert_eq!((s.swapped, s.quoted_out, s.venue.is_none()), (0, 0, true));
        } else {
            let venue = s.venue.as_ref().unwrap();
            assert_eq!((venue.pool, venue.name, s.swapped), (m.pool(i, USDC).key, "reference", s.amount));
        }
    }
    let quoted: u64 = v.slices.iter().map(|s| s.quoted_out).sum();
    assert_eq!(v.expected_out, v.slices[USDC].amount + quoted);
    assert_eq!(v.min_out, v.expected_out - v.expected_out.div_ceil(200), "0.5 % under, rounded down");
    assert_eq!(v.min_balance, before[USDC] + v.min_out);
    // $1 000 of shares: $700 swapped through $1M pools at 30 bps, about 30 bps lost to fees and impact.
    let impact = v.price_impact_bps.unwrap();
    assert!((30..40).contains(&impact), "price impact {impact} bps");
    assert!((v.expected_out as f64 / 1e6 - 997.9).abs() < 1.5, "expected {} USDC", v.expected_out);
    assert!(!v.versioned && v.tx_bytes <= exit::PACKET_DATA_SIZE, "{} bytes", v.tx_bytes);

    let (sent, size) = send_as(&mut m.chain, &h, &p.instructions).await;
    sent.unwrap();
    assert_eq!(size, v.tx_bytes, "the preview's size is the transaction's");
    let (after, shares_after) = balances(&mut m.chain, &h).await;
    assert_eq!(shares_after, 0);
    // Nothing of SOL or BTC is left from the exit, and none of what the holder had is spent.
    assert_eq!((after[0], after[1]), (before[0], before[1]));
    // The pools moved as quoted: exactly the expected output, above the minimum.
    assert_eq!(after[USDC] - before[USDC], v.expected_out);
    assert!(after[USDC] >= v.min_balance);
}

#[tokio::test]
async fn an_exit_below_its_minimum_fails_whole_and_moves_nothing() {
    let mut m = Market::new().await;
    let h = holder(&mut m.chain, &m.fx).await;
    let (before, shares) = balances(&mut m.chain, &h).await;
    // No tolerance at all; then someone sells SOL into the SOL/USDC pool before the exit lands.
    let p = plan(&mut m.chain, &m.fx, &h, shares, USDC, 0, vec![]).await.unwrap();
    assert_eq!(p.preview.min_out, p.preview.expected_out);
    let (sol, usdc) = (m.fx.assets[0].mint, m.fx.assets[USDC].mint);
    let token = anchor_spl::token::ID;
    let seed = m.seed.keypair.pubkey();
    let ix = ballast_client::amm::swap(
        &seed,
        &sol,
        &usdc,
        &m.seed.tokens[0],
        &m.seed.tokens[2],
        &token,
        &token,
        1_000_000_000,
        0,
    );
    m.chain.send(&[ix], &[&m.seed.keypair]).await.unwrap();
    let reserve_keys: Vec<Pubkey> = m.fx.state(&mut m.chain).await.assets.iter().map(|a| a.reserve).collect();
    let reserves_before = m.chain.token_amounts(&reserve_keys).await;

    let (sent, _) = send_as(&mut m.chain, &h, &p.instructions).await;
    assert_ballast_err(sent, BallastError::BalanceBelowMinimum);
    assert_eq!(balances(&mut m.chain, &h).await, (before.clone(), shares), "nothing moved");
    assert_eq!(m.chain.token_amounts(&reserve_keys).await, reserves_before);

    // Quoted again at the pool's new price, with a tolerance, it lands.
    let p = plan(&mut m.chain, &m.fx, &h, shares, USDC, 50, vec![]).await.unwrap();
    send_as(&mut m.chain, &h, &p.instructions).await.0.unwrap();
    assert_eq!(m.chain.token_amount(&h.tokens[USDC]).await - before[USDC], p.preview.expected_out);
}

#[tokio::test]
async fn an_exit_leaves_dust_no_pool_pays_for_in_the_owners_account_and_says_so() {
    let mut m = Market::new().await;
    let h = holder(&mut m.chain, &m.fx).await;
    let (before, _) = balances(&mut m.chain, &h).await;
    // Two share base units pay a few lamports of SOL and nothing else: no pool pays a micro-USDC for them.
    let p = plan(&mut m.chain, &m.fx, &h, 2, USDC, 50, vec![]).await.unwrap();
    let sol = &p.preview.slices[0];
    assert!(sol.amount > 0 && sol.kept == sol.amount && sol.venue.is_none(), "{sol:?}");
    assert_eq!(p.preview.expected_out, p.preview.slices[USDC].amount);
    send_as(&mut m.chain, &h, &p.instructions).await.0.unwrap();
    let (after, _) = balances(&mut m.chain, &h).await;
    assert_eq!(after[0] - before[0], sol.kept, "the dust is the owner's, not lost");
}

#[tokio::test]
async fn an_exit_too_large_for_a_legacy_transaction_goes_through_a_lookup_table_or_is_refused() {
    // Every pool on Orca Whirlpools: two Whirlpool swaps beside a three-asset withdrawal overflow 1 232 bytes.
    let mut m = DexMarket::new(Amm::Orca).await;
    let h = holder(&mut m.chain, &m.fx).await;
    let (before, shares) = balances(&mut m.chain, &h).await;
    let err = plan(&mut m.chain, &m.fx, &h, shares, USDC, 50, vec![]).await.unwrap_err().to_string();
    assert!(err.contains("bytes") && err.contains("lookup table"), "{err}");

    // The vault's accounts and the pools' in a lookup table: a v0 transaction that fits.
    let vault = m.fx.state(&mut m.chain).await;
    let mut keys: Vec<Pubkey> = vec![m.fx.key, vault.share_mint, anchor_spl::token::ID, anchor_spl::token_2022::ID];
    keys.extend(vault.assets.iter().flat_map(|a| [a.mint, a.reserve]));
    let routes = planner::load(&mut m.chain, vault).await.unwrap().1;
    for r in &routes {
        keys.push(r.pool);
        keys.extend(r.sides.iter().map(|s| s.1));
    }
    let table = m.chain.create_lookup_table(&keys).await.unwrap();
    let p = plan(&mut m.chain, &m.fx, &h, shares, USDC, 50, vec![table.clone()]).await.unwrap();
    let v = &p.preview;
    assert!(v.versioned && v.tx_bytes <= exit::PACKET_DATA_SIZE, "{} bytes", v.tx_bytes);
    assert!(v.slices.iter().filter(|s| s.venue.is_some()).all(|s| s.venue.as_ref().unwrap().name == "orca-whirlpool"));
    m.chain.refresh_blockhash().await;
    let hash = m.chain.ctx.last_blockhash;
    let message =
        solana_message::v0::Message::try_compile(&h.keypair.pubkey(), &p.instructions, &[table], hash).unwrap();
    let tx = VersionedTransaction::try_new(solana_message::VersionedMessage::V0(message), &[&h.keypair]).unwrap();
    m.chain.process(tx).await.unwrap();
    let (after, shares_after) = balances(&mut m.chain, &h).await;
    assert_eq!((shares_after, after[0], after[1]), (0, before[0], before[1]));
    assert!(after[USDC] - before[USDC] >= v.min_out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_to_usdc_from_the_command_line_against_localnet() {
    use ballast_app::cli::withdraw::{self, WithdrawArgs};
    let net = ballast_tests::localnet(200).await;
    let (h, before, shares) = {
        let mut chain = net.chain.lock().await;
        let h = holder(&mut chain, &net.fx).await;
        let (before, shares) = balances(&mut chain, &h).await;
        (h, before, shares)
    };
    let keypair = std::env::temp_dir().join(format!("ballast-exit-{}.json", std::process::id()));
    std::fs::write(&keypair, serde_json::to_string(&h.keypair.to_bytes().to_vec()).unwrap()).unwrap();
    let args = |shares: Option<&str>, dry_run| WithdrawArgs {
        to: "usdc".into(),
        shares: shares.map(String::from),
        all: shares.is_none(),
        slippage_bps: 50,
        vault: None,
        keypair: keypair.clone(),
        url: net.url(),
        lookup_tables: vec![],
        dry_run,
    };

    // A dry run of half the shares: the preview in token units, nothing sent.
    let mut out = Vec::new();
    let half = ballast_client::describe::token_amount(u128::from(shares / 2), 6);
    let dry = withdraw::exit(&args(Some(&half), true), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(dry.plan.preview.shares, shares / 2);
    assert!(text.contains(&format!("exit of {half} shares of vault {} to USDC", net.vault())), "{text}");
    assert!(text.contains("SOL") && text.contains("BTC") && text.contains("dry run: nothing sent"), "{text}");
    assert_eq!(net.chain.lock().await.token_amount(&h.shares).await, shares);

    // Every share, to USDC, through the best of the localnet's pools (reference, Raydium CPMM, Orca Whirlpool).
    let mut out = Vec::new();
    let done = withdraw::exit(&args(None, false), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let v = &done.plan.preview;
    assert!(done.signature.is_some() && text.contains("landed"), "{text}");
    assert!(v.tx_bytes <= ballast_client::exit::PACKET_DATA_SIZE, "{text}");
    assert!(v.slices.iter().filter(|s| s.asset != USDC).all(|s| s.venue.is_some() && s.kept == 0), "{text}");
    let (after, shares_after) = {
        let mut chain = net.chain.lock().await;
        balances(&mut chain, &h).await
    };
    assert_eq!((shares_after, done.shares_left), (0, 0));
    assert_eq!((after[0], after[1]), (before[0], before[1]), "only USDC is left of the exit");
    assert_eq!(after[USDC] - before[USDC], done.received);
    assert!(done.received >= v.min_out && v.min_out > 0, "{text}");
    let received = ballast_client::describe::token_amount(u128::from(done.received), 6);
    assert!(text.contains(&format!("received {received} USDC")), "{text}");
    let _ = std::fs::remove_file(&keypair);
    net.stop();
}
