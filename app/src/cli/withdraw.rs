//! `ballast withdraw --to <SYMBOL|index|mint>`: leave a vault now, in one transaction, ending with one of its
//! assets. The in-kind `withdraw`, a swap of every other asset's slice through the best of the vault's
//! whitelisted pools, and `assert_min_balance` last, planned by `ballast_client::exit` over JSON-RPC (any
//! endpoint: `ballast localnet` or a cluster). At market prices and pool slippage, no delay and no buy-back
//! charge; the two-step single-asset withdrawal (`request_withdraw`, `settle_withdraw`) is the alternative at
//! the oracle's price.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, ensure, Context as _, Result};
use ballast::errors::BallastError;
use ballast::state::Vault;
use ballast_client::describe::{self, token_amount};
use ballast_client::exit::{self, ExitPlan, ExitRequest};
use ballast_client::{decode, pda, planner};
use ballast_keeper::snapshot::RpcView;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

/// Mainnet mints the command knows by symbol on any endpoint.
const KNOWN_MINTS: [(&str, &str); 3] = [
    ("USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"),
    ("USDT", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"),
    ("SOL", "So11111111111111111111111111111111111111112"),
];

/// Times the exit is planned again when the vault traded between the quote and the landing (a sold slice
/// shrank: `AmountBelowMinimum`).
const ATTEMPTS: usize = 3;

/// `ballast withdraw`.
#[derive(Debug, Clone, clap::Args)]
pub struct WithdrawArgs {
    /// The asset to end with: its symbol (the names `ballast localnet` gives its demo mints, or USDC, USDT
    /// and SOL's mainnet mints), its index in the vault, or its mint address.
    #[arg(long)]
    pub to: String,
    /// Shares to burn, in share units (e.g. 12.5).
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub shares: Option<String>,
    /// Burn every share the keypair holds.
    #[arg(long)]
    pub all: bool,
    /// Tolerance on the total expected output, in bps: the transaction fails unless it pays at least the
    /// expected output less this.
    #[arg(long, default_value_t = 50)]
    pub slippage_bps: u16,
    /// The vault (default: the only vault on the endpoint).
    #[arg(long)]
    pub vault: Option<String>,
    /// The owner's keypair file (Solana CLI JSON); it signs and pays.
    #[arg(long)]
    pub keypair: PathBuf,
    /// JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    pub url: String,
    /// Address lookup tables for a v0 transaction, when the exit does not fit a legacy one.
    #[arg(long = "lookup-table")]
    pub lookup_tables: Vec<String>,
    /// Print the preview and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What an exit did.
#[derive(Debug, Clone)]
pub struct ExitOutcome {
    pub vault: Pubkey,
    pub plan: ExitPlan,
    /// The landed transaction (`None` on a dry run).
    pub signature: Option<String>,
    /// What the owner's account of the chosen asset gained.
    pub received: u64,
    pub shares_left: u64,
}

impl WithdrawArgs {
    pub async fn run(self) -> Result<()> {
        exit(&self, &mut std::io::stdout()).await.map(|_| ())
    }
}

/// What the owner holds, and the vault's names for its assets.
struct Holder {
    owner: Keypair,
    vault_key: Pubkey,
    vault: Vault,
    symbols: Vec<String>,
    share_decimals: u8,
}

/// Plans the exit `args` asks for, prints its preview, sends it (planned again if the vault traded in
/// between) and prints what it did.
pub async fn exit(args: &WithdrawArgs, out: &mut impl Write) -> Result<ExitOutcome> {
    let rpc = RpcClient::new_with_timeout_and_commitment(
        args.url.clone(),
        Duration::from_secs(30),
        CommitmentConfig::confirmed(),
    );
    let owner = ballast_keeper::read_keypair(&args.keypair)?;
    let (vault_key, vault) = find_vault(&rpc, args.vault.as_deref()).await?;
    let symbols = symbols(&args.url, &vault_key, &vault).await;
    let share_decimals = match rpc.get_account(&vault.share_mint).await {
        Ok(acc) => decode::mint_info(&acc.data)?.0,
        Err(e) => bail!("share mint {}: {e}", vault.share_mint),
    };
    let holder = Holder { owner, vault_key, vault, symbols, share_decimals };
    let to = asset_index(&args.to, &holder.vault, &holder.symbols)?;
    let keys: Vec<Pubkey> = args.lookup_tables.iter().map(|s| parse_key(s)).collect::<Result<_>>()?;
    let tables = ballast_keeper::send::lookup_tables(&rpc, &keys).await?;
    for attempt in 1..=ATTEMPTS {
        let (plan, before) = plan(&rpc, &holder, args, to, tables.clone()).await?;
        if attempt == 1 {
            preview(out, &holder, &plan, args.slippage_bps)?;
        }
        if args.dry_run {
            writeln!(out, "dry run: nothing sent")?;
            return Ok(ExitOutcome { vault: vault_key, plan, signature: None, received: 0, shares_left: 0 });
        }
        match send(&rpc, &holder.owner, &plan, &tables).await? {
            Ok(signature) => {
                let (after, shares_left) = balances(&rpc, &holder, to).await?;
                let received = after.saturating_sub(before);
                result(out, &holder, &plan, &signature, received, shares_left)?;
                return Ok(ExitOutcome { vault: vault_key, plan, signature: Some(signature), received, shares_left });
            }
            Err(r) if r.is(BallastError::AmountBelowMinimum) && attempt < ATTEMPTS => {
                writeln!(out, "the vault traded since the quote (a slice shrank): quoting again")?;
            }
            Err(r) => bail!("the exit was refused: {r}; nothing moved"),
        }
    }
    unreachable!("the last attempt returns")
}

/// The vault at `given`, or the only one on the endpoint.
async fn find_vault(rpc: &RpcClient, given: Option<&str>) -> Result<(Pubkey, Vault)> {
    let wanted: Vec<Pubkey> = given.map(parse_key).transpose()?.into_iter().collect();
    let mut found = ballast_client::discover::vaults(&mut RpcView(rpc), &wanted).await?;
    match (found.len(), given) {
        (1, _) => Ok(found.remove(0)),
        (0, Some(key)) => bail!("no ballast vault at {key}"),
        (0, None) => bail!("no ballast vault on this endpoint"),
        (_, _) => {
            let keys: Vec<String> = found.iter().map(|(k, _)| k.to_string()).collect();
            bail!("several vaults on this endpoint: choose one with --vault ({})", keys.join(", "))
        }
    }
}

fn parse_key(s: &str) -> Result<Pubkey> {
    s.parse().map_err(|_| anyhow!("{s:?} is not an address"))
}

/// A name per asset: the endpoint's own (`ballast localnet` serves its demo symbols at `/api/vaults`), a known
/// mainnet mint's, else the mint address's first characters.
async fn symbols(url: &str, vault_key: &Pubkey, vault: &Vault) -> Vec<String> {
    let served = async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().ok()?;
        let body: serde_json::Value =
            client.get(format!("{}/api/vaults", url.trim_end_matches('/'))).send().await.ok()?.json().await.ok()?;
        let v = body["vaults"].as_array()?.iter().find(|v| v["address"] == vault_key.to_string())?;
        v["assets"].as_array()?.iter().map(|a| a["symbol"].as_str().map(String::from)).collect::<Option<Vec<_>>>()
    };
    let served = served.await.filter(|s| s.len() == vault.assets.len());
    vault
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let known = KNOWN_MINTS.iter().find(|(_, m)| *m == a.mint.to_string()).map(|(s, _)| s.to_string());
            served.as_ref().map(|s| s[i].clone()).or(known).unwrap_or_else(|| a.mint.to_string()[..6].to_string())
        })
        .collect()
}

