//! Vault creation, asset registry and governance instructions.

use anchor_lang::prelude::Pubkey;
use ballast::constants::MAX_ASSETS;
use ballast::errors::BallastError;
use ballast::instructions::{InitializeVaultArgs, ProposeParamsArgs};
use ballast::state::{pause, AmmEntry, AssetParams, VaultStatus};
use ballast_client::{self as client, pda};
use ballast_harness::chain::{Chain, TokenProgram};
use ballast_harness::fixture::{self, AssetSpec};
use ballast_harness::pyth::{self, PriceSpec};
use ballast_tests::*;
use solana_signer::Signer;

fn spec(symbol: &str, target: u16) -> AssetSpec {
    AssetSpec::new(symbol, 6, 1_00000000, -8, target, 300)
}

#[tokio::test]
async fn create_vault_happy_path() {
    let (mut chain, fx) = setup().await;
    let vault = fx.state(&mut chain).await;
    assert_eq!(vault.status, VaultStatus::Active);
    assert_eq!(vault.assets.len(), 3);
    assert_eq!(vault.targets(), vec![4_000, 3_000, 3_000]);
    assert_eq!(vault.governance, fx.governance.pubkey());
    assert_eq!(vault.share_mint, pda::share_mint(&fx.key));
    assert_eq!(vault.assets[1].decimals, 8);
    // Reserves exist, hold the right mint and are owned by the vault PDA.
    for a in &vault.assets {
        let acc = chain.account(&a.reserve).await.expect("reserve");
        assert_eq!(acc.owner, a.token_program);
        assert_eq!(Pubkey::try_from(&acc.data[0..32]).unwrap(), a.mint);
        assert_eq!(Pubkey::try_from(&acc.data[32..64]).unwrap(), fx.key);
    }
    // Share mint authority is the vault.
    let mint = chain.account(&vault.share_mint).await.unwrap();
    assert_eq!(u32::from_le_bytes(mint.data[0..4].try_into().unwrap()), 1);
    assert_eq!(Pubkey::try_from(&mint.data[4..36]).unwrap(), fx.key);
}

#[tokio::test]
async fn weights_must_sum_to_10000() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    for a in fixture::create_assets(&mut chain, &[spec("A", 5_000), spec("B", 4_000)]).await.unwrap() {
        fx.add_asset(&mut chain, a).await.unwrap();
    }
    let ix = client::activate_vault(&fx.governance.pubkey(), &fx.key);
    assert_ballast_err(chain.send(&[ix], &[&fx.governance]).await, BallastError::WeightsDoNotSum);
}

#[tokio::test]
async fn needs_two_assets_and_refuses_deposits_until_active() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let assets = fixture::create_assets(&mut chain, &[spec("A", 10_000)]).await.unwrap();
    fx.add_asset(&mut chain, assets[0].clone()).await.unwrap();
    let user = fx.user(&mut chain, &[10_000_000]).await.unwrap();
    assert_ballast_err(fx.deposit_single(&mut chain, &user, 0, 5_000_000, 0).await, BallastError::VaultNotActive);
    let ix = client::activate_vault(&fx.governance.pubkey(), &fx.key);
    assert_ballast_err(chain.send(&[ix], &[&fx.governance]).await, BallastError::TooFewAssets);
}

#[tokio::test]
async fn duplicate_mint_refused() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let assets = fixture::create_assets(&mut chain, &[spec("A", 5_000)]).await.unwrap();
    fx.add_asset(&mut chain, assets[0].clone()).await.unwrap();
    assert_ballast_err(fx.add_asset(&mut chain, assets[0].clone()).await, BallastError::DuplicateMint);
}

#[tokio::test]
async fn asset_parameter_bounds() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let mut zero_band = spec("A", 5_000);
    zero_band.params.band_bps = 0;
    let mut wide_band = spec("B", 5_000);
    wide_band.params.band_bps = 2_501;
    let mut no_trade = spec("C", 5_000);
    no_trade.params.max_trade_bps = 0;
    let mut zero_weight = spec("D", 0);
    zero_weight.params.target_bps = 0;
    let assets = fixture::create_assets(&mut chain, &[zero_band, wide_band, no_trade, zero_weight]).await.unwrap();
    assert_ballast_err(fx.add_asset(&mut chain, assets[0].clone()).await, BallastError::BandOutOfBounds);
    assert_ballast_err(fx.add_asset(&mut chain, assets[1].clone()).await, BallastError::BandOutOfBounds);
    assert_ballast_err(fx.add_asset(&mut chain, assets[2].clone()).await, BallastError::MaxTradeOutOfBounds);
    assert_ballast_err(fx.add_asset(&mut chain, assets[3].clone()).await, BallastError::ZeroTargetWeight);
}

