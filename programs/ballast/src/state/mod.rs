pub mod asset;
pub mod claim;
pub mod fees;
pub mod params;
pub mod requests;
pub mod targets;
pub mod valuation;
pub mod vault;

pub use asset::*;
pub use claim::*;
pub use fees::*;
pub use params::*;
pub use requests::*;
pub use valuation::*;
pub use vault::*;