/// `to` as a vault index: a symbol (any case), an index or a mint address.
fn asset_index(to: &str, vault: &Vault, symbols: &[String]) -> Result<usize> {
    if let Some(i) = symbols.iter().position(|s| s.eq_ignore_ascii_case(to)) {
        return Ok(i);
    }
    if let Ok(i) = to.parse::<usize>() {
        ensure!(i < vault.assets.len(), "asset index {i}: the vault has {} assets", vault.assets.len());
        return Ok(i);
    }
    if let Ok(mint) = to.parse::<Pubkey>() {
        return vault.asset_index(&mint).ok_or_else(|| anyhow!("{mint} is not one of the vault's mints"));
    }
    bail!("{to:?} is none of the vault's assets ({})", symbols.join(", "))
}

/// Base units of `text` (a decimal number of whole units) with `decimals` decimals.
fn base_units(text: &str, decimals: u8) -> Result<u64> {
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    ensure!(digits(whole) && digits(frac) && !(whole.is_empty() && frac.is_empty()), "{text:?} is not an amount");
    ensure!(frac.len() <= usize::from(decimals), "{text:?} has more than {decimals} decimals");
    let scale = 10u64.pow(u32::from(decimals));
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse()? };
    let frac: u64 = format!("{frac:0<width$}", width = usize::from(decimals)).parse().unwrap_or(0);
    whole.checked_mul(scale).and_then(|w| w.checked_add(frac)).ok_or_else(|| anyhow!("{text:?} is too large"))
}

