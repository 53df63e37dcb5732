//! One strategy's simulation step by step: the market and vault on a fresh chain, each step's prices and
//! Pyth EMAs published, the arbitrageur's trades and the crank's poke, the shipped keeper's planner trading,
//! and the running totals (costs, trades, the EMA guard's refusals).

use anyhow::{anyhow, Result};
use ballast_client::planner::Hold;
use ballast_harness::chain::{error_name, Chain};
use ballast_harness::dex::AnyPool;
use ballast_harness::fixture::{Report, Turn, User, VaultFixture};

use crate::ema;
use crate::flows::{At, Flows};
use crate::paths::Path2;
use crate::{market_with_holder, summarise, SimConfig, StepRecord, Strategy, StrategyResult, EMA_REFUSAL};

/// Running totals of one strategy's simulation.
#[derive(Default)]
pub(crate) struct Totals {
    /// Execution cost so far (USD at the step's prices).
    pub(crate) cost: f64,
    /// Value traded so far (USD).
    pub(crate) traded: f64,
    pub(crate) rebalances: usize,
    pub(crate) refused: usize,
    /// What keepers could have kept: the auction's discount at each trade plus the bounty (USD).
    pub(crate) max_take: f64,
    /// The EMA guard's refusals, as [`StrategyResult`]'s `ema_*` fields.
    pub(crate) ema_refused_pokes: usize,
    pub(crate) ema_keeper_holds: usize,
    pub(crate) ema_hold_steps: usize,
    pub(crate) ema_delayed_steps: usize,
}

/// Compute units each step's arbitrage-and-poke transaction asks for (plus the step number modulo 100 000,
/// which makes every poke a new message: see [`Chain::slots_follow_time`]).
const POKE_CU_LIMIT: u32 = 200_000;

/// NAV per share outstanding (fee shares owed included), USD.
fn share_price(r: &Report) -> f64 {
    r.nav as f64 / r.share_supply.max(1) as f64
}

/// One strategy's simulation under way: its chain, vault, pools and keeper, and what it recorded.
pub(crate) struct Run<'a> {
    chain: Chain,
    fx: VaultFixture,
    pools: Vec<AnyPool>,
    keeper: User,
    strategy: Strategy,
    cfg: &'a SimConfig,
    totals: Totals,
    steps: Vec<StepRecord>,
    /// The frictionless portfolio held at the targets in force, and those targets.
    target_nav: f64,
    targets: Vec<u16>,
    /// Users entering and leaving each step (`SimConfig::flows`).
    flows: Option<Flows>,
}

impl<'a> Run<'a> {
    /// The market and the vault at the `start` prices; the first record.
    pub(crate) async fn start(strategy: Strategy, start: &[f64], cfg: &'a SimConfig) -> Result<(Run<'a>, Report)> {
        let mut chain = Chain::start().await;
        // No slot-based parameter is in play here (cooldown 0, no schedule): the clock's time moves, the slot
        // only when a message repeats (each step's poke names its own compute-unit limit, so it does not).
        chain.slots_follow_time = false;
        let (fx, pools, holder) = market_with_holder(&mut chain, &strategy, start, cfg).await?;
        let keeper = fx.user(&mut chain, &[0, 0, 0]).await?;
        let flows = match cfg.flows {
            Some(flow_cfg) => Some(Flows::new(flow_cfg, holder, &mut chain, &fx).await?),
            None => None,
        };
        let r0 = fx.report(&mut chain).await?;
        let (target_nav, targets) = (r0.nav as f64 / 1e6, r0.targets_bps.clone());
        let mut run = Run {
            chain,
            fx,
            pools,
            keeper,
            strategy,
            cfg,
            totals: Totals::default(),
            steps: Vec::new(),
            target_nav,
            targets,
            flows,
        };
        run.record(0, &r0, false, 0.0);
        Ok((run, r0))
    }

    fn record(&mut self, step: usize, r: &Report, ema_held: bool, flow_usd: f64) {
        self.targets = r.targets_bps.clone();
        self.steps.push(StepRecord {
            step,
            nav_usd: r.nav as f64 / 1e6,
            target_nav_usd: self.target_nav,
            weights_bps: r.weights_bps.clone(),
            targets_bps: self.targets.clone(),
            cum_cost_usd: self.totals.cost,
            rebalances: self.totals.rebalances,
            share_price_usd: share_price(r),
            ema_held,
            flow_usd,
        });
    }

