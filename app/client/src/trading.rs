//! Builders of the keeper's instructions: `poke`, `rebalance` through an adapter, flash rebalances
//! (`rebalance_begin` … `rebalance_end`) and the routes a planned candidate is executed along.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use ballast::instructions::*;
use ballast::state::Vault;

use crate::{dex, ix, planner};

use crate::deposits::valuation_accounts;

/// `poke`: refresh oracle readings and volatility estimates (anyone).
pub fn poke(vault_key: &Pubkey, vault: &Vault) -> Instruction {
    ix(
        ballast::accounts::Poke { vault: *vault_key, share_mint: vault.share_mint },
        ballast::instruction::Poke {},
        valuation_accounts(vault),
    )
}

/// The vault's valuation cache (PDA `["valuation", vault]`).
pub fn valuation_cache_address(vault_key: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[ballast::constants::VALUATION_SEED, vault_key.as_ref()], &ballast::ID).0
}

/// `init_valuation_cache`: create the vault's valuation cache (anyone; `payer` pays its rent).
pub fn init_valuation_cache(payer: &Pubkey, vault_key: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::InitValuationCache {
            payer: *payer,
            vault: *vault_key,
            cache: valuation_cache_address(vault_key),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitValuationCache {},
        vec![],
    )
}

/// `refresh_valuation` of assets `first .. first + count` (anyone; top-level only).
pub fn refresh_valuation(vault_key: &Pubkey, vault: &Vault, first: usize, count: usize) -> Instruction {
    let remaining = valuation_accounts(vault).into_iter().skip(2 * first).take(2 * count).collect();
    ix(
        ballast::accounts::RefreshValuation { vault: *vault_key, cache: valuation_cache_address(vault_key) },
        ballast::instruction::RefreshValuation {
            args: RefreshValuationArgs { first: u16::try_from(first).unwrap_or(u16::MAX) },
        },
        remaining,
    )
}

/// Assets one `refresh_valuation` transaction can refresh: `[oracle, reserve]` each, with the payer, the vault,
/// the cache, the program and the compute-budget program (a heap frame, a priority fee), within the 64 accounts
/// a transaction may name.
pub const REFRESH_BATCH: usize = (64 - 5) / 2;

/// `ixs` valued from vault `key`'s valuation cache ([`valued_from_cache`]; instructions that value nothing are
/// unchanged), after the refresh of every asset in batches of [`REFRESH_BATCH`]: one transaction's
/// instructions, so that nothing can change the vault between the refresh and its use. For a vault of at
/// most `DIRECT_MAX_ASSETS` assets; larger ones need several transactions ([`cached_transactions`]).
pub fn with_refreshed_cache(ixs: &[Instruction], vault_key: &Pubkey, vault: &Vault) -> Vec<Instruction> {
    let refresh = refresh_valuation_batches(vault_key, vault, REFRESH_BATCH);
    refresh.into_iter().chain(ixs.iter().map(|ix| valued_from_cache(ix.clone(), vault_key, vault))).collect()
}

/// Most transactions a cluster lands as one atomic bundle (Jito): [`cached_transactions`] plans at most this
/// many for a vault of up to `MAX_ASSETS` assets.
pub const BUNDLE_MAX_TRANSACTIONS: usize = 5;

/// Accounts a transaction may name.
const MAX_TX_ACCOUNTS: usize = 64;

