//! `ballast demo`: the whole flow on the embedded chain, printed as readable tables.

use std::io::Write;

use anyhow::{anyhow, Result};
use ballast::instructions::RebalanceArgs;
use serde::Serialize;
use serde_json::json;

use ballast::errors::BallastError;
use ballast::instructions::ScheduleWeightsArgs;
use ballast::state::{BandMode, TargetMode, VaultParams};
use solana_signer::Signer;

use anchor_lang::prelude::Pubkey;
use ballast_client as client;
use ballast_harness::chain::{error_name, Chain, TokenProgram};
pub use ballast_harness::demo_vault::{demo_pools, demo_pools_on, seeded_demo_vault, PRICE_PATH};
use ballast_harness::dex::{Amm, AnyPool};
use ballast_harness::fixture::{self, Report, Turn, User, VaultFixture};

mod exit;
pub mod large;
mod render;
pub use exit::ExitReport;
use render::{holder_line, render_row, shares};
pub use render::{render, row_header};

/// Options of the demo command.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    pub json: bool,
    pub mode: DemoMode,
    /// How the keeper reaches the pools: `rebalance` (direct) or `rebalance_begin` / swap / `rebalance_end`.
    pub route: ballast_client::RouteMode,
    /// Which AMM the vault's pools are on: the reference AMM, or the real Raydium CPMM or Orca Whirlpool
    /// programs.
    pub amm: Amm,
}

/// Which target/band mode the demo vault runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DemoMode {
    /// Fixed targets and fixed ε bands.
    #[default]
    Fixed,
    /// Volatility-scaled bands: a stress burst widens them and the keeper stops chasing noise.
    Vol,
    /// CPPI targets: risky exposure falls as value nears the floor and returns as it recovers.
    Cppi,
    /// A timelocked gradual move from 40/30/30 to 20/40/40.
    Schedule,
}

impl DemoMode {
    /// Vault parameters for this mode.
    pub fn params(self) -> VaultParams {
        let mut p = fixture::default_params();
        match self {
            DemoMode::Fixed => {}
            DemoMode::Vol => {
                // A 5-minute time constant: the estimate may move at most ×4.75 per sample (samples are at
                // least a minute apart), so a stress burst of a few steps widens the bands.
                p.vol_tau_secs = 300;
                p.band_mode = BandMode::VolatilityScaled {
                    reference_vol_bps: 20_000,
                    min_bps: 300,
                    max_bps: 2_000,
                    conf_multiplier: 1,
                };
            }
            DemoMode::Cppi => {
                p.target_mode = TargetMode::Cppi {
                    safe_index: 2,
                    multiplier_bps: 30_000,
                    max_risky_bps: 8_000,
                    floor_per_share: 800_000,
                    ratchet_bps: 0,
                };
            }
            DemoMode::Schedule => p.timelock_secs = 60,
        }
        p
    }

    /// Seconds between two price steps (volatility samples are taken at least a minute apart).
    pub fn step_secs(self) -> i64 {
        match self {
            DemoMode::Vol => 90,
            _ => 30,
        }
    }

    /// The scripted price path of this mode: (asset index, percent move) per step.
    pub fn path(self) -> &'static [(usize, i64)] {
        match self {
            DemoMode::Fixed => PRICE_PATH,
            DemoMode::Vol => &[(0, 9), (0, -9), (0, 9), (0, -9), (0, 9), (0, -9), (0, 25), (2, 0), (0, -15), (2, 0)],
            DemoMode::Cppi => {
                &[(0, -12), (1, -12), (0, -12), (1, -12), (2, 0), (0, 20), (1, 20), (0, 20), (1, 20), (2, 0)]
            }
            DemoMode::Schedule => &[(2, 0); 10],
        }
    }
}

