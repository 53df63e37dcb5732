//! `ballast demo`: the whole flow on the embedded chain, printed as readable tables.

use anyhow::{anyhow, Result};
use serde_json::json;

use crate::chain::Chain;
use crate::fixture::{self, AssetSpec, Report, User, VaultFixture};

/// Options of the demo command.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    pub json: bool,
}

/// Result of a demo run (also printed as the final JSON line with `--json`).
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    pub report: Report,
    pub steps: Vec<String>,
}

fn ui(amount: u64, decimals: u8) -> f64 {
    amount as f64 / 10f64.powi(decimals as i32)
}

fn usd(micro: u128) -> f64 {
    micro as f64 / 1e6
}

/// Renders a report as a table.
pub fn render(title: &str, fx: &VaultFixture, r: &Report) -> String {
    let mut s = format!("\n== {title} ==\n");
    s.push_str(&format!(
        "{:<6} {:>18} {:>12} {:>14} {:>8} {:>8} {:>6} {:>8}\n",
        "asset", "holdings", "price $", "value $", "weight%", "target%", "band%", "drift"
    ));
    for i in 0..r.symbols.len() {
        s.push_str(&format!(
            "{:<6} {:>18.6} {:>12.4} {:>14.2} {:>8.2} {:>8.2} {:>6.2} {:>+7}bp\n",
            r.symbols[i],
            ui(r.holdings[i], fx.assets[i].spec.decimals),
            r.prices[i],
            usd(r.values[i]),
            r.weights_bps[i] as f64 / 100.0,
            r.targets_bps[i] as f64 / 100.0,
            r.bands_bps[i] as f64 / 100.0,
            r.drift_bps[i],
        ));
    }
    let share_price = if r.share_supply > 0 { r.nav as f64 / r.share_supply as f64 } else { 1.0 };
    s.push_str(&format!(
        "NAV ${:.2}   shares {:.6}   share price ${:.6}   max |drift| {} bp\n",
        usd(r.nav),
        ui(r.share_supply, ballast::math::SHARE_DECIMALS),
        share_price,
        r.max_abs_drift_bps
    ));
    s
}

fn demo_assets() -> Vec<AssetSpec> {
    vec![
        AssetSpec::new("SOL", 9, 150_00000000, -8, 4_000, 500),
        AssetSpec::new("BTC", 8, 60_000_00000000, -8, 3_000, 500),
        AssetSpec::new("USDC", 6, 1_00000000, -8, 3_000, 300),
    ]
}

/// Runs the demo and prints as it goes (tables, or only the final JSON line with `json`).
pub async fn run(opts: &DemoOptions) -> Result<DemoOutcome> {
    let mut chain = Chain::start().await;
    let fx = fixture::create_vault(&mut chain, &demo_assets(), fixture::default_params()).await?;
    let mut steps = Vec::new();
    let say = |opts: &DemoOptions, s: String| {
        if !opts.json {
            println!("{s}");
        }
    };
    say(opts, format!("vault {} created with {} assets (SOL 40%, BTC 30%, USDC 30%)", fx.key, fx.assets.len()));

    // Alice seeds the empty vault with one single-asset deposit per asset, at target proportions:
    // $4,000 of SOL, $3,000 of BTC, $3,000 of USDC.
    let alice = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await?;
    let seed = [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)];
    for (i, amount) in seed {
        fx.deposit_single(&mut chain, &alice, i, amount, 1).await.map_err(|e| anyhow!("alice deposit_single: {e}"))?;
    }
    steps.push("alice deposit_single x3 (seed at target weights)".into());
    let r = fx.report(&mut chain).await?;
    say(opts, render("after Alice's single-asset deposits (first deposit locks 1 share)", &fx, &r));

    // Bob deposits in kind: up to 2 SOL, 0.1 BTC, 500 USDC, in the vault's current proportions.
    let bob = fx.user(&mut chain, &[2_000_000_000, 10_000_000, 500_000_000]).await?;
    fx.deposit(&mut chain, &bob, vec![2_000_000_000, 10_000_000, 500_000_000], 1)
        .await
        .map_err(|e| anyhow!("bob deposit: {e}"))?;
    steps.push("bob deposit (in kind, proportional)".into());
    let bob_shares = chain.token_amount(&bob.shares).await;
    let r = fx.report(&mut chain).await?;
    say(opts, render(&format!("after Bob's in-kind deposit ({} shares)", bob_shares), &fx, &r));

    // SOL rallies 20 %: the vault drifts away from its targets.
    let sol = fx.oracle_reading(&mut chain, 0).await.price;
    chain.advance_time(5).await;
    fx.refresh_prices(&mut chain).await;
    fx.set_price(&mut chain, 0, sol * 12 / 10).await;
    steps.push("SOL +20 %".into());
    let r = fx.report(&mut chain).await?;
    say(opts, render("after SOL +20 % (drift; rebalancing comes with the rebalance instruction)", &fx, &r));

    // Alice withdraws half of her shares in kind.
    let alice_shares = chain.token_amount(&alice.shares).await;
    fx.withdraw(&mut chain, &alice, alice_shares / 2, vec![0; 3]).await.map_err(|e| anyhow!("alice withdraw: {e}"))?;
    steps.push("alice withdraw half (in kind)".into());
    let r = fx.report(&mut chain).await?;
    say(opts, render("after Alice withdraws half of her shares", &fx, &r));
    print_holder(opts, "alice", &mut chain, &fx, &alice).await;
    print_holder(opts, "bob", &mut chain, &fx, &bob).await;

    if opts.json {
        println!(
            "{}",
            json!({
                "vault": fx.key.to_string(),
                "assets": r.symbols,
                "holdings": r.holdings,
                "prices": r.prices,
                "weights_bps": r.weights_bps,
                "targets_bps": r.targets_bps,
                "bands_bps": r.bands_bps,
                "drift_bps": r.drift_bps,
                "max_drift_bps": r.max_abs_drift_bps,
                "nav_micro_usd": r.nav.to_string(),
                "share_supply": r.share_supply,
                "steps": steps,
            })
        );
    }
    Ok(DemoOutcome { report: r, steps })
}

async fn print_holder(opts: &DemoOptions, name: &str, chain: &mut Chain, fx: &VaultFixture, user: &User) {
    if opts.json {
        return;
    }
    let shares = chain.token_amount(&user.shares).await;
    let mut parts = Vec::new();
    for (a, t) in fx.assets.iter().zip(&user.tokens) {
        parts.push(format!("{} {:.6}", a.spec.symbol, ui(chain.token_amount(t).await, a.spec.decimals)));
    }
    println!("{name}: {:.6} shares; wallet {}", ui(shares, ballast::math::SHARE_DECIMALS), parts.join(", "));
}
