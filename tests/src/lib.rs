//! Shared helpers for the integration tests.

use ballast::errors::BallastError;
use ballast_harness::chain::{custom_error, Chain};
use ballast_harness::fixture::{self, AssetSpec, User, VaultFixture};
use solana_program_test::BanksClientError;

pub use ballast_harness::chain;

pub mod fault_proxy;

/// An edit of vault parameters, for tables of invalid parameter cases.
pub type ParamsEdit = Box<dyn Fn(&mut ballast::state::VaultParams)>;

/// Asserts a transaction failed with exactly this ballast error.
#[track_caller]
pub fn assert_ballast_err(result: Result<(), BanksClientError>, expected: BallastError) {
    let want: u32 = expected.into();
    match result {
        Ok(()) => panic!("expected {expected:?} ({want}), but the transaction succeeded"),
        Err(e) => assert_eq!(custom_error(&e), Some(want), "expected {expected:?} ({want}), got {e:?}"),
    }
}

/// `ballast localnet` on a free loopback port, prices held still, a clock tick every `tick_ms`.
pub async fn localnet(tick_ms: u64) -> ballast_localnet::localnet::Localnet {
    use ballast_localnet::localnet::{self, LocalnetOptions, PricePath};
    localnet::start(LocalnetOptions {
        addr: "127.0.0.1:0".parse().expect("loopback address"),
        ws_addr: None,
        dashboard_addr: None,
        price_path: PricePath::Hold,
        step: std::time::Duration::from_millis(500),
        tick: std::time::Duration::from_millis(tick_ms),
        keys_dir: None,
        large_vault: None,
    })
    .await
    .expect("localnet")
}

/// Three assets with different decimals: SOL $150 (9), BTC $60 000 (8), USDC $1 (6); 40/30/30.
pub fn three_assets() -> Vec<AssetSpec> {
    vec![
        AssetSpec::new("SOL", 9, 150_00000000, -8, 4_000, 500),
        AssetSpec::new("BTC", 8, 60_000 * 100_000_000, -8, 3_000, 500),
        AssetSpec::new("USDC", 6, 1_00000000, -8, 3_000, 300),
    ]
}

/// A chain with an active three-asset vault.
pub async fn setup() -> (Chain, VaultFixture) {
    setup_on(Chain::start().await).await
}

/// An active three-asset vault on the given chain.
pub async fn setup_on(chain: Chain) -> (Chain, VaultFixture) {
    setup_with(chain, fixture::default_params()).await
}

/// An active three-asset vault with the given parameters.
pub async fn setup_with(mut chain: Chain, params: ballast::state::VaultParams) -> (Chain, VaultFixture) {
    let fx = fixture::create_vault(&mut chain, &three_assets(), params).await.expect("vault");
    (chain, fx)
}

/// A chain with an active vault seeded by one user through single-asset deposits at target weights
/// ($4 000 SOL, $3 000 BTC, $3 000 USDC). Returns that user.
pub async fn setup_seeded() -> (Chain, VaultFixture, User) {
    seeded_on(Chain::start().await).await
}

/// [`setup_seeded`] on the given chain.
pub async fn seeded_on(chain: Chain) -> (Chain, VaultFixture, User) {
    seeded_with(chain, fixture::default_params()).await
}

/// [`setup_seeded`] with the given parameters.
pub async fn seeded_with(chain: Chain, params: ballast::state::VaultParams) -> (Chain, VaultFixture, User) {
    let (mut chain, fx) = setup_with(chain, params).await;
    let user = seed_at_targets(&mut chain, &fx).await;
    (chain, fx, user)
}

/// Seeds a [`three_assets`] vault through single-asset deposits at target weights ($4 000 SOL, $3 000 BTC,
/// $3 000 USDC); returns the depositor.
pub async fn seed_at_targets(chain: &mut Chain, fx: &VaultFixture) -> User {
    let user = fx.user(chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.expect("user");
    for (i, amount) in [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)] {
        fx.deposit_single(chain, &user, i, amount, 1).await.expect("seed deposit");
    }
    fx.let_charges_vest(chain).await;
    user
}

