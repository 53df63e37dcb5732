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
    /// Priced readings (rebalance grade): the values the fee is charged on and its mark set at
    /// (`math::fees::FeeNavs`: every asset at the lower of its price and its EMA, at the lower confidence
    /// bound and at mid), the vault at its own prices' mid (`spot`: where an entrant comes in), and whether
    /// every price agrees with its EMA. Only agreeing readings crystallise the fee; diverging ones defer it
    /// (the management fee accrues).
    Priced { navs: math::fees::FeeNavs, spot: u128, agreed: bool },
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

/// Seconds of running fees an accrual at `now` charges on `supply` shares (none before the first accrual or
/// without shares).
fn accrual_secs(fees: &FeeState, supply: u64, now: i64) -> u64 {
    if fees.last_accrual == 0 || supply == 0 {
        0
    } else {
        u64::try_from(now.saturating_sub(fees.last_accrual)).unwrap_or(0)
    }
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
    /// Slot of that accrual.
    pub last_priced_slot: u64,
    /// The share price after that accrual, at the mark's value (`FeeNavs::mark`): a change of the performance
    /// fee re-marks at it, so the new rate applies only to gains made after it took effect.
    pub last_price: u128,
    /// As of the last priced accrual (`entry_slot`): the performance fee shares the gain the mark has not
    /// followed yet would charge if it lasted (an EMA behind the price), and the share price an entrant in that
    /// slot pays (the vault at its own prices, mid, over the supply with those shares). An entrant buys in at a supply counting those
    /// shares and is marked at its entry price (`math::fees::mark_after_entry`): it never pays a fee on a
    /// gain made before it.
    pub entry_price: u128,
    pub latent_shares: u64,
    pub entry_slot: u64,
    /// Fee shares accrued since the vault began, by kind.
    pub management_total: u64,
    pub performance_total: u64,
    /// Of the owed fee shares, those kept for each recipient slot (in `FeeParams::recipients` order) whose
    /// account could not take them when `accrue_fees` last minted (closed, or handed to the vault): they stay
    /// that recipient's, never split among the others; they are cancelled (returned to the holders) if
    /// governance replaces the recipient.
    pub withheld: [u64; MAX_FEE_RECIPIENTS],
}

impl Vault {
    /// Shares outstanding: the minted supply plus the fee shares owed to the recipients.
    pub fn shares_outstanding(&self, minted: u64) -> Result<u64> {
        minted.checked_add(self.fees.pending_shares).ok_or_else(|| error!(BallastError::MathOverflow))
    }

    /// The shares outstanding once the running fees are accrued up to `now` without prices (what every
    /// instruction counts after its first step: minted, owed, and the management fee since the last
    /// accrual). The program's own accrual on a copy: keepers ask this, never a re-implementation.
    pub fn supply_after_accrual(&self, minted: u64, now: i64) -> Result<u64> {
        let mut probe = self.clone();
        probe.accrue_fees(minted, now, 0, FeeMark::Unpriced)?;
        probe.shares_outstanding(minted)
    }

