//! ballast-app: the `ballast` command line, kept thin. The subcommands' flags and runs (`cli`), the demo
//! flow (`demo`), stdout handling (`output`) and how much every command logs (`logging`) live here;
//! everything else is in the crates it calls: `ballast-client` (builders, decoding, the planner),
//! `ballast-harness` (embedded chain, fixtures), `ballast-localnet` (the chain served over JSON-RPC),
//! `ballast-keeper` (the bot), `ballast-sim` (simulator and tuner) and `ballast-bench` (measurements).

pub mod cli;
pub mod demo;
pub mod logging;
pub mod output;
