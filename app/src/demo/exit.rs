//! The demo's single-asset exit: a depositor leaves entirely in USDC (`request_withdraw`, then, after the
//! vault's settlement delay and with freshly published prices, `settle_withdraw`). Every number of the payout
//! is worked out by hand beside what the program reported (`WithdrawSettledEvent`), then the keeper buys back
//! what the payout took.

use anyhow::{anyhow, Result};
use ballast::events::WithdrawSettledEvent;
use ballast::math::{self, OracleReading, Rounding};
use ballast::state::RequestTerms;
use ballast_client::describe::tokens;
use ballast_client::planner::{Snapshot, Valuation};
use ballast_harness::chain::{error_name, Chain};
use ballast_harness::fixture::{User, VaultFixture};
use serde::Serialize;
use solana_signer::Signer;

use super::render::{dollars, render_row, row_header, shares};
use super::{Demo, Market, StepRow};

/// The asset the demo's leaver is paid in (USDC).
const PAID: usize = 2;

/// The demo's single-asset exit (the last JSON line's `exit`). Values are micro-USD at mid prices of what the
/// holders own (the program's valuation), amounts base units of the paid asset.
#[derive(Debug, Clone, Serialize)]
pub struct ExitReport {
    pub who: String,
    pub asset: String,
    pub asset_index: usize,
    /// Everything the leaver held, and what it was worth when requested: `shares × nav_before / supply_before`.
    pub shares: u64,
    pub value: u64,
    pub nav_before: u64,
    pub supply_before: u64,
    pub delay_secs: u32,
    /// The paid asset before the payout: the holders' balance, the reserve's, and its target (bps of NAV).
    pub asset_before: u64,
    pub reserve_before: u64,
    pub asset_value_before: u64,
    pub target_bps: u16,
    /// The payout before charges (the smaller of the two quotes') and, by hand, the asset's shortfall under
    /// its target before and had the payout left the vault: `target × (nav − payout) − (asset − payout)`.
    pub gross: u64,
    pub gross_value: u64,
    pub shortfall_before: u64,
    pub shortfall_after: u64,
    /// What the program reported: the value the vault must buy back and `trade_cost_bps` of it; the shares'
    /// value at the quote used (the vault valued low) and the fee, `fee_bps` of that.
    pub traded_value: u64,
    pub trade_cost_bps: u16,
    pub trade_charge: u64,
    pub value_used: u64,
    pub fee_bps: u16,
    pub fee: u64,
    /// By hand from the published confidence intervals: the vault valued at its lower bounds, the paid asset
    /// at its upper bound.
    pub haircut_vault: u64,
    pub haircut_asset: u64,
    pub haircut: u64,
    /// Sent, received (base units), and what was received is worth.
    pub amount_out: u64,
    pub amount_received: u64,
    pub received_value: u64,
    /// After the settlement: the leaver's shares, the asset's reserve, NAV and the asset's target.
    pub shares_after: u64,
    pub reserve_after: u64,
    pub nav_after: u64,
    pub target_after: u64,
    /// The keeper's trades buying the asset back, one row each.
    pub buy_back: Vec<StepRow>,
}

/// A micro-USD amount as `u64` (the demo's values are far below its limit).
fn micro(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// `value` micro-USD, scaled by `num / den`, rounded down.
fn scaled(value: u128, num: u128, den: u128) -> u128 {
    value.saturating_mul(num) / den.max(1)
}

/// The fraction of its mid price a reading's lower (spot or EMA) confidence bound gives up, and the fraction its
/// upper bound adds.
fn confidence(r: &OracleReading) -> (f64, f64) {
    let (p, spot, ema) = (r.price as f64, r.conf as f64, r.ema_conf as f64);
    let low = (r.price as f64 - spot).min(r.ema_price as f64 - ema);
    let high = (r.price as f64 + spot).max(r.ema_price as f64 + ema);
    (1.0 - low / p, high / p - 1.0)
}

/// Who leaves, in which asset, with how many shares, on which terms (the vault's at request).
struct Leaver<'a> {
    who: &'a str,
    symbol: &'a str,
    shares: u64,
    terms: RequestTerms,
}

/// The vault as the program values it for a payout: the snapshot read and the holders' positions at mid.
struct Valued {
    snap: Snapshot,
    val: Valuation,
}

impl Valued {
    async fn read(fx: &VaultFixture, chain: &mut Chain) -> Result<Valued> {
        let (snap, _) = fx.snapshot(chain).await;
        let val = snap.value()?;
        Ok(Valued { snap, val })
    }

    /// The target of asset `i` in dollars (micro-USD).
    fn target(&self, i: usize) -> u128 {
        scaled(self.val.nav, self.val.limits[i].target_bps.into(), 10_000)
    }
}

