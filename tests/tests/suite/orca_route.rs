//! The keeper's Orca route for a pool it is told about (`--orca-pool`): built from a Whirlpool's state
//! (written on the local chain in the real account layouts, with vaults that do not exist), quoted with
//! Orca's own math, `swap` from Orca's client crate inside a flash rebalance. The real Whirlpool program
//! refuses the fabricated pool in simulation, and the keeper falls back to the next route, the whitelisted
//! pool. (Routes through real Whirlpools, executed: `dex.rs` and `keeper_e2e.rs`.)

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use ballast_client::planner::Decision;
use ballast_keeper::routes::{Provider, RouteContext};
use ballast_keeper::{Keeper, KeeperOptions, Metrics, Report};
use orca_whirlpools_client::{
    FixedTickArray, Tick, Whirlpool, FIXED_TICK_ARRAY_DISCRIMINATOR, WHIRLPOOL_DISCRIMINATOR,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A SOL/USDC Whirlpool at `price` USD per SOL (9 and 6 decimals), deep, 0.3 % fee, and the three tick
/// arrays a SOL → USDC swap crosses; returns its address.
async fn whirlpool(net: &ballast_localnet::localnet::Localnet, price: f64) -> Pubkey {
    let (sol, usdc) = (net.fx.assets[0].mint, net.fx.assets[2].mint);
    let mut w = Whirlpool::from_bytes(&[0u8; Whirlpool::LEN]).unwrap();
    w.discriminator = WHIRLPOOL_DISCRIMINATOR;
    w.tick_spacing = 64;
    w.fee_tier_index_seed = 64u16.to_le_bytes();
    w.fee_rate = 3_000;
    w.liquidity = 1u128 << 80;
    let raw_price = price * 1e6 / 1e9; // USDC base units per SOL base unit
    w.sqrt_price = (raw_price.sqrt() * 2f64.powi(64)) as u128;
    w.tick_current_index = (raw_price.ln() / 1.0001f64.ln()).floor() as i32;
    (w.token_mint_a, w.token_mint_b) = (sol, usdc);
    (w.token_vault_a, w.token_vault_b) = (Pubkey::new_unique(), Pubkey::new_unique());
    let pool = Pubkey::new_unique();
    let mut chain = net.chain.lock().await;
    chain.set_raw_account(&pool, borsh::to_vec(&w).unwrap(), orca_whirlpools_client::ID).await;
    let span = 88 * 64;
    let start = ballast_client::dex::orca::tick_array_start(w.tick_current_index, 64);
    for (k, address) in ballast_client::dex::orca::tick_arrays(&pool, &w, true).unwrap().iter().enumerate() {
        let empty = Tick {
            initialized: false,
            liquidity_net: 0,
            liquidity_gross: 0,
            fee_growth_outside_a: 0,
            fee_growth_outside_b: 0,
            reward_growths_outside: [0; 3],
        };
        let array = FixedTickArray {
            discriminator: FIXED_TICK_ARRAY_DISCRIMINATOR,
            start_tick_index: start - span * k as i32,
            ticks: std::array::from_fn(|_| empty.clone()),
            whirlpool: pool,
        };
        chain.set_raw_account(address, borsh::to_vec(&array).unwrap(), orca_whirlpools_client::ID).await;
    }
    pool
}

/// The localnet's vault with SOL up 40 % and its auction relaxed, and a Whirlpool pricing SOL 0.1 % above the
/// oracle.
async fn shocked_with_whirlpool() -> (ballast_localnet::localnet::Localnet, Pubkey) {
    let net = ballast_tests::localnet(200).await;
    net.shock(0, 40).await.unwrap();
    net.relax_auction().await.unwrap();
    let sol_price = {
        let mut chain = net.chain.lock().await;
        net.fx.unit_price(&mut chain, 0).await * 1e9
    };
    let pool = whirlpool(&net, sol_price * 1.001).await;
    (net, pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orca_route_is_built_from_the_pool_state_and_refused_routes_fall_back() {
    let (net, pool) = shocked_with_whirlpool().await;
    let opts = KeeperOptions { rpc_url: net.url(), iterations: Some(1), orca_pools: vec![pool], ..Default::default() };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    k.ensure_funded().await;

    // The provider alone: a flash rebalance around Orca's swap, quoted above the reference pool.
    let (key, vault) = k.vaults().await.unwrap().remove(0);
    let Decision::Trade(candidate) = k.plan(vault.clone()).await.unwrap().decision else { panic!("trade needed") };
    let keeper = k.payer.pubkey();
    let sell = vault.assets[0];
    let account = anchor_spl::associated_token::get_associated_token_address(&keeper, &sell.mint);
    let ctx = RouteContext {
        rpc: &k.rpc,
        keeper,
        vault_key: key,
        vault: &vault,
        candidate: &candidate,
        keeper_sell_account: account,
    };
    let route = Provider::Orca(vec![pool]).build(&ctx).await.expect("an Orca route");
    assert_eq!(route.name, "orca");
    assert!(route.expected_out > candidate.expected_out, "{} vs {}", route.expected_out, candidate.expected_out);
    assert_eq!(route.instructions.len(), 3);
    assert_eq!(route.instructions[1].program_id, orca_whirlpools_client::ID);
    assert_eq!(route.instructions[1].accounts[2].pubkey, pool, "whirlpool");
    assert_eq!(route.instructions[1].accounts[5].pubkey, vault.assets[2].reserve, "USDC paid to the vault's reserve");

    // The keeper ranks Orca first, the program refuses the fabricated pool in simulation, and the keeper
    // sends the pool route instead.
    let out = k.iteration().await.unwrap();
    assert!(out.iter().any(Report::traded), "{out:?}");
    assert_eq!(k.metrics.rebalance.routes.lock().await.get("direct"), Some(&1));
}

/// One flash rebalance, whoever builds it: fed the same vault, candidate and pool state, the keeper's pool
/// flash route (the client's `execute_along`), the keeper's `routes::flash` around the pool's swap and the
/// client's `ballast_client::flash` give the same instructions; so do the keeper's Orca route and the
/// client's builder around Orca's swap. The begin's arguments are spelled out here: the planned amount, the
/// plan's min-out raised to the route's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keepers_flash_routes_are_the_clients_one_flash_rebalance() {
    use ballast::instructions::RebalanceArgs;
    use ballast_client::dex::{self, orca, Leg};
    use orca_whirlpools_client::TickArray;

    let (net, pool) = shocked_with_whirlpool().await;
    let opts = KeeperOptions { rpc_url: net.url(), iterations: Some(1), ..Default::default() };
    let k = Keeper::new(opts, Keypair::new(), Arc::new(Metrics::default()));
    let (key, vault) = k.vaults().await.unwrap().remove(0);
    let Decision::Trade(c) = k.plan(vault.clone()).await.unwrap().decision else { panic!("trade needed") };
    let keeper = k.payer.pubkey();
    let (sell, buy) = (vault.assets[c.request.sell], vault.assets[c.request.buy]);
    let account = anchor_spl::associated_token::get_associated_token_address(&keeper, &sell.mint);
    let ctx = RouteContext {
        rpc: &k.rpc,
        keeper,
        vault_key: key,
        vault: &vault,
        candidate: &c,
        keeper_sell_account: account,
    };
    let input = Leg { mint: sell.mint, token_program: sell.token_program, account };
    let output = Leg { mint: buy.mint, token_program: buy.token_program, account: buy.reserve };
    let r = &c.request;
    // The begin's arguments: the planned amount, the plan's min-out raised to the route's.
    let args = |min_out: u64| RebalanceArgs {
        sell_index: r.sell as u8,
        buy_index: r.buy as u8,
        amount_in: c.plan.amount_in,
        min_out: c.plan.min_out.max(min_out),
    };

    // The pool route in flash mode (the client's `execute_along`, as the harness and the simulator send it),
    // the keeper's own flash rebalance around the same swap, and the client's builder.
    let pool_route = Provider::Pool(ballast_client::RouteMode::Flash).build(&ctx).await.expect("a pool route");
    let swap =
        dex::swap_instruction(&c.route.pool, &c.route.kind, &keeper, &input, &output, c.plan.amount_in, r.min_out)
            .expect("the pool trades the pair");
    // (`execute_along` puts the heap request every rebalance carries first: `with_trade_heap`.)
    let keepers = ballast_keeper::routes::flash(&ctx, r.min_out, vec![swap.clone()]);
    assert_eq!(pool_route.instructions, ballast_client::with_trade_heap(keepers));
    let client = ballast_client::flash(&keeper, &key, &vault, &account, args(r.min_out), vec![swap]);
    assert_eq!(pool_route.instructions, ballast_client::with_trade_heap(client));
    assert_eq!(pool_route.instructions.len(), 4);

    // The Orca route: Orca's quote over the same tick arrays, its swap, around the client's builder.
    let orca_route = Provider::Orca(vec![pool]).build(&ctx).await.expect("an Orca route");
    let w = Whirlpool::from_bytes(&k.rpc.get_account(&pool).await.unwrap().data).unwrap();
    let a_to_b = sell.mint == w.token_mint_a;
    let addresses = orca::tick_arrays(&pool, &w, a_to_b).unwrap();
    let arrays: Vec<_> = k
        .rpc
        .get_multiple_accounts(&addresses)
        .await
        .unwrap()
        .into_iter()
        .map(|a| TickArray::from_bytes(&a.expect("tick array").data).unwrap().into())
        .collect();
    let slippage = vault.params.slippage_cap_bps.min(50);
    let (out, min) = orca::quote_exact_in(&w, &arrays, a_to_b, c.plan.amount_in, slippage).unwrap();
    assert_eq!(orca_route.expected_out, out);
    assert_eq!((sell.token_program, buy.token_program), (anchor_spl::token::ID, anchor_spl::token::ID));
    let swap = orca::swap_v1(&pool, &w, &keeper, &input, &output, c.plan.amount_in, min).unwrap();
    assert_eq!(orca_route.instructions, ballast_client::flash(&keeper, &key, &vault, &account, args(min), vec![swap]));
}