#[tokio::test]
async fn at_most_max_assets() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let mut specs: Vec<AssetSpec> = fixture::numbered_specs(MAX_ASSETS, 300);
    specs.push(spec("X", 1));
    let assets = fixture::create_assets(&mut chain, &specs).await.unwrap();
    for a in &assets[..MAX_ASSETS] {
        fx.add_asset(&mut chain, a.clone()).await.unwrap();
    }
    assert_ballast_err(fx.add_asset(&mut chain, assets[MAX_ASSETS].clone()).await, BallastError::TooManyAssets);
    // The vault's account grew with each asset, to exactly its 128-asset size.
    let size = chain.account(&fx.key).await.unwrap().data.len();
    assert_eq!(size, ballast::state::Vault::space(MAX_ASSETS));
    // The 128 weights sum to 10 000: the full vault activates (asking for the heap a vault this large needs).
    let ix = client::activate_vault(&fx.governance.pubkey(), &fx.key);
    let vault = fx.state(&mut chain).await;
    chain.send(&client::with_heap_frame(&vault, vec![ix]), &[&fx.governance]).await.unwrap();
    assert_eq!(fx.state(&mut chain).await.assets.len(), MAX_ASSETS);
}

#[tokio::test]
async fn add_asset_requires_governance_and_configuring_state() {
    let (mut chain, mut fx) = setup().await;
    let extra = fixture::create_assets(&mut chain, &[spec("X", 1)]).await.unwrap();
    assert_ballast_err(fx.add_asset(&mut chain, extra[0].clone()).await, BallastError::VaultAlreadyActive);

    let mut chain2 = Chain::start().await;
    let mut fx2 = fixture::init_vault(&mut chain2, 1, fixture::default_params()).await.unwrap();
    let a = fixture::create_assets(&mut chain2, &[spec("A", 5_000)]).await.unwrap();
    fx2.governance = chain2.funded_keypair(1_000_000_000).await.unwrap(); // impostor signs
    assert_ballast_err(fx2.add_asset(&mut chain2, a[0].clone()).await, BallastError::NotGovernance);
}

#[tokio::test]
async fn token_2022_plain_mint_accepted_transfer_fee_refused() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let mut t22 = spec("T22", 5_000);
    t22.program = TokenProgram::Token2022;
    let assets = fixture::create_assets(&mut chain, &[t22, spec("A", 5_000)]).await.unwrap();
    for a in assets {
        fx.add_asset(&mut chain, a).await.unwrap();
    }
    let ix = client::activate_vault(&fx.governance.pubkey(), &fx.key);
    chain.send(&[ix], &[&fx.governance]).await.unwrap();
    // Token-2022 asset works end to end: deposit single, then withdraw in kind.
    let user = fx.user(&mut chain, &[10_000_000, 10_000_000]).await.unwrap();
    fx.deposit_single(&mut chain, &user, 0, 5_000_000, 1).await.unwrap();
    fx.deposit_single(&mut chain, &user, 1, 5_000_000, 1).await.unwrap();
    let shares = chain.token_amount(&user.shares).await;
    fx.withdraw(&mut chain, &user, shares, vec![1, 1]).await.unwrap();

    // A transfer-fee mint is refused with its own error.
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let mint = chain.create_mint_with_transfer_fee(6, 50, 1_000_000).await.unwrap();
    let oracle = Pubkey::new_unique();
    let feed_id = pyth::feed_id("FEE");
    let now = chain.clock().await.unix_timestamp;
    chain.set_price(&oracle, &PriceSpec::new(feed_id, 1_00000000, -8, now)).await;
    let asset = fixture::AssetFixture { spec: spec("FEE", 5_000), mint, oracle, feed_id };
    let mut fee_asset = asset.clone();
    fee_asset.spec.program = TokenProgram::Token2022;
    assert_ballast_err(fx.add_asset(&mut chain, fee_asset).await, BallastError::TransferFeeMintNotSupported);
}

