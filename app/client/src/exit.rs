//! The one-transaction exit to one asset (an exchange redemption, composed by the client): the in-kind
//! `withdraw`, then a swap of every other asset's slice into the chosen asset through the best whitelisted
//! route the planner quotes, the owner trading from its own token accounts, and last `assert_min_balance` on
//! the owner's account of the chosen asset. The transaction has one overall minimum, checked at its end: it
//! lands whole or not at all.
//!
//! - **Slices.** Exactly what the program pays: the pro-rata of the holders' balances over every share
//!   outstanding (minted, owed to the fee recipients and the management fee accrued up to the time it lands),
//!   less the exit fee (`math::in_kind_amounts_out`, `Vault::supply_after_accrual`). They are computed as of
//!   [`HORIZON_SECS`] from now: the management fee only shrinks them with time, so the withdrawal pays at
//!   least that if it lands within the horizon, and the `withdraw`'s own minimum of each sold asset is the
//!   amount sold. A swap therefore never spends what the owner held before; what the withdrawal pays above it
//!   (the fee not yet accrued) stays in the owner's account. If the vault trades between the quote and the
//!   landing so that an asset's slice shrinks, the `withdraw` fails with `AmountBelowMinimum`: quote again.
//! - **Routes.** Each slice goes through the route that pays most for it among the vault's whitelisted pools
//!   trading it against the chosen asset directly (reference AMM, Raydium CPMM, Orca Whirlpool, quoted with
//!   each venue's own math by [`crate::planner`]). A slice no route pays anything for (dust) or that no pool
//!   trades against the chosen asset stays in the owner's account, and the preview says so.
//! - **Minimum.** `min_out = expected_out × (1 − slippage)`, where `expected_out` is the chosen asset's own
//!   slice plus every quote; the guard requires the account to end with its balance before plus `min_out`.
//!   The swaps themselves take no minimum of their own.
//! - **One transaction.** A legacy transaction when it fits in [`PACKET_DATA_SIZE`] bytes, else v0 through the
//!   lookup tables the caller gives; when neither fits, slices move to routes with fewer accounts (the least
//!   quote lost first) and, failing that, the plan is refused with the size it needs.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use anyhow::{anyhow, bail, ensure, Result};
use ballast::instructions::WithdrawArgs;
use ballast::math::{self, Rounding, BPS};
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};

use crate::dex::{self, Leg};
use crate::planner::{self, AmmQuote, Route, Snapshot};
use crate::{assert_min_balance, pda, withdraw};

/// Largest serialized transaction the network accepts.
pub const PACKET_DATA_SIZE: usize = 1232;
/// Most accounts one transaction may lock.
pub const MAX_ACCOUNTS: usize = 64;
/// Seconds after the snapshot the slices are computed for: the exit must land within them (a blockhash
/// lives about as long).
pub const HORIZON_SECS: i64 = 90;

/// What the owner asks for, and what the caller read about the owner's accounts.
#[derive(Debug, Clone)]
pub struct ExitRequest {
    pub owner: Pubkey,
    /// Shares to burn (base units).
    pub shares: u64,
    /// Vault index of the asset to end with.
    pub to: usize,
    /// Tolerance on the total expected output (bps).
    pub slippage_bps: u16,
    /// The share mint's supply now.
    pub minted: u64,
    /// The owner's balance of the chosen asset now (its associated token account; 0 when it has none).
    pub balance_before: u64,
    /// Per vault asset, whether the owner's associated token account exists; the missing ones the exit
    /// touches are created (idempotently). Empty: create every one it touches.
    pub accounts_exist: Vec<bool>,
    /// Lookup tables a v0 transaction may resolve accounts through (none: legacy only).
    pub lookup_tables: Vec<AddressLookupTableAccount>,
}

/// A pool a slice is sold through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Venue {
    pub pool: Pubkey,
    pub program_id: Pubkey,
    /// `reference`, `raydium-cpmm` or `orca-whirlpool`.
    pub name: &'static str,
}

