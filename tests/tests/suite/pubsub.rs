//! The localnet's websocket pubsub and transaction history, through Solana's own Rust clients
//! (`solana-pubsub-client`, `solana-rpc-client`): what web3.js, Anchor and explorers rely on.

use std::time::Duration;

use anchor_lang::{AccountDeserialize, Discriminator};
use ballast::state::Vault;
use ballast_localnet::localnet::Localnet;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig, RpcTransactionConfig,
    RpcTransactionLogsConfig, RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;

const WAIT: Duration = Duration::from_secs(20);

async fn next<T>(stream: &mut (impl futures_util::Stream<Item = T> + Unpin), what: &str) -> T {
    tokio::time::timeout(WAIT, stream.next()).await.unwrap_or_else(|_| panic!("no {what} within {WAIT:?}")).expect(what)
}

async fn net() -> Localnet {
    ballast_tests::localnet(200).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_slots_accounts_programs_logs_and_signatures() {
    let net = net().await;
    let pubsub = PubsubClient::new(net.ws_url().as_str()).await.expect("websocket");
    let rpc = RpcClient::new(net.url());

    let (mut slots, unsubscribe_slots) = pubsub.slot_subscribe().await.unwrap();
    let first = next(&mut slots, "slot").await.slot;
    assert!(next(&mut slots, "slot").await.slot > first, "slots advance");
    unsubscribe_slots().await;

    let account_cfg = RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() };
    let (mut vault_updates, _u1) = pubsub.account_subscribe(&net.vault(), Some(account_cfg.clone())).await.unwrap();
    let program_cfg = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, Vault::DISCRIMINATOR.to_vec()))]),
        account_config: account_cfg,
        ..Default::default()
    };
    let (mut vaults, _u2) = pubsub.program_subscribe(&ballast::ID, Some(program_cfg)).await.unwrap();
    let (mut logs, _u3) = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![ballast::ID.to_string()]),
            RpcTransactionLogsConfig { commitment: None },
        )
        .await
        .unwrap();

    // A price move pokes the vault: the vault account, the program subscription and the logs all notify.
    net.shock(0, 10).await.unwrap();
    let update = next(&mut vault_updates, "account notification").await;
    let data = update.value.data.decode().expect("base64 data");
    let vault = Vault::try_deserialize(&mut &data[..]).expect("a vault");
    assert_eq!(vault.assets.len(), 3);
    let keyed = next(&mut vaults, "program notification").await;
    assert_eq!(keyed.value.pubkey, net.vault().to_string());
    let logged = next(&mut logs, "logs notification").await;
    assert!(logged.value.err.is_none());
    assert_eq!(
        logged.value.logs.first().map(String::as_str),
        Some(format!("Program {} invoke [1]", ballast::ID).as_str())
    );
    assert!(
        logged.value.logs.iter().any(|l| l.starts_with("Program data: ")),
        "the poke's event: {:?}",
        logged.value.logs
    );

    // A signature that already landed is notified at once.
    let sig = rpc.request_airdrop(&solana_keypair::Keypair::new().pubkey(), 1_000_000_000).await.unwrap();
    let (mut status, _u4) = pubsub.signature_subscribe(&sig, None).await.unwrap();
    let landed = next(&mut status, "signature notification").await;
    assert!(matches!(
        landed.value,
        solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()
    ));
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_is_recorded_with_anchors_error_line() {
    let net = net().await;
    let rpc = RpcClient::new(net.url());
    // Executing with nothing pending fails in the program: NoParamsChangePending.
    let governance = net.fx.governance.insecure_clone();
    let payer = solana_keypair::Keypair::new();
    rpc.request_airdrop(&payer.pubkey(), 1_000_000_000).await.unwrap();
    let ix = ballast_client::execute_params(&governance.pubkey(), &net.vault());
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[&payer, &governance], blockhash);
    let cfg = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
    let sig = rpc.send_transaction_with_config(&tx, cfg).await.unwrap();
    let fetched = rpc
        .get_transaction_with_config(
            &sig,
            RpcTransactionConfig { max_supported_transaction_version: Some(0), ..Default::default() },
        )
        .await
        .unwrap();
    let meta = fetched.transaction.meta.expect("meta");
    assert!(meta.err.is_some(), "the failure is recorded");
    assert_eq!(meta.fee, 10_000, "two signatures");
    let logs: Vec<String> = Option::from(meta.log_messages).expect("logs");
    let code = u32::from(ballast::errors::BallastError::NoParamsChangePending);
    assert!(
        logs.iter().any(|l| l.starts_with(&format!(
            "Program log: AnchorError occurred. Error Code: NoParamsChangePending. Error Number: {code}."
        ))),
        "{logs:?}"
    );
    assert_eq!(logs.last().unwrap(), &format!("Program {} failed: custom program error: {code:#x}", ballast::ID));
    // The explorer's history of the vault lists it, newest first.
    let history = rpc.get_signatures_for_address(&net.vault()).await.unwrap();
    assert_eq!(history[0].signature, sig.to_string());
    assert!(history[0].err.is_some());
    net.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_load_test_runs_without_errors() {
    let opts = ballast_bench::rpc::RpcBenchOptions { clients: 4, requests: 20, confirms: 2 };
    let b = ballast_bench::rpc::run(opts).await.unwrap();
    assert_eq!(b.errors, 0, "{:?}", b.first_errors);
    assert_eq!(b.http.count, 80);
    assert_eq!(b.subscribe.count, 12, "three subscriptions per client");
    assert_eq!(b.confirm.count, 8, "every send confirmed over signatureSubscribe");
    assert!(b.http.p50_ms <= b.http.p99_ms && b.http.p99_ms <= b.http.max_ms);
}