impl ExitReport {
    /// The payout's numbers from the vault before the request (`b`, whose readings the settlement's repeat),
    /// the settlement's event, and the vault after (`a`).
    fn new(leaver: &Leaver, b: &Valued, ev: &WithdrawSettledEvent, a: &Valued) -> Self {
        let (i, (snap, val), held) = (PAID, (&b.snap, &b.val), leaver.shares);
        let p = &val.positions[i];
        let at_mid = |amount: u64| math::value_of(amount, p.decimals, p.price, Rounding::Floor).unwrap_or(u128::MAX);
        let value = scaled(held.into(), val.nav, snap.supply.into());
        let gross = ev.gross_at_request.min(ev.gross_at_settlement);
        let gross_value = at_mid(gross);
        let target_bps = val.limits[i].target_bps;
        let target_after = scaled(val.nav.saturating_sub(gross_value), target_bps.into(), 10_000);
        let shortfall_after = target_after.saturating_sub(val.values[i].saturating_sub(gross_value));
        let shortfall_before = b.target(i).saturating_sub(val.values[i]);
        let low: f64 = val.values.iter().zip(&snap.readings).map(|(v, r)| *v as f64 * confidence(r).0).sum();
        let haircut_vault = low * held as f64 / snap.supply as f64;
        let net = value as f64 - haircut_vault - ev.fee_value as f64 - ev.trade_charge_value as f64;
        let up = confidence(&snap.readings[i]).1;
        let haircut_asset = net * up / (1.0 + up);
        ExitReport {
            who: leaver.who.to_string(),
            asset: leaver.symbol.to_string(),
            asset_index: i,
            shares: held,
            value: micro(value),
            nav_before: micro(val.nav),
            supply_before: snap.supply,
            delay_secs: leaver.terms.delay_secs,
            asset_before: p.balance,
            reserve_before: snap.balances[i],
            asset_value_before: micro(val.values[i]),
            target_bps,
            gross,
            gross_value: micro(gross_value),
            shortfall_before: micro(shortfall_before),
            shortfall_after: micro(shortfall_after),
            traded_value: micro(ev.traded_value),
            trade_cost_bps: leaver.terms.trade_cost_bps,
            trade_charge: micro(ev.trade_charge_value),
            value_used: micro(ev.value_used),
            fee_bps: leaver.terms.fee_bps,
            fee: micro(ev.fee_value),
            haircut_vault: haircut_vault.round() as u64,
            haircut_asset: haircut_asset.round() as u64,
            haircut: (haircut_vault + haircut_asset).round() as u64,
            amount_out: ev.amount_out,
            amount_received: ev.amount_received,
            received_value: micro(at_mid(ev.amount_received)),
            shares_after: 0,
            reserve_after: a.snap.balances[i],
            nav_after: micro(a.val.nav),
            target_after: micro(a.target(i)),
            buy_back: Vec::new(),
        }
    }

    /// The lines the demo prints, every figure in dollars or in tokens (`decimals`): what the vault held and
    /// what the payout does to it, then the payout item by item.
    fn lines(&self, decimals: u8) -> Vec<String> {
        let mut lines = self.effect_lines(decimals);
        lines.extend(self.payout_lines(decimals));
        lines
    }

    /// The shares' value, the asset before and after the payout against its target, and the buy-back.
    fn effect_lines(&self, decimals: u8) -> Vec<String> {
        let usd = |v: u64| dollars(v.into());
        let coin = |v: u64| tokens(v.into(), decimals, &self.asset);
        let (who, asset, target) = (&self.who, &self.asset, self.target_bps as f64 / 100.0);
        let left = self.asset_value_before.saturating_sub(self.gross_value);
        let nav_left = self.nav_before.saturating_sub(self.gross_value);
        let target_left = left + self.shortfall_after;
        let why = if self.traded_value.abs_diff(self.shortfall_after) <= 10_000 {
            format!(
                "{asset}'s shortfall under its target after the payout ({} − {} = {})",
                usd(target_left),
                usd(left),
                usd(self.shortfall_after)
            )
        } else {
            format!(
                "the more of what the payout adds to {asset}'s shortfall and to the trading the bands require \
                 ({asset} is then {} short)",
                usd(self.shortfall_after)
            )
        };
        let mut lines = vec![
            format!(
                "\n== {who} leaves entirely in {asset}: request_withdraw, then settle_withdraw after the {} s delay \
                 at fresh prices ==",
                self.delay_secs
            ),
            format!(
                "{who}'s {} shares are worth {} at mid ({} / {} shares × NAV {})",
                shares(self.shares),
                usd(self.value),
                shares(self.shares),
                shares(self.supply_before),
                usd(self.nav_before)
            ),
            format!(
                "{asset} in the vault before: {} ({}, {:.2} % of NAV); target {target:.2} % = {}",
                coin(self.asset_before),
                usd(self.asset_value_before),
                self.asset_value_before as f64 * 100.0 / self.nav_before.max(1) as f64,
                usd(micro(scaled(self.nav_before.into(), self.target_bps.into(), 10_000)))
            ),
            format!(
                "the payout before charges, {}, leaves {} of NAV {} against a {target:.2} % target of {}",
                coin(self.gross),
                usd(left),
                usd(nav_left),
                usd(target_left)
            ),
            format!("the vault must buy back {}: {why}", usd(self.traded_value)),
        ];
        let added = self.shortfall_after.saturating_sub(self.shortfall_before);
        if self.shortfall_before >= 10_000 && self.traded_value > added {
            lines.push(format!(
                "  ({asset} was already {} short, inside its band; now out of it, the bands call for all of it, not \
                 only the {} the payout adds)",
                usd(self.shortfall_before),
                usd(added)
            ));
        }
        lines
    }

