//! Ready-made vaults on the embedded chain: mints, Pyth accounts, a configured and activated vault,
//! funded users, and a valuation report computed with the program's own math.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, Result};
use ballast::instructions::*;
use ballast::math::{self, OracleReading};
use ballast::state::{AssetParams, DepositRequest, Vault, VaultParams};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_program_test::BanksClientError;
use solana_signer::Signer;

use crate::chain::{Chain, MintSpec, TokenProgram};
use crate::client::planner::{self, Candidate, Decision, Hold, Planned, PokeReason, Route, Snapshot};
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
    /// Create the mint with a freeze authority (as USDC and USDT have); governance then lists it with an
    /// explicit acknowledgement.
    pub freeze_authority: bool,
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
            freeze_authority: false,
        }
    }

    /// The same asset on a mint with a freeze authority (acknowledged when listed).
    pub fn with_freeze_authority(mut self) -> Self {
        self.freeze_authority = true;
        self
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

pub use ballast_client::default_params;

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
        let payer = chain.payer().pubkey();
        let mint_spec = MintSpec {
            decimals: spec.decimals,
            program: spec.program,
            extensions: Vec::new(),
            freeze_authority: spec.freeze_authority.then_some(payer),
        };
        let mint = chain.create_mint_at(&Keypair::new(), &mint_spec).await?;
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
            AddAssetArgs {
                feed_id: asset.feed_id,
                params: asset.spec.params,
                allow_freeze_authority: asset.spec.freeze_authority,
            },
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

    /// A single-asset deposit as a depositor and a keeper make it: `request_deposit`, then (after the
    /// settlement delay, with freshly published prices) `settle_deposit`.
    pub async fn deposit_single(
        &self,
        chain: &mut Chain,
        user: &User,
        asset_index: u8,
        amount: u64,
        min_shares_out: u64,
    ) -> Result<(), BanksClientError> {
        self.request_deposit(chain, user, asset_index, amount, min_shares_out).await?;
        let delay = self.state(chain).await.params.deposit_delay_secs;
        chain.advance_time(delay as i64).await;
        self.refresh_prices(chain).await;
        self.settle_deposit(chain, &user.keypair.pubkey()).await
    }

    pub async fn request_deposit(
        &self,
        chain: &mut Chain,
        user: &User,
        asset_index: u8,
        amount: u64,
        min_shares_out: u64,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::request_deposit(
            &user.keypair.pubkey(),
            &self.key,
            &vault,
            &user.shares,
            &user.tokens[asset_index as usize],
            RequestDepositArgs { asset_index, amount, min_shares_out },
        );
        chain.send(&[ix], &[&user.keypair]).await
    }

    /// The open deposit request of `depositor`, if any.
    pub async fn deposit_request(&self, chain: &mut Chain, depositor: &Pubkey) -> Option<DepositRequest> {
        let acc = chain.account(&pda::deposit_request(&self.key, depositor)).await?;
        client::decode_deposit_request(&acc.data).ok()
    }

    /// Settles `depositor`'s open request (the chain payer signs as the settling keeper).
    pub async fn settle_deposit(&self, chain: &mut Chain, depositor: &Pubkey) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let request = self.deposit_request(chain, depositor).await.expect("an open deposit request");
        let payer = chain.payer().pubkey();
        chain.send(&[client::settle_deposit(&payer, &self.key, &vault, &request)], &[]).await
    }

    /// Cancels `user`'s expired request, refunding to their token account.
    pub async fn cancel_deposit(&self, chain: &mut Chain, user: &User) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let request = self.deposit_request(chain, &user.keypair.pubkey()).await.expect("an open deposit request");
        let refund = user.tokens[request.asset_index as usize];
        let ix = client::cancel_deposit(&user.keypair.pubkey(), &self.key, &vault, &request, &refund);
        chain.send(&[ix], &[&user.keypair]).await
    }

    pub async fn deposit(
        &self,
        chain: &mut Chain,
        user: &User,
        max_amounts_in: Vec<u64>,
        min_shares_out: u64,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::deposit(
            &user.keypair.pubkey(),
            &self.key,
            &vault,
            &user.shares,
            &user.tokens,
            DepositArgs { max_amounts_in, min_shares_out },
        );
        chain.send(&[ix], &[&user.keypair]).await
    }

    pub async fn withdraw(
        &self,
        chain: &mut Chain,
        user: &User,
        shares: u64,
        min_amounts_out: Vec<u64>,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = client::withdraw(
            &user.keypair.pubkey(),
            &self.key,
            &vault,
            &user.shares,
            &user.tokens,
            WithdrawArgs { shares, min_amounts_out, skip_mask: 0 },
        );
        chain.send(&[ix], &[&user.keypair]).await
    }

    /// Withdraws skipping the assets in `skip_mask` (their amounts go to the user's claim, opened first if
    /// needed, in the same transaction).
    pub async fn withdraw_skipping(
        &self,
        chain: &mut Chain,
        user: &User,
        shares: u64,
        min_amounts_out: Vec<u64>,
        skip_mask: u16,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let owner = user.keypair.pubkey();
        let mut ixs = Vec::new();
        if chain.account(&pda::claim(&self.key, &owner)).await.is_none() {
            ixs.push(client::open_claim(&owner, &self.key, &owner));
        }
        ixs.push(client::withdraw(
            &owner,
            &self.key,
            &vault,
            &user.shares,
            &user.tokens,
            WithdrawArgs { shares, min_amounts_out, skip_mask },
        ));
        chain.send(&ixs, &[&user.keypair]).await
    }

    /// What `owner`'s claim holds per asset (all zero without a claim).
    pub async fn claim_owed(&self, chain: &mut Chain, owner: &Pubkey) -> Vec<u64> {
        match chain.account(&pda::claim(&self.key, owner)).await {
            Some(acc) => client::decode_claim(&acc.data).expect("claim").owed[..self.assets.len()].to_vec(),
            None => vec![0; self.assets.len()],
        }
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

    /// Holdings, prices, weights and drift against the targets and bands in force (fixed, scheduled,
    /// CPPI; volatility-scaled bands), valued at mid prices by the shared planner's valuation.
    pub async fn report(&self, chain: &mut Chain) -> Result<Report> {
        let (snap, _) = self.snapshot(chain).await;
        let val = snap.value()?;
        let prices = snap.readings.iter().map(|r| r.price as f64 * 10f64.powi(r.expo)).collect();
        let weights = math::weights_bps(&val.values).map_err(|e| anyhow!("{e:?}"))?;
        let targets = val.targets();
        let drift = math::drift_bps(&weights, &targets).map_err(|e| anyhow!("{e:?}"))?;
        Ok(Report {
            symbols: self.assets.iter().map(|a| a.spec.symbol.clone()).collect(),
            holdings: snap.balances,
            prices,
            values: val.values.clone(),
            max_abs_drift_bps: math::max_abs_drift_bps(&drift),
            weights_bps: weights,
            targets_bps: targets,
            bands_bps: val.bands(),
            drift_bps: drift,
            nav: val.nav,
            share_supply: snap.supply,
        })
    }
}

