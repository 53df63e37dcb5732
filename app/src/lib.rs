//! Off-chain side of ballast: instruction builders and account decoding (`client`), Pyth account
//! encoding (`pyth`), the embedded in-process chain (`chain`), ready-made vault setups (`fixture`) and
//! the `demo` flow. The keeper and the simulator build on the same pieces.

pub mod bench;
pub mod chain;
pub mod client;
pub mod demo;
pub mod fixture;
pub mod keeper;
pub mod localnet;
pub mod output;
pub mod pyth;
pub mod rebalancer;
pub mod rpc;
pub mod sim;
