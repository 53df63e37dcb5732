//! `a × b / c` with a 256-bit intermediate and explicit rounding direction.

use super::{MathError, MathResult};

/// Which way a division rounds. Callers pick the direction that favours the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    Floor,
    Ceil,
}

/// Full 128 × 128 → 256-bit product as (high, low).
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each term below is < 2^64, so the sum is < 3 × 2^64 and cannot overflow.
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let lo = (p00 & MASK) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// Divides the 256-bit (hi, lo) by `d`; returns (quotient, remainder). Requires hi < d.
fn div_wide(hi: u128, lo: u128, d: u128) -> (u128, u128) {
    let mut rem = hi;
    let mut q: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        // With carry set the true remainder is 2^128 + rem ≥ d; wrapping_sub gives the exact result.
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            q |= 1;
        }
    }
    (q, rem)
}

/// `a × b / c` rounded as asked. Fails on `c == 0` or when the quotient exceeds u128.
pub fn mul_div(a: u128, b: u128, c: u128, rounding: Rounding) -> MathResult<u128> {
    if c == 0 {
        return Err(MathError::DivideByZero);
    }
    let (q, r) = match a.checked_mul(b) {
        Some(p) => (p / c, p % c),
        None => {
            let (hi, lo) = mul_wide(a, b);
            if hi >= c {
                return Err(MathError::Overflow);
            }
            div_wide(hi, lo, c)
        }
    };
    match rounding {
        Rounding::Floor => Ok(q),
        Rounding::Ceil if r != 0 => q.checked_add(1).ok_or(MathError::Overflow),
        Rounding::Ceil => Ok(q),
    }
}

/// `floor(a × b / c)`.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> MathResult<u128> {
    mul_div(a, b, c, Rounding::Floor)
}

/// `ceil(a × b / c)`.
pub fn mul_div_ceil(a: u128, b: u128, c: u128) -> MathResult<u128> {
    mul_div(a, b, c, Rounding::Ceil)
}

/// An unsigned 256-bit integer, for exact comparisons and sums of products of u128 values (a value in
/// micro-USD times a weight in bps no longer fits u128 at the extreme balances and prices the vault
/// accepts: u64::MAX base units at 1e12 USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct U256 {
    // Field order: `hi` first, so the derived ordering is the numeric one.
    pub hi: u128,
    pub lo: u128,
}

impl U256 {
    pub const ZERO: U256 = U256 { hi: 0, lo: 0 };

    pub fn from_u128(x: u128) -> U256 {
        U256 { hi: 0, lo: x }
    }

    /// The exact product `a × b`.
    pub fn mul(a: u128, b: u128) -> U256 {
        let (hi, lo) = mul_wide(a, b);
        U256 { hi, lo }
    }

    pub fn checked_add(self, o: U256) -> MathResult<U256> {
        let (lo, carry) = self.lo.overflowing_add(o.lo);
        let hi = self.hi.checked_add(o.hi).and_then(|h| h.checked_add(carry as u128)).ok_or(MathError::Overflow)?;
        Ok(U256 { hi, lo })
    }

    /// `self − o`, or zero when `o` is larger.
    pub fn saturating_sub(self, o: U256) -> U256 {
        if o >= self {
            return U256::ZERO;
        }
        let (lo, borrow) = self.lo.overflowing_sub(o.lo);
        U256 { hi: self.hi - o.hi - borrow as u128, lo }
    }

    /// `|self − o|`.
    pub fn abs_diff(self, o: U256) -> U256 {
        if self >= o {
            self.saturating_sub(o)
        } else {
            o.saturating_sub(self)
        }
    }

