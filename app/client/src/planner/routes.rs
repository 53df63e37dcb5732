//! The routes the planner trades through: the vault's whitelisted pools, decoded from their accounts with
//! what their quotes need, quoted with each DEX's own math (mirroring the program's adapters) and read as
//! the program's second price source.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::AccountMeta;
use anchor_lang::AccountDeserialize;
use ballast::math::sources::{PoolMid, PoolPrice};
use ballast::state::Vault;

use crate::decode;
use crate::dex::{self, PoolKind};

/// Quotes a route: how much of the other asset `amount_in` of vault asset `sell` buys. Mirrors the
/// program's AMM adapters (`programs/ballast/src/amm/`) with each DEX's own math.
pub trait AmmQuote {
    fn quote(&self, sell: usize, amount_in: u64) -> Option<u64>;
}

/// A whitelisted pool between two vault assets, with its reserves and what its quote needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub program_id: Pubkey,
    pub pool: Pubkey,
    /// (vault asset index, pool vault, pool vault balance) for the pool's two mints (a and b, or 0 and 1).
    pub sides: [(usize, Pubkey, u64); 2],
    pub kind: PoolKind,
}

impl Route {
    /// The pool's vault holding vault asset `asset`.
    pub fn vault_of(&self, asset: usize) -> Option<Pubkey> {
        self.sides.iter().find(|s| s.0 == asset).map(|s| s.1)
    }

    /// (input side, output side) for selling vault asset `sell`.
    fn sides_for(&self, sell: usize) -> Option<(usize, usize)> {
        match (self.sides[0].0 == sell, self.sides[1].0 == sell) {
            (true, _) => Some((0, 1)),
            (_, true) => Some((1, 0)),
            _ => None,
        }
    }

    /// The accounts the vault's adapter takes after the pool for selling `sell` for `buy` of `vault`.
    pub fn adapter_accounts(&self, vault: &Vault, sell: usize, buy: usize) -> Option<Vec<AccountMeta>> {
        let (mint_in, mint_out) = (vault.assets.get(sell)?.mint, vault.assets.get(buy)?.mint);
        dex::adapter_accounts(&self.pool, &self.kind, &mint_in, &mint_out, &self.vault_of(sell)?, &self.vault_of(buy)?)
    }
}

impl Route {
    /// The pool's mid price as the program reads it when the vault uses its pools as a second price source
    /// (`ballast::amm::pool_price`): a constant-product pool's reserves (Raydium's less the fees collected in
    /// them), a Whirlpool's sqrt price.
    pub fn price(&self) -> Option<PoolPrice> {
        let (a, b) = (self.sides[0], self.sides[1]);
        let mid = match &self.kind {
            PoolKind::Reference { .. } => PoolMid::Reserves { a: a.2, b: b.2 },
            PoolKind::RaydiumCpmm { collected, .. } => {
                PoolMid::Reserves { a: a.2.saturating_sub(collected[0]), b: b.2.saturating_sub(collected[1]) }
            }
            PoolKind::Whirlpool { state, .. } => PoolMid::SqrtPriceQ64(state.sqrt_price),
        };
        Some(PoolPrice { asset_a: a.0, asset_b: b.0, mid })
    }
}

/// The mid prices of the routes of the pair (`sell`, `buy`) the program reads as its second source, when the
/// vault reads pools as prices.
pub fn pair_prices(vault: &Vault, routes: &[Route], sell: usize, buy: usize) -> Vec<PoolPrice> {
    if !vault.params.pool_price_bound {
        return Vec::new();
    }
    routes.iter().filter_map(Route::price).filter(|p| p.trades(sell, buy)).collect()
}

impl AmmQuote for Route {
    fn quote(&self, sell: usize, amount_in: u64) -> Option<u64> {
        let (i, o) = self.sides_for(sell)?;
        let (reserve_in, reserve_out) = (self.sides[i].2, self.sides[o].2);
        match &self.kind {
            PoolKind::Reference { fee_bps } => {
                ballast_amm::math::swap_out(reserve_in, reserve_out, *fee_bps, amount_in)
            }
            PoolKind::RaydiumCpmm { trade_fee_rate, collected, .. } => dex::raydium::quote(
                reserve_in.checked_sub(collected[i])?,
                reserve_out.checked_sub(collected[o])?,
                *trade_fee_rate,
                amount_in,
            ),
            PoolKind::Whirlpool { state, arrays_a_to_b, arrays_b_to_a } => {
                let a_to_b = self.sides[i].1 == state.token_vault_a;
                let arrays = if a_to_b { arrays_a_to_b } else { arrays_b_to_a };
                dex::orca::quote_exact_in(state, arrays, a_to_b, amount_in, 0).ok().map(|(out, _)| out)
            }
        }
    }
}

