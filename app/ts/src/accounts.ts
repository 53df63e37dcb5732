/**
 * Addresses and account lists: every program-derived address (`pda`, seeds as in
 * `programs/ballast/src/constants.rs`), associated token accounts, the remaining accounts each instruction
 * takes (transfer legs, valuation and pool price accounts, fee recipients), a vault's valuation from its own
 * readings, and a governance instruction as an unsigned transaction for a multisig.
 */
import { BN } from "@anchor-lang/core";
import { availableBalances } from "./quote";
import { AccountMeta, PublicKey, Transaction, TransactionInstruction } from "@solana/web3.js";
import {
  AMM_PROGRAMS, ASSOCIATED_TOKEN_PROGRAM_ID, AmmEntry, PROGRAM_ID, TOKEN_PROGRAM_ID, Vault, VaultParams,
} from "./program";

// Seed and address helpers shared by the client's modules (not re-exported by the package).
export const seed = (s: string) => Buffer.from(s, "utf8");
export const find = (seeds: Buffer[], programId = PROGRAM_ID) => PublicKey.findProgramAddressSync(seeds, programId)[0];
export const u64le = (n: BN | number | bigint) => new BN(n.toString()).toArrayLike(Buffer, "le", 8);

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
  /** The vault's valuation cache (`refreshValuation`, then any valuing instruction in the same slot). */
  valuationCache: (vault: PublicKey) => find([seed("valuation"), vault.toBuffer()]),
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
/** `[oracle, reserve]` for assets `first .. first + count`, as `refresh_valuation` takes them. */
export function refreshAccounts(vault: Vault, first: number, count: number): AccountMeta[] {
  return valuationAccounts(vault).slice(2 * first, 2 * (first + count));
}

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

/** Value (micro-USD) and weights of a vault from its own last oracle prices and reserve balances: the holders'
 * balances (owed and escrowed amounts excluded; with `now`, the cluster's unix time, the flows' charges still
 * vesting too, as the program counts them). */
export function valuation(vault: Vault, reserveBalances: bigint[], now?: number): { values: bigint[]; nav: bigint; weightsBps: number[] } {
  const holders = now === undefined ? undefined : availableBalances(vault, reserveBalances, now);
  const values = vault.assets.map((a, i) => {
    const price = BigInt(a.lastPrice.toString());
    const expo = a.lastExpo;
    const holdings = holders ? holders[i] : reserveBalances[i] - BigInt(a.owed.toString()) - BigInt(a.pendingIn.toString());
    // value = holdings / 10^decimals × price × 10^expo, in micro-USD (10^6).
    const scale = 6 + expo - a.decimals;
    const raw = holdings * price;
    return scale >= 0 ? raw * 10n ** BigInt(scale) : raw / 10n ** BigInt(-scale);
  });
  const nav = values.reduce((s, v) => s + v, 0n);
  const weightsBps = values.map((v) => (nav === 0n ? 0 : Number((v * 10_000n) / nav)));
  return { values, nav, weightsBps };
}
