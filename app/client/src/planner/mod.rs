//! The one off-chain rebalance planner, used by the shipped keeper (over JSON-RPC), the simulator, the
//! demo and the tests (over the embedded chain): read a vault through a [`ChainView`], value it once,
//! plan every whitelisted route in both directions with the program's own `math::rebalance::plan`, quote
//! each with [`AmmQuote`] (mirroring the program's AMM adapters), and pick the trade that removes the
//! most drift. The program's own state transitions (oracle readings observed, a finished schedule applied,
//! the CPPI floor ratcheted) are replayed on a copy of the vault, so the targets and bands planned against
//! are the ones the program will enforce.
//!
//! The floor is an auction (`math::auction`): a trade is possible only once the auction's price has fallen
//! to what a route pays. So the decision is typed: trade now, wait until a given time, poke to open (or
//! close) the auction, or hold with the reason.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, Result};
use ballast::math::auction::{AuctionPoint, AuctionView};
use ballast::math::rebalance::{AssetLimits, RebalancePlan, Refusal, TradePolicy, TradeRequest};

use ballast::math::{self, AssetPosition, OracleReading, PriceBounds, Rounding};
use ballast::state::Vault;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::decode;
use crate::dex;

mod prices;
mod routes;
pub use prices::{pool_usd_price, pool_usd_prices, usd_f64, PoolUsdPrice};
use routes::PoolDraft;
pub use routes::{pair_prices, AmmQuote, Route};

/// Reads accounts: an RPC endpoint (the keeper) or the embedded chain (harness, simulator, tests).
#[allow(async_fn_in_trait)]
pub trait ChainView {
    /// The accounts at `keys`, in order (`None` where there is none).
    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<solana_account::Account>>>;
    /// The slot a transaction sent now would land in (about).
    async fn slot(&mut self) -> Result<u64>;
    /// The accounts `program` owns whose data holds each `(offset, bytes)` of `matching`
    /// (`getProgramAccounts` with `memcmp` filters).
    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        matching: &[(usize, &[u8])],
    ) -> Result<Vec<(Pubkey, solana_account::Account)>>;
}

/// Vault state as a keeper sees it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub vault: Vault,
    pub readings: Vec<OracleReading>,
    /// Reserve balances as read (owed and escrowed amounts included).
    pub balances: Vec<u64>,
    /// Shares outstanding as the program will count them now: minted, owed to the fee recipients, and the
    /// management fee accrued since the last accrual (scales a CPPI floor; prices a share). And the slot the
    /// trade would land in.
    pub supply: u64,
    pub slot: u64,
    /// The cluster's unix time (the Clock sysvar read with the accounts): the auction's price follows it.
    pub now: i64,
}

/// A snapshot valued once: prices, the holders' positions at mid, the targets and bands in force.
#[derive(Debug, Clone)]
pub struct Valuation {
    pub bounds: Vec<PriceBounds>,
    pub positions: Vec<AssetPosition>,
    pub limits: Vec<AssetLimits>,
    pub values: Vec<u128>,
    pub nav: u128,
}

impl Valuation {
    pub fn targets(&self) -> Vec<u16> {
        self.limits.iter().map(|l| l.target_bps).collect()
    }

    pub fn bands(&self) -> Vec<u16> {
        self.limits.iter().map(|l| l.band_bps).collect()
    }

    /// Largest |weight − target| in bps.
    pub fn max_abs_drift_bps(&self) -> Result<u64> {
        let w = math::weights_bps(&self.values).map_err(|e| anyhow!("{e:?}"))?;
        let d = math::drift_bps(&w, &self.targets()).map_err(|e| anyhow!("{e:?}"))?;
        Ok(math::max_abs_drift_bps(&d))
    }
}

impl Snapshot {
    pub fn policy(&self) -> TradePolicy {
        self.vault.params.trade_policy()
    }

