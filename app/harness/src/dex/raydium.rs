//! Raydium CPMM pools created with the real program's own `initialize`, whitelisted for a vault, and kept
//! at the oracle's price by an arbitrageur trading through the real `swap_base_input`.

use anchor_lang::prelude::Pubkey;

use super::RENT_SYSVAR;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anyhow::{anyhow, Result};
use solana_signer::Signer;

use crate::chain::{Chain, TokenProgram};
use crate::client::dex::raydium::{self as cpmm, PoolState};
use crate::fixture::VaultFixture;

pub use cpmm::ID;

/// Raydium's mainnet `AmmConfig` index 0 (0.25 % trade fee), loaded into every chain.
pub const AMM_CONFIG: Pubkey = Pubkey::from_str_const("D4FPEruKEHrG5TenZ2mpDGEfu1iUvTiqBxvpU8HLBvC2");
/// The create-pool fee receiver `initialize` requires (a wrapped-SOL account).
pub const CREATE_POOL_FEE: Pubkey = Pubkey::from_str_const("DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8");
/// `sha256("global:initialize")[..8]`.
pub const INITIALIZE_DISCRIMINATOR: [u8; 8] = [175, 175, 109, 31, 13, 152, 155, 237];

/// PDAs of a CPMM pool.
pub mod pda {
    use super::*;
    pub fn pool(config: &Pubkey, mint_0: &Pubkey, mint_1: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[b"pool", config.as_ref(), mint_0.as_ref(), mint_1.as_ref()], &ID).0
    }
    pub fn lp_mint(pool: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[b"pool_lp_mint", pool.as_ref()], &ID).0
    }
    pub fn vault(pool: &Pubkey, mint: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[b"pool_vault", pool.as_ref(), mint.as_ref()], &ID).0
    }
    pub fn observation(pool: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[b"observation", pool.as_ref()], &ID).0
    }
}

/// A CPMM pool between two vault assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpmmPool {
    pub key: Pubkey,
    /// Vault asset indexes of the pool's token 0 and token 1 (token 0 sorts first).
    pub index_0: usize,
    pub index_1: usize,
}

impl CpmmPool {
    pub async fn state(&self, chain: &mut Chain) -> Result<PoolState> {
        let acc = chain.account(&self.key).await.ok_or_else(|| anyhow!("CPMM pool missing"))?;
        PoolState::decode(&acc.data).ok_or_else(|| anyhow!("not a CPMM pool"))
    }
}

/// `initialize(init_amount_0, init_amount_1, open_time)`: creates the pool of `mint_0` < `mint_1` with the
/// creator's tokens (the creator pays the 0.15 SOL create-pool fee and the rent).
#[allow(clippy::too_many_arguments)]
pub fn initialize(
    creator: &Pubkey,
    mint_0: &Pubkey,
    mint_1: &Pubkey,
    program_0: &Pubkey,
    program_1: &Pubkey,
    creator_0: &Pubkey,
    creator_1: &Pubkey,
    amounts: (u64, u64),
) -> Instruction {
    let pool = pda::pool(&AMM_CONFIG, mint_0, mint_1);
    let lp_mint = pda::lp_mint(&pool);
    let spl = anchor_spl::token::ID;
    let creator_lp =
        anchor_spl::associated_token::get_associated_token_address_with_program_id(creator, &lp_mint, &spl);
    let mut data = INITIALIZE_DISCRIMINATOR.to_vec();
    data.extend_from_slice(&amounts.0.to_le_bytes());
    data.extend_from_slice(&amounts.1.to_le_bytes());
    data.extend_from_slice(&0u64.to_le_bytes());
    Instruction {
        program_id: ID,
        accounts: vec![
            AccountMeta::new(*creator, true),
            AccountMeta::new_readonly(AMM_CONFIG, false),
            AccountMeta::new_readonly(cpmm::authority(), false),
            AccountMeta::new(pool, false),
            AccountMeta::new_readonly(*mint_0, false),
            AccountMeta::new_readonly(*mint_1, false),
            AccountMeta::new(lp_mint, false),
            AccountMeta::new(*creator_0, false),
            AccountMeta::new(*creator_1, false),
            AccountMeta::new(creator_lp, false),
            AccountMeta::new(pda::vault(&pool, mint_0), false),
            AccountMeta::new(pda::vault(&pool, mint_1), false),
            AccountMeta::new(CREATE_POOL_FEE, false),
            AccountMeta::new(pda::observation(&pool), false),
            AccountMeta::new_readonly(spl, false),
            AccountMeta::new_readonly(*program_0, false),
            AccountMeta::new_readonly(*program_1, false),
            AccountMeta::new_readonly(anchor_spl::associated_token::ID, false),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
            AccountMeta::new_readonly(RENT_SYSVAR, false),
        ],
        data,
    }
}

