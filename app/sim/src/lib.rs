//! `ballast simulate`: runs the real programs (vault and reference AMM) on the embedded chain over a
//! price path, once per strategy, with an arbitrage step that brings every pool back to the oracle each
//! step and a keeper that trades with the shipped keeper's planner (`ballast_client::planner`, the same
//! code `ballast keeper` runs over RPC). Costs are therefore the AMM's real
//! fees and price impact plus the keeper bounties the program pays.

pub mod competition;
pub mod ema;
pub mod flows;
pub mod paths;
pub mod plots;
mod report;
mod simulation;
pub mod study;
pub mod tune;

pub use ema::{EmaPath, SimPath};
pub use flows::{AssetPick, FlowConfig, FlowSummary};
pub use report::{
    render_ema_summary, render_fees, render_flows, render_table, render_throughput, write_flows_csv, write_steps_csv,
};

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Result};
use ballast::state::{BandMode, TargetMode, VaultParams};
use serde::Serialize;

use ballast_harness::chain::{error_name, Chain};
use ballast_harness::dex::{Amm, AnyPool};
use ballast_harness::fixture::{self, AssetSpec, VaultFixture};

/// Symbols of the simulated vault (the demo's assets).
pub const SYMBOLS: [&str; 3] = ["SOL", "BTC", "USDC"];
/// The simulated vault's target weights (bps), in `SYMBOLS` order.
pub(crate) const TARGETS: [u16; 3] = [4_000, 3_000, 3_000];

/// A rebalancing policy to compare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Strategy {
    /// Never rebalance.
    BuyAndHold,
    /// Rebalance to target every `every` steps, whatever the drift (program band at its 1 bps minimum).
    Interval { every: usize },
    /// Rebalance whenever an asset leaves a fixed ε band.
    Band { eps_bps: u16 },
    /// Volatility-scaled bands around a base ε.
    VolBand { eps_bps: u16, reference_vol_bps: u16, max_bps: u16 },
    /// CPPI targets with a floor at `floor_bps` of the starting share price.
    Cppi { multiplier_bps: u32, floor_bps: u16 },
    /// The program's cost-optimal band mode: per asset `(3·c·(t·(1 − t))²/λ)^(1/3)` less the overshoot of
    /// the simulation's checks (one per step), see `docs/bands.md`.
    CostOptimal { cost_bps: u16, risk_aversion_milli: u32 },
}

impl Strategy {
    pub fn name(&self) -> String {
        match self {
            Strategy::BuyAndHold => "buy-and-hold".into(),
            Strategy::Interval { every } => format!("interval/{every}"),
            Strategy::Band { eps_bps } => format!("band {:.1}%", *eps_bps as f64 / 100.0),
            Strategy::VolBand { eps_bps, .. } => format!("vol band {:.1}%", *eps_bps as f64 / 100.0),
            Strategy::Cppi { multiplier_bps, floor_bps } => {
                format!("cppi {}x/{}%", multiplier_bps / 10_000, floor_bps / 100)
            }
            Strategy::CostOptimal { cost_bps, risk_aversion_milli } => {
                format!("cost-opt c{cost_bps} λ{}", *risk_aversion_milli as f64 / 1_000.0)
            }
        }
    }

    /// Vault parameters and the per-asset band for this strategy.
    /// `check_interval_secs`: how often the keeper looks (the simulation's step).
    fn setup(&self, check_interval_secs: u32) -> (VaultParams, u16) {
        let mut p = fixture::default_params();
        p.rebalance_cooldown_slots = 0;
        let band = match *self {
            Strategy::BuyAndHold | Strategy::Interval { .. } => 1,
            Strategy::Band { eps_bps } => eps_bps,
            Strategy::VolBand { eps_bps, reference_vol_bps, max_bps } => {
                p.band_mode =
                    BandMode::VolatilityScaled { reference_vol_bps, min_bps: eps_bps / 2, max_bps, conf_multiplier: 0 };
                p.vol_tau_secs = 7 * 86_400;
                eps_bps
            }
            Strategy::Cppi { multiplier_bps, floor_bps } => {
                // Shares start at about $1: floor_per_share in micro-USD per share.
                let floor_per_share = floor_bps as u64 * 100;
                p.target_mode = TargetMode::Cppi {
                    safe_index: 2,
                    multiplier_bps,
                    max_risky_bps: 9_000,
                    floor_per_share,
                    ratchet_bps: 0,
                };
                300
            }
            Strategy::CostOptimal { cost_bps, risk_aversion_milli } => {
                p.band_mode = BandMode::CostOptimal {
                    cost_bps,
                    risk_aversion_milli,
                    check_interval_secs: check_interval_secs.min(ballast::constants::MAX_CHECK_INTERVAL_SECS),
                    min_bps: 50,
                    max_bps: 2_500,
                };
                p.vol_tau_secs = 7 * 86_400;
                500
            }
        };
        (p, band)
    }

