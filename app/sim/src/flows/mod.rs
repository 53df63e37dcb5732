//! Deposits and withdrawals beside the strategies (`ballast simulate --flows`): every step, before the keeper
//! looks, users enter and leave the vault through the real single-asset instructions (`request_deposit` /
//! `request_withdraw`, then `settle_*` after the settlement delay, on the step's prices re-published), and the
//! run counts how much of the rebalancing those flows did for the vault and what they paid for it.
//!
//! **The draws.** Each step makes `per_step` flows, each an exit with probability `exit_share` (else an
//! entry) of `rate_pct / per_step` % of the NAV times an exponential factor of mean 1 (so the step's expected
//! gross flow is `rate_pct` % of the NAV, with the occasional large ticket), at most a quarter of the NAV. The draws of step `k` come from a
//! stream of their own (`seed`, `k`): every strategy sees the same tickets, whatever it did before.
//!
//! **The asset** ([`AssetPick`]): the stablecoin (users who hold and want cash), the *smart* asset (an entry in
//! the most underweight asset, an exit in the most overweight one: the pick the vault charges nothing extra
//! for, `trade_cost_bps` applies only to the value a flow makes the vault trade back to target), a uniformly
//! random asset, or the default `mixed`: half the users move the stablecoin, half make the smart pick.
//!
//! **Refusals.** An exit that would leave its asset more than one max-size trade below target is refused
//! (`WithdrawalTooLarge`); the leaver then asks again for what fits, the most `math::exit::largest_exit_value`
//! (the program's own bound) allows, less 2 %, and takes the rest of their shares in kind (`withdraw`), or
//! everything in kind when nothing fits. Both are counted ([`FlowSummary::exits_resized`], `exits_in_kind`).
//!
//! **Drift.** The vault's drift is the value out of place, `½·Σ|vᵢ − tᵢ·NAV|` (the least it must trade to be
//! at target), taken at mid prices with the targets in force. A phase of a step (the price move, the flows, the
//! keeper's trades) removes the fall of that drift *as a share of NAV* over the phase, valued at the NAV when
//! the phase starts: an in-kind exit or a pro-rata deposit changes no weight and removes nothing.

mod settle;

use ballast_harness::fixture::Report;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub(crate) use settle::{At, Flows};

/// Mixed into the run's seed for the flows' random stream ("FLOWS!!!").
const FLOW_STREAM: u64 = 0x464c_4f57_5321_2121;
/// Vault index of the stablecoin (USDC in [`crate::SYMBOLS`]).
pub const STABLE_INDEX: usize = 2;
/// Tickets worth less than this (USD) are not sent.
const MIN_TICKET_USD: f64 = 1.0;
/// No ticket is worth more than this share of the NAV (no single user holds more of the vault).
const MAX_TICKET_NAV: f64 = 0.25;

/// Which asset a user enters or leaves in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AssetPick {
    /// The stablecoin, both ways.
    Stable,
    /// Entries in the most underweight asset, exits in the most overweight one.
    Smart,
    /// Any asset, uniformly.
    Random,
    /// Half the users [`AssetPick::Stable`], half [`AssetPick::Smart`].
    Mixed,
}

impl AssetPick {
    pub fn name(&self) -> &'static str {
        match self {
            AssetPick::Stable => "stable",
            AssetPick::Smart => "smart",
            AssetPick::Random => "random",
            AssetPick::Mixed => "mixed",
        }
    }

    /// The asset of a ticket (`exit` or entry) on the vault `r`, from two uniform draws.
    fn pick(&self, exit: bool, r: &Report, u_pick: f64, u_asset: f64) -> usize {
        let n = r.values.len();
        match self {
            AssetPick::Stable => STABLE_INDEX.min(n - 1),
            AssetPick::Smart => smart_asset(r, exit),
            AssetPick::Random => ((u_asset * n as f64) as usize).min(n - 1),
            AssetPick::Mixed if u_pick < 0.5 => STABLE_INDEX.min(n - 1),
            AssetPick::Mixed => smart_asset(r, exit),
        }
    }
}

/// The most overweight asset for an exit, the most underweight one for an entry (value against target·NAV).
fn smart_asset(r: &Report, exit: bool) -> usize {
    let gap = |i: usize| {
        let over = r.values[i] as f64 - r.targets_bps[i] as f64 / 10_000.0 * r.nav as f64;
        if exit {
            over
        } else {
            -over
        }
    };
    (0..r.values.len()).max_by(|a, b| gap(*a).total_cmp(&gap(*b))).unwrap_or(0)
}

