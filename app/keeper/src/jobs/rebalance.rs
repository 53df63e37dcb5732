//! The rebalance job: acts on the shared planner's [`Decision`] for a vault. A `poke` opens or closes the
//! rebalance auction; a trade is priced (bounty against fees), built by every route provider, simulated best
//! first, and the first that simulates is sent through the [`crate::send::Sender`].

use std::sync::atomic::Ordering;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::associated_token::spl_associated_token_account;
use anyhow::Result;
use ballast::state::Vault;
use ballast_client::describe::token_amount;
use ballast_client::planner::{self, Candidate, Decision, Planned};
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;

use super::{large, Action, Idle, Job, JobFuture, JobKind, Outcome, Skip};
use crate::errors::{Fault, Rejection};
use crate::metrics::Metrics;
use crate::routes::{self, BuiltRoute, Provider, RouteContext};
use crate::send::{self, Draft, Sent};
use crate::worth;
use crate::{jupiter, Keeper};

/// Compute units a poke is given.
const POKE_UNITS: u32 = 200_000;
/// Compute units a route is simulated with (the most a transaction may use).
const SIMULATION_UNITS: u32 = 1_400_000;

/// The rebalance job: one outcome per vault.
pub struct Rebalance;

impl Job for Rebalance {
    fn kind(&self) -> JobKind {
        JobKind::Rebalance
    }

    fn dry_runs(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, k: &'a Keeper, key: &'a Pubkey, planned: &'a Planned) -> JobFuture<'a> {
        Box::pin(async move {
            let outcome = match act(k, key, planned).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    k.metrics.error(&e).await;
                    tracing::warn!(vault = %key, "rebalance failed: {e:#}");
                    Outcome::Failed(Fault::of(&e))
                }
            };
            vec![outcome]
        })
    }
}

/// A route that simulated, ready to send.
struct Chosen {
    body: Vec<Instruction>,
    name: String,
    venue: String,
    tables: Vec<AddressLookupTableAccount>,
    units: u64,
}

/// Acts on the planner's decision for vault `key`.
pub async fn act(k: &Keeper, key: &Pubkey, planned: &Planned) -> Result<Outcome> {
    match planned.decision.clone() {
        Decision::Hold(why) => {
            tracing::debug!(vault = %key, "hold: {why}");
            Ok(Outcome::Held(Idle::Plan(why)))
        }
        Decision::Poke(reason) => poke(k, key, planned, reason).await,
        Decision::Wait { at, candidate } => {
            // The whitelisted pool clears the auction at `at`; a better route (if the keeper has another
            // provider) may clear it now.
            if providers(k, false).is_empty() {
                return Ok(Outcome::Waited { until: at });
            }
            let outcome = trade(k, key, planned, &candidate, false).await?;
            if matches!(outcome, Outcome::Skipped(_)) {
                tracing::debug!(vault = %key, at, "waiting for the auction to reach the pool's price");
                return Ok(Outcome::Waited { until: at });
            }
            Ok(outcome)
        }
        Decision::Trade(candidate) => trade(k, key, planned, &candidate, true).await,
    }
}

/// Sends `poke` to open or close the vault's rebalance auction.
async fn poke(k: &Keeper, key: &Pubkey, planned: &Planned, reason: planner::PokeReason) -> Result<Outcome> {
    if k.opts.dry_run {
        tracing::info!(vault = %key, "dry run: would {reason}");
        return Ok(Outcome::DryRun(Action::Poke(reason)));
    }
    let vault = &planned.snapshot.vault;
    let ix = [ballast_client::poke(key, vault)];
    let sent = large::send_valued(k, key, vault, &ix, POKE_UNITS).await?;
    match sent {
        Sent::Landed(signature) => {
            Metrics::bump(&k.metrics.rebalance.pokes, &format!("{reason:?}")).await;
            tracing::info!(vault = %key, %signature, "{reason}");
            Ok(Outcome::Done { action: Action::Poke(reason), signature })
        }
        Sent::Rejected(rejection) => Ok(rejected(k, key, rejection).await),
        Sent::GaveUp => Ok(Outcome::Skipped(Skip::SendGaveUp)),
    }
}