#[tokio::test]
async fn token_2022_hook_and_permanent_delegate_refused() {
    use ballast_harness::chain::MintExtension;
    for (ext, err) in [
        (MintExtension::TransferHook { program: Pubkey::new_unique() }, BallastError::TransferHookMintNotSupported),
        (MintExtension::PermanentDelegate { delegate: Pubkey::new_unique() }, BallastError::UnsupportedMintExtension),
    ] {
        let mut chain = Chain::start().await;
        let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
        let mint = chain.create_mint_with(6, TokenProgram::Token2022, Some(ext)).await.unwrap();
        let oracle = Pubkey::new_unique();
        let feed_id = pyth::feed_id("EXT");
        let now = chain.clock().await.unix_timestamp;
        chain.set_price(&oracle, &PriceSpec::new(feed_id, 1_00000000, -8, now)).await;
        let mut s = spec("EXT", 5_000);
        s.program = TokenProgram::Token2022;
        assert_ballast_err(
            fx.add_asset(&mut chain, fixture::AssetFixture { spec: s, mint, oracle, feed_id }).await,
            err,
        );
    }
}

#[tokio::test]
async fn more_parameter_bounds() {
    let mut chain = Chain::start().await;
    let payer = chain.payer();
    let base = InitializeVaultArgs {
        vault_id: 3,
        governance: payer.pubkey(),
        guardian: Pubkey::default(),
        params: fixture::default_params(),
    };
    let cases: Vec<(ParamsEdit, BallastError)> = vec![
        (Box::new(|p| p.oracle_max_age_secs = 0), BallastError::OracleMaxAgeOutOfBounds),
        (Box::new(|p| p.oracle_max_age_secs = 3_601), BallastError::OracleMaxAgeOutOfBounds),
        (
            Box::new(|p| p.rebalance_cooldown_slots = ballast::constants::MAX_COOLDOWN_SLOTS + 1),
            BallastError::CooldownOutOfBounds,
        ),
        (Box::new(|p| p.slippage_cap_bps = 1_001), BallastError::SlippageOutOfBounds),
        (Box::new(|p| p.timelock_secs = ballast::constants::MAX_TIMELOCK_SECS + 1), BallastError::TimelockOutOfBounds),
    ];
    for (edit, err) in cases {
        let mut params = fixture::default_params();
        edit(&mut params);
        let args = InitializeVaultArgs { params, ..base.clone() };
        assert_ballast_err(chain.send(&[client::initialize_vault(&payer.pubkey(), args)], &[]).await, err);
    }
}

#[tokio::test]
async fn amm_whitelist_is_bounded() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    // A program without an adapter can be whitelisted (any of its accounts as a pool: it is never read as a
    // price and never traded through), which makes filling the list cheap.
    let program = anchor_spl::token::ID;
    for _ in 0..ballast::constants::MAX_AMMS {
        let pool = Pubkey::new_unique();
        chain.set_raw_account(&pool, vec![0; 8], program).await;
        chain.send(&[client::add_amm(&gov, &fx.key, &program, &pool)], &[&fx.governance]).await.unwrap();
    }
    let pool = Pubkey::new_unique();
    chain.set_raw_account(&pool, vec![0; 8], program).await;
    assert_ballast_err(
        chain.send(&[client::add_amm(&gov, &fx.key, &program, &pool)], &[&fx.governance]).await,
        BallastError::AmmWhitelistFull,
    );
    // A program that is not executable (a plain account) cannot be an AMM.
    let fake_program = Pubkey::new_unique();
    chain.set_raw_account(&fake_program, vec![0; 8], Pubkey::new_unique()).await;
    let owned = Pubkey::new_unique();
    chain.set_raw_account(&owned, vec![0; 8], fake_program).await;
    let g = &fx.governance;
    let first = fx.state(&mut chain).await.amms[0];
    chain.send(&[client::remove_amm(&gov, &fx.key, first.pool)], &[g]).await.unwrap();
    assert_ballast_err(
        chain.send(&[client::add_amm(&gov, &fx.key, &fake_program, &owned)], &[g]).await,
        BallastError::InvalidAmm,
    );
}

#[tokio::test]
async fn decimals_above_18_refused() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let mut s = spec("BIG", 5_000);
    s.decimals = 19;
    let a = fixture::create_assets(&mut chain, &[s]).await.unwrap();
    assert_ballast_err(fx.add_asset(&mut chain, a[0].clone()).await, BallastError::UnsupportedDecimals);
}

