/**
 * @ballast/client: the ballast vault program from TypeScript, on `@anchor-lang/core` and the IDL the
 * program builds (`idl/ballast.json`, typed by `idl/ballast.ts`).
 *
 * - `pda`: every program-derived address (seeds as in `programs/ballast/src/constants.rs`);
 * - `BallastClient`: typed builders for every instruction. Each returns Anchor's method builder, so the
 *   caller picks `.rpc()` (send and confirm over the websocket), `.instruction()` or `.transaction()`;
 * - `proposalTransaction`: a governance instruction as an unsigned, serialized transaction, the form a
 *   multisig (e.g. the Squads UI's transaction import) takes;
 * - account fetching/decoding and event decoding (`decodeEvents`, `onEvent`).
 */
import { AnchorProvider, BN, BorshCoder, EventParser, Program, convertIdlToCamelCase } from "@anchor-lang/core";
import type { IdlAccounts, IdlEvents, IdlTypes } from "@anchor-lang/core";
import { AccountMeta, Connection, PublicKey, SystemProgram, Transaction, TransactionInstruction } from "@solana/web3.js";
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
export type Claim = IdlAccounts<Ballast>["claim"];
export type VaultParams = IdlTypes<Ballast>["vaultParams"];
export type AssetParams = IdlTypes<Ballast>["assetParams"];
export type AmmEntry = IdlTypes<Ballast>["ammEntry"];
export type BallastEvents = IdlEvents<Ballast>;
export type EventName = keyof BallastEvents;

/** Pause flags (`programs/ballast/src/state/vault.rs`, module `pause`); withdrawals are never paused. */
export const PAUSE = { DEPOSITS: 1, REBALANCE: 2, GOVERNANCE: 4, ALL: 7 } as const;

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
 * `request_deposit` and `settle_deposit` take. */
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
