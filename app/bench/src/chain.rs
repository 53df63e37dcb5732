//! `ballast bench`: transaction footprint of `rebalance` by asset count, and rebalance throughput of the
//! embedded chain. Figures are printed, never asserted; but every transaction the bench times is a
//! rebalance the program accepts (set up untimed on its rules), and a refused one fails the bench by name.

use std::io::Write;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Result};
use ballast::instructions::RebalanceArgs;
use serde::Serialize;
use serde_json::json;
use solana_signer::Signer;

use ballast_client::planner::{Candidate, Decision, Hold};
use ballast_client::RouteMode;
use ballast_harness::chain::{
    error_name, transaction_footprint, Chain, Footprint, LookupTable, MAX_TX_ACCOUNTS, PACKET_DATA_SIZE,
};
use ballast_harness::dex::{Amm, AnyPool};
use ballast_harness::fixture::{self, AssetSpec, PoolFixture, User, VaultFixture};

/// Footprint of one rebalance transaction for a vault of `assets` assets.
#[derive(Debug, Clone, Serialize)]
pub struct SizeRow {
    pub assets: usize,
    #[serde(flatten)]
    pub footprint: Footprint,
    pub fits_legacy: bool,
    pub fits_v0: bool,
}

/// A seeded vault of `n` equal-weight assets with a pool between assets 0 and 1 and a keeper.
async fn market(chain: &mut Chain, n: usize) -> Result<(VaultFixture, PoolFixture, User)> {
    let weight = (10_000 / n) as u16;
    let mut specs: Vec<AssetSpec> = (0..n)
        .map(|i| AssetSpec::new(&format!("T{i}"), 6 + (i % 4) as u8, (1 + i as i64) * 1_00000000, -8, weight, 200))
        .collect();
    specs[0].params.target_bps += (10_000 - weight as usize * n) as u16;
    let fx = fixture::create_vault(chain, &specs, fixture::default_params()).await?;
    let amounts: Vec<u64> = (0..n).map(|i| 10u64.pow(6 + (i % 4) as u32) * 1_000_000).collect();
    let seed = fx.user(chain, &amounts).await?;
    for (i, spec) in specs.iter().enumerate() {
        let amount = fx.amount_for_usd(chain, i, 10_000.0 * spec.params.target_bps as f64 / weight as f64).await;
        fx.deposit_single(chain, &seed, i as u8, amount, 1).await.map_err(|e| anyhow!("seed: {}", error_name(&e)))?;
    }
    let pool = fx.create_pool(chain, 0, 1, 10_000_000.0, 30).await?;
    let keeper = fx.user(chain, &vec![0; n]).await?;
    Ok((fx, pool, keeper))
}

/// Moves asset 0's price by `pct` percent, re-prices the pool and lets the rebalance auction that opens run
/// its course (the next rebalance trades at the slippage-cap floor).
async fn shock(chain: &mut Chain, fx: &VaultFixture, pool: &PoolFixture, pct: i64) -> Result<()> {
    chain.advance_time(5).await;
    fx.refresh_prices(chain).await;
    let p = fx.oracle_reading(chain, 0).await.price;
    fx.set_price(chain, 0, p * (100 + pct) / 100).await;
    fx.arbitrage(chain, pool).await?;
    fx.relax_auction(chain).await.map_err(|e| anyhow!("poke: {}", error_name(&e)))
}

/// Compute units of one transaction, as the SBF VM meters it.
#[derive(Debug, Clone, Serialize)]
pub struct CuRow {
    pub what: String,
    pub compute_units: u64,
}