#[tokio::test]
async fn add_asset_checks_oracle_feed_and_verification() {
    let mut chain = Chain::start().await;
    let mut fx = fixture::init_vault(&mut chain, 1, fixture::default_params()).await.unwrap();
    let a = fixture::create_assets(&mut chain, &[spec("A", 5_000)]).await.unwrap();
    let mut wrong = a[0].clone();
    wrong.feed_id = pyth::feed_id("OTHER");
    assert_ballast_err(fx.add_asset(&mut chain, wrong).await, BallastError::OracleWrongFeed);
    let now = chain.clock().await.unix_timestamp;
    let mut partial = PriceSpec::new(a[0].feed_id, 1_00000000, -8, now);
    partial.verification = pyth_solana_receiver_sdk::price_update::VerificationLevel::Partial { num_signatures: 5 };
    chain.set_price(&a[0].oracle, &partial).await;
    assert_ballast_err(fx.add_asset(&mut chain, a[0].clone()).await, BallastError::OracleNotFullyVerified);
}

#[tokio::test]
async fn initialize_checks_params() {
    let mut chain = Chain::start().await;
    let payer = chain.payer();
    let mut params = fixture::default_params();
    params.slippage_cap_bps = 0;
    let args = InitializeVaultArgs { vault_id: 9, governance: payer.pubkey(), guardian: Pubkey::default(), params };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), args.clone())], &[]).await,
        BallastError::SlippageOutOfBounds,
    );
    let mut p = fixture::default_params();
    p.oracle_max_conf_bps = 0;
    let a = InitializeVaultArgs { params: p, ..args.clone() };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await,
        BallastError::OracleConfOutOfBounds,
    );
    let mut p = fixture::default_params();
    p.bounty_bps = 101;
    let a = InitializeVaultArgs { params: p, ..args.clone() };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await,
        BallastError::BountyOutOfBounds,
    );
    let a = InitializeVaultArgs { governance: Pubkey::default(), params: fixture::default_params(), ..args.clone() };
    assert_ballast_err(
        chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await,
        BallastError::InvalidGovernance,
    );
    // A zero timelock is fine at init.
    let mut p = fixture::default_params();
    p.timelock_secs = 0;
    let a = InitializeVaultArgs { params: p, ..args.clone() };
    chain.send(&[client::initialize_vault(&payer.pubkey(), a.clone())], &[]).await.unwrap();
    // Re-initialising the same vault fails (account already in use), state unchanged.
    assert!(chain.send(&[client::initialize_vault(&payer.pubkey(), a)], &[]).await.is_err());
}

fn proposal(fx_targets: &[u16], timelock: u32) -> ProposeParamsArgs {
    let mut params = fixture::default_params();
    params.timelock_secs = timelock;
    params.slippage_cap_bps = 50;
    ProposeParamsArgs {
        params,
        assets: fx_targets
            .iter()
            .map(|t| AssetParams { target_bps: *t, band_bps: 400, max_trade_bps: 2_000 })
            .collect(),
    }
}

#[tokio::test]
async fn params_change_waits_for_timelock() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    let ix = client::propose_params(&gov, &fx.key, proposal(&[5_000, 2_500, 2_500], 3_600));
    chain.send(&[ix], &[&fx.governance]).await.unwrap();
    // Too early.
    assert_ballast_err(
        chain.send(&[client::execute_params(&gov, &fx.key)], &[&fx.governance]).await,
        BallastError::TimelockNotElapsed,
    );
    chain.advance_time(86_399).await;
    assert_ballast_err(
        chain.send(&[client::execute_params(&gov, &fx.key)], &[&fx.governance]).await,
        BallastError::TimelockNotElapsed,
    );
    chain.advance_time(2).await;
    // A stranger cannot execute it either.
    let stranger = chain.funded_keypair(100_000_000).await.unwrap();
    assert_ballast_err(
        chain.send(&[client::execute_params(&stranger.pubkey(), &fx.key)], &[&stranger]).await,
        BallastError::NotGovernance,
    );
    chain.send(&[client::execute_params(&gov, &fx.key)], &[&fx.governance]).await.unwrap();
    let vault = fx.state(&mut chain).await;
    assert_eq!(vault.targets(), vec![5_000, 2_500, 2_500]);
    assert_eq!(vault.params.slippage_cap_bps, 50);
    assert_eq!(vault.params.timelock_secs, 3_600);
    assert!(vault.pending_params.is_none());
    assert_ballast_err(
        chain.send(&[client::execute_params(&gov, &fx.key)], &[&fx.governance]).await,
        BallastError::NoParamsChangePending,
    );
}

