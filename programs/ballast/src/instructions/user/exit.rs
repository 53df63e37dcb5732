//! What a single-asset payout does to the vault, shared by `request_withdraw` (refuse now what could never
//! settle) and `settle_withdraw`: its value at mid, the value it makes the vault buy back to bring it inside
//! its bands, and whether it leaves the asset at most one rebalance trade short of its target (`math::exit`).

use anchor_lang::prelude::*;

use crate::errors::{BallastError, MathResultExt};
use crate::instructions::accounts::PricedReserves;
use crate::math::{self, Rounding};
use crate::state::Vault;

/// A payout of `amount` base units of asset `index`, seen at mid prices.
pub struct ExitEffect {
    /// The holders' positions at mid before the payout, their values and the vault's (micro-USD).
    pub mid: Vec<math::AssetPosition>,
    pub values: Vec<u128>,
    pub nav: u128,
    /// The limits in force (targets, bands, max trades) for the vault before the payout.
    pub limits: Vec<math::rebalance::AssetLimits>,
    /// The payout's value at mid (micro-USD; above the asset's whole value when it exceeds the reserve).
    pub value: u128,
    /// Value the vault must buy back (micro-USD, `math::exit::exit_traded_value_in_bands`).
    pub traded_value: u128,
}

impl ExitEffect {
    pub fn of(
        vault: &Vault,
        valuation: &PricedReserves,
        index: usize,
        amount: u64,
        supply: u64,
        slot: u64,
    ) -> Result<ExitEffect> {
        let mid = valuation.positions(vault, |b| b.mid);
        let values = math::position_values(&mid, Rounding::Floor).or_math_err()?;
        let nav = math::total_value(&values).or_math_err()?;
        let limits = vault.limits_in_force(&valuation.readings, nav, supply, slot).or_math_err()?;
        // More than the reserve holds does not fit (`require_fits` says so, with the most that does).
        let value = math::value_of(amount, mid[index].decimals, mid[index].price, Rounding::Floor).or_math_err()?;
        let value = if amount > mid[index].balance { value.max(values[index].saturating_add(1)) } else { value };
        let traded_value =
            math::exit::exit_traded_value_in_bands(&values, &limits, index, value.min(values[index])).or_math_err()?;
        Ok(ExitEffect { mid, values, nav, limits, value, traded_value })
    }

    /// Refuses a payout that does not fit ([`math::exit::exit_fits`]) with `WithdrawalTooLarge`, after logging
    /// the largest payout that fits now, in base units and in shares of the request (`shares` for `amount`).
    pub fn require_fits(&self, index: usize, amount: u64, shares: u64) -> Result<()> {
        if math::exit::exit_fits(&self.values, &self.limits, index, self.value).or_math_err()? {
            return Ok(());
        }
        let largest = math::exit::largest_exit_value(&self.values, &self.limits, index).or_math_err()?;
        let p = &self.mid[index];
        let largest_amount = math::amount_for_value(largest, p.decimals, p.price, Rounding::Floor).or_math_err()?;
        let largest_shares =
            math::mul_div_floor(shares as u128, largest_amount as u128, amount.max(1) as u128).or_math_err()?;
        crate::events::log(&format!(
            "largest payout now: {largest_amount} base units of asset {index} (about {largest_shares} shares, \
             {largest} micro-USD at mid)"
        ));
        err!(BallastError::WithdrawalTooLarge)
    }

    /// The holders' values at mid after paying out `amount` of asset `index`.
    pub fn values_after(&self, index: usize, amount: u64) -> Result<Vec<u128>> {
        let mut after = self.mid.clone();
        after[index].balance = after[index].balance.checked_sub(amount).ok_or(BallastError::MathOverflow)?;
        math::position_values(&after, Rounding::Floor).or_math_err()
    }
}
