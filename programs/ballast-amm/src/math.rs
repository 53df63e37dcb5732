//! Pure constant-product math, shared with off-chain code (keeper cost estimates, simulator).

/// Output of an exact-in swap: `out = r_out × in' / (r_in + in')` with `in' = in × (1 − fee)`,
/// rounded down (in the pool's favour). `None` on overflow.
pub fn swap_out(reserve_in: u64, reserve_out: u64, fee_bps: u16, amount_in: u64) -> Option<u64> {
    let in_after_fee = (amount_in as u128).checked_mul(10_000u128.checked_sub(fee_bps as u128)?)?;
    let num = (reserve_out as u128).checked_mul(in_after_fee)?;
    let den = (reserve_in as u128).checked_mul(10_000)?.checked_add(in_after_fee)?;
    if den == 0 {
        return None;
    }
    u64::try_from(num / den).ok()
}

/// `floor(part × total / supply)`.
pub fn pro_rata(part: u64, total: u64, supply: u64) -> Option<u64> {
    if supply == 0 {
        return None;
    }
    u64::try_from(part as u128 * total as u128 / supply as u128).ok()
}

/// Integer square root (floor).
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let mut x = 1u128 << ((128 - n.leading_zeros()).div_ceil(2));
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// LP minted and amounts taken for a deposit of at most (max_a, max_b). The first deposit takes both
/// amounts and mints `sqrt(a × b)`; later ones follow the pool's proportions, rounding for the pool.
pub fn liquidity_in(ra: u64, rb: u64, supply: u64, max_a: u64, max_b: u64) -> Option<(u64, u64, u64)> {
    if supply == 0 || ra == 0 || rb == 0 {
        let lp = u64::try_from(isqrt(max_a as u128 * max_b as u128)).ok()?;
        return Some((lp, max_a, max_b));
    }
    let lp_a = max_a as u128 * supply as u128 / ra as u128;
    let lp_b = max_b as u128 * supply as u128 / rb as u128;
    let lp = lp_a.min(lp_b);
    let a = (lp * ra as u128).div_ceil(supply as u128);
    let b = (lp * rb as u128).div_ceil(supply as u128);
    Some((u64::try_from(lp).ok()?, u64::try_from(a).ok()?, u64::try_from(b).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_examples() {
        // 1000/1000 pool, no fee: 100 in → floor(1000×100/1100) = 90.
        assert_eq!(swap_out(1_000, 1_000, 0, 100), Some(90));
        // 30 bps fee: in' = 99.7 → floor(1000×99.7/1099.7) = 90.
        assert_eq!(swap_out(1_000, 1_000, 30, 100), Some(90));
        assert_eq!(swap_out(1_000_000, 1_000_000, 30, 1_000), Some(996));
        assert_eq!(swap_out(0, 0, 0, 0), None);
        // Beyond u128 intermediates the swap is refused rather than wrapped.
        assert_eq!(swap_out(u64::MAX, u64::MAX, 0, u64::MAX), None);
        assert_eq!(swap_out(u64::MAX / 4, 1 << 40, 0, u64::MAX / 4), Some(1 << 39));
    }

    #[test]
    fn k_never_falls() {
        for (ri, ro, fee, a) in
            [(1_000u64, 5_000u64, 30u16, 77u64), (10, 10, 0, 1), (u64::MAX / 3, 12_345, 100, 999_999)]
        {
            let out = swap_out(ri, ro, fee, a).unwrap();
            assert!((ri as u128 + a as u128) * (ro - out) as u128 >= ri as u128 * ro as u128);
        }
    }

    #[test]
    fn error_codes_round_trip() {
        for (i, e) in crate::AmmError::ALL.iter().enumerate() {
            assert_eq!(u32::from(*e), 7_000 + i as u32);
            assert_eq!(crate::AmmError::from_code(7_000 + i as u32).map(|x| x.name()), Some(e.name()));
        }
        assert!(crate::AmmError::from_code(6_999).is_none());
        assert!(crate::AmmError::from_code(7_000 + crate::AmmError::ALL.len() as u32).is_none());
    }

    #[test]
    fn sqrt_and_liquidity() {
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(15), 3);
        assert_eq!(isqrt(16), 4);
        assert_eq!(isqrt(u128::MAX), u64::MAX as u128);
        assert_eq!(liquidity_in(0, 0, 0, 100, 400), Some((200, 100, 400)));
        assert_eq!(liquidity_in(100, 400, 200, 10, 1_000), Some((20, 10, 40)));
    }
}