/// The owner's balance of asset `to` and of shares.
async fn balances(rpc: &RpcClient, h: &Holder, to: usize) -> Result<(u64, u64)> {
    let (owner, a) = (h.owner.pubkey(), &h.vault.assets[to]);
    let keys =
        [pda::ata(&owner, &a.mint, &a.token_program), pda::ata(&owner, &h.vault.share_mint, &anchor_spl::token::ID)];
    let accounts = rpc.get_multiple_accounts(&keys).await?;
    let amount = |i: usize| accounts[i].as_ref().and_then(|acc| decode::token_amount(&acc.data).ok()).unwrap_or(0);
    Ok((amount(0), amount(1)))
}

/// The exit planned on a fresh read of the vault, and the owner's balance of the chosen asset before it.
async fn plan(
    rpc: &RpcClient,
    h: &Holder,
    args: &WithdrawArgs,
    to: usize,
    lookup_tables: Vec<AddressLookupTableAccount>,
) -> Result<(ExitPlan, u64)> {
    let (snap, routes) = planner::load(&mut RpcView(rpc), h.vault.clone()).await?;
    let owner = h.owner.pubkey();
    let mut keys: Vec<Pubkey> = h.vault.assets.iter().map(|a| pda::ata(&owner, &a.mint, &a.token_program)).collect();
    keys.push(pda::ata(&owner, &h.vault.share_mint, &anchor_spl::token::ID));
    keys.push(h.vault.share_mint);
    let accounts = rpc.get_multiple_accounts(&keys).await?;
    let n = h.vault.assets.len();
    let amount = |i: usize| accounts[i].as_ref().and_then(|acc| decode::token_amount(&acc.data).ok());
    let held = amount(n).unwrap_or(0);
    let minted = decode::mint_supply(&accounts[n + 1].as_ref().context("share mint missing")?.data)?;
    let shares = match &args.shares {
        Some(text) => base_units(text, h.share_decimals)?,
        None => held,
    };
    ensure!(shares > 0, "{owner} holds no shares of this vault");
    ensure!(
        shares <= held,
        "{owner} holds {} shares, fewer than {}",
        token_amount(u128::from(held), h.share_decimals),
        token_amount(u128::from(shares), h.share_decimals)
    );
    let balance_before = amount(to).unwrap_or(0);
    let req = ExitRequest {
        owner,
        shares,
        to,
        slippage_bps: args.slippage_bps,
        minted,
        balance_before,
        accounts_exist: accounts[..n].iter().map(Option::is_some).collect(),
        lookup_tables,
    };
    Ok((exit::plan_exit(&snap, &routes, &req)?, balance_before))
}

