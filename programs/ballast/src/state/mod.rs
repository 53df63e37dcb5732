pub mod claim;
pub mod deposit_request;
pub mod fees;
pub mod vault;

pub use claim::*;
pub use deposit_request::*;
pub use fees::*;
pub use vault::*;