/// A seeded three-asset vault with deep reference-AMM pools for every pair (30 bps fee, $1M a side),
/// whitelisted, and a funded keeper with a token account per asset for its bounty.
pub struct Market {
    pub chain: Chain,
    pub fx: VaultFixture,
    pub seed: User,
    pub pools: Vec<ballast_harness::fixture::PoolFixture>,
    pub keeper: solana_keypair::Keypair,
    pub keeper_accounts: Vec<anchor_lang::prelude::Pubkey>,
}

impl Market {
    pub async fn new() -> Market {
        Self::on(Chain::start().await).await
    }

    /// A market on the given chain (e.g. one whose AMM program was replaced).
    pub async fn on(chain: Chain) -> Market {
        Self::with(chain, fixture::default_params()).await
    }

    /// A market whose vault has the given parameters.
    pub async fn with(chain: Chain, params: ballast::state::VaultParams) -> Market {
        let (chain, fx, seed) = seeded_with(chain, params).await;
        Self::around(chain, fx, seed).await
    }

    /// A market whose vault has [`three_assets`] with every asset's max trade size at `max_trade_bps`.
    pub async fn with_max_trade(chain: Chain, max_trade_bps: u16) -> Market {
        let mut specs = three_assets();
        for s in &mut specs {
            s.params.max_trade_bps = max_trade_bps;
        }
        Self::with_specs(chain, specs).await
    }

    /// A market whose vault has these [`three_assets`]-like specs (the same prices and decimals, seeded at
    /// the same amounts) and default parameters.
    pub async fn with_specs(chain: Chain, specs: Vec<AssetSpec>) -> Market {
        let mut chain = chain;
        let fx = fixture::create_vault(&mut chain, &specs, fixture::default_params()).await.expect("vault");
        let seed = seed_at_targets(&mut chain, &fx).await;
        Self::around(chain, fx, seed).await
    }

    /// Pools for every pair around a seeded vault, and a keeper.
    async fn around(mut chain: Chain, fx: VaultFixture, seed: User) -> Market {
        let mut pools = Vec::new();
        for (i, j) in [(0, 2), (1, 2), (0, 1)] {
            pools.push(fx.create_pool(&mut chain, i, j, 1_000_000.0, 30).await.expect("pool"));
        }
        let keeper_user = fx.user(&mut chain, &[0, 0, 0]).await.expect("keeper");
        Market { chain, fx, seed, pools, keeper: keeper_user.keypair, keeper_accounts: keeper_user.tokens }
    }

    pub fn pool(&self, i: usize, j: usize) -> ballast_harness::fixture::PoolFixture {
        ballast_harness::fixture::PoolFixture::between(&self.pools, i, j).expect("pool for pair")
    }

    /// Moves asset `i`'s oracle price by `pct` percent (other oracles refreshed), arbitrages every pool,
    /// then opens the rebalance auction and lets it run its course: a rebalance sent next is held to the
    /// slippage-cap floor, the worst price a keeper may pay (tests of the auction itself use
    /// [`Market::move_price_after`], which leaves the auction alone).
    pub async fn move_price(&mut self, i: usize, pct: i64) {
        self.move_price_after(i, pct, 2).await;
        self.relax_auction().await;
    }

    /// Moves asset `i`'s oracle price by `pct` percent after `secs` seconds (other oracles refreshed) and
    /// arbitrages every pool; the auction is left as it is.
    pub async fn move_price_after(&mut self, i: usize, pct: i64, secs: i64) {
        self.chain.advance_time(secs).await;
        self.fx.refresh_prices(&mut self.chain).await;
        let p = self.fx.oracle_reading(&mut self.chain, i).await.price;
        self.fx.set_price(&mut self.chain, i, p * (100 + pct) / 100).await;
        for pool in self.pools.clone() {
            self.fx.arbitrage(&mut self.chain, &pool).await.expect("arbitrage");
        }
    }

