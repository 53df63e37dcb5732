pub mod activate_vault;
pub mod add_amm;
pub mod add_asset;
pub mod governance_transfer;
pub mod governed;
pub mod initialize_vault;
pub mod params;
pub mod remove_amm;
pub mod set_pause;

pub use add_amm::*;
pub use add_asset::*;
pub use governance_transfer::*;
pub use governed::*;
pub use initialize_vault::*;
pub use params::*;
pub use set_pause::*;