    fn trades_at(&self, step: usize) -> bool {
        match *self {
            Strategy::BuyAndHold => false,
            Strategy::Interval { every } => every > 0 && step.is_multiple_of(every),
            _ => true,
        }
    }
}

/// The default comparison set.
pub fn default_strategies() -> Vec<Strategy> {
    vec![
        Strategy::BuyAndHold,
        Strategy::Interval { every: 24 },
        Strategy::Band { eps_bps: 200 },
        Strategy::Band { eps_bps: 500 },
        Strategy::Band { eps_bps: 1_000 },
        Strategy::VolBand { eps_bps: 500, reference_vol_bps: 6_000, max_bps: 2_000 },
        Strategy::Cppi { multiplier_bps: 30_000, floor_bps: 8_000 },
    ]
}

/// Market and vault settings of a run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub dt_secs: i64,
    /// AMM fee of every pool.
    pub fee_bps: u16,
    /// Dollars on each side of each pool.
    pub pool_depth_usd: f64,
    /// Dollars deposited into the vault at the start.
    pub vault_usd: f64,
    /// Most keeper trades per step.
    pub max_trades_per_step: usize,
    /// The vault's slippage cap; it must exceed the pool fee or every trade fails the program's floor.
    pub slippage_cap_bps: u16,
    /// How the keeper trades: direct or flash (the same pool either way).
    pub route: ballast_client::RouteMode,
    /// Which AMM the pools are on: the reference AMM charging `fee_bps`, or the real Raydium CPMM (its
    /// mainnet config: 25 bps) or Orca Whirlpool (30 bps) programs.
    pub amm: Amm,
    /// The vault's fees (rates only: the running fees accrue as shares owed to one recipient).
    pub fees: ballast::state::FeeParams,
    /// Users entering and leaving in one asset each step, before the keeper looks ([`flows`]); none by default.
    pub flows: Option<FlowConfig>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            dt_secs: 3_600,
            fee_bps: 30,
            pool_depth_usd: 2_000_000.0,
            vault_usd: 100_000.0,
            max_trades_per_step: 4,
            slippage_cap_bps: 100,
            route: ballast_client::RouteMode::Direct,
            amm: Amm::Reference,
            fees: Default::default(),
            flows: None,
        }
    }
}

/// State after one step of one strategy.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: usize,
    pub nav_usd: f64,
    /// Value of the frictionless portfolio held at the targets in force.
    pub target_nav_usd: f64,
    pub weights_bps: Vec<u64>,
    pub targets_bps: Vec<u16>,
    pub cum_cost_usd: f64,
    pub rebalances: usize,
    /// NAV per share outstanding (fee shares owed included): what a holder's share is worth.
    pub share_price_usd: f64,
    /// The EMA guard refused this step's poke or held the keeper ([`StrategyResult::ema_hold_steps`]).
    pub ema_held: bool,
    /// What the step's flows added to the NAV at mid (USD; exits negative, 0 without flows). The returns
    /// behind the tracking error and the drawdown leave it out; the target portfolio receives it too.
    pub flow_usd: f64,
}

