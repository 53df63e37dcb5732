//! The keeper's Jupiter route against a local server on 127.0.0.1 that answers in Jupiter's documented
//! (v6) response format: `/quote` prices the trade a few bps above (or below) the vault's best whitelisted
//! pool, `/swap-instructions` returns the reference pool's swap for the keeper, paying the destination it
//! was given. The keeper takes the route as a flash rebalance when it pays at least as much as the
//! whitelisted pool, and not when it pays less.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::get_associated_token_address;
use axum::extract::{Query, State};
use axum::Json;
use ballast_keeper::jupiter::encode_instruction;
use ballast_keeper::{Keeper, KeeperOptions, Metrics, Report};
use ballast_localnet::localnet::Localnet;
use serde_json::{json, Value};
use solana_keypair::Keypair;

#[derive(Clone)]
struct Mock {
    net: Arc<Localnet>,
    /// Basis points the mock adds to (or takes from) the pool's true output in its quotes.
    edge_bps: i64,
    calls: Arc<AtomicU64>,
    /// An address lookup table the route says it needs.
    lookup_table: Option<Pubkey>,
}

/// What the vault's best whitelisted pool pays for `amount` of `input` (the keeper compares Jupiter's quote
/// against it), and what the reference pool pays (the mock's swap goes through it).
async fn pool_out(net: &Localnet, input: &Pubkey, output: &Pubkey, amount: u64) -> (u64, u64) {
    use ballast_client::planner::AmmQuote;
    let mut chain = net.chain.lock().await;
    let fx = &net.fx;
    let (i, o) = (
        fx.assets.iter().position(|a| a.mint == *input).unwrap(),
        fx.assets.iter().position(|a| a.mint == *output).unwrap(),
    );
    let vault = fx.state(&mut chain).await;
    let (_, routes) = ballast_client::planner::load(&mut *chain, vault).await.unwrap();
    let best = routes
        .iter()
        .filter(|r| r.vault_of(i).is_some() && r.vault_of(o).is_some())
        .filter_map(|r| r.quote(i, amount))
        .max()
        .unwrap();
    let pool = ballast_harness::fixture::PoolFixture::between(&net.pools, i, o).unwrap();
    let (ri, ro) = (chain.token_amount(&pool.vault_of(i)).await, chain.token_amount(&pool.vault_of(o)).await);
    (best, ballast_amm::math::swap_out(ri, ro, 30, amount).unwrap())
}

async fn quote(State(m): State<Mock>, Query(q): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    m.calls.fetch_add(1, Ordering::SeqCst);
    let (input, output) = (Pubkey::from_str(&q["inputMint"]).unwrap(), Pubkey::from_str(&q["outputMint"]).unwrap());
    let amount: u64 = q["amount"].parse().unwrap();
    let slippage: u64 = q["slippageBps"].parse().unwrap();
    let (best, out) = pool_out(&m.net, &input, &output, amount).await;
    let quoted = (best as i128 * (10_000 + m.edge_bps as i128) / 10_000) as u64;
    Json(json!({
        "inputMint": input.to_string(), "inAmount": amount.to_string(),
        "outputMint": output.to_string(), "outAmount": quoted.to_string(),
        "otherAmountThreshold": (out - out * slippage / 10_000).to_string(),
        "swapMode": "ExactIn", "slippageBps": slippage, "priceImpactPct": "0",
        "routePlan": [{"swapInfo": {"ammKey": Pubkey::default().to_string(), "label": "ballast reference AMM",
            "inputMint": input.to_string(), "outputMint": output.to_string(), "inAmount": amount.to_string(),
            "outAmount": out.to_string(), "feeAmount": "0", "feeMint": input.to_string()}, "percent": 100}],
        "contextSlot": 0, "timeTaken": 0.001
    }))
}

async fn swap_instructions(State(m): State<Mock>, Json(body): Json<Value>) -> Json<Value> {
    m.calls.fetch_add(1, Ordering::SeqCst);
    let q = &body["quoteResponse"];
    let key = |v: &Value| Pubkey::from_str(v.as_str().unwrap()).unwrap();
    let (input, output, user, dest) = (
        key(&q["inputMint"]),
        key(&q["outputMint"]),
        key(&body["userPublicKey"]),
        key(&body["destinationTokenAccount"]),
    );
    let amount: u64 = q["inAmount"].as_str().unwrap().parse().unwrap();
    let min_out: u64 = q["otherAmountThreshold"].as_str().unwrap().parse().unwrap();
    let token = anchor_spl::token::ID;
    let swap = ballast_client::amm::swap(
        &user,
        &input,
        &output,
        &get_associated_token_address(&user, &input),
        &dest,
        &token,
        &token,
        amount,
        min_out,
    );
    Json(json!({
        "tokenLedgerInstruction": null,
        "computeBudgetInstructions": [],
        "setupInstructions": [],
        "swapInstruction": encode_instruction(&swap),
        "cleanupInstruction": null,
        "addressLookupTableAddresses": m.lookup_table.iter().map(|k| k.to_string()).collect::<Vec<_>>()
    }))
}