    /// The payout item by item: the shares' value, less the fee, the trade charge and the confidence haircut,
    /// is what the leaver receives; then the vault after it.
    fn payout_lines(&self, decimals: u8) -> Vec<String> {
        let usd = |v: u64| dollars(v.into());
        let coin = |v: u64| tokens(v.into(), decimals, &self.asset);
        let pct = |num: u64, den: u64| num as f64 * 100.0 / den.max(1) as f64;
        let row = |label: String, amount: u64| format!("  {label:<90} {:>9}", usd(amount));
        let (who, asset) = (&self.who, &self.asset);
        let net = self.value.saturating_sub(self.haircut_vault + self.fee + self.trade_charge);
        let (fee_bps, cost_bps) = (self.fee_bps, self.trade_cost_bps);
        vec![
            row("the shares' value at mid".into(), self.value),
            row(
                format!("− fee: {fee_bps} bps × {} (the shares' value at the vault's low quote)", usd(self.value_used)),
                self.fee,
            ),
            row(format!("− trade charge: {cost_bps} bps × {} bought back", usd(self.traded_value)), self.trade_charge),
            row(
                format!(
                    "− confidence haircut: the vault valued {:.2} % low ({}), {asset} paid {:.2} % high ({})",
                    pct(self.haircut_vault, self.value),
                    usd(self.haircut_vault),
                    pct(self.haircut_asset, net),
                    usd(self.haircut_asset),
                ),
                self.haircut,
            ),
            row(format!("= {who} receives {}", coin(self.amount_received)), self.received_value),
            format!(
                "after: {who} holds {} shares; the {asset} reserve is {} (the fee and the charge stay in it); NAV {}, \
                 {asset}'s target {}",
                if self.shares_after == 0 { "0".to_string() } else { shares(self.shares_after) },
                coin(self.reserve_after),
                usd(self.nav_after),
                usd(self.target_after)
            ),
        ]
    }
}

impl Demo<'_> {
    /// `who` leaves entirely in USDC: every share is escrowed by `request_withdraw` and settled after the
    /// vault's delay at freshly published prices (the pools arbitraged to them first); the demo prints the
    /// payout worked out by hand, then the keeper buys back what it took.
    pub(super) async fn exit_in_usdc(&mut self, market: &Market, who: &str, user: &User) -> Result<()> {
        let (chain, fx) = (&mut self.chain, &self.fx);
        fx.refresh_prices(chain).await;
        for pool in &market.pools {
            fx.arbitrage_any(chain, pool).await?;
        }
        let before = Valued::read(fx, chain).await?;
        let held = chain.token_amount(&user.shares).await;
        let terms = fx.state(chain).await.params.withdraw_terms();
        fx.request_withdraw(chain, user, PAID as u8, held, 1)
            .await
            .map_err(|e| anyhow!("{who} request_withdraw: {}", error_name(&e)))?;
        chain.advance_time(terms.delay_secs.into()).await;
        fx.refresh_prices(chain).await;
        let ev = fx
            .settle_withdraw_reported(chain, &user.keypair.pubkey())
            .await
            .map_err(|(e, _)| anyhow!("settle_withdraw: {}", error_name(&e)))?;
        let after = Valued::read(fx, chain).await?;
        let leaver = Leaver { who, symbol: &fx.assets[PAID].spec.symbol, shares: held, terms };
        let mut exit = ExitReport::new(&leaver, &before, &ev, &after);
        exit.shares_after = chain.token_amount(&user.shares).await;
        for line in exit.lines(fx.assets[PAID].spec.decimals) {
            self.say(line);
        }
        self.steps.push(format!("{} request_withdraw + settle_withdraw: all shares in USDC", who.to_lowercase()));
        exit.buy_back = self.buy_back(market, &exit.asset).await?;
        self.exit = Some(exit);
        Ok(())
    }

    /// The keeper's turns after the exit: the settlement opened the auction for what the payout took.
    async fn buy_back(&mut self, market: &Market, asset: &str) -> Result<Vec<StepRow>> {
        let step = self.opts.mode.path().len() + 1;
        let mut rows = Vec::new();
        // Turns of up to three trades each, until the keeper holds (at most four).
        for _ in 0..4 {
            let trades = self.keeper_turns(market, step, "exit", false).await?;
            if trades.is_empty() {
                break;
            }
            rows.extend(trades);
        }
        if rows.is_empty() {
            self.say("the keeper holds: every asset is inside its band".into());
        } else {
            self.say(format!("\nthe keeper buys {asset} back through the auction the settlement opened:"));
            self.say(row_header());
            for r in &rows {
                let line = render_row(&self.fx, r);
                self.say(line);
            }
        }
        self.steps.push(format!("keeper buy-back: {} trades", rows.len()));
        self.report("after the exit and the keeper's buy-back").await?;
        Ok(rows)
    }
}
