use anyhow::Result;
use ballast_app::cli::bench::BenchArgs;
use ballast_app::cli::localnet::LocalnetArgs;
use ballast_app::cli::simulate::SimulateArgs;
use ballast_app::cli::tune::TuneArgs;
use ballast_app::cli::withdraw::WithdrawArgs;
use ballast_app::cli::DemoArgs;
use clap::{Parser, Subcommand};

/// ballast: an oracle-priced, permissionlessly rebalanced multi-asset vault.
#[derive(Parser)]
#[command(name = "ballast", version, about)]
struct Cli {
    /// Say more: -v adds our info lines (and what the programs print), -vv our debug lines. BALLAST_LOG or
    /// RUST_LOG, when set, is the filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole flow on an embedded in-process chain and print holdings, weights and drift.
    Demo(DemoArgs),
    /// Print rebalance transaction sizes (2–16 assets, legacy and with a lookup table), the footprint of
    /// valuing 16–128-asset vaults from the valuation cache, and the embedded chain's rebalance throughput.
    Bench(BenchArgs),
    /// Serve the embedded chain with the demo vault over Solana JSON-RPC, moving oracle prices.
    Localnet(LocalnetArgs),
    /// Run the permissionless keeper bot against a JSON-RPC endpoint (the same code as `ballast-keeper`).
    Keeper {
        #[command(flatten)]
        args: ballast_keeper::KeeperArgs,
    },
    /// Compare rebalancing strategies by running the real programs over a price path.
    Simulate(SimulateArgs),
    /// Search band settings over simulated paths; print the cost / tracking-error frontier.
    Tune(TuneArgs),
    /// Write a new keypair file.
    Keygen { out: std::path::PathBuf },
    /// Leave a vault now in one transaction, ending with one asset (`--to USDC`): withdraw in kind, swap
    /// every other slice through the vault's whitelisted pools, one overall minimum checked last.
    Withdraw(WithdrawArgs),
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    // The keeper's log is its output; every other command prints its own and logs only what goes wrong.
    let output: &[&str] = if matches!(cli.command, Command::Keeper { .. }) { &["ballast_keeper"] } else { &[] };
    ballast_app::logging::init(&ballast_app::logging::Verbosity::from_env(cli.verbose), output);
    let done = match cli.command {
        Command::Demo(args) => args.run().await,
        Command::Bench(args) => args.run().await,
        Command::Localnet(args) => args.run().await,
        Command::Keeper { args } => ballast_keeper::run_cli(args).await,
        Command::Simulate(args) => args.run().await,
        Command::Tune(args) => args.run().await,
        Command::Keygen { out } => ballast_app::cli::keygen(&out),
        Command::Withdraw(args) => args.run().await,
    };
    // Every program log line is out before the command's result (or error) is.
    ballast_app::logging::finish();
    done
}
