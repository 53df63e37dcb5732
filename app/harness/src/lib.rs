//! ballast-harness: the embedded in-process chain (`chain`: solana-program-test with ballast and the
//! reference AMM loaded natively, real SPL Token / Token-2022 / ATA programs), Pyth accounts in the real
//! layout (`pyth`), ready-made vaults and markets (`fixture`), the demo vault (`demo_vault`), and the
//! JSON-RPC `localnet` server over it (`localnet`, `rpc`). Used by the demo, the simulator and the tests;
//! the keeper never links it.

pub mod chain;
pub mod dashboard;
pub mod demo_vault;
pub mod dex;
pub mod fault_proxy;
pub mod fixture;
pub mod ledger;
pub mod localnet;
pub mod logs;
pub use ballast_client::pyth;
pub mod pubsub;
pub mod rpc;

pub use ballast_client as client;