/// Compute units of the real DEX programs' swaps and of whole rebalance transactions through them, on the
/// demo vault with $250k pools (SOL → USDC, 30 bps trades of about $1 000). ballast itself runs natively and
/// counts 1 unit an instruction: the figures are the DEX programs' and SPL Token's real units plus that.
pub async fn dex_compute_units() -> Result<Vec<CuRow>> {
    let mut rows = Vec::new();
    for amm in [Amm::Raydium, Amm::Orca] {
        for mode in [ballast_client::RouteMode::Direct, ballast_client::RouteMode::Flash] {
            let mut chain = Chain::start().await;
            let (fx, _alice) =
                ballast_harness::demo_vault::seeded_demo_vault(&mut chain, fixture::default_params()).await?;
            let pools = ballast_harness::demo_vault::demo_pools_on(&mut chain, &fx, amm).await?;
            if mode == ballast_client::RouteMode::Direct {
                rows.extend(dex_swap_units(&mut chain, &fx, &pools, amm).await?);
            }
            rows.push(rebalance_units(&mut chain, &fx, &pools, amm, mode).await?);
        }
    }
    Ok(rows)
}

/// The DEX's own swap, alone: the chain payer sells $1 000 of SOL and of USDC.
async fn dex_swap_units(chain: &mut Chain, fx: &VaultFixture, pools: &[AnyPool], amm: Amm) -> Result<Vec<CuRow>> {
    let Some(pool) = pools.iter().find(|p| p.assets() == (0, 2) || p.assets() == (2, 0)).copied() else {
        return Ok(vec![]);
    };
    let vault = fx.state(chain).await;
    let (_, routes) = ballast_client::planner::load(chain, vault).await?;
    let route = routes.iter().find(|r| r.pool == pool.key()).ok_or_else(|| anyhow!("route"))?.clone();
    let mut rows = Vec::new();
    for (from, to) in [(0usize, 2usize), (2, 0)] {
        let amount = fx.amount_for_usd(chain, from, 1_000.0).await;
        let src = fx.payer_account(chain, from).await?;
        let dst = fx.payer_account(chain, to).await?;
        let a = fx.assets[from].clone();
        chain.mint_to(&a.mint, &src, amount, a.spec.program).await?;
        let leg = |i: usize, account| ballast_client::dex::Leg {
            mint: fx.assets[i].mint,
            token_program: fx.assets[i].spec.program.id(),
            account,
        };
        let payer = chain.payer().pubkey();
        let ix = ballast_client::dex::swap_instruction(
            &route.pool,
            &route.kind,
            &payer,
            &leg(from, src),
            &leg(to, dst),
            amount,
            0,
        )
        .ok_or_else(|| anyhow!("swap"))?;
        let units = chain.send_metered(&[ix], &[]).await.map_err(|e| anyhow!("{}", error_name(&e)))?;
        let name = if matches!(pool, AnyPool::Cpmm(_)) { "swap_base_input" } else { "swap (v1)" };
        let (sold, bought) = (&fx.assets[from].spec.symbol, &fx.assets[to].spec.symbol);
        rows.push(CuRow { what: format!("{} {name} {sold} → {bought}", amm.name()), compute_units: units });
    }
    Ok(rows)
}

/// A whole rebalance through the DEX: SOL +25 %, the auction run out, the keeper's planned trade.
async fn rebalance_units(
    chain: &mut Chain,
    fx: &VaultFixture,
    pools: &[AnyPool],
    amm: Amm,
    mode: ballast_client::RouteMode,
) -> Result<CuRow> {
    let keeper = fx.user(chain, &[0, 0, 0]).await?;
    chain.advance_time(2).await;
    fx.refresh_prices(chain).await;
    let p = fx.oracle_reading(chain, 0).await.price;
    fx.set_price(chain, 0, p * 125 / 100).await;
    for pool in pools {
        fx.arbitrage_any(chain, pool).await?;
    }
    fx.relax_auction(chain).await.map_err(|e| anyhow!("poke: {}", error_name(&e)))?;
    let Decision::Trade(c) = fx.plan(chain).await.decision else { return Err(anyhow!("no trade")) };
    let vault = fx.state(chain).await;
    let ixs = ballast_client::execute_along(mode, &keeper.keypair.pubkey(), &fx.key, &vault, &keeper.tokens[0], &c)
        .ok_or_else(|| anyhow!("route"))?;
    let units = chain.send_metered(&ixs, &[&keeper.keypair]).await.map_err(|e| anyhow!("{}", error_name(&e)))?;
    let route = format!("{mode:?}").to_lowercase();
    Ok(CuRow {
        what: format!("{} rebalance transaction, {route} route ({} instructions)", amm.name(), ixs.len()),
        compute_units: units,
    })
}