/// One JSON-RPC call; the `error` object when it failed.
async fn rpc_error(url: &str, method: &str, params: serde_json::Value) -> (i64, String) {
    let body: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let e = body.get("error").unwrap_or_else(|| panic!("{method} succeeded: {body}"));
    (e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_development_and_dashboard_requests_are_refused_with_their_exact_errors() {
    use serde_json::json;
    let net = net().await;
    let url = net.url();
    let rpc = RpcClient::new(url.clone());
    let slot = rpc.get_slot().await.unwrap();

    // Blocks: a future slot, and a slot the chain warped over.
    let future = slot + 1_000_000;
    assert_eq!(
        rpc_error(&url, "getBlock", json!([future])).await,
        (-32004, format!("Block not available for slot {future}"))
    );
    assert_eq!(rpc_error(&url, "getBlockTime", json!([future])).await.0, -32004);
    let with_txs: Vec<u64> = rpc.get_blocks(0, Some(slot)).await.unwrap();
    let skipped = (1..slot).find(|s| !with_txs.contains(s)).expect("a slot without transactions");
    assert_eq!(
        rpc_error(&url, "getBlock", json!([skipped])).await,
        (-32007, format!("Slot {skipped} was skipped, or missing due to ledger jump to recent snapshot"))
    );
    // History limits.
    let vault = net.vault().to_string();
    assert_eq!(
        rpc_error(&url, "getSignaturesForAddress", json!([vault, {"limit": 0}])).await,
        (-32602, "Invalid limit; max 1000".to_string())
    );
    // A v0 transaction needs the client to say it reads v0.
    let payer = solana_keypair::Keypair::new();
    rpc.request_airdrop(&payer.pubkey(), 1_000_000_000).await.unwrap();
    let ix = anchor_lang::solana_program::system_instruction::transfer(&payer.pubkey(), &net.vault(), 1_000);
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let msg = solana_message::v0::Message::try_compile(&payer.pubkey(), &[ix], &[], blockhash).unwrap();
    let tx = solana_transaction::versioned::VersionedTransaction::try_new(
        solana_message::VersionedMessage::V0(msg),
        &[&payer],
    )
    .unwrap();
    let sig = rpc.send_transaction(&tx).await.unwrap();
    let (code, message) = rpc_error(&url, "getTransaction", json!([sig.to_string()])).await;
    assert_eq!(code, -32015);
    assert!(message.starts_with("Transaction version (0) is not supported"), "{message}");
    // Development methods keep their bounds.
    assert_eq!(
        rpc_error(&url, "ballast_warpTime", json!([0])).await,
        (-32602, "seconds must be within 1 s and 30 days".to_string())
    );
    assert_eq!(
        rpc_error(&url, "ballast_movePrice", json!([3, 10])).await,
        (-32602, "asset index must be below 3".to_string())
    );
    assert_eq!(
        rpc_error(&url, "ballast_movePrice", json!([0, 101])).await,
        (-32602, "percent must be within -50 and 100".to_string())
    );
    assert_eq!(
        rpc_error(&url, "ballast_nothing", json!([])).await,
        (-32602, "unknown development method ballast_nothing".to_string())
    );
    assert_eq!(rpc_error(&url, "getNothing", json!([])).await, (-32601, "Method not found: getNothing".to_string()));
    // The dashboard's transaction builder.
    let refused = reqwest::Client::new()
        .post(format!("{url}/api/tx/deposit"))
        .json(&json!({"owner": payer.pubkey().to_string(), "vault": vault, "maxAmountsIn": ["1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "give one amount per asset (3)");
    net.stop();
}
