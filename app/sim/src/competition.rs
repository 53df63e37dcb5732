//! `ballast simulate --keepers N`: competing keepers against the rebalance auction, on the real programs.
//!
//! Each step the oracles move along the path, an arbitrageur re-prices the pools and a crank pokes the
//! vault, which opens the auction when an asset leaves its band. Then the clock runs second by second:
//! every keeper looks at the vault on its own schedule (its latency, a different phase each), prices the
//! planned trade on its own route, and takes the trade as soon as the auction's price has fallen to what
//! its route pays less the margin it wants. The first to act wins; the others find the trade gone.
//!
//! Per rebalance the run records what the vault was paid against the best route's output when the auction
//! opened (the moment the band was crossed, as the program saw it), who won, how long the auction ran, and
//! the winner's profit (what its route returned beyond what it paid the vault, the bounty, less fees).
//!
//! Routes: the whitelisted pool by `rebalance` (the vault gets the pool's whole output; the keeper earns the
//! bounty), the same pool in a flash rebalance whose keeper pays the vault the auction's price and keeps
//! the rest, and a market maker paying from its own inventory (a flash rebalance with no swap) whose
//! outside price is the oracle's mid less its own cost.

use anyhow::{anyhow, Result};
use ballast_client::planner::{Candidate, Decision, Hold};
use ballast_client::RouteMode;
use ballast_harness::chain::{error_name, Chain};
use ballast_harness::dex::AnyPool;
use ballast_harness::fixture::{User, VaultFixture};
use serde::Serialize;
use solana_signer::Signer;

use crate::ema::{self, SimPath};
use crate::paths::Path2;
use crate::{SimConfig, Strategy, EMA_REFUSAL};

/// How a simulated keeper reaches liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum KeeperRoute {
    /// `rebalance` through the whitelisted pool: the vault receives the pool's output.
    WhitelistedPool,
    /// The whitelisted pool inside a flash rebalance: the keeper pays the vault the auction's price and
    /// keeps the rest of the pool's output.
    PoolFlash,
    /// A market maker's inventory, valued at the oracle mid less `cost_bps` (its hedging cost); it pays the
    /// vault the auction's price from inventory.
    Inventory { cost_bps: u16 },
}

/// A competing keeper.
#[derive(Debug, Clone, Serialize)]
pub struct SimKeeper {
    pub name: String,
    /// Seconds between two looks at the vault.
    pub latency_secs: u64,
    /// Seconds into the auction of its first look (keepers are not in phase).
    pub phase_secs: u64,
    pub route: KeeperRoute,
    /// The least it wants to keep, bps of the trade (its fee and risk budget).
    pub margin_bps: u16,
}

/// The default field: a fast pool arbitrageur, a bot on the whitelisted pool, a slower market maker.
pub fn default_keepers(n: usize) -> Vec<SimKeeper> {
    let all = [
        SimKeeper {
            name: "pool-flash".into(),
            latency_secs: 1,
            phase_secs: 0,
            route: KeeperRoute::PoolFlash,
            margin_bps: 2,
        },
        SimKeeper {
            name: "pool-direct".into(),
            latency_secs: 2,
            phase_secs: 1,
            route: KeeperRoute::WhitelistedPool,
            margin_bps: 0,
        },
        SimKeeper {
            name: "market-maker".into(),
            latency_secs: 3,
            phase_secs: 2,
            route: KeeperRoute::Inventory { cost_bps: 5 },
            margin_bps: 3,
        },
    ];
    let mut out = Vec::new();
    for i in 0..n {
        let mut k = all[i % all.len()].clone();
        if i >= all.len() {
            k.name = format!("{}-{}", k.name, i / all.len() + 1);
            k.phase_secs += i as u64;
        }
        out.push(k);
    }
    out
}

