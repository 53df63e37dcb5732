//! `POST /api/tx/deposit`, `POST /api/tx/withdraw` and `POST /api/tx/exit`: unsigned legacy transactions
//! (base64) with the owner as fee payer, and the preview they were built from, for the page's development
//! wallet to sign. The exit is `ballast_client::exit`'s: the in-kind withdrawal, a swap of every other slice
//! into the chosen asset through the vault's whitelisted pools, and one overall minimum checked last.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::AccountDeserialize;
use anchor_spl::associated_token::{get_associated_token_address_with_program_id as ata, spl_associated_token_account};
use ballast::state::Vault;
use ballast_client::exit::{self as composed, ExitRequest};
use ballast_client::planner::{self, Route, Snapshot};
use ballast_harness::chain::Chain;
use base64::Engine as _;
use serde_json::{json, Value};

use super::TxRequest;
use crate::wire::RpcState;

/// Tolerance a depositor accepts between building and landing a transaction (1 %).
const SLIPPAGE_BPS: u128 = 100;

/// What a deposit or withdrawal is built from: the vault, the holders' balances and supply, and the owner's
/// accounts.
struct Ctx {
    key: Pubkey,
    vault: Vault,
    owner: Pubkey,
    balances: Vec<u64>,
    supply: u64,
    users: Vec<Pubkey>,
    shares_account: Pubkey,
}

fn less_slippage(x: u64) -> u64 {
    u64::try_from(u128::from(x) * (10_000 - SLIPPAGE_BPS) / 10_000).unwrap_or(0)
}

pub async fn build(state: &RpcState, kind: &str, req: TxRequest) -> anyhow::Result<Value> {
    let owner: Pubkey = req.owner.parse().map_err(|_| anyhow::anyhow!("owner is not an address"))?;
    let key: Pubkey = req.vault.parse().map_err(|_| anyhow::anyhow!("vault is not an address"))?;
    let mut chain = state.chain.lock().await;
    let acc = chain.account(&key).await.ok_or_else(|| anyhow::anyhow!("no vault at {key}"))?;
    let vault = Vault::try_deserialize(&mut &acc.data[..]).map_err(|e| anyhow::anyhow!("not a vault: {e}"))?;
    let (snap, routes) = planner::load(&mut *chain, vault.clone()).await?;
    let balances =
        vault.assets.iter().zip(&snap.balances).map(|(a, b)| a.available(*b, snap.now).unwrap_or(0)).collect();
    let users = vault.assets.iter().map(|a| ata(&owner, &a.mint, &a.token_program)).collect();
    let shares_account = ata(&owner, &vault.share_mint, &anchor_spl::token::ID);
    let ctx = Ctx { key, vault, owner, balances, supply: snap.supply, users, shares_account };
    let (ixs, preview) = match kind {
        "deposit" => deposit(&ctx, &req)?,
        "withdraw" => withdraw(&ctx, &req)?,
        "exit" => exit(state, &mut chain, &ctx, (&snap, &routes), &req).await?,
        other => anyhow::bail!("unknown transaction kind {other:?}: deposit, withdraw or exit"),
    };
    let blockhash = chain.ctx.banks_client.get_latest_blockhash().await?;
    let message = solana_message::Message::new_with_blockhash(&ixs, Some(&owner), &blockhash);
    let tx = solana_transaction::Transaction::new_unsigned(message);
    let bytes = bincode::serialize(&tx)?;
    Ok(json!({"transaction": base64::engine::general_purpose::STANDARD.encode(bytes), "preview": preview}))
}

/// An in-kind deposit of at most the requested amounts, min-out 1 % under the shares it buys now.
fn deposit(c: &Ctx, req: &TxRequest) -> anyhow::Result<(Vec<Instruction>, Value)> {
    anyhow::ensure!(
        req.max_amounts_in.len() == c.vault.assets.len(),
        "give one amount per asset ({})",
        c.vault.assets.len()
    );
    let max_in: Vec<u64> = req
        .max_amounts_in
        .iter()
        .map(|s| s.parse::<u64>().map_err(|_| anyhow::anyhow!("amount {s:?} is not a whole number of base units")))
        .collect::<anyhow::Result<_>>()?;
    // `deposit`'s own rule, entry fee included.
    let entry_bps = c.vault.params.fees.entry_bps;
    let ballast::math::InKindDeposit { amounts, shares, .. } =
        ballast::math::in_kind_deposit(&max_in, &c.balances, c.supply, entry_bps)
            .map_err(|e| anyhow::anyhow!("these amounts buy no shares: {e:?}"))?;
    anyhow::ensure!(shares > 0, "these amounts buy no shares: add some of every asset");
    let create = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        &c.owner,
        &c.owner,
        &c.vault.share_mint,
        &anchor_spl::token::ID,
    );
    let args = ballast::instructions::DepositArgs { max_amounts_in: max_in, min_shares_out: less_slippage(shares) };
    let mut ixs = vec![create];
    ixs.extend(ballast_client::deposit_with_fees(&c.owner, &c.key, &c.vault, &c.shares_account, &c.users, args));
    let preview = json!({"shares": shares.to_string(), "minSharesOut": less_slippage(shares).to_string(),
                         "amountsIn": amounts.iter().map(u64::to_string).collect::<Vec<_>>()});
    Ok((ixs, preview))
}

