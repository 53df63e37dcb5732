//! Real DEX programs on the embedded chain: compiled builds of Raydium CP-Swap (CPMM) and Orca Whirlpools
//! (`tests/fixtures/dex/`, provenance and sha256 in its README) run in the test validator's SBF VM beside
//! ballast's native programs, metered as on a cluster. Pools are created with each program's own
//! instructions ([`raydium`], [`orca`]) and kept at the oracle's prices by an arbitrageur.

pub mod orca;
pub mod raydium;

use anchor_lang::prelude::Pubkey;

pub use crate::programs::RENT_SYSVAR;

/// Which AMM a market's pools are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Amm {
    /// ballast's reference constant-product AMM (30 bps unless stated).
    #[default]
    Reference,
    /// Raydium CPMM (Raydium's mainnet config: 25 bps).
    Raydium,
    /// Orca Whirlpools (tick spacing 64, 30 bps; a full-range and a ±10 % position).
    Orca,
}

impl Amm {
    pub fn name(self) -> &'static str {
        match self {
            Amm::Reference => "reference",
            Amm::Raydium => "raydium",
            Amm::Orca => "orca",
        }
    }
}

/// A whitelisted pool of any supported AMM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyPool {
    Reference(crate::fixture::PoolFixture),
    Cpmm(raydium::CpmmPool),
    Whirlpool(orca::WhirlpoolPool),
}

impl AnyPool {
    pub fn key(&self) -> Pubkey {
        match self {
            AnyPool::Reference(p) => p.key,
            AnyPool::Cpmm(p) => p.key,
            AnyPool::Whirlpool(p) => p.key,
        }
    }

    /// The vault asset indexes the pool trades.
    pub fn assets(&self) -> (usize, usize) {
        match self {
            AnyPool::Reference(p) => (p.index_a, p.index_b),
            AnyPool::Cpmm(p) => (p.index_0, p.index_1),
            AnyPool::Whirlpool(p) => (p.index_a, p.index_b),
        }
    }
}

impl crate::fixture::VaultFixture {
    /// A whitelisted pool of `amm` for every pair in `pairs`, `usd_per_side` deep (reference pools charge
    /// `reference_fee_bps`; Raydium's config charges 25 bps; Whirlpools 30 bps, plus as much again in a
    /// ±10 % concentrated position).
    pub async fn create_pools(
        &self,
        chain: &mut crate::chain::Chain,
        amm: Amm,
        pairs: &[(usize, usize)],
        usd_per_side: f64,
        reference_fee_bps: u16,
    ) -> anyhow::Result<Vec<AnyPool>> {
        let mut out = Vec::new();
        let config = match amm {
            Amm::Orca => Some(orca::create_config(chain, &orca::WhirlpoolSpec::default()).await?),
            _ => None,
        };
        for (i, j) in pairs {
            out.push(match (amm, config) {
                (Amm::Reference, _) => {
                    AnyPool::Reference(self.create_pool(chain, *i, *j, usd_per_side, reference_fee_bps).await?)
                }
                (Amm::Raydium, _) => AnyPool::Cpmm(self.create_cpmm_pool(chain, *i, *j, usd_per_side).await?),
                (Amm::Orca, Some(c)) => AnyPool::Whirlpool(
                    self.create_whirlpool(chain, &c, &orca::WhirlpoolSpec::default(), *i, *j, usd_per_side).await?,
                ),
                (Amm::Orca, None) => unreachable!("the config is made above"),
            });
        }
        Ok(out)
    }

    /// Brings every pool of `pools` back to the oracle mid prices: the real DEXes' pools at once (one
    /// transaction a pool), the reference pools' trades returned, to send in one transaction (they are
    /// independent: each pool's trade depends on its reserves and the oracles only) with whatever should
    /// follow them.
    pub async fn arbitrage_pools(
        &self,
        chain: &mut crate::chain::Chain,
        pools: &[AnyPool],
    ) -> anyhow::Result<Vec<anchor_lang::solana_program::instruction::Instruction>> {
        let mut batch = Vec::new();
        for pool in pools {
            match pool {
                AnyPool::Reference(p) => batch.extend(self.arbitrage_instructions(chain, p).await?),
                other => self.arbitrage_any(chain, other).await?,
            }
        }
        Ok(batch)
    }

    /// Brings `pool` back to the oracle mid prices (an arbitrageur's trade through the pool's own program).
    pub async fn arbitrage_any(&self, chain: &mut crate::chain::Chain, pool: &AnyPool) -> anyhow::Result<()> {
        match pool {
            AnyPool::Reference(p) => self.arbitrage(chain, p).await,
            AnyPool::Cpmm(p) => self.arbitrage_cpmm(chain, p).await,
            AnyPool::Whirlpool(p) => self.arbitrage_whirlpool(chain, p).await,
        }
    }
}

impl crate::fixture::VaultFixture {
    /// Sends `rebalance` through `pool` (any supported AMM) signed by `keeper`, paying the bounty to
    /// `bounty_account`: the adapter's accounts come from the keeper's own view of the pool.
    pub async fn rebalance_any(
        &self,
        chain: &mut crate::chain::Chain,
        keeper: &solana_keypair::Keypair,
        bounty_account: &Pubkey,
        pool: &AnyPool,
        args: ballast::instructions::RebalanceArgs,
    ) -> Result<(), solana_program_test::BanksClientError> {
        use solana_signer::Signer;
        let vault = self.state(chain).await;
        let (_, routes) = crate::client::planner::load(chain, vault.clone())
            .await
            .map_err(|_| solana_program_test::BanksClientError::ClientError("could not read the vault's pools"))?;
        let route = routes.iter().find(|r| r.pool == pool.key());
        let (s, b) = (args.sell_index as usize, args.buy_index as usize);
        // A pair the pool does not trade (an eager bot's guess) still goes out: the program refuses it.
        let extra = route.and_then(|r| r.adapter_accounts(&vault, s, b)).unwrap_or_default();
        let program = route.map(|r| r.program_id).unwrap_or(ballast_amm::ID);
        let ix = crate::client::rebalance_through(
            &keeper.pubkey(),
            &self.key,
            &vault,
            bounty_account,
            &program,
            &pool.key(),
            extra,
            args,
        );
        chain.send(&[raydium::budget(800_000), ix], &[keeper]).await
    }
}
