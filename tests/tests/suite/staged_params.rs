//! Parameter changes of vaults whose asset parameters do not fit one transaction: `stage_params` (the vault
//! parameters and the first assets'), then `append_params` until every asset's are in. The staged change cannot be
//! executed, it is checked whole when complete, and its timelock starts only then.

use ballast::errors::BallastError;
use ballast::events::{ParamsProposedEvent, ParamsStagedEvent};
use ballast::instructions::{AppendParamsArgs, ProposeParamsArgs, StageParamsArgs};
use ballast::state::{pause, AssetParams, PendingParams, Vault};
use ballast_client::exit::{measure, PACKET_DATA_SIZE};
use ballast_client::{self as client};
use ballast_harness::chain::Chain;
use ballast_harness::dex::Amm;
use ballast_harness::fixture::{self, VaultFixture};
use ballast_harness::large_vault::large_vault;
use ballast_tests::*;
use solana_signer::Signer;

async fn large(n: usize) -> (Chain, VaultFixture) {
    let mut chain = Chain::start().await;
    let v = large_vault(&mut chain, Amm::Reference, &fixture::numbered_specs(n, 25)).await.expect("large vault");
    (chain, v.fx)
}

/// The vault's parameters with asset 0's target moved to asset 1 (`shift` bps) and every band widened to 40 bps.
fn changed(vault: &Vault, shift: u16) -> ProposeParamsArgs {
    let mut assets: Vec<AssetParams> = vault.assets.iter().map(|a| a.params).collect();
    assets[0].target_bps -= shift;
    assets[1].target_bps += shift;
    for a in &mut assets {
        a.band_bps = 40;
    }
    ProposeParamsArgs { params: vault.params, assets }
}

async fn send_gov(
    chain: &mut Chain,
    fx: &VaultFixture,
    ix: anchor_lang::solana_program::instruction::Instruction,
) -> Result<(), solana_program_test::BanksClientError> {
    let vault = fx.state(chain).await;
    chain.send(&client::with_heap_frame(&vault, vec![ix]), &[&fx.governance]).await
}

fn stage(
    fx: &VaultFixture,
    args: &ProposeParamsArgs,
    count: usize,
) -> anchor_lang::solana_program::instruction::Instruction {
    let staged = StageParamsArgs { params: args.params, assets: args.assets[..count].to_vec() };
    client::stage_params(&fx.governance.pubkey(), &fx.key, staged, vec![])
}

fn append(
    fx: &VaultFixture,
    args: &ProposeParamsArgs,
    first: usize,
    count: usize,
) -> anchor_lang::solana_program::instruction::Instruction {
    let staged_hash = PendingParams::staged_hash(&args.params, &args.assets[..first]);
    let next =
        AppendParamsArgs { first: first as u16, staged_hash, assets: args.assets[first..first + count].to_vec() };
    client::append_params(&fx.governance.pubkey(), &fx.key, next, vec![])
}

async fn execute(chain: &mut Chain, fx: &VaultFixture) -> anchor_lang::solana_program::instruction::Instruction {
    client::execute_pending(&fx.governance.pubkey(), &fx.key, &fx.state(chain).await)
}