async fn start_mock(net: Arc<Localnet>, edge_bps: i64) -> (String, Arc<AtomicU64>) {
    start_mock_with(net, edge_bps, None).await
}

async fn start_mock_with(net: Arc<Localnet>, edge_bps: i64, lookup_table: Option<Pubkey>) -> (String, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route("/quote", axum::routing::get(quote))
        .route("/swap-instructions", axum::routing::post(swap_instructions))
        .with_state(Mock { net, edge_bps, calls: calls.clone(), lookup_table });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), calls)
}

async fn net() -> Arc<Localnet> {
    Arc::new(ballast_tests::localnet(200).await)
}

async fn keeper(net: &Localnet, jupiter: &str) -> Keeper {
    let opts = KeeperOptions {
        rpc_url: net.url(),
        iterations: Some(1),
        jupiter_url: Some(jupiter.to_string()),
        ..Default::default()
    };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;
    k
}

async fn routes(k: &Keeper) -> std::collections::BTreeMap<String, u64> {
    k.metrics.rebalance.routes.lock().await.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_takes_jupiters_route_when_it_pays_at_least_as_much() {
    let net = net().await;
    let (url, calls) = start_mock(net.clone(), 5).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let k = keeper(&net, &url).await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    assert_eq!(
        routes(&k).await.get("jupiter"),
        Some(&1),
        "{:?} calls {}",
        routes(&k).await,
        calls.load(Ordering::SeqCst)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one quote, one swap-instructions");
    let mut chain = net.chain.lock().await;
    assert!(net.fx.state(&mut chain).await.flight.is_none());
    drop(chain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_keeps_the_pool_route_when_jupiter_pays_less() {
    let net = net().await;
    let (url, calls) = start_mock(net.clone(), -20).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let k = keeper(&net, &url).await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    assert_eq!(routes(&k).await.get("direct"), Some(&1));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "quoted and built, but not sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_with_a_lookup_table_goes_out_as_a_v0_transaction() {
    let net = net().await;
    // A table holding the pools' and the vault's accounts, as a large route would bring.
    let table = {
        let mut chain = net.chain.lock().await;
        let mut keys: Vec<Pubkey> = net.pools.iter().flat_map(|p| [p.key, p.vault_a, p.vault_b]).collect();
        keys.extend(net.fx.assets.iter().flat_map(|a| [a.mint, a.oracle]));
        keys.push(anchor_spl::token::ID);
        chain.create_lookup_table(&keys).await.unwrap().key
    };
    let (url, _) = start_mock_with(net.clone(), 5, Some(table)).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let k = keeper(&net, &url).await;
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    let r = routes(&k).await;
    assert_eq!(r.get("jupiter"), Some(&1), "{r:?}");
    assert_eq!(r.get("with_lookup_tables"), Some(&1), "{r:?}");
}

/// Jupiter's route is the client's one flash rebalance (`ballast_client::flash`) around Jupiter's setup,
/// swap and cleanup instructions: fed the same vault, candidate and API answers, the keeper's route and the
/// client's builder give the same instructions, the begin's min-out the plan's raised to Jupiter's threshold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jupiters_route_is_the_clients_flash_rebalance() {
    use ballast_client::planner::Decision;
    use ballast_keeper::jupiter::Jupiter;
    use ballast_keeper::routes::{Provider, RouteContext};
    use solana_signer::Signer;

    let net = net().await;
    let (url, _) = start_mock(net.clone(), 5).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let k = keeper(&net, &url).await;
    let (key, vault) = k.vaults().await.unwrap().remove(0);
    let Decision::Trade(c) = k.plan(vault.clone()).await.unwrap().decision else { panic!("trade needed") };
    let keeper = k.payer.pubkey();
    let (sell, buy) = (vault.assets[c.request.sell], vault.assets[c.request.buy]);
    let account = get_associated_token_address(&keeper, &sell.mint);
    let ctx = RouteContext {
        rpc: &k.rpc,
        keeper,
        vault_key: key,
        vault: &vault,
        candidate: &c,
        keeper_sell_account: account,
    };
    let built = Provider::Jupiter(Jupiter::new(&url)).build(&ctx).await.expect("a Jupiter route");

    let api = Jupiter::new(&url);
    let slippage = vault.params.slippage_cap_bps.min(50);
    let quote = api.quote(&sell.mint, &buy.mint, c.plan.amount_in, slippage).await.unwrap();
    assert_eq!(built.expected_out, quote.out_amount);
    let swap = api.swap_instructions(&quote, &keeper, &buy.reserve).await.unwrap();
    let mut route = swap.setup;
    route.push(swap.swap);
    route.extend(swap.cleanup);
    let args = ballast::instructions::RebalanceArgs {
        sell_index: c.request.sell as u8,
        buy_index: c.request.buy as u8,
        amount_in: c.plan.amount_in,
        min_out: c.plan.min_out.max(quote.other_amount_threshold),
    };
    assert_eq!(built.instructions, ballast_client::flash(&keeper, &key, &vault, &account, args, route));
}
