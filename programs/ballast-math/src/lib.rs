//! Pure rebalancing math shared by the program, the keeper and the simulator (its own crate, so that
//! off-chain code can use it without the program and nothing here can reach for Anchor).
//!
//! Nothing in this crate knows about Anchor, accounts, clocks or CPIs: every function takes plain
//! integers and returns a `MathResult`. The program maps `MathError` into its error enum; off-chain
//! code uses the same functions directly, so on-chain and off-chain decisions never diverge.
//!
//! Units used throughout:
//! - token amounts are raw base units (`u64`), as held in token accounts;
//! - values are **micro-USD** (`u128`, 1e-6 USD), see [`VALUE_DECIMALS`];
//! - weights, bands and caps are basis points (`u16`/`u64`, 10 000 = 100 %);
//! - prices are Pyth-style `mantissa × 10^expo` USD per whole token.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation))]

pub mod adaptive;
pub mod auction;
pub mod exit;
pub mod fees;
pub mod fixed;
pub mod portfolio;
pub mod price;
pub mod rebalance;
pub mod shares;
pub mod sources;

pub use fixed::{mul_div_ceil, mul_div_floor, Rounding, U256};
pub use portfolio::*;
pub use price::*;
pub use shares::*;

/// 100 % in basis points.
pub const BPS: u64 = 10_000;
/// Values are expressed in units of 10^-VALUE_DECIMALS USD.
pub const VALUE_DECIMALS: u32 = 6;

/// Every way the pure math can refuse. Mapped one-to-one onto program errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathError {
    /// A result does not fit its integer type.
    Overflow,
    /// Division by zero (an empty vault, a zero price, a zero supply).
    DivideByZero,
    /// An oracle exponent outside the supported range.
    ExponentOutOfRange,
    /// Token decimals above `MAX_DECIMALS`.
    DecimalsOutOfRange,
    /// More shares to burn than exist.
    SharesExceedSupply,
    /// Input slices of different lengths.
    LengthMismatch,
}

pub type MathResult<T> = core::result::Result<T, MathError>;

/// Checked arithmetic helpers that return `MathError::Overflow` instead of wrapping or panicking.
pub trait SafeMath: Sized {
    fn safe_add(self, rhs: Self) -> MathResult<Self>;
    fn safe_sub(self, rhs: Self) -> MathResult<Self>;
    fn safe_mul(self, rhs: Self) -> MathResult<Self>;
    fn safe_div(self, rhs: Self) -> MathResult<Self>;
}

macro_rules! impl_safe_math {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[inline]
            fn safe_add(self, rhs: Self) -> MathResult<Self> { self.checked_add(rhs).ok_or(MathError::Overflow) }
            #[inline]
            fn safe_sub(self, rhs: Self) -> MathResult<Self> { self.checked_sub(rhs).ok_or(MathError::Overflow) }
            #[inline]
            fn safe_mul(self, rhs: Self) -> MathResult<Self> { self.checked_mul(rhs).ok_or(MathError::Overflow) }
            #[inline]
            fn safe_div(self, rhs: Self) -> MathResult<Self> {
                if rhs == 0 { return Err(MathError::DivideByZero); }
                self.checked_div(rhs).ok_or(MathError::Overflow)
            }
        }
    )*};
}
impl_safe_math!(u16, u32, u64, u128, i64, i128);

/// Narrowing conversion that fails instead of truncating.
pub fn to_u64(x: u128) -> MathResult<u64> {
    x.cast()
}

/// Narrowing integer conversions that fail with `MathError::Overflow` instead of truncating: the only way
/// the on-chain math narrows an integer (`x.cast::<u16>()?`); bare `as` narrowing is denied by clippy.
pub trait Cast: Sized + Copy {
    fn cast<T: TryFrom<Self>>(self) -> MathResult<T> {
        T::try_from(self).map_err(|_| MathError::Overflow)
    }
}

impl Cast for u128 {}
impl Cast for u64 {}
impl Cast for u32 {}
impl Cast for usize {}
impl Cast for i128 {}
impl Cast for i64 {}

/// Integer square root (floor), digit by digit: `r` with `r² ≤ n < (r + 1)²`.
pub fn isqrt(n: u128) -> u64 {
    let mut rem = n;
    let mut root: u128 = 0;
    let mut bit: u128 = 1 << 126;
    while bit > rem {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    // root < 2^64 for any u128.
    u64::try_from(root).unwrap_or(u64::MAX)
}

/// `10^exp` as u128 (exp ≤ 38).
pub fn pow10(exp: u32) -> MathResult<u128> {
    10u128.checked_pow(exp).ok_or(MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn casts_refuse_to_truncate() {
        assert_eq!(300u64.cast::<u16>(), Ok(300));
        assert_eq!(70_000u64.cast::<u16>(), Err(MathError::Overflow));
        assert_eq!((u64::MAX as u128 + 1).cast::<u64>(), Err(MathError::Overflow));
        assert_eq!(isqrt(u128::MAX), u64::MAX);
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(99), 9);
    }

    proptest! {
        #[test]
        fn isqrt_is_the_floor_root(n in any::<u128>()) {
            let r = isqrt(n) as u128;
            prop_assert!(r * r <= n);
            prop_assert!((r + 1).checked_mul(r + 1).is_none_or(|sq| sq > n));
        }
    }
}