/// Prices `candidate`, builds it along every route provider, and sends the best that simulates; `with_pool`
/// includes the whitelisted pool the planner chose (left out while the auction has not yet reached its
/// price).
async fn trade(k: &Keeper, key: &Pubkey, planned: &Planned, candidate: &Candidate, with_pool: bool) -> Result<Outcome> {
    let snap = &planned.snapshot;
    let (sell, buy) = (candidate.request.sell, candidate.request.buy);
    let writable = [*key, snap.vault.assets[sell].reserve, snap.vault.assets[buy].reserve, candidate.route.pool];
    let o = &k.opts;
    let price = send::priority_price(&k.rpc, &writable, o.priority_percentile, o.max_priority_micro_lamports).await;
    let worth = worth::worth_it(candidate, price, o);
    let (vault, amount_in) = (&snap.vault, candidate.plan.amount_in);
    let sold = asset_amount(vault, sell, amount_in);
    let min_out = asset_amount(vault, buy, candidate.request.min_out);
    tracing::debug!(
        vault = %key, execution_cost_usd = candidate.execution_cost as f64 / 1e6,
        drift_reduction_usd = candidate.drift_reduction as f64 / 1e6, bounty_usd = worth.bounty_usd,
        fee_usd = worth.fee_usd,
        "best trade: {sold} for {} expected, at least {min_out}", asset_amount(vault, buy, candidate.expected_out)
    );
    if let Some(why) = &worth.skip {
        tracing::debug!(vault = %key, "skip: {why}");
        return Ok(skipped(k, Skip::NotWorthIt(worth)).await);
    }
    let chosen = match choose(k, key, planned, candidate, with_pool, price).await? {
        Ok(chosen) => chosen,
        Err(Some(rejection)) => return Ok(rejected(k, key, rejection).await),
        Err(None) => return Ok(skipped(k, Skip::NoRoute).await),
    };
    if !chosen.tables.is_empty() {
        Metrics::bump(&k.metrics.rebalance.routes, "with_lookup_tables").await;
    }
    let limit = crate::send::limit_for(chosen.units);
    let action = Action::Trade {
        sell,
        buy,
        amount_in,
        route: chosen.name.clone(),
        venue: chosen.venue.clone(),
        lookup_tables: !chosen.tables.is_empty(),
    };
    if o.dry_run {
        k.metrics.rebalance.dry_run_trades.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            vault = %key, cu_limit = limit, cu_price = price, "dry run: would rebalance {sold} for at least {min_out}"
        );
        return Ok(Outcome::DryRun(action));
    }
    let draft = Draft { body: &chosen.body, price, limit, tables: &chosen.tables };
    Ok(match k.sender().send(&draft).await? {
        Sent::Landed(signature) => {
            k.metrics.rebalance.rebalances.fetch_add(1, Ordering::Relaxed);
            Metrics::bump(&k.metrics.rebalance.routes, &chosen.name).await;
            Metrics::bump(&k.metrics.rebalance.venues, &chosen.venue).await;
            let (route, venue) = (&chosen.name, &chosen.venue);
            tracing::info!(vault = %key, route, venue, %signature, "rebalanced {sold} for at least {min_out}");
            Outcome::Done { action, signature }
        }
        Sent::Rejected(rejection) => rejected(k, key, rejection).await,
        Sent::GaveUp => {
            k.metrics.errors.fetch_add(1, Ordering::Relaxed);
            skipped(k, Skip::SendGaveUp).await
        }
    })
}

/// Every provider's route for `candidate`, best first; the first that simulates, or the last rejection.
async fn choose(
    k: &Keeper,
    key: &Pubkey,
    planned: &Planned,
    candidate: &Candidate,
    with_pool: bool,
    price: u64,
) -> Result<Result<Chosen, Option<Rejection>>> {
    let vault = &planned.snapshot.vault;
    let keeper = k.payer.pubkey();
    let sell_asset = vault.assets[candidate.request.sell];
    // The keeper's account of the sold asset takes the bounty (created idempotently).
    let bounty_account = ballast_client::pda::ata(&keeper, &sell_asset.mint, &sell_asset.token_program);
    let create_ata = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        &keeper,
        &keeper,
        &sell_asset.mint,
        &sell_asset.token_program,
    );
    let ctx =
        RouteContext { rpc: &k.rpc, keeper, vault_key: *key, vault, candidate, keeper_sell_account: bounty_account };
    if large::is_large(vault) {
        return choose_large(k, key, &ctx, &create_ata, with_pool, price).await;
    }
    let cached = k.opts.valuation_cache && cache_exists(k, key).await?;
    let mut last_rejection = None;
    for BuiltRoute { name, venue, instructions, lookup_tables: tables, .. } in
        routes::ranked(&providers(k, with_pool), &ctx).await
    {
        let mut direct = vec![create_ata.clone()];
        direct.extend(instructions);
        let direct = ballast_client::with_trade_heap(direct);
        // Valued from the cache first when asked to, refreshed in the trade's own transaction (nothing can
        // change the vault in between); that form carries every oracle and reserve too, so it is never smaller,
        // and when it does not go through (too large, refused, the endpoint's error) the direct form is tried.
        if cached {
            let body = ballast_client::with_refreshed_cache(&direct, key, vault);
            let draft = Draft { body: &body, price, limit: SIMULATION_UNITS, tables: &tables };
            match k.sender().simulate(&draft).await {
                Ok(Ok(units)) => return Ok(Ok(Chosen { body, name, venue, tables, units })),
                Ok(Err(rejection)) => tracing::debug!(vault = %key, route = %name, "cached form refused: {rejection}"),
                Err(e) => tracing::debug!(vault = %key, route = %name, "cached form not simulated: {e:#}"),
            }
        }
        // Simulate with the maximum budget; never send what does not simulate.
        let draft = Draft { body: &direct, price, limit: SIMULATION_UNITS, tables: &tables };
        match k.sender().simulate(&draft).await? {
            Ok(units) => return Ok(Ok(Chosen { body: direct, name, venue, tables, units })),
            Err(rejection) => {
                tracing::debug!(vault = %key, route = %name, venue = %venue, "route does not simulate: {rejection}");
                last_rejection = Some(rejection);
            }
        }
    }
    Ok(Err(last_rejection))
}

