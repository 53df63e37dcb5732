/**
 * The program's exit arithmetic, in bigint: exact ports of `programs/ballast-math` (the management fee's
 * `e^x − 1`, the supply after accrual, the in-kind pieces) and of the reference AMM's swap output.
 */
import { BN } from "@anchor-lang/core";
import { Vault } from "./program";

const U64_MAX = (1n << 64n) - 1n;
export const BPS = 10_000n;
/** The locked first shares, outside the fee base (`math::LOCKED_SHARES`). */
export const LOCKED_SHARES = 1_000_000n;
/** 1.0 in the 1e18 fixed point of `math::fees`. */
const ONE = 10n ** 18n;
const LN2_CEIL = 693_147_180_559_945_310n;
const MAX_EXP_ARG = 40n * ONE;
const SECONDS_PER_YEAR = 31_536_000n;

export const big = (n: BN | number | bigint) => BigInt(n.toString());

/** `e^x − 1` for `0 ≤ x ≤ 40` (1e18 fixed point), never above the true value (`math::fees::expm1_floor`). */
export function expm1Floor(x: bigint): bigint {
  if (x < 0n || x > MAX_EXP_ARG) throw new Error(`expm1Floor: ${x} out of range`);
  const k = x / LN2_CEIL;
  const r = x - k * LN2_CEIL;
  let [sum, term, n] = [ONE, ONE, 1n];
  while (term > 0n) {
    term = (term * r) / (ONE * n);
    sum += term;
    n += 1n;
  }
  return (sum << k) - ONE;
}

/** Management fee shares for `dt` seconds at `bps` a year on `base` shares: `base · (e^(r·dt) − 1)`, rounded
 * down (`math::fees::management_fee_shares`). */
export function managementFeeShares(base: bigint, bps: number, dt: bigint): bigint {
  if (base === 0n || bps === 0 || dt <= 0n) return 0n;
  let x = (BigInt(bps) * dt * ONE) / (BPS * SECONDS_PER_YEAR);
  if (x > MAX_EXP_ARG) x = MAX_EXP_ARG;
  return (base * expm1Floor(x)) / ONE;
}

/** The shares outstanding once the running fees are accrued up to unix time `now` without prices, as the
 * first step of `withdraw` and `request_withdraw` does: `minted` (the share mint's supply) plus the fee
 * shares owed, plus the management fee since the last accrual (`Vault::supply_after_accrual`). */
export function supplyAfterAccrual(vault: Vault, minted: bigint, now: number | bigint): bigint {
  const supply = minted + big(vault.fees.pendingShares);
  const last = big(vault.fees.lastAccrual);
  const elapsed = BigInt(now) - last;
  const dt = last === 0n || supply === 0n || elapsed < 0n ? 0n : elapsed;
  const base = supply > LOCKED_SHARES ? supply - LOCKED_SHARES : 0n;
  const fee = managementFeeShares(base, vault.params.fees.managementBps, dt);
  const room = U64_MAX - supply;
  return supply + (fee < room ? fee : room);
}

/** Of `amount` set vesting at `from`, what still vests at `now` when it vests linearly until `until`
 * (`math::vesting_left`: rounded up, all of it before `from`, nothing from `until` on). */
export function vestingLeft(amount: bigint, from: number, until: number, now: number): bigint {
  if (amount === 0n || now >= until) return 0n;
  if (now <= from) return amount;
  const left = BigInt(until - now);
  const span = BigInt(until - from);
  return (amount * left + span - 1n) / span;
}

/** What the vault holds for its holders at unix time `now`: each reserve balance minus what it owes to
 * claims (`owed`), what escrowed deposits hold in it (`pendingIn`) and the flows' charges still vesting
 * (`vesting` from `vestingFrom` until `vestingUntil`), in vault order (`Vault::available_balances`). */
export function availableBalances(vault: Vault, reserveBalances: bigint[], now: number): bigint[] {
  return vault.assets.map((a, i) => {
    const vesting = vestingLeft(big(a.vesting), Number(big(a.vestingFrom)), Number(big(a.vestingUntil)), now);
    const available = reserveBalances[i] - big(a.owed) - big(a.pendingIn) - vesting;
    if (available < 0n) throw new Error(`reserve ${i} holds less than it owes`);
    return available;
  });
}

/** What burning `shares` of `supply` pays in kind: `floor(shares × available_i / supply)` per asset, less the
 * exit fee (`exitBps`, rounded in the vault's favour): `withdraw`'s own arithmetic. */
export function inKindAmountsOut(shares: bigint, available: bigint[], supply: bigint, exitBps: number): bigint[] {
  if (shares > supply) throw new Error(`${shares} shares exceed the ${supply} outstanding`);
  return available.map((b) => (((shares * b) / supply) * (BPS - BigInt(exitBps))) / BPS);
}

/** Output of an exact-in swap through a reference-AMM pool: `r_out × in' / (r_in + in')` with `in' = in ×
 * (1 − fee)`, rounded down (`ballast_amm::math::swap_out`). */
export function ammSwapOut(reserveIn: bigint, reserveOut: bigint, feeBps: number, amountIn: bigint): bigint {
  const inAfterFee = amountIn * (BPS - BigInt(feeBps));
  const den = reserveIn * BPS + inAfterFee;
  if (den === 0n) throw new Error("ammSwapOut: empty pool");
  return (reserveOut * inAfterFee) / den;
}
