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