/// Result of a demo run (also printed as the final JSON line with `--json`).
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    pub report: Report,
    pub steps: Vec<String>,
    pub rows: Vec<StepRow>,
    pub refused: Vec<Refused>,
    /// The price path's rebalances (the keeper's buy-back after the exit is counted in `exit`).
    pub rebalances: usize,
    pub fees: Option<FeeReport>,
    /// Bob leaving entirely in USDC, with the numbers of the payout.
    pub exit: Option<ExitReport>,
}

/// One line per listed asset: mint, token program and whether its freeze authority was acknowledged.
async fn listing_lines(chain: &mut Chain, fx: &VaultFixture) -> Vec<String> {
    let vault = fx.state(chain).await;
    let mut out = Vec::new();
    for (a, f) in vault.assets.iter().zip(&fx.assets) {
        let ack = a.flags & ballast::state::asset_flags::FREEZE_AUTHORITY_ACKNOWLEDGED != 0;
        out.push(format!(
            "  listed {:<5} mint {} ({} decimals){}",
            f.spec.symbol,
            a.mint,
            a.decimals,
            if ack {
                " — mint has a FREEZE AUTHORITY, acknowledged by governance (a frozen reserve is skipped by withdrawals into a claim)"
            } else {
                ", no freeze authority"
            }
        ));
    }
    out
}

/// One step of the scripted price path.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub step: usize,
    pub event: String,
    pub prices: Vec<f64>,
    pub weights_bps: Vec<u64>,
    pub targets_bps: Vec<u16>,
    pub bands_bps: Vec<u16>,
    pub max_drift_bps: u64,
    pub action: String,
    /// The trade's assets (none on a hold) and amounts in base units of each.
    pub sell_index: Option<usize>,
    pub buy_index: Option<usize>,
    pub amount_in: u64,
    pub min_out: u64,
    pub received: u64,
}

/// An attempt the program refused, with the error name.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub step: usize,
    pub who: String,
    pub error: String,
}

/// Runs the demo and prints as it goes (tables, or only the final JSON line with `json`).
pub async fn run(opts: &DemoOptions, out: &mut dyn Write) -> Result<DemoOutcome> {
    let mut chain = Chain::start().await;
    // The operator is paid 2 % a year and 10 % of the gains above the high-water mark, in shares; 10 bps
    // entry and exit fees stay with the holders.
    let operator = solana_keypair::Keypair::new();
    let recipient = fixture::future_share_account(&chain, 0, &operator.pubkey());
    let params = VaultParams { fees: fixture::fees_to(recipient, 200, 1_000, 10, 10), ..opts.mode.params() };
    let (fx, alice) = seeded_demo_vault(&mut chain, params).await?;
    chain.create_ata(&operator.pubkey(), &client::pda::share_mint(&fx.key), TokenProgram::Token).await?;
    let mut d = Demo {
        opts,
        out,
        chain,
        fx,
        steps: vec![],
        rows: vec![],
        refused: vec![],
        rebalances: 0,
        fees: None,
        exit: None,
    };
    d.say(format!(
        "vault {} created with {} assets (SOL 40%, BTC 30%, USDC 30%), mode {:?}",
        d.fx.key,
        d.fx.assets.len(),
        opts.mode
    ));
    let listing = listing_lines(&mut d.chain, &d.fx).await;
    for line in &listing {
        d.say(line.clone());
    }
    // Alice seeded the empty vault with one single-asset deposit per asset, at target proportions: each a
    // request, settled by a keeper with prices published after it.
    d.steps.push("alice request_deposit + keeper settle_deposit x3 (seed at target weights)".into());
    let delay = d.fx.state(&mut d.chain).await.params.deposit_delay_secs;
    d.report(&format!(
        "after Alice's single-asset deposits (requested, settled after the {delay} s delay; first deposit locks 1 \
         share)"
    ))
    .await?;
    let bob = d.bob_deposits().await?;
    let market = d.market().await?;
    d.price_path(&market).await?;

    // Alice withdraws half of her shares in kind.
    let alice_shares = d.chain.token_amount(&alice.shares).await;
    d.fx.withdraw(&mut d.chain, &alice, alice_shares / 2, vec![0; 3])
        .await
        .map_err(|e| anyhow!("alice withdraw: {e}"))?;
    d.steps.push("alice withdraw half (in kind)".into());
    d.report("after Alice withdraws half of her shares").await?;
    // Bob leaves entirely in USDC: a request, settled after the delay; the keeper buys back what it took.
    d.exit_in_usdc(&market, "Bob", &bob).await?;
    d.fees_month(recipient).await?;
    let r = d.report("30 days later, after accrue_fees").await?;
    for (name, user) in [("alice", &alice), ("bob", &bob), ("keeper (bounties)", &market.keeper)] {
        let line = holder_line(name, &mut d.chain, &d.fx, user).await;
        d.say(line);
    }
    if opts.json {
        let line = d.json(&r, &listing);
        writeln!(d.out, "{line}")?;
    }
    let Demo { steps, rows, refused, rebalances, fees, exit, .. } = d;
    Ok(DemoOutcome { report: r, steps, rows, refused, rebalances, fees, exit })
}

