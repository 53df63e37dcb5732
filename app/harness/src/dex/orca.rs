//! Orca Whirlpools created with the real program's own instructions (Orca's client crate builds them):
//! a config, a fee tier, a pool at the oracle's price, tick arrays around it, a full-range position and a
//! concentrated one, whitelisted for a vault; kept at the oracle's price by an arbitrageur swapping
//! through the real program up to a sqrt-price limit.

use anchor_lang::prelude::Pubkey;

use super::RENT_SYSVAR;
use anyhow::{anyhow, Result};
use orca_whirlpools_client::{
    get_position_address, get_tick_array_address, IncreaseLiquidity, IncreaseLiquidityInstructionArgs,
    InitializeConfig, InitializeConfigInstructionArgs, InitializeFeeTier, InitializeFeeTierInstructionArgs,
    InitializePool, InitializePoolInstructionArgs, InitializeTickArray, InitializeTickArrayInstructionArgs,
    OpenPosition, OpenPositionInstructionArgs, Whirlpool,
};
use orca_whirlpools_core::{get_full_range_tick_indexes, increase_liquidity_quote_a, price_to_sqrt_price};
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::raydium::budget;
use crate::chain::{Chain, TokenProgram};
use crate::client::dex::orca::{tick_array_start, TICK_ARRAY_SIZE};
use crate::client::dex::PoolKind;
use crate::fixture::VaultFixture;

pub use crate::client::dex::orca::ID;

/// A Whirlpool's shape: tick spacing and fee (hundredths of a bp: 3 000 = 0.30 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhirlpoolSpec {
    pub tick_spacing: u16,
    pub fee_rate: u16,
    /// Half-width of the concentrated position around the starting price (bps), holding as much again
    /// as the full-range position.
    pub concentrated_bps: u32,
}

impl Default for WhirlpoolSpec {
    fn default() -> Self {
        Self { tick_spacing: 64, fee_rate: 3_000, concentrated_bps: 1_000 }
    }
}

/// A Whirlpool between two vault assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhirlpoolPool {
    pub key: Pubkey,
    pub config: Pubkey,
    /// Vault asset indexes of the pool's tokens a and b (a sorts first).
    pub index_a: usize,
    pub index_b: usize,
}

impl WhirlpoolPool {
    pub async fn state(&self, chain: &mut Chain) -> Result<Box<Whirlpool>> {
        let acc = chain.account(&self.key).await.ok_or_else(|| anyhow!("Whirlpool missing"))?;
        ballast::amm::orca_whirlpool::decode_pool(&acc.data).ok_or_else(|| anyhow!("not a Whirlpool"))
    }
}

/// PDAs of a local config (the client's finders assume Orca's mainnet config).
pub fn fee_tier_address(config: &Pubkey, tick_spacing: u16) -> Pubkey {
    Pubkey::find_program_address(&[b"fee_tier", config.as_ref(), &tick_spacing.to_le_bytes()], &ID).0
}

pub fn whirlpool_address(config: &Pubkey, mint_a: &Pubkey, mint_b: &Pubkey, tick_spacing: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[b"whirlpool", config.as_ref(), mint_a.as_ref(), mint_b.as_ref(), &tick_spacing.to_le_bytes()],
        &ID,
    )
}

/// Creates a Whirlpools config and a fee tier of `spec` in it (the chain payer is every authority).
pub async fn create_config(chain: &mut Chain, spec: &WhirlpoolSpec) -> Result<Pubkey> {
    let payer = chain.payer().pubkey();
    let config = Keypair::new();
    let ix =
        InitializeConfig { config: config.pubkey(), funder: payer, system_program: anchor_lang::system_program::ID }
            .instruction(InitializeConfigInstructionArgs {
                fee_authority: payer,
                collect_protocol_fees_authority: payer,
                reward_emissions_super_authority: payer,
                default_protocol_fee_rate: 300,
            });
    chain.send(&[ix], &[&config]).await.map_err(|e| anyhow!("Whirlpool initialize_config: {e}"))?;
    let ix = InitializeFeeTier {
        config: config.pubkey(),
        fee_tier: fee_tier_address(&config.pubkey(), spec.tick_spacing),
        funder: payer,
        fee_authority: payer,
        system_program: anchor_lang::system_program::ID,
    }
    .instruction(InitializeFeeTierInstructionArgs { tick_spacing: spec.tick_spacing, default_fee_rate: spec.fee_rate });
    chain.send(&[ix], &[]).await.map_err(|e| anyhow!("Whirlpool initialize_fee_tier: {e}"))?;
    Ok(config.pubkey())
}