/// The transactions that run `ixs` valued from the vault's valuation cache. Up to `DIRECT_MAX_ASSETS` assets:
/// one ([`with_refreshed_cache`]). Above: refresh batches of at most [`REFRESH_BATCH`] assets each in its own
/// transaction, the last batch sized so that `ixs` fit in its transaction, every one with the heap frame the
/// vault needs ([`with_heap_frame`]): at most [`BUNDLE_MAX_TRANSACTIONS`] for 128 assets. They must land in one
/// slot with nothing else touching the vault in between: sent back to back on the embedded chain, as one
/// bundle on a cluster (`docs/large-vaults.md`).
pub fn cached_transactions(ixs: &[Instruction], vault_key: &Pubkey, vault: &Vault) -> Vec<Vec<Instruction>> {
    let n = vault.assets.len();
    if n <= ballast::constants::DIRECT_MAX_ASSETS {
        return vec![with_heap_frame(vault, with_refreshed_cache(ixs, vault_key, vault))];
    }
    let used: Vec<Instruction> = ixs.iter().map(|ix| valued_from_cache(ix.clone(), vault_key, vault)).collect();
    // What the use adds to a refresh transaction (which names the payer, the vault, the cache, the program and
    // the compute-budget program), counting one more for a fee payer the use does not name.
    let shared = [*vault_key, valuation_cache_address(vault_key), ballast::ID, solana_compute_budget_interface::ID];
    let mut extra: Vec<Pubkey> = used
        .iter()
        .flat_map(|ix| ix.accounts.iter().map(|a| a.pubkey).chain([ix.program_id]))
        .filter(|k| !shared.contains(k))
        .collect();
    extra.sort();
    extra.dedup();
    let room = MAX_TX_ACCOUNTS.saturating_sub(shared.len() + 1 + extra.len()) / 2;
    // The last batch rides with the use; never a lone asset in a batch (a refused reading would fail it).
    let mut last = room.min(n);
    if n - last == 1 {
        last = last.saturating_sub(1);
    }
    if last == 1 {
        last = 0;
    }
    let rest = n - last;
    let mut txs = Vec::new();
    if rest > 0 {
        let count = rest.div_ceil(REFRESH_BATCH);
        let size = rest.div_ceil(count);
        for first in (0..rest).step_by(size) {
            txs.push(with_heap_frame(vault, vec![refresh_valuation(vault_key, vault, first, size.min(rest - first))]));
        }
    }
    let mut final_tx = Vec::with_capacity(used.len() + 1);
    if last > 0 {
        final_tx.push(refresh_valuation(vault_key, vault, rest, last));
    }
    final_tx.extend(used);
    txs.push(with_heap_frame(vault, final_tx));
    txs
}

/// The request for the program's whole heap (`ballast::heap::HEAP_BYTES`).
pub fn request_heap() -> Instruction {
    let bytes = u32::try_from(ballast::heap::HEAP_BYTES).unwrap_or(u32::MAX);
    solana_compute_budget_interface::ComputeBudgetInstruction::request_heap_frame(bytes)
}

/// The heap frame a transaction reading `vault` asks for: none up to `DIRECT_MAX_ASSETS` assets (the 32 KiB
/// every transaction has), the program's whole heap ([`request_heap`]) above. Rebalances ask for it whatever
/// the vault's size ([`with_trade_heap`]).
pub fn heap_frame(vault: &Vault) -> Option<Instruction> {
    (vault.assets.len() > ballast::constants::DIRECT_MAX_ASSETS).then(request_heap)
}

/// Whether `ixs` already ask for a heap frame (a transaction may ask once).
fn asks_for_heap(ixs: &[Instruction]) -> bool {
    ixs.iter().any(|ix| ix.program_id == solana_compute_budget_interface::ID && ix.data.first() == Some(&1))
}

/// `ixs` after the heap frame `vault` needs ([`heap_frame`]), unless they ask for one already.
pub fn with_heap_frame(vault: &Vault, ixs: Vec<Instruction>) -> Vec<Instruction> {
    let frame = heap_frame(vault).filter(|_| !asks_for_heap(&ixs));
    frame.into_iter().chain(ixs).collect()
}

/// A rebalance's instructions after the request for the program's whole heap, unless they ask for one already:
/// a 16-asset rebalance takes 27 840 bytes of the default 32 KiB (metered), an adapter's pools and events add to
/// it, and the request costs a few compute units.
pub fn with_trade_heap(ixs: Vec<Instruction>) -> Vec<Instruction> {
    let frame = (!asks_for_heap(&ixs)).then(request_heap);
    frame.into_iter().chain(ixs).collect()
}