/// Transaction size and account count of a rebalance for `n` assets, legacy and with a lookup table.
pub async fn footprint(n: usize) -> Result<SizeRow> {
    let mut chain = Chain::start().await;
    let (fx, pool, keeper) = market(&mut chain, n).await?;
    shock(&mut chain, &fx, &pool, 50).await?;
    let vault = fx.state(&mut chain).await;
    let args = RebalanceArgs { sell_index: 0, buy_index: 1, amount_in: u64::MAX, min_out: 0 };
    let ix = fx.rebalance_ix(&vault, &keeper.keypair, &keeper.tokens[0], &pool, args);
    let keys: Vec<_> = ix.accounts.iter().filter(|m| !m.is_signer).map(|m| m.pubkey).chain([ballast::ID]).collect();
    let table = chain.create_lookup_table(&keys).await?;
    let payer = chain.payer().pubkey();
    let footprint = transaction_footprint(&payer, std::slice::from_ref(&ix), std::slice::from_ref(&table))?;
    // Prove the v0 form really executes.
    let tx = chain.sign_v0(&[ix], &[&keeper.keypair], &[table]).await?;
    chain.process(tx).await.map_err(|e| anyhow!("v0 rebalance: {}", error_name(&e)))?;
    Ok(SizeRow {
        assets: n,
        fits_legacy: footprint.legacy_bytes <= PACKET_DATA_SIZE,
        fits_v0: footprint.v0_bytes <= PACKET_DATA_SIZE,
        footprint,
    })
}

pub use ballast_client::REFRESH_BATCH;

/// Footprint of valuing a vault of `assets` assets from its valuation cache, as the clients plan it
/// (`ballast_client::cached_transactions`: refresh batches of at most [`REFRESH_BATCH`] assets, the last one in
/// the same transaction as the use, every transaction with the heap frame a vault above 16 assets needs),
/// through lookup tables of 256 addresses.
#[derive(Debug, Clone, Serialize)]
pub struct CacheRow {
    pub assets: usize,
    /// Transactions of a cached rebalance (one slot; one bundle on a cluster).
    pub rebalance_transactions: usize,
    /// The largest of them.
    pub largest: Footprint,
    /// The last: the last refresh batch and the trade (through a reference-AMM pool of assets 0 and 1, read as
    /// the pair's second price source).
    pub trade: Footprint,
    /// Transactions of a cached poke, and the largest of them.
    pub poke_transactions: usize,
    pub poke: Footprint,
    /// Every transaction within 64 accounts and 1 232 bytes, and at most a bundle's five.
    pub fits: bool,
}