/// [`choose`] for a vault above 16 assets (`large`): valued from its cache, the refreshes sent before the trade
/// simulates. A route with lookup tables of its own (an aggregator's) is not combined with the refreshes. Never
/// in a dry run (the refreshes would be sent).
async fn choose_large(
    k: &Keeper,
    key: &Pubkey,
    ctx: &RouteContext<'_>,
    create_ata: &Instruction,
    with_pool: bool,
    price: u64,
) -> Result<Result<Chosen, Option<Rejection>>> {
    if k.opts.dry_run || !cache_exists(k, key).await? {
        return Ok(Err(None));
    }
    let mut last_rejection = None;
    for BuiltRoute { name, venue, instructions, lookup_tables, .. } in
        routes::ranked(&providers(k, with_pool), ctx).await
    {
        if !lookup_tables.is_empty() {
            continue;
        }
        let mut direct = vec![create_ata.clone()];
        direct.extend(instructions);
        let direct = ballast_client::with_trade_heap(direct);
        match large::prepare(k, key, ctx.vault, &direct, price).await? {
            Ok(ready) => {
                let large::Ready { body, tables, units } = ready;
                return Ok(Ok(Chosen { body, name, venue, tables, units }));
            }
            Err(rejection) => {
                tracing::debug!(vault = %key, route = %name, "cached route refused: {rejection:?}");
                last_rejection = rejection.or(last_rejection);
            }
        }
    }
    Ok(Err(last_rejection))
}

/// Whether vault `key` has a valuation cache.
async fn cache_exists(k: &Keeper, key: &Pubkey) -> Result<bool> {
    let cache = ballast_client::valuation_cache_address(key);
    let found = k.rpc.get_multiple_accounts(&[cache]).await?;
    Ok(found.first().is_some_and(|a| a.as_ref().is_some_and(|a| a.owner == ballast::ID)))
}

/// The route providers the keeper's options enable.
fn providers(k: &Keeper, with_pool: bool) -> Vec<Provider> {
    let mut providers = Vec::new();
    if with_pool {
        providers.push(Provider::Pool(k.opts.route));
    }
    if let Some(url) = &k.opts.jupiter_url {
        providers.push(Provider::Jupiter(jupiter::Jupiter::new(url)));
    }
    if !k.opts.orca_pools.is_empty() {
        providers.push(Provider::Orca(k.opts.orca_pools.clone()));
    }
    providers
}

async fn skipped(k: &Keeper, skip: Skip) -> Outcome {
    Metrics::bump(&k.metrics.rebalance.skips, skip.label()).await;
    Outcome::Skipped(skip)
}

/// Counts and logs a rejection (quietly when another keeper was first or prices moved back).
async fn rejected(k: &Keeper, key: &Pubkey, rejection: Rejection) -> Outcome {
    Metrics::bump(&k.metrics.rebalance.rejections, &rejection.name()).await;
    if rejection.is_quiet() {
        tracing::debug!(vault = %key, "rejected (someone else rebalanced or prices moved): {rejection}");
    } else {
        tracing::warn!(vault = %key, "rejected: {rejection}");
    }
    Outcome::Rejected(rejection)
}

/// `amount` base units of asset `index` of `vault` as a person reads it: in token units with the mint's
/// decimals, named by the asset's index and its mint's short address (no symbol is on chain), e.g.
/// `2.252946726 of asset 0 (64dy…aLgo)`. An index the vault does not have keeps the base units.
fn asset_amount(vault: &Vault, index: usize, amount: u64) -> String {
    match vault.assets.get(index) {
        Some(asset) => describe_amount(index, &asset.mint, asset.decimals, amount),
        None => format!("{amount} base units of asset {index}"),
    }
}

/// [`asset_amount`] of a known asset.
fn describe_amount(index: usize, mint: &Pubkey, decimals: u8, amount: u64) -> String {
    format!("{} of asset {index} ({})", token_amount(amount.into(), decimals), short_address(mint))
}

/// An address by its first and last four characters (`64dy…aLgo`).
fn short_address(key: &Pubkey) -> String {
    let s = key.to_string();
    match (s.get(..4), s.get(s.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if s.len() > 8 => format!("{head}…{tail}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_read_in_token_units_named_by_index_and_mint() {
        let mint = Pubkey::from_str("64dydqZPEKMvmDXaJ2DkhvjaG3YDrTRqNQ2jbZUxaLgo").unwrap();
        assert_eq!(short_address(&mint), "64dy…aLgo");
        assert_eq!(describe_amount(0, &mint, 9, 2_252_946_726), "2.252946726 of asset 0 (64dy…aLgo)");
        assert_eq!(describe_amount(2, &mint, 6, 1), "0.000001 of asset 2 (64dy…aLgo)");
        assert_eq!(describe_amount(1, &mint, 0, 42), "42 of asset 1 (64dy…aLgo)");
    }
}
