pub mod accounts;
pub mod admin;
pub mod keeper;
pub mod user;

pub use admin::*;
pub use keeper::*;
pub use user::*;
