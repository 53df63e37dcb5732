//! Every integration test of ballast in one test binary (one link instead of one per file). Run one
//! area with `cargo test -p ballast-tests --test suite <module>::`, e.g. `invariants::`.

mod adaptive;
mod admin;
mod amm;
mod attack_exits;
mod attack_large_vaults;
mod attack_vesting;
mod bench;
mod best_execution;
mod demo;
mod deposit_requests;
mod deposits;
mod dex;
mod evidence;
mod exits;
mod fees;
mod flash;
mod funds_safety;
mod house;
mod invariants;
mod jupiter;
mod keeper_e2e;
mod keeper_faults;
mod large_vaults;
mod limits;
mod oracle;
mod orca_route;
mod pubsub;
mod rebalance;
mod review;
mod second_source;
mod simulate;
mod spoofed_amm;
mod ts_client;
mod valuation_cache;
mod withdrawals;
