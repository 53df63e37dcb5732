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
pub mod exit;
mod governance;
pub mod planner;
pub mod pyth;
mod trading;
mod withdrawals;

pub use deposits::*;
pub use governance::*;
pub use trading::*;
pub use withdrawals::*;

/// PDA finders (seeds come from `ballast::constants`).
pub mod pda {
    use super::*;

    /// Entries [`find`] remembers per thread before it starts over (a keeper scanning thousands of vaults
    /// derives a few addresses per vault).
    const MEMO_CAPACITY: usize = 1 << 16;

    std::thread_local! {
        static MEMO: std::cell::RefCell<std::collections::HashMap<(Pubkey, Vec<u8>), Pubkey>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }

    /// `Pubkey::find_program_address(seeds, program).0`, remembered: a derivation tries bumps from 255 down
    /// and checks each candidate is off the curve (a point decompression, tens of microseconds), and the
    /// keeper, the harness and the simulator derive the same few addresses at every step.
    pub fn find(seeds: &[&[u8]], program: &Pubkey) -> Pubkey {
        let mut key = Vec::with_capacity(seeds.iter().map(|s| s.len() + 1).sum());
        for s in seeds {
            // Each seed is at most 32 bytes: its length in one byte keeps the concatenation unambiguous.
            key.push(s.len() as u8);
            key.extend_from_slice(s);
        }
        let key = (*program, key);
        if let Some(found) = MEMO.with(|m| m.borrow().get(&key).copied()) {
            return found;
        }
        let found = Pubkey::find_program_address(seeds, program).0;
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= MEMO_CAPACITY {
                m.clear();
            }
            m.insert(key, found);
        });
        found
    }

    /// The associated token account of `owner` for `mint` under `token_program` (remembered like [`find`]).
    pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
        find(&[owner.as_ref(), token_program.as_ref(), mint.as_ref()], &anchor_spl::associated_token::ID)
    }

    pub fn vault(creator: &Pubkey, vault_id: u64) -> Pubkey {
        find(&[VAULT_SEED, creator.as_ref(), &vault_id.to_le_bytes()], &ballast::ID)
    }
    pub fn share_mint(vault: &Pubkey) -> Pubkey {
        find(&[SHARE_MINT_SEED, vault.as_ref()], &ballast::ID)
    }
    pub fn locked_shares(vault: &Pubkey) -> Pubkey {
        find(&[LOCKED_SHARES_SEED, vault.as_ref()], &ballast::ID)
    }
    pub fn reserve(vault: &Pubkey, mint: &Pubkey) -> Pubkey {
        find(&[RESERVE_SEED, vault.as_ref(), mint.as_ref()], &ballast::ID)
    }
    pub fn claim(vault: &Pubkey, owner: &Pubkey) -> Pubkey {
        find(&[CLAIM_SEED, vault.as_ref(), owner.as_ref()], &ballast::ID)
    }
    pub fn deposit_request(vault: &Pubkey, depositor: &Pubkey) -> Pubkey {
        find(&[DEPOSIT_REQUEST_SEED, vault.as_ref(), depositor.as_ref()], &ballast::ID)
    }
    pub fn withdraw_request(vault: &Pubkey, owner: &Pubkey) -> Pubkey {
        find(&[WITHDRAW_REQUEST_SEED, vault.as_ref(), owner.as_ref()], &ballast::ID)
    }
    /// The share account holding a withdrawal request's escrowed shares.
    pub fn withdraw_escrow(request: &Pubkey) -> Pubkey {
        find(&[WITHDRAW_ESCROW_SEED, request.as_ref()], &ballast::ID)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn remembered_addresses_are_the_derived_ones() {
            let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
            for _ in 0..2 {
                assert_eq!(
                    reserve(&a, &b),
                    Pubkey::find_program_address(&[RESERVE_SEED, a.as_ref(), b.as_ref()], &ballast::ID).0
                );
                assert_eq!(
                    ata(&a, &b, &anchor_spl::token::ID),
                    anchor_spl::associated_token::get_associated_token_address_with_program_id(
                        &a,
                        &b,
                        &anchor_spl::token::ID
                    )
                );
            }
            // Memo entries are per program and per split of the seeds, each the derivation's own answer.
            for (seeds, program) in [
                (&[&b"ab"[..], b"c"][..], ballast::ID),
                (&[&b"a"[..], b"bc"][..], ballast::ID),
                (&[&b"ab"[..], b"c"][..], ballast_amm::ID),
            ] {
                for _ in 0..2 {
                    assert_eq!(find(seeds, &program), Pubkey::find_program_address(seeds, &program).0);
                }
            }
            assert_ne!(find(&[b"ab", b"c"], &ballast::ID), find(&[b"ab", b"c"], &ballast_amm::ID));
        }
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

/// Decodes a withdrawal request account (checks the discriminator).
pub fn decode_withdraw_request(data: &[u8]) -> anyhow::Result<ballast::state::WithdrawRequest> {
    Ok(ballast::state::WithdrawRequest::try_deserialize(&mut &data[..])?)
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

/// Sensible defaults: 1 % slippage cap reached by a 200 s rebalance auction that starts at fair value and
/// falls 0.5 bps a second while it is seen out of band at least every 10 s, 60 s oracle age, 2 % confidence
/// cap (rebalances: 5 s and 1 %), 1-day timelock, fixed bands and targets, 1-hour volatility time constant,
/// single-asset deposits with a 10 bps fee plus 105 bps (the cap and the bounty: what the auction can
/// reach) of the part the vault must trade, settled 6 s after the request (fresh readings only) within
/// 60 s; a performance fee's mark moves only on prices within 3 % of their EMA; no vault fees.
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
        auction_secs: 200,
        trade_cost_bps: 105,
        auction_heartbeat_secs: 10,
        max_ema_divergence_bps: 300,
        pool_price_bound: true,
        max_pool_divergence_bps: 100,
        fees: ballast::state::FeeParams::default(),
    }
}