/// A 128-asset vault: the whole proposal is 1 332 bytes and fits no transaction; staged, it takes two, each
/// within a packet. Until the last lands it cannot be executed; then it waits its full timelock from that moment
/// and applies every asset's new parameters.
#[tokio::test]
async fn a_128_asset_change_is_staged_in_transactions_that_fit_and_applies_whole() {
    let (mut chain, fx) = large(128).await;
    let chain = &mut chain;
    let vault = fx.state(chain).await;
    let gov = fx.governance.pubkey();
    let payer = chain.payer_key();
    let args = changed(&vault, 50);
    let whole = client::with_heap_frame(&vault, vec![client::propose_params(&gov, &fx.key, args.clone())]);
    let (bytes, _, _) = measure(&payer, &whole, &[]).unwrap();
    assert_eq!(bytes, 564 + 6 * 128, "propose_params of 128 assets: over the {PACKET_DATA_SIZE}-byte packet");
    let txs = client::proposal_transactions(&payer, &gov, &fx.key, &vault, args.clone());
    assert_eq!(txs.len(), 2, "staged in two transactions");
    for tx in &txs {
        // Room left for the sender's compute-unit price.
        let mut priced = tx.clone();
        priced.insert(0, solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1));
        let (bytes, _, _) = measure(&payer, &priced, &[]).unwrap();
        assert!(bytes <= PACKET_DATA_SIZE, "{bytes} bytes with a price");
        assert!(
            tx.iter().any(|ix| ix.program_id == solana_compute_budget_interface::ID && ix.data[0] == 2),
            "a unit limit"
        );
    }
    let (landed, logs) = chain.send_logged(&txs[0], &[&fx.governance]).await;
    landed.expect("stage_params");
    let staged = ballast_client::events::decode::<ParamsStagedEvent>(&logs);
    let pending = fx.state(chain).await.pending_params.expect("staged");
    assert!(pending.is_staging());
    assert_eq!((staged.len(), staged[0].staged as usize, staged[0].total), (1, pending.assets.len(), 128));
    assert!(pending.assets.len() < 128, "{} assets in the first transaction", pending.assets.len());
    assert_ballast_err(
        {
            let ix = execute(chain, &fx).await;
            send_gov(chain, &fx, ix)
        }
        .await,
        BallastError::ParamsStillStaging,
    );
    // The timelock runs from completion, not from the first transaction.
    chain.advance_time(i64::from(vault.params.timelock_secs) + 10).await;
    let (landed, logs) = chain.send_logged(&txs[1], &[&fx.governance]).await;
    landed.expect("append_params");
    let proposed = ballast_client::events::decode::<ParamsProposedEvent>(&logs);
    let now = chain.clock().await.unix_timestamp;
    assert_eq!(proposed.len(), 1);
    assert_eq!(
        (proposed[0].assets.clone(), proposed[0].eta),
        (args.assets.clone(), now + i64::from(vault.params.timelock_secs))
    );
    assert_eq!(fx.state(chain).await.pending_params.map(|p| p.eta), Some(proposed[0].eta));
    assert_ballast_err(
        {
            let ix = execute(chain, &fx).await;
            send_gov(chain, &fx, ix)
        }
        .await,
        BallastError::TimelockNotElapsed,
    );
    chain.advance_time(i64::from(vault.params.timelock_secs)).await;
    {
        let ix = execute(chain, &fx).await;
        send_gov(chain, &fx, ix)
    }
    .await
    .expect("execute_params");
    let after = fx.state(chain).await;
    assert!(after.pending_params.is_none());
    assert_eq!(after.assets.iter().map(|a| a.params).collect::<Vec<_>>(), args.assets);
}

/// Every refusal of the staged path, each by its own error, on a 32-asset vault.
#[tokio::test]
async fn staging_refuses_out_of_order_overfull_foreign_and_paused_parts_and_checks_the_whole_when_complete() {
    let (mut chain, fx) = large(32).await;
    let chain = &mut chain;
    let vault = fx.state(chain).await;
    let gov = fx.governance.pubkey();
    let args = changed(&vault, 30);
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &args, 0, 4)).await, BallastError::NoParamsStaging);
    // Only governance stages.
    let stranger = solana_keypair::Keypair::new();
    let mut foreign = stage(&fx, &args, 10);
    foreign.accounts[0].pubkey = stranger.pubkey();
    assert_ballast_err(
        chain.send(&client::with_heap_frame(&vault, vec![foreign]), &[&stranger]).await,
        BallastError::NotGovernance,
    );
    send_gov(chain, &fx, stage(&fx, &args, 10)).await.expect("stage 10");
    // One change at a time, staged or not.
    assert_ballast_err(send_gov(chain, &fx, stage(&fx, &args, 10)).await, BallastError::ParamsChangeAlreadyPending);
    assert_ballast_err(
        send_gov(chain, &fx, client::propose_params(&gov, &fx.key, args.clone())).await,
        BallastError::ParamsChangeAlreadyPending,
    );
    // Parts continue where the staged change ends, and never past the vault's assets.
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &args, 5, 4)).await, BallastError::ParamsStageOutOfOrder);
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &args, 11, 4)).await, BallastError::ParamsStageOutOfOrder);
    let staged_hash = PendingParams::staged_hash(&args.params, &args.assets[..10]);
    let mut overfull = AppendParamsArgs { first: 10, staged_hash, assets: args.assets[10..].to_vec() };
    overfull.assets.push(args.assets[0]);
    assert_ballast_err(
        send_gov(chain, &fx, client::append_params(&gov, &fx.key, overfull, vec![])).await,
        BallastError::AssetCountMismatch,
    );
    // Each part's assets are checked as they arrive.
    let mut bad = AppendParamsArgs { first: 10, staged_hash, assets: args.assets[10..12].to_vec() };
    bad.assets[1].band_bps = 0;
    assert_ballast_err(
        send_gov(chain, &fx, client::append_params(&gov, &fx.key, bad, vec![])).await,
        BallastError::BandOutOfBounds,
    );
    assert_ballast_err(
        {
            let ix = execute(chain, &fx).await;
            send_gov(chain, &fx, ix)
        }
        .await,
        BallastError::ParamsStillStaging,
    );
    // The guardian's governance pause stops the staging too (governance lifts it).
    let guardian = fx.guardian.insecure_clone();
    chain
        .send(
            &client::with_heap_frame(&vault, vec![client::set_pause(&guardian.pubkey(), &fx.key, pause::GOVERNANCE)]),
            &[&guardian],
        )
        .await
        .unwrap();
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &args, 10, 22)).await, BallastError::GovernancePaused);
    chain
        .send(&client::with_heap_frame(&vault, vec![client::set_pause(&gov, &fx.key, 0)]), &[&fx.governance])
        .await
        .unwrap();
    // Complete, the whole is checked: targets that do not sum to 100 % are refused and the staged part stays.
    let mut wrong = args.clone();
    wrong.assets[31].target_bps += 1;
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &wrong, 10, 22)).await, BallastError::WeightsDoNotSum);
    assert_eq!(fx.state(chain).await.pending_params.map(|p| p.assets.len()), Some(10));
    // Cancelled, nothing is staged any more.
    send_gov(chain, &fx, client::cancel_params(&gov, &fx.key)).await.expect("cancel the staged change");
    assert!(fx.state(chain).await.pending_params.is_none());
    assert_ballast_err(send_gov(chain, &fx, append(&fx, &args, 10, 22)).await, BallastError::NoParamsStaging);
    // Staged again and completed in two parts: queued like a proposal.
    send_gov(chain, &fx, stage(&fx, &args, 10)).await.unwrap();
    send_gov(chain, &fx, append(&fx, &args, 10, 12)).await.unwrap();
    assert_eq!(
        fx.state(chain).await.pending_params.as_ref().map(|p| (p.assets.len(), p.is_staging())),
        Some((22, true))
    );
    send_gov(chain, &fx, append(&fx, &args, 22, 10)).await.unwrap();
    let pending: PendingParams = fx.state(chain).await.pending_params.expect("queued");
    assert!(!pending.is_staging());
    assert_eq!(pending.assets, args.assets);
}

