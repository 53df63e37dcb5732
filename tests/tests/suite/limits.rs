//! A DIRECT_MAX_ASSETS (16-asset) vault rebalanced within one transaction's limits: it needs an address
//! lookup table (the legacy form is too large), and with one it fits the 1 232-byte packet.

use ballast::constants::DIRECT_MAX_ASSETS as MAX_ASSETS;
use ballast::instructions::RebalanceArgs;
use ballast_harness::chain::{transaction_footprint, Chain, PACKET_DATA_SIZE};
use ballast_harness::fixture::{self, AssetSpec};
use solana_signer::Signer;

#[tokio::test]
async fn sixteen_asset_vault_rebalances_in_one_v0_transaction() {
    let mut chain = Chain::start().await;
    let specs: Vec<AssetSpec> = (0..MAX_ASSETS)
        .map(|i| AssetSpec::new(&format!("T{i}"), 6 + (i % 4) as u8, (1 + i as i64) * 1_00000000, -8, 625, 300))
        .collect();
    let fx = fixture::create_vault(&mut chain, &specs, fixture::default_params()).await.unwrap();
    let amounts: Vec<u64> = (0..MAX_ASSETS).map(|i| 10u64.pow(6 + (i % 4) as u32) * 10_000).collect();
    let seed = fx.user(&mut chain, &amounts).await.unwrap();
    for i in 0..MAX_ASSETS {
        let amount = fx.amount_for_usd(&mut chain, i, 1_000.0).await;
        fx.deposit_single(&mut chain, &seed, i as u8, amount, 1).await.unwrap();
    }
    let pool = fx.create_pool(&mut chain, 0, 1, 1_000_000.0, 30).await.unwrap();
    let keeper = fx.user(&mut chain, &[0; MAX_ASSETS]).await.unwrap();
    chain.advance_time(2).await;
    fx.refresh_prices(&mut chain).await;
    let p0 = fx.oracle_reading(&mut chain, 0).await.price;
    fx.set_price(&mut chain, 0, p0 * 16 / 10).await;
    fx.arbitrage(&mut chain, &pool).await.unwrap();
    fx.relax_auction(&mut chain).await.unwrap();

    let vault = fx.state(&mut chain).await;
    let args = RebalanceArgs { sell_index: 0, buy_index: 1, amount_in: u64::MAX, min_out: 0 };
    let ix = fx.rebalance_ix(&vault, &keeper.keypair, &keeper.tokens[0], &pool, args);
    // Every account except the signers goes into the table.
    let table_keys: Vec<_> =
        ix.accounts.iter().filter(|m| !m.is_signer).map(|m| m.pubkey).chain([ballast::ID]).collect();
    let table = chain.create_lookup_table(&table_keys).await.unwrap();
    let payer = chain.payer().pubkey();
    let fp = transaction_footprint(&payer, std::slice::from_ref(&ix), std::slice::from_ref(&table)).unwrap();
    assert!(fp.legacy_bytes > PACKET_DATA_SIZE, "legacy form unexpectedly fits: {fp:?}");
    assert!(fp.v0_bytes <= PACKET_DATA_SIZE, "v0 form too large: {fp:?}");
    assert!(fp.accounts <= 64, "{fp:?}");

    let before = fx.holdings(&mut chain).await;
    chain.send_v0(&[ix], &[&keeper.keypair], &[table]).await.unwrap();
    let after = fx.holdings(&mut chain).await;
    assert!(after[0] < before[0] && after[1] > before[1]);
    assert_eq!(&after[2..], &before[2..]);
}

/// The per-account size budget in `docs/large-vaults.md` ("Account sizes"): a layout change shows here and
/// must be written there.
#[test]
fn account_sizes_are_the_documented_budget() {
    use anchor_lang::Space;
    use ballast::state::{Asset, Claim, DepositRequest, ValuationCache, Vault, WithdrawRequest};
    // The vault's account grows with its assets: 7 447 bytes at 16 (the fixed size it had when 16 was the
    // limit: the per-asset room is the whole difference), 43 735 at 128.
    assert_eq!(Vault::space(16), 7_447, "vault at 16 assets");
    assert_eq!(Vault::space(ballast::constants::MAX_ASSETS), 8 + Vault::INIT_SPACE);
    assert_eq!(Vault::space(128), 43_735, "vault at 128 assets");
    assert_eq!(Vault::space(0), 2_263, "vault as created");
    assert_eq!(Vault::PER_ASSET_SPACE, 324);
    assert_eq!(Asset::INIT_SPACE, 276, "one asset in the vault");
    assert_eq!(8 + Claim::INIT_SPACE, 1_097, "a claim holds an amount for each of 128 assets");
    assert_eq!(8 + DepositRequest::INIT_SPACE, 190);
    assert_eq!(8 + WithdrawRequest::INIT_SPACE, 199);
    assert_eq!(ValuationCache::SPACE, 9_264);
}
