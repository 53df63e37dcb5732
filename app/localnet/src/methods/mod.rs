//! JSON-RPC methods as a name → handler table, one module per area: [`accounts`], [`transactions`],
//! [`history`] (what explorers ask about past transactions and blocks), [`cluster`] and [`development`]
//! (`ballast_*`, localnet only). Anything not in the table is error -32601, as on a real node.

pub mod accounts;
pub mod cluster;
pub mod development;
pub mod history;
pub mod transactions;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;
use tokio::sync::MutexGuard;

use ballast_harness::chain::Chain;

use crate::wire::{self, BoxFuture, RpcError, RpcState};

/// One call, with the chain locked for its duration.
pub struct Call<'a> {
    pub state: &'a RpcState,
    pub chain: MutexGuard<'a, Chain>,
    /// The slot the bank was at when the call started.
    pub slot: u64,
    pub method: &'a str,
    pub params: &'a Value,
}

/// A method handler.
pub type Handler = for<'a> fn(Call<'a>) -> BoxFuture<'a>;

/// `(name, handler)` pairs from `async fn(Call<'_>) -> RpcResult` functions.
#[macro_export]
macro_rules! handlers {
    ($($name:literal => $f:path),* $(,)?) => {
        vec![$(($name, {
            fn boxed(c: $crate::methods::Call<'_>) -> $crate::wire::BoxFuture<'_> { Box::pin($f(c)) }
            boxed as $crate::methods::Handler
        })),*]
    };
}

/// Every method of every area.
fn table() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        for area in [accounts::methods(), transactions::methods(), history::methods(), cluster::methods()] {
            t.extend(area);
        }
        t
    })
}

/// Answers `method`: a development method (which locks the chain itself), or a table method with the chain
/// locked.
pub fn dispatch<'a>(state: &'a RpcState, method: &'a str, params: &'a Value) -> BoxFuture<'a> {
    Box::pin(async move {
        if method.starts_with(development::PREFIX) {
            return development::dispatch(state, method, params).await;
        }
        let handler = *table().get(method).ok_or_else(|| RpcError::method_not_found(method))?;
        let chain = state.chain.lock().await;
        let slot = wire::slot(&chain).await;
        handler(Call { state, chain, slot, method, params }).await
    })
}

/// Every method name the table serves (sorted), for documentation and tests.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table().keys().copied().collect();
    v.sort();
    v
}