/// [`CacheRow`] for `n` assets, compiled as the cluster would receive it. The vault is synthetic (its assets'
/// oracle and reserve addresses are distinct); the flows themselves run on the embedded chain in
/// `large_vaults.rs`.
pub fn cache_footprint(n: usize) -> Result<CacheRow> {
    let (_, vaults) = crate::keeper::synthetic(1, 7);
    let (key, mut vault) = vaults.into_iter().next().ok_or_else(|| anyhow!("no synthetic vault"))?;
    let template = vault.assets[0];
    let unique = Pubkey::new_unique;
    vault.assets = (0..n)
        .map(|_| ballast::state::Asset { mint: unique(), oracle: unique(), reserve: unique(), ..template })
        .collect();
    let (a, b) = (vault.assets[0], vault.assets[1]);
    let pool = ballast::state::AmmEntry { program_id: ballast_amm::ID, pool: unique(), mint_a: a.mint, mint_b: b.mint };
    vault.amms = vec![pool];
    let args = RebalanceArgs { sell_index: 0, buy_index: 1, amount_in: 1, min_out: 1 };
    let (keeper, bounty, pool_in, pool_out) = (unique(), unique(), unique(), unique());
    let trade = ballast_client::rebalance(
        &keeper,
        &key,
        &vault,
        &bounty,
        &pool.program_id,
        &pool.pool,
        &pool_in,
        &pool_out,
        args,
    );
    let cache = ballast_client::valuation_cache_address(&key);
    let mut addresses = vec![ballast::ID, key, cache, vault.share_mint];
    addresses.extend(vault.assets.iter().flat_map(|a| [a.oracle, a.reserve]));
    addresses.extend(trade.accounts.iter().filter(|m| !m.is_signer).map(|m| m.pubkey));
    addresses.sort();
    addresses.dedup();
    let tables: Vec<LookupTable> =
        addresses.chunks(256).map(|c| LookupTable { key: Pubkey::new_unique(), addresses: c.to_vec() }).collect();
    let plan = |ix: anchor_lang::solana_program::instruction::Instruction, payer: &Pubkey| -> Result<Vec<Footprint>> {
        let txs = ballast_client::cached_transactions(std::slice::from_ref(&ix), &key, &vault);
        txs.iter().map(|tx| transaction_footprint(payer, tx, &tables)).collect()
    };
    let largest = |fs: &[Footprint]| Footprint {
        accounts: fs.iter().map(|f| f.accounts).max().unwrap_or(0),
        legacy_bytes: fs.iter().map(|f| f.legacy_bytes).max().unwrap_or(0),
        v0_bytes: fs.iter().map(|f| f.v0_bytes).max().unwrap_or(0),
    };
    let rebalance = plan(trade, &keeper)?;
    let pokes = plan(ballast_client::poke(&key, &vault), &unique())?;
    let within = |fs: &[Footprint]| {
        fs.len() <= ballast_client::BUNDLE_MAX_TRANSACTIONS
            && fs.iter().all(|f| f.accounts <= MAX_TX_ACCOUNTS && f.v0_bytes <= PACKET_DATA_SIZE)
    };
    Ok(CacheRow {
        assets: n,
        rebalance_transactions: rebalance.len(),
        largest: largest(&rebalance),
        trade: *rebalance.last().ok_or_else(|| anyhow!("no transaction"))?,
        poke_transactions: pokes.len(),
        poke: largest(&pokes),
        fits: within(&rebalance) && within(&pokes),
    })
}

/// What the throughput loop timed: every timed transaction is a rebalance the program accepted and that
/// traded; the loop stops at the first one that is not.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Rebalance transactions sent and timed.
    pub attempted: usize,
    /// Of those, the ones that succeeded (all of them unless `first_error` is set).
    pub succeeded: usize,
    /// Processing time of the successful rebalance transactions only.
    pub secs: f64,
    /// `succeeded / secs`.
    pub rebalances_per_sec: f64,
    /// Why the timed rebalance that ended the loop was not a real one: the program error by name, or
    /// `TradedNothing` (accepted without a trade: it only opened the auction).
    pub first_error: Option<String>,
}

/// Keeper turns of the setup before one timed rebalance (a poke, a wait, a cooldown, with room to spare).
const SETUP_TURNS: usize = 12;

