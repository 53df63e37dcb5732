//! End to end over real HTTP on loopback: `localnet` serves the embedded chain, the Solana Rust RPC
//! client and the keeper talk to it.

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use ballast::state::Vault;
use ballast_keeper::{Action, JobKind, Keeper, KeeperOptions, Metrics, Outcome, Report};
use ballast_localnet::localnet::Localnet;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;

async fn net(tick_ms: u64) -> Localnet {
    ballast_tests::localnet(tick_ms).await
}

async fn keeper(net: &Localnet, dry_run: bool) -> Keeper {
    let opts = KeeperOptions {
        rpc_url: net.url(),
        dry_run,
        interval: Duration::from_millis(300),
        iterations: Some(1),
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    k
}

async fn max_drift_over_band(net: &Localnet) -> Vec<i64> {
    let mut chain = net.chain.lock().await;
    let r = net.fx.report(&mut chain).await.unwrap();
    (0..r.drift_bps.len()).map(|i| r.drift_bps[i].abs() - r.bands_bps[i] as i64).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_endpoint_speaks_the_solana_client_shapes() {
    let net = net(200).await;
    let rpc = RpcClient::new(net.url());
    assert!(rpc.get_health().await.is_ok());
    let slot = rpc.get_slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rpc.get_slot().await.unwrap() > slot, "the slot ticker advances slots");
    let (hash, _) = rpc.get_latest_blockhash_with_commitment(rpc.commitment()).await.unwrap();
    assert_ne!(hash, Default::default());

    // Accounts: single, multiple, program accounts with memcmp and dataSize filters.
    let acc = rpc.get_account(&net.vault()).await.unwrap();
    assert_eq!(acc.owner, ballast::ID);
    let vault = Vault::try_deserialize(&mut &acc.data[..]).unwrap();
    let many = rpc.get_multiple_accounts(&[net.vault(), Pubkey::new_unique(), vault.share_mint]).await.unwrap();
    assert!(many[0].is_some() && many[1].is_none() && many[2].is_some());
    let cfg = |filters| RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
        with_context: None,
        sort_results: None,
    };
    let found = rpc
        .get_program_ui_accounts_with_config(
            &ballast::ID,
            cfg(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Vault::DISCRIMINATOR))]),
        )
        .await
        .unwrap();
    assert_eq!(found.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![net.vault()]);
    let raw = rpc
        .get_program_ui_accounts_with_config(
            &ballast::ID,
            cfg(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, Vault::DISCRIMINATOR.to_vec()))]),
        )
        .await
        .unwrap();
    assert_eq!(raw.len(), 1);
    let none =
        rpc.get_program_ui_accounts_with_config(&ballast::ID, cfg(vec![RpcFilterType::DataSize(7)])).await.unwrap();
    assert!(none.is_empty());

    // Airdrop, balance, send and confirm, signature statuses, prioritization fees.
    let alice = Keypair::new();
    let sig = rpc.request_airdrop(&alice.pubkey(), 2_000_000_000).await.unwrap();
    let status = rpc.get_signature_statuses(&[sig]).await.unwrap().value;
    assert!(status[0].as_ref().is_some_and(|s| s.err.is_none()));
    assert_eq!(rpc.get_balance(&alice.pubkey()).await.unwrap(), 2_000_000_000);
    let bob = Pubkey::new_unique();
    let ixs = [
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1_234),
        anchor_lang::solana_program::system_instruction::transfer(&alice.pubkey(), &bob, 1_000_000),
    ];
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(&ixs, Some(&alice.pubkey()), &[&alice], blockhash);
    rpc.send_and_confirm_transaction(&tx).await.unwrap();
    assert_eq!(rpc.get_balance(&bob).await.unwrap(), 1_000_000);
    let fees = rpc.get_recent_prioritization_fees(&[bob]).await.unwrap();
    assert_eq!(fees.iter().map(|f| f.prioritization_fee).collect::<Vec<_>>(), vec![1_234]);
    assert!(rpc.get_recent_prioritization_fees(&[Pubkey::new_unique()]).await.unwrap().is_empty());

    // A failing transaction: simulation reports the program error, sendTransaction refuses it.
    let k = keeper(&net, false).await;
    let v = rpc.get_account(&net.vault()).await.unwrap();
    let vault = Vault::try_deserialize(&mut &v.data[..]).unwrap();
    let pool = net.pools[0];
    let args = ballast::instructions::RebalanceArgs { sell_index: 0, buy_index: 2, amount_in: 1_000_000, min_out: 0 };
    let ix = ballast_client::rebalance(
        &k.payer.pubkey(),
        &net.vault(),
        &vault,
        &Pubkey::new_unique(),
        &ballast_amm::ID,
        &pool.key,
        &pool.vault_of(0),
        &pool.vault_of(2),
        args,
    );
    let tx = Transaction::new_signed_with_payer(
        &[ix],
        Some(&k.payer.pubkey()),
        &[&k.payer],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let sim = rpc.simulate_transaction(&tx).await.unwrap().value;
    assert!(sim.err.is_some());
    let err = rpc.send_transaction(&tx).await.unwrap_err();
    assert!(err.get_transaction_error().is_some(), "preflight failure carries the transaction error: {err}");

    // Unknown methods get JSON-RPC's "method not found".
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getBlockProduction", "params": []});
    let resp: serde_json::Value =
        reqwest::Client::new().post(net.url()).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(resp["error"]["code"], -32601);
    assert_eq!(resp["id"], 1);
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_brings_drift_back_inside_the_bands() {
    let net = net(200).await;
    net.shock(0, 40).await.unwrap();
    assert!(max_drift_over_band(&net).await.iter().any(|d| *d > 0), "the shock must push an asset out of its band");
    let k = keeper(&net, false).await;
    let metrics_addr =
        ballast_keeper::serve_metrics(k.metrics.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap().0;
    let mut rebalanced = 0;
    let mut waited = 0;
    for _ in 0..16 {
        for report in k.iteration().await.unwrap() {
            match report.outcome {
                Outcome::Done { action: Action::Trade { .. }, .. } => rebalanced += 1,
                // The auction has not reached the pool's price yet: move the clock to when it does.
                Outcome::Waited { until } => {
                    let now = net.chain.lock().await.clock().await.unix_timestamp;
                    net.let_auction_run((until - now).max(1)).await.unwrap();
                    waited += 1;
                }
                _ => {}
            }
        }
        if max_drift_over_band(&net).await.iter().all(|d| *d <= 0) && rebalanced > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(800)).await; // cooldown: 10 slots
    }
    assert!(rebalanced >= 1);
    assert!(waited >= 1, "the first trade waits for the auction to reach the pool's price");
    for (i, d) in max_drift_over_band(&net).await.iter().enumerate() {
        assert!(*d <= 0, "asset {i} still {d} bps outside its band");
    }
    // The metrics endpoint counts what happened.
    let text = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(&format!("ballast_keeper_rebalances_total {rebalanced}\n")), "{text}");
    assert!(text.contains("# TYPE ballast_keeper_refusals_total counter"));
    assert!(
        text.contains(&format!("ballast_keeper_band_bps{{vault=\"{}\",asset=\"2\"}} 300\n", net.vault())),
        "{text}"
    );
    assert_eq!(reqwest::get(format!("http://{metrics_addr}/health")).await.unwrap().text().await.unwrap(), "ok");
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_sends_nothing() {
    let net = net(200).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let before = { net.fx.holdings(&mut *net.chain.lock().await).await };
    let k = keeper(&net, true).await;
    for _ in 0..3 {
        let out = k.iteration().await.unwrap();
        assert!(matches!(out[..], [Report { outcome: Outcome::DryRun(Action::Trade { .. }), .. }]), "{out:?}");
    }
    assert_eq!(k.metrics.rebalance.dry_run_trades.load(std::sync::atomic::Ordering::Relaxed), 3);
    let text = k.metrics.render().await;
    assert!(text.contains("ballast_keeper_reports_total{job=\"rebalance\",result=\"dry_run\"} 3\n"), "{text}");
    assert_eq!(k.metrics.rebalance.rebalances.load(std::sync::atomic::Ordering::Relaxed), 0);
    let mut chain = net.chain.lock().await;
    assert_eq!(net.fx.holdings(&mut chain).await, before);
    assert_eq!(net.fx.state(&mut chain).await.last_rebalance_slot, 0);
    drop(chain);
    net.stop();
}

/// Two keepers race for the same auction: at least one trades, and together they never make the vault sell
/// more than one full-size trade at one auction's prices (a trade that brings the auction's volume to half
/// a full-size trade restarts it at fair value and starts the cooldown, which refuses the other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_keepers_never_sell_more_than_one_full_size_trade_at_one_price() {
    // Slow ticker: the 10-slot cooldown lasts about 2 s of real time.
    let net = net(500).await;
    net.shock(0, 60).await.unwrap();
    net.relax_auction().await.unwrap();
    let started = { net.fx.state(&mut *net.chain.lock().await).await.auction_started_at };
    let (a, b) = (keeper(&net, false).await, keeper(&net, false).await);
    let (ra, rb) = tokio::join!(a.iteration(), b.iteration());
    let rebalance = |reports: Vec<Report>| reports.into_iter().find(|r| r.job == JobKind::Rebalance).unwrap();
    let outcomes = [rebalance(ra.unwrap()), rebalance(rb.unwrap())];
    let wins = outcomes.iter().filter(|r| r.traded()).count();
    assert!(wins >= 1, "{outcomes:?}");
    let vault = { net.fx.state(&mut *net.chain.lock().await).await };
    if vault.auction_started_at == started {
        // Still the same auction: what it sold is within one full-size trade.
        assert!(vault.auction_sold_ppm <= ballast::math::auction::PPM, "{}", vault.auction_sold_ppm);
    } else if wins == 2 {
        // The auction restarted (or closed): the second trade can only have been priced by the new one.
        assert!(vault.last_rebalance_slot > 0);
    }
    for loser in outcomes.iter().filter(|r| !r.traded()).map(|r| &r.outcome) {
        assert!(
            matches!(
                loser,
                Outcome::Rejected(_)
                    | Outcome::Held(_)
                    | Outcome::Waited { .. }
                    | Outcome::Done { action: Action::Poke(_), .. }
            ),
            "{loser:?}"
        );
    }
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_settles_deposit_requests_once_the_delay_has_passed() {
    let net = net(200).await;
    let depositor = {
        let mut chain = net.chain.lock().await;
        let user = net.fx.user(&mut chain, &[10_000_000_000, 0, 0]).await.unwrap();
        net.fx.request_deposit(&mut chain, &user, 0, 2_000_000_000, 1).await.unwrap();
        user
    };
    let owner = depositor.keypair.pubkey();
    let k = keeper(&net, false).await;
    let mut settled = false;
    let mut reports = Vec::new();
    for _ in 0..20 {
        reports.extend(k.iteration().await.unwrap());
        let mut chain = net.chain.lock().await;
        if net.fx.deposit_request(&mut chain, &owner).await.is_none() {
            settled = true;
            break;
        }
        drop(chain);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(settled, "the keeper settled the request");
    assert_eq!(k.metrics.settle.settled.load(std::sync::atomic::Ordering::Relaxed), 1);
    let mut chain = net.chain.lock().await;
    assert!(chain.token_amount(&depositor.shares).await > 0);
    assert_eq!(net.fx.state(&mut chain).await.assets[0].pending_in, 0);
    drop(chain);
    let text = k.metrics.render().await;
    assert!(text.contains("ballast_keeper_deposits_settled_total 1\n"), "{text}");
    // The settlement is reported (and counted) like every job's result.
    let request = ballast_client::pda::deposit_request(&net.vault(), &owner);
    let settlements: Vec<&Report> =
        reports.iter().filter(|r| r.job == JobKind::Settle && r.vault == net.vault()).collect();
    let settled_request = match settlements[..] {
        [Report { outcome: Outcome::Done { action: Action::Settle { request }, .. }, .. }] => Some(*request),
        _ => None,
    };
    assert_eq!(settled_request, Some(request), "{settlements:?}");
    assert!(text.contains("ballast_keeper_reports_total{job=\"settle\",result=\"done\"} 1\n"), "{text}");
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_and_the_simulator_choose_the_same_trade() {
    let net = net(200).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let k = keeper(&net, true).await;
    let vault = k.vaults().await.unwrap().remove(0).1;
    // The same state read twice: over JSON-RPC by the shipped bot, and from the embedded chain as the
    // simulator, the demo and the tests read it.
    let over_rpc = k.plan(vault).await.unwrap();
    let in_process = {
        let mut chain = net.chain.lock().await;
        net.fx.plan(&mut chain).await
    };
    assert!(matches!(over_rpc.decision, ballast_client::planner::Decision::Trade(_)), "{:?}", over_rpc.decision);
    assert_eq!(over_rpc.decision, in_process.decision);
    assert_eq!(over_rpc.routes, in_process.routes);
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_rebalances_through_a_flash_route() {
    let net = net(200).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let opts = KeeperOptions {
        rpc_url: net.url(),
        iterations: Some(1),
        route: ballast_client::RouteMode::Flash,
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    assert!(k.metrics.render().await.contains("ballast_keeper_rebalances_by_route_total{route=\"flash\"} 1\n"));
    let mut chain = net.chain.lock().await;
    let vault = net.fx.state(&mut chain).await;
    assert!(vault.flight.is_none() && vault.last_rebalance_slot > 0);
    drop(chain);
    net.stop();
}

/// `ballast localnet` whitelists real Raydium CPMM and Orca Whirlpool pools beside the reference ones; the
/// keeper, over JSON-RPC, quotes every route with its DEX's own math and rebalances through a real one
/// (they pay more than the 30 bps reference pool: a 25 bps fee, or concentrated liquidity), directly and as
/// a flash rebalance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_rebalances_through_real_dex_pools_over_rpc() {
    for route in [ballast_client::RouteMode::Direct, ballast_client::RouteMode::Flash] {
        let net = net(200).await;
        net.shock(0, 40).await.unwrap();
        net.relax_auction().await.unwrap();
        let opts = KeeperOptions { rpc_url: net.url(), iterations: Some(1), route, ..Default::default() };
        let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
        k.ensure_funded().await;
        let vault = k.vaults().await.unwrap().remove(0).1;
        let planned = k.plan(vault).await.unwrap();
        let kinds: Vec<&str> = planned.routes.iter().map(|r| r.kind.name()).collect();
        assert!(kinds.contains(&"raydium-cpmm") && kinds.contains(&"orca-whirlpool"), "{kinds:?}");
        let out = k.iteration().await.unwrap();
        assert!(out.iter().any(Report::traded), "{route:?}: {out:?}");
        let venues = k.metrics.rebalance.venues.lock().await.clone();
        assert_eq!(venues.values().sum::<u64>(), 1);
        assert!(
            venues.contains_key("raydium-cpmm") || venues.contains_key("orca-whirlpool"),
            "{route:?}: traded on {venues:?}"
        );
        let text = k.metrics.render().await;
        assert!(text.contains("ballast_keeper_rebalances_by_venue_total{venue=\""), "{text}");
        net.stop();
    }
}