/// How users flow in and out (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FlowConfig {
    /// Expected gross flow a step (entries and exits together), % of NAV.
    pub rate_pct: f64,
    /// Tickets a step.
    pub per_step: usize,
    /// Share of the tickets that are exits (0 to 1).
    pub exit_share: f64,
    pub pick: AssetPick,
    pub seed: u64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self { rate_pct: 1.0, per_step: 2, exit_share: 0.5, pick: AssetPick::Mixed, seed: 1 }
    }
}

/// One drawn ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ticket {
    pub(crate) exit: bool,
    pub(crate) asset: usize,
    pub(crate) usd: f64,
}

impl FlowConfig {
    /// The random stream of step `k`'s tickets.
    fn stream(&self, k: usize) -> StdRng {
        StdRng::seed_from_u64(self.seed ^ FLOW_STREAM ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// The next ticket of a step's stream, for the vault as it is now (`r`); `None` for a dust ticket. Every
    /// ticket takes four draws, whatever it uses, so a strategy's picks never shift another's stream.
    fn ticket(&self, rng: &mut StdRng, r: &Report) -> Option<Ticket> {
        let (u_kind, u_size, u_pick, u_asset): (f64, f64, f64, f64) = (rng.gen(), rng.gen(), rng.gen(), rng.gen());
        let exit = u_kind < self.exit_share;
        let nav = r.nav as f64 / 1e6;
        let mean = self.rate_pct / 100.0 * nav / self.per_step.max(1) as f64;
        let usd = (-(1.0 - u_size).ln() * mean).min(MAX_TICKET_NAV * nav);
        (usd >= MIN_TICKET_USD).then(|| Ticket { exit, asset: self.pick.pick(exit, r, u_pick, u_asset), usd })
    }
}

/// The value out of place as a share of NAV: `½·Σ|vᵢ − tᵢ·NAV| / NAV`, and the NAV (USD).
pub(crate) fn drift(r: &Report) -> (f64, f64) {
    let nav = r.nav as f64;
    // The program's own sum of absolute drifts (exact, micro-USD).
    let out = ballast::math::total_abs_drift_value(&r.values, &r.targets_bps).unwrap_or(0) as f64;
    (if nav > 0.0 { out / 2.0 / nav } else { 0.0 }, nav / 1e6)
}

/// One settled single-asset flow, or an in-kind exit, as the settlement reported it (USD at micro-USD
/// precision).
#[derive(Debug, Clone, Serialize)]
pub struct FlowRecord {
    pub step: usize,
    /// `deposit`, `exit` or `in-kind`.
    pub kind: &'static str,
    /// The asset paid in or out (none in kind).
    pub asset: Option<usize>,
    /// The value the settlement priced (deposit: the deposit; exit: the shares), before the charges.
    pub value_usd: f64,
    pub fee_usd: f64,
    pub trade_charge_usd: f64,
    /// Value the flow makes the vault trade back (the charge is `trade_cost_bps` of it).
    pub traded_value_usd: f64,
    /// Base units deposited or paid out (in kind: shares burned).
    pub amount: u64,
    /// What the flow added to (deposit) or took from (exit) the vault at mid prices.
    pub nav_change_usd: f64,
    /// An exit asked again smaller after `WithdrawalTooLarge`.
    pub resized: bool,
}

/// What the flows did over a run (`StrategyResult::flows`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowSummary {
    pub deposits: usize,
    pub exits: usize,
    /// Value priced at settlement (USD): entries and single-asset exits.
    pub deposited_usd: f64,
    pub withdrawn_usd: f64,
    /// What entrants paid: the fee and the trade charge kept by the vault (USD, and bps of `deposited_usd`).
    pub entrants_fees_usd: f64,
    pub entrants_trade_charges_usd: f64,
    pub entrants_paid_usd: f64,
    pub entrants_paid_bps: f64,
    /// The same for leavers (single-asset exits; in-kind exits pay no single-asset fee).
    pub leavers_fees_usd: f64,
    pub leavers_trade_charges_usd: f64,
    pub leavers_paid_usd: f64,
    pub leavers_paid_bps: f64,
    /// Exits refused with `WithdrawalTooLarge` and asked again for what fits (the rest in kind), exits taken
    /// wholly in kind (nothing fitted), and their in-kind value at mid (USD).
    pub exits_resized: usize,
    pub exits_in_kind: usize,
    pub in_kind_usd: f64,
    /// Requests or settlements refused for any other reason (the ticket dropped), and by error.
    pub refused: usize,
    pub refused_by: std::collections::BTreeMap<String, usize>,
    /// Drift (value out of place, module documentation) the price moves added (with the targets they move:
    /// CPPI), and what the flows and the keeper's trades removed, summed over the steps (USD; negative when
    /// they added drift on balance); the flows' share of the removal, `flows / (flows + trades)` with a side
    /// that added drift counted as 0 (%).
    pub drift_added_usd: f64,
    pub drift_removed_by_flows_usd: f64,
    pub drift_removed_by_trades_usd: f64,
    pub flows_share_pct: f64,
    #[serde(skip)]
    pub records: Vec<FlowRecord>,
}

impl FlowSummary {
    /// Adds a record to the totals.
    fn add(&mut self, rec: FlowRecord) {
        let paid = rec.fee_usd + rec.trade_charge_usd;
        match rec.kind {
            "deposit" => {
                self.deposits += 1;
                self.deposited_usd += rec.value_usd;
                self.entrants_fees_usd += rec.fee_usd;
                self.entrants_trade_charges_usd += rec.trade_charge_usd;
                self.entrants_paid_usd += paid;
            }
            "exit" => {
                self.exits += 1;
                self.withdrawn_usd += rec.value_usd;
                self.leavers_fees_usd += rec.fee_usd;
                self.leavers_trade_charges_usd += rec.trade_charge_usd;
                self.leavers_paid_usd += paid;
            }
            _ => self.in_kind_usd += -rec.nav_change_usd,
        }
        self.records.push(rec);
    }

