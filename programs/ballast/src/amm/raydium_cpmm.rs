//! Adapter for Raydium CP-Swap (CPMM), `swap_base_input`, SPL Token and Token-2022 legs.
//!
//! Extra accounts: `[cpmm_authority, amm_config, input_vault, output_vault, observation]`: the CPMM
//! program's vault authority PDA, the pool's config, the pool's vaults of the sold and the bought mint,
//! and the pool's observation account.
//!
//! No Raydium crate on the registry builds against this project's Solana crates, so the pool's account
//! layout and the instruction's interface are described here from Raydium's public program
//! (raydium-io/raydium-cp-swap, the layout of the release the project's test fixture was built from), and
//! the tests check this description against that real program executing in the test VM: a pool created by
//! Raydium's own `initialize` decodes here, and swaps through this adapter land. Every account is checked
//! before the CPI (owner, discriminator, mints, vaults, config, observation, authority, status), and the
//! caller reconciles balances afterwards as for every AMM.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

use super::SwapAccounts;
use crate::errors::BallastError;

/// The Raydium CPMM program (mainnet and devnet id).
pub const ID: Pubkey = pubkey!("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C");
/// Seed of the CPMM program's vault and LP mint authority PDA.
pub const AUTH_SEED: &[u8] = b"vault_and_lp_mint_auth_seed";
/// Anchor discriminators (`sha256("account:PoolState")[..8]`, `sha256("global:swap_base_input")[..8]`).
pub const POOL_STATE_DISCRIMINATOR: [u8; 8] = [0xf7, 0xed, 0xe3, 0xf5, 0xd7, 0xc3, 0xde, 0x46];
pub const SWAP_BASE_INPUT_DISCRIMINATOR: [u8; 8] = [143, 190, 90, 218, 196, 30, 51, 222];
/// Pool status bit that disables swaps (bit 0 deposits, bit 1 withdrawals, bit 2 swaps).
pub const STATUS_SWAP_DISABLED: u8 = 1 << 2;

pub const EXTRA_ACCOUNTS: usize = 5;

/// The fields of a CPMM `PoolState` (zero-copy, packed, after the 8-byte discriminator) that routing
/// and quoting need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub amm_config: Pubkey,
    pub token_0_vault: Pubkey,
    pub token_1_vault: Pubkey,
    pub token_0_mint: Pubkey,
    pub token_1_mint: Pubkey,
    pub token_0_program: Pubkey,
    pub token_1_program: Pubkey,
    pub observation_key: Pubkey,
    pub status: u8,
    pub protocol_fees_token_0: u64,
    pub protocol_fees_token_1: u64,
    pub fund_fees_token_0: u64,
    pub fund_fees_token_1: u64,
    pub open_time: u64,
}

/// Byte offsets of the `PoolState` fields after the discriminator: ten pubkeys (`amm_config`,
/// `pool_creator`, `token_0_vault`, `token_1_vault`, `lp_mint`, `token_0_mint`, `token_1_mint`,
/// `token_0_program`, `token_1_program`, `observation_key`), five u8s (`auth_bump`, `status`,
/// `lp_mint_decimals`, `mint_0_decimals`, `mint_1_decimals`), then u64s (`lp_supply`, the four fee
/// counters, `open_time`, `recent_epoch`) and padding.
mod layout {
    pub const KEY: usize = 32;
    pub const AMM_CONFIG: usize = 0;
    pub const TOKEN_0_VAULT: usize = 2 * KEY;
    pub const TOKEN_1_VAULT: usize = 3 * KEY;
    pub const TOKEN_0_MINT: usize = 5 * KEY;
    pub const TOKEN_1_MINT: usize = 6 * KEY;
    pub const TOKEN_0_PROGRAM: usize = 7 * KEY;
    pub const TOKEN_1_PROGRAM: usize = 8 * KEY;
    pub const OBSERVATION: usize = 9 * KEY;
    pub const STATUS: usize = 10 * KEY + 1;
    pub const U64S: usize = 10 * KEY + 5;
    pub const PROTOCOL_FEES_0: usize = U64S + 8;
    pub const PROTOCOL_FEES_1: usize = U64S + 16;
    pub const FUND_FEES_0: usize = U64S + 24;
    pub const FUND_FEES_1: usize = U64S + 32;
    pub const OPEN_TIME: usize = U64S + 40;
    /// `recent_epoch` ends here; 31 u64s of padding follow.
    pub const USED: usize = U64S + 56;
}

