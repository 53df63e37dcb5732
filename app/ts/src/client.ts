/**
 * `BallastClient`: typed builders for every instruction of the program, and account fetching. Each builder
 * returns Anchor's method builder, so the caller picks `.rpc()` (send and confirm over the websocket),
 * `.instruction()` or `.transaction()`.
 */
import { AnchorProvider, BN, Program } from "@anchor-lang/core";
import type { IdlTypes } from "@anchor-lang/core";
import {
  ComputeBudgetProgram, Connection, PublicKey, SYSVAR_CLOCK_PUBKEY, SystemProgram, Transaction, TransactionInstruction,
} from "@solana/web3.js";
import {
  ata, depositValuationAccounts, feeRecipientAccounts, pda, tradeValuationAccounts, transferLegs, userTokenAccounts,
  refreshAccounts, valuationAccounts,
} from "./accounts";
import { ExitOptions, ExitPreview, composeExit, createAtaIdempotent } from "./exit";
import {
  Ballast, BallastEvents, Claim, DepositRequest, EventName, IDL, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, Vault,
  VaultParams, AssetParams, WithdrawRequest,
} from "./program";

/** Vaults above this many assets are valued from the valuation cache and decoded into more heap than a
 * transaction has by default (32 KiB): every transaction touching one requests the program's heap frame. */
export const DIRECT_MAX_ASSETS = 16;
/** The heap frame (bytes) a transaction touching a vault above `DIRECT_MAX_ASSETS` assets requests. */
export const HEAP_FRAME_BYTES = 256 * 1024;

/** The heap-frame request a transaction touching `vault` needs (none up to `DIRECT_MAX_ASSETS` assets). The
 * builders below add it to their `.rpc()` / `.transaction()`; add it yourself when composing `.instruction()`s. */
export function heapFrame(vault: Vault): TransactionInstruction[] {
  return vault.assets.length > DIRECT_MAX_ASSETS ? [ComputeBudgetProgram.requestHeapFrame({ bytes: HEAP_FRAME_BYTES })] : [];
}

/** The heap-frame request every rebalance carries, whatever the vault's size (`ballast_client::with_trade_heap`): a
 * 16-asset rebalance takes 27 840 bytes of the default 32 KiB, and the request costs a few compute units. */
export function tradeHeapFrame(): TransactionInstruction[] {
  return [ComputeBudgetProgram.requestHeapFrame({ bytes: HEAP_FRAME_BYTES })];
}

