//! `ballast localnet`: serves the embedded chain with the demo vault until Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use ballast_localnet::{LocalnetOptions, PricePath};

/// `ballast localnet`.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalnetArgs {
    #[arg(long, default_value = "127.0.0.1:8899")]
    pub addr: SocketAddr,
    /// Websocket pubsub address (default: the RPC port + 1, as validators serve it; the RPC port
    /// also accepts websocket upgrades).
    #[arg(long)]
    pub ws_addr: Option<SocketAddr>,
    /// Also serve the web dashboard here (it is always served on the RPC address, at `/`).
    #[arg(long)]
    pub dashboard_addr: Option<SocketAddr>,
    /// Write the demo vault's governance and guardian keypairs here (governance.json, guardian.json).
    #[arg(long)]
    pub keys_dir: Option<PathBuf>,
    /// hold, scripted or random.
    #[arg(long, default_value = "scripted")]
    pub price_path: PricePath,
    /// Seconds between price steps.
    #[arg(long, default_value_t = 3.0)]
    pub step_secs: f64,
    /// Also serve a large vault of this many assets (17 to 128), for the dashboard and keepers.
    #[arg(long, value_name = "ASSETS")]
    pub large_vault: Option<usize>,
}

impl LocalnetArgs {
    pub async fn run(self) -> Result<()> {
        // The clients' refusals are answered to them over RPC; the localnet logs them at debug.
        crate::logging::expect_every_refusal();
        let mut out = crate::logging::capture_program_logs();
        let opts = LocalnetOptions {
            addr: self.addr,
            ws_addr: self.ws_addr,
            dashboard_addr: self.dashboard_addr,
            price_path: self.price_path,
            step: Duration::from_secs_f64(self.step_secs),
            keys_dir: self.keys_dir,
            large_vault: self.large_vault,
            ..Default::default()
        };
        let net = ballast_localnet::start(opts).await?;
        writeln!(out, "ballast localnet on {} (JSON-RPC), price path {:?}", net.url(), self.price_path)?;
        writeln!(out, "websocket pubsub on {}", net.ws_url())?;
        writeln!(out, "dashboard on {}", net.dashboard_url())?;
        writeln!(out, "demo vault {}", net.vault())?;
        if let Some(key) = net.large_vault {
            writeln!(out, "large vault {key} ({} assets)", self.large_vault.unwrap_or_default())?;
        }
        writeln!(
            out,
            "run a keeper: ballast keygen keeper.json && ballast keeper --rpc {} --keypair keeper.json",
            net.url()
        )?;
        out.flush()?;
        tokio::signal::ctrl_c().await?;
        net.stop();
        Ok(())
    }
}
