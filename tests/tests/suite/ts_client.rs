//! The TypeScript client (`app/ts`), stock Solana clients and the web dashboard against `ballast
//! localnet`: the node test runner's tests (`app/ts/test/*.test.ts`, then the headless-Chromium test
//! `app/ts/browser/dashboard.test.ts`: the demo vault, then a 128-asset vault added beside it) run against a
//! localnet and a keeper started here.

use std::sync::Arc;
use std::time::Duration;

use ballast_keeper::{Keeper, KeeperOptions, Metrics};
use ballast_localnet::localnet::PricePath;
use solana_keypair::Keypair;

/// A keeper bot polling `rpc_url` until the returned sender is dropped or fired.
pub async fn background_keeper(rpc_url: String) -> tokio::sync::oneshot::Sender<()> {
    let opts = KeeperOptions { rpc_url, interval: Duration::from_millis(300), iterations: None, ..Default::default() };
    let keeper = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    keeper.ensure_funded().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = keeper
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_clients_the_typescript_client_and_the_dashboard_work_against_localnet() {
    let keys = std::env::temp_dir().join(format!("ballast-ts-{}", std::process::id()));
    let net = ballast_tests::localnet_with_keys(200, PricePath::Hold, &keys).await;
    let stop = background_keeper(net.url()).await;
    let env = vec![
        ("BALLAST_RPC_URL", net.url()),
        ("BALLAST_WS_URL", net.ws_url()),
        ("BALLAST_KEYS_DIR", keys.display().to_string()),
    ];
    let shot = ballast_tests::node::package_dir().join("../../target/dashboard.png");
    let large_shot = ballast_tests::node::package_dir().join("../../target/dashboard-large.png");
    let _ = std::fs::remove_file(&shot);
    let _ = std::fs::remove_file(&large_shot);
    let (clients, browser) = tokio::task::spawn_blocking(move || {
        let clients = ballast_tests::node::test("test", &env);
        ballast_tests::node::ensure_chromium();
        (clients, ballast_tests::node::test("browser", &env))
    })
    .await
    .expect("node");
    let _ = stop.send(());
    net.stop();
    // Every test ran and passed (a test file that failed to load would count as one failure).
    assert_eq!(passed(&clients), 16, "{clients}");
    assert_eq!(passed(&browser), 2, "{browser}");
    for shot in [&shot, &large_shot] {
        assert!(
            std::fs::metadata(shot).map(|m| m.len() > 10_000).unwrap_or(false),
            "the browser test wrote no screenshot at {}",
            shot.display()
        );
    }
}

/// Passed tests of a TAP report that has no failure.
fn passed(tap: &str) -> usize {
    assert!(tap.contains("# fail 0"), "{tap}");
    tap.lines().find_map(|l| l.strip_prefix("# pass ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}