    /// Sends a rebalance through the pool of the pair.
    pub async fn rebalance(&mut self, sell: u8, buy: u8, amount_in: u64, min_out: u64) -> Result<(), BanksClientError> {
        // A pair without a pool (e.g. sell == buy) goes through the first pool: the program refuses first.
        let pool = ballast_harness::fixture::PoolFixture::between(&self.pools, sell as usize, buy as usize)
            .unwrap_or(self.pools[0]);
        let args = ballast::instructions::RebalanceArgs { sell_index: sell, buy_index: buy, amount_in, min_out };
        let bounty = self.keeper_accounts[sell as usize];
        self.fx.rebalance(&mut self.chain, &self.keeper, &bounty, &pool, args).await
    }
}

impl Market {
    /// Lets the shipped keeper's planner act until it holds (at most `max` trades): it opens the auction,
    /// waits for it to reach the pool's price, trades, and again; returns the trades made.
    pub async fn settle(&mut self, max: usize) -> usize {
        let mode = ballast_client::RouteMode::Direct;
        let trades = self.fx.keep_until_held(&mut self.chain, mode, &self.keeper, &self.keeper_accounts, max).await;
        trades.expect("planned rebalance").len()
    }

    /// Opens the rebalance auction (`poke`) and lets it run its course (the floor is then the slippage cap's,
    /// as for a keeper that waited it out); prices are re-published at the new time.
    pub async fn relax_auction(&mut self) {
        self.fx.relax_auction(&mut self.chain).await.expect("poke");
    }

    /// Lets `secs` pass while keepers watch: prices re-published and the vault poked every half heartbeat
    /// (`VaultFixture::let_auction_run`), so a running auction keeps relaxing.
    pub async fn let_auction_run(&mut self, secs: i64) {
        self.fx.let_auction_run(&mut self.chain, secs).await.expect("poke");
    }

    /// Sends `poke` (refreshes oracle readings and volatility estimates).
    pub async fn poke(&mut self) {
        self.fx.poke(&mut self.chain).await.expect("poke");
    }
}