    /// Prices, positions (the holders' balances at mid), and the targets and bands the program will use:
    /// the vault state is advanced exactly as the program advances it, then asked.
    pub fn value(&self) -> Result<Valuation> {
        let bounds = self
            .readings
            .iter()
            .enumerate()
            .map(|(i, r)| r.bounds().map_err(|e| anyhow!("price of asset {i}: {e:?}")))
            .collect::<Result<Vec<_>>>()?;
        let positions: Vec<AssetPosition> = self
            .vault
            .assets
            .iter()
            .zip(&self.balances)
            .zip(&bounds)
            .map(|((a, bal), b)| AssetPosition {
                balance: a.available(*bal, self.now).unwrap_or(0),
                decimals: a.decimals,
                price: b.mid,
            })
            .collect();
        let values = math::position_values(&positions, Rounding::Floor).map_err(|e| anyhow!("{e:?}"))?;
        let nav = math::total_value(&values).map_err(|e| anyhow!("{e:?}"))?;
        let mut vault = self.vault.clone();
        vault.observe_all(&self.readings).map_err(|e| anyhow!("{e:?}"))?;
        let limits =
            vault.prepare_rebalance(&self.readings, nav, self.supply, self.slot).map_err(|e| anyhow!("{e:?}"))?;
        Ok(Valuation { bounds, positions, limits, values, nav })
    }
}

/// A trade worth considering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What to send: the amount is the program's clamp, `min_out` the keeper's (tightened) minimum.
    pub request: TradeRequest,
    pub plan: RebalancePlan,
    pub route: Route,
    /// What the route is expected to pay for `plan.amount_in`.
    pub expected_out: u64,
    /// Reduction of Σ|value − target| (micro-USD) if the route pays `expected_out`.
    pub drift_reduction: u128,
    /// Execution cost: trade value minus the value received, at mid prices (micro-USD).
    pub execution_cost: i128,
    /// Bounty the program will pay for that drift reduction (micro-USD).
    pub bounty_value: u128,
    /// Unix time from which the auction's price is at or below `expected_out` (the route clears).
    pub clears_at: i64,
}

/// Why nothing is done now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Every asset is inside its band (and no auction is open).
    InsideBands,
    /// A trade is needed but no route clears the program's floor, even at the end of the auction.
    NoRoute(Vec<Dropped>),
    /// A trade is needed but the rebalance cooldown runs until this slot.
    Cooldown { until_slot: u64 },
    /// A trade is needed but no auction is running, and asset `asset`'s price is further than
    /// `max_ema_divergence_bps` from its EMA: the auction opens once the EMA follows (`OracleDivergence`).
    EmaDivergence { asset: usize },
}

/// A route and direction the planner left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub sell: usize,
    pub buy: usize,
    pub why: DropReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// The program would refuse the trade (the same refusal it returns on chain).
    Refused(Refusal),
    /// The route pays less than the auction's floor will ever be.
    BelowFloor { pays: u64, floor: u64 },
}

/// Why a `poke` is the useful transaction now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PokeReason {
    /// An asset is out of its band and no auction is open: `poke` opens it.
    OpenAuction,
    /// An asset is out of its band and the open auction went stale (not seen out of band within its
    /// heartbeat): `poke` restarts it at fair value.
    RestartAuction,
    /// The auction is running and half its heartbeat has passed since it was last seen out of band: `poke`
    /// renews it, so that its price keeps relaxing towards the routes' prices.
    RenewAuction,
    /// Every asset is back inside its band but the auction is still open: `poke` closes it, so that a later
    /// excursion starts again from fair value.
    CloseAuction,
}

/// What to do with one vault now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing worth doing.
    Hold(Hold),
    /// Send `poke`.
    Poke(PokeReason),
    /// The auction is open but its price is still above what the whitelisted routes pay: the first of them
    /// clears at unix time `at`. The candidate (the trade that removes most drift) is priced at the
    /// auction's current floor (a route that pays more than the whitelisted pool may take it now).
    Wait {
        at: i64,
        candidate: Box<Candidate>,
    },
    Trade(Box<Candidate>),
}

/// The keeper's own minimum output: 0.5 % under the route's expected output, never below the floor.
pub fn keeper_min_out(plan: &RebalancePlan, expected_out: u64) -> u64 {
    plan.min_out.max(expected_out - expected_out / 200)
}

