pub mod deposit;
pub mod deposit_single;
pub mod withdraw;

pub use deposit::*;
pub use deposit_single::*;
pub use withdraw::*;