/// Metrics of one strategy over the path.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyResult {
    pub strategy: String,
    /// Annualised tracking error against the target portfolio (bps).
    pub tracking_error_bps: f64,
    /// AMM fees and price impact (trade value in − value received, at oracle mid prices) plus bounties.
    pub total_cost_usd: f64,
    pub cost_bps_of_nav: f64,
    /// The same cost as a yearly rate (bps of average NAV a year): the cost term of the objective
    /// ([`objective`]), comparable across horizons.
    pub cost_bps_a_year: f64,
    /// Traded value over average NAV.
    pub turnover: f64,
    pub rebalances: usize,
    pub final_value_usd: f64,
    pub vs_buy_and_hold_pct: f64,
    pub max_drawdown_pct: f64,
    pub refused: usize,
    /// The most a keeper could have taken from this strategy's trades: the auction's discount to fair value
    /// at the time of each trade plus the bounties paid (USD). A keeper that sandwiches itself up to the
    /// floor in force would cost the vault this much on top of `total_cost_usd`'s fees and price impact.
    pub keeper_max_take_usd: f64,
    /// The vault's running fees over the path: the fee shares accrued, valued at the final share price (USD),
    /// and in bps of the average NAV (add it to a J score's cost for J after fees).
    pub fees_usd: f64,
    pub fees_bps_of_nav: f64,
    /// The holders' return: the share price's change over the path, after every cost and fee (%).
    pub net_return_pct: f64,
    /// Wall-clock seconds the run took on the embedded chain (setup included).
    pub elapsed_secs: f64,
    /// The EMA guard: the program opens the rebalance auction only on prices within the vault's
    /// `max_ema_divergence_bps` of their Pyth EMA. Crank pokes it refused (`OracleDivergence`: the step goes
    /// on without the poke), keeper checks held for it (the planner's `Hold::EmaDivergence`, or a keeper
    /// transaction refused with `OracleDivergence`), steps with either, and steps on which the strategy was
    /// due to rebalance and the guard kept the auction closed (the rebalance waits for a later step).
    pub ema_refused_pokes: usize,
    pub ema_keeper_holds: usize,
    pub ema_hold_steps: usize,
    pub ema_delayed_steps: usize,
    /// With `--flows`: what the deposits and single-asset withdrawals did and paid ([`FlowSummary`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<FlowSummary>,
    #[serde(skip)]
    pub steps: Vec<StepRecord>,
}

pub(crate) fn mantissa(price: f64) -> i64 {
    (price * 1e8).round().max(1.0) as i64
}

pub(crate) async fn market(
    chain: &mut Chain,
    strategy: &Strategy,
    start: &[f64],
    cfg: &SimConfig,
) -> Result<(VaultFixture, Vec<AnyPool>)> {
    market_with_holder(chain, strategy, start, cfg).await.map(|(fx, pools, _)| (fx, pools))
}

/// [`market`], and the user who seeded the vault: the holder of every share, with tokens to spare.
pub(crate) async fn market_with_holder(
    chain: &mut Chain,
    strategy: &Strategy,
    start: &[f64],
    cfg: &SimConfig,
) -> Result<(VaultFixture, Vec<AnyPool>, ballast_harness::fixture::User)> {
    let (mut params, band) = strategy.setup(u32::try_from(cfg.dt_secs).unwrap_or(u32::MAX));
    params.slippage_cap_bps = cfg.slippage_cap_bps;
    params.fit_to_slippage_cap();
    if cfg.fees.management_bps > 0 || cfg.fees.performance_bps > 0 || cfg.fees.entry_bps > 0 || cfg.fees.exit_bps > 0 {
        // The fee shares accrue as owed to one recipient; nobody needs to mint them for the accounting.
        params.fees = ballast_harness::fixture::fees_to(
            Pubkey::new_unique(),
            cfg.fees.management_bps,
            cfg.fees.performance_bps,
            cfg.fees.entry_bps,
            cfg.fees.exit_bps,
        );
    }
    let decimals = [9u8, 8, 6];
    let specs: Vec<AssetSpec> =
        (0..3).map(|i| AssetSpec::new(SYMBOLS[i], decimals[i], mantissa(start[i]), -8, TARGETS[i], band)).collect();
    let fx = fixture::create_vault(chain, &specs, params).await?;
    let depositor = fx.user(chain, &[u64::MAX / 4, u64::MAX / 4, u64::MAX / 4]).await?;
    for (i, target) in TARGETS.iter().enumerate() {
        let amount = fx.amount_for_usd(chain, i, cfg.vault_usd * *target as f64 / 10_000.0).await;
        fx.deposit_single(chain, &depositor, i as u8, amount, 1)
            .await
            .map_err(|e| anyhow!("seed: {}", error_name(&e)))?;
    }
    let pools = fx.create_pools(chain, cfg.amm, &[(0, 2), (1, 2), (0, 1)], cfg.pool_depth_usd, cfg.fee_bps).await?;
    Ok((fx, pools, depositor))
}