/// Initialises the tick arrays holding `ticks` that do not exist yet.
pub async fn ensure_tick_arrays(chain: &mut Chain, pool: &Pubkey, spacing: u16, ticks: &[i32]) -> Result<()> {
    let payer = chain.payer().pubkey();
    let mut starts: Vec<i32> = ticks.iter().map(|t| tick_array_start(*t, spacing)).collect();
    starts.sort();
    starts.dedup();
    for start in starts {
        let address = get_tick_array_address(pool, start, None).map_err(|e| anyhow!("{e:?}"))?.0;
        if chain.account(&address).await.is_some() {
            continue;
        }
        let ix = InitializeTickArray {
            whirlpool: *pool,
            funder: payer,
            tick_array: address,
            system_program: anchor_lang::system_program::ID,
        }
        .instruction(InitializeTickArrayInstructionArgs { start_tick_index: start });
        chain.send(&[ix], &[]).await.map_err(|e| anyhow!("Whirlpool initialize_tick_array {start}: {e}"))?;
    }
    Ok(())
}

/// The ticks of the arrays a swap from `tick` may cross in either direction (three each way).
fn ticks_around(tick: i32, spacing: u16) -> Vec<i32> {
    let span = TICK_ARRAY_SIZE * spacing as i32;
    (-3..=3).map(|k| tick + k * span).collect()
}

impl VaultFixture {
    /// Creates a Whirlpool of `spec` in `config` for assets `i` and `j` at the oracle mid price, with a
    /// full-range position holding `usd_per_side` dollars of each and a concentrated one (±
    /// `spec.concentrated_bps`) holding as much again, the tick arrays around the price, and whitelists it.
    pub async fn create_whirlpool(
        &self,
        chain: &mut Chain,
        config: &Pubkey,
        spec: &WhirlpoolSpec,
        i: usize,
        j: usize,
        usd_per_side: f64,
    ) -> Result<WhirlpoolPool> {
        let (ia, ib) = if self.assets[i].mint < self.assets[j].mint { (i, j) } else { (j, i) };
        let (a, b) = (self.assets[ia].clone(), self.assets[ib].clone());
        if a.spec.program != TokenProgram::Token || b.spec.program != TokenProgram::Token {
            return Err(anyhow!("this Whirlpool build trades SPL Token mints only"));
        }
        let payer = chain.payer().pubkey();
        let price = self.unit_price(chain, ia).await / self.unit_price(chain, ib).await; // b per a, base units
        let sqrt_price: u128 = price_to_sqrt_price(price, 0, 0);
        let (key, bump) = whirlpool_address(config, &a.mint, &b.mint, spec.tick_spacing);
        let (vault_a, vault_b) = (Keypair::new(), Keypair::new());
        let ix = InitializePool {
            whirlpools_config: *config,
            token_mint_a: a.mint,
            token_mint_b: b.mint,
            funder: payer,
            whirlpool: key,
            token_vault_a: vault_a.pubkey(),
            token_vault_b: vault_b.pubkey(),
            fee_tier: fee_tier_address(config, spec.tick_spacing),
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
            rent: RENT_SYSVAR,
        }
        .instruction(InitializePoolInstructionArgs {
            whirlpool_bump: bump,
            tick_spacing: spec.tick_spacing,
            initial_sqrt_price: sqrt_price,
        });
        chain.send(&[ix], &[&vault_a, &vault_b]).await.map_err(|e| anyhow!("Whirlpool initialize_pool: {e}"))?;
        let pool = WhirlpoolPool { key, config: *config, index_a: ia, index_b: ib };
        let state = pool.state(chain).await?;
        let tick = state.tick_current_index;
        let full = get_full_range_tick_indexes(spec.tick_spacing);
        let half = (spec.concentrated_bps as f64 / 10_000.0 + 1.0).ln() / 1.0001f64.ln();
        let s = spec.tick_spacing as i32;
        let narrow = ((tick - half as i32).div_euclid(s) * s, (tick + half as i32).div_euclid(s) * s + s);
        let mut ticks = ticks_around(tick, spec.tick_spacing);
        ticks.extend([full.tick_lower_index, full.tick_upper_index, narrow.0, narrow.1]);
        ensure_tick_arrays(chain, &key, spec.tick_spacing, &ticks).await?;
        let amount_a = self.amount_for_usd(chain, ia, usd_per_side).await;
        for (lower, upper) in [(full.tick_lower_index, full.tick_upper_index), narrow] {
            self.open_whirlpool_position(chain, &pool, sqrt_price, lower, upper, amount_a).await?;
        }
        self.whitelist(chain, &ID, &key).await?;
        Ok(pool)
    }