impl PoolState {
    /// Decodes a `PoolState` account's data (discriminator checked).
    pub fn decode(data: &[u8]) -> Option<PoolState> {
        if data.get(..8)? != POOL_STATE_DISCRIMINATOR {
            return None;
        }
        let body = data.get(8..8 + layout::USED)?;
        let key = |at: usize| -> Option<Pubkey> {
            Some(Pubkey::new_from_array(body.get(at..at + layout::KEY)?.try_into().ok()?))
        };
        let u64_at = |at: usize| -> Option<u64> { Some(u64::from_le_bytes(body.get(at..at + 8)?.try_into().ok()?)) };
        Some(PoolState {
            amm_config: key(layout::AMM_CONFIG)?,
            token_0_vault: key(layout::TOKEN_0_VAULT)?,
            token_1_vault: key(layout::TOKEN_1_VAULT)?,
            token_0_mint: key(layout::TOKEN_0_MINT)?,
            token_1_mint: key(layout::TOKEN_1_MINT)?,
            token_0_program: key(layout::TOKEN_0_PROGRAM)?,
            token_1_program: key(layout::TOKEN_1_PROGRAM)?,
            observation_key: key(layout::OBSERVATION)?,
            status: *body.get(layout::STATUS)?,
            protocol_fees_token_0: u64_at(layout::PROTOCOL_FEES_0)?,
            protocol_fees_token_1: u64_at(layout::PROTOCOL_FEES_1)?,
            fund_fees_token_0: u64_at(layout::FUND_FEES_0)?,
            fund_fees_token_1: u64_at(layout::FUND_FEES_1)?,
            open_time: u64_at(layout::OPEN_TIME)?,
        })
    }

    /// The pool's vault of `mint`, if it trades it.
    pub fn vault_of(&self, mint: &Pubkey) -> Option<Pubkey> {
        if *mint == self.token_0_mint {
            Some(self.token_0_vault)
        } else if *mint == self.token_1_mint {
            Some(self.token_1_vault)
        } else {
            None
        }
    }

    /// Fees collected for the protocol and the fund on the side of `mint`: they sit in the vault but are
    /// not the pool's reserves.
    pub fn fees_of(&self, mint: &Pubkey) -> u64 {
        if *mint == self.token_0_mint {
            self.protocol_fees_token_0.saturating_add(self.fund_fees_token_0)
        } else {
            self.protocol_fees_token_1.saturating_add(self.fund_fees_token_1)
        }
    }
}

/// The fee rates of a CPMM `AmmConfig` (Anchor account, Borsh: `bump`, `disable_create_pool`, `index`
/// u16, then `trade_fee_rate`, `protocol_fee_rate`, `fund_fee_rate` as u64 millionths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmmConfig {
    pub trade_fee_rate: u64,
    pub protocol_fee_rate: u64,
    pub fund_fee_rate: u64,
}

/// `sha256("account:AmmConfig")[..8]`.
pub const AMM_CONFIG_DISCRIMINATOR: [u8; 8] = [218, 244, 33, 104, 203, 203, 43, 111];

impl AmmConfig {
    pub fn decode(data: &[u8]) -> Option<AmmConfig> {
        if data.get(..8)? != AMM_CONFIG_DISCRIMINATOR {
            return None;
        }
        let u64_at = |at: usize| -> Option<u64> { Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?)) };
        Some(AmmConfig { trade_fee_rate: u64_at(12)?, protocol_fee_rate: u64_at(20)?, fund_fee_rate: u64_at(28)? })
    }
}

/// The CPMM program's vault authority.
pub fn authority() -> Pubkey {
    Pubkey::find_program_address(&[AUTH_SEED], &ID).0
}

