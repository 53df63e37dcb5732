//! The keeper's view of the chain: the shared planner's [`ChainView`] over JSON-RPC (batched
//! `getMultipleAccounts`, 100 keys a call).

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use ballast_client::planner::ChainView;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

/// [`ChainView`] over an RPC client.
pub struct RpcView<'a>(pub &'a RpcClient);

impl ChainView for RpcView<'_> {
    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<solana_account::Account>>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            out.extend(self.0.get_multiple_accounts(chunk).await?);
        }
        Ok(out)
    }

    async fn slot(&mut self) -> Result<u64> {
        Ok(self.0.get_slot().await?)
    }
}
