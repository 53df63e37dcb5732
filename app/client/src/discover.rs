//! Discovery, one for every reader (the keeper over JSON-RPC, the dashboard and the tests over the embedded
//! chain): which ballast vaults exist, and which deposit and withdrawal requests wait on one, by the accounts'
//! discriminators.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{Context as _, Result};
use ballast::state::{DepositRequest, Vault, WithdrawRequest};

use crate::planner::ChainView;

/// Every ballast vault the view holds, or the `listed` ones.
pub async fn vaults<V: ChainView>(view: &mut V, listed: &[Pubkey]) -> Result<Vec<(Pubkey, Vault)>> {
    let accounts = if listed.is_empty() {
        view.program_accounts(&ballast::ID, &[(0, Vault::DISCRIMINATOR)]).await?
    } else {
        let found = view.accounts(listed).await?;
        listed.iter().zip(found).filter_map(|(k, a)| a.map(|a| (*k, a))).collect()
    };
    accounts
        .into_iter()
        .map(|(k, a)| Ok((k, Vault::try_deserialize(&mut &a.data[..]).with_context(|| format!("decode vault {k}"))?)))
        .collect()
}

/// The open deposit requests of `vault`.
pub async fn deposit_requests<V: ChainView>(view: &mut V, vault: &Pubkey) -> Result<Vec<(Pubkey, DepositRequest)>> {
    let found = view.program_accounts(&ballast::ID, &[(0, DepositRequest::DISCRIMINATOR), (8, vault.as_ref())]).await?;
    Ok(found
        .into_iter()
        .filter_map(|(k, a)| DepositRequest::try_deserialize(&mut &a.data[..]).ok().map(|r| (k, r)))
        .collect())
}

/// The open single-asset withdrawal requests of `vault`.
pub async fn withdraw_requests<V: ChainView>(view: &mut V, vault: &Pubkey) -> Result<Vec<(Pubkey, WithdrawRequest)>> {
    let found =
        view.program_accounts(&ballast::ID, &[(0, WithdrawRequest::DISCRIMINATOR), (8, vault.as_ref())]).await?;
    Ok(found
        .into_iter()
        .filter_map(|(k, a)| WithdrawRequest::try_deserialize(&mut &a.data[..]).ok().map(|r| (k, r)))
        .collect())
}

/// Whether `data` holds each `(offset, bytes)` of `matching` (a `memcmp` filter, for views that filter
/// locally).
pub fn holds(data: &[u8], matching: &[(usize, &[u8])]) -> bool {
    matching.iter().all(|(at, bytes)| data.get(*at..at + bytes.len()) == Some(*bytes))
}
