//! Route providers: the ways a planned trade can reach liquidity. Each builds the trade's instructions and
//! says what it expects the vault to receive; the keeper sends the one expecting most (the program holds
//! every route to the same floor and reconciliation).
//!
//! - [`Provider::Pool`]: the whitelisted reference-AMM pool the planner chose, by `rebalance` (direct) or by a
//!   flash rebalance with the keeper's own swap in that pool;
//! - [`Provider::Jupiter`]: Jupiter's route (quote and swap-instructions over HTTP) as a flash rebalance;
//! - [`Provider::Orca`]: a configured Orca Whirlpool of the pair (not necessarily whitelisted), quoted with
//!   Orca's own math over the tick arrays it may cross, `swap` (SPL Token legs) or `swap_v2` built with
//!   Orca's client crate, as a flash rebalance.
//!
//! The keeper simulates the routes best first and sends the first that simulates.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::state::Vault;
use ballast_client::dex::{orca, Leg};
use ballast_client::planner::Candidate;
use ballast_client::RouteMode;

use crate::jupiter::Jupiter;

/// What a provider needs to build a route.
pub struct RouteContext<'a> {
    /// The endpoint (to read the lookup tables a route needs).
    pub rpc: &'a solana_rpc_client::nonblocking::rpc_client::RpcClient,
    pub keeper: Pubkey,
    pub vault_key: Pubkey,
    pub vault: &'a Vault,
    pub candidate: &'a Candidate,
    /// The keeper's token account of the sold asset (takes the sold amount in a flash route, gets the
    /// bounty in every route).
    pub keeper_sell_account: Pubkey,
}

/// A route ready to send.
#[derive(Debug, Clone)]
pub struct BuiltRoute {
    /// `direct`, `flash`, `jupiter` or `orca` (metrics label).
    pub name: String,
    /// Where the trade is executed: the pool's program for pool routes (`reference`, `raydium-cpmm`,
    /// `orca-whirlpool`), the aggregator otherwise (metrics label).
    pub venue: String,
    pub expected_out: u64,
    pub instructions: Vec<Instruction>,
    /// Address lookup tables the transaction resolves accounts through (a v0 transaction when not empty).
    pub lookup_tables: Vec<solana_message::AddressLookupTableAccount>,
}

/// A way to reach liquidity.
pub enum Provider {
    Pool(RouteMode),
    Jupiter(Jupiter),
    /// These Orca Whirlpools, quoted with Orca's own math.
    Orca(Vec<Pubkey>),
}

/// The flash rebalance of `ctx`'s candidate around the route's instructions, the begin's min-out raised to
/// the route's own `min_out`: the client's one builder ([`ballast_client::flash`]), as every flash route is.
pub fn flash(ctx: &RouteContext<'_>, min_out: u64, route: Vec<Instruction>) -> Vec<Instruction> {
    let args = ballast_client::flash_args(ctx.candidate, min_out);
    ballast_client::flash(&ctx.keeper, &ctx.vault_key, ctx.vault, &ctx.keeper_sell_account, args, route)
}

