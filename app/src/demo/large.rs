//! `ballast demo --assets N`: the whole flow of a vault of N assets (up to 128) on the embedded chain, on the
//! routes a vault that large takes (`docs/large-vaults.md`): created (its account growing with each asset),
//! seeded by single-asset deposits valued from the valuation cache, a price shock, the shipped planner's
//! keeper turns (pokes and a trade valued from the cache, the refresh batches and the use in one slot), fees,
//! a withdrawal into a claim redeemed asset by asset, and the heap each instruction took.

use std::io::Write;

use anyhow::{anyhow, ensure, Result};
use serde::Serialize;
use serde_json::json;
use solana_signer::Signer;

use ballast_client as client;
use ballast_harness::chain::{error_name, Chain};
use ballast_harness::dex::Amm;
use ballast_harness::dex::AnyPool;
use ballast_harness::fixture::{self, Turn, User, VaultFixture};
use ballast_harness::heap_meter;
use ballast_harness::large_vault as large;

/// What the large demo did, for `--json` and the tests.
#[derive(Debug, Clone, Serialize)]
pub struct LargeOutcome {
    pub assets: usize,
    pub vault_bytes: usize,
    /// Transactions of one cached valuation (refresh batches and the use).
    pub transactions_per_valuation: usize,
    pub keeper_turns: Vec<String>,
    /// The trade: sold asset, bought asset, base units in and out.
    pub trade: Option<(usize, usize, u64, u64)>,
    pub nav_usd: f64,
    /// The seed holder's withdrawal into a claim: dollars owed, and whether every asset was redeemed.
    pub owed_usd: f64,
    pub redeemed: bool,
    /// The instruction with the most heap and its bytes.
    pub heap_max: (String, usize),
}

/// Writes demo lines unless only the JSON line is wanted.
struct Say<'a> {
    out: &'a mut dyn Write,
    quiet: bool,
}

impl Say<'_> {
    fn line(&mut self, line: String) -> Result<()> {
        if !self.quiet {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }
}

/// Runs the flow for `n` assets on `amm` pools, writing readable lines (or one JSON line) to `out`.
pub async fn run_large(n: usize, amm: Amm, json_only: bool, out: &mut dyn Write) -> Result<LargeOutcome> {
    let (least, most) = (ballast::constants::DIRECT_MAX_ASSETS + 1, ballast::constants::MAX_ASSETS);
    ensure!((least..=most).contains(&n), "--assets {n}: between {least} and {most} (smaller vaults: the default demo)");
    let mut say = Say { out, quiet: json_only };
    heap_meter::record_process_wide();
    let mut chain = Chain::start().await;
    heap_meter::take_all();
    let large::LargeVault { fx, seed, pools, keeper } =
        large::large_vault(&mut chain, amm, &fixture::numbered_specs(n, 25)).await?;
    let vault = fx.state(&mut chain).await;
    let vault_bytes = chain.account(&fx.key).await.map(|a| a.data.len()).unwrap_or(0);
    let txs = client::cached_transactions(&[client::poke(&fx.key, &vault)], &fx.key, &vault).len();
    let weight = vault.assets[n - 1].params.target_bps;
    say.line(format!(
        "vault {} created with {n} assets T0..T{} ({weight} bps each, ε 25 bps), pools on {amm:?}",
        fx.key,
        n - 1
    ))?;
    say.line(format!("  the vault's account grew with each asset to {vault_bytes} bytes (Vault::space({n}))"))?;
    let report = fx.report(&mut chain).await?;
    say.line(format!(
        "seeded ${:.2} by {n} single-asset deposits, each valued from the cache in {txs} transactions in one slot; largest drift {} bps",
        report.nav as f64 / 1e6,
        report.max_abs_drift_bps
    ))?;
    shock(&mut chain, &fx, &pools, &mut say).await?;
    let (keeper_turns, trade) = keeper_turns(&mut chain, &fx, &keeper, &mut say).await?;
    chain.advance_time(60).await;
    fx.accrue_fees(&mut chain).await.map_err(|e| anyhow!("accrue_fees: {}", error_name(&e)))?;
    let (owed_usd, redeemed) = leave_through_a_claim(&mut chain, &fx, &seed, &mut say).await?;
    let heap = heap_meter::largest_by_instruction(heap_meter::take_all());
    let (name, bytes) = heap.iter().max_by_key(|(_, b)| **b).map(|(n, b)| (n.to_string(), *b)).unwrap_or_default();
    say.line(format!(
        "heap: largest instruction {name}, {bytes} bytes (metered), within the 256 KiB frame its transactions request"
    ))?;
    let nav_usd = fx.report(&mut chain).await?.nav as f64 / 1e6;
    let outcome = LargeOutcome {
        assets: n,
        vault_bytes,
        transactions_per_valuation: txs,
        keeper_turns,
        trade,
        nav_usd,
        owed_usd,
        redeemed,
        heap_max: (name, bytes),
    };
    if json_only {
        writeln!(say.out, "{}", json!(outcome))?;
    }
    Ok(outcome)
}