/// The TypeScript package (`app/ts`) and the node tests run from the Rust suite.
pub mod node {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};
    use std::sync::Mutex;

    /// `app/ts`.
    pub fn package_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/ts")
    }

    fn run(cmd: &mut Command) -> Output {
        let shown = format!("{cmd:?}");
        let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e} (are node and npm installed?)"));
        assert!(
            out.status.success(),
            "{shown} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Installs the package's locked dependencies (`npm ci`, when `node_modules` is missing or older
    /// than the lockfile) and compiles it (`tsc`), once per test process.
    pub fn prepare() {
        static DONE: Mutex<bool> = Mutex::new(false);
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        let dir = package_dir();
        let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let stale =
            match (modified(dir.join("node_modules/.package-lock.json")), modified(dir.join("package-lock.json"))) {
                (Some(installed), Some(lock)) => installed < lock,
                _ => true,
            };
        if stale {
            run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir));
        }
        run(Command::new("npx").args(["tsc", "-p", "."]).current_dir(&dir));
        *done = true;
    }

    /// Installs Debian's Chromium for the browser test when it is missing (`app/ts/scripts/ensure-chromium.sh`).
    pub fn ensure_chromium() {
        if Path::new("/usr/bin/chromium").exists() || std::env::var_os("CHROMIUM").is_some() {
            return;
        }
        run(Command::new("bash").arg(package_dir().join("scripts/ensure-chromium.sh")));
    }

    /// Runs `node --test` on the compiled files under `dist/app/ts/<dir>` with `env`; panics with the
    /// test output when a test fails. Returns the output.
    pub fn test(dir: &str, env: &[(&str, String)]) -> String {
        prepare();
        let mut cmd = Command::new("node");
        cmd.args([
            "--test",
            "--test-concurrency=1",
            "--test-force-exit",
            "--test-reporter=tap",
            &format!("dist/app/ts/{dir}/"),
        ])
        .current_dir(package_dir());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// `ballast localnet` on free loopback ports with the given price path and clock tick, writing the
/// demo vault's governance keys into `keys_dir`.
pub async fn localnet_with_keys(
    tick_ms: u64,
    price_path: ballast_localnet::localnet::PricePath,
    keys_dir: &std::path::Path,
) -> ballast_localnet::localnet::Localnet {
    use ballast_localnet::localnet::{self, LocalnetOptions};
    localnet::start(LocalnetOptions {
        addr: "127.0.0.1:0".parse().expect("loopback address"),
        ws_addr: None,
        dashboard_addr: None,
        price_path,
        step: std::time::Duration::from_millis(1_000),
        tick: std::time::Duration::from_millis(tick_ms),
        keys_dir: Some(keys_dir.to_path_buf()),
        large_vault: None,
    })
    .await
    .expect("localnet")
}

/// A seeded three-asset vault whose whitelisted pools are on `amm` (the real Raydium CPMM or Orca
/// Whirlpool programs, or the reference AMM), $1M a side for every pair, and a keeper with a token account
/// per asset.
pub struct DexMarket {
    pub chain: Chain,
    pub fx: VaultFixture,
    pub pools: Vec<ballast_harness::dex::AnyPool>,
    pub keeper: solana_keypair::Keypair,
    pub keeper_accounts: Vec<anchor_lang::prelude::Pubkey>,
}

impl DexMarket {
    pub async fn new(amm: ballast_harness::dex::Amm) -> DexMarket {
        let (mut chain, fx, _seed) = setup_seeded().await;
        let pools = fx.create_pools(&mut chain, amm, &[(0, 2), (1, 2), (0, 1)], 1_000_000.0, 30).await.expect("pools");
        let keeper = fx.user(&mut chain, &[0, 0, 0]).await.expect("keeper");
        DexMarket { chain, fx, pools, keeper: keeper.keypair, keeper_accounts: keeper.tokens }
    }

    /// A vault of `n` equally weighted assets ([`fixture::numbered_specs`], 25 bps bands) with its valuation cache,
    /// seeded to its targets ($10 000 a vault) by one single-asset deposit per asset, valued from the cache
    /// when the vault is too large for the direct route; pools on `amm` for `(0, 2)`, `(1, 2)` and `(0, 1)`,
    /// $1M a side, and a keeper with a token account per asset. Returns the seed depositor too.
    pub async fn large(amm: ballast_harness::dex::Amm, n: usize) -> (DexMarket, User) {
        Self::large_of(amm, fixture::numbered_specs(n, 25)).await
    }

    /// [`DexMarket::large`] of the assets `specs` (`ballast_harness::large_vault::large_vault`).
    pub async fn large_of(amm: ballast_harness::dex::Amm, specs: Vec<AssetSpec>) -> (DexMarket, User) {
        let mut chain = Chain::start().await;
        let v = ballast_harness::large_vault::large_vault(&mut chain, amm, &specs).await.expect("large vault");
        let market =
            DexMarket { chain, fx: v.fx, pools: v.pools, keeper: v.keeper.keypair, keeper_accounts: v.keeper.tokens };
        (market, v.seed)
    }

    /// The pool trading assets `i` and `j`.
    /// Lets the keeper's planner act (poke to open the auction, wait for it, sit out the cooldown) until it
    /// names a trade, and returns it.
    pub async fn until_trade(&mut self) -> ballast_client::planner::Candidate {
        use ballast_client::planner::{Decision, Hold};
        for _ in 0..12 {
            let planned = self.fx.plan(&mut self.chain).await;
            match planned.decision {
                Decision::Trade(c) => return *c,
                Decision::Poke(_) => self.fx.poke(&mut self.chain).await.unwrap(),
                Decision::Wait { at, .. } => {
                    self.fx.let_auction_run(&mut self.chain, (at - planned.snapshot.now).max(1)).await.unwrap();
                }
                Decision::Hold(Hold::Cooldown { until_slot }) => {
                    self.chain.advance_slots(until_slot - planned.snapshot.slot).await;
                    self.fx.refresh_prices(&mut self.chain).await;
                }
                Decision::Hold(why) => panic!("the keeper holds: {why}"),
            }
        }
        panic!("no trade after twelve turns");
    }

    /// The instructions of `c` along `mode`, and with `cached` valued from the vault's valuation cache
    /// refreshed in the same transaction.
    pub async fn trade_ixs(
        &mut self,
        mode: ballast_client::RouteMode,
        c: &ballast_client::planner::Candidate,
        cached: bool,
    ) -> Vec<anchor_lang::solana_program::instruction::Instruction> {
        use solana_signer::Signer;
        let vault = self.fx.state(&mut self.chain).await;
        let key = self.fx.key;
        let account = self.keeper_accounts[c.request.sell];
        let ixs = ballast_client::execute_along(mode, &self.keeper.pubkey(), &key, &vault, &account, c).unwrap();
        if !cached {
            return ixs;
        }
        ballast_client::with_refreshed_cache(&ixs, &key, &vault)
    }

    /// Lets the keeper's planner act until it trades ([`DexMarket::until_trade`]), sends the trade along
    /// `mode` ([`DexMarket::trade_ixs`]) and returns it with what the vault received.
    pub async fn keeper_trades(
        &mut self,
        mode: ballast_client::RouteMode,
        cached: bool,
    ) -> (ballast_client::planner::Candidate, u64) {
        let c = self.until_trade().await;
        let before = self.fx.holdings(&mut self.chain).await[c.request.buy];
        let ixs = self.trade_ixs(mode, &c, false).await;
        // Valued from the cache: the refresh and the trade in one transaction up to `DIRECT_MAX_ASSETS` assets,
        // back to back in one slot above (`cached_transactions`).
        let vault = self.fx.state(&mut self.chain).await;
        let txs = if cached { ballast_client::cached_transactions(&ixs, &self.fx.key, &vault) } else { vec![ixs] };
        let last = txs.len() - 1;
        for (k, tx) in txs.iter().enumerate() {
            let signers: &[&solana_keypair::Keypair] = if k == last { &[&self.keeper] } else { &[] };
            self.chain.send(tx, signers).await.unwrap();
        }
        let received = self.fx.holdings(&mut self.chain).await[c.request.buy] - before;
        (c, received)
    }

    pub fn pool(&self, i: usize, j: usize) -> ballast_harness::dex::AnyPool {
        *self.pools.iter().find(|p| p.assets() == (i, j) || p.assets() == (j, i)).expect("pool for pair")
    }

    /// Moves asset `i`'s oracle price by `pct` percent two seconds on (others refreshed) and arbitrages
    /// every pool through its own program; the auction is left alone.
    pub async fn move_price(&mut self, i: usize, pct: i64) {
        self.chain.advance_time(2).await;
        self.fx.refresh_prices(&mut self.chain).await;
        let p = self.fx.oracle_reading(&mut self.chain, i).await.price;
        self.fx.set_price(&mut self.chain, i, p * (100 + pct) / 100).await;
        for pool in self.pools.clone() {
            self.fx.arbitrage_any(&mut self.chain, &pool).await.expect("arbitrage");
        }
    }
}

/// Deterministic xorshift generator for randomised tests (not for anything secret).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.range(0, n)
    }
}