    /// `self / d` rounded as asked; fails when `d` is zero or the quotient does not fit u128.
    pub fn div(self, d: u128, rounding: Rounding) -> MathResult<u128> {
        if d == 0 {
            return Err(MathError::DivideByZero);
        }
        if self.hi >= d {
            return Err(MathError::Overflow);
        }
        let (q, r) = if self.hi == 0 { (self.lo / d, self.lo % d) } else { div_wide(self.hi, self.lo, d) };
        match rounding {
            Rounding::Ceil if r != 0 => q.checked_add(1).ok_or(MathError::Overflow),
            _ => Ok(q),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_values() {
        assert_eq!(mul_div_floor(7, 3, 2).unwrap(), 10);
        assert_eq!(mul_div_ceil(7, 3, 2).unwrap(), 11);
        assert_eq!(mul_div_ceil(6, 3, 2).unwrap(), 9);
        assert_eq!(mul_div_floor(1, 1, 0), Err(MathError::DivideByZero));
    }

    #[test]
    fn wide_intermediate() {
        let m = u128::MAX;
        assert_eq!(mul_div_floor(m, m, m).unwrap(), m);
        assert_eq!(mul_div_floor(m, 3, 6).unwrap(), m / 2);
        assert_eq!(mul_div_ceil(m, 3, 6).unwrap(), m / 2 + 1);
        assert_eq!(mul_div_floor(m, 2, 1), Err(MathError::Overflow));
        assert_eq!(mul_div_ceil(m, m, m).unwrap(), m);
    }

    #[test]
    fn wide_integers() {
        let m = u128::MAX;
        let p = U256::mul(m, 10_000);
        assert!(p > U256::from_u128(m));
        assert_eq!(p.div(10_000, Rounding::Floor).unwrap(), m);
        assert_eq!(p.div(1, Rounding::Floor), Err(MathError::Overflow));
        assert_eq!(U256::mul(7, 3).div(2, Rounding::Ceil).unwrap(), 11);
        assert_eq!(U256::mul(m, 2).saturating_sub(U256::mul(m, 3)), U256::ZERO);
        assert_eq!(U256::mul(m, 3).abs_diff(U256::mul(m, 2)), U256::from_u128(m));
        assert_eq!(U256 { hi: m, lo: m }.checked_add(U256::from_u128(1)), Err(MathError::Overflow));
        assert_eq!(U256::from_u128(m).checked_add(U256::from_u128(1)).unwrap(), U256 { hi: 1, lo: 0 });
    }

    proptest! {
        /// Sums and differences of products agree with u128 arithmetic wherever that fits.
        #[test]
        fn wide_matches_u128(a in 0u128..u64::MAX as u128, b in 0u128..u64::MAX as u128, c in 0u128..u64::MAX as u128, d in 1u128..u64::MAX as u128) {
            let (x, y) = (U256::mul(a, b), U256::mul(c, d));
            prop_assert_eq!(x.cmp(&y), (a * b).cmp(&(c * d)));
            prop_assert_eq!(x.abs_diff(y).div(d, Rounding::Floor).unwrap(), (a * b).abs_diff(c * d) / d);
            if let Some(sum) = (a * b).checked_add(c * d) {
                prop_assert_eq!(x.checked_add(y).unwrap().div(d, Rounding::Ceil).unwrap(), sum.div_ceil(d));
            }
        }

        #[test]
        fn matches_u128_when_product_fits(a in 0u128..u64::MAX as u128, b in 0u128..u64::MAX as u128, c in 1u128..u128::MAX) {
            let p = a * b;
            prop_assert_eq!(mul_div_floor(a, b, c).unwrap(), p / c);
            prop_assert_eq!(mul_div_ceil(a, b, c).unwrap(), p.div_ceil(c));
        }

        #[test]
        fn wide_path_is_exact(a in any::<u128>(), b in any::<u128>(), c in 1u128..u128::MAX) {
            // Check q×c + r == a×b in 256 bits whenever the quotient fits.
            if let Ok(q) = mul_div_floor(a, b, c) {
                let (hi, lo) = mul_wide(a, b);
                let (qh, ql) = mul_wide(q, c);
                // remainder = a×b − q×c must be < c
                let (rl, borrow) = lo.overflowing_sub(ql);
                let rh = hi.wrapping_sub(qh).wrapping_sub(borrow as u128);
                prop_assert_eq!(rh, 0);
                prop_assert!(rl < c);
                let ceil = mul_div_ceil(a, b, c).unwrap();
                prop_assert_eq!(ceil, if rl == 0 { q } else { q + 1 });
            } else {
                let (hi, _) = mul_wide(a, b);
                prop_assert!(hi >= c);
            }
        }
    }
}