/// One asset's part of the exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitSlice {
    pub asset: usize,
    /// What the withdrawal pays of the asset (at least; base units).
    pub amount: u64,
    /// Of it, what is sold for the chosen asset (0 for the chosen asset itself).
    pub swapped: u64,
    pub venue: Option<Venue>,
    /// What the venue is quoted to pay for `swapped`, in the chosen asset.
    pub quoted_out: u64,
    /// Left in the owner's account of the asset: a slice too small to swap, or one no pool trades.
    pub kept: u64,
}

/// What an exit is expected to do, for the owner to read before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitPreview {
    pub shares: u64,
    pub to: usize,
    /// Every asset in vault order.
    pub slices: Vec<ExitSlice>,
    /// The chosen asset's own slice plus every quote.
    pub expected_out: u64,
    /// `expected_out` less the slippage tolerance: the least the exit may add to the account.
    pub min_out: u64,
    /// What `assert_min_balance` requires the owner's account of the chosen asset to hold at the end.
    pub min_balance: u64,
    /// The swapped slices' value at the oracles' mid prices against the quotes' (fees and price impact),
    /// in bps of the former; `None` without readable prices or with nothing to swap.
    pub price_impact_bps: Option<i64>,
    /// What the withdrawal pays, valued at the oracles' mid prices (micro-USD); `None` without prices.
    pub value: Option<u128>,
    /// The signed transaction's size in bytes, and the accounts it names.
    pub tx_bytes: usize,
    pub accounts: usize,
    /// Whether it is a v0 transaction through the given lookup tables.
    pub versioned: bool,
}

/// The instructions of one transaction (the owner signs and pays), and their preview.
#[derive(Debug, Clone)]
pub struct ExitPlan {
    pub instructions: Vec<Instruction>,
    pub preview: ExitPreview,
}

/// What the program's `withdraw` pays for `shares` at unix time `at`: pro-rata of the holders' balances over
/// the shares outstanding then (fees accrued as the program accrues them), less the exit fee.
pub fn in_kind_slices(snap: &Snapshot, minted: u64, shares: u64, at: i64) -> Result<Vec<u64>> {
    let vault = &snap.vault;
    let supply = planner::shares_outstanding(vault, minted, at)?;
    // Vesting charges only shrink with time: the balances at the snapshot's time are a floor.
    let available = vault.available_balances(&snap.balances, snap.now).map_err(|e| anyhow!("reserve balances: {e}"))?;
    math::in_kind_payout(shares, &available, supply, vault.params.fees.exit_bps)
        .map(|p| p.net)
        .map_err(|e| anyhow!("{shares} shares: {e:?}"))
}

/// `expected × (1 − slippage_bps)`, rounded down.
pub fn less_slippage(expected: u64, slippage_bps: u16) -> u64 {
    let kept = BPS.saturating_sub(u64::from(slippage_bps));
    u64::try_from(u128::from(expected) * u128::from(kept) / u128::from(BPS)).unwrap_or(0)
}

/// The routes trading `sell` directly against `to` that pay something for `amount`, with their quotes, best
/// first (on a tie, the one whose swap names fewer accounts).
pub fn quotes(routes: &[Route], sell: usize, to: usize, amount: u64) -> Vec<(Route, u64)> {
    let mut out: Vec<(Route, u64)> = routes
        .iter()
        .filter(|r| r.vault_of(sell).is_some() && r.vault_of(to).is_some() && sell != to)
        .filter_map(|r| r.quote(sell, amount).filter(|q| *q > 0).map(|q| (r.clone(), q)))
        .collect();
    out.sort_by_key(|(r, q)| (std::cmp::Reverse(*q), footprint(r)));
    out
}