/// A program that forwards its instruction to ballast by CPI: accounts[0] is ballast's program account, the
/// rest are the ballast instruction's accounts, the data is ballast's. Start a chain with it by
/// `Chain::start_with_program::<Relay>("relay", RELAY_ID)` and wrap instructions in [`relayed`].
pub struct Relay;

pub const RELAY_ID: anchor_lang::prelude::Pubkey =
    anchor_lang::prelude::Pubkey::from_str_const("Re1ay11111111111111111111111111111111111111");

impl chain::NativeProgram for Relay {
    fn process(
        _: &anchor_lang::prelude::Pubkey,
        accounts: &[anchor_lang::prelude::AccountInfo],
        data: &[u8],
    ) -> Result<(), anchor_lang::solana_program::program_error::ProgramError> {
        use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
        let metas = accounts[1..]
            .iter()
            .map(|a| AccountMeta { pubkey: *a.key, is_signer: a.is_signer, is_writable: a.is_writable })
            .collect();
        anchor_lang::solana_program::program::invoke(
            &Instruction { program_id: ballast::ID, accounts: metas, data: data.to_vec() },
            accounts,
        )
    }
}

/// `ix` sent through [`Relay`] (ballast reached by CPI).
pub fn relayed(
    ix: anchor_lang::solana_program::instruction::Instruction,
) -> anchor_lang::solana_program::instruction::Instruction {
    use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
    let mut accounts = vec![AccountMeta::new_readonly(ballast::ID, false)];
    accounts.extend(ix.accounts);
    Instruction { program_id: RELAY_ID, accounts, data: ix.data }
}

