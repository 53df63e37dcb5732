/**
 * @ballast/client: the ballast vault program from TypeScript, on `@anchor-lang/core` and the IDL the
 * program builds (`idl/ballast.json`, typed by `idl/ballast.ts`).
 *
 * - `pda`: every program-derived address (seeds as in `programs/ballast/src/constants.rs`);
 * - `BallastClient`: typed builders for every instruction. Each returns Anchor's method builder, so the
 *   caller picks `.rpc()` (send and confirm over the websocket), `.instruction()` or `.transaction()`;
 * - `proposalTransaction`: a governance instruction as an unsigned, serialized transaction, the form a
 *   multisig (e.g. the Squads UI's transaction import) takes;
 * - account fetching/decoding and event decoding (`decodeEvents`, `eventsNamed`, `onEvent`);
 * - single-asset withdrawals (`requestWithdraw`, `settleWithdraw`, `cancelWithdraw`) and the composed exit
 *   to one token (`exitTo`: an in-kind withdrawal, a swap of each other piece through the vault's
 *   whitelisted reference-AMM pools and `assertMinBalance` last, so the whole exit has one minimum), with
 *   the program's own quoting arithmetic (`supplyAfterAccrual`, `inKindAmountsOut`, `ammSwapOut`).
 */
import { AnchorProvider, BN, BorshCoder, EventParser, Program, convertIdlToCamelCase } from "@anchor-lang/core";
import type { IdlAccounts, IdlEvents, IdlTypes } from "@anchor-lang/core";
import {
  AccountMeta, Connection, PublicKey, SYSVAR_CLOCK_PUBKEY, SystemProgram, Transaction, TransactionInstruction,
} from "@solana/web3.js";
import ballastIdl from "../../../idl/ballast.json";
import ammIdl from "../../../idl/ballast_amm.json";
import type { Ballast } from "../../../idl/ballast";

