/**
 * Leaving the vault in one asset against `ballast localnet`: a single-asset withdrawal requested, settled
 * after its delay and paid; one cancelled after expiry; the composed exit (`exitTo`: in-kind withdrawal,
 * swaps through the whitelisted reference pools, one overall minimum) landing whole, and failing whole
 * against a minimum it cannot meet. The quoting arithmetic is checked against the program's own examples.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BN } from "@anchor-lang/core";
import { Connection, Keypair, PublicKey, Transaction } from "@solana/web3.js";
import {
  BallastClient, PAUSE, Vault, ammSwapOut, ata, eventsNamed, expm1Floor, inKindAmountsOut, managementFeeShares, pda,
  supplyAfterAccrual, userTokenAccounts, valuation,
} from "../src";
import { Localnet, clientFor, dev, localnet, tokenBalance } from "../support/localnet";

let net: Localnet;
let connection: Connection;

before(async () => {
  net = await localnet();
  connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
});

after(() => net?.stop());

/** A funded holder of the demo vault with the shares of an in-kind deposit (about $900). */
async function holder(): Promise<{ user: Keypair; client: BallastClient; key: PublicKey; vault: Vault; shares: bigint }> {
  const user = Keypair.generate();
  await dev(net.rpcUrl, "ballast_faucet", [user.publicKey.toBase58()]);
  const client = clientFor(connection, user);
  const [{ publicKey: key, account }] = await client.vaults();
  await client
    .depositWithFees(key, account, user.publicKey, [new BN(2_000_000_000), new BN(500_000), new BN(300_000_000)], new BN(1))
    .then((b) => b.rpc());
  const vault = await client.fetchVault(key);
  const shares = await tokenBalance(connection, ata(user.publicKey, vault.shareMint));
  assert.ok(shares > 0n, "the deposit minted shares");
  return { user, client, key, vault, shares };
}

/** What `shares` are worth at the vault's last prices (micro-USD: base units of USDC at $1). */
async function worth(client: BallastClient, key: PublicKey, shares: bigint): Promise<bigint> {
  const vault = await client.fetchVault(key);
  const { nav } = valuation(vault, await Promise.all(vault.assets.map((a) => tokenBalance(connection, a.reserve))));
  const minted = BigInt((await connection.getTokenSupply(vault.shareMint)).value.amount);
  return (nav * shares) / (minted + BigInt(vault.fees.pendingShares.toString()));
}

/** Logs of a confirmed transaction. */
async function logs(signature: string): Promise<string[]> {
  const tx = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
  return tx!.meta!.logMessages!;
}

test("exit arithmetic: the program's own examples", () => {
  // ballast_amm::math::swap_examples.
  assert.equal(ammSwapOut(1_000n, 1_000n, 0, 100n), 90n);
  assert.equal(ammSwapOut(1_000n, 1_000n, 30, 100n), 90n);
  assert.equal(ammSwapOut(1_000_000n, 1_000_000n, 30, 1_000n), 996n);
  // The fee arithmetic, bit for bit with `ballast_math::fees` (values computed by the Rust crate).
  assert.equal(expm1Floor(10n ** 18n), 1_718_281_828_459_045_218n);
  assert.equal(expm1Floor(693_147_180_559_945_310n), 10n ** 18n);
  assert.equal(expm1Floor(39_999_999_999_999_999_999n), 235_385_266_837_019_975_012_923_322_918_502_400n);
  assert.equal(managementFeeShares(1_000_000_000_000n, 200, 31_536_000n), 20_201_340_026n);
  assert.equal(managementFeeShares(123_456_789_012n, 37, 86_400n), 1_251_486n);
  assert.equal(managementFeeShares(9_999_999_999_999n, 500, 3_153_600_000n), 1_474_131_591_025_618n);
  // 5 % a year for 90 s on every share but the locked ones; nothing before the first accrual.
  const feeState = (lastAccrual: number) => ({
    fees: { pendingShares: new BN(1_000), lastAccrual: new BN(lastAccrual) }, params: { fees: { managementBps: 500 } },
  }) as unknown as Vault;
  assert.equal(supplyAfterAccrual(feeState(1_000), 10_636_245_903n, 1_090), 10_636_246_903n + 1_517n);
  assert.equal(supplyAfterAccrual(feeState(0), 10_636_245_903n, 1_090), 10_636_246_903n);
  assert.equal(supplyAfterAccrual(feeState(2_000), 10_636_245_903n, 1_090), 10_636_246_903n);
  // In kind: floor(shares × available / supply), less the exit fee rounded for the vault.
  assert.deepEqual(inKindAmountsOut(1n, [10n, 3n], 3n, 0), [3n, 1n]);
  assert.deepEqual(inKindAmountsOut(500n, [1_000_001n, 99n], 1_000n, 50), [497_500n, 48n]);
  assert.throws(() => inKindAmountsOut(4n, [1n], 3n, 0));
  assert.equal(PAUSE.ALL, PAUSE.DEPOSITS | PAUSE.REBALANCE | PAUSE.GOVERNANCE | PAUSE.EXITS);
});

