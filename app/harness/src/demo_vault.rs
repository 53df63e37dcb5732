//! The demo vault: SOL/BTC/USDC at 40/30/30 with Alice's seed deposits and a reference-AMM pool per
//! pair. `ballast demo` and `ballast localnet` both start from it.

use anyhow::{anyhow, Result};
use ballast::state::VaultParams;

use crate::chain::{error_name, Chain};
use crate::dex::{Amm, AnyPool};
use crate::fixture::{self, AssetSpec, PoolFixture, User, VaultFixture};

/// The demo's assets.
pub fn demo_assets() -> Vec<AssetSpec> {
    vec![
        AssetSpec::new("SOL", 9, 150_00000000, -8, 4_000, 500),
        AssetSpec::new("BTC", 8, 60_000 * 100_000_000, -8, 3_000, 500),
        // Like the real USDC, the demo's USDC mint has a freeze authority: governance lists it with an
        // explicit acknowledgement.
        AssetSpec::new("USDC", 6, 1_00000000, -8, 3_000, 300).with_freeze_authority(),
    ]
}

/// The scripted path: (asset index, percent move) per step.
pub const PRICE_PATH: &[(usize, i64)] =
    &[(0, 10), (0, 10), (0, 12), (1, -15), (1, -12), (2, 0), (0, -20), (1, 25), (0, 8), (2, 0)];

/// The demo vault with Alice's seed deposits at target weights ($4,000 SOL, $3,000 BTC, $3,000 USDC).
pub async fn seeded_demo_vault(chain: &mut Chain, params: VaultParams) -> Result<(VaultFixture, User)> {
    let fx = fixture::create_vault(chain, &demo_assets(), params).await?;
    let alice = fx.user(chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await?;
    let seed = [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)];
    for (i, amount) in seed {
        fx.deposit_single(chain, &alice, i, amount, 1)
            .await
            .map_err(|e| anyhow!("alice single-asset deposit: {}", error_name(&e)))?;
    }
    Ok((fx, alice))
}

/// The demo vault's pairs.
pub const PAIRS: [(usize, usize); 3] = [(0, 2), (1, 2), (0, 1)];

/// A whitelisted reference-AMM pool for every pair of the demo vault ($250k a side, 30 bps).
pub async fn demo_pools(chain: &mut Chain, fx: &VaultFixture) -> Result<Vec<PoolFixture>> {
    let mut pools = Vec::new();
    for (i, j) in PAIRS {
        pools.push(fx.create_pool(chain, i, j, 250_000.0, 30).await?);
    }
    Ok(pools)
}

/// A whitelisted pool of `amm` for every pair of the demo vault, $250k a side: the reference AMM at 30 bps,
/// the real Raydium CPMM (25 bps), or real Orca Whirlpools (30 bps, full range plus a ±10 % position).
pub async fn demo_pools_on(chain: &mut Chain, fx: &VaultFixture, amm: Amm) -> Result<Vec<AnyPool>> {
    fx.create_pools(chain, amm, &PAIRS, 250_000.0, 30).await
}