    /// Step `k`: the clock moves a step, the step's prices and EMAs are published, the arbitrageur trades and
    /// the crank pokes, users enter and leave (with flows), the keeper acts if the strategy trades at this step.
    pub(crate) async fn step(&mut self, k: usize, prices: &Path2, emas: &Path2) -> Result<()> {
        self.chain.advance_time(self.cfg.dt_secs).await;
        ema::publish(&mut self.chain, &self.fx, &prices[k], &emas[k]).await;
        let poked = self.arbitrage_and_poke(k).await?;
        // The frictionless target portfolio earns the targets in force over the step, and receives the flows.
        let growth: f64 = (0..3).map(|i| self.targets[i] as f64 / 10_000.0 * prices[k][i] / prices[k - 1][i]).sum();
        self.target_nav *= growth;
        let flow_usd = match &mut self.flows {
            Some(flows) => flows.step(&mut self.chain, &self.fx, At { k, prices: &prices[k], emas: &emas[k] }).await?,
            None => 0.0,
        };
        self.target_nav += flow_usd;
        let delayed = self.strategy.trades_at(k)
            && keep(&mut self.chain, &self.fx, &self.keeper, &prices[k], self.cfg, &mut self.totals).await;
        let held = delayed || !poked;
        self.totals.ema_hold_steps += usize::from(held);
        self.totals.ema_delayed_steps += usize::from(delayed);
        let r = self.fx.report(&mut self.chain).await?;
        if let Some(flows) = &mut self.flows {
            flows.after_keeper(&r);
        }
        self.record(k, &r, held, flow_usd);
        Ok(())
    }

    /// The arbitrageur's trades, then the crank's poke, in one transaction. When the EMA guard refuses the
    /// poke (it would open the auction on a price too far from its EMA), the trades go alone and the step
    /// goes on as a hold. Whether the poke went through.
    async fn arbitrage_and_poke(&mut self, k: usize) -> Result<bool> {
        let (chain, fx) = (&mut self.chain, &self.fx);
        let mut ixs = fx.arbitrage_pools(chain, &self.pools).await?;
        let arbitrage = !ixs.is_empty();
        ixs.push(ballast_harness::dex::raydium::budget(POKE_CU_LIMIT + (k % 100_000) as u32));
        let vault = fx.state(chain).await;
        let poke = ballast_client::poke(&fx.key, &vault);
        match chain.send(&[ixs.as_slice(), &[poke]].concat(), &[]).await {
            Ok(()) => Ok(true),
            Err(e) if error_name(&e) == EMA_REFUSAL => {
                self.totals.ema_refused_pokes += 1;
                if arbitrage {
                    chain.send(&ixs, &[]).await.map_err(|e| anyhow!("arbitrage: {}", error_name(&e)))?;
                }
                Ok(false)
            }
            Err(e) => Err(anyhow!("arbitrage and poke: {}", error_name(&e))),
        }
    }

    /// The result: the path's metrics and the vault's fees.
    pub(crate) async fn finish(mut self, r0: &Report) -> Result<StrategyResult> {
        let end = self.fx.report(&mut self.chain).await?;
        let fee_state = self.fx.state(&mut self.chain).await.fees;
        let mut result = summarise(self.strategy, self.steps, &self.totals, self.cfg.dt_secs);
        let fee_shares = fee_state.management_total + fee_state.performance_total;
        result.fees_usd = fee_shares as f64 * share_price(&end) / 1e6;
        let avg_nav = result.steps.iter().map(|s| s.nav_usd).sum::<f64>() / result.steps.len().max(1) as f64;
        result.fees_bps_of_nav = result.fees_usd / avg_nav * 10_000.0;
        result.net_return_pct = (share_price(&end) / share_price(r0) - 1.0) * 100.0;
        result.flows = self.flows.map(Flows::finish);
        Ok(result)
    }
}