/// The program's refusal by the EMA guard (an error's name, [`error_name`]).
pub(crate) const EMA_REFUSAL: &str = "OracleDivergence";

/// Runs one strategy over `path` (one row per step, the first row the start): every step publishes the
/// step's prices with their Pyth EMA ([`SimPath`]; a bare [`Path2`](paths::Path2) gets the EMA modelled on its realised
/// volatilities, [`ema::realised_emas`]).
pub async fn run_strategy<P: SimPath + ?Sized>(
    strategy: Strategy,
    path: &P,
    cfg: &SimConfig,
) -> Result<StrategyResult> {
    let started = std::time::Instant::now();
    let (prices, emas) = (path.prices(), path.emas(cfg.dt_secs));
    let (mut run, r0) = simulation::Run::start(strategy, &prices[0], cfg).await?;
    for k in 1..prices.len() {
        run.step(k, prices, &emas).await?;
    }
    let mut result = run.finish(&r0).await?;
    result.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(result)
}

/// The holder's objective, the one the cost-optimal band minimises (`docs/bands.md`): a year's trading cost
/// (bps of NAV) plus `risk_aversion × TE%²` (tracking error of returns against the target portfolio,
/// annualised, in percent).
pub fn objective(r: &StrategyResult, risk_aversion: f64) -> f64 {
    r.cost_bps_a_year + risk_aversion * (r.tracking_error_bps / 100.0).powi(2)
}

pub(crate) fn summarise(
    strategy: Strategy,
    steps: Vec<StepRecord>,
    totals: &simulation::Totals,
    dt: i64,
) -> StrategyResult {
    let (cost, traded) = (totals.cost, totals.traded);
    // Returns without the step's flows (which the vault and the target portfolio both received).
    let diffs: Vec<f64> = steps
        .windows(2)
        .map(|w| {
            ((w[1].nav_usd - w[1].flow_usd) / w[0].nav_usd).ln()
                - ((w[1].target_nav_usd - w[1].flow_usd) / w[0].target_nav_usd).ln()
        })
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (diffs.len().max(2) - 1) as f64;
    let te = (var * 31_536_000.0 / dt as f64).sqrt() * 10_000.0;
    let avg_nav = steps.iter().map(|s| s.nav_usd).sum::<f64>() / steps.len() as f64;
    let cost_bps_of_nav = cost / avg_nav * 10_000.0;
    let mut peak = f64::MIN;
    let mut dd = 0.0f64;
    for value in flow_free_values(&steps) {
        peak = peak.max(value);
        dd = dd.max(1.0 - value / peak);
    }
    StrategyResult {
        strategy: strategy.name(),
        tracking_error_bps: te,
        total_cost_usd: cost,
        cost_bps_of_nav,
        cost_bps_a_year: cost_bps_of_nav * 31_536_000.0 / (dt as f64 * steps.len().saturating_sub(1).max(1) as f64),
        turnover: traded / avg_nav,
        rebalances: totals.rebalances,
        final_value_usd: steps.last().map(|s| s.nav_usd).unwrap_or(0.0),
        vs_buy_and_hold_pct: 0.0,
        max_drawdown_pct: dd * 100.0,
        refused: totals.refused,
        keeper_max_take_usd: totals.max_take,
        fees_usd: 0.0,
        fees_bps_of_nav: 0.0,
        net_return_pct: 0.0,
        elapsed_secs: 0.0,
        ema_refused_pokes: totals.ema_refused_pokes,
        ema_keeper_holds: totals.ema_keeper_holds,
        ema_hold_steps: totals.ema_hold_steps,
        ema_delayed_steps: totals.ema_delayed_steps,
        flows: None,
        steps,
    }
}

/// The NAV along the path, or with flows the NAV of a holder who neither entered nor left (the step returns
/// without the flows, chained from the starting NAV).
fn flow_free_values(steps: &[StepRecord]) -> Vec<f64> {
    if steps.iter().all(|s| s.flow_usd == 0.0) {
        return steps.iter().map(|s| s.nav_usd).collect();
    }
    let mut out: Vec<f64> = steps.first().map(|s| vec![s.nav_usd]).unwrap_or_default();
    for w in steps.windows(2) {
        let last = out[out.len() - 1];
        out.push(last * (w[1].nav_usd - w[1].flow_usd) / w[0].nav_usd);
    }
    out
}

