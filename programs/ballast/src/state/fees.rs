//! Vault fees: the rates governance sets ([`FeeParams`], part of [`VaultParams`]) and what the vault keeps
//! track of ([`FeeState`]).
//!
//! - **Management** (bps a year) and **performance** (bps of the share price's gain above its high-water
//!   mark) fees are accrued as share dilution (`math::fees`) by every instruction that touches shares or
//!   values the vault, before anything else: deposits, settlements and withdrawals take the fee shares owed
//!   up to their own clock into account, so no one enters or leaves at a price that ignores them. The
//!   performance fee needs prices and is crystallised only on fresh readings (rebalance grade: a sender
//!   cannot pick an old high) valued at their low bounds (price − confidence); the management fee needs only
//!   the share count and the clock.
//! - Accrued fee shares are **owed** to the recipients (`FeeState::pending_shares`, counted in the share
//!   supply everywhere) until the permissionless `accrue_fees` mints them into the recipients' share
//!   accounts by weight, so no other instruction needs the recipients' accounts.
//! - **Entry** and **exit** fees (bps) stay with the vault for the remaining holders: they pay for what
//!   entering and leaving costs the others (trades the flows cause, the drift they add), so they go to the
//!   holders who bear it, not to the operator, who is paid by the running fees.

use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::{BallastError, MathResultExt};
use crate::math::{self, fees::Accrual};

use super::Vault;

/// One receiver of fee shares: a share token account and its weight.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct FeeRecipient {
    /// A token account of the vault's share mint (not the vault's own).
    pub account: Pubkey,
    /// Share of every fee (bps; the used recipients' weights sum to 10 000). 0: unused slot.
    pub weight_bps: u16,
}

/// The vault's fees.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct FeeParams {
    /// Management fee, bps of the fee base a year, charged continuously.
    pub management_bps: u16,
    /// Performance fee, bps of the (continuously compounded) gain of the share price above its mark.
    pub performance_bps: u16,
    /// Entry fee, bps of every deposit's shares, kept by the vault.
    pub entry_bps: u16,
    /// Exit fee, bps of every withdrawal's amounts, kept by the vault.
    pub exit_bps: u16,
    pub recipients: [FeeRecipient; MAX_FEE_RECIPIENTS],
}

impl FeeParams {
    /// Bounds, and recipients whose weights add up when a running fee is charged.
    pub fn check(&self) -> Result<()> {
        require!(
            self.management_bps <= MAX_MANAGEMENT_FEE_BPS
                && self.performance_bps <= MAX_PERFORMANCE_FEE_BPS
                && self.entry_bps <= MAX_ENTRY_FEE_BPS
                && self.exit_bps <= MAX_EXIT_FEE_BPS,
            BallastError::FeeOutOfBounds
        );
        let used: Vec<&FeeRecipient> = self.recipients.iter().filter(|r| r.weight_bps > 0).collect();
        let total: u64 = used.iter().map(|r| r.weight_bps as u64).sum();
        let distinct = used.iter().enumerate().all(|(i, r)| used[..i].iter().all(|o| o.account != r.account));
        let named = used.iter().all(|r| r.account != Pubkey::default());
        let charged = self.management_bps > 0 || self.performance_bps > 0;
        require!(
            distinct && named && (total == math::BPS || (!charged && total == 0)),
            BallastError::FeeRecipientsInvalid
        );
        Ok(())
    }

    /// Whether `other` charges no rate above this one's and pays the same recipients.
    pub fn lowered_to(&self, other: &FeeParams) -> bool {
        other.management_bps <= self.management_bps
            && other.performance_bps <= self.performance_bps
            && other.entry_bps <= self.entry_bps
            && other.exit_bps <= self.exit_bps
            && other.recipients == self.recipients
    }

    /// Whether the running fees (the ones accrued over time) differ.
    pub fn running_differ(&self, other: &FeeParams) -> bool {
        self.management_bps != other.management_bps
            || self.performance_bps != other.performance_bps
            || self.recipients != other.recipients
    }
}

/// What the performance fee may be measured on in one accrual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeMark {
    /// No prices (in-kind flows): the management fee only.
    Unpriced,
    /// The vault's value (micro-USD) with every asset at the lower of its price and its EMA, each at its
    /// lower confidence bound, on readings that agree with their EMA: a gain must be on both to count.
    Agreed(u128),
    /// A price too far from its EMA: the performance fee waits (the management fee accrues).
    Divergent,
}

/// What one accrual did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accrued {
    pub accrual: Accrual,
    /// Seconds of management fee charged.
    pub elapsed_secs: u64,
    /// A performance fee was due to be measured but a price diverged from its EMA.
    pub performance_deferred: bool,
}