impl VaultFixture {
    /// Creates a Raydium CPMM pool for assets `i` and `j` holding `usd_per_side` dollars of each at the
    /// oracle mid price (the chain payer creates it: it is every fixture mint's authority), lets its open
    /// time pass, and whitelists it for the vault.
    pub async fn create_cpmm_pool(&self, chain: &mut Chain, i: usize, j: usize, usd_per_side: f64) -> Result<CpmmPool> {
        let (i0, i1) = if self.assets[i].mint < self.assets[j].mint { (i, j) } else { (j, i) };
        let (a0, a1) = (self.assets[i0].clone(), self.assets[i1].clone());
        let amount_0 = self.amount_for_usd(chain, i0, usd_per_side).await;
        let amount_1 = self.amount_for_usd(chain, i1, usd_per_side).await;
        let user_0 = self.payer_account(chain, i0).await?;
        let user_1 = self.payer_account(chain, i1).await?;
        let mint_0 = chain.mint_to_ix(&a0.mint, &user_0, amount_0, a0.spec.program)?;
        let mint_1 = chain.mint_to_ix(&a1.mint, &user_1, amount_1, a1.spec.program)?;
        let payer = chain.payer().pubkey();
        let (p0, p1) = (a0.spec.program.id(), a1.spec.program.id());
        let ix = initialize(&payer, &a0.mint, &a1.mint, &p0, &p1, &user_0, &user_1, (amount_0, amount_1));
        chain.send(&[budget(400_000), mint_0, mint_1, ix], &[]).await.map_err(|e| anyhow!("CPMM initialize: {e}"))?;
        // The pool opens at the next second: swaps need the clock past it.
        chain.advance_time(2).await;
        self.refresh_prices(chain).await;
        let key = pda::pool(&AMM_CONFIG, &a0.mint, &a1.mint);
        self.whitelist(chain, &ID, &key).await?;
        Ok(CpmmPool { key, index_0: i0, index_1: i1 })
    }

    /// Arbitrage step for a CPMM pool: the chain payer swaps through the real program until the pool's
    /// price (its reserves, net of collected fees) matches the oracle mid prices. Float math, off chain.
    pub async fn arbitrage_cpmm(&self, chain: &mut Chain, pool: &CpmmPool) -> Result<()> {
        let state = pool.state(chain).await?;
        let r0 = (chain.token_amount(&state.token_0_vault).await - state.fees_of(&state.token_0_mint)) as f64;
        let r1 = (chain.token_amount(&state.token_1_vault).await - state.fees_of(&state.token_1_mint)) as f64;
        let (p0, p1) = (self.unit_price(chain, pool.index_0).await, self.unit_price(chain, pool.index_1).await);
        let k = r0 * r1;
        let target_0 = (k * p1 / p0).sqrt();
        // The trade fee is taken from the input first: gross up the net amount that moves the price.
        let gross = |net: f64| net / (1.0 - 0.0025);
        let (from, to, amount) = if target_0 > r0 {
            (pool.index_0, pool.index_1, gross(target_0 - r0))
        } else {
            (pool.index_1, pool.index_0, gross(k / target_0 - r1))
        };
        let amount = amount as u64;
        if amount == 0 || (amount as f64) < 1e-6 * if from == pool.index_0 { r0 } else { r1 } {
            return Ok(());
        }
        self.payer_swap_through(
            chain,
            &pool.key,
            &crate::client::dex::PoolKind::RaydiumCpmm { state: Box::new(state), trade_fee_rate: 0, collected: [0, 0] },
            from,
            to,
            amount,
        )
        .await
    }

    /// The chain payer mints `amount` of asset `from` and swaps it for asset `to` through `pool` of `kind`
    /// (an arbitrageur's or a sandwicher's trade).
    pub async fn payer_swap_through(
        &self,
        chain: &mut Chain,
        pool: &Pubkey,
        kind: &crate::client::dex::PoolKind,
        from: usize,
        to: usize,
        amount: u64,
    ) -> Result<()> {
        let src = self.payer_account(chain, from).await?;
        let dst = self.payer_account(chain, to).await?;
        let (fa, ta) = (self.assets[from].clone(), self.assets[to].clone());
        let mint = chain.mint_to_ix(&fa.mint, &src, amount, fa.spec.program)?;
        let payer = chain.payer().pubkey();
        let leg = |mint, program: TokenProgram, account| crate::client::dex::Leg {
            mint,
            token_program: program.id(),
            account,
        };
        let ix = crate::client::dex::swap_instruction(
            pool,
            kind,
            &payer,
            &leg(fa.mint, fa.spec.program, src),
            &leg(ta.mint, ta.spec.program, dst),
            amount,
            0,
        )
        .ok_or_else(|| anyhow!("the pool does not trade the pair"))?;
        chain.send(&[budget(400_000), mint, ix], &[]).await.map_err(|e| anyhow!("pool swap: {e}"))
    }
}

/// A compute-budget limit for transactions that run the DEX programs in the SBF VM (metered).
pub fn budget(units: u32) -> Instruction {
    solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(units)
}