/// What one keeper turn did ([`VaultFixture::keeper_turn`]).
#[derive(Debug)]
pub enum Turn {
    Traded(Box<Candidate>),
    Poked(PokeReason),
    /// Waited this many seconds for the auction to reach the route's price.
    Waited(i64),
    /// Waited out the rebalance cooldown.
    CooledDown,
    Held(Hold),
}

/// A reference-AMM pool between two vault assets, whitelisted for the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFixture {
    pub key: Pubkey,
    /// Vault asset indexes of the pool's sorted mints a and b.
    pub index_a: usize,
    pub index_b: usize,
    pub vault_a: Pubkey,
    pub vault_b: Pubkey,
}

impl PoolFixture {
    /// The pool among `pools` that trades vault assets `i` and `j` (either order).
    pub fn between(pools: &[PoolFixture], i: usize, j: usize) -> Option<PoolFixture> {
        pools.iter().copied().find(|p| (p.index_a, p.index_b) == (i, j) || (p.index_a, p.index_b) == (j, i))
    }

    /// The pool's vault holding vault asset `index`.
    pub fn vault_of(&self, index: usize) -> Pubkey {
        if index == self.index_a {
            self.vault_a
        } else {
            self.vault_b
        }
    }
}

impl VaultFixture {
    /// The chain payer's token account for asset `i` (created on first use; the payer is mint authority).
    pub async fn payer_account(&self, chain: &mut Chain, i: usize) -> Result<Pubkey> {
        let payer = chain.payer().pubkey();
        let a = &self.assets[i];
        chain.create_ata(&payer, &a.mint, a.spec.program).await
    }

