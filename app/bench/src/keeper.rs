//! `ballast bench --keeper`: the keeper's per-vault work (decode every account, value the vault, plan
//! every route) on synthetic snapshots held in memory, so the figure is the planner's cost alone, not an
//! endpoint's. Figures are printed, never asserted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::AccountSerialize;
use anchor_spl::token::spl_token;
use anyhow::Result;
use ballast::state::{AmmEntry, Asset, AssetParams, Vault, VaultStatus, VolState};
use ballast_client::planner::{self, ChainView, Decision};
use ballast_client::pyth::{self, PriceSpec};
use rand::{Rng as _, SeedableRng};

/// Accounts held in memory, served as a [`ChainView`].
#[derive(Default)]
pub struct MemoryView {
    pub accounts: HashMap<Pubkey, solana_account::Account>,
    pub slot: u64,
}

impl MemoryView {
    fn put(&mut self, key: Pubkey, owner: Pubkey, data: Vec<u8>) {
        self.accounts
            .insert(key, solana_account::Account { lamports: 1, data, owner, executable: false, rent_epoch: 0 });
    }

    fn token_account(&mut self, key: Pubkey, mint: Pubkey, owner: Pubkey, amount: u64) {
        let mut data = vec![0u8; spl_token::state::Account::LEN];
        let state = spl_token::state::Account {
            mint,
            owner,
            amount,
            state: spl_token::state::AccountState::Initialized,
            ..Default::default()
        };
        spl_token::state::Account::pack(state, &mut data).unwrap_or_default();
        self.put(key, spl_token::ID, data);
    }

    fn mint(&mut self, key: Pubkey, supply: u64, decimals: u8) {
        let mut data = vec![0u8; spl_token::state::Mint::LEN];
        let state = spl_token::state::Mint { supply, decimals, is_initialized: true, ..Default::default() };
        spl_token::state::Mint::pack(state, &mut data).unwrap_or_default();
        self.put(key, spl_token::ID, data);
    }
}

impl ChainView for MemoryView {
    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<solana_account::Account>>> {
        Ok(keys.iter().map(|k| self.accounts.get(k).cloned()).collect())
    }

    async fn slot(&mut self) -> Result<u64> {
        Ok(self.slot)
    }

    async fn program_accounts(
        &mut self,
        program: &Pubkey,
        matching: &[(usize, &[u8])],
    ) -> Result<Vec<(Pubkey, solana_account::Account)>> {
        Ok(self
            .accounts
            .iter()
            .filter(|(_, a)| a.owner == *program && ballast_client::discover::holds(&a.data, matching))
            .map(|(k, a)| (*k, a.clone()))
            .collect())
    }
}

/// Seeded draws for the synthetic data.
struct Draw(rand::rngs::StdRng);

impl Draw {
    /// A number in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0.gen_range(lo..hi.max(lo + 1))
    }
}

/// When the synthetic snapshots are taken (unix seconds).
const NOW: i64 = 1_700_000_000;

/// `n` vaults of 3–16 assets, every tenth of 128 (`MAX_ASSETS`) (asset 0 a $1 stablecoin, the others $0.5–$60 000), each asset up to ±50 % off
/// its target, with a reference-AMM pool from the stablecoin to up to 8 assets ($5–50M a side, 5–30 bps);
/// vaults of $10k–$500k.
pub fn synthetic(n: usize, seed: u64) -> (MemoryView, Vec<(Pubkey, Vault)>) {
    let mut rng = Draw(rand::rngs::StdRng::seed_from_u64(seed));
    let mut view = MemoryView { slot: 1_000, ..Default::default() };
    // The Clock sysvar: slot, epoch start, epoch, leader schedule epoch, unix time (8 bytes each).
    let clock: Vec<u8> = [view.slot, 0, 0, 0].iter().flat_map(|v| v.to_le_bytes()).chain(NOW.to_le_bytes()).collect();
    let clock_id = <anchor_lang::prelude::Clock as anchor_lang::solana_program::sysvar::SysvarId>::id();
    // The planner only reads the data (a cluster gives the sysvar owner; nobody checks it here).
    view.put(clock_id, Pubkey::default(), clock);
    let vaults = (0..n).map(|v| synthetic_vault(&mut view, &mut rng, v)).collect();
    (view, vaults)
}

