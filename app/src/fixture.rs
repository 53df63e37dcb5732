//! Ready-made vaults on the embedded chain: mints, Pyth accounts, a configured and activated vault,
//! funded users, and a valuation report computed with the program's own math.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, Context as _, Result};
use ballast::instructions::*;
use ballast::math::{self, AssetPosition, OracleReading, Rounding};
use ballast::state::{AssetParams, Vault, VaultParams};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_program_test::BanksClientError;
use solana_signer::Signer;

use crate::chain::{Chain, TokenProgram};
use crate::client::{self, pda};
use crate::pyth::{self, PriceSpec};

/// What to create for one asset.
#[derive(Debug, Clone)]
pub struct AssetSpec {
    pub symbol: String,
    pub decimals: u8,
    pub program: TokenProgram,
    /// Price mantissa at `expo` (USD per whole token).
    pub price: i64,
    pub expo: i32,
    pub params: AssetParams,
}

impl AssetSpec {
    pub fn new(symbol: &str, decimals: u8, price: i64, expo: i32, target_bps: u16, band_bps: u16) -> Self {
        Self {
            symbol: symbol.to_string(),
            decimals,
            program: TokenProgram::Token,
            price,
            expo,
            params: AssetParams { target_bps, band_bps, max_trade_bps: 2_500 },
        }
    }
}

/// One created asset.
#[derive(Debug, Clone)]
pub struct AssetFixture {
    pub spec: AssetSpec,
    pub mint: Pubkey,
    pub oracle: Pubkey,
    pub feed_id: [u8; 32],
}

/// A funded depositor with a token account per asset and a share account.
pub struct User {
    pub keypair: Keypair,
    pub tokens: Vec<Pubkey>,
    pub shares: Pubkey,
}

/// Sensible defaults: 1 % slippage cap, 60 s oracle age, 2 % confidence cap, 1-day timelock.
pub fn default_params() -> VaultParams {
    VaultParams {
        slippage_cap_bps: 100,
        oracle_max_age_secs: 60,
        oracle_max_conf_bps: 200,
        rebalance_cooldown_slots: 10,
        bounty_bps: 5,
        bounty_cap_value: 5_000_000,
        timelock_secs: 86_400,
    }
}

/// A created, activated vault and its governance keys.
pub struct VaultFixture {
    pub key: Pubkey,
    pub vault_id: u64,
    pub governance: Keypair,
    pub guardian: Keypair,
    pub assets: Vec<AssetFixture>,
}

/// Creates mints and oracles for `specs` and a vault in the `Configuring` state (no assets yet).
pub async fn create_assets(chain: &mut Chain, specs: &[AssetSpec]) -> Result<Vec<AssetFixture>> {
    let now = chain.clock().await.unix_timestamp;
    let mut assets = Vec::new();
    for spec in specs {
        let mint = chain.create_mint(spec.decimals, spec.program).await?;
        let oracle = Pubkey::new_unique();
        let feed_id = pyth::feed_id(&spec.symbol);
        chain.set_price(&oracle, &PriceSpec::new(feed_id, spec.price, spec.expo, now)).await;
        assets.push(AssetFixture { spec: spec.clone(), mint, oracle, feed_id });
    }
    Ok(assets)
}

/// Initialises an empty vault (status `Configuring`).
pub async fn init_vault(chain: &mut Chain, vault_id: u64, params: VaultParams) -> Result<VaultFixture> {
    let governance = chain.funded_keypair(10_000_000_000).await?;
    let guardian = Keypair::new();
    let payer = chain.payer();
    let ix = client::initialize_vault(
        &payer.pubkey(),
        InitializeVaultArgs { vault_id, governance: governance.pubkey(), guardian: guardian.pubkey(), params },
    );
    chain.send(&[ix], &[]).await.map_err(|e| anyhow!("initialize_vault: {e}"))?;
    Ok(VaultFixture { key: pda::vault(&payer.pubkey(), vault_id), vault_id, governance, guardian, assets: Vec::new() })
}

/// Creates and activates a vault holding `specs`.
pub async fn create_vault(chain: &mut Chain, specs: &[AssetSpec], params: VaultParams) -> Result<VaultFixture> {
    let mut fx = init_vault(chain, 0, params).await?;
    for asset in create_assets(chain, specs).await? {
        fx.add_asset(chain, asset).await.map_err(|e| anyhow!("add_asset: {e}"))?;
    }
    let ix = client::activate_vault(&fx.governance.pubkey(), &fx.key);
    chain.send(&[ix], &[&fx.governance]).await.map_err(|e| anyhow!("activate: {e}"))?;
    Ok(fx)
}

/// Valuation of a vault at its oracles' mid prices, computed with the program's math.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub symbols: Vec<String>,
    pub holdings: Vec<u64>,
    /// Mid prices as floats, for display only.
    pub prices: Vec<f64>,
    /// Values in micro-USD.
    pub values: Vec<u128>,
    pub weights_bps: Vec<u64>,
    pub targets_bps: Vec<u16>,
    pub bands_bps: Vec<u16>,
    pub drift_bps: Vec<i64>,
    pub max_abs_drift_bps: u64,
    pub nav: u128,
    pub share_supply: u64,
}

impl VaultFixture {
    pub async fn add_asset(&mut self, chain: &mut Chain, asset: AssetFixture) -> Result<(), BanksClientError> {
        let payer = chain.payer();
        let ix = client::add_asset(
            &payer.pubkey(),
            &self.governance.pubkey(),
            &self.key,
            &asset.mint,
            &asset.spec.program.id(),
            &asset.oracle,
            AddAssetArgs { feed_id: asset.feed_id, params: asset.spec.params },
        );
        chain.send(&[ix], &[&self.governance]).await?;
        self.assets.push(asset);
        Ok(())
    }