/// One contested rebalance.
#[derive(Debug, Clone, Serialize)]
pub struct ContestedTrade {
    pub step: usize,
    pub sell: usize,
    pub buy: usize,
    pub trade_usd: f64,
    /// The best output any keeper's route offered when the auction opened, and whose it was.
    pub best_route: String,
    pub best_out_usd: f64,
    pub winner: String,
    /// Seconds the auction had run when the trade landed (not the vault's `auction_secs`, its duration).
    pub auction_elapsed_secs: u64,
    /// What the vault received (USD at mid) and its shortfall to the best route's output (bps).
    pub paid_usd: f64,
    pub gap_bps: f64,
    /// The winner's profit: route output beyond what it paid, plus the bounty, less fees (USD).
    pub keeper_profit_usd: f64,
    pub bounty_usd: f64,
    pub fee_usd: f64,
}

/// Summary of a contested run.
#[derive(Debug, Clone, Serialize)]
pub struct Competition {
    pub keepers: Vec<SimKeeper>,
    pub trades: Vec<ContestedTrade>,
    pub median_gap_bps: f64,
    pub mean_gap_bps: f64,
    pub max_gap_bps: f64,
    /// Profit per keeper (USD) and trades won.
    pub profit_by_keeper: Vec<(String, f64, usize)>,
    /// Steps whose crank poke the EMA guard refused (a price too far from its Pyth EMA to open the auction):
    /// nobody competed on those steps.
    pub ema_refused_pokes: usize,
}

/// Base fee and a modest priority fee of one transaction, in USD at $150 a SOL.
const FEE_USD: f64 = (5_000.0 + 200_000.0 * 10_000.0 / 1e6) / 1e9 * 150.0;

/// What keeper `k`'s route pays for the candidate (base units of the bought asset).
fn route_out(k: &SimKeeper, c: &Candidate) -> u64 {
    match k.route {
        KeeperRoute::WhitelistedPool | KeeperRoute::PoolFlash => c.expected_out,
        KeeperRoute::Inventory { cost_bps } => (c.plan.fair_out as u128 * (10_000 - cost_bps as u128) / 10_000) as u64,
    }
}

