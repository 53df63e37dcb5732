//! The flows on the chain: each ticket goes through the real instructions as a user and a keeper send them
//! (request, the settlement delay, the step's prices and EMAs re-published, settlement), and what the
//! settlement event reports is recorded.

use anyhow::{anyhow, Result};
use ballast::events::DepositSettledEvent;
use ballast_harness::chain::{error_name, Chain};
use ballast_harness::client;
use ballast_harness::fixture::{Report, User, VaultFixture};
use solana_signer::Signer;

use super::{drift, FlowConfig, FlowRecord, FlowSummary, Ticket};

/// The program's refusal of a payout that leaves its asset too far below target.
const TOO_LARGE: &str = "WithdrawalTooLarge";
/// A resized exit asks for this share of the largest payout that fits.
const RESIZE_MARGIN: f64 = 0.98;

/// USD of a micro-USD amount.
fn usd(micro: u128) -> f64 {
    micro as f64 / 1e6
}

/// The step the flows happen in: its index, and its prices and EMAs (re-published before each settlement).
#[derive(Clone, Copy)]
pub(crate) struct At<'p> {
    pub(crate) k: usize,
    pub(crate) prices: &'p [f64],
    pub(crate) emas: &'p [f64],
}

impl At<'_> {
    /// USD per base unit of asset `i` at the step's (mid) price.
    fn unit(&self, fx: &VaultFixture, i: usize) -> f64 {
        self.prices[i] / 10f64.powi(fx.assets[i].spec.decimals as i32)
    }
}

/// One run's flows: the user making them (the holder of the vault's seed shares, with tokens to spare),
/// the totals, and the drift at the phases of the step under way.
pub(crate) struct Flows {
    cfg: FlowConfig,
    holder: User,
    pub(crate) summary: FlowSummary,
    /// Drift as a share of NAV at the end of the last step.
    last_drift: f64,
    /// Drift as a share of NAV and the NAV (USD) after this step's flows.
    after_flows: (f64, f64),
    delay_secs: i64,
    window_secs: i64,
}

impl Flows {
    pub(crate) async fn new(cfg: FlowConfig, holder: User, chain: &mut Chain, fx: &VaultFixture) -> Result<Flows> {
        let r0 = fx.report(chain).await?;
        let params = fx.state(chain).await.params;
        Ok(Flows {
            cfg,
            holder,
            summary: FlowSummary::default(),
            last_drift: drift(&r0).0,
            after_flows: drift(&r0),
            delay_secs: params.deposit_delay_secs as i64,
            window_secs: params.deposit_window_secs as i64,
        })
    }

    /// Step `at.k`'s tickets, one after the other on the vault as the last one left it; the drift the price
    /// move added and the flows removed. Returns the flows' net change of the NAV at mid (USD).
    pub(crate) async fn step(&mut self, chain: &mut Chain, fx: &VaultFixture, at: At<'_>) -> Result<f64> {
        let mut r = fx.report(chain).await?;
        let (m0, nav0) = drift(&r);
        self.summary.drift_added_usd += nav0 * (m0 - self.last_drift);
        let mut rng = self.cfg.stream(at.k);
        let mut net = 0.0;
        for _ in 0..self.cfg.per_step {
            let Some(ticket) = self.cfg.ticket(&mut rng, &r) else { continue };
            net += if ticket.exit {
                self.exit(chain, fx, &ticket, &r, at).await?
            } else {
                self.deposit(chain, fx, &ticket, at).await?
            };
            r = fx.report(chain).await?;
        }
        self.after_flows = drift(&r);
        self.summary.drift_removed_by_flows_usd += nav0 * (m0 - self.after_flows.0);
        Ok(net)
    }

    /// After the keeper's turn (`end`: the vault then): the drift its trades removed.
    pub(crate) fn after_keeper(&mut self, end: &Report) {
        let (m1, nav1) = self.after_flows;
        let m2 = drift(end).0;
        self.summary.drift_removed_by_trades_usd += nav1 * (m1 - m2);
        self.last_drift = m2;
    }