/// The demo in progress.
struct Demo<'a> {
    opts: &'a DemoOptions,
    out: &'a mut dyn Write,
    chain: Chain,
    fx: VaultFixture,
    steps: Vec<String>,
    rows: Vec<StepRow>,
    refused: Vec<Refused>,
    rebalances: usize,
    fees: Option<FeeReport>,
    exit: Option<ExitReport>,
}

/// What the vault's fees came to (the last JSON line's `fees`).
#[derive(Debug, Clone, Serialize)]
pub struct FeeReport {
    pub management_bps: u16,
    pub performance_bps: u16,
    /// Fee shares accrued over the whole demo, by kind (share units, 6 decimals).
    pub management_shares: u64,
    pub performance_shares: u64,
    /// The month at the end: its fee base (shares outstanding but the locked one), its length, and the
    /// management fee shares it added (`base × (e^(rate × secs / year) − 1)`, rounded down).
    pub month_base_shares: u64,
    pub month_secs: u64,
    pub month_management_shares: u64,
    /// What the operator holds at the end, and its value.
    pub recipient_shares: u64,
    pub recipient_value_usd: f64,
    /// The share price's high-water mark (USD per share).
    pub hwm_usd: f64,
}

/// What the eager bot's blind trades meet: the program refuses a trade no asset's band calls for, one in the
/// wrong direction, and one inside the cooldown.
pub const EAGER_BOT_REFUSALS: [BallastError; 3] =
    [BallastError::RebalanceNotNeeded, BallastError::RebalanceWrongDirection, BallastError::CooldownNotElapsed];

/// The pools and the two bots of the price path.
struct Market {
    pools: Vec<AnyPool>,
    /// The shipped keeper's planner, driven through the fixture.
    keeper: User,
    /// A bot that fires "sell SOL for USDC" every step without looking.
    eager: User,
}

