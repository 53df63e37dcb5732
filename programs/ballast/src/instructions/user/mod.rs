pub mod cancel_deposit;
pub mod deposit;
pub mod open_claim;
pub mod redeem_claim;
pub mod request_deposit;
pub mod settle_deposit;
pub mod withdraw;

pub use cancel_deposit::*;
pub use deposit::*;
pub use open_claim::*;
pub use redeem_claim::*;
pub use request_deposit::*;
pub use settle_deposit::*;
pub use withdraw::*;