/// Signs the plan as the owner (fee payer too) and sends it: the signature, or the chain's refusal.
async fn send(
    rpc: &RpcClient,
    owner: &Keypair,
    plan: &ExitPlan,
    tables: &[AddressLookupTableAccount],
) -> Result<std::result::Result<String, ballast_keeper::Rejection>> {
    let ixs = &plan.instructions;
    let blockhash = rpc.get_latest_blockhash().await?;
    let message = if plan.preview.versioned {
        VersionedMessage::V0(v0::Message::try_compile(&owner.pubkey(), ixs, tables, blockhash)?)
    } else {
        VersionedMessage::Legacy(solana_message::Message::new_with_blockhash(ixs, Some(&owner.pubkey()), &blockhash))
    };
    let tx = VersionedTransaction::try_new(message, &[owner])?;
    let programs: Vec<Pubkey> = ixs.iter().map(|ix| ix.program_id).collect();
    match rpc.send_and_confirm_transaction(&tx).await {
        Ok(signature) => Ok(Ok(signature.to_string())),
        Err(e) => match ballast_keeper::errors::rejection_of(&e, &programs) {
            Some(rejection) => Ok(Err(rejection)),
            None => Err(e.into()),
        },
    }
}

/// The preview in token units.
fn preview(out: &mut impl Write, h: &Holder, plan: &ExitPlan, slippage_bps: u16) -> Result<()> {
    let v = &plan.preview;
    let sym = &h.symbols[v.to];
    let amount = |x: u64, i: usize| token_amount(u128::from(x), h.vault.assets[i].decimals);
    writeln!(
        out,
        "exit of {} shares of vault {} to {sym} (slippage {:.2} %)",
        token_amount(u128::from(v.shares), h.share_decimals),
        h.vault_key,
        f64::from(slippage_bps) / 100.0
    )?;
    for s in &v.slices {
        let name = &h.symbols[s.asset];
        match &s.venue {
            Some(venue) => writeln!(
                out,
                "  {name:<6} {:>22} -> {} {sym} via {} {}",
                amount(s.swapped, s.asset),
                amount(s.quoted_out, v.to),
                venue.name,
                venue.pool
            )?,
            None if s.asset == v.to => writeln!(out, "  {name:<6} {:>22}    paid as is", amount(s.amount, s.asset))?,
            None => writeln!(out, "  {name:<6} {:>22}    kept: no pool pays for it", amount(s.kept, s.asset))?,
        }
    }
    let impact = v.price_impact_bps.map_or("n/a".into(), |b| format!("{:.2} %", b as f64 / 100.0));
    let value = v.value.map_or("n/a".into(), |x| describe::usd(i128::try_from(x).unwrap_or(i128::MAX)));
    writeln!(out, "  expected {} {sym}, at least {} {sym}", amount(v.expected_out, v.to), amount(v.min_out, v.to))?;
    writeln!(out, "  worth {value} at the oracles' mid prices; fees and price impact {impact}")?;
    let kind = if v.versioned { "v0 (lookup tables)" } else { "legacy" };
    writeln!(out, "  one {kind} transaction: {} bytes, {} accounts", v.tx_bytes, v.accounts)?;
    Ok(())
}

/// What the landed exit did.
fn result(out: &mut impl Write, h: &Holder, plan: &ExitPlan, sig: &str, received: u64, left: u64) -> Result<()> {
    let v = &plan.preview;
    let (decimals, sym) = (h.vault.assets[v.to].decimals, &h.symbols[v.to]);
    writeln!(out, "landed {sig}")?;
    writeln!(
        out,
        "received {} {sym} (at least {} promised); shares left {}",
        token_amount(u128::from(received), decimals),
        token_amount(u128::from(v.min_out), decimals),
        token_amount(u128::from(left), h.share_decimals)
    )?;
    for s in v.slices.iter().filter(|s| s.kept > 0) {
        let a = &h.vault.assets[s.asset];
        writeln!(
            out,
            "dust left in your {} account: {}",
            h.symbols[s.asset],
            token_amount(u128::from(s.kept), a.decimals)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_amounts_read_in_share_units() {
        assert_eq!(base_units("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(base_units("0.000001", 6).unwrap(), 1);
        assert_eq!(base_units("3", 6).unwrap(), 3_000_000);
        assert_eq!(base_units(".5", 6).unwrap(), 500_000);
        assert!(base_units("1.0000001", 6).is_err());
        assert!(base_units("1e3", 6).is_err());
        assert!(base_units("", 6).is_err());
        assert!(base_units("99999999999999999999", 6).is_err());
    }
}
