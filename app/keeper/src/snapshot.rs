//! The keeper's view of the chain: the shared planner's [`ChainView`] over JSON-RPC (batched
//! `getMultipleAccounts`, 100 keys a call; `getProgramAccounts` with `memcmp` filters for discovery).

use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use ballast_client::planner::ChainView;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

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

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        matching: &[(usize, &[u8])],
    ) -> Result<Vec<(Pubkey, solana_account::Account)>> {
        let filters =
            matching.iter().map(|(at, bytes)| RpcFilterType::Memcmp(Memcmp::new_base58_encoded(*at, bytes))).collect();
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
            with_context: None,
            sort_results: None,
        };
        Ok(self
            .0
            .get_program_ui_accounts_with_config(program, config)
            .await?
            .into_iter()
            .filter_map(|(k, ui)| ui.decode::<solana_account::Account>().map(|a| (k, a)))
            .collect())
    }
}