/// A withdrawal in kind of the requested shares, min-outs 1 % under what they pay now (after the exit fee,
/// `withdraw`'s own rule: `math::in_kind_payout`).
fn withdraw(c: &Ctx, req: &TxRequest) -> anyhow::Result<(Vec<Instruction>, Value)> {
    let shares = shares(c, req)?;
    let exit_bps = c.vault.params.fees.exit_bps;
    let out = ballast::math::in_kind_payout(shares, &c.balances, c.supply, exit_bps)
        .map_err(|e| anyhow::anyhow!("cannot price this withdrawal: {e:?}"))?
        .net;
    let mut ixs: Vec<Instruction> = c
        .vault
        .assets
        .iter()
        .map(|a| {
            spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                &c.owner,
                &c.owner,
                &a.mint,
                &a.token_program,
            )
        })
        .collect();
    let args = ballast::instructions::WithdrawArgs {
        shares,
        min_amounts_out: out.iter().map(|x| less_slippage(*x)).collect(),
        skip_mask: 0,
    };
    ixs.push(ballast_client::withdraw(&c.owner, &c.key, &c.vault, &c.shares_account, &c.users, args));
    Ok((ixs, json!({"amountsOut": out.iter().map(u64::to_string).collect::<Vec<_>>()})))
}

/// Slippage tolerance of an exit when the request names none (0.5 %).
const EXIT_SLIPPAGE_BPS: u16 = 50;

/// The requested shares in base units, between 1 and the supply.
fn shares(c: &Ctx, req: &TxRequest) -> anyhow::Result<u64> {
    let shares: u64 = req
        .shares
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("give the shares to burn"))?
        .parse()
        .map_err(|_| anyhow::anyhow!("shares must be a whole number of base units"))?;
    anyhow::ensure!(shares > 0 && shares <= c.supply, "shares must be between 1 and the supply ({})", c.supply);
    Ok(shares)
}

/// An exit of the requested shares to asset `to` in one transaction (`ballast_client::exit`), and its preview.
async fn exit(
    state: &RpcState,
    chain: &mut Chain,
    c: &Ctx,
    (snap, routes): (&Snapshot, &[Route]),
    req: &TxRequest,
) -> anyhow::Result<(Vec<Instruction>, Value)> {
    let shares = shares(c, req)?;
    let to: usize =
        req.to.as_deref().unwrap_or("").parse().map_err(|_| anyhow::anyhow!("give `to`, an asset index"))?;
    anyhow::ensure!(to < c.vault.assets.len(), "asset index {to}: the vault has {} assets", c.vault.assets.len());
    let mut keys = c.users.clone();
    keys.push(c.vault.share_mint);
    let accounts = chain.accounts_of(&keys).await;
    let n = c.users.len();
    let share_mint = accounts[n].as_ref().ok_or_else(|| anyhow::anyhow!("share mint missing"))?;
    let minted = ballast_client::decode::mint_supply(&share_mint.data)?;
    let req = ExitRequest {
        owner: c.owner,
        shares,
        to,
        slippage_bps: req.slippage_bps.unwrap_or(EXIT_SLIPPAGE_BPS),
        minted,
        balance_before: ballast_harness::chain::token_amount_of(accounts[to].as_ref()),
        accounts_exist: accounts[..n].iter().map(Option::is_some).collect(),
        lookup_tables: vec![],
    };
    let plan = composed::plan_exit(snap, routes, &req)?;
    Ok((plan.instructions, exit_preview(state, c, &plan.preview, req.balance_before)))
}

/// An exit's preview for the page: every amount in base units (strings) with the asset's symbol and decimals.
fn exit_preview(state: &RpcState, c: &Ctx, v: &composed::ExitPreview, balance_before: u64) -> Value {
    let asset = |i: usize| &c.vault.assets[i];
    let slices: Vec<Value> = v
        .slices
        .iter()
        .map(|s| {
            json!({"asset": s.asset, "symbol": super::symbol(state, &asset(s.asset).mint),
                   "decimals": asset(s.asset).decimals, "amount": s.amount.to_string(),
                   "swapped": s.swapped.to_string(), "quotedOut": s.quoted_out.to_string(),
                   "kept": s.kept.to_string(), "venue": s.venue.as_ref().map(|x| x.name),
                   "pool": s.venue.as_ref().map(|x| x.pool.to_string())})
        })
        .collect();
    json!({"shares": v.shares.to_string(), "to": v.to, "toSymbol": super::symbol(state, &asset(v.to).mint),
           "toDecimals": asset(v.to).decimals, "destination": c.users[v.to].to_string(),
           "balanceBefore": balance_before.to_string(), "slices": slices,
           "expectedOut": v.expected_out.to_string(), "minOut": v.min_out.to_string(),
           "minBalance": v.min_balance.to_string(), "priceImpactBps": v.price_impact_bps,
           "valueUsd": v.value.map(|x| x as f64 / 1e6), "txBytes": v.tx_bytes, "accounts": v.accounts})
}