    /// Opens a position `[lower, upper)` in `pool` and deposits `amount_a` of token a with the matching
    /// token b (minted to the chain payer first).
    async fn open_whirlpool_position(
        &self,
        chain: &mut Chain,
        pool: &WhirlpoolPool,
        sqrt_price: u128,
        lower: i32,
        upper: i32,
        amount_a: u64,
    ) -> Result<()> {
        let payer = chain.payer().pubkey();
        let (a, b) = (self.assets[pool.index_a].clone(), self.assets[pool.index_b].clone());
        let quote = increase_liquidity_quote_a(amount_a, 0, sqrt_price, lower, upper, None, None)
            .map_err(|e| anyhow!("Orca liquidity quote: {e:?}"))?;
        let (user_a, user_b) =
            (self.payer_account(chain, pool.index_a).await?, self.payer_account(chain, pool.index_b).await?);
        let mint_a = chain.mint_to_ix(&a.mint, &user_a, quote.token_max_a, a.spec.program)?;
        let mint_b = chain.mint_to_ix(&b.mint, &user_b, quote.token_max_b, b.spec.program)?;
        let position_mint = Keypair::new();
        let (position, position_bump) =
            get_position_address(&position_mint.pubkey(), None).map_err(|e| anyhow!("{e:?}"))?;
        let position_token = anchor_spl::associated_token::get_associated_token_address_with_program_id(
            &payer,
            &position_mint.pubkey(),
            &anchor_spl::token::ID,
        );
        let open = OpenPosition {
            funder: payer,
            owner: payer,
            position,
            position_mint: position_mint.pubkey(),
            position_token_account: position_token,
            whirlpool: pool.key,
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
            rent: RENT_SYSVAR,
            associated_token_program: anchor_spl::associated_token::ID,
        }
        .instruction(OpenPositionInstructionArgs {
            position_bump,
            tick_lower_index: lower,
            tick_upper_index: upper,
        });
        let state = pool.state(chain).await?;
        let spacing = state.tick_spacing;
        let array = |t: i32| get_tick_array_address(&pool.key, tick_array_start(t, spacing), None).map(|x| x.0);
        let increase = IncreaseLiquidity {
            whirlpool: pool.key,
            token_program: anchor_spl::token::ID,
            position_authority: payer,
            position,
            position_token_account: position_token,
            token_owner_account_a: user_a,
            token_owner_account_b: user_b,
            token_vault_a: state.token_vault_a,
            token_vault_b: state.token_vault_b,
            tick_array_lower: array(lower).map_err(|e| anyhow!("{e:?}"))?,
            tick_array_upper: array(upper).map_err(|e| anyhow!("{e:?}"))?,
        }
        .instruction(IncreaseLiquidityInstructionArgs {
            liquidity_amount: quote.liquidity_delta,
            token_max_a: quote.token_max_a,
            token_max_b: quote.token_max_b,
        });
        chain
            .send(&[budget(400_000), mint_a, mint_b, open, increase], &[&position_mint])
            .await
            .map_err(|e| anyhow!("Whirlpool position: {e}"))
    }

    /// Arbitrage step for a Whirlpool: the chain payer swaps through the real program up to the sqrt price
    /// of the oracle mid prices (an exact-in swap with that price as its limit stops there).
    pub async fn arbitrage_whirlpool(&self, chain: &mut Chain, pool: &WhirlpoolPool) -> Result<()> {
        let state = pool.state(chain).await?;
        let price = self.unit_price(chain, pool.index_a).await / self.unit_price(chain, pool.index_b).await;
        let target: u128 = price_to_sqrt_price(price, 0, 0);
        let current = state.sqrt_price;
        if (target as f64 / current as f64 - 1.0).abs() < 1e-6 {
            return Ok(());
        }
        let a_to_b = target < current; // selling a lowers the price of a
        let target_tick = orca_whirlpools_core::sqrt_price_to_tick_index(target);
        let mut ticks = ticks_around(state.tick_current_index, state.tick_spacing);
        ticks.extend(ticks_around(target_tick, state.tick_spacing));
        ensure_tick_arrays(chain, &pool.key, state.tick_spacing, &ticks).await?;
        let (from, to) = if a_to_b { (pool.index_a, pool.index_b) } else { (pool.index_b, pool.index_a) };
        // As much as it takes: the price limit stops the swap at the target.
        let amount = self.amount_for_usd(chain, from, 50_000_000.0).await;
        let src = self.payer_account(chain, from).await?;
        let dst = self.payer_account(chain, to).await?;
        let fa = self.assets[from].clone();
        let mint = chain.mint_to_ix(&fa.mint, &src, amount, fa.spec.program)?;
        let payer = chain.payer().pubkey();
        let side = |i: usize, account| crate::client::dex::Leg {
            mint: self.assets[i].mint,
            token_program: self.assets[i].spec.program.id(),
            account,
        };
        let ix = crate::client::dex::orca::swap_v1_to_price(
            &pool.key,
            &state,
            &payer,
            &side(from, src),
            &side(to, dst),
            amount,
            0,
            Some(target),
        )?;
        // What the swap does not use stays with the arbitrageur.
        chain.send(&[budget(600_000), mint, ix], &[]).await.map_err(|e| anyhow!("Whirlpool arbitrage: {e}"))
    }

    /// A pool's kind as the keeper's planner reads it (for the swaps the tests and arbitrageurs send).
    pub async fn whirlpool_kind(&self, chain: &mut Chain, pool: &WhirlpoolPool) -> Result<PoolKind> {
        Ok(PoolKind::Whirlpool { state: pool.state(chain).await?, arrays_a_to_b: vec![], arrays_b_to_a: vec![] })
    }
}
