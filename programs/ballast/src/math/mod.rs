//! Pure rebalancing math shared by the program, the keeper and the simulator.
//!
//! Nothing in this module knows about Anchor, accounts, clocks or CPIs: every function takes plain
//! integers and returns a `MathResult`. The program maps `MathError` into its error enum; off-chain
//! code uses the same functions directly, so on-chain and off-chain decisions never diverge.
//!
//! Units used throughout:
//! - token amounts are raw base units (`u64`), as held in token accounts;
//! - values are **micro-USD** (`u128`, 1e-6 USD), see [`VALUE_DECIMALS`];
//! - weights, bands and caps are basis points (`u16`/`u64`, 10 000 = 100 %);
//! - prices are Pyth-style `mantissa × 10^expo` USD per whole token.

pub mod adaptive;
pub mod fixed;
pub mod portfolio;
pub mod price;
pub mod rebalance;
pub mod shares;

pub use fixed::{mul_div_ceil, mul_div_floor, Rounding};
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
    /// An exponent or decimals value outside the supported range.
    ExponentOutOfRange,
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
    u64::try_from(x).map_err(|_| MathError::Overflow)
}

/// `10^exp` as u128 (exp ≤ 38).
pub fn pow10(exp: u32) -> MathResult<u128> {
    10u128.checked_pow(exp).ok_or(MathError::Overflow)
}
