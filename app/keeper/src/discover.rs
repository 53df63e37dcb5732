//! Discovery: which vaults to keep, and which deposit requests wait on them (getProgramAccounts on the
//! accounts' discriminators; the listed vaults with `--vault`).

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{Context as _, Result};
use ballast::state::{DepositRequest, Vault};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

async fn program_accounts(
    rpc: &RpcClient,
    filters: Vec<RpcFilterType>,
) -> Result<Vec<(Pubkey, solana_account::Account)>> {
    let config = RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
        with_context: None,
        sort_results: None,
    };
    Ok(rpc
        .get_program_ui_accounts_with_config(&ballast::ID, config)
        .await?
        .into_iter()
        .filter_map(|(k, ui)| ui.decode::<solana_account::Account>().map(|a| (k, a)))
        .collect())
}

/// Every ballast vault on the endpoint, or the listed ones.
pub async fn vaults(rpc: &RpcClient, listed: &[Pubkey]) -> Result<Vec<(Pubkey, Vault)>> {
    let accounts = if listed.is_empty() {
        program_accounts(rpc, vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Vault::DISCRIMINATOR))]).await?
    } else {
        let found = rpc.get_multiple_accounts(listed).await?;
        listed.iter().zip(found).filter_map(|(k, a)| a.map(|a| (*k, a))).collect()
    };
    accounts
        .into_iter()
        .map(|(k, a)| Ok((k, Vault::try_deserialize(&mut &a.data[..]).with_context(|| format!("decode vault {k}"))?)))
        .collect()
}

/// The open deposit requests of `vault`.
pub async fn deposit_requests(rpc: &RpcClient, vault: &Pubkey) -> Result<Vec<(Pubkey, DepositRequest)>> {
    let filters = vec![
        RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, DepositRequest::DISCRIMINATOR)),
        RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, vault.as_ref())),
    ];
    Ok(program_accounts(rpc, filters)
        .await?
        .into_iter()
        .filter_map(|(k, a)| DepositRequest::try_deserialize(&mut &a.data[..]).ok().map(|r| (k, r)))
        .collect())
}