/// Accounts a swap through `route` names besides the owner's (a rough size of its instruction).
fn footprint(route: &Route) -> usize {
    match route.kind {
        dex::PoolKind::Reference { .. } => 4,
        dex::PoolKind::RaydiumCpmm { .. } => 7,
        dex::PoolKind::Whirlpool { .. } => 8,
    }
}

/// Plans the exit: slices, routes, instructions, preview (see the module's documentation).
pub fn plan_exit(snap: &Snapshot, routes: &[Route], req: &ExitRequest) -> Result<ExitPlan> {
    let n = snap.vault.assets.len();
    ensure!(req.to < n, "asset {} is not in the vault ({n} assets)", req.to);
    ensure!(req.shares > 0, "no shares to withdraw");
    ensure!(u64::from(req.slippage_bps) <= BPS, "slippage above 100 %");
    let amounts = in_kind_slices(snap, req.minted, req.shares, snap.now.saturating_add(HORIZON_SECS))?;
    ensure!(amounts.iter().any(|a| *a > 0), "{} shares pay nothing", req.shares);
    let options: Vec<Vec<(Route, u64)>> =
        (0..n).map(|i| if i == req.to { vec![] } else { quotes(routes, i, req.to, amounts[i]) }).collect();
    let mut choice = vec![0usize; n];
    loop {
        let plan = build(snap, req, &amounts, &options, &choice)?;
        if plan.preview.tx_bytes <= PACKET_DATA_SIZE && plan.preview.accounts <= MAX_ACCOUNTS {
            return Ok(plan);
        }
        let sizes: Vec<Vec<(usize, u64)>> =
            options.iter().map(|o| o.iter().map(|(r, q)| (footprint(r), *q)).collect()).collect();
        match smaller_route(&sizes, &choice) {
            Some((i, j)) => choice[i] = j,
            None => bail!(
                "the exit needs {} bytes and {} accounts in one transaction (at most {PACKET_DATA_SIZE} and \
                 {MAX_ACCOUNTS}): give an address lookup table, or withdraw in kind and swap separately",
                plan.preview.tx_bytes,
                plan.preview.accounts
            ),
        }
    }
}

/// The switch of one slice to a route whose swap names fewer accounts that loses the least quote, if any;
/// `options[i]` are slice `i`'s routes as (accounts named, quote), `choice[i]` the one taken.
fn smaller_route(options: &[Vec<(usize, u64)>], choice: &[usize]) -> Option<(usize, usize)> {
    let mut best: Option<(u64, usize, usize)> = None;
    for (i, opts) in options.iter().enumerate() {
        let Some((current, quoted)) = opts.get(choice[i]) else { continue };
        for (j, (size, q)) in opts.iter().enumerate() {
            if size < current && best.is_none_or(|(loss, ..)| quoted.saturating_sub(*q) < loss) {
                best = Some((quoted.saturating_sub(*q), i, j));
            }
        }
    }
    best.map(|(_, i, j)| (i, j))
}

/// The owner's associated token account of vault asset `i`, as a swap leg.
fn leg(snap: &Snapshot, owner: &Pubkey, i: usize) -> Leg {
    let a = &snap.vault.assets[i];
    Leg { mint: a.mint, token_program: a.token_program, account: pda::ata(owner, &a.mint, &a.token_program) }
}

