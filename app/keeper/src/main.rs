//! `ballast-keeper`: the keeper bot alone (no embedded chain, no simulator), for operators.
//! `ballast keeper` in the full CLI runs the same code with the same flags.

use clap::Parser;

#[derive(Parser)]
#[command(name = "ballast-keeper", version, about = "Permissionless rebalancing keeper for ballast vaults")]
struct Cli {
    #[command(flatten)]
    keeper: ballast_keeper::KeeperArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ballast_keeper::init_logging();
    ballast_keeper::run_cli(Cli::parse().keeper).await
}