/// One synthetic vault, its assets, pools and share mint put into `view`.
fn synthetic_vault(view: &mut MemoryView, rng: &mut Draw, v: usize) -> (Pubkey, Vault) {
    let key = Pubkey::new_unique();
    let drawn = rng.range(3, 17) as usize;
    let k = if v % 10 == 9 { ballast::constants::MAX_ASSETS } else { drawn };
    let nav_usd = rng.range(10_000, 500_000) as f64;
    let mut assets: Vec<Asset> = Vec::with_capacity(k);
    let mut amms = Vec::new();
    for i in 0..k {
        let asset = synthetic_asset(view, rng, &key, (v, i, k), nav_usd);
        if i > 0 && amms.len() < ballast::constants::MAX_AMMS {
            amms.push(synthetic_pool(view, rng, &assets[0], &asset));
        }
        assets.push(asset);
    }
    let share_mint = Pubkey::new_unique();
    view.mint(share_mint, (nav_usd * 1e6) as u64, 6);
    let vault = Vault {
        version: Vault::VERSION,
        bump: 255,
        share_mint_bump: 255,
        locked_shares_bump: 255,
        status: VaultStatus::Active,
        paused: 0,
        creator: Pubkey::new_unique(),
        vault_id: v as u64,
        governance: Pubkey::new_unique(),
        pending_governance: Pubkey::default(),
        guardian: Pubkey::default(),
        share_mint,
        locked_shares: Pubkey::new_unique(),
        params: ballast_client::default_params(),
        pending_params: None,
        assets,
        amms,
        last_rebalance_slot: 0,
        schedule: None,
        cppi_floor_per_share: 0,
        episode_bounty_paid: 0,
        flight: None,
        // An auction that has run its course and was seen out of band just now: the planner prices every
        // trade at the floor.
        auction_started_at: 1,
        auction_seen_at: NOW,
        auction_sold_ppm: 0,
        fees: ballast::state::FeeState::default(),
        rel_vol_time: 0,
        valuation_seq: 0,
        reserved: [0; 44],
    };
    let mut data = Vec::new();
    vault.try_serialize(&mut data).unwrap_or_default();
    view.put(key, ballast::ID, data);
    (key, vault)
}

/// Asset `i` of `k` of vault number `v` (`vault`), its mint, reserve and oracle put into `view`.
fn synthetic_asset(
    view: &mut MemoryView,
    rng: &mut Draw,
    vault: &Pubkey,
    (v, i, k): (usize, usize, usize),
    nav_usd: f64,
) -> Asset {
    let (mint, oracle, reserve) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    let decimals = rng.range(6, 10) as u8;
    let price_e8 = if i == 0 { 100_000_000 } else { rng.range(50_000_000, 6_000_000_000_000) as i64 };
    let weight = (10_000 / k) as u16;
    let target = if i == 0 { weight + (10_000 - weight * k as u16) } else { weight };
    let off = 0.5 + rng.range(0, 1_000) as f64 / 1_000.0;
    let value = nav_usd * target as f64 / 10_000.0 * off;
    let amount = (value / (price_e8 as f64 / 1e8) * 10f64.powi(decimals as i32)) as u64;
    let feed_id = pyth::feed_id(&format!("V{v}A{i}"));
    view.put(oracle, pyth::RECEIVER_PROGRAM_ID, pyth::encode(&PriceSpec::new(feed_id, price_e8, -8, NOW)));
    view.token_account(reserve, mint, *vault, amount);
    view.mint(mint, amount, decimals);
    Asset {
        mint,
        reserve,
        token_program: spl_token::ID,
        oracle,
        feed_id,
        decimals,
        reserve_bump: 255,
        params: AssetParams { target_bps: target, band_bps: rng.range(200, 800) as u16, max_trade_bps: 2_500 },
        last_publish_time: NOW - 10,
        last_price: price_e8,
        last_expo: -8,
        vol: VolState::default(),
        rel_vol: Default::default(),
        owed: 0,
        pending_in: 0,
        flags: 0,
        reserved: [0; 2],
        vesting: 0,
        vesting_from: 0,
        vesting_until: 0,
    }
}

