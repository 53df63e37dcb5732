pub mod accrue_fees;
pub mod flash;
pub mod poke;
pub mod rebalance;
pub mod trade;
pub mod valuation;

pub use accrue_fees::*;
pub use flash::*;
pub use poke::*;
pub use rebalance::*;
pub use valuation::*;