#[tokio::test]
async fn params_proposal_validation() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    let send = |args| client::propose_params(&gov, &fx.key, args);
    assert_ballast_err(
        chain.send(&[send(proposal(&[5_000, 2_500, 2_400], 60))], &[&fx.governance]).await,
        BallastError::WeightsDoNotSum,
    );
    assert_ballast_err(
        chain.send(&[send(proposal(&[5_000, 5_000], 60))], &[&fx.governance]).await,
        BallastError::AssetCountMismatch,
    );
    assert_ballast_err(
        chain.send(&[send(proposal(&[4_000, 3_000, 3_000], 0))], &[&fx.governance]).await,
        BallastError::TimelockOutOfBounds,
    );
    let stranger = chain.funded_keypair(100_000_000).await.unwrap();
    assert_ballast_err(
        chain
            .send(
                &[client::propose_params(&stranger.pubkey(), &fx.key, proposal(&[4_000, 3_000, 3_000], 60))],
                &[&stranger],
            )
            .await,
        BallastError::NotGovernance,
    );
    chain.send(&[send(proposal(&[4_000, 3_000, 3_000], 60))], &[&fx.governance]).await.unwrap();
    assert_ballast_err(
        chain.send(&[send(proposal(&[3_000, 3_000, 4_000], 60))], &[&fx.governance]).await,
        BallastError::ParamsChangeAlreadyPending,
    );
    chain.send(&[client::cancel_params(&gov, &fx.key)], &[&fx.governance]).await.unwrap();
    assert!(fx.state(&mut chain).await.pending_params.is_none());
    assert_ballast_err(
        chain.send(&[client::cancel_params(&gov, &fx.key)], &[&fx.governance]).await,
        BallastError::NoParamsChangePending,
    );
}

#[tokio::test]
async fn governance_transfer_is_two_step_and_cannot_be_hijacked() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    let next = chain.funded_keypair(100_000_000).await.unwrap();
    let thief = chain.funded_keypair(100_000_000).await.unwrap();
    assert_ballast_err(
        chain.send(&[client::accept_governance(&next.pubkey(), &fx.key)], &[&next]).await,
        BallastError::NoPendingGovernance,
    );
    // Only governance can name a successor.
    assert_ballast_err(
        chain.send(&[client::transfer_governance(&thief.pubkey(), &fx.key, thief.pubkey())], &[&thief]).await,
        BallastError::NotGovernance,
    );
    chain.send(&[client::transfer_governance(&gov, &fx.key, next.pubkey())], &[&fx.governance]).await.unwrap();
    assert_eq!(fx.state(&mut chain).await.governance, gov, "not transferred before acceptance");
    assert_ballast_err(
        chain.send(&[client::accept_governance(&thief.pubkey(), &fx.key)], &[&thief]).await,
        BallastError::NotPendingGovernance,
    );
    chain.send(&[client::accept_governance(&next.pubkey(), &fx.key)], &[&next]).await.unwrap();
    let vault = fx.state(&mut chain).await;
    assert_eq!(vault.governance, next.pubkey());
    assert_eq!(vault.pending_governance, Pubkey::default());
    // The old governance lost its powers.
    assert_ballast_err(
        chain.send(&[client::set_pause(&gov, &fx.key, pause::DEPOSITS)], &[&fx.governance]).await,
        BallastError::NotGovernanceOrGuardian,
    );
}