pub fn swap(a: &SwapAccounts, amount_in: u64, min_out: u64, signer: &[&[&[u8]]]) -> Result<()> {
    require!(a.extra.len() == EXTRA_ACCOUNTS, BallastError::WrongRemainingAccounts);
    let (cpmm_authority, amm_config, input_vault, output_vault, observation) =
        (&a.extra[0], &a.extra[1], &a.extra[2], &a.extra[3], &a.extra[4]);
    require_keys_eq!(*a.pool.owner, ID, BallastError::InvalidAmm);
    let pool = PoolState::decode(&a.pool.try_borrow_data()?).ok_or(BallastError::InvalidAmm)?;
    let (source_mint, destination_mint) = (a.source_mint.key(), a.destination_mint.key());
    let (Some(pool_in), Some(pool_out)) = (pool.vault_of(&source_mint), pool.vault_of(&destination_mint)) else {
        return err!(BallastError::AmmPoolMintMismatch);
    };
    require!(source_mint != destination_mint, BallastError::AmmPoolMintMismatch);
    require_keys_eq!(input_vault.key(), pool_in, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(output_vault.key(), pool_out, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(amm_config.key(), pool.amm_config, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(observation.key(), pool.observation_key, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(cpmm_authority.key(), authority(), BallastError::AmmPoolAccountMismatch);
    require!(pool.status & STATUS_SWAP_DISABLED == 0, BallastError::AmmPoolSwapDisabled);

    let mut data = Vec::with_capacity(24);
    data.extend_from_slice(&SWAP_BASE_INPUT_DISCRIMINATOR);
    data.extend_from_slice(&amount_in.to_le_bytes());
    data.extend_from_slice(&min_out.to_le_bytes());
    let ix = Instruction {
        program_id: ID,
        accounts: vec![
            AccountMeta::new_readonly(a.authority.key(), true),
            AccountMeta::new_readonly(cpmm_authority.key(), false),
            AccountMeta::new_readonly(amm_config.key(), false),
            AccountMeta::new(a.pool.key(), false),
            AccountMeta::new(a.source.key(), false),
            AccountMeta::new(a.destination.key(), false),
            AccountMeta::new(input_vault.key(), false),
            AccountMeta::new(output_vault.key(), false),
            AccountMeta::new_readonly(a.source_token_program.key(), false),
            AccountMeta::new_readonly(a.destination_token_program.key(), false),
            AccountMeta::new_readonly(source_mint, false),
            AccountMeta::new_readonly(destination_mint, false),
            AccountMeta::new(observation.key(), false),
        ],
        data,
    };
    let infos = [
        a.authority.clone(),
        cpmm_authority.clone(),
        amm_config.clone(),
        a.pool.clone(),
        a.source.clone(),
        a.destination.clone(),
        input_vault.clone(),
        output_vault.clone(),
        a.source_token_program.clone(),
        a.destination_token_program.clone(),
        a.source_mint.clone(),
        a.destination_mint.clone(),
        observation.clone(),
        a.amm_program.clone(),
    ];
    invoke_signed(&ix, &infos, signer)?;
    Ok(())
}

/// The pool's two mints (token 0 and token 1).
pub fn mints(data: &[u8]) -> Result<(Pubkey, Pubkey)> {
    let pool = PoolState::decode(data).ok_or(BallastError::InvalidAmm)?;
    Ok((pool.token_0_mint, pool.token_1_mint))
}

/// The pool's mid price from its reserves (vault balances less the protocol and fund fees collected in
/// them): `extra` are its vaults of token 0 and token 1.
pub fn mid(data: &[u8], extra: &[AccountInfo]) -> Result<crate::math::sources::PoolMid> {
    let pool = PoolState::decode(data).ok_or(BallastError::InvalidAmm)?;
    require_keys_eq!(extra[0].key(), pool.token_0_vault, BallastError::AmmPoolAccountMismatch);
    require_keys_eq!(extra[1].key(), pool.token_1_vault, BallastError::AmmPoolAccountMismatch);
    let held_0 = super::any_token_amount(&extra[0], &pool.token_0_mint)?;
    let held_1 = super::any_token_amount(&extra[1], &pool.token_1_mint)?;
    Ok(crate::math::sources::PoolMid::Reserves {
        a: held_0.saturating_sub(pool.fees_of(&pool.token_0_mint)),
        b: held_1.saturating_sub(pool.fees_of(&pool.token_1_mint)),
    })
}