/// Sends keeper `k`'s transaction for `c`, paying the vault `pay` where the route lets it choose; the
/// program's refusal by name otherwise.
async fn execute(
    chain: &mut Chain,
    fx: &VaultFixture,
    k: &SimKeeper,
    keeper: &User,
    c: &Candidate,
    pay: u64,
) -> Result<(), String> {
    let (s, b) = (c.request.sell, c.request.buy);
    let vault = fx.state(chain).await;
    let args = ballast::instructions::RebalanceArgs {
        sell_index: s as u8,
        buy_index: b as u8,
        amount_in: c.plan.amount_in,
        min_out: 0,
    };
    let me = keeper.keypair.pubkey();
    let ixs = match k.route {
        KeeperRoute::WhitelistedPool => {
            return fx
                .send_candidate_via(chain, RouteMode::Direct, &keeper.keypair, &keeper.tokens[s], c)
                .await
                .map_err(|e| error_name(&e))
        }
        KeeperRoute::PoolFlash => {
            let (sa, ba) = (&fx.assets[s], &fx.assets[b]);
            let leg = |a: &ballast_harness::fixture::AssetFixture, account| ballast_client::dex::Leg {
                mint: a.mint,
                token_program: a.spec.program.id(),
                account,
            };
            let swap = ballast_client::dex::swap_instruction(
                &c.route.pool,
                &c.route.kind,
                &me,
                &leg(sa, keeper.tokens[s]),
                &leg(ba, keeper.tokens[b]),
                c.plan.amount_in,
                pay,
            )
            .ok_or("the route does not trade the pair")?;
            ballast_client::flash_paying(
                &me,
                &fx.key,
                &vault,
                args,
                &keeper.tokens[s],
                &keeper.tokens[b],
                pay,
                vec![swap],
            )
        }
        KeeperRoute::Inventory { .. } => {
            let a = &fx.assets[b];
            let have = chain.token_amount(&keeper.tokens[b]).await;
            if have < pay {
                // The market maker's inventory (the chain payer is the demo mints' authority).
                chain
                    .mint_to(&a.mint, &keeper.tokens[b], pay - have, a.spec.program)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ballast_client::flash_paying(&me, &fx.key, &vault, args, &keeper.tokens[s], &keeper.tokens[b], pay, vec![])
        }
    };
    let budget = ballast_harness::dex::raydium::budget(800_000);
    let ixs: Vec<_> = std::iter::once(budget).chain(ixs).collect();
    chain.send(&ixs, &[&keeper.keypair]).await.map_err(|e| error_name(&e))
}

/// Runs the 5 % band strategy over `path` (prices and their Pyth EMAs) with `keepers` competing for every
/// rebalance.
pub async fn run(path: &(impl SimPath + ?Sized), cfg: &SimConfig, keepers: Vec<SimKeeper>) -> Result<Competition> {
    let (prices, emas) = (path.prices(), path.emas(cfg.dt_secs));
    let mut chain = Chain::start().await;
    let strategy = Strategy::Band { eps_bps: 500 };
    let (fx, pools) = crate::market(&mut chain, &strategy, &prices[0], cfg).await?;
    let mut accounts = Vec::new();
    for _ in &keepers {
        accounts.push(fx.user(&mut chain, &[0, 0, 0]).await?);
    }
    let auction_secs = fx.state(&mut chain).await.params.auction_secs as u64;
    let (mut trades, mut ema_refused_pokes) = (Vec::new(), 0);
    for k in 1..prices.len() {
        chain.advance_time(cfg.dt_secs).await;
        ema::publish(&mut chain, &fx, &prices[k], &emas[k]).await;
        for pool in &pools {
            fx.arbitrage_any(&mut chain, pool).await?;
        }
        match fx.poke(&mut chain).await {
            Ok(()) => {}
            // The auction stays closed this step: the planner holds (`Hold::EmaDivergence`) and nobody trades.
            Err(e) if error_name(&e) == EMA_REFUSAL => ema_refused_pokes += 1,
            Err(e) => return Err(anyhow!("poke: {}", error_name(&e))),
        }
        let market = Market { fx: &fx, pools: &pools, keepers: &keepers, accounts: &accounts, prices };
        for _ in 0..cfg.max_trades_per_step {
            match contest(&mut chain, &market, k, auction_secs).await? {
                Some(t) => trades.push(t),
                None => break,
            }
        }
    }
    Ok(Competition { ema_refused_pokes, ..summarise(keepers, trades) })
}

/// What the keepers compete over.
struct Market<'a> {
    fx: &'a VaultFixture,
    pools: &'a [AnyPool],
    keepers: &'a [SimKeeper],
    /// Each keeper's token accounts.
    accounts: &'a [User],
    prices: &'a Path2,
}

impl Market<'_> {
    /// USD per base unit of asset `i` at `step`.
    fn unit(&self, step: usize, i: usize) -> f64 {
        self.prices[step][i] / 10f64.powi(self.fx.assets[i].spec.decimals as i32)
    }
}

/// The best route for the trade on offer when it was first seen: (sell, buy, amount in), the keeper whose
/// route it is, what it pays.
type BestRoute = ((usize, usize, u64), String, u64);

