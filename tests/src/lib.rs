//! Shared helpers for the integration tests.

use ballast::errors::BallastError;
use ballast_app::chain::{custom_error, Chain};
use ballast_app::fixture::{self, AssetSpec, User, VaultFixture};
use solana_program_test::BanksClientError;

pub use ballast_app::chain;

/// Asserts a transaction failed with exactly this ballast error.
#[track_caller]
pub fn assert_ballast_err(result: Result<(), BanksClientError>, expected: BallastError) {
    let want: u32 = expected.into();
    match result {
        Ok(()) => panic!("expected {expected:?} ({want}), but the transaction succeeded"),
        Err(e) => assert_eq!(custom_error(&e), Some(want), "expected {expected:?} ({want}), got {e:?}"),
    }
}

/// Three assets with different decimals: SOL $150 (9), BTC $60 000 (8), USDC $1 (6); 40/30/30.
pub fn three_assets() -> Vec<AssetSpec> {
    vec![
        AssetSpec::new("SOL", 9, 150_00000000, -8, 4_000, 500),
        AssetSpec::new("BTC", 8, 60_000_00000000, -8, 3_000, 500),
        AssetSpec::new("USDC", 6, 1_00000000, -8, 3_000, 300),
    ]
}

/// A chain with an active three-asset vault.
pub async fn setup() -> (Chain, VaultFixture) {
    let mut chain = Chain::start().await;
    let fx = fixture::create_vault(&mut chain, &three_assets(), fixture::default_params()).await.expect("vault");
    (chain, fx)
}

/// A chain with an active vault seeded by one user through single-asset deposits at target weights
/// ($4 000 SOL, $3 000 BTC, $3 000 USDC). Returns that user.
pub async fn setup_seeded() -> (Chain, VaultFixture, User) {
    let (mut chain, fx) = setup().await;
    let user = fx.user(&mut chain, &[100_000_000_000, 10_000_000, 10_000_000_000]).await.expect("user");
    for (i, amount) in [(0u8, 26_666_666_667u64), (1, 5_000_000), (2, 3_000_000_000)] {
        fx.deposit_single(&mut chain, &user, i, amount, 1).await.expect("seed deposit");
    }
    (chain, fx, user)
}