    /// Creates a pool for assets `i` and `j` holding `usd_per_side` dollars of each at the oracle mid
    /// price, with `fee_bps`, and whitelists it.
    pub async fn create_pool(
        &self,
        chain: &mut Chain,
        i: usize,
        j: usize,
        usd_per_side: f64,
        fee_bps: u16,
    ) -> Result<PoolFixture> {
        let payer = chain.payer();
        let (ia, ib) = if self.assets[i].mint < self.assets[j].mint { (i, j) } else { (j, i) };
        let (a, b) = (&self.assets[ia], &self.assets[ib]);
        let ix = client::amm::create_pool(
            &payer.pubkey(),
            &a.mint,
            &b.mint,
            &a.spec.program.id(),
            &b.spec.program.id(),
            fee_bps,
        );
        chain.send(&[ix], &[]).await.map_err(|e| anyhow!("create_pool: {e}"))?;
        let key = client::amm::pool(&a.mint, &b.mint);
        let pool = PoolFixture {
            key,
            index_a: ia,
            index_b: ib,
            vault_a: client::amm::pool_vault(&key, &a.mint),
            vault_b: client::amm::pool_vault(&key, &b.mint),
        };
        let amount_a = self.amount_for_usd(chain, ia, usd_per_side).await;
        let amount_b = self.amount_for_usd(chain, ib, usd_per_side).await;
        let user_a = self.payer_account(chain, ia).await?;
        let user_b = self.payer_account(chain, ib).await?;
        chain.mint_to(&a.mint, &user_a, amount_a, a.spec.program).await?;
        chain.mint_to(&b.mint, &user_b, amount_b, b.spec.program).await?;
        let lp = chain.create_ata(&payer.pubkey(), &client::amm::lp_mint(&key), TokenProgram::Token).await?;
        let accounts = client::amm::liquidity_accounts(
            &payer.pubkey(),
            &a.mint,
            &b.mint,
            &user_a,
            &user_b,
            &lp,
            &a.spec.program.id(),
            &b.spec.program.id(),
        );
        chain
            .send(&[client::amm::add_liquidity(accounts, amount_a, amount_b, 1)], &[])
            .await
            .map_err(|e| anyhow!("add_liquidity: {e}"))?;
        let ix = client::add_amm(&self.governance.pubkey(), &self.key, &ballast_amm::ID, &key);
        chain.send(&[ix], &[&self.governance]).await.map_err(|e| anyhow!("add_amm: {e}"))?;
        Ok(pool)
    }

    /// USD price of one base unit of asset `i` at its oracle mid price (float: off-chain tooling only).
    pub async fn unit_price(&self, chain: &mut Chain, i: usize) -> f64 {
        let r = self.oracle_reading(chain, i).await;
        r.price as f64 * 10f64.powi(r.expo) / 10f64.powi(self.assets[i].spec.decimals as i32)
    }

    /// Base units of asset `i` worth `usd` at its oracle mid price.
    pub async fn amount_for_usd(&self, chain: &mut Chain, i: usize, usd: f64) -> u64 {
        (usd / self.unit_price(chain, i).await) as u64
    }

