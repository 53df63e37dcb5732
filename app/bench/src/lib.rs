//! ballast-bench: what `ballast bench` measures. Figures are printed, never asserted (these machines are
//! noisy); no library depends on this crate.
//!
//! - [`chain`]: rebalance transaction footprints by asset count (legacy and with a lookup table), the real
//!   DEX programs' compute units, and the embedded chain's rebalance throughput;
//! - [`keeper`]: the keeper's per-vault work (decode, value, plan) on synthetic snapshots held in memory;
//! - [`rpc`]: a bounded loopback load test of `ballast localnet`'s JSON-RPC and websocket pubsub.

pub mod chain;
pub mod keeper;
pub mod rpc;