    pub async fn state(&self, chain: &mut Chain) -> Vault {
        let acc = chain.account(&self.key).await.expect("vault account");
        client::decode_vault(&acc.data).expect("decode vault")
    }

    /// Publishes a new price for asset `i` at the current cluster time.
    pub async fn set_price(&self, chain: &mut Chain, i: usize, price: i64) {
        let now = chain.clock().await.unix_timestamp;
        let a = &self.assets[i];
        chain.set_price(&a.oracle, &PriceSpec::new(a.feed_id, price, a.spec.expo, now)).await;
    }

    /// Re-publishes every asset's current price at the current cluster time (keeps oracles fresh).
    pub async fn refresh_prices(&self, chain: &mut Chain) {
        for i in 0..self.assets.len() {
            let price = self.oracle_reading(chain, i).await.price;
            self.set_price(chain, i, price).await;
        }
    }

    pub async fn oracle_reading(&self, chain: &mut Chain, i: usize) -> OracleReading {
        let acc = chain.account(&self.assets[i].oracle).await.expect("oracle account");
        let u = PriceUpdateV2::try_deserialize(&mut &acc.data[..]).expect("price update");
        let m = u.price_message;
        OracleReading { price: m.price, conf: m.conf, expo: m.exponent, publish_time: m.publish_time }
    }

    /// A depositor holding `amounts[i]` of each asset, with token and share accounts.
    pub async fn user(&self, chain: &mut Chain, amounts: &[u64]) -> Result<User> {
        let keypair = chain.funded_keypair(1_000_000_000).await?;
        let mut tokens = Vec::new();
        for (a, amount) in self.assets.iter().zip(amounts) {
            let ata = chain.create_ata(&keypair.pubkey(), &a.mint, a.spec.program).await?;
            if *amount > 0 {
                chain.mint_to(&a.mint, &ata, *amount, a.spec.program).await?;
            }
            tokens.push(ata);
        }
        let share_mint = pda::share_mint(&self.key);
        let shares = chain.create_ata(&keypair.pubkey(), &share_mint, TokenProgram::Token).await?;
        Ok(User { keypair, tokens, shares })
    }

    pub async fn deposit_single(&self, chain: &mut Chain, user: &User, asset_index: u8, amount: u64, min_shares_out: u64) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::deposit_single(
            &user.keypair.pubkey(),
            &self.key,
            &vault,
            &user.shares,
            &user.tokens[asset_index as usize],
            DepositSingleArgs { asset_index, amount, min_shares_out },
        );
        chain.send(&[ix], &[&user.keypair]).await
    }

    pub async fn deposit(&self, chain: &mut Chain, user: &User, max_amounts_in: Vec<u64>, min_shares_out: u64) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::deposit(&user.keypair.pubkey(), &self.key, &vault, &user.shares, &user.tokens, DepositArgs { max_amounts_in, min_shares_out });
        chain.send(&[ix], &[&user.keypair]).await
    }

    pub async fn withdraw(&self, chain: &mut Chain, user: &User, shares: u64, min_amounts_out: Vec<u64>) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::withdraw(&user.keypair.pubkey(), &self.key, &vault, &user.shares, &user.tokens, WithdrawArgs { shares, min_amounts_out });
        chain.send(&[ix], &[&user.keypair]).await
    }

    pub async fn holdings(&self, chain: &mut Chain) -> Vec<u64> {
        let mut out = Vec::new();
        for a in &self.assets {
            out.push(chain.token_amount(&pda::reserve(&self.key, &a.mint)).await);
        }
        out
    }

    pub async fn share_supply(&self, chain: &mut Chain) -> u64 {
        chain.mint_supply(&pda::share_mint(&self.key)).await
    }

    /// Holdings, prices, weights and drift, valued at mid prices with the shared math.
    pub async fn report(&self, chain: &mut Chain) -> Result<Report> {
        let vault = self.state(chain).await;
        let holdings = self.holdings(chain).await;
        let mut positions = Vec::new();
        let mut prices = Vec::new();
        for (i, a) in vault.assets.iter().enumerate() {
            let r = self.oracle_reading(chain, i).await;
            let mid = r.bounds().map_err(|e| anyhow!("price of asset {i}: {e:?}"))?.mid;
            prices.push(r.price as f64 * 10f64.powi(r.expo));
            positions.push(AssetPosition { balance: holdings[i], decimals: a.decimals, price: mid });
        }
        let values = math::position_values(&positions, Rounding::Floor).map_err(|e| anyhow!("{e:?}"))?;
        let nav = math::total_value(&values).map_err(|e| anyhow!("{e:?}"))?;
        let weights = math::weights_bps(&values).map_err(|e| anyhow!("{e:?}"))?;
        let targets = vault.targets();
        let drift = math::drift_bps(&weights, &targets).map_err(|e| anyhow!("{e:?}"))?;
        Ok(Report {
            symbols: self.assets.iter().map(|a| a.spec.symbol.clone()).collect(),
            holdings,
            prices,
            values,
            max_abs_drift_bps: math::max_abs_drift_bps(&drift),
            weights_bps: weights,
            targets_bps: targets,
            bands_bps: vault.assets.iter().map(|a| a.params.band_bps).collect(),
            drift_bps: drift,
            nav,
            share_supply: self.share_supply(chain).await,
        })
    }
}

/// Loads a vault fixture's state for callers that only have a chain and a key.
pub async fn load_vault(chain: &mut Chain, key: &Pubkey) -> Result<Vault> {
    let acc = chain.account(key).await.context("vault account missing")?;
    client::decode_vault(&acc.data)
}