/// The dashboard shows a staged change as such, how many assets' parameters are in and no countdown (its `eta`
/// stays `i64::MAX` until complete), then the timelock's countdown once the last part lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_staged_change_without_a_countdown_until_it_is_complete() {
    let net = localnet(500).await;
    let (args, timelock) = {
        let mut chain = net.chain.lock().await;
        let vault = net.fx.state(&mut chain).await;
        let args = changed(&vault, 100);
        chain.send(&[stage(&net.fx, &args, 1)], &[&net.fx.governance]).await.expect("stage_params");
        (args, i64::from(vault.params.timelock_secs))
    };
    let pending = || async {
        let body: serde_json::Value =
            reqwest::get(format!("{}/api/vaults", net.url())).await.unwrap().json().await.unwrap();
        body["vaults"][0]["pendingParams"].clone()
    };
    let p = pending().await;
    assert_eq!((p["staging"].as_bool(), p["staged"].as_u64(), p["total"].as_u64()), (Some(true), Some(1), Some(3)));
    assert!(p["secondsLeft"].is_null() && p["eta"].is_null(), "{p}");
    {
        let mut chain = net.chain.lock().await;
        chain.send(&[append(&net.fx, &args, 1, 2)], &[&net.fx.governance]).await.expect("append_params");
    }
    let p = pending().await;
    let left = p["secondsLeft"].as_i64().expect("a countdown");
    assert_eq!(p["staging"].as_bool(), Some(false));
    assert!((timelock - 30..=timelock).contains(&left), "{left} s left of {timelock}");
    net.stop();
}

/// A part signed for one staged change cannot complete another: governance stages A, cancels it and stages a
/// corrected B of the same length; A's signed `append_params` (still in flight, or an approved multisig
/// transaction anyone may execute) lands after. It is refused (`StagedParamsMismatch`): without the hash it would
/// have queued B's first assets with A's tail, a change no quorum approved.
#[tokio::test]
async fn a_part_signed_for_a_cancelled_staged_change_cannot_complete_the_next_one() {
    let (mut chain, fx) = large(32).await;
    let chain = &mut chain;
    let vault = fx.state(chain).await;
    let gov = fx.governance.pubkey();
    let a = changed(&vault, 30);
    // B moves weight between other assets of the first ten, and widens asset 20's band: its tail differs from
    // A's, and the targets of both tails sum the same.
    let mut b = a.clone();
    b.assets[0].target_bps += 30;
    b.assets[1].target_bps -= 30;
    b.assets[2].target_bps -= 30;
    b.assets[3].target_bps += 30;
    b.assets[20].band_bps = 60;
    send_gov(chain, &fx, stage(&fx, &a, 10)).await.unwrap();
    let a_tail = append(&fx, &a, 10, 22);
    send_gov(chain, &fx, client::cancel_params(&gov, &fx.key)).await.unwrap();
    send_gov(chain, &fx, stage(&fx, &b, 10)).await.unwrap();
    assert_ballast_err(send_gov(chain, &fx, a_tail).await, BallastError::StagedParamsMismatch);
    assert_eq!(fx.state(chain).await.pending_params.map(|p| (p.assets.len(), p.is_staging())), Some((10, true)));
    send_gov(chain, &fx, append(&fx, &b, 10, 22)).await.expect("B's own tail");
    assert_eq!(fx.state(chain).await.pending_params.map(|p| p.assets), Some(b.assets));
}
