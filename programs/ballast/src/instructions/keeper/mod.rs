pub mod poke;
pub mod rebalance;

pub use poke::*;
pub use rebalance::*;
