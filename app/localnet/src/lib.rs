//! ballast-localnet: the embedded chain served as a Solana node serves it.
//!
//! Layers, each depending only on the ones above it:
//! - [`wire`]: state, the JSON-RPC envelope and error codes, parameters and the account/transaction
//!   encoders;
//! - [`methods`]: the JSON-RPC methods as a name → handler table, one module per area;
//!   [`pubsub`]: websocket subscriptions; [`dashboard`]: the web page and its JSON API;
//! - [`localnet`]: the demo vault and pools, the clock ticker and price feed, and the routers.

pub mod dashboard;
pub mod localnet;
pub mod methods;
pub mod pubsub;
pub mod wire;

pub use localnet::{start, Localnet, LocalnetOptions, PricePath};