#[tokio::test]
async fn pause_flags_and_roles() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    let stranger = chain.funded_keypair(100_000_000).await.unwrap();
    // The guardian only signs; the chain's payer pays the fees.
    let g = &fx.guardian;
    chain.send(&[client::set_pause(&g.pubkey(), &fx.key, pause::DEPOSITS)], &[g]).await.unwrap();
    assert_eq!(fx.state(&mut chain).await.paused, pause::DEPOSITS);
    assert_ballast_err(
        chain.send(&[client::set_pause(&g.pubkey(), &fx.key, 0)], &[g]).await,
        BallastError::GuardianCannotUnpause,
    );
    assert_ballast_err(
        chain.send(&[client::set_pause(&stranger.pubkey(), &fx.key, pause::ALL)], &[&stranger]).await,
        BallastError::NotGovernanceOrGuardian,
    );
    assert_ballast_err(
        chain.send(&[client::set_pause(&gov, &fx.key, 0x80)], &[&fx.governance]).await,
        BallastError::InvalidPauseFlags,
    );
    // Governance pause blocks governance actions, but cancelling and unpausing still work.
    chain
        .send(&[client::propose_params(&gov, &fx.key, proposal(&[4_000, 3_000, 3_000], 60))], &[&fx.governance])
        .await
        .unwrap();
    chain.send(&[client::set_pause(&g.pubkey(), &fx.key, pause::DEPOSITS | pause::GOVERNANCE)], &[g]).await.unwrap();
    assert_ballast_err(
        chain.send(&[client::transfer_governance(&gov, &fx.key, stranger.pubkey())], &[&fx.governance]).await,
        BallastError::GovernancePaused,
    );
    chain.advance_time(86_401).await;
    assert_ballast_err(
        chain.send(&[client::execute_params(&gov, &fx.key)], &[&fx.governance]).await,
        BallastError::GovernancePaused,
    );
    chain.send(&[client::cancel_params(&gov, &fx.key)], &[&fx.governance]).await.unwrap();
    chain.send(&[client::set_pause(&gov, &fx.key, 0)], &[&fx.governance]).await.unwrap();
    assert_eq!(fx.state(&mut chain).await.paused, 0);
}

#[tokio::test]
async fn amm_whitelist() {
    let (mut chain, fx) = setup().await;
    let gov = fx.governance.pubkey();
    // A real reference-AMM pool of SOL and USDC (not whitelisted yet), and an account of the AMM program
    // that is no pool.
    let (mint_a, mint_b) = ballast_client::amm::sorted(fx.assets[0].mint, fx.assets[2].mint);
    let payer = chain.payer_key();
    let spl = anchor_spl::token::ID;
    chain.send(&[ballast_client::amm::create_pool(&payer, &mint_a, &mint_b, &spl, &spl, 30)], &[]).await.unwrap();
    let pool = ballast_client::amm::pool(&mint_a, &mint_b);
    let not_a_pool = Pubkey::new_unique();
    chain.set_raw_account(&not_a_pool, vec![0; 64], ballast_amm::ID).await;
    assert_ballast_err(
        chain.send(&[client::add_amm(&gov, &fx.key, &ballast_amm::ID, &not_a_pool)], &[&fx.governance]).await,
        BallastError::InvalidAmm,
    );
    let foreign_pool = Pubkey::new_unique();
    chain.set_raw_account(&foreign_pool, vec![0; 64], Pubkey::new_unique()).await;

    let stranger = chain.funded_keypair(100_000_000).await.unwrap();
    assert_ballast_err(
        chain.send(&[client::add_amm(&stranger.pubkey(), &fx.key, &ballast_amm::ID, &pool)], &[&stranger]).await,
        BallastError::NotGovernance,
    );
    assert_ballast_err(
        chain.send(&[client::add_amm(&gov, &fx.key, &ballast_amm::ID, &foreign_pool)], &[&fx.governance]).await,
        BallastError::InvalidAmm,
    );
    chain.send(&[client::add_amm(&gov, &fx.key, &ballast_amm::ID, &pool)], &[&fx.governance]).await.unwrap();
    // The entry records the pool's mints, read from the pool (which whitelisted pools price which pair).
    let entry = AmmEntry { program_id: ballast_amm::ID, pool, mint_a, mint_b };
    assert_eq!(fx.state(&mut chain).await.amms, vec![entry]);
    assert_ballast_err(
        chain.send(&[client::add_amm(&gov, &fx.key, &ballast_amm::ID, &pool)], &[&fx.governance]).await,
        BallastError::AmmAlreadyWhitelisted,
    );
    chain.send(&[client::remove_amm(&gov, &fx.key, entry.pool)], &[&fx.governance]).await.unwrap();
    assert!(fx.state(&mut chain).await.amms.is_empty());
    assert_ballast_err(
        chain.send(&[client::remove_amm(&gov, &fx.key, entry.pool)], &[&fx.governance]).await,
        BallastError::AmmNotWhitelisted,
    );
}