/// A reference-AMM pool of `stable` and `asset` ($5–50M a side, 5–30 bps), put into `view`.
fn synthetic_pool(view: &mut MemoryView, rng: &mut Draw, stable: &Asset, asset: &Asset) -> AmmEntry {
    let (pool, vault_a, vault_b) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    let depth = rng.range(5_000_000, 50_000_000) as f64;
    view.token_account(vault_a, stable.mint, pool, (depth * 10f64.powi(stable.decimals as i32)) as u64);
    let units = depth / (asset.last_price as f64 / 1e8) * 10f64.powi(asset.decimals as i32);
    view.token_account(vault_b, asset.mint, pool, units as u64);
    let p = ballast_amm::Pool {
        mint_a: stable.mint,
        mint_b: asset.mint,
        vault_a,
        vault_b,
        lp_mint: Pubkey::new_unique(),
        fee_bps: rng.range(5, 31) as u16,
        bump: 255,
    };
    let mut data = Vec::new();
    p.try_serialize(&mut data).unwrap_or_default();
    view.put(pool, ballast_amm::ID, data);
    AmmEntry { program_id: ballast_amm::ID, pool, mint_a: stable.mint, mint_b: asset.mint }
}

/// What the keeper bench measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeeperBench {
    pub vaults: usize,
    pub trades: usize,
    pub holds: usize,
    pub secs: f64,
    pub vaults_per_sec: f64,
    /// Of them, the vaults of 128 assets, and their planning time alone.
    pub vaults_128: usize,
    pub secs_128: f64,
}

/// Decodes, values and plans every synthetic vault once, on the calling thread.
pub async fn run(n: usize, seed: u64) -> Result<KeeperBench> {
    let (mut view, vaults) = synthetic(n, seed);
    let (mut trades, mut holds, mut vaults_128) = (0, 0, 0);
    let (mut spent, mut spent_128) = (Duration::ZERO, Duration::ZERO);
    for (key, snapshot) in &vaults {
        let t = Instant::now();
        // Decode the vault from its bytes too, as discovery does.
        let acc = view.accounts(&[*key]).await?.remove(0).ok_or_else(|| anyhow::anyhow!("vault missing"))?;
        let vault = ballast_client::decode_vault(&acc.data)?;
        match planner::plan_vault(&mut view, vault).await?.decision {
            Decision::Trade(_) => trades += 1,
            Decision::Hold(_) | Decision::Poke(_) | Decision::Wait { .. } => holds += 1,
        }
        spent += t.elapsed();
        if snapshot.assets.len() == ballast::constants::MAX_ASSETS {
            vaults_128 += 1;
            spent_128 += t.elapsed();
        }
    }
    let secs = spent.as_secs_f64();
    let vaults_per_sec = n as f64 / secs.max(1e-9);
    Ok(KeeperBench { vaults: n, trades, holds, secs, vaults_per_sec, vaults_128, secs_128: spent_128.as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn synthetic_vaults_decode_and_plan() {
        let b = run(60, 3).await.unwrap();
        assert_eq!(b.trades + b.holds, 60);
        assert_eq!(b.vaults_128, 6, "every tenth vault holds 128 assets");
        assert!(b.secs_128 > 0.0);
        assert!(b.trades >= 10 && b.holds >= 1, "{b:?}");
    }
}
