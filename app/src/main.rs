use anyhow::Result;
use ballast_app::demo::{self, DemoOptions};
use clap::{Parser, Subcommand};

/// ballast: an oracle-priced, permissionlessly rebalanced multi-asset vault.
#[derive(Parser)]
#[command(name = "ballast", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole flow on an embedded in-process chain and print holdings, weights and drift.
    Demo {
        /// Print only one JSON object (the final state) as the last line.
        #[arg(long)]
        json: bool,
    },
    /// Print rebalance transaction sizes (2–16 assets, legacy and with a lookup table) and the embedded
    /// chain's rebalance throughput.
    Bench {
        /// Rebalances to time for the throughput figure.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            demo::run(&DemoOptions { json }, &mut out).await?;
        }
        Command::Bench { iterations, json } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            ballast_app::bench::run(iterations, json, &mut out).await?;
        }
    }
    Ok(())
}