    /// The ratios, once the run is over.
    pub(crate) fn finish(&mut self) {
        let bps = |paid: f64, of: f64| if of > 0.0 { paid / of * 10_000.0 } else { 0.0 };
        self.entrants_paid_bps = bps(self.entrants_paid_usd, self.deposited_usd);
        self.leavers_paid_bps = bps(self.leavers_paid_usd, self.withdrawn_usd);
        // A side that added drift on balance did none of the removing.
        let (flows, trades) = (self.drift_removed_by_flows_usd.max(0.0), self.drift_removed_by_trades_usd.max(0.0));
        self.flows_share_pct = if flows + trades > 0.0 { flows / (flows + trades) * 100.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod chain_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn report(values: [u128; 3]) -> Report {
        let nav = values.iter().sum();
        Report {
            symbols: vec![],
            holdings: vec![],
            prices: vec![],
            values: values.to_vec(),
            weights_bps: vec![],
            targets_bps: vec![4_000, 3_000, 3_000],
            bands_bps: vec![],
            drift_bps: vec![],
            max_abs_drift_bps: 0,
            nav,
            share_supply: 1,
        }
    }

    #[test]
    fn drift_is_the_value_out_of_place_and_the_smart_pick_reduces_it() {
        // $100: SOL $50 (target $40), BTC $30, USDC $20 (target $30): $10 out of place.
        let r = report([50_000_000, 30_000_000, 20_000_000]);
        let (m, nav) = drift(&r);
        assert!((m - 0.10).abs() < 1e-12 && (nav - 100.0).abs() < 1e-12);
        assert_eq!(smart_asset(&r, false), 2, "enter in the underweight USDC");
        assert_eq!(smart_asset(&r, true), 0, "leave in the overweight SOL");
        assert_eq!(AssetPick::Stable.pick(true, &r, 0.9, 0.9), STABLE_INDEX);
        assert_eq!(AssetPick::Mixed.pick(true, &r, 0.9, 0.0), 0);
        assert_eq!(AssetPick::Mixed.pick(true, &r, 0.1, 0.0), STABLE_INDEX);
        assert_eq!(AssetPick::Random.pick(true, &r, 0.0, 0.99), 2);
        // At target nothing is out of place.
        assert_eq!(drift(&report([40_000_000, 30_000_000, 30_000_000])).0, 0.0);
    }

    #[test]
    fn a_steps_tickets_are_the_same_whatever_came_before() {
        let cfg = FlowConfig { rate_pct: 2.0, per_step: 3, ..Default::default() };
        let r = report([40_000_000_000, 30_000_000_000, 30_000_000_000]);
        let draw = |k| {
            let mut rng = cfg.stream(k);
            (0..3).map(|_| cfg.ticket(&mut rng, &r)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        // The mean ticket over many steps is rate / per_step of the NAV ($100 000 · 2 % / 3).
        let n = 4_000;
        let total: f64 = (0..n).flat_map(draw).flatten().map(|t| t.usd).sum();
        let mean = total / (3 * n) as f64;
        assert!((mean / 666.67 - 1.0).abs() < 0.05, "{mean}");
    }
}
