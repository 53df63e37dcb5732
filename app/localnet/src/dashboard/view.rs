//! The dashboard's JSON views: one vault (valued by the keeper's own planner) and one rebalance event.

use anchor_lang::prelude::Pubkey;
use ballast::events::RebalanceEvent;
use ballast::state::{pause, Vault};
use ballast_client::describe::token_amount;
use ballast_client::planner::{self, Decision, Planned};
use serde_json::{json, Value};

use ballast_harness::chain::Chain;
use ballast_harness::ledger::TxRecord;

use super::{symbol, ui};
use crate::wire::RpcState;

/// One vault: state, pending governance, and (valued by the keeper's planner) NAV, share price, every asset
/// against its target and band, and what a keeper would do now.
pub async fn vault(state: &RpcState, chain: &mut Chain, key: Pubkey, vault: Vault, now: i64) -> Value {
    let share_decimals = match chain.account(&vault.share_mint).await {
        Some(acc) => ballast_client::decode::mint_info(&acc.data).map(|m| m.0).unwrap_or(6),
        None => 6,
    };
    let paused = json!({
        "deposits": vault.paused & pause::DEPOSITS != 0,
        "rebalance": vault.paused & pause::REBALANCE != 0,
        "governance": vault.paused & pause::GOVERNANCE != 0,
    });
    let mut v = json!({
        "address": key.to_string(), "status": format!("{:?}", vault.status), "paused": paused,
        "governance": vault.governance.to_string(), "shareMint": vault.share_mint.to_string(),
        "shareDecimals": share_decimals, "pendingParams": pending(&vault, now),
        "lastRebalanceSlot": vault.last_rebalance_slot, "bandMode": format!("{:?}", vault.params.band_mode),
        "auctionStartedAt": vault.auction_started_at,
        "maxEmaDivergenceBps": vault.params.max_ema_divergence_bps,
        "maxPoolDivergenceBps": vault.params.max_pool_divergence_bps,
        // Above this many assets deposits are single-asset and withdrawals go through a claim.
        "directFlows": vault.assets.len() <= ballast::constants::DIRECT_MAX_ASSETS,
    });
    let planned = match planner::plan_vault(chain, vault.clone()).await {
        Ok(p) => p,
        Err(e) => {
            v["error"] = json!(format!("cannot value the vault: {e:#}"));
            return v;
        }
    };
    let nav_usd = planned.valuation.nav as f64 / 1e6;
    let supply_ui = ui(u128::from(planned.snapshot.supply), share_decimals);
    v["navUsd"] = json!(nav_usd);
    v["shareSupply"] = json!(supply_ui);
    v["shareSupplyBase"] = json!(planned.snapshot.supply.to_string());
    v["sharePriceUsd"] = json!(if supply_ui > 0.0 { nav_usd / supply_ui } else { 0.0 });
    v["maxDriftBps"] = json!(planned.valuation.max_abs_drift_bps().unwrap_or(0));
    v["assets"] = Value::Array(assets(state, &vault, &planned, now));
    v["keeperWouldDo"] = json!(decision(state, &vault, &planned));
    v["fees"] = fees(&vault, share_decimals, now);
    v
}

/// The vault's fees: rates, fee shares owed and earned, the high-water mark, the last accrual.
fn fees(vault: &Vault, share_decimals: u8, now: i64) -> Value {
    let (f, s) = (vault.params.fees, vault.fees);
    let shares = |n: u64| ui(u128::from(n), share_decimals);
    json!({
        "managementBps": f.management_bps, "performanceBps": f.performance_bps,
        "entryBps": f.entry_bps, "exitBps": f.exit_bps,
        "recipients": f.recipients.iter().filter(|r| r.weight_bps > 0)
            .map(|r| json!({"account": r.account.to_string(), "weightBps": r.weight_bps})).collect::<Vec<_>>(),
        "pendingShares": shares(s.pending_shares),
        "managementShares": shares(s.management_total), "performanceShares": shares(s.performance_total),
        "pendingSharesBase": s.pending_shares.to_string(), "managementSharesBase": s.management_total.to_string(),
        "performanceSharesBase": s.performance_total.to_string(),
        // micro-USD per share unit (1e18 fixed point) = USD per whole share × 1e18.
        "hwmUsd": s.hwm as f64 / 1e18,
        "lastAccrual": s.last_accrual, "lastPricedAccrual": s.last_priced_accrual,
        "secondsSincePricedAccrual": if s.last_priced_accrual > 0 { now - s.last_priced_accrual } else { -1 },
    })
}

/// A pending parameter change: when it may execute (or, still being staged, how many assets' parameters are in)
/// and what it changes, field by field.
fn pending(vault: &Vault, now: i64) -> Option<Value> {
    let p = vault.pending_params.as_ref()?;
    let (old, new) = (ballast_client::describe::params(&vault.params), ballast_client::describe::params(&p.params));
    let mut changes: Vec<String> =
        old.iter().zip(&new).filter(|(a, b)| a.1 != b.1).map(|(a, b)| format!("{}: {} → {}", a.0, a.1, b.1)).collect();
    for (i, (a, next)) in vault.assets.iter().zip(&p.assets).enumerate() {
        if a.params != *next {
            changes.push(format!(
                "asset {i}: target {} → {} bps, band {} → {} bps, max trade {} → {} bps",
                a.params.target_bps,
                next.target_bps,
                a.params.band_bps,
                next.band_bps,
                a.params.max_trade_bps,
                next.max_trade_bps
            ));
        }
    }
    if p.schedule.is_some() {
        changes.push("a gradual weight schedule starts".into());
    }
    if p.is_staging() {
        // Its asset parameters still arriving (`append_params`): no timelock runs yet.
        return Some(json!({"staging": true, "staged": p.assets.len(), "total": vault.assets.len(), "eta": null,
                           "secondsLeft": null, "changes": changes}));
    }
    Some(json!({"staging": false, "eta": p.eta, "secondsLeft": p.eta.saturating_sub(now).max(0), "changes": changes}))
}