/// A whitelisted pool decoded, before the accounts its quote needs are read.
pub(super) enum PoolDraft {
    Reference { pool: Box<ballast_amm::Pool>, ia: usize, ib: usize },
    Raydium { state: Box<dex::raydium::PoolState>, i0: usize, i1: usize },
    Whirlpool { state: Box<orca_whirlpools_client::Whirlpool>, ia: usize, ib: usize, arrays: [Pubkey; 6] },
}

impl PoolDraft {
    pub(super) fn decode(program: Pubkey, key: &Pubkey, data: &[u8], vault: &Vault) -> Option<PoolDraft> {
        let idx = |m: &Pubkey| vault.asset_index(m);
        if program == ballast_amm::ID {
            let pool = ballast_amm::Pool::try_deserialize(&mut &data[..]).ok()?;
            let (ia, ib) = (idx(&pool.mint_a)?, idx(&pool.mint_b)?);
            Some(PoolDraft::Reference { pool: Box::new(pool), ia, ib })
        } else if program == dex::raydium::ID {
            let state = dex::raydium::PoolState::decode(data)?;
            let (i0, i1) = (idx(&state.token_0_mint)?, idx(&state.token_1_mint)?);
            Some(PoolDraft::Raydium { state: Box::new(state), i0, i1 })
        } else {
            let state = ballast::amm::orca_whirlpool::decode_pool(data)?;
            let (ia, ib) = (idx(&state.token_mint_a)?, idx(&state.token_mint_b)?);
            let down = dex::orca::tick_arrays(key, &state, true).ok()?;
            let up = dex::orca::tick_arrays(key, &state, false).ok()?;
            let arrays = [down[0], down[1], down[2], up[0], up[1], up[2]];
            Some(PoolDraft::Whirlpool { state, ia, ib, arrays })
        }
    }

    /// Accounts to read next: the two vaults, then the CPMM config or the Whirlpool tick arrays.
    pub(super) fn reads(&self) -> Vec<Pubkey> {
        match self {
            PoolDraft::Reference { pool, .. } => vec![pool.vault_a, pool.vault_b],
            PoolDraft::Raydium { state, .. } => vec![state.token_0_vault, state.token_1_vault, state.amm_config],
            PoolDraft::Whirlpool { state, arrays, .. } => {
                let mut v = vec![state.token_vault_a, state.token_vault_b];
                v.extend(arrays);
                v
            }
        }
    }

    pub(super) fn finish(self, pool: Pubkey, read: &[Option<solana_account::Account>]) -> Option<Route> {
        let amount = |i: usize| read.get(i)?.as_ref().and_then(|a| decode::token_amount(&a.data).ok());
        match self {
            PoolDraft::Reference { pool: p, ia, ib } => Some(Route {
                program_id: ballast_amm::ID,
                pool,
                sides: [(ia, p.vault_a, amount(0).unwrap_or(0)), (ib, p.vault_b, amount(1).unwrap_or(0))],
                kind: PoolKind::Reference { fee_bps: p.fee_bps },
            }),
            PoolDraft::Raydium { state, i0, i1 } => {
                let config = dex::raydium::AmmConfig::decode(&read.get(2)?.as_ref()?.data)?;
                let collected = [state.fees_of(&state.token_0_mint), state.fees_of(&state.token_1_mint)];
                Some(Route {
                    program_id: dex::raydium::ID,
                    pool,
                    sides: [(i0, state.token_0_vault, amount(0)?), (i1, state.token_1_vault, amount(1)?)],
                    kind: PoolKind::RaydiumCpmm { state, trade_fee_rate: config.trade_fee_rate, collected },
                })
            }
            PoolDraft::Whirlpool { state, ia, ib, .. } => {
                let array = |i: usize| -> Option<orca_whirlpools_core::TickArrayFacade> {
                    let acc = read.get(i)?.as_ref()?;
                    orca_whirlpools_client::TickArray::from_bytes(&acc.data).ok().map(Into::into)
                };
                // The arrays a swap can use: the leading ones that exist, up to three a direction.
                let arrays = |from: usize| (from..from + 3).map_while(array).collect::<Vec<_>>();
                let (arrays_a_to_b, arrays_b_to_a) = (arrays(2), arrays(5));
                Some(Route {
                    program_id: dex::orca::ID,
                    pool,
                    sides: [(ia, state.token_vault_a, amount(0)?), (ib, state.token_vault_b, amount(1)?)],
                    kind: PoolKind::Whirlpool { state, arrays_a_to_b, arrays_b_to_a },
                })
            }
        }
    }
}