    /// Accrues the running fees up to `now` (in `slot`) on `minted` shares (plus those owed): the management
    /// fee always, the performance fee when `mark` values the vault ([`FeeMark::Agreed`]). The fee shares are
    /// added to those owed; returns what was accrued.
    pub fn accrue_fees(&mut self, minted: u64, now: i64, slot: u64, mark: FeeMark) -> Result<Accrued> {
        let navs = match mark {
            FeeMark::Priced { navs, agreed: true, .. } => Some(navs),
            _ => None,
        };
        let supply = self.shares_outstanding(minted)?;
        let fees = self.params.fees;
        let dt = accrual_secs(&self.fees, supply, now);
        let hwm = if supply == 0 { 0 } else { self.fees.hwm };
        let (management_bps, performance_bps) = (fees.management_bps, fees.performance_bps);
        let accrual =
            math::fees::accrue_marked(supply, math::LOCKED_SHARES, navs, hwm, management_bps, performance_bps, dt)
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
        if navs.is_some() {
            state.last_priced_accrual = now.max(state.last_priced_accrual);
            state.last_priced_slot = slot.max(state.last_priced_slot);
            state.last_price = accrual.mark_price_after;
        }
        if let FeeMark::Priced { spot, .. } = mark {
            let outstanding = self.shares_outstanding(minted)?;
            if outstanding > 0 {
                let latent = math::fees::latent_performance_shares(
                    outstanding,
                    math::LOCKED_SHARES,
                    spot,
                    self.fees.hwm,
                    performance_bps,
                )
                .or_math_err()?;
                // What an entrant pays a share: the vault at its prices over the supply with the latent fee
                // shares (the price its shares are marked at).
                let supply = outstanding.checked_add(latent).ok_or(BallastError::MathOverflow)?;
                self.fees.entry_price = math::fees::share_price(spot, supply).or_math_err()?;
                self.fees.latent_shares = latent;
                self.fees.entry_slot = slot;
            }
        }
        let performance_deferred = matches!(mark, FeeMark::Priced { agreed: false, .. }) && performance_bps > 0;
        Ok(Accrued { accrual, elapsed_secs: dt, performance_deferred })
    }

    /// A deposit valued without prices (in kind) may only enter in the slot the fees were accrued on priced
    /// readings in (`accrue_fees` first in the same transaction): otherwise it would pay part of the fee on a
    /// gain made before it came.
    pub fn require_fresh_fee_mark(&self, slot: u64) -> Result<()> {
        if self.params.fees.performance_bps == 0 {
            return Ok(());
        }
        require!(self.fees.hwm > 0 && self.fees.entry_slot == slot, BallastError::FeeAccrualStale);
        Ok(())
    }

    /// The share supply an entrant in `slot` buys into: every share outstanding, plus the performance fee
    /// shares of the gain not crystallised yet (accrued in this slot) as if they were minted.
    pub fn entry_supply(&self, minted: u64, slot: u64) -> Result<u64> {
        let outstanding = self.shares_outstanding(minted)?;
        if self.params.fees.performance_bps == 0 || self.fees.entry_slot != slot {
            return Ok(outstanding);
        }
        outstanding.checked_add(self.fees.latent_shares).ok_or_else(|| error!(BallastError::MathOverflow))
    }

    /// Marks `new_shares` entering a vault of `outstanding` shares in `slot` at the entry price of that slot's
    /// priced accrual (`math::fees::mark_after_entry`): a gain the mark has not followed yet (an EMA behind
    /// the price) stays the old holders' to pay, never the entrant's.
    pub fn mark_entry(&mut self, outstanding: u64, new_shares: u64, slot: u64) -> Result<()> {
        if self.params.fees.performance_bps == 0 || self.fees.entry_slot != slot {
            return Ok(());
        }
        self.fees.hwm = math::fees::mark_after_entry(self.fees.hwm, outstanding, self.fees.entry_price, new_shares)
            .or_math_err()?;
        Ok(())
    }

    /// After a change of the fees (accrued at the old rates at this very second): the mark moves up to the
    /// current share price when the performance fee changed, so the new rate is charged only on gains made
    /// after it took effect; shares withheld for a recipient slot whose account or weight changed are
    /// cancelled (returned to the holders: the replaced recipient could not take them).
    pub fn remark_after_fee_change(&mut self, old: &FeeParams) -> Result<()> {
        if old.performance_bps != self.params.fees.performance_bps {
            self.fees.hwm = self.fees.hwm.max(self.fees.last_price);
        }
        let new = self.params.fees.recipients;
        for (i, (o, n)) in old.recipients.iter().zip(new.iter()).enumerate() {
            if o != n && self.fees.withheld[i] > 0 {
                let w = core::mem::take(&mut self.fees.withheld[i]);
                self.fees.pending_shares = self.fees.pending_shares.checked_sub(w).ok_or(BallastError::MathOverflow)?;
            }
        }
        Ok(())
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