    /// The totals with their ratios.
    pub(crate) fn finish(self) -> FlowSummary {
        let mut s = self.summary;
        s.finish();
        s
    }

    /// The settlement delay passes; the step's prices and EMAs are published again at the new time.
    async fn wait(&self, chain: &mut Chain, fx: &VaultFixture, at: At<'_>) {
        chain.advance_time(self.delay_secs).await;
        crate::ema::publish(chain, fx, at.prices, at.emas).await;
    }

    /// A refused request or settlement: counted by its error, the ticket dropped.
    fn refused(&mut self, error: String) -> f64 {
        self.summary.refused += 1;
        *self.summary.refused_by.entry(error).or_default() += 1;
        0.0
    }

    /// A request that could not settle is cancelled once expired (a deposit refunded, an exit's shares back).
    async fn abandon(&mut self, chain: &mut Chain, fx: &VaultFixture, exit: bool, at: At<'_>) -> Result<()> {
        chain.advance_time(self.window_secs + 1).await;
        let cancelled = if exit {
            fx.cancel_withdraw(chain, &self.holder).await
        } else {
            fx.cancel_deposit(chain, &self.holder).await
        };
        cancelled.map_err(|e| anyhow!("cancel an unsettled request: {}", error_name(&e)))?;
        crate::ema::publish(chain, fx, at.prices, at.emas).await;
        Ok(())
    }

    /// An entry: `request_deposit` of the ticket's value of its asset, `settle_deposit` after the delay.
    async fn deposit(&mut self, chain: &mut Chain, fx: &VaultFixture, t: &Ticket, at: At<'_>) -> Result<f64> {
        let unit = at.unit(fx, t.asset);
        let amount = (t.usd / unit) as u64;
        if let Err(e) = fx.request_deposit(chain, &self.holder, t.asset as u8, amount, 1).await {
            return Ok(self.refused(error_name(&e)));
        }
        self.wait(chain, fx, at).await;
        let owner = self.holder.keypair.pubkey();
        let request = fx.deposit_request(chain, &owner).await.ok_or_else(|| anyhow!("no open deposit request"))?;
        let vault = fx.state(chain).await;
        let ix = client::settle_deposit(&chain.payer_key(), &fx.key, &vault, &request);
        let (result, logs) = chain.send_logged(&[ix], &[]).await;
        if let Err(e) = result {
            self.abandon(chain, fx, false, at).await?;
            return Ok(self.refused(error_name(&e)));
        }
        let ev = client::events::decode::<DepositSettledEvent>(&logs)
            .pop()
            .ok_or_else(|| anyhow!("settle_deposit reported no settlement"))?;
        let nav_change = amount as f64 * unit;
        self.summary.add(FlowRecord {
            step: at.k,
            kind: "deposit",
            asset: Some(t.asset),
            value_usd: usd(ev.value_used),
            fee_usd: usd(ev.fee_value),
            trade_charge_usd: usd(ev.trade_charge_value),
            traded_value_usd: usd(ev.traded_value),
            amount,
            nav_change_usd: nav_change,
            resized: false,
        });
        Ok(nav_change)
    }

    /// An exit: `request_withdraw` of the shares worth the ticket (at mid, `r` the vault now) paid in its asset,
    /// `settle_withdraw` after the delay; asked again smaller when refused as too large.
    async fn exit(&mut self, chain: &mut Chain, fx: &VaultFixture, t: &Ticket, r: &Report, at: At<'_>) -> Result<f64> {
        let held = chain.token_amount(&self.holder.shares).await;
        let shares = ((t.usd / usd(r.nav) * r.share_supply as f64) as u64).min(held);
        if shares == 0 {
            return Ok(0.0);
        }
        match fx.request_withdraw(chain, &self.holder, t.asset as u8, shares, 1).await {
            Ok(()) => self.settle_exit(chain, fx, t.asset, false, at).await,
            Err(e) if error_name(&e) == TOO_LARGE => self.resized_exit(chain, fx, t.asset, shares, at).await,
            Err(e) => Ok(self.refused(error_name(&e))),
        }
    }