/// USD value at the oracles' mid prices now of signed per-asset amounts (base units).
pub async fn usd_of(chain: &mut Chain, fx: &VaultFixture, amounts: &[i128]) -> f64 {
    let mut total = 0.0;
    for (i, a) in amounts.iter().enumerate() {
        total += *a as f64 * fx.unit_price(chain, i).await;
    }
    total
}

/// What `shares` are worth at the oracles' mid prices now (USD; the holders' balances, fee shares owed counted
/// in the supply).
pub async fn share_value(chain: &mut Chain, fx: &VaultFixture, shares: u64) -> f64 {
    let report = fx.report(chain).await.unwrap();
    let outstanding = fx.share_supply(chain).await + fx.state(chain).await.fees.pending_shares;
    report.nav as f64 / 1e6 * shares as f64 / outstanding as f64
}

/// The base units of every asset that make up about `usd` of the vault in its current proportions.
pub async fn in_kind_amounts(chain: &mut Chain, fx: &VaultFixture, usd: f64) -> Vec<u64> {
    let report = fx.report(chain).await.unwrap();
    let nav = report.nav as f64 / 1e6;
    report.holdings.iter().map(|h| (*h as f64 * usd / nav * 1.0001) as u64 + 1).collect()
}

/// A new holder who deposits about `usd` in kind.
pub async fn in_kind_holder(chain: &mut Chain, fx: &VaultFixture, usd: f64) -> User {
    let amounts = in_kind_amounts(chain, fx, usd).await;
    let user = fx.user(chain, &amounts).await.unwrap();
    fx.deposit(chain, &user, amounts, 1).await.unwrap();
    user
}

/// A swap from `user`'s account of asset `from` to its account of asset `to` through their reference pool.
pub fn user_swap(
    fx: &VaultFixture,
    user: &User,
    from: usize,
    to: usize,
    amount: u64,
) -> anchor_lang::solana_program::instruction::Instruction {
    use solana_signer::Signer;
    let a = &fx.assets;
    ballast_client::amm::swap(
        &user.keypair.pubkey(),
        &a[from].mint,
        &a[to].mint,
        &user.tokens[from],
        &user.tokens[to],
        &a[from].spec.program.id(),
        &a[to].spec.program.id(),
        amount,
        0,
    )
}

pub use ballast_harness::heap_meter::heap_by_instruction;
