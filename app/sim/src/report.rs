//! What a comparison prints and writes: the table, the fees, the flows, the throughput, the EMA guard's summary
//! and the per-step and per-flow CSVs.

use std::io::Write;

use anyhow::Result;

use crate::ema::{Divergence, PYTH_EMA_TAU_SECS};
use crate::StrategyResult;

/// Per strategy: the fees the vault charged over the path and the holders' return after them.
pub fn render_fees(results: &[StrategyResult]) -> String {
    let mut s = format!("{:<16} {:>10} {:>12} {:>16}\n", "strategy", "fees $", "fees bp NAV", "net return %");
    for r in results {
        s.push_str(&format!(
            "{:<16} {:>10.2} {:>12.1} {:>16.3}\n",
            r.strategy, r.fees_usd, r.fees_bps_of_nav, r.net_return_pct
        ));
    }
    s
}

/// Per strategy, with flows (`--flows`): the value that entered and left in one asset, the drift (value out of
/// place, `crate::flows`) the price moves added and the flows and the keeper's trades removed, the flows' share
/// of that removal, what entrants and leavers paid (fee plus trade charge, USD and bps of their flow), and the
/// exits refused as too large: resized (the rest in kind) or wholly in kind.
pub fn render_flows(results: &[StrategyResult]) -> String {
    let mut s = format!(
        "{:<16} {:>10} {:>10} {:>11} {:>10} {:>10} {:>7} {:>10} {:>6} {:>10} {:>6} {:>8} {:>7}\n",
        "strategy",
        "in $",
        "out $",
        "drift $",
        "by flows $",
        "by trades $",
        "flows %",
        "entry paid",
        "bp",
        "exit paid",
        "bp",
        "resized",
        "in kind"
    );
    for r in results {
        let Some(f) = &r.flows else { continue };
        s.push_str(&format!(
            "{:<16} {:>10.0} {:>10.0} {:>11.0} {:>10.0} {:>10.0} {:>7.1} {:>10.2} {:>6.1} {:>10.2} {:>6.1} {:>8} {:>7}\n",
            r.strategy,
            f.deposited_usd,
            f.withdrawn_usd + f.in_kind_usd,
            f.drift_added_usd,
            f.drift_removed_by_flows_usd,
            f.drift_removed_by_trades_usd,
            f.flows_share_pct,
            f.entrants_paid_usd,
            f.entrants_paid_bps,
            f.leavers_paid_usd,
            f.leavers_paid_bps,
            f.exits_resized,
            f.exits_in_kind
        ));
    }
    s
}

/// Every flow of every strategy as CSV (with `--flows`).
pub fn write_flows_csv(path: &std::path::Path, results: &[StrategyResult]) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "strategy,step,kind,asset,value_usd,fee_usd,trade_charge_usd,traded_value_usd,amount,nav_change_usd,resized"
    )?;
    for r in results {
        for x in r.flows.iter().flat_map(|f| &f.records) {
            let asset = x.asset.map(|i| crate::SYMBOLS.get(i).copied().unwrap_or("?")).unwrap_or("");
            writeln!(
                f,
                "{},{},{},{},{:.6},{:.6},{:.6},{:.6},{},{:.6},{}",
                r.strategy,
                x.step,
                x.kind,
                asset,
                x.value_usd,
                x.fee_usd,
                x.trade_charge_usd,
                x.traded_value_usd,
                x.amount,
                x.nav_change_usd,
                u8::from(x.resized)
            )?;
        }
    }
    Ok(())
}

/// The comparison table. `EMA holds`: steps on which the EMA guard refused the crank's poke or held the
/// keeper; `delayed`: steps on which it kept a due rebalance from starting.
pub fn render_table(results: &[StrategyResult]) -> String {
    let mut s = format!(
        "{:<16} {:>10} {:>11} {:>9} {:>9} {:>6} {:>13} {:>9} {:>8} {:>12} {:>9} {:>7}\n",
        "strategy",
        "TE ann.%",
        "cost $",
        "cost bp",
        "turnover",
        "trades",
        "final $",
        "vs B&H %",
        "max DD%",
        "keeper max $",
        "EMA holds",
        "delayed"
    );
    for r in results {
        s.push_str(&format!(
            "{:<16} {:>10.2} {:>11.2} {:>9.2} {:>9.3} {:>6} {:>13.2} {:>+9.3} {:>8.2} {:>12.2} {:>9} {:>7}\n",
            r.strategy,
            r.tracking_error_bps / 100.0,
            r.total_cost_usd,
            r.cost_bps_of_nav,
            r.turnover,
            r.rebalances,
            r.final_value_usd,
            r.vs_buy_and_hold_pct,
            r.max_drawdown_pct,
            r.keeper_max_take_usd,
            r.ema_hold_steps,
            r.ema_delayed_steps
        ));
    }
    s
}

/// One line on the EMA guard: how often the path's prices strayed beyond it (`path`), and what it refused
/// over every strategy's run.
pub fn render_ema_summary(path: &Divergence, results: &[StrategyResult]) -> String {
    let pokes: usize = results.iter().map(|r| r.ema_refused_pokes).sum();
    let holds: usize = results.iter().map(|r| r.ema_keeper_holds).sum();
    let delayed: usize = results.iter().map(|r| r.ema_delayed_steps).sum();
    let most = results.iter().map(|r| r.ema_hold_steps).max().unwrap_or(0);
    format!(
        "EMA guard ({} bps from Pyth's EMA, τ {:.0} s): prices beyond it on {} of {} steps (largest gap {:.0} bps); \
         over {} strategies: pokes refused {pokes}, keeper holds {holds}, rebalance steps delayed {delayed} \
         (most steps held in one strategy: {most})",
        path.max_bps,
        PYTH_EMA_TAU_SECS,
        path.divergent_steps,
        path.steps,
        path.largest_gap_bps,
        results.len()
    )
}

/// Throughput line: simulated steps and rebalance transactions per second of wall time (`secs`).
pub fn render_throughput(results: &[StrategyResult], secs: f64) -> String {
    let steps: usize = results.iter().map(|r| r.steps.len().saturating_sub(1)).sum();
    let trades: usize = results.iter().map(|r| r.rebalances).sum();
    format!(
        "throughput: {steps} simulated steps and {trades} rebalance transactions in {secs:.1} s = {:.1} steps/s \
         on {} threads (each step: oracle update, pool arbitrage, poke, keeper decision and any rebalances)",
        steps as f64 / secs.max(1e-9),
        crate::parallelism()
    )
}

/// Per-step state of every strategy as CSV.
pub fn write_steps_csv(path: &std::path::Path, results: &[StrategyResult]) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "strategy,step,nav_usd,target_nav_usd,w_sol_bps,w_btc_bps,w_usdc_bps,t_sol_bps,t_btc_bps,t_usdc_bps,cum_cost_usd,rebalances,share_price_usd,ema_held")?;
    for r in results {
        for s in &r.steps {
            writeln!(
                f,
                "{},{},{:.6},{:.6},{},{},{},{},{},{},{:.6},{},{:.6},{}",
                r.strategy,
                s.step,
                s.nav_usd,
                s.target_nav_usd,
                s.weights_bps[0],
                s.weights_bps[1],
                s.weights_bps[2],
                s.targets_bps[0],
                s.targets_bps[1],
                s.targets_bps[2],
                s.cum_cost_usd,
                s.rebalances,
                s.share_price_usd,
                u8::from(s.ema_held)
            )?;
        }
    }
    Ok(())
}