/// What the vault keeps track of for its fees.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct FeeState {
    /// Fee shares accrued and not yet minted to the recipients (part of the share supply).
    pub pending_shares: u64,
    /// High-water mark of the share price (`math::fees::share_price`: micro-USD per share unit, 1e18 fixed
    /// point, at the readings' low bounds); 0 until the first priced accrual.
    pub hwm: u128,
    /// Unix time the running fees were last accrued to (0: never).
    pub last_accrual: i64,
    /// Unix time of the last accrual on fresh readings (the performance fee's).
    pub last_priced_accrual: i64,
    /// Slot of that accrual: an in-kind deposit into a vault with a performance fee enters only in the slot
    /// the fee was crystallised in.
    pub last_priced_slot: u64,
    /// The share price after that accrual (the mark's unit): a change of the performance fee re-marks at it,
    /// so the new rate applies only to gains made after the change.
    pub last_price: u128,
    /// Fee shares accrued since the vault began, by kind.
    pub management_total: u64,
    pub performance_total: u64,
}

impl Vault {
    /// Shares outstanding: the minted supply plus the fee shares owed to the recipients.
    pub fn shares_outstanding(&self, minted: u64) -> Result<u64> {
        minted.checked_add(self.fees.pending_shares).ok_or_else(|| error!(BallastError::MathOverflow))
    }

    /// Accrues the running fees up to `now` (in `slot`) on `minted` shares (plus those owed): the management
    /// fee always, the performance fee when `mark` values the vault ([`FeeMark::Agreed`]). The fee shares are
    /// added to those owed; returns what was accrued.
    pub fn accrue_fees(&mut self, minted: u64, now: i64, slot: u64, mark: FeeMark) -> Result<Accrued> {
        let nav = match mark {
            FeeMark::Agreed(nav) => Some(nav),
            FeeMark::Unpriced | FeeMark::Divergent => None,
        };
        let supply = self.shares_outstanding(minted)?;
        let fees = self.params.fees;
        let dt = if self.fees.last_accrual == 0 || supply == 0 {
            0
        } else {
            u64::try_from(now.saturating_sub(self.fees.last_accrual)).unwrap_or(0)
        };
        let hwm = if supply == 0 { 0 } else { self.fees.hwm };
        let accrual =
            math::fees::accrue(supply, math::LOCKED_SHARES, nav, hwm, fees.management_bps, fees.performance_bps, dt)
                .or_math_err()?;
        let state = &mut self.fees;
        state.pending_shares =
            state.pending_shares.checked_add(accrual.shares().or_math_err()?).ok_or(BallastError::MathOverflow)?;
        state.management_total =
            state.management_total.checked_add(accrual.management_shares).ok_or(BallastError::MathOverflow)?;
        state.performance_total =
            state.performance_total.checked_add(accrual.performance_shares).ok_or(BallastError::MathOverflow)?;
        state.hwm = accrual.hwm;
        state.last_accrual = now.max(state.last_accrual);
        if nav.is_some() {
            state.last_priced_accrual = now.max(state.last_priced_accrual);
            state.last_priced_slot = slot.max(state.last_priced_slot);
            state.last_price = accrual.price_after;
        }
        let performance_deferred = matches!(mark, FeeMark::Divergent) && fees.performance_bps > 0;
        Ok(Accrued { accrual, elapsed_secs: dt, performance_deferred })
    }

    /// A deposit valued without prices (in kind) may only enter in the slot the performance fee was
    /// crystallised in (`accrue_fees` first in the same transaction): otherwise it would pay part of the fee
    /// on a gain made before it came.
    pub fn require_fresh_fee_mark(&self, slot: u64) -> Result<()> {
        if self.params.fees.performance_bps == 0 {
            return Ok(());
        }
        require!(
            self.fees.last_priced_accrual > 0 && self.fees.last_priced_slot == slot,
            BallastError::FeeAccrualStale
        );
        Ok(())
    }

    /// After a change of the performance fee (accrued at the old rate at this very second): the mark moves up
    /// to the current share price, so the new rate is charged only on gains made after it took effect.
    pub fn remark_after_fee_change(&mut self, old: &FeeParams) {
        if old.performance_bps != self.params.fees.performance_bps {
            self.fees.hwm = self.fees.hwm.max(self.fees.last_price);
        }
    }

    /// A change of the running fees applies from its execution only: the fees owed so far must have been
    /// accrued at the old rates, on fresh readings, at this very time (send `accrue_fees` first in the same
    /// transaction).
    pub fn require_fees_accrued_now(&self, now: i64) -> Result<()> {
        require!(self.fees.last_priced_accrual == now, BallastError::FeeAccrualRequired);
        Ok(())
    }

    /// The fee recipients may not be the vault's own accounts: the vault (`vault_key`), its share mint, its
    /// locked shares or a reserve.
    pub fn check_fee_recipients(&self, vault_key: &Pubkey, fees: &FeeParams) -> Result<()> {
        let own = |k: &Pubkey| {
            k == vault_key
                || *k == self.share_mint
                || *k == self.locked_shares
                || self.assets.iter().any(|a| a.reserve == *k)
        };
        require!(
            !fees.recipients.iter().any(|r| r.weight_bps > 0 && own(&r.account)),
            BallastError::FeeRecipientIsVault
        );
        Ok(())
    }
}