/// `refresh_valuation` of every asset in batches of at most `batch` (one instruction each), as even as they
/// can be (so that no batch holds a lone asset, which a refused reading would fail outright).
pub fn refresh_valuation_batches(vault_key: &Pubkey, vault: &Vault, batch: usize) -> Vec<Instruction> {
    let n = vault.assets.len();
    let count = n.div_ceil(batch.max(1)).max(1);
    let size = n.div_ceil(count).max(1);
    (0..n).step_by(size).map(|first| refresh_valuation(vault_key, vault, first, size.min(n - first))).collect()
}

/// `ix` (any instruction that takes `[oracle, reserve]` per asset: `poke`, `accrue_fees`, `rebalance`,
/// `rebalance_begin`, the deposit and withdrawal requests and settlements) valued from the vault's valuation
/// cache instead: the `[oracle, reserve]` block replaced by the cache, which must then be refreshed in the same
/// slot ([`refresh_valuation`]) with no change to the vault in between.
pub fn valued_from_cache(mut ix: Instruction, vault_key: &Pubkey, vault: &Vault) -> Instruction {
    let n = vault.assets.len();
    let block = vault.assets.first().and_then(|a| ix.accounts.iter().position(|m| m.pubkey == a.oracle));
    if let Some(at) = block.filter(|at| at + 2 * n <= ix.accounts.len()) {
        ix.accounts.splice(at..at + 2 * n, [AccountMeta::new_readonly(valuation_cache_address(vault_key), false)]);
    }
    ix
}

/// `poke` valued from the vault's valuation cache ([`valued_from_cache`]).
pub fn poke_cached(vault_key: &Pubkey, vault: &Vault) -> Instruction {
    valued_from_cache(poke(vault_key, vault), vault_key, vault)
}

/// `accrue_fees`: accrue the running fees on fresh readings and mint the fee shares owed to the recipients
/// (anyone).
pub fn accrue_fees(vault_key: &Pubkey, vault: &Vault) -> Instruction {
    let mut remaining = valuation_accounts(vault);
    remaining.extend(
        vault.params.fees.recipients.iter().filter(|r| r.weight_bps > 0).map(|r| AccountMeta::new(r.account, false)),
    );
    ix(
        ballast::accounts::AccrueFees { vault: *vault_key, share_mint: vault.share_mint, token_program: spl_token::ID },
        ballast::instruction::AccrueFees {},
        remaining,
    )
}

/// `rebalance` through the reference AMM's pool (`pool_vault_in` / `pool_vault_out`: its vaults of the sold
/// and the bought mint). Remaining accounts: `[oracle, reserve]` per asset, then the pool's vaults.
#[allow(clippy::too_many_arguments)]
pub fn rebalance(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_bounty_account: &Pubkey,
    amm_program: &Pubkey,
    pool: &Pubkey,
    pool_vault_in: &Pubkey,
    pool_vault_out: &Pubkey,
    args: RebalanceArgs,
) -> Instruction {
    let extra = vec![AccountMeta::new(*pool_vault_in, false), AccountMeta::new(*pool_vault_out, false)];
    rebalance_through(keeper, vault_key, vault, keeper_bounty_account, amm_program, pool, extra, args)
}

/// `rebalance` through any whitelisted pool: `adapter_accounts` are the accounts its adapter takes after
/// the pool (see `ballast::amm` and [`dex::adapter_accounts`]).
#[allow(clippy::too_many_arguments)]
pub fn rebalance_through(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_bounty_account: &Pubkey,
    amm_program: &Pubkey,
    pool: &Pubkey,
    adapter_accounts: Vec<AccountMeta>,
    args: RebalanceArgs,
) -> Instruction {
    let sell = vault.assets[args.sell_index as usize];
    let buy = vault.assets[args.buy_index as usize];
    let mut remaining = trade_valuation_accounts(vault, &args);
    remaining.extend(adapter_accounts);
    ix(
        ballast::accounts::Rebalance {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            buy_mint: buy.mint,
            sell_reserve: sell.reserve,
            buy_reserve: buy.reserve,
            keeper_bounty_account: *keeper_bounty_account,
            amm_program: *amm_program,
            pool: *pool,
            sell_token_program: sell.token_program,
            buy_token_program: buy.token_program,
            share_mint: vault.share_mint,
        },
        ballast::instruction::Rebalance { args },
        remaining,
    )
}

