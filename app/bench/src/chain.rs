//! `ballast bench`: transaction footprint of `rebalance` by asset count, and rebalance throughput of the
//! embedded chain. Figures are printed, never asserted.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use ballast::instructions::RebalanceArgs;
use serde::Serialize;
use serde_json::json;
use solana_signer::Signer;

use ballast_client::planner::Decision;
use ballast_harness::chain::{error_name, transaction_footprint, Chain, Footprint, PACKET_DATA_SIZE};
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
    chain.send_v0(&[ix], &[&keeper.keypair], &[table]).await?;
    Ok(SizeRow {
        assets: n,
        fits_legacy: footprint.legacy_bytes <= PACKET_DATA_SIZE,
        fits_v0: footprint.v0_bytes <= PACKET_DATA_SIZE,
        footprint,
    })
}

/// Rebalances per second through the embedded chain (only the rebalance transactions are timed).
pub async fn throughput(n: usize, iterations: usize) -> Result<(usize, Duration)> {
    let mut chain = Chain::start().await;
    let (fx, pool, keeper) = market(&mut chain, n).await?;
    let cooldown = fx.state(&mut chain).await.params.rebalance_cooldown_slots;
    let mut timed = Duration::ZERO;
    let mut done = 0;
    for i in 0..iterations {
        shock(&mut chain, &fx, &pool, if i % 2 == 0 { 30 } else { -25 }).await?;
        chain.advance_slots(cooldown).await;
        let (sell, buy) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
        let vault = fx.state(&mut chain).await;
        let args = RebalanceArgs { sell_index: sell, buy_index: buy, amount_in: u64::MAX, min_out: 0 };
        let ix = fx.rebalance_ix(&vault, &keeper.keypair, &keeper.tokens[sell as usize], &pool, args);
        let tx = chain.sign(&[ix], &[&keeper.keypair]).await;
        let start = Instant::now();
        let result = chain.process(tx.into()).await;
        timed += start.elapsed();
        if result.is_ok() {
            done += 1;
        }
    }
    Ok((done, timed))
}

/// Runs both benchmarks and prints a table (or one JSON line).
pub async fn run(iterations: usize, json_out: bool, out: &mut dyn Write) -> Result<()> {
    let mut rows = Vec::new();
    for n in [2, 4, 8, 16] {
        rows.push(footprint(n).await?);
    }
    let (done, timed) = throughput(3, iterations).await?;
    let per_sec = done as f64 / timed.as_secs_f64().max(1e-9);
    let cu = dex_compute_units().await?;
    if json_out {
        writeln!(
            out,
            "{}",
            json!({ "sizes": rows, "rebalances": done, "seconds": timed.as_secs_f64(), "rebalances_per_sec": per_sec, "compute_units": cu })
        )?;
        return Ok(());
    }
    writeln!(out, "rebalance transaction footprint (limit {PACKET_DATA_SIZE} bytes, 64 accounts)")?;
    writeln!(out, "{:>7} {:>9} {:>13} {:>13}", "assets", "accounts", "legacy bytes", "v0+ALT bytes")?;
    for r in &rows {
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
        "\nthroughput: {done} rebalances of a 3-asset vault in {:.3} s of transaction processing = {per_sec:.0} rebalances/s (embedded chain, native programs)",
        timed.as_secs_f64()
    )?;
    writeln!(out, "\ncompute units (SBF VM, metered: the real DEX programs and SPL Token; ballast's own instructions run natively")?;
    writeln!(out, "here and count 1 unit each, so a rebalance's figure is its CPIs' units, not ballast's)")?;
    for r in &cu {
        writeln!(out, "{:>9}  {}", r.compute_units, r.what)?;
    }
    Ok(())
}
