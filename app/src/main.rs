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
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json } => {
            let mut out = ballast_app::output::program_logs_to_stderr();
            demo::run(&DemoOptions { json }, &mut out).await?;
        }
    }
    Ok(())
}