test("single-asset withdrawal: requested, listed, settled after the delay and paid in the asset", async (t) => {
  const { user, client, key, vault, shares } = await holder();
  const owner = user.publicKey;
  const usdc = ata(owner, vault.assets[2].mint, vault.assets[2].tokenProgram);
  const escrowed = shares / 2n;
  const before = await tokenBalance(connection, usdc);
  const value = await worth(client, key, escrowed);

  const sig = await client.requestWithdraw(key, vault, owner, 2, new BN(escrowed.toString()), new BN(1)).rpc();
  const [requested] = eventsNamed(await logs(sig), "withdrawRequestedEvent");
  assert.ok(requested, "a WithdrawRequested event");
  assert.equal(requested.shares.toString(), escrowed.toString());
  const request = await client.fetchWithdrawRequest(key, owner);
  assert.ok(request, "the request is open");
  assert.ok(request!.destination.equals(usdc));
  assert.equal(request!.assetIndex, 2);
  assert.equal(await tokenBalance(connection, pda.withdrawEscrow(pda.withdrawRequest(key, owner))), escrowed, "shares escrowed");
  assert.equal(await tokenBalance(connection, ata(owner, vault.shareMint)), shares - escrowed);
  const listed = await client.withdrawRequests(key);
  assert.ok(listed.some((r) => r.publicKey.equals(pda.withdrawRequest(key, owner)) && r.account.owner.equals(owner)));
  // Settling before the delay is refused with the program's error.
  await assert.rejects(client.settleWithdraw(key, vault, owner, request!).rpc(), /WithdrawRequestTooEarly|OracleStale/);

  // The delay: the localnet's clock moves (and its prices are re-published) on request.
  await dev(net.rpcUrl, "ballast_warpTime", [request!.settleFrom.toNumber() - request!.requestedAt.toNumber() + 1]);
  let settled: any;
  try {
    const settleSig = await client.settleWithdraw(key, await client.fetchVault(key), owner, request!).rpc();
    [settled] = eventsNamed(await logs(settleSig), "withdrawSettledEvent");
    assert.ok(settled, "a WithdrawSettled event");
    assert.equal(settled.sharesBurned.toString(), escrowed.toString());
  } catch (e) {
    // A keeper may settle it first (anyone may): then the request must be gone and the payout there.
    if (await client.fetchWithdrawRequest(key, owner)) throw e;
    t.diagnostic("a keeper settled the request first");
  }
  const got = (await tokenBalance(connection, usdc)) - before;
  assert.ok(got > 0n, "the owner received USDC");
  if (settled) assert.equal(got.toString(), settled.amountReceived.toString());
  // What the shares are worth, less the fee and the buy-back charge (at most a few percent).
  assert.ok(got <= value && got > (value * 95n) / 100n, `received ${got} for shares worth ${value}`);
  assert.equal(await client.fetchWithdrawRequest(key, owner), null, "the request is closed");
  assert.equal(await connection.getAccountInfo(pda.withdrawEscrow(pda.withdrawRequest(key, owner))), null, "escrow closed");
});

test("single-asset withdrawal: cancelled after expiry, the shares come back", async () => {
  const { user, client, key, vault, shares } = await holder();
  const owner = user.publicKey;
  await client.requestWithdraw(key, vault, owner, 0, new BN((shares / 4n).toString()), new BN(1)).rpc();
  const request = (await client.fetchWithdrawRequest(key, owner))!;
  await assert.rejects(client.cancelWithdraw(key, vault, owner).rpc(), /WithdrawRequestNotExpired/);
  // Past the window in one step, so no settlement can come in between.
  await dev(net.rpcUrl, "ballast_warpTime", [request.expiresAt.toNumber() - request.requestedAt.toNumber() + 2]);
  const sig = await client.cancelWithdraw(key, vault, owner).rpc();
  const [cancelled] = eventsNamed(await logs(sig), "withdrawCancelledEvent");
  assert.equal(cancelled.shares.toString(), (shares / 4n).toString());
  assert.equal(await tokenBalance(connection, ata(owner, vault.shareMint)), shares, "every share is back");
  assert.equal(await client.fetchWithdrawRequest(key, owner), null);
});

