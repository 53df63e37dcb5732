/**
 * The program itself: its IDL and address, the token and AMM programs it works with, the account and type
 * shapes the IDL gives (`Vault`, `VaultParams`, …) and the pause flags.
 */
import { PublicKey } from "@solana/web3.js";
import type { IdlAccounts, IdlEvents, IdlTypes } from "@anchor-lang/core";
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

/** The reference AMM, Raydium CPMM and Orca Whirlpools: the programs ballast has adapters for (and reads as
 * price sources). */
export const AMM_PROGRAMS = {
  reference: new PublicKey(ammIdl.address),
  raydiumCpmm: new PublicKey("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"),
  orcaWhirlpool: new PublicKey("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"),
};