/** The most bytes a transaction may have on the wire. */
export const PACKET_DATA_SIZE = 1232;

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
      .preInstructions(heapFrame(vault))
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
      .preInstructions(heapFrame(vault))
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
      .preInstructions(heapFrame(vault))
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
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        depositor, vault: vaultKey, request: pda.depositRequest(vaultKey, depositor), mint: asset.mint,
        reserve: asset.reserve, refundTo: refundTo ?? ata(depositor, asset.mint, asset.tokenProgram),
        assetTokenProgram: asset.tokenProgram,
      });
  }

  /** Burns `shares` for a pro-rata part of every reserve (assets in `skipMask`, bit i = asset i, a u128, go
   * to the owner's claim). */
  withdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, shares: BN, minAmountsOut: BN[],
    skipMask: BN | bigint | number = 0, destinations = userTokenAccounts(vault, owner),
    ownerShares = ata(owner, vault.shareMint)) {
    const mask = new BN(skipMask.toString());
    return this.program.methods
      .withdraw({ shares, minAmountsOut, skipMask: mask })
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        owner, vault: vaultKey, shareMint: vault.shareMint, ownerShares,
        claim: mask.isZero() ? null : pda.claim(vaultKey, owner),
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
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        owner, vault: vaultKey, claim: pda.claim(vaultKey, owner), mint: asset.mint, reserve: asset.reserve,
        destination: destination ?? ata(owner, asset.mint, asset.tokenProgram), assetTokenProgram: asset.tokenProgram,
      });
  }

  /** Single-asset withdrawal, step 1: escrow `shares` (they stay outstanding), quoted now; the payout in
   * asset `assetIndex` goes to the owner's associated token account of the asset (the program refuses any other
   * destination: anyone can re-create that account, so nobody can block a settlement by closing it) at
   * settlement, at least `minAmountOut` or the request cannot settle (its shares come back with
   * `cancelWithdraw` after expiry). Stopped by `PAUSE.EXITS`. */
  requestWithdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, assetIndex: number, shares: BN,
    minAmountOut: BN, destination?: PublicKey, ownerShares = ata(owner, vault.shareMint)) {
    const asset = vault.assets[assetIndex];
    if (!asset) throw new Error(`asset index ${assetIndex} out of range (vault has ${vault.assets.length})`);
    const request = pda.withdrawRequest(vaultKey, owner);
    return this.program.methods
      .requestWithdraw({ assetIndex, shares, minAmountOut })
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        owner, vault: vaultKey, shareMint: vault.shareMint, request, escrow: pda.withdrawEscrow(request),
        ownerShares, mint: asset.mint, destination: destination ?? ata(owner, asset.mint, asset.tokenProgram),
        assetTokenProgram: asset.tokenProgram, tokenProgram: TOKEN_PROGRAM_ID, systemProgram: SystemProgram.programId,
      })
      .remainingAccounts(depositValuationAccounts(vault, assetIndex));
  }

  /** Single-asset withdrawal, step 2 (anyone, once the settlement delay passed, on fresh readings): burns the
   * escrowed shares and pays the worse of the two quotes, less the fee and the trade charge, to the request's
   * destination (re-created first, paid by the settler, if its owner closed it); the request's and the escrow's
   * rent go back to its owner. */
  settleWithdraw(vaultKey: PublicKey, vault: Vault, settler: PublicKey, request: WithdrawRequest) {
    const asset = vault.assets[request.assetIndex];
    const key = pda.withdrawRequest(vaultKey, request.owner);
    return this.program.methods
      .settleWithdraw()
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        settler, vault: vaultKey, request: key, owner: request.owner, shareMint: vault.shareMint,
        escrow: pda.withdrawEscrow(key), mint: asset.mint, reserve: asset.reserve, destination: request.destination,
        assetTokenProgram: asset.tokenProgram, tokenProgram: TOKEN_PROGRAM_ID,
      })
      .preInstructions([createAtaIdempotent(settler, request.owner, asset.mint, asset.tokenProgram)])
      .remainingAccounts(depositValuationAccounts(vault, request.assetIndex));
  }

  /** After a withdrawal request's expiry, its escrowed shares go back to `sharesTo` (never paused). */
  cancelWithdraw(vaultKey: PublicKey, vault: Vault, owner: PublicKey, sharesTo = ata(owner, vault.shareMint)) {
    const key = pda.withdrawRequest(vaultKey, owner);
    return this.program.methods
      .cancelWithdraw()
      .preInstructions(heapFrame(vault))
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
    return composeExit(this, vaultKey, owner, shares, toIndex, slippageBps, opts);
  }

  // ---- keepers ----

  /** Refreshes oracle readings and volatility estimates (anyone). */
  poke(vaultKey: PublicKey, vault: Vault) {
    return this.program.methods
      .poke()
      .preInstructions(heapFrame(vault))
      .accountsPartial({ vault: vaultKey, shareMint: vault.shareMint })
      .remainingAccounts(valuationAccounts(vault));
  }

  /** Creates the vault's valuation cache (anyone; `payer` pays its rent once). */
  initValuationCache(vaultKey: PublicKey, payer: PublicKey) {
    return this.program.methods
      .initValuationCache()
      .accountsPartial({ payer, vault: vaultKey, cache: pda.valuationCache(vaultKey) });
  }

  /** Records assets `first .. first + count` (every asset by default) in the vault's valuation cache for this
   * slot (anyone; must be a top-level instruction). */
  refreshValuation(vaultKey: PublicKey, vault: Vault, first = 0, count = vault.assets.length - first) {
    return this.program.methods
      .refreshValuation({ first })
      .preInstructions(heapFrame(vault))
      .accountsPartial({ vault: vaultKey, cache: pda.valuationCache(vaultKey) })
      .remainingAccounts(refreshAccounts(vault, first, count));
  }

  /** Burns `shares` for the pro-rata part of every reserve, all of it recorded in the owner's claim (open it
   * first: `openClaim`), paid out asset by asset by `redeemClaim`: the withdrawal of a vault too large for
   * `withdraw`'s accounts (any vault may use it). Balances come from the valuation cache, refreshed in the same
   * slot with no change to the vault in between (send it after `refreshValuation` in one transaction, or one
   * bundle); no price is needed. */
  withdrawToClaim(vaultKey: PublicKey, vault: Vault, owner: PublicKey, shares: BN,
    ownerShares = ata(owner, vault.shareMint)) {
    return this.program.methods
      .withdrawToClaim(shares)
      .preInstructions(heapFrame(vault))
      .accountsPartial({
        owner, vault: vaultKey, shareMint: vault.shareMint, ownerShares, claim: pda.claim(vaultKey, owner),
        cache: pda.valuationCache(vaultKey), tokenProgram: TOKEN_PROGRAM_ID,
      });
  }

  /** `poke` valued from the vault's valuation cache, which must be refreshed in the same slot with no change to
   * the vault in between (send it after `refreshValuation` in one transaction). */
  pokeFromCache(vaultKey: PublicKey, vault: Vault) {
    return this.program.methods
      .poke()
      .preInstructions(heapFrame(vault))
      .accountsPartial({ vault: vaultKey, shareMint: vault.shareMint })
      .remainingAccounts([{ pubkey: pda.valuationCache(vaultKey), isSigner: false, isWritable: false }]);
  }

  /** Accrues the management and performance fees on fresh readings and mints the fee shares owed into the
   * recipients' share accounts (anyone; the vault's operator usually). */
  accrueFees(vaultKey: PublicKey, vault: Vault) {
    const recipients = vault.params.fees.recipients
      .filter((r) => r.weightBps > 0)
      .map((r) => ({ pubkey: r.account, isSigner: false, isWritable: true }));
    return this.program.methods
      .accrueFees()
      .preInstructions(heapFrame(vault))
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
      .preInstructions(tradeHeapFrame())
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
   * each is a share account the vault does not own). Pass `vault` for the heap frame a vault above 16 assets
   * needs; above about 110 assets the change fits no transaction: `proposalInstructions`. */
  proposeParams(vaultKey: PublicKey, governance: PublicKey, params: VaultParams, assets: AssetParams[], vault?: Vault) {
    return this.program.methods
      .proposeParams({ params, assets })
      .preInstructions(vault ? heapFrame(vault) : [])
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(feeRecipientAccounts(params.fees));
  }

  /** `stage_params`: the vault parameters and the first assets' of a change staged over several transactions (a
   * vault above about 110 assets, whose `proposeParams` fits no packet). The fee recipients' share accounts go with the
   * part that completes the change (here when `assets` are all the vault's). */
  stageParams(vaultKey: PublicKey, vault: Vault, governance: PublicKey, params: VaultParams, assets: AssetParams[]) {
    const completes = assets.length === vault.assets.length;
    return this.program.methods
      .stageParams({ params, assets })
      .preInstructions(heapFrame(vault))
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(completes ? feeRecipientAccounts(params.fees) : []);
  }

  /** `PendingParams::staged_hash`: the SHA-256 of the Borsh bytes of the staged vault parameters and of the asset
   * parameters staged so far, which ties a part to the change it continues. */
  async stagedHash(params: VaultParams, staged: AssetParams[]): Promise<number[]> {
    const head = this.program.coder.types.encode("vaultParams", params);
    const tail = Buffer.alloc(4 + 6 * staged.length);
    tail.writeUInt32LE(staged.length, 0);
    staged.forEach((a, i) => {
      tail.writeUInt16LE(a.targetBps, 4 + 6 * i);
      tail.writeUInt16LE(a.bandBps, 6 + 6 * i);
      tail.writeUInt16LE(a.maxTradeBps, 8 + 6 * i);
    });
    return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", Buffer.concat([head, tail]))));
  }

  /** `append_params`: the next assets' parameters of the staged change, after the `staged` ones already in;
   * `params`, the staged vault parameters, tie the part to that change ([`stagedHash`]) and name the fee
   * recipients the completing part passes. */
  async appendParams(vaultKey: PublicKey, vault: Vault, governance: PublicKey, params: VaultParams, staged: AssetParams[],
    assets: AssetParams[]) {
    const first = staged.length;
    const completes = first + assets.length === vault.assets.length;
    const stagedHash = await this.stagedHash(params, staged);
    return this.program.methods
      .appendParams({ first, stagedHash, assets })
      .preInstructions(heapFrame(vault))
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(completes ? feeRecipientAccounts(params.fees) : []);
  }

  /** A parameter change as the instructions of the transactions that carry it, each within a packet with
   * `feePayer` paying (`ballast_client::proposal_transactions`): one `proposeParams` when it fits, else
   * `stageParams` with as many assets as fit, then `appendParams` until every asset's are in. Above 16 assets each
   * carries the heap frame and a 1.4M compute-unit limit; each leaves room for a compute-unit price. Send them in
   * order; the change is queued, and its timelock starts, when the last lands. */
  async proposalInstructions(vaultKey: PublicKey, vault: Vault, governance: PublicKey, params: VaultParams,
    assets: AssetParams[], feePayer: PublicKey = governance): Promise<TransactionInstruction[][]> {
    const large = vault.assets.length > DIRECT_MAX_ASSETS;
    const budgeted = (ix: TransactionInstruction) =>
      [...heapFrame(vault), ...(large ? [ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 })] : []), ix];
    const fits = (ixs: TransactionInstruction[]) => {
      const priced = [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }), ...ixs];
      const message = new Transaction({ feePayer, recentBlockhash: PublicKey.default.toBase58() }).add(...priced).compileMessage();
      return 1 + 64 * message.header.numRequiredSignatures + message.serialize().length <= PACKET_DATA_SIZE;
    };
    const whole = budgeted(await this.proposeParams(vaultKey, governance, params, assets).instruction());
    if (fits(whole)) return [whole];
    const part = async (first: number, count: number) => {
      const slice = assets.slice(first, first + count);
      const built = first === 0
        ? this.stageParams(vaultKey, vault, governance, params, slice)
        : await this.appendParams(vaultKey, vault, governance, params, assets.slice(0, first), slice);
      // The builder's own heap frame is left out: `budgeted` adds it once.
      return budgeted(await built.instruction());
    };
    const txs: TransactionInstruction[][] = [];
    for (let first = 0; first < assets.length;) {
      let count = assets.length - first;
      let ixs = await part(first, count);
      while (count > 1 && !fits(ixs)) ixs = await part(first, --count);
      txs.push(ixs);
      first += count;
    }
    return txs;
  }

  /** Applies the change pending in `vault`. Pass `vault`, as fetched, when the change names fee recipients (their
   * share accounts are checked again at execution) and for the heap frame a vault above 16 assets needs. */
  executeParams(vaultKey: PublicKey, governance: PublicKey, vault?: Vault) {
    const fees = vault?.pendingParams?.params.fees;
    return this.program.methods
      .executeParams()
      .preInstructions(vault ? heapFrame(vault) : [])
      .accountsPartial({ governance, vault: vaultKey })
      .remainingAccounts(fees ? feeRecipientAccounts(fees) : []);
  }

  /** Drops the pending (or staged) change; pass `vault` for the heap frame a vault above 16 assets needs. */
  cancelParams(vaultKey: PublicKey, governance: PublicKey, vault?: Vault) {
    return this.program.methods
      .cancelParams()
      .preInstructions(vault ? heapFrame(vault) : [])
      .accountsPartial({ governance, vault: vaultKey });
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
