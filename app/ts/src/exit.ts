/**
 * Leaving a vault for one token (`BallastClient.exitTo`): the reference AMM's pool account and `swap`
 * instruction, the associated token program's `CreateIdempotent`, and the composed exit itself (an in-kind
 * withdrawal, a swap of each other piece through the vault's whitelisted reference pools, `assertMinBalance`
 * last), quoted with the program's own arithmetic (`./quote`).
 */
import { BN, Program } from "@anchor-lang/core";
import { Connection, PublicKey, SYSVAR_CLOCK_PUBKEY, SystemProgram, Transaction, TransactionInstruction } from "@solana/web3.js";
import ammIdl from "../../../idl/ballast_amm.json";
import { ata, find, seed, u64le, userTokenAccounts } from "./accounts";
import { AMM_PROGRAMS, ASSOCIATED_TOKEN_PROGRAM_ID, Ballast, TOKEN_PROGRAM_ID, Vault } from "./program";
import { BPS, ammSwapOut, availableBalances, big, inKindAmountsOut, supplyAfterAccrual } from "./quote";

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

/** What the composed exit uses of `BallastClient` (declared here so this module does not import the client). */
export interface ExitClient {
  readonly program: Program<Ballast>;
  readonly connection: Connection;
  fetchVault(address: PublicKey): Promise<Vault>;
  clusterTime(): Promise<number>;
  withdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, shares: BN, minAmountsOut: BN[], skipMask?: BN | bigint | number,
    destinations?: PublicKey[]): { instruction(): Promise<TransactionInstruction> };
  assertMinBalance(tokenAccount: PublicKey, minBalance: BN | bigint | number): { instruction(): Promise<TransactionInstruction> };
}

/** `BallastClient.exitTo` (documented there): the instructions of the exit and their quote, for `client`. */
export async function composeExit(client: ExitClient, vaultKey: PublicKey, owner: PublicKey, shares: BN | bigint,
  toIndex: number, slippageBps: number, opts: ExitOptions = {}): Promise<{ instructions: TransactionInstruction[]; preview: ExitPreview }> {
  if (!Number.isInteger(slippageBps) || slippageBps < 0 || slippageBps > 10_000) {
    throw new Error(`slippageBps ${slippageBps} not in 0..=10000`);
  }
  const first = await client.fetchVault(vaultKey);
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
  const infos = await client.connection.getMultipleAccountsInfo(keys);
  const at = (i: number) => infos[i];
  const need = (i: number, what: string) => {
    const info = at(i);
    if (!info) throw new Error(`${what} ${keys[i].toBase58()} not found`);
    return info.data;
  };
  const vault = client.program.coder.accounts.decode<Vault>("vault", need(0, "vault"));
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
  const now = clock && clock.data.length >= 40 ? Number(clock.data.readBigInt64LE(32)) : await client.clusterTime();
  const accruedTo = now + (opts.horizonSecs ?? 90);

  // The in-kind pieces, as `withdraw` computes them after accruing the management fee.
  const supply = supplyAfterAccrual(vault, minted, accruedTo);
  const exitFeeBps = vault.params.fees.exitBps;
  // Vesting charges only shrink with time: the holders' balances now are a floor.
  const amounts = inKindAmountsOut(sharesIn, availableBalances(vault, reserves, now), supply, exitFeeBps);
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
  instructions.push(await client.withdraw(vaultKey, vault, owner, new BN(sharesIn.toString()), minAmountsOut, 0,
    userAccounts).instruction(), ...swaps);
  const expectedOut = slices.reduce((s, x) => s + x.quote, 0n);
  const minOut = (expectedOut * (BPS - BigInt(slippageBps))) / BPS;
  const minBalance = balanceBefore + minOut;
  instructions.push(await client.assertMinBalance(destination, minBalance).instruction());
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
