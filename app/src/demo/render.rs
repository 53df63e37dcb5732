//! The demo's tables and lines. Every amount a person reads is in token units with the token's decimals
//! (exact: `ballast_client::describe::token_amount`), with its symbol where a column mixes tokens; every USD
//! value in dollars and cents.

use ballast::math::SHARE_DECIMALS;
use ballast_client::describe::{token_amount, tokens, usd};
use ballast_harness::chain::Chain;
use ballast_harness::fixture::{Report, User, VaultFixture};

use super::StepRow;

/// A micro-USD value as the tables show it.
pub fn dollars(micro: u128) -> String {
    usd(i128::try_from(micro).unwrap_or(i128::MAX))
}

/// A share amount (base units, [`SHARE_DECIMALS`]) in shares.
pub fn shares(amount: u64) -> String {
    token_amount(amount.into(), SHARE_DECIMALS)
}

/// Renders a report as a table.
pub fn render(title: &str, fx: &VaultFixture, r: &Report) -> String {
    let mut s = format!("\n== {title} ==\n");
    s.push_str(&format!(
        "{:<6} {:>18} {:>12} {:>14} {:>8} {:>8} {:>6} {:>8}\n",
        "asset", "holdings", "price $", "value", "weight%", "target%", "band%", "drift"
    ));
    for i in 0..r.symbols.len() {
        s.push_str(&format!(
            "{:<6} {:>18} {:>12.4} {:>14} {:>8.2} {:>8.2} {:>6.2} {:>+7}bp\n",
            r.symbols[i],
            token_amount(r.holdings[i].into(), fx.assets[i].spec.decimals),
            r.prices[i],
            dollars(r.values[i]),
            r.weights_bps[i] as f64 / 100.0,
            r.targets_bps[i] as f64 / 100.0,
            r.bands_bps[i] as f64 / 100.0,
            r.drift_bps[i],
        ));
    }
    let share_price = if r.share_supply > 0 { r.nav as f64 / r.share_supply as f64 } else { 1.0 };
    s.push_str(&format!(
        "NAV {}   shares {}   share price ${:.6}   max |drift| {} bp\n",
        dollars(r.nav),
        shares(r.share_supply),
        share_price,
        r.max_abs_drift_bps
    ));
    s
}

/// The header of the price path's table (the columns of [`render_row`]).
pub fn row_header() -> String {
    format!(
        "{:>4} {:<10} {:>8} {:>9} {:>6} {:>15} {:>15} {:>13} {:>6} {:<18} {:>17} {:>17} {:>17}",
        "step",
        "event",
        "SOL $",
        "BTC $",
        "USDC $",
        "weights %",
        "targets %",
        "bands %",
        "drift",
        "action",
        "amount in",
        "min out",
        "received"
    )
}

/// One row of the price path's table: a trade's amounts in the tokens it sold and bought, `-` on a hold.
pub fn render_row(fx: &VaultFixture, r: &StepRow) -> String {
    let pct = |v: &mut dyn Iterator<Item = f64>| v.map(|w| format!("{:.1}", w / 100.0)).collect::<Vec<_>>().join("/");
    let weights = pct(&mut r.weights_bps.iter().map(|w| *w as f64));
    let targets = pct(&mut r.targets_bps.iter().map(|w| *w as f64));
    let bands = pct(&mut r.bands_bps.iter().map(|w| *w as f64));
    let amount = |index: Option<usize>, amount: u64| match index.and_then(|i| fx.assets.get(i)) {
        Some(a) => tokens(amount.into(), a.spec.decimals, &a.spec.symbol),
        None => "-".to_string(),
    };
    format!(
        "{:>4} {:<10} {:>8.2} {:>9.2} {:>6.3} {:>15} {:>15} {:>13} {:>4}bp {:<18} {:>17} {:>17} {:>17}",
        r.step,
        r.event,
        r.prices[0],
        r.prices[1],
        r.prices[2],
        weights,
        targets,
        bands,
        r.max_drift_bps,
        r.action,
        amount(r.sell_index, r.amount_in),
        amount(r.buy_index, r.min_out),
        amount(r.buy_index, r.received),
    )
}

/// A holder's shares and wallet.
pub async fn holder_line(name: &str, chain: &mut Chain, fx: &VaultFixture, user: &User) -> String {
    let held = chain.token_amount(&user.shares).await;
    let mut parts = Vec::new();
    for (a, t) in fx.assets.iter().zip(&user.tokens) {
        parts.push(tokens(chain.token_amount(t).await.into(), a.spec.decimals, &a.spec.symbol));
    }
    format!("{name}: {} shares; wallet {}", shares(held), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_amounts_have_the_share_decimals() {
        assert_eq!(shares(740_180_256), "740.180256");
        assert_eq!(shares(1), "0.000001");
    }

    #[test]
    fn dollars_are_to_the_cent() {
        assert_eq!(dollars(10_750_000_000), "$10,750.00");
        assert_eq!(dollars(u128::MAX), usd(i128::MAX));
    }
}