/// Every route planned in both directions at the auction's current price (at fair value when no auction
/// is open), with the route's expected output; and why the others were dropped. A candidate whose route
/// does not yet pay the current floor is kept when it will once the auction falls further
/// ([`Candidate::clears_at`]).
pub fn candidates(snap: &Snapshot, val: &Valuation, routes: &[Route]) -> Result<(Vec<Candidate>, Vec<Dropped>)> {
    let policy = snap.policy();
    let auction = policy.auction();
    let point = snap.vault.auction_point(snap.now).unwrap_or(AuctionPoint::START);
    let positions = &val.positions;
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    for route in routes {
        for (from, to) in [(0, 1), (1, 0)] {
            let (sell, buy) = (route.sides[from].0, route.sides[to].0);
            let request = TradeRequest { sell, buy, amount_in: positions[sell].balance, min_out: 0 };
            // The program's own effects, replayed at the auction's current price.
            let pools = pair_prices(&snap.vault, routes, sell, buy);
            let effects =
                match snap.vault.rebalance_effects(positions, &val.bounds, &val.limits, &request, point, &pools) {
                    Ok(e) => e,
                    Err(r) => {
                        dropped.push(Dropped { sell, buy, why: DropReason::Refused(r) });
                        continue;
                    }
                };
            let plan = effects.plan;
            let expected_out = route.quote(sell, plan.amount_in).unwrap_or(0);
            let clears_after = auction.secs_until(plan.fair_out, expected_out).map_err(|e| anyhow!("{e:?}"))?;
            let Some(clears_after) = clears_after else {
                let floor = auction.min_out(plan.fair_out, u64::MAX).map_err(|e| anyhow!("{e:?}"))?;
                dropped.push(Dropped { sell, buy, why: DropReason::BelowFloor { pays: expected_out, floor } });
                continue;
            };
            let done = effects
                .complete(
                    positions,
                    val.bounds[sell].high,
                    &val.limits,
                    &policy,
                    expected_out,
                    snap.vault.episode_bounty_paid,
                )
                .map_err(|e| anyhow!("{e:?}"))?;
            let value = |amount: u64, i: usize| {
                math::value_of(amount, positions[i].decimals, positions[i].price, Rounding::Floor).unwrap_or(0)
            };
            let started = if point == AuctionPoint::START { snap.now } else { snap.vault.auction_started_at };
            out.push(Candidate {
                request: TradeRequest {
                    amount_in: plan.amount_in,
                    min_out: keeper_min_out(&plan, expected_out),
                    ..request
                },
                plan,
                route: route.clone(),
                expected_out,
                drift_reduction: effects.drift_before.saturating_sub(done.drift_after),
                execution_cost: value(plan.amount_in, sell) as i128 - value(expected_out, buy) as i128,
                bounty_value: done.bounty_value,
                clears_at: started.saturating_add(i64::try_from(clears_after).unwrap_or(i64::MAX)),
            });
        }
    }
    Ok((out, dropped))
}

/// Whether the running auction should be renewed now (`poke`): half its heartbeat has passed since the
/// vault was last seen out of band, so the next look might find it stale (restarted at fair value).
pub fn needs_renewal(vault: &Vault, now: i64) -> bool {
    let half = (vault.params.auction_heartbeat_secs / 2).max(1) as i64;
    vault.auction_started_at != 0 && now.saturating_sub(vault.auction_seen_at) >= half
}

