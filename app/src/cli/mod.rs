//! The `ballast` subcommands: each has its flags (a `clap::Args` struct) and its `run`, so `main` only
//! dispatches. `demo` lives in [`crate::demo`]; `keeper` is the keeper crate's own command line.

pub mod bench;
pub mod localnet;
pub mod simulate;
pub mod tune;
pub mod withdraw;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use solana_signer::Signer;

/// `--amm` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AmmArg {
    Reference,
    Raydium,
    Orca,
}

impl From<AmmArg> for ballast_harness::dex::Amm {
    fn from(a: AmmArg) -> Self {
        match a {
            AmmArg::Reference => ballast_harness::dex::Amm::Reference,
            AmmArg::Raydium => ballast_harness::dex::Amm::Raydium,
            AmmArg::Orca => ballast_harness::dex::Amm::Orca,
        }
    }
}

/// `--route` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    Direct,
    Flash,
}

impl From<Route> for ballast_client::RouteMode {
    fn from(r: Route) -> Self {
        match r {
            Route::Direct => ballast_client::RouteMode::Direct,
            Route::Flash => ballast_client::RouteMode::Flash,
        }
    }
}

/// `ballast demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Print only one JSON object (the final state) as the last line.
    #[arg(long)]
    pub json: bool,
    /// Target and band mode of the demo vault.
    #[arg(long, value_enum, default_value_t = crate::demo::DemoMode::Fixed)]
    pub mode: crate::demo::DemoMode,
    /// How the keeper trades: direct (`rebalance` through the whitelisted AMM) or flash
    /// (`rebalance_begin`, the keeper's own swap, `rebalance_end`).
    #[arg(long, value_enum, default_value_t = Route::Direct)]
    pub route: Route,
    /// Which AMM the vault's pools are on: the reference AMM, or the real Raydium CPMM or Orca
    /// Whirlpool programs (compiled builds executed in the embedded chain's SBF VM).
    #[arg(long, value_enum, default_value_t = AmmArg::Reference)]
    pub amm: AmmArg,
    /// Run the large-vault flow instead, with this many assets (17 to 128): single-asset seeding, pokes, a
    /// trade and fees valued from the valuation cache, a withdrawal into a claim (docs/large-vaults.md).
    #[arg(long)]
    pub assets: Option<usize>,
}

impl DemoArgs {
    pub async fn run(self) -> Result<()> {
        if let Some(n) = self.assets {
            let mut out = crate::logging::capture_program_logs();
            return crate::demo::large::run_large(n, self.amm.into(), self.json, &mut out).await.map(|_| ());
        }
        // The eager bot's refusals are the demo's point; its table lists them.
        crate::logging::expect_refusals(crate::demo::EAGER_BOT_REFUSALS.iter().map(|e| e.name()));
        let mut out = crate::logging::capture_program_logs();
        let opts = crate::demo::DemoOptions {
            json: self.json,
            mode: self.mode,
            route: self.route.into(),
            amm: self.amm.into(),
        };
        crate::demo::run(&opts, &mut out).await.map(|_| ())
    }
}

/// `ballast keygen`: writes a new keypair file and prints its address.
pub fn keygen(out: &PathBuf) -> Result<()> {
    let kp = solana_keypair::Keypair::new();
    let bytes: Vec<u8> = kp.to_bytes().to_vec();
    std::fs::write(out, serde_json::to_string(&bytes)?).with_context(|| format!("write {}", out.display()))?;
    println!("{}", kp.pubkey());
    Ok(())
}