impl Provider {
    /// The route for `ctx`, or `None` (no route, or it would not clear the program's floor).
    pub async fn build(&self, ctx: &RouteContext<'_>) -> Option<BuiltRoute> {
        let c = ctx.candidate;
        match self {
            Provider::Pool(mode) => {
                let instructions = ballast_client::execute_along(
                    *mode,
                    &ctx.keeper,
                    &ctx.vault_key,
                    ctx.vault,
                    &ctx.keeper_sell_account,
                    c,
                )?;
                let name = format!("{mode:?}").to_lowercase();
                let venue = c.route.kind.name().to_string();
                Some(BuiltRoute { name, venue, expected_out: c.expected_out, instructions, lookup_tables: vec![] })
            }
            Provider::Jupiter(api) => {
                let r = &c.request;
                let (sell, buy) = (ctx.vault.assets.get(r.sell)?, ctx.vault.assets.get(r.buy)?);
                let slippage = ctx.vault.params.slippage_cap_bps.min(50);
                let quote = match api.quote(&sell.mint, &buy.mint, c.plan.amount_in, slippage).await {
                    Ok(q) => q,
                    Err(e) => {
                        tracing::debug!(vault = %ctx.vault_key, "no Jupiter quote: {e:#}");
                        return None;
                    }
                };
                if quote.out_amount < c.plan.min_out {
                    return None;
                }
                let swap = match api.swap_instructions(&quote, &ctx.keeper, &buy.reserve).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(vault = %ctx.vault_key, "no Jupiter instructions: {e:#}");
                        return None;
                    }
                };
                let mut route = swap.setup;
                route.push(swap.swap);
                route.extend(swap.cleanup);
                let instructions = flash(ctx, quote.other_amount_threshold, route);
                let lookup_tables = match crate::send::lookup_tables(ctx.rpc, &swap.lookup_tables).await {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::debug!(vault = %ctx.vault_key, "Jupiter's lookup tables unreadable: {e:#}");
                        return None;
                    }
                };
                Some(BuiltRoute {
                    name: "jupiter".into(),
                    venue: "jupiter".into(),
                    expected_out: quote.out_amount,
                    instructions,
                    lookup_tables,
                })
            }
            Provider::Orca(pools) => orca_route(ctx, pools).await,
        }
    }
}

/// Every provider's route, the one expecting most first (providers' order on ties).
pub async fn ranked(providers: &[Provider], ctx: &RouteContext<'_>) -> Vec<BuiltRoute> {
    let mut out = Vec::new();
    for p in providers {
        if let Some(r) = p.build(ctx).await {
            out.push(r);
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.expected_out));
    out
}

/// An Orca route: the first of `pools` trading the pair, quoted with the tick arrays it may cross.
async fn orca_route(ctx: &RouteContext<'_>, pools: &[Pubkey]) -> Option<BuiltRoute> {
    use orca_whirlpools_client::{TickArray, Whirlpool};
    let c = ctx.candidate;
    let (sell, buy) = (ctx.vault.assets.get(c.request.sell)?, ctx.vault.assets.get(c.request.buy)?);
    let accounts = ctx.rpc.get_multiple_accounts(pools).await.ok()?;
    let (pool, w) = pools.iter().zip(accounts).find_map(|(k, a)| {
        let w = Whirlpool::from_bytes(&a?.data).ok()?;
        let pair = [w.token_mint_a, w.token_mint_b];
        (pair.contains(&sell.mint) && pair.contains(&buy.mint)).then_some((*k, w))
    })?;
    let a_to_b = sell.mint == w.token_mint_a;
    let addresses = orca::tick_arrays(&pool, &w, a_to_b).ok()?;
    let arrays: Vec<_> = ctx
        .rpc
        .get_multiple_accounts(&addresses)
        .await
        .ok()?
        .into_iter()
        .map_while(|a| TickArray::from_bytes(&a?.data).ok().map(Into::into))
        .collect();
    let slippage = ctx.vault.params.slippage_cap_bps.min(50);
    let (out, min) = orca::quote_exact_in(&w, &arrays, a_to_b, c.plan.amount_in, slippage).ok()?;
    if out < c.plan.min_out {
        return None;
    }
    let input = Leg { mint: sell.mint, token_program: sell.token_program, account: ctx.keeper_sell_account };
    let output = Leg { mint: buy.mint, token_program: buy.token_program, account: buy.reserve };
    // The v1 swap moves SPL Token only (and is what every Whirlpool build has); Token-2022 legs need v2.
    let spl = anchor_spl::token::ID;
    let swap = if sell.token_program == spl && buy.token_program == spl {
        orca::swap_v1(&pool, &w, &ctx.keeper, &input, &output, c.plan.amount_in, min).ok()?
    } else {
        orca::swap_v2(&pool, &w, &ctx.keeper, &input, &output, c.plan.amount_in, min).ok()?
    };
    Some(BuiltRoute {
        name: "orca".into(),
        venue: "orca-whirlpool".into(),
        expected_out: out,
        instructions: flash(ctx, min, vec![swap]),
        lookup_tables: vec![],
    })
}
