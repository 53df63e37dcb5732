pub mod asset;
pub mod claim;
pub mod deposit_request;
pub mod fees;
pub mod params;
pub mod targets;
pub mod vault;

pub use asset::*;
pub use claim::*;
pub use deposit_request::*;
pub use fees::*;
pub use params::*;
pub use vault::*;