    /// Arbitrage step: swaps against the pool (from the payer's accounts) until its price matches the
    /// oracle mid prices, as an arbitrageur would. Float math, off-chain only.
    pub async fn arbitrage(&self, chain: &mut Chain, pool: &PoolFixture) -> Result<()> {
        let ra = chain.token_amount(&pool.vault_a).await as f64;
        let rb = chain.token_amount(&pool.vault_b).await as f64;
        let pa = self.unit_price(chain, pool.index_a).await;
        let pb = self.unit_price(chain, pool.index_b).await;
        let k = ra * rb;
        let target_a = (k * pb / pa).sqrt();
        let (from, to, amount) = if target_a > ra {
            (pool.index_a, pool.index_b, target_a - ra)
        } else {
            (pool.index_b, pool.index_a, k / target_a - rb)
        };
        let amount = amount as u64;
        if amount == 0 || (amount as f64) < 1e-6 * if from == pool.index_a { ra } else { rb } {
            return Ok(());
        }
        self.payer_swap(chain, from, to, amount).await
    }

    /// The chain payer (mint authority of every fixture asset) mints `amount` of asset `from` and swaps it
    /// for asset `to` in their reference-AMM pool (an arbitrageur's or a sandwicher's trade).
    pub async fn payer_swap(&self, chain: &mut Chain, from: usize, to: usize, amount: u64) -> Result<()> {
        let src = self.payer_account(chain, from).await?;
        let dst = self.payer_account(chain, to).await?;
        let (fa, ta) = (&self.assets[from], &self.assets[to]);
        chain.mint_to(&fa.mint, &src, amount, fa.spec.program).await?;
        let payer = chain.payer().pubkey();
        let ix = client::amm::swap(
            &payer,
            &fa.mint,
            &ta.mint,
            &src,
            &dst,
            &fa.spec.program.id(),
            &ta.spec.program.id(),
            amount,
            0,
        );
        chain.send(&[ix], &[]).await.map_err(|e| anyhow!("pool swap: {e}"))
    }

    /// Everything a keeper reads (the shared planner's `load`, through the chain's [`ChainView`]).
    pub async fn snapshot(&self, chain: &mut Chain) -> (Snapshot, Vec<Route>) {
        let vault = self.state(chain).await;
        planner::load(chain, vault).await.expect("snapshot")
    }

    /// The shipped keeper's decision for this vault now: the shared planner over the embedded chain.
    pub async fn plan(&self, chain: &mut Chain) -> Planned {
        let vault = self.state(chain).await;
        planner::plan_vault(chain, vault).await.expect("plan")
    }

    /// One turn of the shipped keeper's planner on the embedded chain, as `keeper` (whose token account of
    /// asset i is `keeper_accounts[i]`) trading in `mode`: trade, poke, or wait for the auction (the clock
    /// moves forward to the time the planner names and prices are re-published at it, as they would be
    /// on a live cluster), or hold (a cooldown is waited out by advancing slots).
    pub async fn keeper_turn(
        &self,
        chain: &mut Chain,
        mode: client::RouteMode,
        keeper: &Keypair,
        keeper_accounts: &[Pubkey],
    ) -> Result<Turn, BanksClientError> {
        let planned = self.plan(chain).await;
        match planned.decision {
            Decision::Trade(c) => {
                self.send_candidate_via(chain, mode, keeper, &keeper_accounts[c.request.sell], &c).await?;
                Ok(Turn::Traded(c))
            }
            Decision::Poke(reason) => {
                self.poke(chain).await?;
                Ok(Turn::Poked(reason))
            }
            Decision::Wait { at, .. } => {
                let secs = (at - planned.snapshot.now).max(1);
                chain.advance_time(secs).await;
                self.refresh_prices(chain).await;
                Ok(Turn::Waited(secs))
            }
            Decision::Hold(Hold::Cooldown { until_slot }) => {
                chain.advance_slots(until_slot.saturating_sub(planned.snapshot.slot).max(1)).await;
                self.refresh_prices(chain).await;
                Ok(Turn::CooledDown)
            }
            Decision::Hold(why) => Ok(Turn::Held(why)),
        }
    }

