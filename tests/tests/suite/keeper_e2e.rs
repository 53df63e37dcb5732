//! End to end over real HTTP on loopback: `localnet` serves the embedded chain, the Solana Rust RPC
//! client and the keeper talk to it. And the keeper's readiness rule for settlements checked against the
//! program's on the embedded chain, at the edges of a request's window.

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use ballast::errors::BallastError;
use ballast::state::Vault;
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{User, VaultFixture};
use ballast_keeper::{Action, JobKind, Jobs, Keeper, KeeperOptions, Metrics, Outcome, Rejection, Report, Skip};
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

/// Runs keeper iterations (letting the auction run when it waits) until every asset is inside its band after at
/// least one trade; returns the trades and the waits.
async fn keep_until_in_band(net: &Localnet, k: &Keeper) -> (usize, usize) {
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
        if max_drift_over_band(net).await.iter().all(|d| *d <= 0) && rebalanced > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(800)).await; // cooldown: 10 slots
    }
    (rebalanced, waited)
}

/// With `--valuation-cache` and a vault that has a cache, the keeper refreshes it in each trade's own
/// transaction and values the trade from it: the vault comes back inside its bands the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_values_its_trades_from_the_valuation_cache() {
    let net = net(200).await;
    {
        let mut chain = net.chain.lock().await;
        let payer = chain.payer_key();
        chain.send(&[ballast_client::init_valuation_cache(&payer, &net.vault())], &[]).await.unwrap();
    }
    net.shock(0, 40).await.unwrap();
    let opts = KeeperOptions {
        rpc_url: net.url(),
        interval: Duration::from_millis(300),
        iterations: Some(1),
        valuation_cache: true,
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    let (rebalanced, _) = keep_until_in_band(&net, &k).await;
    assert!(rebalanced >= 1);
    assert!(max_drift_over_band(&net).await.iter().all(|d| *d <= 0));
    // The trades were valued from the cache: its entries were refreshed.
    let cache = ballast_client::valuation_cache_address(&net.vault());
    let data = net.chain.lock().await.account(&cache).await.expect("cache").data;
    let size = std::mem::size_of::<ballast::state::ValuationCache>();
    let cache: ballast::state::ValuationCache = bytemuck::pod_read_unaligned(&data[8..8 + size]);
    assert!(cache.entries[..3].iter().all(|e| e.slot > 0 && e.price > 0), "{:?}", &cache.entries[..3]);
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
    let (rebalanced, waited) = keep_until_in_band(&net, &k).await;
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

/// A holder who deposited `dollars` in kind into the demo vault.
async fn holder(net: &Localnet, chain: &mut Chain, dollars: u64) -> User {
    // The demo vault holds 26.67 SOL, 0.05 BTC and 3 000 USDC ($10 000): in kind, $1 000 is a tenth of each.
    let most = [2_666_666_667, 500_000, 300_000_000].map(|a: u64| a * dollars / 1_000);
    let user = net.fx.user(chain, &most.map(|a| a + a / 10)).await.unwrap();
    net.fx.deposit(chain, &user, most.to_vec(), 1).await.unwrap();
    user
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_settles_single_asset_withdrawals_once_the_delay_has_passed() {
    let net = net(500).await;
    let (holder, shares, usdc_before, request) = {
        let mut chain = net.chain.lock().await;
        let user = holder(&net, &mut chain, 1_000).await;
        let shares = chain.token_amount(&user.shares).await;
        net.fx.request_withdraw(&mut chain, &user, 2, shares, 1).await.unwrap();
        let usdc = chain.token_amount(&user.tokens[2]).await;
        let request = net.fx.withdraw_request(&mut chain, &user.keypair.pubkey()).await.unwrap();
        (user, shares, usdc, request)
    };
    let owner = holder.keypair.pubkey();
    let address = ballast_client::pda::withdraw_request(&net.vault(), &owner);
    assert_eq!(request.shares, shares);
    let k = keeper(&net, false).await;
    let metrics_addr =
        ballast_keeper::serve_metrics(k.metrics.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap().0;
    let now = || async { net.chain.lock().await.clock().await.unix_timestamp };
    // Before the delay has passed the keeper leaves the request alone.
    let first = k.iteration().await.unwrap();
    if now().await < request.settle_from {
        assert!(first.iter().all(|r| r.job != JobKind::Settle), "{first:?}");
        assert!(net.fx.withdraw_request(&mut *net.chain.lock().await, &owner).await.is_some());
    }
    let mut reports = first;
    for _ in 0..20 {
        if net.fx.withdraw_request(&mut *net.chain.lock().await, &owner).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        reports.extend(k.iteration().await.unwrap());
    }
    let mut chain = net.chain.lock().await;
    assert!(net.fx.withdraw_request(&mut chain, &owner).await.is_none(), "the keeper settled the request");
    // The holder received the asset: their $1 000 less the fee and the buy-back charge, and no share is left.
    let received = chain.token_amount(&holder.tokens[2]).await - usdc_before;
    assert!((900_000_000..=1_000_000_000).contains(&received), "received {received} USDC units");
    assert_eq!(chain.token_amount(&holder.shares).await, 0);
    let escrow = ballast_client::pda::withdraw_escrow(&address);
    assert!(chain.account(&escrow).await.is_none(), "the escrow is closed");
    drop(chain);
    assert_eq!(k.metrics.settle.withdrawals_settled.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(k.metrics.settle.settled.load(std::sync::atomic::Ordering::Relaxed), 0);
    // Reported like every job's result, and counted on /metrics.
    let settlements: Vec<&Report> =
        reports.iter().filter(|r| r.job == JobKind::Settle && r.vault == net.vault()).collect();
    let settled_request = match settlements[..] {
        [Report { outcome: Outcome::Done { action: Action::SettleWithdrawal { request }, .. }, .. }] => Some(*request),
        _ => None,
    };
    assert_eq!(settled_request, Some(address), "{settlements:?}");
    let text = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("# TYPE ballast_keeper_withdrawals_settled_total counter\n"), "{text}");
    assert!(text.contains("ballast_keeper_withdrawals_settled_total 1\n"), "{text}");
    assert!(text.contains("ballast_keeper_deposits_settled_total 0\n"), "{text}");
    assert!(text.contains("ballast_keeper_reports_total{job=\"settle\",result=\"done\"} 1\n"), "{text}");
    net.stop();
}

/// Two withdrawals in USDC that fit one at a time but not together: the keeper settles the first, the chain
/// refuses the second (`WithdrawalTooLarge`: it would leave USDC more than one max-size trade short). The
/// refusal is counted, not retried every iteration, and sent again as soon as the vault's reserves change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_the_vault_cannot_pay_is_counted_deferred_and_settled_once_the_vault_changes() {
    let net = net(400).await;
    let owners = {
        let mut chain = net.chain.lock().await;
        // $14 000 with $4 200 of USDC: $3 000 and $1 000 of USDC fit alone, not together.
        let (big, small) = (holder(&net, &mut chain, 3_000).await, holder(&net, &mut chain, 1_000).await);
        for user in [&big, &small] {
            let shares = chain.token_amount(&user.shares).await;
            net.fx.request_withdraw(&mut chain, user, 2, shares, 1).await.unwrap();
        }
        [big.keypair.pubkey(), small.keypair.pubkey()]
    };
    let opts = KeeperOptions {
        rpc_url: net.url(),
        jobs: Jobs { rebalance: false, settle: true, fees: false },
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    let too_large = Rejection::Ballast(BallastError::WithdrawalTooLarge.into());
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        outcomes.extend(k.iteration().await.unwrap().into_iter().map(|r| r.outcome));
        if outcomes.contains(&Outcome::Rejected(too_large.clone())) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let done = |o: &Outcome| matches!(o, Outcome::Done { action: Action::SettleWithdrawal { .. }, .. });
    assert_eq!(outcomes.iter().filter(|o| done(o)).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Rejected(too_large.clone())).count(), 1);
    let refused = {
        let mut chain = net.chain.lock().await;
        let open = [
            net.fx.withdraw_request(&mut chain, &owners[0]).await,
            net.fx.withdraw_request(&mut chain, &owners[1]).await,
        ];
        assert_eq!(open.iter().filter(|r| r.is_some()).count(), 1, "one settled, one still open");
        open.into_iter().flatten().next().unwrap()
    };
    // Not sent again while nothing changes: deferred, not refused again.
    for _ in 0..3 {
        let out = k.iteration().await.unwrap();
        let now = net.chain.lock().await.clock().await.unix_timestamp;
        match &out[..] {
            [Report { outcome: Outcome::Skipped(Skip::Deferred { until }), .. }] => assert!(now < *until),
            _ => panic!("{out:?}"),
        }
    }
    let refusals = k.metrics.settle.rejections.lock().await.clone();
    assert_eq!(refusals.get("WithdrawalTooLarge"), Some(&1), "{refusals:?}");
    assert_eq!(k.deferrals.len(), 1);
    let text = k.metrics.render().await;
    assert!(text.contains("ballast_keeper_refusals_total{job=\"settle\",error=\"WithdrawalTooLarge\"} 1\n"));
    assert!(text.contains("ballast_keeper_reports_total{job=\"settle\",result=\"skipped\"} 3\n"), "{text}");
    // The vault changes (3 000 USDC arrive in its reserve): the keeper tries again at once, and it fits now.
    {
        let mut chain = net.chain.lock().await;
        let usdc = &net.fx.assets[2];
        let reserve = ballast_client::pda::reserve(&net.vault(), &usdc.mint);
        chain.mint_to(&usdc.mint, &reserve, 3_000_000_000, usdc.spec.program).await.unwrap();
        assert!(chain.clock().await.unix_timestamp <= refused.expires_at, "still open");
    }
    let out = k.iteration().await.unwrap();
    assert!(matches!(out[..], [Report { outcome: Outcome::Done { action: Action::SettleWithdrawal { .. }, .. }, .. }]));
    let mut chain = net.chain.lock().await;
    for owner in &owners {
        assert!(net.fx.withdraw_request(&mut chain, owner).await.is_none());
    }
    drop(chain);
    assert_eq!(k.metrics.settle.withdrawals_settled.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert!(k.deferrals.is_empty());
    net.stop();
}

/// One rule: the keeper's readiness (`ready_withdrawal`) and the program's `settle_withdraw` are fed the same
/// state at the edges of a request's window (on the embedded chain, where the clock is set by hand) and give
/// the same answer; when the program refuses, it refuses with the error `WithdrawRequest::settleable` names.
#[tokio::test]
async fn the_keeper_and_the_program_agree_when_a_withdrawal_may_settle() {
    let (mut chain, fx, _seed) = ballast_tests::setup_seeded().await;
    let mut users = Vec::new();
    for _ in 0..3 {
        let user = fx.user(&mut chain, &[10_000_000_000, 10_000_000, 1_000_000_000]).await.unwrap();
        fx.deposit(&mut chain, &user, vec![800_000_000, 150_000, 90_000_000], 1).await.unwrap();
        let shares = chain.token_amount(&user.shares).await;
        fx.request_withdraw(&mut chain, &user, 2, shares, 1).await.unwrap();
        users.push(user.keypair.pubkey());
    }
    let request = fx.withdraw_request(&mut chain, &users[0]).await.unwrap();
    let (settle_from, expires_at) = (request.settle_from, request.expires_at);
    let now = chain.clock().await.unix_timestamp;
    assert!(now < settle_from - 1 && settle_from < expires_at);
    use BallastError::{OracleStale, WithdrawRequestExpired as Expired, WithdrawRequestTooEarly as TooEarly};
    // Before settle_from, fresh readings.
    chain.advance_time(settle_from - 1 - now).await;
    fx.refresh_prices(&mut chain).await;
    judge(&mut chain, &fx, &users[0], "a second before settle_from", Some(TooEarly)).await;
    // At settle_from, on readings published a second before it (fresh, but from before the delay ended).
    chain.advance_time(1).await;
    judge(&mut chain, &fx, &users[0], "readings a second older than settle_from", Some(TooEarly)).await;
    let sol = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, sol).await;
    judge(&mut chain, &fx, &users[0], "one reading from before settle_from", Some(TooEarly)).await;
    // At settle_from, every reading published at it.
    fx.refresh_prices(&mut chain).await;
    judge(&mut chain, &fx, &users[0], "at settle_from", None).await;
    // Readings two seconds old: stale.
    chain.advance_time(2).await;
    judge(&mut chain, &fx, &users[1], "readings two seconds old", Some(OracleStale)).await;
    // At expires_at, on readings a second old: the last moment.
    let now = chain.clock().await.unix_timestamp;
    chain.advance_time(expires_at - 1 - now).await;
    fx.refresh_prices(&mut chain).await;
    chain.advance_time(1).await;
    judge(&mut chain, &fx, &users[1], "at expires_at, readings a second old", None).await;
    // A second after expires_at, fresh readings: only the owner's cancel is left.
    chain.advance_time(1).await;
    fx.refresh_prices(&mut chain).await;
    judge(&mut chain, &fx, &users[2], "a second after expires_at", Some(Expired)).await;
}

/// The keeper's answer and the program's for `owner`'s request now, checked equal and against `expected`.
async fn judge(chain: &mut Chain, fx: &VaultFixture, owner: &Pubkey, case: &str, expected: Option<BallastError>) {
    let (snap, _) = fx.snapshot(chain).await;
    let request = fx.withdraw_request(chain, owner).await.expect("an open request");
    let keeper = ballast_keeper::jobs::settle::ready_withdrawal(&snap, &request);
    let rule = request.settleable(snap.now, &snap.readings);
    let program = fx.settle_withdraw(chain, owner).await;
    assert_eq!(keeper, program.is_ok(), "{case}: the keeper says {keeper}, the program {program:?}");
    let refused = program.as_ref().err().map(|e| ballast_harness::chain::custom_error(e).expect("a program error"));
    assert_eq!(refused, rule.err().map(u32::from), "{case}: the program refuses as the rule says");
    assert_eq!(refused, expected.map(u32::from), "{case}: {program:?}");
    assert_eq!(fx.withdraw_request(chain, owner).await.is_none(), expected.is_none(), "{case}: settled");
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

/// Re-publishes `fx`'s prices every 200 ms, as the local network's ticker does the demo vault's, until aborted.
fn publish_prices(net: &Localnet, fx: &Arc<VaultFixture>) -> tokio::task::JoinHandle<()> {
    let (chain, fx) = (net.chain.clone(), fx.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            fx.refresh_prices(&mut *chain.lock().await).await;
        }
    })
}

/// A 24-asset vault (above the 16 a transaction can value directly) on the local network, its prices
/// published like the demo vault's: the keeper creates lookup tables of its accounts, values it from its
/// cache (refresh batches, then the poke or the trade with the last batch, each asking for the heap frame) and
/// trades the shocked asset back toward its band (until the next trade's bounty no longer pays its fees: a
/// $10 000 vault of 24 assets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_rebalances_a_large_vault_from_its_cache() {
    use ballast_harness::dex::Amm;
    let net = net(500).await;
    let fx = {
        let mut chain = net.chain.lock().await;
        let specs = ballast_harness::fixture::numbered_specs(24, 25);
        let v =
            ballast_harness::large_vault::large_vault_numbered(&mut chain, 1, Amm::Reference, &specs).await.unwrap();
        chain.advance_time(2).await;
        v.fx.refresh_prices(&mut chain).await;
        let p = v.fx.oracle_reading(&mut chain, 0).await.price;
        v.fx.set_price(&mut chain, 0, p * 160 / 100).await;
        for pool in &v.pools {
            v.fx.arbitrage_any(&mut chain, pool).await.unwrap();
        }
        Arc::new(v.fx)
    };
    let drift0 = |r: ballast_harness::fixture::Report| r.drift_bps[0].abs() - r.bands_bps[0] as i64;
    let before = drift0(fx.report(&mut *net.chain.lock().await).await.unwrap());
    assert!(before > 0, "T0 out of its band: {before} bps over");
    let publisher = publish_prices(&net, &fx);
    let k = keeper(&net, false).await;
    let mut traded = 0;
    for _ in 0..20 {
        for report in k.iteration().await.unwrap().into_iter().filter(|r| r.vault == fx.key) {
            match report.outcome {
                Outcome::Done { action: Action::Trade { .. }, .. } => traded += 1,
                Outcome::Waited { until } => {
                    let mut chain = net.chain.lock().await;
                    let now = chain.clock().await.unix_timestamp;
                    fx.let_auction_run(&mut chain, (until - now).max(1)).await.unwrap();
                }
                _ => {}
            }
        }
        if traded >= 2 || (traded > 0 && drift0(fx.report(&mut *net.chain.lock().await).await.unwrap()) <= 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    publisher.abort();
    let after = drift0(fx.report(&mut *net.chain.lock().await).await.unwrap());
    assert!(traded >= 1, "the keeper traded the large vault");
    assert!(after < before, "T0's drift fell: {after} bps over its band (was {before})");
    let cache = ballast_client::valuation_cache_address(&fx.key);
    let data = net.chain.lock().await.account(&cache).await.expect("cache").data;
    let size = std::mem::size_of::<ballast::state::ValuationCache>();
    let cache: ballast::state::ValuationCache = bytemuck::pod_read_unaligned(&data[8..8 + size]);
    assert!(
        cache.entries[..24].iter().all(|e| e.slot > 0 && e.refused == 0),
        "every asset's entry refreshed and accepted"
    );
    net.stop();
}

/// The settlement and fee jobs on a vault above 16 assets go the way its trades do: the refresh transactions,
/// then the instruction with the last batch, each with the heap frame (before, both built the direct form, which
/// names 48 oracle and reserve accounts for 24 assets and fits no transaction). A 24-asset vault charging a 2 %
/// management fee, 30 days after its seeding: a $100 single-asset deposit request and a single-asset withdrawal
/// request are settled and the fees accrued and minted to the recipient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_settles_and_accrues_fees_of_a_large_vault_from_its_cache() {
    use ballast_harness::chain::TokenProgram;
    use ballast_harness::dex::Amm;
    use ballast_harness::fixture;
    let net = net(500).await;
    let recipient = Keypair::new().pubkey();
    let (fx, depositor, seed, recipient_shares, asset_5_before) = {
        let mut chain = net.chain.lock().await;
        let mut params = fixture::default_params();
        params.fees = fixture::fees_to(fixture::future_share_account(&chain, 1, &recipient), 200, 0, 0, 0);
        let specs = fixture::numbered_specs(24, 25);
        let v = ballast_harness::large_vault::large_vault_with(&mut chain, 1, Amm::Reference, &specs, params)
            .await
            .unwrap();
        let share_mint = ballast_client::pda::share_mint(&v.fx.key);
        let recipient_shares = chain.create_ata(&recipient, &share_mint, TokenProgram::Token).await.unwrap();
        chain.advance_time(30 * 86_400).await;
        v.fx.refresh_prices(&mut chain).await;
        let amount = v.fx.amount_for_usd(&mut chain, 3, 100.0).await;
        let mut amounts = vec![0; 24];
        amounts[3] = amount;
        let depositor = v.fx.user(&mut chain, &amounts).await.unwrap();
        v.fx.request_deposit(&mut chain, &depositor, 3, amount, 1).await.unwrap();
        let shares = chain.token_amount(&v.seed.shares).await / 200;
        v.fx.request_withdraw(&mut chain, &v.seed, 5, shares, 1).await.unwrap();
        let vault = v.fx.state(&mut chain).await;
        let delay = vault.params.deposit_delay_secs;
        chain.advance_time(i64::from(delay) + 1).await;
        v.fx.refresh_prices(&mut chain).await;
        let asset_5_before = chain.token_amount(&v.seed.tokens[5]).await;
        (Arc::new(v.fx), depositor, v.seed, recipient_shares, asset_5_before)
    };
    let opts = KeeperOptions {
        rpc_url: net.url(),
        jobs: Jobs { rebalance: false, settle: true, fees: true },
        fee_interval: Duration::from_secs(1),
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    // One feed two minutes old: the fees are due but would not be crystallised, so the keeper pays for nothing
    // (no refresh for an accrual the program would refuse), and the settlements wait for fresh readings too.
    {
        let mut chain = net.chain.lock().await;
        let now = chain.clock().await.unix_timestamp;
        let (a, price) = (&fx.assets[7], fx.oracle_reading(&mut chain, 7).await.price);
        chain
            .set_price(&a.oracle, &ballast_harness::pyth::PriceSpec::new(a.feed_id, price, a.spec.expo, now - 120))
            .await;
    }
    let lamports = k.rpc.get_balance(&k.payer.pubkey()).await.unwrap();
    let first: Vec<Outcome> =
        k.iteration().await.unwrap().into_iter().filter(|r| r.vault == fx.key).map(|r| r.outcome).collect();
    assert_eq!(first, vec![Outcome::Held(ballast_keeper::Idle::FeesNotPriced)], "{first:?}");
    assert_eq!(k.rpc.get_balance(&k.payer.pubkey()).await.unwrap(), lamports, "nothing paid for");
    let publisher = publish_prices(&net, &fx);
    let (mut deposit, mut withdrawal, mut fees) = (false, false, false);
    for _ in 0..30 {
        for report in k.iteration().await.unwrap().into_iter().filter(|r| r.vault == fx.key) {
            match report.outcome {
                Outcome::Done { action: Action::Settle { .. }, .. } => deposit = true,
                Outcome::Done { action: Action::SettleWithdrawal { .. }, .. } => withdrawal = true,
                Outcome::Done { action: Action::AccrueFees, .. } => fees = true,
                Outcome::Rejected(r) => panic!("refused: {r}"),
                _ => {}
            }
        }
        if deposit && withdrawal && fees {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(deposit && withdrawal && fees, "deposit {deposit}, withdrawal {withdrawal}, fees {fees}");
    // A restarted keeper (the same key) finds its lookup table of this vault on chain and pays for no other.
    let own_tables = || async {
        let authority = Memcmp::new_base58_encoded(22, k.payer.pubkey().as_ref());
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(authority)]),
            account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
            with_context: None,
            sort_results: None,
        };
        let program = Pubkey::from_str_const("AddressLookupTab1e1111111111111111111111111");
        k.rpc.get_program_ui_accounts_with_config(&program, config).await.unwrap().len()
    };
    let tables = own_tables().await;
    assert_eq!(tables, 1, "one table of the vault's 77 addresses");
    let second = {
        let mut chain = net.chain.lock().await;
        let amount = fx.amount_for_usd(&mut chain, 4, 100.0).await;
        let mut amounts = vec![0; 24];
        amounts[4] = amount;
        let second = fx.user(&mut chain, &amounts).await.unwrap();
        fx.request_deposit(&mut chain, &second, 4, amount, 1).await.unwrap();
        let delay = fx.state(&mut chain).await.params.deposit_delay_secs;
        chain.advance_time(i64::from(delay) + 1).await;
        fx.refresh_prices(&mut chain).await;
        second
    };
    let opts = KeeperOptions {
        rpc_url: net.url(),
        jobs: Jobs { rebalance: false, settle: true, fees: false },
        ..Default::default()
    };
    let restarted = Keeper::new(opts, k.payer.insecure_clone(), Arc::new(Metrics::default()));
    let mut settled = false;
    for _ in 0..20 {
        let reports = restarted.iteration().await.unwrap();
        settled |= reports.iter().any(|r| r.vault == fx.key && matches!(r.outcome, Outcome::Done { .. }));
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    publisher.abort();
    assert!(settled, "the restarted keeper settled the second deposit");
    assert_eq!(own_tables().await, tables, "no second lookup table");
    assert!(fx.deposit_request(&mut *net.chain.lock().await, &second.keypair.pubkey()).await.is_none());
    let mut chain = net.chain.lock().await;
    assert!(fx.deposit_request(&mut chain, &depositor.keypair.pubkey()).await.is_none());
    assert!(fx.withdraw_request(&mut chain, &seed.keypair.pubkey()).await.is_none());
    assert!(chain.token_amount(&depositor.shares).await > 0, "the depositor's shares were minted");
    assert!(chain.token_amount(&seed.tokens[5]).await > asset_5_before, "the leaver was paid T5");
    // 2 % a year for 30 days on $10 000: about $16 of shares (at about $1 a share).
    let fee_shares = chain.token_amount(&recipient_shares).await;
    let decimals = 6;
    assert!(fee_shares > 10 * 10u64.pow(decimals), "the recipient was minted {fee_shares} share units");
    drop(chain);
    net.stop();
}
