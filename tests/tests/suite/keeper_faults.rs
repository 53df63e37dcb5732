//! The keeper against a flaky endpoint: a fault-injecting proxy between the keeper and `localnet`
//! answers 429 and 5xx, delays replies past the keeper's timeout, and loses the reply of a transaction
//! that landed. The keeper never crashes, never turns a lost reply into a second trade, backs off, counts
//! every fault on `/metrics`, and recovers when the endpoint does.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ballast_keeper::{Keeper, KeeperOptions, Metrics, Report};
use ballast_localnet::localnet::Localnet;
use ballast_tests::fault_proxy::{Fault, FaultProxy};
use solana_keypair::Keypair;

async fn net() -> Localnet {
    ballast_tests::localnet(200).await
}

async fn keeper_via(proxy: &FaultProxy, timeout: Duration) -> Keeper {
    let opts = KeeperOptions {
        rpc_url: proxy.url(),
        interval: Duration::from_millis(300),
        iterations: Some(1),
        max_attempts: 4,
        rpc_timeout: timeout,
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    k
}

/// Runs up to `n` iterations (errors are survived, as `run` does) until a rebalance lands.
async fn iterate_until_rebalanced(k: &Keeper, n: usize) -> usize {
    let mut rebalanced = 0;
    for _ in 0..n {
        if let Ok(out) = k.iteration().await {
            rebalanced += out.iter().filter(|r| r.traded()).count();
        }
        if rebalanced > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    rebalanced
}

async fn faults(k: &Keeper, kind: &str) -> u64 {
    k.metrics.faults.lock().await.get(kind).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_survives_429_and_5xx_and_recovers() {
    let net = net().await;
    let proxy = FaultProxy::start(&net.url()).await.unwrap();
    let k = keeper_via(&proxy, Duration::from_secs(5)).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    // The Solana RPC client itself retries a 429 five times with backoff; six in a row reach the keeper.
    proxy.inject("getProgramAccounts", &[Fault::TooManyRequests; 6]).await;
    proxy.inject("getProgramAccounts", &[Fault::ServerError]).await;
    proxy.every(Some((4, Fault::TooManyRequests))).await;
    assert_eq!(iterate_until_rebalanced(&k, 15).await, 1, "rebalanced through the faults");
    let seen = k.metrics.faults.lock().await.clone();
    assert!(faults(&k, "http_429").await >= 1, "{seen:?}");
    assert!(faults(&k, "http_5xx").await >= 1);
    assert!(
        faults(&k, "http_429").await + faults(&k, "http_5xx").await >= 2,
        "the failed requests were counted, not fatal"
    );
    let text = k.metrics.render().await;
    assert!(text.contains("ballast_keeper_rpc_faults_total{kind=\"http_429\"}"), "{text}");
    // The endpoint recovers: a clean iteration.
    proxy.every(None).await;
    assert!(k.iteration().await.is_ok());
    proxy.stop();
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_confirmation_never_becomes_a_second_trade() {
    let net = net().await;
    let proxy = FaultProxy::start(&net.url()).await.unwrap();
    let k = keeper_via(&proxy, Duration::from_secs(5)).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    // The rebalance lands, but its reply is lost.
    proxy.inject("sendTransaction", &[Fault::LoseReply]).await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    let stats = proxy.stats().await;
    assert_eq!(stats.sent_transactions.len(), 1, "one transaction, never a second trade: {stats:?}");
    assert_eq!(faults(&k, "confirmation_lost").await, 1);
    assert_eq!(k.metrics.rebalance.rebalances.load(Ordering::Relaxed), 1);
    let mut chain = net.chain.lock().await;
    assert!(net.fx.state(&mut chain).await.last_rebalance_slot > 0);
    drop(chain);
    proxy.stop();
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_replies_time_out_and_the_keeper_backs_off_then_recovers() {
    let net = net().await;
    let proxy = FaultProxy::start(&net.url()).await.unwrap();
    let k = keeper_via(&proxy, Duration::from_millis(400)).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    proxy.inject("getProgramAccounts", &[Fault::Delay(Duration::from_millis(900)); 2]).await;
    assert_eq!(iterate_until_rebalanced(&k, 10).await, 1);
    assert!(faults(&k, "timeout").await >= 2, "{:?}", k.metrics.faults.lock().await);
    proxy.stop();
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_blockhash_is_replaced_and_the_trade_lands_once() {
    let net = net().await;
    let proxy = FaultProxy::start(&net.url()).await.unwrap();
    let k = keeper_via(&proxy, Duration::from_secs(5)).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    // The blockhash the keeper signs its trade with is one the cluster never knew.
    proxy.inject("getLatestBlockhash", &[Fault::StaleBlockhash]).await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?} {:?}", k.metrics.faults.lock().await);
    assert_eq!(faults(&k, "blockhash_expired").await, 1);
    assert_eq!(k.metrics.rebalance.rebalances.load(Ordering::Relaxed), 1);
    proxy.stop();
    net.stop();
}