/// One auction: from its current state until a keeper trades (or the vault is back inside its bands).
async fn contest(chain: &mut Chain, m: &Market<'_>, step: usize, auction_secs: u64) -> Result<Option<ContestedTrade>> {
    let (fx, keepers) = (m.fx, m.keepers);
    let mut best: Option<BestRoute> = None;
    // A look a second, and a poke to renew the auction every half heartbeat.
    for _ in 0..(2 * auction_secs + 10) {
        let planned = fx.plan(chain).await;
        let c = match planned.decision {
            Decision::Trade(c) | Decision::Wait { candidate: c, .. } => c,
            Decision::Poke(_) => {
                fx.poke(chain).await.map_err(|e| anyhow!("poke: {}", error_name(&e)))?;
                continue;
            }
            Decision::Hold(Hold::Cooldown { until_slot }) => {
                chain.advance_slots(until_slot.saturating_sub(planned.snapshot.slot).max(1)).await;
                fx.refresh_prices(chain).await;
                continue;
            }
            Decision::Hold(_) => return Ok(None),
        };
        let elapsed = planned.snapshot.vault.auction_point(planned.snapshot.now).map_or(0, |p| p.elapsed_secs);
        // The best route at the moment the band was crossed (the auction's start, or the first look at this
        // trade).
        let trade = (c.request.sell, c.request.buy, c.plan.amount_in);
        if best.as_ref().is_none_or(|(t, _, _)| *t != trade) {
            let (name, out) = keepers
                .iter()
                .map(|k| (k.name.clone(), route_out(k, &c)))
                .max_by_key(|(_, out)| *out)
                .unwrap_or_default();
            best = Some((trade, name, out));
        }
        // Keepers that look now, fastest first.
        let mut order: Vec<usize> = (0..keepers.len())
            .filter(|i| {
                let k = &keepers[*i];
                elapsed >= k.phase_secs && (elapsed - k.phase_secs).is_multiple_of(k.latency_secs.max(1))
            })
            .collect();
        order.sort_by_key(|i| keepers[*i].latency_secs);
        for i in order {
            let best = best.clone().unwrap_or_default();
            if let Some(t) = attempt(chain, m, step, i, &c, elapsed, best).await? {
                return Ok(Some(t));
            }
        }
        // The next second, as the harness lets every auction run (prices re-published, renewed every half
        // heartbeat).
        fx.let_auction_run(chain, 1).await.map_err(|e| anyhow!("poke: {}", error_name(&e)))?;
    }
    Ok(None)
}

/// Keeper `i` looks at candidate `c` `elapsed` seconds into the auction: it trades when its route pays the
/// auction's price with its margin and what it keeps plus the bounty covers the fees.
async fn attempt(
    chain: &mut Chain,
    m: &Market<'_>,
    step: usize,
    i: usize,
    c: &Candidate,
    elapsed: u64,
    (_, best_name, best_out): BestRoute,
) -> Result<Option<ContestedTrade>> {
    let (fx, k, account) = (m.fx, &m.keepers[i], &m.accounts[i]);
    let unit = |i: usize| m.unit(step, i);
    let out = route_out(k, c);
    let want = out as u128 * (10_000 - k.margin_bps as u128) / 10_000;
    if (c.plan.floor_out as u128) > want {
        return Ok(None);
    }
    // Only worth sending if what it keeps and the bounty cover the fees.
    let keeps = match k.route {
        KeeperRoute::WhitelistedPool => 0.0,
        _ => (out - c.plan.floor_out) as f64 * unit(c.request.buy),
    };
    if keeps + c.bounty_value as f64 / 1e6 < FEE_USD {
        return Ok(None);
    }
    let pay = c.plan.floor_out;
    let before = fx.holdings(chain).await;
    let mut keeper_before = Vec::new();
    for t in &account.tokens {
        keeper_before.push(chain.token_amount(t).await);
    }
    if execute(chain, fx, k, account, c, pay).await.is_err() {
        // Its route did not pay what it expected (it misjudged the pool): it looks again later.
        return Ok(None);
    }
    let after = fx.holdings(chain).await;
    let (s, b) = (c.request.sell, c.request.buy);
    let paid = (after[b] - before[b]) as f64 * unit(b);
    // The keeper's account of the sold asset gained the bounty (and, from inventory, the amount sold).
    let sold_to_keeper = if matches!(k.route, KeeperRoute::Inventory { .. }) { c.plan.amount_in } else { 0 };
    let gained = chain.token_amount(&account.tokens[s]).await as f64 - keeper_before[s] as f64;
    let bounty = (gained - sold_to_keeper as f64).max(0.0) * unit(s);
    let kept = match k.route {
        KeeperRoute::WhitelistedPool => 0.0,
        KeeperRoute::PoolFlash => {
            (chain.token_amount(&account.tokens[b]).await as f64 - keeper_before[b] as f64) * unit(b)
        }
        KeeperRoute::Inventory { .. } => (out as f64 - pay as f64) * unit(b),
    };
    for pool in m.pools {
        fx.arbitrage_any(chain, pool).await?;
    }
    let best_usd = best_out as f64 * unit(b);
    Ok(Some(ContestedTrade {
        step,
        sell: s,
        buy: b,
        trade_usd: c.plan.amount_in as f64 * unit(s),
        best_route: best_name,
        best_out_usd: best_usd,
        winner: k.name.clone(),
        auction_elapsed_secs: elapsed,
        paid_usd: paid,
        gap_bps: (best_usd - paid) / best_usd * 10_000.0,
        keeper_profit_usd: kept + bounty - FEE_USD,
        bounty_usd: bounty,
        fee_usd: FEE_USD,
    }))
}