    /// After `WithdrawalTooLarge`: the most that fits now by the program's own bound
    /// (`math::exit::largest_exit_value` on the holders' values at mid and the limits in force), less
    /// [`RESIZE_MARGIN`], paid in the asset, and the rest of the shares in kind; all in kind when nothing fits.
    async fn resized_exit(
        &mut self,
        chain: &mut Chain,
        fx: &VaultFixture,
        asset: usize,
        shares: u64,
        at: At<'_>,
    ) -> Result<f64> {
        let (snap, _) = fx.snapshot(chain).await;
        let val = snap.value()?;
        let largest = ballast::math::exit::largest_exit_value(&val.values, &val.limits, asset)
            .map_err(|e| anyhow!("largest exit: {e:?}"))?;
        let wanted = shares as f64 * val.nav as f64 / snap.supply.max(1) as f64;
        let fit = (shares as f64 * (largest as f64 * RESIZE_MARGIN / wanted.max(1.0)).min(1.0)) as u64;
        let mut out = 0.0;
        let mut left = shares;
        if fit > 0 && fx.request_withdraw(chain, &self.holder, asset as u8, fit, 1).await.is_ok() {
            self.summary.exits_resized += 1;
            out += self.settle_exit(chain, fx, asset, true, at).await?;
            left -= fit;
        } else {
            self.summary.exits_in_kind += 1;
        }
        Ok(out + self.in_kind(chain, fx, left, at).await?)
    }

    /// Settles the holder's open exit request (after the delay) and records what the settlement reported.
    async fn settle_exit(
        &mut self,
        chain: &mut Chain,
        fx: &VaultFixture,
        asset: usize,
        resized: bool,
        at: At<'_>,
    ) -> Result<f64> {
        self.wait(chain, fx, at).await;
        let ev = match fx.settle_withdraw_reported(chain, &self.holder.keypair.pubkey()).await {
            Ok(ev) => ev,
            Err((e, _)) => {
                self.abandon(chain, fx, true, at).await?;
                return Ok(self.refused(error_name(&e)));
            }
        };
        let nav_change = -(ev.amount_out as f64 * at.unit(fx, asset));
        self.summary.add(FlowRecord {
            step: at.k,
            kind: "exit",
            asset: Some(asset),
            value_usd: usd(ev.value_used),
            fee_usd: usd(ev.fee_value),
            trade_charge_usd: usd(ev.trade_charge_value),
            traded_value_usd: usd(ev.traded_value),
            amount: ev.amount_out,
            nav_change_usd: nav_change,
            resized,
        });
        Ok(nav_change)
    }

    /// `withdraw` in kind of `shares` (pro rata of every asset: no weight moves).
    async fn in_kind(&mut self, chain: &mut Chain, fx: &VaultFixture, shares: u64, at: At<'_>) -> Result<f64> {
        if shares == 0 {
            return Ok(0.0);
        }
        let before = fx.holdings(chain).await;
        if let Err(e) = fx.withdraw(chain, &self.holder, shares, vec![0; fx.assets.len()]).await {
            return Ok(self.refused(error_name(&e)));
        }
        let after = fx.holdings(chain).await;
        let nav_change: f64 = (0..before.len()).map(|i| -((before[i] - after[i]) as f64) * at.unit(fx, i)).sum();
        self.summary.add(FlowRecord {
            step: at.k,
            kind: "in-kind",
            asset: None,
            value_usd: -nav_change,
            fee_usd: 0.0,
            trade_charge_usd: 0.0,
            traded_value_usd: 0.0,
            amount: shares,
            nav_change_usd: nav_change,
            resized: false,
        });
        Ok(nav_change)
    }
}