/// The plan for one choice of route per slice (`choice[i]` indexes `options[i]`).
fn build(
    snap: &Snapshot,
    req: &ExitRequest,
    amounts: &[u64],
    options: &[Vec<(Route, u64)>],
    choice: &[usize],
) -> Result<ExitPlan> {
    let (owner, vault, to) = (req.owner, &snap.vault, req.to);
    let legs: Vec<Leg> = (0..amounts.len()).map(|i| leg(snap, &owner, i)).collect();
    let mut ixs = Vec::new();
    for (i, l) in legs.iter().enumerate() {
        let exists = req.accounts_exist.get(i).copied().unwrap_or(false);
        if !exists && (amounts[i] > 0 || i == to) {
            ixs.push(create_associated_token_account_idempotent(&owner, &owner, &l.mint, &l.token_program));
        }
    }
    let mut slices = Vec::with_capacity(amounts.len());
    let mut swaps = Vec::new();
    for (i, amount) in amounts.iter().copied().enumerate() {
        let chosen = options[i].get(choice[i]).filter(|_| amount > 0);
        let slice = match chosen {
            Some((route, quoted)) => {
                let ix = dex::swap_instruction(&route.pool, &route.kind, &owner, &legs[i], &legs[to], amount, 0)
                    .ok_or_else(|| anyhow!("no swap instruction for pool {}", route.pool))?;
                swaps.push(ix);
                let venue = Venue { pool: route.pool, program_id: route.program_id, name: route.kind.name() };
                ExitSlice { asset: i, amount, swapped: amount, venue: Some(venue), quoted_out: *quoted, kept: 0 }
            }
            None if i == to => ExitSlice { asset: i, amount, swapped: 0, venue: None, quoted_out: 0, kept: 0 },
            None => ExitSlice { asset: i, amount, swapped: 0, venue: None, quoted_out: 0, kept: amount },
        };
        slices.push(slice);
    }
    // The withdrawal must pay at least what is sold of each asset: a swap never spends the owner's own.
    let min_amounts_out = slices.iter().map(|s| s.swapped).collect();
    let owner_shares = pda::ata(&owner, &vault.share_mint, &anchor_spl::token::ID);
    let destinations: Vec<Pubkey> = legs.iter().map(|l| l.account).collect();
    let args = WithdrawArgs { shares: req.shares, min_amounts_out, skip_mask: 0 };
    ixs.push(withdraw(&owner, &snap_key(snap), vault, &owner_shares, &destinations, args));
    ixs.extend(swaps);
    let quoted: u64 = slices.iter().map(|s| s.quoted_out).sum();
    let expected_out = amounts[to].checked_add(quoted).ok_or_else(|| anyhow!("expected output overflows"))?;
    let min_out = less_slippage(expected_out, req.slippage_bps);
    let min_balance = req.balance_before.saturating_add(min_out);
    ixs.push(assert_min_balance(&legs[to].account, min_balance));
    let (tx_bytes, accounts, versioned) = measure(&owner, &ixs, &req.lookup_tables)?;
    let (price_impact_bps, value) = valued(snap, &slices, to);
    let preview = ExitPreview {
        shares: req.shares,
        to,
        slices,
        expected_out,
        min_out,
        min_balance,
        price_impact_bps,
        value,
        tx_bytes,
        accounts,
        versioned,
    };
    Ok(ExitPlan { instructions: ixs, preview })
}

/// The vault's address, derived from its creator and id.
fn snap_key(snap: &Snapshot) -> Pubkey {
    pda::vault(&snap.vault.creator, snap.vault.vault_id)
}

/// (price impact in bps of the swapped value, value of every slice) at the oracles' mid prices.
fn valued(snap: &Snapshot, slices: &[ExitSlice], to: usize) -> (Option<i64>, Option<u128>) {
    let mids: Option<Vec<_>> = snap.readings.iter().map(|r| r.bounds().ok().map(|b| b.mid)).collect();
    let Some(mids) = mids else { return (None, None) };
    let value = |amount: u64, i: usize| -> Option<i128> {
        let v = math::value_of(amount, snap.vault.assets[i].decimals, mids[i], Rounding::Floor).ok()?;
        i128::try_from(v).ok()
    };
    let total: Option<i128> = slices.iter().map(|s| value(s.amount, s.asset)).sum();
    let swapped_in: Option<i128> = slices.iter().map(|s| value(s.swapped, s.asset)).sum();
    let out = value(slices.iter().map(|s| s.quoted_out).sum(), to);
    let impact = match (swapped_in, out) {
        (Some(v_in), Some(v_out)) if v_in > 0 => i64::try_from((v_in - v_out) * i128::from(BPS) / v_in).ok(),
        _ => None,
    };
    (impact, total.and_then(|t| u128::try_from(t).ok()))
}