/// What to do now: the trade that removes the most drift among those whose route clears the auction's
/// current price; otherwise wait for the first to clear (renewing the auction with `poke` every half
/// heartbeat), poke to open, restart or close the auction, or hold.
pub fn decide(snap: &Snapshot, val: &Valuation, routes: &[Route]) -> Result<Decision> {
    let inside = math::rebalance::all_inside(&val.values, &val.limits).map_err(|e| anyhow!("{e:?}"))?;
    let view = snap.vault.auction_view(snap.now);
    if inside {
        return Ok(if view == AuctionView::Closed {
            Decision::Hold(Hold::InsideBands)
        } else {
            Decision::Poke(PokeReason::CloseAuction)
        });
    }
    if !matches!(view, AuctionView::Running(_)) {
        // Opening (or restarting) the auction needs every price to agree with its EMA: the program refuses
        // a poke that would open it on a print the EMA has not followed.
        let max = snap.vault.params.max_ema_divergence_bps;
        if let Some(asset) = OracleReading::first_divergent(&snap.readings, max) {
            return Ok(Decision::Hold(Hold::EmaDivergence { asset }));
        }
    }
    match view {
        AuctionView::Closed => return Ok(Decision::Poke(PokeReason::OpenAuction)),
        AuctionView::Stale => return Ok(Decision::Poke(PokeReason::RestartAuction)),
        AuctionView::Running(_) => {}
    }
    let v = &snap.vault;
    let until_slot = v.last_rebalance_slot.saturating_add(v.params.rebalance_cooldown_slots);
    let cooling = v.last_rebalance_slot != 0 && snap.slot < until_slot;
    if cooling {
        if needs_renewal(v, snap.now) {
            return Ok(Decision::Poke(PokeReason::RenewAuction));
        }
        return Ok(Decision::Hold(Hold::Cooldown { until_slot }));
    }
    let (candidates, dropped) = candidates(snap, val, routes)?;
    let (mut now, mut later): (Vec<Candidate>, Vec<Candidate>) =
        candidates.into_iter().partition(|c| c.clears_at <= snap.now);
    now.sort_by_key(|c| std::cmp::Reverse(c.drift_reduction));
    let best_later = later.iter().map(|c| c.drift_reduction).max().unwrap_or(0);
    // A trade that clears now but removes a negligible part of what one clearing later would (an asset
    // already at its target: the clamp leaves dust) is not worth a transaction; wait for the later one.
    let dust = |c: &Candidate| c.drift_reduction.saturating_mul(DUST_RATIO) < best_later;
    if now.first().is_some_and(|c| !dust(c)) {
        return Ok(Decision::Trade(Box::new(now.swap_remove(0))));
    }
    if !later.is_empty() {
        if needs_renewal(v, snap.now) {
            return Ok(Decision::Poke(PokeReason::RenewAuction));
        }
        // Wait until the first route clears; the candidate shown is the trade that removes most drift (the
        // one a route better than the whitelisted pool would take now).
        let at = later.iter().map(|c| c.clears_at).min().unwrap_or(snap.now);
        later.sort_by_key(|c| std::cmp::Reverse(c.drift_reduction));
        return Ok(Decision::Wait { at, candidate: Box::new(later.swap_remove(0)) });
    }
    Ok(Decision::Hold(Hold::NoRoute(dropped)))
}

/// A trade clearing now is skipped for one clearing later that removes more than this many times its drift.
const DUST_RATIO: u128 = 100;

/// Shares outstanding at `now` as the program counts them (minted, owed to the fee recipients, and the
/// management fee since the last accrual, which the program accrues first): the program's own
/// `Vault::supply_after_accrual`.
pub fn shares_outstanding(vault: &Vault, minted: u64, now: i64) -> Result<u64> {
    vault.supply_after_accrual(minted, now).map_err(|e| anyhow!("share supply: {e}"))
}

