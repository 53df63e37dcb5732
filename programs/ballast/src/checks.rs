//! Reconciliation after a CPI: what the vault's accounts must show, one error per broken promise. The
//! handler reads the balances; the checks here only compare (Kamino's post-transfer checks).

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::math::rebalance::RebalancePlan;

/// Every reserve's token balance and the share supply, in vault order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balances {
    pub reserves: Vec<u64>,
    pub share_supply: u64,
}

/// After a rebalance swap of `plan` from reserve `sell` to reserve `buy`: the sold reserve fell by exactly
/// `amount_in` (`SwapInputMismatch`), the bought one rose by at least `min_out`
/// (`SwapOutputBelowMinimum`), no other reserve moved (`ReserveChangedUnexpectedly`) and no share was
/// minted or burned (`ShareSupplyChanged`). Returns what the swap paid.
pub fn post_swap(before: &Balances, after: &Balances, sell: usize, buy: usize, plan: &RebalancePlan) -> Result<u64> {
    require!(before.reserves.len() == after.reserves.len(), BallastError::LengthMismatch);
    require!(
        before.reserves[sell].checked_sub(after.reserves[sell]) == Some(plan.amount_in),
        BallastError::SwapInputMismatch
    );
    let received = after.reserves[buy].checked_sub(before.reserves[buy]).ok_or(BallastError::SwapOutputBelowMinimum)?;
    require!(received >= plan.min_out, BallastError::SwapOutputBelowMinimum);
    for (i, (b, a)) in before.reserves.iter().zip(&after.reserves).enumerate() {
        if i != sell && i != buy {
            require!(a == b, BallastError::ReserveChangedUnexpectedly);
        }
    }
    require!(after.share_supply == before.share_supply, BallastError::ShareSupplyChanged);
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(amount_in: u64, min_out: u64) -> RebalancePlan {
        RebalancePlan {
            amount_in,
            clamped: false,
            cap_amount: amount_in,
            fair_out: min_out,
            floor_out: min_out,
            min_out,
            max_bounty: 0,
            trade_value: 0,
            full_value: 0,
            sold_ppm_after: 0,
        }
    }

    fn code(r: Result<u64>) -> u32 {
        match r {
            Err(anchor_lang::error::Error::AnchorError(e)) => e.error_code_number,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_broken_promise_has_its_error() {
        let before = Balances { reserves: vec![100, 50, 7], share_supply: 10 };
        let ok = Balances { reserves: vec![90, 60, 7], share_supply: 10 };
        assert_eq!(post_swap(&before, &ok, 0, 1, &plan(10, 10)).unwrap(), 10);
        let took_more = Balances { reserves: vec![89, 60, 7], ..ok.clone() };
        assert_eq!(
            code(post_swap(&before, &took_more, 0, 1, &plan(10, 10))),
            u32::from(BallastError::SwapInputMismatch)
        );
        assert_eq!(code(post_swap(&before, &ok, 0, 1, &plan(10, 11))), u32::from(BallastError::SwapOutputBelowMinimum));
        let other = Balances { reserves: vec![90, 60, 6], ..ok.clone() };
        assert_eq!(
            code(post_swap(&before, &other, 0, 1, &plan(10, 10))),
            u32::from(BallastError::ReserveChangedUnexpectedly)
        );
        let minted = Balances { share_supply: 11, ..ok };
        assert_eq!(code(post_swap(&before, &minted, 0, 1, &plan(10, 10))), u32::from(BallastError::ShareSupplyChanged));
    }
}
