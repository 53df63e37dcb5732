//! ballast-app: the `ballast` command line, kept thin. The demo flow (`demo`), the benchmark (`bench`)
//! and stdout handling (`output`) live here; everything else is in the crates it calls:
//! `ballast-client` (builders, decoding, the planner), `ballast-harness` (embedded chain, fixtures,
//! localnet), `ballast-keeper` (the bot) and `ballast-sim` (simulator and tuner).

pub mod bench;
pub mod demo;
pub mod output;
pub mod rpc_bench;