export type { Ballast };
export const IDL: Ballast = ballastIdl as unknown as Ballast;
export const PROGRAM_ID = new PublicKey(ballastIdl.address);
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const TOKEN_2022_PROGRAM_ID = new PublicKey("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

export type Vault = IdlAccounts<Ballast>["vault"];
export type DepositRequest = IdlAccounts<Ballast>["depositRequest"];
export type WithdrawRequest = IdlAccounts<Ballast>["withdrawRequest"];
export type Claim = IdlAccounts<Ballast>["claim"];
export type VaultParams = IdlTypes<Ballast>["vaultParams"];
export type AssetParams = IdlTypes<Ballast>["assetParams"];
export type AmmEntry = IdlTypes<Ballast>["ammEntry"];
export type BallastEvents = IdlEvents<Ballast>;
export type EventName = keyof BallastEvents;

/** Pause flags (`programs/ballast/src/state/vault.rs`, module `pause`). `EXITS` stops single-asset withdrawals
 * (requests and settlements); in-kind `withdraw` and `cancelWithdraw` are never paused. */
export const PAUSE = { DEPOSITS: 1, REBALANCE: 2, GOVERNANCE: 4, EXITS: 8, ALL: 15 } as const;

const seed = (s: string) => Buffer.from(s, "utf8");
const find = (seeds: Buffer[], programId = PROGRAM_ID) => PublicKey.findProgramAddressSync(seeds, programId)[0];
const u64le = (n: BN | number | bigint) => new BN(n.toString()).toArrayLike(Buffer, "le", 8);

/** Program-derived addresses of ballast. */
export const pda = {
  vault: (creator: PublicKey, vaultId: BN | number | bigint) => find([seed("vault"), creator.toBuffer(), u64le(vaultId)]),
  shareMint: (vault: PublicKey) => find([seed("shares"), vault.toBuffer()]),
  lockedShares: (vault: PublicKey) => find([seed("locked_shares"), vault.toBuffer()]),
  reserve: (vault: PublicKey, mint: PublicKey) => find([seed("reserve"), vault.toBuffer(), mint.toBuffer()]),
  claim: (vault: PublicKey, owner: PublicKey) => find([seed("claim"), vault.toBuffer(), owner.toBuffer()]),
  depositRequest: (vault: PublicKey, depositor: PublicKey) =>
    find([seed("deposit_request"), vault.toBuffer(), depositor.toBuffer()]),
  /** One open single-asset withdrawal per owner and vault. */
  withdrawRequest: (vault: PublicKey, owner: PublicKey) =>
    find([seed("withdraw_request"), vault.toBuffer(), owner.toBuffer()]),
  /** The vault-owned share account holding a withdrawal request's escrowed shares. */
  withdrawEscrow: (request: PublicKey) => find([seed("withdraw_escrow"), request.toBuffer()]),
};

/** The associated token account of `owner` for `mint` under `tokenProgram`. */
export function ata(owner: PublicKey, mint: PublicKey, tokenProgram: PublicKey = TOKEN_PROGRAM_ID): PublicKey {
  return find([owner.toBuffer(), tokenProgram.toBuffer(), mint.toBuffer()], ASSOCIATED_TOKEN_PROGRAM_ID);
}

/** `[mint, reserve, user]` per asset, as `deposit` and `withdraw` take them. */
export function transferLegs(vault: Vault, userAccounts: PublicKey[]): AccountMeta[] {
  if (userAccounts.length !== vault.assets.length) {
    throw new Error(`expected ${vault.assets.length} token accounts (one per asset), got ${userAccounts.length}`);
  }
  return vault.assets.flatMap((a, i) => [
    { pubkey: a.mint, isSigner: false, isWritable: false },
    { pubkey: a.reserve, isSigner: false, isWritable: true },
    { pubkey: userAccounts[i], isSigner: false, isWritable: true },
  ]);
}

/** `[oracle, reserve]` per asset, as `request_deposit`, `settle_deposit`, `rebalance` and `poke` take them. */
export function valuationAccounts(vault: Vault): AccountMeta[] {
  return vault.assets.flatMap((a) => [
    { pubkey: a.oracle, isSigner: false, isWritable: false },
    { pubkey: a.reserve, isSigner: false, isWritable: false },
  ]);
}

/** The share accounts of the fee recipients with a weight, in order, as `propose_params` and
 * `execute_params` take them. */
export function feeRecipientAccounts(fees: VaultParams["fees"]): AccountMeta[] {
  return fees.recipients
    .filter((r) => r.weightBps > 0)
    .map((r) => ({ pubkey: r.account, isSigner: false, isWritable: false }));
}

/** The reference AMM, Raydium CPMM and Orca Whirlpools: the programs ballast has adapters for (and reads as
 * price sources). */
export const AMM_PROGRAMS = {
  reference: new PublicKey(ammIdl.address),
  raydiumCpmm: new PublicKey("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"),
  orcaWhirlpool: new PublicKey("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"),
};

/** The whitelisted pools the program reads as a second price source when the vault's `poolPriceBound` is
 * on, in whitelist order, that `wanted(a, b)` selects by their assets' indices (`Vault::price_pools`). */
export function pricePools(vault: Vault, wanted: (a: number, b: number) => boolean): AmmEntry[] {
  if (!vault.params.poolPriceBound) return [];
  const index = (m: PublicKey) => vault.assets.findIndex((a) => a.mint.equals(m));
  const supported = Object.values(AMM_PROGRAMS);
  return vault.amms.filter((e) => {
    const [a, b] = [index(e.mintA), index(e.mintB)];
    return supported.some((p) => p.equals(e.programId)) && a >= 0 && b >= 0 && wanted(a, b);
  });
}

/** Each pool, then for a constant-product pool its vaults of mint a and mint b (PDAs `["pool_vault", pool,
 * mint]` of the reference AMM and of Raydium CPMM): how the program reads pools as prices. */
export function poolPriceAccounts(pools: AmmEntry[]): AccountMeta[] {
  return pools.flatMap((e) => {
    const meta = (pubkey: PublicKey) => ({ pubkey, isSigner: false, isWritable: false });
    if (e.programId.equals(AMM_PROGRAMS.orcaWhirlpool)) return [meta(e.pool)];
    const vault = (mint: PublicKey) => find([seed("pool_vault"), e.pool.toBuffer(), mint.toBuffer()], e.programId);
    return [meta(e.pool), meta(vault(e.mintA)), meta(vault(e.mintB))];
  });
}

/** `[oracle, reserve]` per asset, then the price accounts of the pools trading asset `index`: what
 * `request_deposit`, `settle_deposit`, `request_withdraw` and `settle_withdraw` take. */
export function depositValuationAccounts(vault: Vault, index: number): AccountMeta[] {
  return [...valuationAccounts(vault), ...poolPriceAccounts(pricePools(vault, (a, b) => a === index || b === index))];
}

/** `[oracle, reserve]` per asset, then the price accounts of the pools of the pair: what `rebalance` (before
 * its adapter's accounts) and `rebalance_begin` take. */
export function tradeValuationAccounts(vault: Vault, sell: number, buy: number): AccountMeta[] {
  const pair = (a: number, b: number) => (a === sell && b === buy) || (a === buy && b === sell);
  return [...valuationAccounts(vault), ...poolPriceAccounts(pricePools(vault, pair))];
}

/** The holder's associated token accounts for every asset of `vault`. */
export function userTokenAccounts(vault: Vault, owner: PublicKey): PublicKey[] {
  return vault.assets.map((a) => ata(owner, a.mint, a.tokenProgram));
}

/** A governance instruction as an unsigned legacy transaction (base64), paid by `feePayer` (usually the
 * multisig vault itself): what a multisig's "import transaction" takes. */
export function proposalTransaction(ix: TransactionInstruction, feePayer: PublicKey, recentBlockhash: string): string {
  const tx = new Transaction({ feePayer, recentBlockhash }).add(ix);
  return tx.serialize({ requireAllSignatures: false, verifySignatures: false }).toString("base64");
}

/** Every ballast event in the logs of one transaction, named and shaped as `Program` names them
 * (camelCase: `depositEvent`, `rebalanceEvent`, with camelCase fields). */
export function decodeEvents(logs: string[]): { name: string; data: any }[] {
  const parser = new EventParser(PROGRAM_ID, new BorshCoder(convertIdlToCamelCase(IDL as any)));
  return [...parser.parseLogs(logs)];
}

/** The events named `name` in the logs of one transaction, typed (e.g. `eventsNamed(logs,
 * "withdrawSettledEvent")[0].amountReceived`). */
export function eventsNamed<E extends EventName>(logs: string[], name: E): BallastEvents[E][] {
  return decodeEvents(logs).filter((e) => e.name === name).map((e) => e.data as BallastEvents[E]);
}

/** Value (micro-USD) and weights of a vault from its own last oracle prices and reserve balances. */
export function valuation(vault: Vault, reserveBalances: bigint[]): { values: bigint[]; nav: bigint; weightsBps: number[] } {
  const values = vault.assets.map((a, i) => {
    const price = BigInt(a.lastPrice.toString());
    const expo = a.lastExpo;
    const holdings = reserveBalances[i] - BigInt(a.owed.toString()) - BigInt(a.pendingIn.toString());
    // value = holdings / 10^decimals × price × 10^expo, in micro-USD (10^6).
    const scale = 6 + expo - a.decimals;
    const raw = holdings * price;
    return scale >= 0 ? raw * 10n ** BigInt(scale) : raw / 10n ** BigInt(-scale);
  });
  const nav = values.reduce((s, v) => s + v, 0n);
  const weightsBps = values.map((v) => (nav === 0n ? 0 : Number((v * 10_000n) / nav)));
  return { values, nav, weightsBps };
}

// ---- the program's exit arithmetic, in bigint (exact ports of `programs/ballast-math` and the reference AMM) ----

const U64_MAX = (1n << 64n) - 1n;
const BPS = 10_000n;
/** The locked first shares, outside the fee base (`math::LOCKED_SHARES`). */
export const LOCKED_SHARES = 1_000_000n;
/** 1.0 in the 1e18 fixed point of `math::fees`. */
const ONE = 10n ** 18n;
const LN2_CEIL = 693_147_180_559_945_310n;
const MAX_EXP_ARG = 40n * ONE;
const SECONDS_PER_YEAR = 31_536_000n;

const big = (n: BN | number | bigint) => BigInt(n.toString());

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

/** What the vault holds for its holders: each reserve balance minus what it owes to claims (`owed`) and
 * what escrowed deposits hold in it (`pendingIn`), in vault order (`Vault::available_balances`). */
export function availableBalances(vault: Vault, reserveBalances: bigint[]): bigint[] {
  return vault.assets.map((a, i) => {
    const available = reserveBalances[i] - big(a.owed) - big(a.pendingIn);
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

/** A reference-AMM pool account (`ballast_amm::Pool`). */
export interface ReferencePool {
  mintA: PublicKey;
  mintB: PublicKey;
  vaultA: PublicKey;
  vaultB: PublicKey;
  lpMint: PublicKey;
  feeBps: number;
}

const POOL_DISCRIMINATOR = Buffer.from(ammIdl.accounts.find((a) => a.name === "Pool")!.discriminator);
const SWAP_DISCRIMINATOR = Buffer.from(ammIdl.instructions.find((i) => i.name === "swap")!.discriminator);

/** Decodes a reference-AMM pool account (checks the discriminator). */
export function decodeReferencePool(data: Buffer): ReferencePool {
  if (data.length < 8 + 5 * 32 + 3 || !data.subarray(0, 8).equals(POOL_DISCRIMINATOR)) {
    throw new Error("not a reference-AMM pool account");
  }
  const key = (i: number) => new PublicKey(data.subarray(8 + 32 * i, 8 + 32 * (i + 1)));
  return { mintA: key(0), mintB: key(1), vaultA: key(2), vaultB: key(3), lpMint: key(4), feeBps: data.readUInt16LE(8 + 160) };
}

/** The reference AMM's `swap`: exactly `amountIn` from `userSource` for at least `minOut` into
 * `userDestination` (`vaultIn`/`vaultOut`: the pool's vaults of the sold and the bought mint). */
export function referenceAmmSwap(a: {
  user: PublicKey; pool: PublicKey; vaultIn: PublicKey; vaultOut: PublicKey; mintIn: PublicKey; mintOut: PublicKey;
  userSource: PublicKey; userDestination: PublicKey; tokenProgramIn: PublicKey; tokenProgramOut: PublicKey;
  amountIn: BN | bigint; minOut: BN | bigint;
}): TransactionInstruction {
  const meta = (pubkey: PublicKey, isWritable = false, isSigner = false) => ({ pubkey, isSigner, isWritable });
  return new TransactionInstruction({
    programId: AMM_PROGRAMS.reference,
    keys: [
      meta(a.user, false, true), meta(a.pool), meta(a.vaultIn, true), meta(a.vaultOut, true), meta(a.mintIn),
      meta(a.mintOut), meta(a.userSource, true), meta(a.userDestination, true), meta(a.tokenProgramIn),
      meta(a.tokenProgramOut),
    ],
    data: Buffer.concat([SWAP_DISCRIMINATOR, u64le(a.amountIn), u64le(a.minOut)]),
  });
}

/** Creates `owner`'s associated token account for `mint` unless it exists (the associated token program's
 * `CreateIdempotent`). */
export function createAtaIdempotent(payer: PublicKey, owner: PublicKey, mint: PublicKey,
  tokenProgram: PublicKey = TOKEN_PROGRAM_ID): TransactionInstruction {
  return new TransactionInstruction({
    programId: ASSOCIATED_TOKEN_PROGRAM_ID,
    keys: [
      { pubkey: payer, isSigner: true, isWritable: true },
      { pubkey: ata(owner, mint, tokenProgram), isSigner: false, isWritable: true },
      { pubkey: owner, isSigner: false, isWritable: false },
      { pubkey: mint, isSigner: false, isWritable: false },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: tokenProgram, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([1]),
  });
}

/** The token amount of an SPL Token or Token-2022 account's data (`amount` at byte 64). */
const tokenAmount = (data: Buffer) => data.readBigUInt64LE(64);
/** The supply of a mint's data (byte 36). */
const mintSupply = (data: Buffer) => data.readBigUInt64LE(36);

/** One piece of a composed exit. */
export interface ExitSlice {
  index: number;
  mint: PublicKey;
  /** Base units of this asset the in-kind withdrawal pays at least (after the exit fee). */
  amount: bigint;
  /** What the piece brings in the chosen token: the amount itself for the chosen asset, the pool's exact
   * output for a swapped one, 0 for a piece left in the owner's account. */
  quote: bigint;
  /** `kept`: the chosen asset; `swapped` through `pool`; `dust`: nothing to swap or a swap that would pay 0
   * (left in the owner's account); `noRoute`: the vault whitelists no reference-AMM pool for the pair (left in
   * the owner's account). */
  route: "kept" | "swapped" | "dust" | "noRoute";
  pool?: PublicKey;
  feeBps?: number;
}

/** What `exitTo` quoted and the minimum its last instruction enforces. */
export interface ExitPreview {
  vault: PublicKey;
  owner: PublicKey;
  shares: bigint;
  toIndex: number;
  /** The unix time the management fee is accrued up to in the quote (the cluster clock plus the horizon). */
  accruedTo: number;
  /** The shares outstanding at that time (minted, owed and the management fee since the last accrual). */
  supply: bigint;
  exitFeeBps: number;
  slices: ExitSlice[];
  /** The pieces left in the owner's account (dust, no route). */
  left: ExitSlice[];
  /** Σ quote, in base units of the chosen token. */
  expectedOut: bigint;
  slippageBps: number;
  /** `floor(expectedOut × (10 000 − slippageBps) / 10 000)`. */
  minOut: bigint;
  destination: PublicKey;
  balanceBefore: bigint;
  /** What `assertMinBalance` requires of `destination`: `balanceBefore + minOut`. */
  minBalance: bigint;
  /** The size of the transaction the instructions make, signed by the owner alone (legacy; at most 1232). */
  txBytes: number;
}

/** Options of `exitTo`. */
export interface ExitOptions {
  /** The token account of the chosen asset that receives everything (default: the owner's associated one). */
  destination?: PublicKey;
  /** Pays the rent of the owner's associated token accounts that do not exist yet (default: the owner). */
  payer?: PublicKey;
  /** Seconds past the cluster clock the management fee is accrued to in the quote (default 90, about a
   * blockhash's life): the program accrues it first, so a later landing pays a little less; the quoted pieces
   * stay a floor if the transaction lands within this time. */
  horizonSecs?: number;
}

export class BallastClient {
  readonly program: Program<Ballast>;

  constructor(provider: AnchorProvider) {
    this.program = new Program<Ballast>(IDL, provider);
  }

  get connection(): Connection {
    return this.program.provider.connection;
  }

  // ---- accounts ----

  fetchVault(address: PublicKey): Promise<Vault> {
    return this.program.account.vault.fetch(address);
  }

  async vaults(): Promise<{ publicKey: PublicKey; account: Vault }[]> {
    return this.program.account.vault.all();
  }

  fetchDepositRequest(vault: PublicKey, depositor: PublicKey): Promise<DepositRequest | null> {
    return this.program.account.depositRequest.fetchNullable(pda.depositRequest(vault, depositor));
  }

  fetchClaim(vault: PublicKey, owner: PublicKey): Promise<Claim | null> {
    return this.program.account.claim.fetchNullable(pda.claim(vault, owner));
  }

  fetchWithdrawRequest(vault: PublicKey, owner: PublicKey): Promise<WithdrawRequest | null> {
    return this.program.account.withdrawRequest.fetchNullable(pda.withdrawRequest(vault, owner));
  }

  /** The open deposit requests of `vault` (`getProgramAccounts`: the account's discriminator, and the vault at
   * byte 8). */
  depositRequests(vault: PublicKey): Promise<{ publicKey: PublicKey; account: DepositRequest }[]> {
    return this.program.account.depositRequest.all([{ memcmp: { offset: 8, bytes: vault.toBase58() } }]);
  }

  /** The open single-asset withdrawal requests of `vault` (`getProgramAccounts`: the account's discriminator,
   * and the vault at byte 8): what a keeper settles once their delay passed. */
  withdrawRequests(vault: PublicKey): Promise<{ publicKey: PublicKey; account: WithdrawRequest }[]> {
    return this.program.account.withdrawRequest.all([{ memcmp: { offset: 8, bytes: vault.toBase58() } }]);
  }

  /** The cluster's unix time (the clock sysvar; the newest block's time if the node does not serve it). */
  async clusterTime(): Promise<number> {
    const clock = await this.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
    if (clock && clock.data.length >= 40) return Number(clock.data.readBigInt64LE(32));
    const time = await this.connection.getBlockTime(await this.connection.getSlot());
    return time ?? Math.floor(Date.now() / 1000);
  }

  /** Subscribes to one event type (over `logsSubscribe`); returns the listener id for `removeEventListener`. */
  onEvent<E extends EventName>(name: E, cb: (event: BallastEvents[E], slot: number, signature: string) => void): number {
    return this.program.addEventListener(name, cb);
  }

  removeEventListener(id: number): Promise<void> {
    return this.program.removeEventListener(id);
  }

  // ---- depositors ----

  /** In-kind deposit of up to `maxAmountsIn[i]` of every asset for at least `minSharesOut` shares. */
  deposit(vaultKey: PublicKey, vault: Vault, depositor: PublicKey, maxAmountsIn: BN[], minSharesOut: BN,
    userAccounts = userTokenAccounts(vault, depositor), depositorShares = ata(depositor, vault.shareMint)) {
    return this.program.methods
      .deposit({ maxAmountsIn, minSharesOut })
      .accountsPartial({
        depositor, vault: vaultKey, shareMint: vault.shareMint, depositorShares,
        tokenProgram: TOKEN_PROGRAM_ID, token2022Program: TOKEN_2022_PROGRAM_ID,
      })
      .remainingAccounts(transferLegs(vault, userAccounts));
  }

  /** An in-kind deposit as it must be sent: with a performance fee, `accrueFees` first in the same
   * transaction (the program takes an in-kind deposit only in the slot the fee was crystallised in, so it
   * never pays a fee on a gain made before it). */
  async depositWithFees(vaultKey: PublicKey, vault: Vault, depositor: PublicKey, maxAmountsIn: BN[], minSharesOut: BN,
    userAccounts = userTokenAccounts(vault, depositor), depositorShares = ata(depositor, vault.shareMint)) {
    const builder = this.deposit(vaultKey, vault, depositor, maxAmountsIn, minSharesOut, userAccounts, depositorShares);
    if (vault.params.fees.performanceBps === 0) return builder;
    return builder.preInstructions([await this.accrueFees(vaultKey, vault).instruction()]);
  }

  /** Single-asset deposit, step 1: escrow `amount` of asset `assetIndex`; shares come at settlement. */
  requestDeposit(vaultKey: PublicKey, vault: Vault, depositor: PublicKey, assetIndex: number, amount: BN,
    minSharesOut: BN, sharesDestination = ata(depositor, vault.shareMint)) {
    const asset = vault.assets[assetIndex];
    if (!asset) throw new Error(`asset index ${assetIndex} out of range (vault has ${vault.assets.length})`);
    return this.program.methods
      .requestDeposit({ assetIndex, amount, minSharesOut })
      .accountsPartial({
        depositor, vault: vaultKey, shareMint: vault.shareMint, request: pda.depositRequest(vaultKey, depositor),
        sharesDestination, mint: asset.mint, reserve: asset.reserve,
        depositorToken: ata(depositor, asset.mint, asset.tokenProgram), assetTokenProgram: asset.tokenProgram,
        systemProgram: SystemProgram.programId,
      })
      .remainingAccounts(depositValuationAccounts(vault, assetIndex));
  }

  /** Single-asset deposit, step 2 (anyone, once the settlement delay passed). */
  settleDeposit(vaultKey: PublicKey, vault: Vault, settler: PublicKey, request: DepositRequest) {
    return this.program.methods
      .settleDeposit()
      .accountsPartial({
        settler, vault: vaultKey, request: pda.depositRequest(vaultKey, request.depositor),
        depositor: request.depositor, shareMint: vault.shareMint, lockedShares: vault.lockedShares,
        sharesDestination: request.sharesDestination, tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(depositValuationAccounts(vault, request.assetIndex));
  }

  /** Refund of an expired deposit request. */
  cancelDeposit(vaultKey: PublicKey, vault: Vault, depositor: PublicKey, request: DepositRequest,
    refundTo?: PublicKey) {
    const asset = vault.assets[request.assetIndex];
    return this.program.methods
      .cancelDeposit()
      .accountsPartial({
        depositor, vault: vaultKey, request: pda.depositRequest(vaultKey, depositor), mint: asset.mint,
        reserve: asset.reserve, refundTo: refundTo ?? ata(depositor, asset.mint, asset.tokenProgram),
        assetTokenProgram: asset.tokenProgram,
      });
  }

  /** Burns `shares` for a pro-rata part of every reserve (assets in `skipMask` go to the owner's claim). */
  withdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, shares: BN, minAmountsOut: BN[], skipMask = 0,
    destinations = userTokenAccounts(vault, owner), ownerShares = ata(owner, vault.shareMint)) {
    return this.program.methods
      .withdraw({ shares, minAmountsOut, skipMask })
      .accountsPartial({
        owner, vault: vaultKey, shareMint: vault.shareMint, ownerShares,
        claim: skipMask !== 0 ? pda.claim(vaultKey, owner) : null,
        tokenProgram: TOKEN_PROGRAM_ID, token2022Program: TOKEN_2022_PROGRAM_ID,
      })
      .remainingAccounts(transferLegs(vault, destinations));
  }

  openClaim(vaultKey: PublicKey, payer: PublicKey, owner: PublicKey) {
    return this.program.methods
      .openClaim(owner)
      .accountsPartial({ payer, vault: vaultKey, claim: pda.claim(vaultKey, owner), systemProgram: SystemProgram.programId });
  }

  redeemClaim(vaultKey: PublicKey, vault: Vault, owner: PublicKey, assetIndex: number, destination?: PublicKey) {
    const asset = vault.assets[assetIndex];
    return this.program.methods
      .redeemClaim(assetIndex)
      .accountsPartial({
        owner, vault: vaultKey, claim: pda.claim(vaultKey, owner), mint: asset.mint, reserve: asset.reserve,
        destination: destination ?? ata(owner, asset.mint, asset.tokenProgram), assetTokenProgram: asset.tokenProgram,
      });
  }

  /** Single-asset withdrawal, step 1: escrow `shares` (they stay outstanding), quoted now; the payout in
   * asset `assetIndex` goes to `destination` at settlement, at least `minAmountOut` or the request cannot
   * settle (its shares come back with `cancelWithdraw` after expiry). Stopped by `PAUSE.EXITS`. */
  requestWithdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, assetIndex: number, shares: BN,
    minAmountOut: BN, destination?: PublicKey, ownerShares = ata(owner, vault.shareMint)) {
    const asset = vault.assets[assetIndex];
    if (!asset) throw new Error(`asset index ${assetIndex} out of range (vault has ${vault.assets.length})`);
    const request = pda.withdrawRequest(vaultKey, owner);
    return this.program.methods
      .requestWithdraw({ assetIndex, shares, minAmountOut })
      .accountsPartial({
        owner, vault: vaultKey, shareMint: vault.shareMint, request, escrow: pda.withdrawEscrow(request),
        ownerShares, mint: asset.mint, destination: destination ?? ata(owner, asset.mint, asset.tokenProgram),
        assetTokenProgram: asset.tokenProgram, tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
      })
      .remainingAccounts(depositValuationAccounts(vault, assetIndex));
  }

  /** Single-asset withdrawal, step 2 (anyone, once the settlement delay passed, on fresh readings): burns the
   * escrowed shares and pays the worse of the two quotes, less the fee and the trade charge, to the request's
   * destination; the request's and the escrow's rent go back to its owner. */
  settleWithdraw(vaultKey: PublicKey, vault: Vault, settler: PublicKey, request: WithdrawRequest) {
    const asset = vault.assets[request.assetIndex];
    const key = pda.withdrawRequest(vaultKey, request.owner);
    return this.program.methods
      .settleWithdraw()
      .accountsPartial({
        settler, vault: vaultKey, request: key, owner: request.owner, shareMint: vault.shareMint,
        escrow: pda.withdrawEscrow(key), mint: asset.mint, reserve: asset.reserve, destination: request.destination,
        assetTokenProgram: asset.tokenProgram, tokenProgram: TOKEN_PROGRAM_ID,
      })
      .remainingAccounts(depositValuationAccounts(vault, request.assetIndex));
  }

  /** After a withdrawal request's expiry, its escrowed shares go back to `sharesTo` (never paused). */
  cancelWithdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, sharesTo = ata(owner, vault.shareMint)) {
    const key = pda.withdrawRequest(vaultKey, owner);
    return this.program.methods
      .cancelWithdraw()
      .accountsPartial({
        owner, vault: vaultKey, request: key, shareMint: vault.shareMint, escrow: pda.withdrawEscrow(key),
        sharesTo, tokenProgram: TOKEN_PROGRAM_ID,
      });
  }

  /** A guard to put last in a composed transaction: it fails (`BalanceBelowMinimum`, 6131) unless
   * `tokenAccount` (SPL Token or Token-2022) then holds at least `minBalance`. */
  assertMinBalance(tokenAccount: PublicKey, minBalance: BN | bigint | number) {
    return this.program.methods.assertMinBalance(new BN(minBalance.toString())).accountsPartial({ tokenAccount });
  }

  /**
   * Leaves `vault` for one token: the instructions of one transaction, signed by `owner`, that
   * 1. create the owner's associated token accounts of the vault's assets that do not exist yet;
   * 2. withdraw `shares` in kind (never paused, no oracle) into the owner's associated token accounts (the
   *    chosen asset's piece into `destination`), with each swapped asset's minimum at the amount swapped, so
   *    a swap never spends what the owner held before (a piece that shrank since the quote fails the
   *    withdrawal with `AmountBelowMinimum`: quote again);
   * 3. swap every other asset's piece into asset `toIndex` through the vault's whitelisted reference-AMM pool
   *    of the pair (exactly the quoted piece in, no per-swap minimum);
   * 4. `assertMinBalance(destination, balanceBefore + minOut)`: one overall minimum, `minOut = Σ quote ×
   *    (1 − slippageBps / 10 000)` over every piece, the chosen asset's own included. Below it the whole
   *    transaction fails and nothing moves.
   *
   * The quote uses the program's own arithmetic on one snapshot of the accounts (`getMultipleAccounts`): the
   * in-kind pieces are pro-rata of the available reserves (reserve − `pendingIn` − `owed`) over the shares
   * outstanding (minted + `fees.pendingShares`), less the exit fee, rounded down; the management fee the
   * withdrawal accrues first is mirrored exactly (`supplyAfterAccrual`) up to the cluster clock plus
   * `horizonSecs`, so each quoted piece is at most what the withdrawal pays if the transaction lands within
   * that time and the reserves do not move (a surplus stays in the owner's account). Swap outputs are the
   * reference AMM's exact constant-product output on the pools' current vault balances. Pieces that quote 0
   * (dust) or have no whitelisted reference pool are reported in `preview.left` and stay in the owner's
   * account. Raydium CPMM and Orca pools are not routed through.
   */
  async exitTo(vaultKey: PublicKey, owner: PublicKey, shares: BN | bigint, toIndex: number, slippageBps: number,
    opts: ExitOptions = {}): Promise<{ instructions: TransactionInstruction[]; preview: ExitPreview }> {
    if (!Number.isInteger(slippageBps) || slippageBps < 0 || slippageBps > 10_000) {
      throw new Error(`slippageBps ${slippageBps} not in 0..=10000`);
    }
    const first = await this.fetchVault(vaultKey);
    const n = first.assets.length;
    const to = first.assets[toIndex];
    if (!to) throw new Error(`asset index ${toIndex} out of range (vault has ${n})`);
    const sharesIn = big(shares);
    if (sharesIn <= 0n) throw new Error("shares must be positive");
    const destination = opts.destination ?? ata(owner, to.mint, to.tokenProgram);
    // The in-kind legs: the owner's associated token accounts, the chosen asset's piece straight to `destination`.
    const userAccounts = userTokenAccounts(first, owner).map((u, i) => (i === toIndex ? destination : u));
    // The reference pool of every (asset, chosen asset) pair the vault whitelists, and its two vaults.
    const routes = first.assets.map((a, i) => {
      if (i === toIndex) return undefined;
      const entry = first.amms.find((e) => e.programId.equals(AMM_PROGRAMS.reference)
        && ((e.mintA.equals(a.mint) && e.mintB.equals(to.mint)) || (e.mintA.equals(to.mint) && e.mintB.equals(a.mint))));
      if (!entry) return undefined;
      const poolVault = (mint: PublicKey) =>
        find([seed("pool_vault"), entry.pool.toBuffer(), mint.toBuffer()], AMM_PROGRAMS.reference);
      return { pool: entry.pool, vaultIn: poolVault(a.mint), vaultOut: poolVault(to.mint) };
    });
    // One snapshot: the vault again, the share mint, the reserves, the owner's accounts, the pools and their
    // vaults, the clock.
    const keys: PublicKey[] = [
      vaultKey, first.shareMint, ...first.assets.map((a) => a.reserve), ...userAccounts,
      ...routes.flatMap((r) => (r ? [r.pool, r.vaultIn, r.vaultOut] : [])), SYSVAR_CLOCK_PUBKEY,
    ];
    const infos = await this.connection.getMultipleAccountsInfo(keys);
    const at = (i: number) => infos[i];
    const need = (i: number, what: string) => {
      const info = at(i);
      if (!info) throw new Error(`${what} ${keys[i].toBase58()} not found`);
      return info.data;
    };
    const vault = this.program.coder.accounts.decode<Vault>("vault", need(0, "vault"));
    if (vault.assets.length !== n) throw new Error("the vault's assets changed while quoting: try again");
    const minted = mintSupply(need(1, "share mint"));
    const reserves = vault.assets.map((_, i) => tokenAmount(need(2 + i, `reserve ${i}`)));
    const userExists = userAccounts.map((_, i) => at(2 + n + i) !== null);
    const destinationInfo = at(2 + n + toIndex);
    const balanceBefore = destinationInfo ? tokenAmount(destinationInfo.data) : 0n;
    let cursor = 2 + 2 * n;
    const pools = routes.map((r) => {
      if (!r) return undefined;
      const pool = decodeReferencePool(need(cursor, "pool"));
      const reserveIn = tokenAmount(need(cursor + 1, "pool vault"));
      const reserveOut = tokenAmount(need(cursor + 2, "pool vault"));
      cursor += 3;
      return { ...r, feeBps: pool.feeBps, reserveIn, reserveOut };
    });
    const clock = at(cursor);
    const now = clock && clock.data.length >= 40 ? Number(clock.data.readBigInt64LE(32)) : await this.clusterTime();
    const accruedTo = now + (opts.horizonSecs ?? 90);

    // The in-kind pieces, as `withdraw` computes them after accruing the management fee.
    const supply = supplyAfterAccrual(vault, minted, accruedTo);
    const exitFeeBps = vault.params.fees.exitBps;
    const amounts = inKindAmountsOut(sharesIn, availableBalances(vault, reserves), supply, exitFeeBps);
    if (amounts.every((a) => a === 0n)) throw new Error(`${sharesIn} shares withdraw nothing`);

    const instructions: TransactionInstruction[] = [];
    const payer = opts.payer ?? owner;
    vault.assets.forEach((a, i) => {
      if (userExists[i] || (amounts[i] === 0n && i !== toIndex)) return;
      if (!userAccounts[i].equals(ata(owner, a.mint, a.tokenProgram))) {
        throw new Error(`destination ${userAccounts[i].toBase58()} does not exist`);
      }
      instructions.push(createAtaIdempotent(payer, owner, a.mint, a.tokenProgram));
    });
    const swaps: TransactionInstruction[] = [];
    const slices: ExitSlice[] = vault.assets.map((a, i) => {
      const amount = amounts[i];
      if (i === toIndex) return { index: i, mint: a.mint, amount, quote: amount, route: "kept" };
      const p = pools[i];
      if (!p) return { index: i, mint: a.mint, amount, quote: 0n, route: "noRoute" };
      const quote = amount > 0n && p.reserveIn > 0n && p.reserveOut > 0n
        ? ammSwapOut(p.reserveIn, p.reserveOut, p.feeBps, amount) : 0n;
      const slice: ExitSlice = { index: i, mint: a.mint, amount, quote, route: quote > 0n ? "swapped" : "dust", pool: p.pool, feeBps: p.feeBps };
      if (quote > 0n) {
        swaps.push(referenceAmmSwap({
          user: owner, pool: p.pool, vaultIn: p.vaultIn, vaultOut: p.vaultOut, mintIn: a.mint, mintOut: to.mint,
          userSource: userAccounts[i], userDestination: destination, tokenProgramIn: a.tokenProgram,
          tokenProgramOut: to.tokenProgram, amountIn: amount, minOut: 0n,
        }));
      }
      return slice;
    });
    const minAmountsOut = slices.map((x) => new BN(x.route === "swapped" ? x.amount.toString() : 0));
    instructions.push(await this.withdraw(vaultKey, vault, owner, new BN(sharesIn.toString()), minAmountsOut, 0,
      userAccounts).instruction(), ...swaps);
    const expectedOut = slices.reduce((s, x) => s + x.quote, 0n);
    const minOut = (expectedOut * (BPS - BigInt(slippageBps))) / BPS;
    const minBalance = balanceBefore + minOut;
    instructions.push(await this.assertMinBalance(destination, minBalance).instruction());
    const txBytes = new Transaction({ feePayer: owner, recentBlockhash: PublicKey.default.toBase58() })
      .add(...instructions).serialize({ requireAllSignatures: false, verifySignatures: false }).length;
    return {
      instructions,
      preview: {
        vault: vaultKey, owner, shares: sharesIn, toIndex, accruedTo, supply, exitFeeBps, slices,
        left: slices.filter((x) => x.amount > 0n && (x.route === "dust" || x.route === "noRoute")), expectedOut, slippageBps, minOut,
        destination, balanceBefore, minBalance, txBytes,
      },
    };
  }

  // ---- keepers ----

  /** Refreshes oracle readings and volatility estimates (anyone). */
  poke(vaultKey: PublicKey, vault: Vault) {
    return this.program.methods
      .poke()
      .accountsPartial({ vault: vaultKey, shareMint: vault.shareMint })
      .remainingAccounts(valuationAccounts(vault));
  }

  /** Accrues the management and performance fees on fresh readings and mints the fee shares owed into the
   * recipients' share accounts (anyone; the vault's operator usually). */
  accrueFees(vaultKey: PublicKey, vault: Vault) {
    const recipients = vault.params.fees.recipients
      .filter((r) => r.weightBps > 0)
      .map((r) => ({ pubkey: r.account, isSigner: false, isWritable: true }));
    return this.program.methods
      .accrueFees()
      .accountsPartial({ vault: vaultKey, shareMint: vault.shareMint })
      .remainingAccounts([...valuationAccounts(vault), ...recipients]);
  }

  /** A direct rebalance through a whitelisted reference-AMM pool (`poolVaultIn`/`Out`: the pool's token
   * accounts of the sold and the bought mint). */
  rebalance(vaultKey: PublicKey, vault: Vault, keeper: PublicKey, args: { sellIndex: number; buyIndex: number; amountIn: BN; minOut: BN },
    amm: { program: PublicKey; pool: PublicKey; poolVaultIn: PublicKey; poolVaultOut: PublicKey },
    keeperBountyAccount?: PublicKey) {
    const sell = vault.assets[args.sellIndex];
    const buy = vault.assets[args.buyIndex];
    return this.program.methods
      .rebalance(args)
      .accountsPartial({
        keeper, vault: vaultKey, sellMint: sell.mint, buyMint: buy.mint, sellReserve: sell.reserve,
        buyReserve: buy.reserve, keeperBountyAccount: keeperBountyAccount ?? ata(keeper, sell.mint, sell.tokenProgram),
        ammProgram: amm.program, pool: amm.pool, sellTokenProgram: sell.tokenProgram,
        buyTokenProgram: buy.tokenProgram, shareMint: vault.shareMint,
      })
      .remainingAccounts([
        ...tradeValuationAccounts(vault, args.sellIndex, args.buyIndex),
        { pubkey: amm.poolVaultIn, isSigner: false, isWritable: true },
        { pubkey: amm.poolVaultOut, isSigner: false, isWritable: true },
      ]);
  }

  // ---- governance (each goes through the timelock where the program says so) ----

  /** Lowers fee rates at once (same recipients); send after `accrueFees` in one transaction when a running
   * fee changes. Raising a fee goes through `proposeParams` and the timelock. */
  lowerFees(vaultKey: PublicKey, governance: PublicKey, fees: VaultParams["fees"]) {
    return this.program.methods.lowerFees(fees).accountsPartial({ governance, vault: vaultKey });
  }

  /** Queues a parameter change; the proposed fee recipients' share accounts go along (the program checks
   * each is a share account the vault does not own). */
  proposeParams(vaultKey: PublicKey, governance: PublicKey, params: VaultParams, assets: AssetParams[]) {
    return this.program.methods
      .proposeParams({ params, assets })
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(feeRecipientAccounts(params.fees));
  }

  /** Applies the change pending in `vault` (pass it, as fetched, when the change names fee recipients: their
   * share accounts are checked again at execution). */
  executeParams(vaultKey: PublicKey, governance: PublicKey, vault?: Vault) {
    const fees = vault?.pendingParams?.params.fees;
    return this.program.methods
      .executeParams()
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(fees ? feeRecipientAccounts(fees) : []);
  }

  cancelParams(vaultKey: PublicKey, governance: PublicKey) {
    return this.program.methods.cancelParams().accountsPartial({ governance, vault: vaultKey });
  }

  scheduleWeights(vaultKey: PublicKey, governance: PublicKey, toWeights: number[], startSlot: BN, endSlot: BN) {
    return this.program.methods.scheduleWeights({ toWeights, startSlot, endSlot }).accountsPartial({ governance, vault: vaultKey });
  }

  transferGovernance(vaultKey: PublicKey, governance: PublicKey, newGovernance: PublicKey) {
    return this.program.methods.transferGovernance(newGovernance).accountsPartial({ governance, vault: vaultKey });
  }

  acceptGovernance(vaultKey: PublicKey, pendingGovernance: PublicKey) {
    return this.program.methods.acceptGovernance().accountsPartial({ pendingGovernance, vault: vaultKey });
  }

  /** Governance sets and lifts pause flags; the guardian may only set them. */
  setPause(vaultKey: PublicKey, authority: PublicKey, flags: number) {
    return this.program.methods.setPause(flags).accountsPartial({ authority, vault: vaultKey });
  }

  addAmm(vaultKey: PublicKey, governance: PublicKey, ammProgram: PublicKey, pool: PublicKey) {
    return this.program.methods.addAmm().accountsPartial({ governance, vault: vaultKey, ammProgram, pool });
  }

  /** Removes the whitelisted route through `pool` (it stops being a price source too). */
  removeAmm(vaultKey: PublicKey, governance: PublicKey, pool: PublicKey) {
    return this.program.methods.removeAmm(pool).accountsPartial({ governance, vault: vaultKey });
  }

  activateVault(vaultKey: PublicKey, governance: PublicKey) {
    return this.program.methods.activateVault().accountsPartial({ governance, vault: vaultKey });
  }

  addAsset(vaultKey: PublicKey, payer: PublicKey, governance: PublicKey, mint: PublicKey, oracle: PublicKey,
    args: IdlTypes<Ballast>["addAssetArgs"], tokenProgram = TOKEN_PROGRAM_ID) {
    return this.program.methods.addAsset(args).accountsPartial({
      payer, governance, vault: vaultKey, mint, reserve: pda.reserve(vaultKey, mint), oracle, tokenProgram,
      systemProgram: SystemProgram.programId,
    });
  }

  initializeVault(creator: PublicKey, args: IdlTypes<Ballast>["initializeVaultArgs"]) {
    const vault = pda.vault(creator, args.vaultId);
    return this.program.methods.initializeVault(args).accountsPartial({
      creator, vault, shareMint: pda.shareMint(vault), lockedShares: pda.lockedShares(vault),
      tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
    });
  }
}