    /// Sends `poke` (oracle readings, volatility estimates; opens the auction when out of band).
    pub async fn poke(&self, chain: &mut Chain) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        chain.send(&[client::poke(&self.key, &vault)], &[]).await
    }

    /// Opens the rebalance auction (`poke`, on freshly published prices) and lets it run its course: a
    /// rebalance sent next is held to the slippage-cap floor, the worst price a keeper may pay. Prices are
    /// re-published at the new time.
    pub async fn relax_auction(&self, chain: &mut Chain) -> Result<(), BanksClientError> {
        self.refresh_prices(chain).await;
        self.poke(chain).await?;
        let secs = self.state(chain).await.params.auction_secs;
        chain.advance_time(secs as i64).await;
        self.refresh_prices(chain).await;
        Ok(())
    }

    /// Keeper turns until the planner holds or `max_trades` trades were made; returns the trades.
    pub async fn keep_until_held(
        &self,
        chain: &mut Chain,
        mode: client::RouteMode,
        keeper: &Keypair,
        keeper_accounts: &[Pubkey],
        max_trades: usize,
    ) -> Result<Vec<Candidate>, BanksClientError> {
        let mut trades = Vec::new();
        // Each trade takes at most an auction opening, a wait and a cooldown.
        for _ in 0..(4 * max_trades + 4) {
            if trades.len() >= max_trades {
                break;
            }
            match self.keeper_turn(chain, mode, keeper, keeper_accounts).await? {
                Turn::Traded(c) => trades.push(*c),
                Turn::Held(_) => break,
                Turn::Poked(_) | Turn::Waited(_) | Turn::CooledDown => {}
            }
        }
        Ok(trades)
    }

    /// Sends the planned candidate (its route, amount and keeper min-out) directly, signed by `keeper`.
    pub async fn send_candidate(
        &self,
        chain: &mut Chain,
        keeper: &Keypair,
        bounty_account: &Pubkey,
        candidate: &Candidate,
    ) -> Result<(), BanksClientError> {
        self.send_candidate_via(chain, client::RouteMode::Direct, keeper, bounty_account, candidate).await
    }

    /// Sends the planned candidate in `mode` (direct, or flash with the keeper's own swap), signed by
    /// `keeper`; `keeper_sell_account` is the keeper's token account of the sold asset.
    pub async fn send_candidate_via(
        &self,
        chain: &mut Chain,
        mode: client::RouteMode,
        keeper: &Keypair,
        keeper_sell_account: &Pubkey,
        candidate: &Candidate,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ixs = client::execute_along(mode, &keeper.pubkey(), &self.key, &vault, keeper_sell_account, candidate)
            .expect("route covers both assets");
        chain.send(&ixs, &[keeper]).await
    }

    /// Sends `rebalance` through `pool` signed by `keeper`, paying the bounty to `bounty_account`.
    pub async fn rebalance(
        &self,
        chain: &mut Chain,
        keeper: &Keypair,
        bounty_account: &Pubkey,
        pool: &PoolFixture,
        args: RebalanceArgs,
    ) -> Result<(), BanksClientError> {
        let vault = self.state(chain).await;
        let ix = self.rebalance_ix(&vault, keeper, bounty_account, pool, args);
        chain.send(&[ix], &[keeper]).await
    }

    pub fn rebalance_ix(
        &self,
        vault: &Vault,
        keeper: &Keypair,
        bounty_account: &Pubkey,
        pool: &PoolFixture,
        args: RebalanceArgs,
    ) -> anchor_lang::solana_program::instruction::Instruction {
        client::rebalance(
            &keeper.pubkey(),
            &self.key,
            vault,
            bounty_account,
            &ballast_amm::ID,
            &pool.key,
            &pool.vault_of(args.sell_index as usize),
            &pool.vault_of(args.buy_index as usize),
            args,
        )
    }
}