/// Every asset: balance, oracle price with age and confidence, its EMA and the pools' prices, value, weight
/// against target and band.
fn assets(state: &RpcState, vault: &Vault, planned: &Planned, now: i64) -> Vec<Value> {
    let (snap, val) = (&planned.snapshot, &planned.valuation);
    let weights = ballast::math::weights_bps(&val.values).unwrap_or_default();
    let (targets, bands) = (val.targets(), val.bands());
    vault
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let r = &snap.readings[i];
            let conf_bps = if r.price > 0 { u128::from(r.conf) * 10_000 / r.price.unsigned_abs() as u128 } else { 0 };
            let weight = weights.get(i).copied().unwrap_or(0);
            let drift = weight as i64 - i64::from(targets[i]);
            let balance = val.positions[i].balance;
            let mut v = json!({
                "index": i, "symbol": symbol(state, &a.mint), "mint": a.mint.to_string(), "decimals": a.decimals,
                "reserve": a.reserve.to_string(), "balance": ui(u128::from(balance), a.decimals),
                "balanceBase": balance.to_string(), "priceAgeSecs": now - r.publish_time, "confBps": conf_bps as u64,
                "valueUsd": val.values[i] as f64 / 1e6, "weightBps": weight, "targetBps": targets[i],
                "bandBps": bands[i], "driftBps": drift, "outOfBand": drift.unsigned_abs() > u64::from(bands[i]),
            });
            prices(state, vault, planned, i, &mut v);
            v
        })
        .collect()
}

/// Asset `i`'s prices: the oracle's spot and EMA with their divergence against the vault's bound, and the USD
/// price every whitelisted pool trading it implies (through the other asset's oracle mid) with its divergence
/// from the oracle.
fn prices(state: &RpcState, vault: &Vault, planned: &Planned, i: usize, v: &mut Value) {
    let r = &planned.snapshot.readings[i];
    let scale = 10f64.powi(r.expo);
    let divergence = r.ema_divergence_bps();
    v["price"] = json!(r.price as f64 * scale);
    v["emaPrice"] = json!(r.ema_price as f64 * scale);
    // `null`: no positive EMA (the program counts that as beyond any bound).
    v["emaDivergenceBps"] = json!((divergence != u64::MAX).then_some(divergence));
    v["emaWithinBound"] = json!(r.agrees_with_ema(vault.params.max_ema_divergence_bps));
    let pools = planner::pool_usd_prices(&planned.routes, i, &planned.valuation.positions);
    let venue = |pool: &Pubkey| planned.routes.iter().find(|r| r.pool == *pool).map(|r| r.kind.name());
    v["poolPrices"] = pools
        .iter()
        .map(|p| {
            let other = &vault.assets[p.other];
            json!({
                "pool": p.pool.to_string(), "venue": venue(&p.pool), "otherIndex": p.other,
                "otherSymbol": symbol(state, &other.mint), "priceUsd": planner::usd_f64(p.price),
                "divergenceBps": p.divergence_bps,
            })
        })
        .collect();
}

/// What a keeper would do now, in words, from the planner's typed decision.
fn decision(state: &RpcState, vault: &Vault, planned: &Planned) -> String {
    let trade = |c: &planner::Candidate| {
        format!(
            "{} {} → {}",
            token_amount(u128::from(c.request.amount_in), vault.assets[c.request.sell].decimals),
            symbol(state, &vault.assets[c.request.sell].mint),
            symbol(state, &vault.assets[c.request.buy].mint)
        )
    };
    match &planned.decision {
        Decision::Trade(c) => format!("trade: sell {} on {}", trade(c), c.route.kind.name()),
        Decision::Hold(why) => format!("hold: {why}"),
        Decision::Poke(why) => why.to_string(),
        Decision::Wait { at, candidate } => format!(
            "wait {} s: the auction reaches a pool's price for {}",
            (at - planned.snapshot.now).max(0),
            trade(candidate)
        ),
    }
}

/// One rebalance of the history, from its decoded event and its transaction.
pub fn rebalance(state: &RpcState, ev: &RebalanceEvent, assets: &[(Pubkey, u8)], t: &TxRecord) -> Value {
    let side = |i: u8| assets.get(i as usize).copied().unwrap_or_default();
    let (sell_mint, sell_dec) = side(ev.sell_index);
    let (buy_mint, buy_dec) = side(ev.buy_index);
    json!({
        "signature": t.signature.to_string(), "slot": t.slot, "time": t.block_time,
        "vault": ev.vault.to_string(), "keeper": ev.keeper.to_string(), "route": format!("{:?}", ev.route),
        "sell": symbol(state, &sell_mint), "buy": symbol(state, &buy_mint),
        "amountIn": ui(u128::from(ev.amount_in), sell_dec), "minOut": ui(u128::from(ev.min_out), buy_dec),
        "received": ui(u128::from(ev.amount_out), buy_dec), "bounty": ui(u128::from(ev.bounty), sell_dec),
        "amountInBase": ev.amount_in.to_string(), "minOutBase": ev.min_out.to_string(),
        "receivedBase": ev.amount_out.to_string(), "bountyBase": ev.bounty.to_string(),
        "sellDecimals": sell_dec, "buyDecimals": buy_dec,
        "bountyUsd": ev.bounty_value as f64 / 1e6, "driftBefore": ev.drift_before.to_string(),
        "driftAfter": ev.drift_after.to_string(), "auctionSecs": ev.auction_elapsed_secs,
    })
}