/// T0 up 60 %, the pools arbitraged to it.
async fn shock(chain: &mut Chain, fx: &VaultFixture, pools: &[AnyPool], say: &mut Say<'_>) -> Result<()> {
    chain.advance_time(2).await;
    fx.refresh_prices(chain).await;
    let p = fx.oracle_reading(chain, 0).await.price;
    fx.set_price(chain, 0, p * 160 / 100).await;
    for pool in pools {
        fx.arbitrage_any(chain, pool).await?;
    }
    let drift = fx.report(chain).await?.drift_bps[0];
    say.line(format!("T0 +60 %: its drift {drift} bps, outside its band"))
}

/// The shipped planner's turns until it trades (at most 12): the lines, and the trade (sold and bought asset,
/// base units in and out).
async fn keeper_turns(
    chain: &mut Chain,
    fx: &VaultFixture,
    keeper: &User,
    say: &mut Say<'_>,
) -> Result<(Vec<String>, Option<(usize, usize, u64, u64)>)> {
    let (mut turns, mut trade) = (Vec::new(), None);
    for _ in 0..12 {
        let before = fx.holdings(chain).await;
        let turn = fx
            .keeper_turn(chain, client::RouteMode::Direct, &keeper.keypair, &keeper.tokens)
            .await
            .map_err(|e| anyhow!("keeper turn: {}", error_name(&e)))?;
        let line = match &turn {
            Turn::Traded(c) => {
                let after = fx.holdings(chain).await;
                let (sell, buy) = (c.request.sell, c.request.buy);
                let (sold, bought) = (before[sell] - after[sell], after[buy] - before[buy]);
                trade = Some((sell, buy, sold, bought));
                format!("keeper: rebalanced T{sell} → T{buy}, {sold} → {bought} base units (refresh batches and trade in one slot)")
            }
            Turn::Poked(r) => format!("keeper: poke ({r}), valued from the cache"),
            Turn::Waited(s) => format!("keeper: waited {s} s for the auction"),
            Turn::CooledDown => "keeper: waited out the cooldown".to_string(),
            Turn::Held(h) => format!("keeper: holds ({h})"),
        };
        say.line(format!("  {line}"))?;
        turns.push(line);
        if matches!(turn, Turn::Traded(_) | Turn::Held(_)) {
            break;
        }
    }
    Ok((turns, trade))
}

/// The seed holder withdraws half its shares into its claim (valued from the cache) and redeems every asset, 8
/// a transaction: the dollars owed, and whether the claim ended empty.
async fn leave_through_a_claim(
    chain: &mut Chain,
    fx: &VaultFixture,
    seed: &User,
    say: &mut Say<'_>,
) -> Result<(f64, bool)> {
    let owner = seed.keypair.pubkey();
    let vault = fx.state(chain).await;
    let open = client::with_heap_frame(&vault, vec![client::open_claim(&chain.payer_key(), &fx.key, &owner)]);
    chain.send(&open, &[]).await.map_err(|e| anyhow!("open_claim: {}", error_name(&e)))?;
    let shares = chain.token_amount(&seed.shares).await / 2;
    let ix = client::withdraw_to_claim(&owner, &fx.key, &vault, &seed.shares, shares);
    fx.send_valued_always(chain, &[ix], &[&seed.keypair])
        .await
        .map_err(|e| anyhow!("withdraw_to_claim: {}", error_name(&e)))?;
    let owed = fx.claim_owed(chain, &owner).await;
    let mut owed_usd = 0.0;
    for (i, o) in owed.iter().enumerate() {
        owed_usd += *o as f64 * fx.unit_price(chain, i).await;
    }
    let count = owed.iter().filter(|o| **o > 0).count();
    say.line(format!(
        "withdraw_to_claim: {shares} shares burned, ${owed_usd:.2} owed across {count} assets (nothing moved yet)"
    ))?;
    let redeems: Vec<_> = (0..owed.len())
        .filter(|i| owed[*i] > 0)
        .map(|i| client::redeem_claim(&owner, &fx.key, &vault, i as u8, &seed.tokens[i]))
        .collect();
    for batch in redeems.chunks(8) {
        chain
            .send(&client::with_heap_frame(&vault, batch.to_vec()), &[&seed.keypair])
            .await
            .map_err(|e| anyhow!("redeem_claim: {}", error_name(&e)))?;
    }
    let redeemed = fx.claim_owed(chain, &owner).await.iter().all(|o| *o == 0);
    say.line(format!("redeem_claim: {} assets paid, 8 a transaction; claim empty: {redeemed}", redeems.len()))?;
    Ok((owed_usd, redeemed))
}