/// The shipped keeper's planner, reading the embedded chain, at one step (prices `now`): the poke opened the
/// auction if an asset left its band; the keeper waits for the auction's price to reach the pool's (the
/// clock moves on a few seconds) and trades, up to `max_trades_per_step` times. Whether the EMA guard held
/// it (the planner's `Hold::EmaDivergence`, or the program's `OracleDivergence`): a due rebalance delayed.
async fn keep(
    chain: &mut Chain,
    fx: &VaultFixture,
    keeper: &User,
    now: &[f64],
    cfg: &SimConfig,
    totals: &mut Totals,
) -> bool {
    let unit = |i: usize| now[i] / 10f64.powi(fx.assets[i].spec.decimals as i32);
    let mut trades = 0;
    for _ in 0..(4 * cfg.max_trades_per_step + 4) {
        if trades >= cfg.max_trades_per_step {
            break;
        }
        let before = fx.holdings(chain).await;
        let keeper_before = chain.token_amounts(&keeper.tokens).await;
        let turn = match fx.keeper_turn(chain, cfg.route, &keeper.keypair, &keeper.tokens).await {
            Ok(turn) => turn,
            Err(e) if error_name(&e) == EMA_REFUSAL => Turn::Held(Hold::EmaDivergence { asset: 0 }),
            Err(_) => {
                totals.refused += 1;
                break;
            }
        };
        let candidate = match turn {
            Turn::Traded(c) => c,
            Turn::Held(Hold::EmaDivergence { .. }) => {
                totals.ema_keeper_holds += 1;
                return true;
            }
            Turn::Held(_) => break,
            Turn::Poked(_) | Turn::Waited(_) | Turn::CooledDown => continue,
        };
        let (request, plan) = (candidate.request, candidate.plan);
        let after = fx.holdings(chain).await;
        let sold = (before[request.sell] - after[request.sell]) as f64 * unit(request.sell);
        let bought = (after[request.buy] - before[request.buy]) as f64 * unit(request.buy);
        totals.cost += sold - bought;
        totals.traded += plan.amount_in as f64 * unit(request.sell);
        let bounty_usd = (chain.token_amount(&keeper.tokens[request.sell]).await as f64
            - keeper_before[request.sell] as f64)
            * unit(request.sell);
        // What a keeper could have kept: the auction's discount at the time of the trade, plus the bounty.
        totals.max_take += (plan.fair_out - plan.floor_out) as f64 * unit(request.buy) + bounty_usd;
        totals.rebalances += 1;
        trades += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::{run_strategy, EmaPath, SimConfig, Strategy};

    /// SOL jumps by `factor` at step 1 with its EMA still at the old price (the guard refuses), and the EMA
    /// has caught up at step 2.
    fn jump_with_lagging_ema(factor: f64) -> EmaPath {
        let (before, after) = (vec![150.0, 60_000.0, 1.0], vec![150.0 * factor, 60_000.0, 1.0]);
        let prices = vec![before.clone(), after.clone(), after.clone(), after.clone()];
        let emas = vec![before.clone(), before, after.clone(), after];
        EmaPath { prices, emas }
    }

    #[tokio::test]
    async fn a_refused_poke_is_a_hold_and_the_rebalance_follows_once_the_ema_agrees() {
        let path = jump_with_lagging_ema(1.1);
        assert_eq!(crate::ema::divergence(&path, 86_400, 300).divergent_steps, 1);
        let cfg = SimConfig { dt_secs: 86_400, ..Default::default() };
        let band = run_strategy(Strategy::Band { eps_bps: 200 }, &path, &cfg).await.unwrap();
        assert_eq!((band.ema_refused_pokes, band.ema_keeper_holds), (1, 1));
        assert_eq!((band.ema_hold_steps, band.ema_delayed_steps), (1, 1));
        assert!(band.steps[1].ema_held && !band.steps[2].ema_held);
        assert_eq!(band.steps[1].rebalances, 0, "no trade while the EMA disagrees");
        assert!(band.steps[2].rebalances > 0, "the rebalance a step later");
        let hold = run_strategy(Strategy::BuyAndHold, &path, &cfg).await.unwrap();
        assert_eq!((hold.ema_refused_pokes, hold.ema_keeper_holds, hold.ema_delayed_steps), (1, 0, 0));
        let flat = EmaPath::flat(path.prices.clone());
        let unguarded = run_strategy(Strategy::Band { eps_bps: 200 }, &flat, &cfg).await.unwrap();
        assert_eq!((unguarded.ema_hold_steps, unguarded.steps[1].rebalances > 0), (0, true));
    }

    #[tokio::test]
    async fn the_keeper_competition_goes_on_past_a_refused_poke() {
        // (+40 %: out of the competition's 5 % bands.)
        let path = jump_with_lagging_ema(1.4);
        let cfg = SimConfig { dt_secs: 86_400, ..Default::default() };
        let c = crate::competition::run(&path, &cfg, crate::competition::default_keepers(2)).await.unwrap();
        assert_eq!(c.ema_refused_pokes, 1);
        assert!(c.trades.iter().all(|t| t.step >= 2) && !c.trades.is_empty(), "{:?}", c.trades);
    }
}
