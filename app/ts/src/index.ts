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
 *
 * The package's entry: the modules below hold the code; this file re-exports their public names.
 * - `./program`: the IDL, program addresses, account and type shapes, pause flags;
 * - `./accounts`: PDAs, associated token accounts, the remaining accounts of each instruction, valuation;
 * - `./events`: event decoding;
 * - `./quote`: the program's exit arithmetic;
 * - `./exit`: the reference AMM's pool and swap, `createAtaIdempotent`, the composed exit's types;
 * - `./client`: `BallastClient`, `heapFrame` (the heap-frame request a vault above 16 assets needs) and
 *   `tradeHeapFrame` (the one every rebalance carries).
 */
export type {
  AmmEntry, AssetParams, Ballast, BallastEvents, Claim, DepositRequest, EventName, Vault, VaultParams, WithdrawRequest,
} from "./program";
export {
  AMM_PROGRAMS, ASSOCIATED_TOKEN_PROGRAM_ID, IDL, PAUSE, PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID,
} from "./program";
export {
  ata, depositValuationAccounts, feeRecipientAccounts, pda, poolPriceAccounts, pricePools, proposalTransaction,
  refreshAccounts, tradeValuationAccounts, transferLegs, userTokenAccounts, valuation, valuationAccounts,
} from "./accounts";
export { decodeEvents, eventsNamed } from "./events";
export {
  LOCKED_SHARES, ammSwapOut, availableBalances, expm1Floor, inKindAmountsOut, managementFeeShares, supplyAfterAccrual,
  vestingLeft,
} from "./quote";
export type { ExitOptions, ExitPreview, ExitSlice, ReferencePool } from "./exit";
export { createAtaIdempotent, decodeReferencePool, referenceAmmSwap } from "./exit";
export { BallastClient, DIRECT_MAX_ASSETS, HEAP_FRAME_BYTES, PACKET_DATA_SIZE, heapFrame, tradeHeapFrame } from "./client";