impl Demo<'_> {
    /// Prints a line, unless only the JSON line was asked for.
    fn say(&mut self, s: String) {
        if !self.opts.json {
            let _ = writeln!(self.out, "{s}");
        }
    }

    /// Prints the vault's state under `title`; returns it.
    async fn report(&mut self, title: &str) -> Result<Report> {
        let r = self.fx.report(&mut self.chain).await?;
        let table = render(title, &self.fx, &r);
        self.say(table);
        Ok(r)
    }

    /// Bob deposits in kind: up to 2 SOL, 0.1 BTC, 500 USDC, in the vault's current proportions.
    async fn bob_deposits(&mut self) -> Result<User> {
        let amounts = [2_000_000_000, 10_000_000, 500_000_000];
        let bob = self.fx.user(&mut self.chain, &amounts).await?;
        self.fx.deposit(&mut self.chain, &bob, amounts.to_vec(), 1).await.map_err(|e| anyhow!("bob deposit: {e}"))?;
        self.steps.push("bob deposit (in kind, proportional)".into());
        let bob_shares = self.chain.token_amount(&bob.shares).await;
        self.report(&format!("after Bob's in-kind deposit ({} shares)", shares(bob_shares))).await?;
        Ok(bob)
    }

    /// A pool per pair on the chosen AMM, whitelisted by governance, the bots, and (schedule mode) the
    /// weight schedule.
    async fn market(&mut self) -> Result<Market> {
        let pools = demo_pools_on(&mut self.chain, &self.fx, self.opts.amm).await?;
        let keeper = self.fx.user(&mut self.chain, &[0, 0, 0]).await?;
        let eager = self.fx.user(&mut self.chain, &[0, 0, 0]).await?;
        if self.opts.mode == DemoMode::Schedule {
            self.schedule_weights().await?;
        }
        Ok(Market { pools, keeper, eager })
    }

    /// Governance queues 40/30/30 → 20/40/40 over ~600 slots; after the 60 s timelock it starts.
    async fn schedule_weights(&mut self) -> Result<()> {
        let (gov, fx) = (self.fx.governance.pubkey(), &self.fx);
        let slot = self.chain.clock().await.slot;
        let args =
            ScheduleWeightsArgs { to_weights: vec![2_000, 4_000, 4_000], start_slot: slot + 200, end_slot: slot + 800 };
        self.chain
            .send(&[client::schedule_weights(&gov, &fx.key, args)], &[&fx.governance])
            .await
            .map_err(|e| anyhow!("schedule: {}", error_name(&e)))?;
        self.chain.advance_time(61).await;
        let vault = fx.state(&mut self.chain).await;
        self.chain
            .send(&[client::execute_pending(&gov, &fx.key, &vault)], &[&fx.governance])
            .await
            .map_err(|e| anyhow!("execute: {}", error_name(&e)))?;
        self.say("governance scheduled 40/30/30 → 20/40/40 over 600 slots (timelock passed, schedule active)".into());
        self.steps.push("schedule_weights 40/30/30 -> 20/40/40".into());
        Ok(())
    }

    /// Every step of the price path: the oracle moves, arbitrage re-prices the pools, the bots act.
    async fn price_path(&mut self, market: &Market) -> Result<()> {
        self.say("\n== price path: oracle moves, arbitrage re-prices the pools, keepers act ==".into());
        self.say(row_header());
        let path = self.opts.mode.path();
        for (step, (asset, pct)) in path.iter().enumerate() {
            self.price_step(market, step + 1, *asset, *pct).await?;
        }
        self.steps.push(format!("price path: {} steps, {} rebalances", path.len(), self.rebalances));
        self.report("after the price path (every asset back inside its band)").await?;
        if !self.refused.is_empty() {
            let list: Vec<String> = self.refused.iter().map(|r| format!("step {} {}", r.step, r.error)).collect();
            self.say(format!("refused attempts: {}", list.join(", ")));
        }
        Ok(())
    }

    /// One step: asset `asset` moves `pct` %, the pools follow, a crank pokes the vault (its volatility
    /// estimates see every step; the auction opens as soon as an asset leaves its band), the keeper acts
    /// and the eager bot tries.
    async fn price_step(&mut self, market: &Market, step: usize, asset: usize, pct: i64) -> Result<()> {
        let (chain, fx) = (&mut self.chain, &self.fx);
        chain.advance_time(self.opts.mode.step_secs()).await;
        fx.refresh_prices(chain).await;
        let p = fx.oracle_reading(chain, asset).await.price;
        fx.set_price(chain, asset, p * (100 + pct) / 100).await;
        for pool in &market.pools {
            fx.arbitrage_any(chain, pool).await?;
        }
        fx.poke(chain).await.map_err(|e| anyhow!("poke: {}", error_name(&e)))?;
        let event = if pct == 0 { "calm".to_string() } else { format!("{} {:+}%", fx.assets[asset].spec.symbol, pct) };
        let rows = self.keeper_turns(market, step, &event, true).await?;
        let trades = rows.len();
        self.rebalances += trades;
        self.rows.extend(rows);
        if trades == 0 {
            self.eager_attempt(market, step).await;
            let r = self.fx.report(&mut self.chain).await?;
            self.rows.push(row(step, &event, &r, "hold (inside bands)".into(), None));
        }
        let lines: Vec<String> = self.rows.iter().filter(|r| r.step == step).map(|r| render_row(&self.fx, r)).collect();
        for line in lines {
            self.say(line);
        }
        Ok(())
    }

    /// The shipped keeper's planner, reading the embedded chain: it opens the auction (poke), waits for its
    /// price to fall to what a pool pays (the clock moves on), trades, and again; up to three trades. After
    /// each, with `eager`, the eager bot tries again (and meets the cooldown). Returns a row per trade.
    async fn keeper_turns(&mut self, market: &Market, step: usize, event: &str, eager: bool) -> Result<Vec<StepRow>> {
        let (mut trades, mut waited) = (Vec::new(), 0i64);
        for _ in 0..16 {
            let sold_before = self.fx.holdings(&mut self.chain).await;
            let turn = self
                .fx
                .keeper_turn(&mut self.chain, self.opts.route, &market.keeper.keypair, &market.keeper.tokens)
                .await
                .map_err(|e| anyhow!("keeper: {}", error_name(&e)))?;
            let candidate = match turn {
                Turn::Traded(c) => c,
                Turn::Waited(secs) => {
                    waited += secs;
                    continue;
                }
                Turn::Poked(_) | Turn::CooledDown => continue,
                Turn::Held(_) => break,
            };
            let (request, plan) = (candidate.request, candidate.plan);
            let received = self.fx.holdings(&mut self.chain).await[request.buy] - sold_before[request.buy];
            let r = self.fx.report(&mut self.chain).await?;
            let (sold, bought) = (&self.fx.assets[request.sell].spec.symbol, &self.fx.assets[request.buy].spec.symbol);
            let action = format!("sell {sold} → {bought} ({waited} s)");
            waited = 0;
            let trade =
                Trade { sell: request.sell, buy: request.buy, amount_in: plan.amount_in, min_out: request.min_out };
            trades.push(row(step, event, &r, action, Some((trade, received))));
            if eager {
                self.eager_attempt(market, step).await;
            }
            if trades.len() == 3 {
                break;
            }
        }
        Ok(trades)
    }

    /// The eager bot's blind "sell SOL for USDC"; the program refuses it unless the trade is really needed.
    async fn eager_attempt(&mut self, market: &Market, step: usize) {
        let args = RebalanceArgs {
            sell_index: 0,
            buy_index: 2,
            amount_in: self.fx.assets.len() as u64 * 1_000_000_000,
            min_out: 0,
        };
        let (eager, pool) = (&market.eager, &market.pools[0]);
        let tried = self.fx.rebalance_any(&mut self.chain, &eager.keypair, &eager.tokens[0], pool, args).await;
        if let Err(e) = tried {
            self.refused.push(Refused { step, who: "eager bot".into(), error: error_name(&e) });
        }
    }

    /// Thirty days pass and `accrue_fees` runs: the management fee of the month, on top of what the path
    /// accrued, is minted to the operator.
    async fn fees_month(&mut self, recipient: Pubkey) -> Result<()> {
        let (chain, fx) = (&mut self.chain, &self.fx);
        fx.accrue_fees(chain).await.map_err(|e| anyhow!("accrue_fees: {}", error_name(&e)))?;
        let before = fx.fee_state(chain).await;
        let base = fx.share_supply(chain).await + before.pending_shares - ballast::math::LOCKED_SHARES;
        chain.advance_time(30 * 86_400).await;
        fx.accrue_fees(chain).await.map_err(|e| anyhow!("accrue_fees: {}", error_name(&e)))?;
        let after = fx.fee_state(chain).await;
        let r = fx.report(chain).await?;
        let recipient_shares = chain.token_amount(&recipient).await;
        let price = r.nav as f64 / 1e6 / (r.share_supply as f64 / 1e6);
        let fees = fx.state(chain).await.params.fees;
        let report = FeeReport {
            management_bps: fees.management_bps,
            performance_bps: fees.performance_bps,
            management_shares: after.management_total,
            performance_shares: after.performance_total,
            month_base_shares: base,
            month_secs: (after.last_accrual - before.last_accrual) as u64,
            month_management_shares: after.management_total - before.management_total,
            recipient_shares,
            recipient_value_usd: recipient_shares as f64 / 1e6 * price,
            hwm_usd: after.hwm as f64 / 1e18,
        };
        // What the operator's shares are worth at NAV, in micro-USD, exactly.
        let recipient_value = u128::from(recipient_shares) * r.nav / u128::from(r.share_supply.max(1));
        self.say(format!(
            "\n== fees: {} bps a year and {} bps of gains above the high-water mark, paid in shares to the operator ==\n\
             before the month: {} shares of management and {} of performance fee (high-water mark ${:.6} a share)\n\
             30 days later, accrue_fees: {} shares × (e^(0.02 × {} s / 31 536 000 s) − 1) = {} shares of management fee\n\
             the operator holds {} shares ({}); entry and exit fees (10 bps) stayed with the holders",
            report.management_bps,
            report.performance_bps,
            shares(before.management_total),
            shares(report.performance_shares),
            report.hwm_usd,
            shares(base),
            report.month_secs,
            shares(report.month_management_shares),
            shares(recipient_shares),
            client::describe::usd(i128::try_from(recipient_value).unwrap_or(i128::MAX)),
        ));
        self.steps.push("30 days pass; accrue_fees mints the fee shares to the operator".into());
        self.fees = Some(report);
        Ok(())
    }

    /// The final state as one JSON object.
    fn json(&self, r: &Report, listing: &[String]) -> serde_json::Value {
        json!({
            "vault": self.fx.key.to_string(),
            "assets": r.symbols,
            "listing": listing,
            "holdings": r.holdings,
            "prices": r.prices,
            "weights_bps": r.weights_bps,
            "targets_bps": r.targets_bps,
            "bands_bps": r.bands_bps,
            "drift_bps": r.drift_bps,
            "max_drift_bps": r.max_abs_drift_bps,
            "max_drift_bps_final": r.max_abs_drift_bps,
            "mode": self.opts.mode,
            "route": format!("{:?}", self.opts.route).to_lowercase(),
            "amm": self.opts.amm.name(),
            "nav_micro_usd": r.nav.to_string(),
            "share_supply": r.share_supply,
            "rebalances": self.rebalances,
            "refused_attempts": self.refused,
            "path": self.rows,
            "steps": self.steps,
            "fees": self.fees,
            "exit": self.exit,
        })
    }
}

/// A trade of the table: its assets and what it offered and asked, in base units.
struct Trade {
    sell: usize,
    buy: usize,
    amount_in: u64,
    min_out: u64,
}

/// A row of the price path: the state after it, and the trade with what it received, if one was made.
fn row(step: usize, event: &str, r: &Report, action: String, trade: Option<(Trade, u64)>) -> StepRow {
    StepRow {
        step,
        event: event.to_string(),
        prices: r.prices.clone(),
        weights_bps: r.weights_bps.clone(),
        targets_bps: r.targets_bps.clone(),
        bands_bps: r.bands_bps.clone(),
        max_drift_bps: r.max_abs_drift_bps,
        action,
        sell_index: trade.as_ref().map(|(t, _)| t.sell),
        buy_index: trade.as_ref().map(|(t, _)| t.buy),
        amount_in: trade.as_ref().map_or(0, |(t, _)| t.amount_in),
        min_out: trade.as_ref().map_or(0, |(t, _)| t.min_out),
        received: trade.as_ref().map_or(0, |(_, received)| *received),
    }
}