/// Untimed setup of one timed rebalance, on today's rules: asset 0's price moves by `pct` percent (the
/// pool is arbitraged to it), then the shipped planner is followed (opening the auction with `poke`,
/// letting it run to where the pool clears it while prices are re-published and the auction kept alive,
/// waiting out the cooldown) until it names a trade. Returns that trade, priced on fresh readings.
async fn ready_rebalance(chain: &mut Chain, fx: &VaultFixture, pool: &PoolFixture, pct: i64) -> Result<Candidate> {
    chain.advance_time(1).await;
    fx.refresh_prices(chain).await;
    let p = fx.oracle_reading(chain, 0).await.price;
    fx.set_price(chain, 0, p * (100 + pct) / 100).await;
    fx.arbitrage(chain, pool).await?;
    for _ in 0..SETUP_TURNS {
        let planned = fx.plan(chain).await;
        match planned.decision {
            Decision::Trade(c) => return Ok(*c),
            Decision::Poke(_) => fx.poke(chain).await.map_err(|e| anyhow!("bench setup: poke: {}", error_name(&e)))?,
            Decision::Wait { at, .. } => {
                let secs = (at - planned.snapshot.now).max(1);
                fx.let_auction_run(chain, secs).await.map_err(|e| anyhow!("bench setup: poke: {}", error_name(&e)))?;
            }
            Decision::Hold(Hold::Cooldown { until_slot }) => {
                chain.advance_slots(until_slot.saturating_sub(planned.snapshot.slot).max(1)).await;
                fx.refresh_prices(chain).await;
            }
            Decision::Hold(why) => return Err(anyhow!("bench setup: the planner holds ({why:?})")),
        }
    }
    Err(anyhow!("bench setup: no trade after {SETUP_TURNS} keeper turns"))
}

/// Sends `c` as `keeper` and times its processing alone (signing and the checks around it are not timed).
/// `Err` names why it is not a real rebalance: the program error, or a success that traded nothing (an
/// attempt that only opened the auction).
async fn timed_rebalance(chain: &mut Chain, fx: &VaultFixture, keeper: &User, c: &Candidate) -> Result<Duration> {
    let vault = fx.state(chain).await;
    let (sell, buy) = (c.request.sell, c.request.buy);
    let ixs = ballast_client::execute_along(
        RouteMode::Direct,
        &keeper.keypair.pubkey(),
        &fx.key,
        &vault,
        &keeper.tokens[sell],
        c,
    )
    .ok_or_else(|| anyhow!("bench setup: no instruction for the planned route"))?;
    let tx = chain.sign(&ixs, &[&keeper.keypair]).await;
    let before = fx.holdings(chain).await;
    let start = Instant::now();
    let result = chain.process(tx.into()).await;
    let took = start.elapsed();
    result.map_err(|e| anyhow!("{}", error_name(&e)))?;
    let after = fx.holdings(chain).await;
    if after[sell] >= before[sell] || after[buy] <= before[buy] {
        return Err(anyhow!("TradedNothing"));
    }
    Ok(took)
}

/// Rebalances per second through the embedded chain: `iterations` real rebalances of an `n`-asset vault,
/// each set up untimed by [`ready_rebalance`] (asset 0 alternately +30 % and −25 %); only the rebalance
/// transactions are timed. Stops at the first timed rebalance that is refused or trades nothing
/// (`first_error`).
pub async fn throughput(n: usize, iterations: usize) -> Result<Throughput> {
    let mut chain = Chain::start().await;
    let (fx, pool, keeper) = market(&mut chain, n).await?;
    let mut timed = Duration::ZERO;
    let (mut attempted, mut succeeded, mut first_error) = (0, 0, None);
    for i in 0..iterations {
        let c = ready_rebalance(&mut chain, &fx, &pool, if i % 2 == 0 { 30 } else { -25 }).await?;
        attempted += 1;
        match timed_rebalance(&mut chain, &fx, &keeper, &c).await {
            Ok(took) => {
                succeeded += 1;
                timed += took;
            }
            Err(e) => {
                first_error = Some(e.to_string());
                break;
            }
        }
    }
    let secs = timed.as_secs_f64();
    let rebalances_per_sec = if succeeded == 0 { 0.0 } else { succeeded as f64 / secs.max(1e-9) };
    Ok(Throughput { attempted, succeeded, secs, rebalances_per_sec, first_error })
}