/// `[oracle, reserve]` per asset, then the price accounts of the whitelisted pools of the pair (when the vault
/// reads pools as prices): what `rebalance` (before its adapter's accounts) and `rebalance_begin` take.
pub fn trade_valuation_accounts(vault: &Vault, args: &RebalanceArgs) -> Vec<AccountMeta> {
    let mut metas = valuation_accounts(vault);
    metas.extend(crate::deposits::pool_price_accounts(
        &vault.pair_pools(args.sell_index as usize, args.buy_index as usize),
    ));
    metas
}

/// `rebalance_begin`: the sold asset goes to `destination` (the keeper's account for its route). Remaining
/// accounts: `[oracle, reserve]` per asset.
pub fn rebalance_begin(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    destination: &Pubkey,
    args: RebalanceArgs,
) -> Instruction {
    let sell = vault.assets[args.sell_index as usize];
    ix(
        ballast::accounts::RebalanceBegin {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            sell_reserve: sell.reserve,
            destination: *destination,
            sell_token_program: sell.token_program,
            share_mint: vault.share_mint,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ballast::instruction::RebalanceBegin { args },
        trade_valuation_accounts(vault, &args),
    )
}

/// `rebalance_end` of a flash rebalance that sold asset `sell_index`; the bounty goes to `bounty_account`.
/// Remaining accounts: every reserve in vault order.
pub fn rebalance_end(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    sell_index: u8,
    bounty_account: &Pubkey,
) -> Instruction {
    let sell = vault.assets[sell_index as usize];
    ix(
        ballast::accounts::RebalanceEnd {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            sell_reserve: sell.reserve,
            keeper_bounty_account: *bounty_account,
            sell_token_program: sell.token_program,
            share_mint: vault.share_mint,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ballast::instruction::RebalanceEnd {},
        vault.assets.iter().map(|a| AccountMeta::new_readonly(a.reserve, false)).collect(),
    )
}

/// `transfer_checked` of `amount` of `mint` (under `token_program`, SPL Token or Token-2022) from `from`
/// (owned by `owner`) to `to`.
pub fn token_transfer(
    token_program: &Pubkey,
    mint: &Pubkey,
    decimals: u8,
    from: &Pubkey,
    to: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let mut ix = spl_token_2022::instruction::transfer_checked(
        &spl_token_2022::ID,
        from,
        mint,
        to,
        owner,
        &[],
        amount,
        decimals,
    )
    .expect("transfer_checked accepts the Token-2022 program id");
    // The instruction layout is the same for both token programs.
    ix.program_id = *token_program;
    ix
}

/// The one flash rebalance: `rebalance_begin` (with the trade's valuation and pool price accounts) sends
/// `args.amount_in` of the sold asset to `keeper_sell_account`, `route` runs (the keeper's own
/// instructions: a swap paying the vault's reserve, an aggregator's setup, swap and cleanup, a transfer
/// from inventory), and `rebalance_end` reconciles, paying the bounty to `keeper_sell_account`. Every flash
/// route (the keeper's pool, Jupiter and Orca routes, [`execute_along`], [`flash_paying`], the simulator's
/// keepers) is built here.
pub fn flash(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_sell_account: &Pubkey,
    args: RebalanceArgs,
    route: Vec<Instruction>,
) -> Vec<Instruction> {
    let mut ixs = Vec::with_capacity(route.len() + 2);
    ixs.push(rebalance_begin(keeper, vault_key, vault, keeper_sell_account, args));
    ixs.extend(route);
    ixs.push(rebalance_end(keeper, vault_key, vault, args.sell_index, keeper_sell_account));
    ixs
}

/// A [`flash`] rebalance in which the keeper pays the vault itself: after `middle` (the keeper's own route,
/// e.g. a swap into `keeper_buy_account`; empty when the keeper pays from inventory) the keeper transfers
/// `pay` of the bought asset from `keeper_buy_account` into the vault's reserve. The keeper keeps whatever
/// its route returned beyond `pay`; the program holds `pay` to the auction's price.
#[allow(clippy::too_many_arguments)]
pub fn flash_paying(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    args: RebalanceArgs,
    keeper_sell_account: &Pubkey,
    keeper_buy_account: &Pubkey,
    pay: u64,
    mut middle: Vec<Instruction>,
) -> Vec<Instruction> {
    let buy = vault.assets[args.buy_index as usize];
    middle.push(token_transfer(
        &buy.token_program,
        &buy.mint,
        buy.decimals,
        keeper_buy_account,
        &buy.reserve,
        keeper,
        pay,
    ));
    flash(keeper, vault_key, vault, keeper_sell_account, args, middle)
}

/// The `rebalance_begin` arguments of a flash rebalance of a planned candidate: its pair and planned amount,
/// the minimum output the program's plan asks raised to `route_min_out` (the route's own minimum: the
/// keeper's, an aggregator's or a DEX quote's).
pub fn flash_args(candidate: &planner::Candidate, route_min_out: u64) -> RebalanceArgs {
    RebalanceArgs {
        sell_index: candidate.request.sell as u8,
        buy_index: candidate.request.buy as u8,
        amount_in: candidate.plan.amount_in,
        min_out: candidate.plan.min_out.max(route_min_out),
    }
}

/// How a planned trade reaches its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteMode {
    /// `rebalance`: the program swaps through the whitelisted AMM's adapter.
    #[default]
    Direct,
    /// `rebalance_begin` → the keeper's own swap instructions → `rebalance_end`.
    Flash,
}

/// The instructions that execute a planned candidate in `mode`, after the heap request every rebalance carries
/// ([`with_trade_heap`]). For `Flash` the keeper's token account of the sold asset (`keeper_sell_account`,
/// which also receives the bounty) takes the sold amount, the route's pool swaps it with the keeper as user and
/// pays the vault's reserve of the bought asset directly.
pub fn execute_along(
    mode: RouteMode,
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_sell_account: &Pubkey,
    candidate: &planner::Candidate,
) -> Option<Vec<Instruction>> {
    let ixs = match mode {
        RouteMode::Direct => vec![rebalance_along(keeper, vault_key, vault, keeper_sell_account, candidate)?],
        RouteMode::Flash => {
            let r = &candidate.request;
            let (sell, buy) = (vault.assets.get(r.sell)?, vault.assets.get(r.buy)?);
            let args = flash_args(candidate, r.min_out);
            let input = dex::Leg { mint: sell.mint, token_program: sell.token_program, account: *keeper_sell_account };
            let output = dex::Leg { mint: buy.mint, token_program: buy.token_program, account: buy.reserve };
            let route = &candidate.route;
            let swap = dex::swap_instruction(
                &route.pool,
                &route.kind,
                keeper,
                &input,
                &output,
                candidate.plan.amount_in,
                r.min_out,
            )?;
            flash(keeper, vault_key, vault, keeper_sell_account, args, vec![swap])
        }
    };
    Some(with_trade_heap(ixs))
}

/// The instructions sysvar (`Sysvar1nstructions1111111111111111111111111`).
pub const INSTRUCTIONS_SYSVAR: Pubkey = Pubkey::from_str_const("Sysvar1nstructions1111111111111111111111111");

/// `rebalance` along a planned candidate's route (reference AMM: the route's vaults of the sold and
/// bought asset as the adapter's accounts), bounty to `bounty_account`.
pub fn rebalance_along(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    bounty_account: &Pubkey,
    candidate: &planner::Candidate,
) -> Option<Instruction> {
    let r = &candidate.request;
    let route = &candidate.route;
    Some(rebalance_through(
        keeper,
        vault_key,
        vault,
        bounty_account,
        &route.program_id,
        &route.pool,
        route.adapter_accounts(vault, r.sell, r.buy)?,
        RebalanceArgs { sell_index: r.sell as u8, buy_index: r.buy as u8, amount_in: r.amount_in, min_out: r.min_out },
    ))
}