/// (wire size in bytes, accounts named, v0) of `ixs` signed by `payer` alone: legacy without lookup tables,
/// else v0 through them.
pub fn measure(
    payer: &Pubkey,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
) -> Result<(usize, usize, bool)> {
    let legacy = solana_message::Message::new(ixs, Some(payer));
    let signatures = usize::from(legacy.header.num_required_signatures);
    let accounts = legacy.account_keys.len();
    let wire = |message: &[u8]| 1 + 64 * signatures + message.len();
    if tables.is_empty() {
        return Ok((wire(&legacy.serialize()), accounts, false));
    }
    let message = v0::Message::try_compile(payer, ixs, tables, Default::default())?;
    Ok((wire(&VersionedMessage::V0(message).serialize()), accounts, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dex::PoolKind;

    fn route(a: (usize, u64), b: (usize, u64), fee_bps: u16) -> Route {
        let side = |(i, amount)| (i, Pubkey::new_unique(), amount);
        Route {
            program_id: ballast_amm::ID,
            pool: Pubkey::new_unique(),
            sides: [side(a), side(b)],
            kind: PoolKind::Reference { fee_bps },
        }
    }

    #[test]
    fn the_minimum_is_the_expected_output_less_the_tolerance_rounded_down() {
        assert_eq!(less_slippage(1_000_000, 50), 995_000);
        assert_eq!(less_slippage(999, 50), 994); // 994.005
        assert_eq!(less_slippage(1_000_000, 0), 1_000_000);
        assert_eq!(less_slippage(u64::MAX, 0), u64::MAX);
        assert_eq!(less_slippage(1_000_000, 10_000), 0);
    }

    #[test]
    fn quotes_are_the_direct_routes_best_first_and_dust_finds_none() {
        // SOL (0) → USDC (2): a deep 30 bps pool, a shallow one and a 1 % one; SOL/BTC does not count.
        let routes = [
            route((0, 1_000_000_000_000), (2, 150_000_000_000), 100),
            route((2, 150_000_000_000), (0, 1_000_000_000_000), 30),
            route((0, 10_000_000_000), (2, 1_500_000_000), 30),
            route((0, 1_000_000_000_000), (1, 250_000_000), 30),
        ];
        let q = quotes(&routes, 0, 2, 1_000_000_000);
        assert_eq!(q.iter().map(|(r, _)| r.pool).collect::<Vec<_>>(), [routes[1].pool, routes[0].pool, routes[2].pool]);
        // 1 SOL in a $150 000-a-side pool at 30 bps: 149.40 USDC less the impact.
        assert_eq!(q[0].1, ballast_amm::math::swap_out(1_000_000_000_000, 150_000_000_000, 30, 1_000_000_000).unwrap());
        assert!(q[0].1 > q[1].1 && q[1].1 > q[2].1);
        // One lamport buys no USDC anywhere: dust.
        assert!(quotes(&routes, 0, 2, 1).is_empty());
        // Nothing sells the chosen asset for itself.
        assert!(quotes(&routes, 2, 2, 1_000).is_empty());
    }

    #[test]
    fn a_smaller_route_is_the_one_losing_the_least_quote() {
        // Slice 0 loses 10 on the smaller route, slice 1 loses 5: slice 1 moves first, then slice 0.
        let options = vec![vec![(8, 100), (4, 90)], vec![(7, 200), (4, 195), (8, 199)], vec![]];
        assert_eq!(smaller_route(&options, &[0, 0, 0]), Some((1, 1)));
        assert_eq!(smaller_route(&options, &[0, 1, 0]), Some((0, 1)));
        assert_eq!(smaller_route(&options, &[1, 1, 0]), None);
    }
}