/// Simulations run at once: `BALLAST_SIM_THREADS`, else the machine's cores. Each runs on its own
/// embedded chain, so they share nothing.
pub fn parallelism() -> usize {
    std::env::var("BALLAST_SIM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Runs every job (a strategy over a path), up to `threads` at a time, each on its own chain; the
/// results come back in job order. `progress` hears of each finished job.
///
/// Each of the `threads` workers is an OS thread with a single-threaded runtime of its own, so a
/// simulation and its embedded chain's bank server are one thread: every call to the chain is a local
/// hand-over, not a wake-up of another core (on a shared multi-threaded runtime those wake-ups were a
/// third of the simulator's time).
pub async fn run_jobs<P: SimPath + Send + Sync + 'static>(
    jobs: Vec<(Strategy, std::sync::Arc<P>)>,
    cfg: &SimConfig,
    threads: usize,
    mut progress: impl FnMut(&str),
) -> Result<Vec<StrategyResult>> {
    let n = jobs.len();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(jobs.into_iter().enumerate()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Vec::new();
    for _ in 0..threads.clamp(1, n.max(1)) {
        let (queue, tx, cfg) = (queue.clone(), tx.clone(), cfg.clone());
        workers.push(std::thread::spawn(move || -> Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            loop {
                let next = queue.lock().map_err(|_| anyhow!("simulation queue poisoned"))?.next();
                let Some((i, (strategy, prices))) = next else { return Ok(()) };
                let result = runtime.block_on(run_strategy(strategy, &*prices, &cfg));
                if tx.send((i, result)).is_err() {
                    return Ok(());
                }
            }
        }));
    }
    drop(tx);
    let mut results: Vec<Option<StrategyResult>> = vec![None; n];
    while let Some((i, result)) = rx.recv().await {
        let result: StrategyResult = result?;
        progress(&result.strategy);
        results[i] = Some(result);
    }
    for worker in workers {
        worker.join().map_err(|_| anyhow!("a simulation thread panicked"))??;
    }
    results.into_iter().map(|r| r.ok_or_else(|| anyhow!("a simulation did not run"))).collect()
}

/// Runs every strategy on the same path (in parallel, see [`parallelism`]); fills in the comparison with
/// buy-and-hold when it is present.
pub async fn run<P: SimPath + Clone + Send + Sync + 'static>(
    strategies: &[Strategy],
    prices: &P,
    cfg: &SimConfig,
    progress: impl FnMut(&str),
) -> Result<Vec<StrategyResult>> {
    let path = std::sync::Arc::new(prices.clone());
    let jobs = strategies.iter().map(|s| (*s, path.clone())).collect();
    let mut out = run_jobs(jobs, cfg, parallelism(), progress).await?;
    // With flows the final NAVs hold different net flows: compare what a share became instead.
    let end = |r: &StrategyResult| match cfg.flows {
        Some(_) => r.steps.last().map(|s| s.share_price_usd).unwrap_or(0.0),
        None => r.final_value_usd,
    };
    if let Some(bh) = out.iter().find(|r| r.strategy == Strategy::BuyAndHold.name()).map(end) {
        for r in &mut out {
            r.vs_buy_and_hold_pct = (end(r) / bh - 1.0) * 100.0;
        }
    }
    Ok(out)
}

/// `ballast bench --sim`: the default strategies over one 120-step GBM path of hourly steps, on `threads`
/// simulations at once. Returns (simulated steps, wall seconds).
pub async fn bench(threads: usize) -> Result<(usize, f64)> {
    let prices =
        std::sync::Arc::new(EmaPath::gbm(&[150.0, 60_000.0, 1.0], &[0.0; 3], &[0.8, 0.6, 0.0], 0.6, 120, 3_600.0, 1));
    let jobs = default_strategies().into_iter().map(|s| (s, prices.clone())).collect();
    let started = std::time::Instant::now();
    let results = run_jobs(jobs, &SimConfig::default(), threads, |_| {}).await?;
    let steps = results.iter().map(|r| r.steps.len().saturating_sub(1)).sum();
    Ok((steps, started.elapsed().as_secs_f64()))
}
