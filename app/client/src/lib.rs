//! ballast-client: PDA finders, instruction builders, account decoding, error names and the one
//! off-chain rebalance planner ([`planner`]). Pure: no chain, no RPC client, no server, so the keeper,
//! the harness, the simulator, the demo and the tests all build and plan transactions the same way.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use ballast::constants::*;
use ballast::state::{BandMode, Claim, DepositRequest, TargetMode, Vault, VaultParams};

pub mod amm;
pub mod decode;
mod deposits;
pub mod describe;
pub mod dex;
pub mod discover;
pub mod events;
mod governance;
pub mod planner;
pub mod pyth;
mod trading;

pub use deposits::*;
pub use governance::*;
pub use trading::*;

/// PDA finders (seeds come from `ballast::constants`).
pub mod pda {
    use super::*;

    pub fn vault(creator: &Pubkey, vault_id: u64) -> Pubkey {
        Pubkey::find_program_address(&[VAULT_SEED, creator.as_ref(), &vault_id.to_le_bytes()], &ballast::ID).0
    }
    pub fn share_mint(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[SHARE_MINT_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn locked_shares(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[LOCKED_SHARES_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn reserve(vault: &Pubkey, mint: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[RESERVE_SEED, vault.as_ref(), mint.as_ref()], &ballast::ID).0
    }
    pub fn claim(vault: &Pubkey, owner: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[CLAIM_SEED, vault.as_ref(), owner.as_ref()], &ballast::ID).0
    }
    pub fn deposit_request(vault: &Pubkey, depositor: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[DEPOSIT_REQUEST_SEED, vault.as_ref(), depositor.as_ref()], &ballast::ID).0
    }
}

/// Decodes a vault account (checks the discriminator).
pub fn decode_vault(data: &[u8]) -> anyhow::Result<Vault> {
    Ok(Vault::try_deserialize(&mut &data[..])?)
}

/// Decodes a deposit request account (checks the discriminator).
pub fn decode_deposit_request(data: &[u8]) -> anyhow::Result<DepositRequest> {
    Ok(DepositRequest::try_deserialize(&mut &data[..])?)
}

/// Decodes a claim account (checks the discriminator).
pub fn decode_claim(data: &[u8]) -> anyhow::Result<Claim> {
    Ok(Claim::try_deserialize(&mut &data[..])?)
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData, remaining: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction { program_id: ballast::ID, accounts: metas, data: data.data() }
}

/// Name of a custom program error code: ballast's (6000+) or the reference AMM's (7000+).
pub fn code_name(code: u32) -> String {
    if let Some(e) = ballast::errors::BallastError::from_code(code) {
        return e.name();
    }
    match ballast_amm::AmmError::from_code(code) {
        Some(e) => format!("AMM {}", e.name()),
        None => format!("custom error {code}"),
    }
}

/// Sensible defaults: 1 % slippage cap reached by a 60 s rebalance auction that starts at fair value,
/// 60 s oracle age, 2 % confidence cap (rebalances: 5 s and 1 %), 1-day timelock, fixed bands and
/// targets, 1-hour volatility time constant, single-asset deposits with a 10 bps fee plus 60 bps of the
/// part the vault must trade, settled 6 s after the request (fresh readings only) within 60 s; no vault fees.
pub fn default_params() -> VaultParams {
    VaultParams {
        slippage_cap_bps: 100,
        oracle_max_age_secs: 60,
        oracle_max_conf_bps: 200,
        rebalance_cooldown_slots: 10,
        bounty_bps: 5,
        bounty_cap_value: 5_000_000,
        timelock_secs: 86_400,
        band_mode: BandMode::Fixed,
        target_mode: TargetMode::Fixed,
        vol_tau_secs: 3_600,
        deposit_fee_bps: 10,
        deposit_delay_secs: 6,
        deposit_window_secs: 60,
        rebalance_max_age_secs: 5,
        rebalance_max_conf_bps: 100,
        flash_enabled: true,
        auction_secs: 60,
        trade_cost_bps: 60,
        fees: ballast::state::FeeParams::default(),
    }
}