test("exitTo: in kind, swapped to USDC through the whitelisted pools, checked once at the end", async () => {
  const { user, client, key, vault, shares } = await holder();
  const owner = user.publicKey;
  const accounts = userTokenAccounts(vault, owner);
  const before = await Promise.all(accounts.map((a) => tokenBalance(connection, a)));
  const value = await worth(client, key, shares);
  const { instructions, preview } = await client.exitTo(key, owner, shares, 2, 100);

  assert.equal(preview.toIndex, 2);
  assert.deepEqual(preview.slices.map((s) => s.route), ["swapped", "swapped", "kept"]);
  assert.ok(preview.slices.every((s) => s.amount > 0n && s.quote > 0n));
  assert.equal(preview.expectedOut, preview.slices.reduce((s, x) => s + x.quote, 0n));
  assert.equal(preview.minOut, (preview.expectedOut * 9_900n) / 10_000n);
  assert.equal(preview.balanceBefore, before[2]);
  assert.equal(preview.minBalance, before[2] + preview.minOut);
  assert.deepEqual(preview.left, []);
  assert.ok(preview.txBytes <= 1_232, `${preview.txBytes} bytes`);
  // The quote counts every share outstanding.
  const minted = BigInt((await connection.getTokenSupply(vault.shareMint)).value.amount);
  assert.ok(preview.supply >= supplyAfterAccrual(await client.fetchVault(key), minted, 0));
  // What the shares are worth, less two pools' fees (30 bps) and price impact.
  assert.ok(preview.expectedOut <= (value * 1_005n) / 1_000n && preview.expectedOut > (value * 98n) / 100n,
    `${preview.expectedOut} for shares worth ${value}`);

  const tx = new Transaction().add(...instructions);
  const sig = await client.program.provider.sendAndConfirm!(tx, []);
  const [withdrawn] = eventsNamed(await logs(sig), "withdrawEvent");
  assert.deepEqual(withdrawn.amountsOut.map((a) => BigInt(a.toString()) >= 0n), [true, true, true]);
  preview.slices.forEach((s, i) => assert.ok(BigInt(withdrawn.amountsOut[i].toString()) >= s.amount, `piece ${i} quoted above paid`));
  assert.equal(await tokenBalance(connection, ata(owner, vault.shareMint)), 0n, "every share burned");
  const afterBalances = await Promise.all(accounts.map((a) => tokenBalance(connection, a)));
  const gained = afterBalances[2] - before[2];
  assert.ok(gained >= preview.minOut, `gained ${gained} < min ${preview.minOut}`);
  // Each swapped piece was at most what the withdrawal paid: the rest (rounding of the horizon) stays.
  for (const i of [0, 1]) assert.ok(afterBalances[i] >= before[i], `asset ${i}: ${afterBalances[i]} < ${before[i]}`);
});

test("exitTo: a piece no pool pays anything for is reported and left in the owner's account", async () => {
  const { user, client, key, vault, shares } = await holder();
  const owner = user.publicKey;
  const accounts = userTokenAccounts(vault, owner);
  const before = await Promise.all(accounts.map((a) => tokenBalance(connection, a)));
  // Two shares: a few lamports of SOL (worth less than one USDC unit), no BTC, no USDC.
  const { instructions, preview } = await client.exitTo(key, owner, 2n, 2, 100);
  const sol = preview.slices[0];
  assert.ok(sol.amount > 0n && sol.quote === 0n && sol.route === "dust", JSON.stringify(sol, (_, v) => `${v}`));
  assert.deepEqual(preview.left.map((x) => x.index), [0]);
  assert.equal(preview.expectedOut, preview.slices[2].amount);
  await client.program.provider.sendAndConfirm!(new Transaction().add(...instructions), []);
  assert.equal(await tokenBalance(connection, ata(owner, vault.shareMint)), shares - 2n);
  const afterBalances = await Promise.all(accounts.map((a) => tokenBalance(connection, a)));
  assert.ok(afterBalances[0] >= before[0] + sol.amount, "the dust stayed with the owner");
  assert.ok(afterBalances[2] >= preview.minBalance);
});

test("exitTo: a minimum it cannot meet fails the whole transaction with BalanceBelowMinimum", async () => {
  const { user, client, key, vault, shares } = await holder();
  const owner = user.publicKey;
  const accounts = userTokenAccounts(vault, owner);
  const before = await Promise.all(accounts.map((a) => tokenBalance(connection, a)));
  const { instructions, preview } = await client.exitTo(key, owner, shares, 2, 50);
  // The same exit, its guard asking twice what it can bring.
  const tooMuch = await client.assertMinBalance(preview.destination, preview.balanceBefore + 2n * preview.expectedOut).instruction();
  const tx = new Transaction().add(...instructions.slice(0, -1), tooMuch);
  await assert.rejects(client.program.provider.sendAndConfirm!(tx, []), (e: any) => {
    const text = `${e?.message ?? e}\n${(e?.logs ?? e?.transactionLogs ?? []).join("\n")}`;
    assert.match(text, /BalanceBelowMinimum|Error Number: 6131|0x17f3/, text);
    return true;
  });
  assert.equal(await tokenBalance(connection, ata(owner, vault.shareMint)), shares, "no share burned");
  assert.deepEqual(await Promise.all(accounts.map((a) => tokenBalance(connection, a))), before, "no token moved");
});