/// Reads everything the planner needs about one vault: oracles, reserves, share supply and the clock, then
/// the whitelisted pools of every supported program and what their quotes need (vault balances, the CPMM
/// config, the Whirlpool tick arrays around the current tick), in three batched reads, and the slot.
pub async fn load<V: ChainView>(view: &mut V, vault: Vault) -> Result<(Snapshot, Vec<Route>)> {
    let n = vault.assets.len();
    let mut keys: Vec<Pubkey> = vault.assets.iter().flat_map(|a| [a.oracle, a.reserve]).collect();
    keys.push(vault.share_mint);
    keys.push(<anchor_lang::prelude::Clock as anchor_lang::solana_program::sysvar::SysvarId>::id());
    let supported = [ballast_amm::ID, dex::raydium::ID, dex::orca::ID];
    let entries: Vec<_> = vault.amms.iter().filter(|e| supported.contains(&e.program_id)).copied().collect();
    keys.extend(entries.iter().map(|e| e.pool));
    let accounts = view.accounts(&keys).await?;
    let mut readings = Vec::with_capacity(n);
    let mut balances = Vec::with_capacity(n);
    for i in 0..n {
        let oracle = accounts[2 * i].as_ref().ok_or_else(|| anyhow!("oracle of asset {i} missing"))?;
        let u =
            PriceUpdateV2::try_deserialize(&mut &oracle.data[..]).map_err(|e| anyhow!("oracle of asset {i}: {e}"))?;
        let m = u.price_message;
        readings.push(ballast::oracle::reading_of(&m));
        let reserve = accounts[2 * i + 1].as_ref().ok_or_else(|| anyhow!("reserve of asset {i} missing"))?;
        balances.push(decode::token_amount(&reserve.data)?);
    }
    let share_mint = accounts[2 * n].as_ref().ok_or_else(|| anyhow!("share mint missing"))?;
    let minted = decode::mint_supply(&share_mint.data)?;
    let clock = accounts[2 * n + 1].as_ref().ok_or_else(|| anyhow!("clock sysvar missing"))?;
    let now = decode::clock_unix_timestamp(&clock.data)?;
    let supply = shares_outstanding(&vault, minted, now)?;
    let slot = view.slot().await?;
    // Each pool: its two mints' vaults (asset index, vault) and what else must be read for its quote.
    let mut pools: Vec<(Pubkey, PoolDraft)> = Vec::new();
    for (entry, acc) in entries.iter().zip(&accounts[2 * n + 2..]) {
        let Some(acc) = acc else { continue };
        if acc.owner != entry.program_id {
            continue;
        }
        if let Some(draft) = PoolDraft::decode(entry.program_id, &entry.pool, &acc.data, &vault) {
            pools.push((entry.pool, draft));
        }
    }
    let extra_keys: Vec<Pubkey> = pools.iter().flat_map(|(_, d)| d.reads()).collect();
    let extra = view.accounts(&extra_keys).await?;
    let mut at = 0;
    let mut routes = Vec::new();
    for (pool, draft) in pools {
        let count = draft.reads().len();
        let read = &extra[at..at + count];
        at += count;
        if let Some(route) = draft.finish(pool, read) {
            routes.push(route);
        }
    }
    Ok((Snapshot { vault, readings, balances, supply, slot, now }, routes))
}

/// Reads a vault and plans it: [`load`], [`Snapshot::value`], [`decide`].
pub async fn plan_vault<V: ChainView>(view: &mut V, vault: Vault) -> Result<Planned> {
    let (snap, routes) = load(view, vault).await?;
    let val = snap.value()?;
    let decision = decide(&snap, &val, &routes)?;
    Ok(Planned { snapshot: snap, routes, valuation: val, decision })
}

/// A vault read, valued and planned.
#[derive(Debug, Clone)]
pub struct Planned {
    pub snapshot: Snapshot,
    pub routes: Vec<Route>,
    pub valuation: Valuation,
    pub decision: Decision,
}

impl std::fmt::Display for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hold::InsideBands => write!(f, "inside bands"),
            Hold::Cooldown { until_slot } => write!(f, "cooldown until slot {until_slot}"),
            Hold::EmaDivergence { asset } => {
                write!(f, "asset {asset}'s price is too far from its EMA to open the auction: waiting for the EMA")
            }
            Hold::NoRoute(dropped) if dropped.is_empty() => write!(f, "no whitelisted route"),
            Hold::NoRoute(dropped) => {
                let parts: Vec<String> = dropped.iter().map(|d| d.to_string()).collect();
                write!(f, "no route clears the floor: {}", parts.join("; "))
            }
        }
    }
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.why {
            DropReason::Refused(r) => write!(f, "{}->{}: {r:?}", self.sell, self.buy),
            DropReason::BelowFloor { pays, floor } => {
                write!(f, "{}->{}: route pays {pays} < floor {floor}", self.sell, self.buy)
            }
        }
    }
}

impl std::fmt::Display for PokeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PokeReason::OpenAuction => write!(f, "poke: open the auction (out of band)"),
            PokeReason::RestartAuction => write!(f, "poke: restart the stale auction (out of band, not seen lately)"),
            PokeReason::RenewAuction => write!(f, "poke: renew the running auction (heartbeat)"),
            PokeReason::CloseAuction => write!(f, "poke: close the auction (back inside bands)"),
        }
    }
}
