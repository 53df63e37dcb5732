//! Account decoding with the programs' and token programs' own types (no raw byte offsets).

use anchor_lang::AccountDeserialize;
use anchor_spl::token_interface::{Mint, TokenAccount};
use anyhow::{anyhow, Result};

/// Balance of an SPL Token or Token-2022 account (extensions allowed).
pub fn token_amount(data: &[u8]) -> Result<u64> {
    token_account(data).map(|(_, amount)| amount)
}

/// Supply of an SPL Token or Token-2022 mint.
pub fn mint_supply(data: &[u8]) -> Result<u64> {
    mint_info(data).map(|(_, supply)| supply)
}

/// Mint and balance of an SPL Token or Token-2022 account.
pub fn token_account(data: &[u8]) -> Result<(anchor_lang::prelude::Pubkey, u64)> {
    let acc = TokenAccount::try_deserialize(&mut &data[..]).map_err(|e| anyhow!("not a token account: {e}"))?;
    Ok((acc.mint, acc.amount))
}

/// Decimals and supply of an SPL Token or Token-2022 mint.
pub fn mint_info(data: &[u8]) -> Result<(u8, u64)> {
    let m = Mint::try_deserialize(&mut &data[..]).map_err(|e| anyhow!("not a mint: {e}"))?;
    Ok((m.decimals, m.supply))
}

/// The Clock sysvar's unix timestamp. The sysvar is five little-endian 8-byte fields in declaration order
/// (`slot`, `epoch_start_timestamp`, `epoch`, `leader_schedule_epoch`, `unix_timestamp`), as bincode
/// writes `solana_clock::Clock`.
pub fn clock_unix_timestamp(data: &[u8]) -> Result<i64> {
    let field = data.get(32..40).ok_or_else(|| anyhow!("not a clock sysvar: {} bytes", data.len()))?;
    let bytes: [u8; 8] = field.try_into().map_err(|_| anyhow!("clock sysvar field"))?;
    Ok(i64::from_le_bytes(bytes))
}