fn summarise(keepers: Vec<SimKeeper>, trades: Vec<ContestedTrade>) -> Competition {
    let mut gaps: Vec<f64> = trades.iter().map(|t| t.gap_bps).collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let median = if gaps.is_empty() {
        0.0
    } else if gaps.len() % 2 == 1 {
        gaps[gaps.len() / 2]
    } else {
        (gaps[gaps.len() / 2 - 1] + gaps[gaps.len() / 2]) / 2.0
    };
    let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let max = gaps.iter().copied().fold(0.0, f64::max);
    let profit_by_keeper = keepers
        .iter()
        .map(|k| {
            let won: Vec<&ContestedTrade> = trades.iter().filter(|t| t.winner == k.name).collect();
            (k.name.clone(), won.iter().map(|t| t.keeper_profit_usd).sum(), won.len())
        })
        .collect();
    Competition {
        keepers,
        trades,
        median_gap_bps: median,
        mean_gap_bps: mean,
        max_gap_bps: max,
        profit_by_keeper,
        ema_refused_pokes: 0,
    }
}

/// The execution table: one row per contested rebalance, then the summary.
pub fn render(c: &Competition, symbols: &[&str]) -> String {
    let mut s = format!(
        "{:>4} {:<11} {:>9} {:<13} {:>11} {:<13} {:>6} {:>11} {:>8} {:>10}\n",
        "step", "trade", "trade $", "best route", "best out $", "winner", "ran s", "paid $", "gap bp", "profit $"
    );
    for t in &c.trades {
        s.push_str(&format!(
            "{:>4} {:<11} {:>9.2} {:<13} {:>11.2} {:<13} {:>6} {:>11.2} {:>8.1} {:>10.4}\n",
            t.step,
            format!("{}→{}", symbols[t.sell], symbols[t.buy]),
            t.trade_usd,
            t.best_route,
            t.best_out_usd,
            t.winner,
            t.auction_elapsed_secs,
            t.paid_usd,
            t.gap_bps,
            t.keeper_profit_usd
        ));
    }
    s.push_str(&format!(
        "\n{} rebalances: vault paid vs the best route at the band crossing: median {:.1} bps short, mean {:.1}, worst {:.1}\n",
        c.trades.len(),
        c.median_gap_bps,
        c.mean_gap_bps,
        c.max_gap_bps
    ));
    for (name, profit, won) in &c.profit_by_keeper {
        let fees = *won as f64 * FEE_USD;
        s.push_str(&format!("  {name:<13} won {won:>3}, profit ${profit:.4} after ${fees:.4} of fees\n"));
    }
    s.push_str(&format!(
        "EMA guard: {} steps' pokes refused (a price too far from its Pyth EMA)\n",
        c.ema_refused_pokes
    ));
    s
}
