//! ballast-harness: the embedded in-process chain (`chain`: solana-program-test with ballast and the
//! reference AMM loaded natively, the real Raydium CPMM and Orca Whirlpool builds in the SBF VM, real SPL
//! Token / Token-2022 / ATA programs), its transaction ledger and logs (`ledger`, `logs`), Pyth accounts in
//! the real layout (`pyth`), ready-made vaults and markets (`fixture`, `dex`) and the demo vault
//! (`demo_vault`). Used by the demo, the simulator, the local network and the tests; the keeper never
//! links it.

pub mod chain;
pub mod demo_vault;
pub mod dex;
pub mod fixture;
pub mod footprint;
pub mod heap_meter;
mod heap_scope;
pub mod large_vault;
pub mod ledger;
pub mod logs;
pub mod programs;
mod tokens;
pub use ballast_client::pyth;

pub use ballast_client as client;