/// Runs both benchmarks and prints a table (or one JSON line). Fails, after printing, when a timed
/// rebalance was refused (naming the program error).
pub async fn run(iterations: usize, json_out: bool, out: &mut dyn Write) -> Result<()> {
    let mut rows = Vec::new();
    for n in [2, 4, 8, 16] {
        rows.push(footprint(n).await?);
    }
    let cache = [16, 32, 64, 128].into_iter().map(cache_footprint).collect::<Result<Vec<_>>>()?;
    let t = throughput(3, iterations).await?;
    let cu = dex_compute_units().await?;
    if json_out {
        let v = json!({
            "sizes": rows,
            "cache": cache,
            "attempted": t.attempted,
            "succeeded": t.succeeded,
            "rebalances": t.succeeded,
            "seconds": t.secs,
            "rebalances_per_sec": t.rebalances_per_sec,
            "first_error": t.first_error,
            "compute_units": cu,
        });
        writeln!(out, "{v}")?;
    } else {
        print_tables(&rows, &cache, &t, &cu, out)?;
    }
    match &t.first_error {
        Some(name) => Err(anyhow!(
            "timed rebalance {} of {iterations} failed: {name} ({} succeeded before it)",
            t.attempted,
            t.succeeded
        )),
        None => Ok(()),
    }
}

/// The human-readable form of [`run`]'s figures.
fn print_tables(rows: &[SizeRow], cache: &[CacheRow], t: &Throughput, cu: &[CuRow], out: &mut dyn Write) -> Result<()> {
    writeln!(out, "rebalance transaction footprint (limit {PACKET_DATA_SIZE} bytes, 64 accounts)")?;
    writeln!(out, "{:>7} {:>9} {:>13} {:>13}", "assets", "accounts", "legacy bytes", "v0+ALT bytes")?;
    for r in rows {
        let mark = |fits: bool| if fits { "" } else { " (too large)" };
        writeln!(
            out,
            "{:>7} {:>9} {:>13} {:>13}",
            r.assets,
            r.footprint.accounts,
            format!("{}{}", r.footprint.legacy_bytes, mark(r.fits_legacy)),
            format!("{}{}", r.footprint.v0_bytes, mark(r.fits_v0)),
        )?;
    }
    writeln!(
        out,
        "\nvalued from the valuation cache: refresh batches of at most {REFRESH_BATCH} assets, the last with the poke or trade,"
    )?;
    writeln!(out, "in one slot (one bundle); lookup tables of 256 addresses; over 16 assets each transaction asks for a 256 KiB heap")?;
    writeln!(
        out,
        "{:>7} {:>14} {:>17} {:>15} {:>15} {:>12} {:>10} {:>14} {:>11}",
        "assets",
        "rebalance txs",
        "largest: accounts",
        "largest: bytes",
        "trade accounts",
        "trade bytes",
        "poke txs",
        "poke accounts",
        "poke bytes"
    )?;
    for r in cache {
        let mark = if r.fits { "" } else { " (too large)" };
        writeln!(
            out,
            "{:>7} {:>14} {:>17} {:>15} {:>15} {:>12} {:>10} {:>14} {:>11}{mark}",
            r.assets,
            r.rebalance_transactions,
            r.largest.accounts,
            r.largest.v0_bytes,
            r.trade.accounts,
            r.trade.v0_bytes,
            r.poke_transactions,
            r.poke.accounts,
            r.poke.v0_bytes
        )?;
    }
    writeln!(
        out,
        "\nthroughput: {} of {} rebalances of a 3-asset vault succeeded, {:.3} s of their transaction processing = {:.0} rebalances/s",
        t.succeeded, t.attempted, t.secs, t.rebalances_per_sec
    )?;
    writeln!(
        out,
        "(embedded chain, native programs; each set up untimed: a price move, fresh readings, the auction run to the pool's price, the cooldown)"
    )?;
    writeln!(out, "\ncompute units (SBF VM, metered: the real DEX programs and SPL Token; ballast's own instructions run natively")?;
    writeln!(out, "here and count 1 unit each, so a rebalance's figure is its CPIs' units, not ballast's)")?;
    for r in cu {
        writeln!(out, "{:>9}  {}", r.compute_units, r.what)?;
    }
    Ok(())
}
