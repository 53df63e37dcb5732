/**
 * Stock Solana clients against `ballast localnet`: `@solana/web3.js` and `@anchor-lang/core` confirm
 * over the websocket, every ballast account decodes through the IDL, a depositor deposits, sees a keeper's
 * rebalance arrive as an event, withdraws; governance proposes, waits out the timelock and executes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { BN } from "@anchor-lang/core";
import {
  ComputeBudgetProgram, Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";
import {
  BallastClient, HEAP_FRAME_BYTES, PACKET_DATA_SIZE, PROGRAM_ID, Vault, ata, decodeEvents, heapFrame, pda, proposalTransaction, userTokenAccounts,
  valuation,
} from "../src";
import { Localnet, clientFor, dev, localnet, readKeypair } from "../support/localnet";

let net: Localnet;
let connection: Connection;

before(async () => {
  net = await localnet();
  connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
});

after(() => net?.stop());

async function demoVault(client: BallastClient): Promise<{ key: PublicKey; vault: Vault }> {
  const all = await client.vaults();
  assert.ok(all.length >= 1, "the localnet serves the demo vault");
  return { key: all[0].publicKey, vault: all[0].account };
}

async function tokenBalance(account: PublicKey): Promise<bigint> {
  return BigInt((await connection.getTokenAccountBalance(account)).value.amount);
}

test("web3.js: sendAndConfirmTransaction, onSlotChange and the explorer's history methods", async () => {
  const payer = Keypair.generate();
  const airdrop = await connection.requestAirdrop(payer.publicKey, 2 * LAMPORTS_PER_SOL);
  const latest = await connection.getLatestBlockhash();
  // confirmTransaction waits on signatureSubscribe; the airdrop already landed, so it is answered at once.
  const confirmed = await connection.confirmTransaction({ signature: airdrop, ...latest }, "confirmed");
  assert.equal(confirmed.value.err, null);

  const to = Keypair.generate().publicKey;
  const tx = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1_000_000 }));
  const sig = await sendAndConfirmTransaction(connection, tx, [payer]);
  assert.equal(await connection.getBalance(to), 1_000_000);

  const slot = await new Promise<number>((resolve) => {
    const id = connection.onSlotChange((info) => {
      void connection.removeSlotChangeListener(id);
      resolve(info.slot);
    });
  });
  assert.ok(slot > 0);

  const fetched = await connection.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
  assert.ok(fetched, "getTransaction finds the transfer");
  assert.equal(fetched!.meta!.err, null);
  assert.equal(fetched!.meta!.fee, 5_000);
  assert.ok(fetched!.meta!.logMessages!.some((l) => l.includes("11111111111111111111111111111111 success")));
  const parsed = await connection.getParsedTransaction(sig, { maxSupportedTransactionVersion: 0 });
  assert.equal(parsed!.transaction.message.accountKeys[0].pubkey.toBase58(), payer.publicKey.toBase58());
  const history = await connection.getSignaturesForAddress(to);
  assert.deepEqual(history.map((h) => h.signature), [sig]);
  const block = await connection.getBlock(fetched!.slot, { maxSupportedTransactionVersion: 0 });
  assert.ok(block!.transactions.some((t) => t.transaction.signatures[0] === sig));
  assert.equal(await connection.getBlockTime(fetched!.slot), fetched!.blockTime);
  assert.ok((await connection.getTransactionCount()) >= 2);
  assert.equal((await connection.getEpochSchedule()).slotsPerEpoch, 432_000);
  assert.ok((await connection.getSupply()).value.total > 0);
  assert.ok((await connection.getRecentPerformanceSamples(5)).length >= 1);
  assert.equal(typeof (await connection.getFirstAvailableBlock()), "number");
});

test("anchor: every ballast account decodes through the IDL", async () => {
  const user = Keypair.generate();
  await dev(net.rpcUrl, "ballast_faucet", [user.publicKey.toBase58()]);
  const client = clientFor(connection, user);
  const { key, vault } = await demoVault(client);
  assert.equal(vault.assets.length, 3);
  assert.ok(vault.shareMint.equals(pda.shareMint(key)));
  assert.ok(vault.assets.every((a) => a.reserve.equals(pda.reserve(key, a.mint))));
  assert.equal(vault.assets.reduce((s, a) => s + a.params.targetBps, 0), 10_000);
  // The fee parameters and state decode; anyone may accrue the fees (none are charged on this vault).
  assert.equal(vault.params.fees.recipients.length, 4);
  await client.accrueFees(key, vault).rpc();
  const accrued = await client.fetchVault(key);
  assert.ok(accrued.fees.lastPricedAccrual.toNumber() > 0, "accrued on fresh readings");
  assert.equal(accrued.fees.pendingShares.toString(), "0");

  // A claim account and a deposit request, created through the client and decoded back.
  await client.openClaim(key, user.publicKey, user.publicKey).rpc();
  const claim = await client.fetchClaim(key, user.publicKey);
  assert.ok(claim && claim.owner.equals(user.publicKey));
  const amount = new BN(1_000_000_000);
  await client.requestDeposit(key, vault, user.publicKey, 0, amount, new BN(1)).rpc();
  const request = await client.fetchDepositRequest(key, user.publicKey);
  assert.ok(request, "the request is open");
  assert.equal(request!.amount.toString(), amount.toString());
  assert.equal(request!.assetIndex, 0);
});

test("deposit, a keeper's rebalance seen through an event subscription, withdraw: all through .rpc()", async () => {
  const user = Keypair.generate();
  await dev(net.rpcUrl, "ballast_faucet", [user.publicKey.toBase58()]);
  const client = clientFor(connection, user);
  let { key, vault } = await demoVault(client);
  const shares = ata(user.publicKey, vault.shareMint);

  const depositSig = await client
    .deposit(key, vault, user.publicKey, [new BN(2_000_000_000), new BN(1_000_000), new BN(500_000_000)], new BN(1))
    .rpc();
  const tx = await connection.getTransaction(depositSig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
  const events = decodeEvents(tx!.meta!.logMessages!);
  const deposited = events.find((e) => e.name === "depositEvent");
  assert.deepEqual(events.map((e) => e.name), ["depositEvent"], tx!.meta!.logMessages!.join("\n"));
  assert.ok(deposited, "the deposit emitted a DepositEvent");
  const minted = BigInt(deposited!.data.sharesOut.toString());
  assert.ok(minted > 0n);
  assert.equal(await tokenBalance(shares), minted);

  const seen = new Promise<any>((resolve) => {
    const id = client.onEvent("rebalanceEvent", (ev) => {
      if (ev.vault.equals(key)) {
        void client.removeEventListener(id);
        resolve(ev);
      }
    });
  });
  // SOL up 20 %: the vault drifts out of its band and the keeper trades.
  await new Promise((r) => setTimeout(r, 300));
  await dev(net.rpcUrl, "ballast_movePrice", [0, 20]);
  const ev = await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error("no rebalance event within 60 s")), 60_000))]);
  assert.equal(ev.sellIndex, 0, "the keeper sells the asset that rose");
  assert.ok(BigInt(ev.amountOut.toString()) >= BigInt(ev.minOut.toString()), "received at least the floor");
  assert.ok(BigInt(ev.driftAfter.toString()) < BigInt(ev.driftBefore.toString()), "drift went down");

  vault = await client.fetchVault(key);
  const before = await Promise.all(userTokenAccounts(vault, user.publicKey).map(tokenBalance));
  await client.withdraw(key, vault, user.publicKey, new BN(minted.toString()), vault.assets.map(() => new BN(0))).rpc();
  assert.equal(await tokenBalance(shares), 0n);
  const afterBalances = await Promise.all(userTokenAccounts(vault, user.publicKey).map(tokenBalance));
  assert.ok(afterBalances.every((b, i) => b >= before[i]) && afterBalances.some((b, i) => b > before[i]));
});

test("governance: a parameter change proposed, the timelock waited out, executed", async () => {
  const governance = readKeypair(path.join(net.keysDir, "governance.json"));
  const client = clientFor(connection, governance);
  const { key, vault } = await demoVault(client);
  assert.ok(vault.governance.equals(governance.publicKey));

  const params = { ...vault.params, depositFeeBps: vault.params.depositFeeBps + 1 };
  const assets = vault.assets.map((a) => a.params);
  // What a multisig member would import: the proposal as an unsigned transaction paid by governance.
  const ix = await client.proposeParams(key, governance.publicKey, params, assets).instruction();
  const { blockhash } = await connection.getLatestBlockhash();
  const imported = Transaction.from(Buffer.from(proposalTransaction(ix, governance.publicKey, blockhash), "base64"));
  assert.ok(imported.instructions[0].programId.equals(PROGRAM_ID));
  assert.ok(imported.feePayer!.equals(governance.publicKey));

  await client.proposeParams(key, governance.publicKey, params, assets).rpc();
  const pending = (await client.fetchVault(key)).pendingParams;
  assert.ok(pending, "the change is pending");
  assert.equal(pending!.params.depositFeeBps, params.depositFeeBps);
  // Executing early is refused with the program's own error.
  await assert.rejects(client.executeParams(key, governance.publicKey).rpc(), /TimelockNotElapsed/);

  await dev(net.rpcUrl, "ballast_warpTime", [vault.params.timelockSecs + 1]);
  await client.executeParams(key, governance.publicKey).rpc();
  const after = await client.fetchVault(key);
  assert.equal(after.pendingParams, null);
  assert.equal(after.params.depositFeeBps, params.depositFeeBps);
});

test("governance: a change staged in parts is refused while staged or continued by another change's part, queued when complete, and cancelled", async () => {
  const governance = readKeypair(path.join(net.keysDir, "governance.json"));
  const client = clientFor(connection, governance);
  const { key, vault } = await demoVault(client);
  const params = { ...vault.params, depositFeeBps: vault.params.depositFeeBps + 1 };
  const assets = vault.assets.map((a) => a.params);
  // Three assets fit one proposal; a 128-asset vault's would be staged.
  const plan = await client.proposalInstructions(key, vault, governance.publicKey, params, assets);
  assert.equal(plan.length, 1);
  assert.equal(plan[0].length, 1, "no heap frame for 3 assets");
  const large = { ...vault, assets: Array.from({ length: 128 }, () => vault.assets[0]) } as Vault;
  const payer = Keypair.generate().publicKey;
  const parts = await client.proposalInstructions(PublicKey.unique(), large, governance.publicKey, params,
    large.assets.map((a) => a.params), payer);
  assert.equal(parts.length, 2, "128 assets' parameters in two transactions");
  for (const ixs of parts) {
    const priced = [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }), ...ixs];
    const message = new Transaction({ feePayer: payer, recentBlockhash: PublicKey.default.toBase58() }).add(...priced).compileMessage();
    assert.ok(1 + 64 * message.header.numRequiredSignatures + message.serialize().length <= PACKET_DATA_SIZE, "room for a price");
    assert.ok(ixs[0].programId.equals(ComputeBudgetProgram.programId), "with the heap frame");
    assert.equal(ixs.filter((ix) => ix.programId.equals(ComputeBudgetProgram.programId)).length, 2, "the frame once, and a unit limit");
  }
  await client.stageParams(key, vault, governance.publicKey, params, assets.slice(0, 1)).rpc();
  const staged = (await client.fetchVault(key)).pendingParams!;
  assert.equal(staged.assets.length, 1);
  assert.equal(staged.eta.toString(), "9223372036854775807", "no timelock runs while staged");
  await assert.rejects(client.executeParams(key, governance.publicKey).rpc(), /ParamsStillStaging/);
  await assert.rejects((await client.appendParams(key, vault, governance.publicKey, params, assets.slice(0, 2), assets.slice(2))).rpc(),
    /ParamsStageOutOfOrder/);
  // A part built for another staged change (other vault parameters) is refused.
  const other = { ...params, depositFeeBps: params.depositFeeBps + 1 };
  await assert.rejects((await client.appendParams(key, vault, governance.publicKey, other, assets.slice(0, 1), assets.slice(1))).rpc(),
    /StagedParamsMismatch/);
  await (await client.appendParams(key, vault, governance.publicKey, params, assets.slice(0, 1), assets.slice(1))).rpc();
  const queued = (await client.fetchVault(key)).pendingParams!;
  assert.equal(queued.assets.length, 3);
  assert.ok(queued.eta.toNumber() <= (await client.clusterTime()) + vault.params.timelockSecs, "the timelock runs from completion");
  await client.cancelParams(key, governance.publicKey).rpc();
  assert.equal((await client.fetchVault(key)).pendingParams, null);
});

test("valuation cache: created, refreshed and used by a poke in one transaction; refused a slot later", async () => {
  const user = Keypair.generate();
  await dev(net.rpcUrl, "ballast_faucet", [user.publicKey.toBase58()]);
  const client = clientFor(connection, user);
  const { key } = await demoVault(client);
  const cache = pda.valuationCache(key);
  if (!(await connection.getAccountInfo(cache))) {
    await client.initValuationCache(key, user.publicKey).rpc();
  }
  const info = await connection.getAccountInfo(cache);
  assert.ok(info && info.owner.equals(PROGRAM_ID), "the cache is the program's account");
  assert.equal(info!.data.length, 9_264);
  const vault = await client.fetchVault(key);
  const tx = new Transaction()
    .add(await client.refreshValuation(key, vault).instruction())
    .add(await client.pokeFromCache(key, vault).instruction());
  await client.program.provider.sendAndConfirm!(tx, []);
  // Alone, a poke from the cache is refused: the poke above changed the vault (and the slot moved on).
  await assert.rejects(client.pokeFromCache(key, await client.fetchVault(key)).rpc(), /Valuation(Stale|Outdated)/);

  // A withdrawal into a claim from the cache (refresh and use in one transaction), then redeemed asset by asset.
  await client
    .deposit(key, vault, user.publicKey, [new BN(2_000_000_000), new BN(1_000_000), new BN(500_000_000)], new BN(1))
    .rpc();
  const shares = await tokenBalance(ata(user.publicKey, vault.shareMint));
  assert.ok(shares > 0n);
  await client.openClaim(key, user.publicKey, user.publicKey).rpc();
  const fresh = await client.fetchVault(key);
  const withdrawal = new Transaction()
    .add(await client.refreshValuation(key, fresh).instruction())
    .add(await client.withdrawToClaim(key, fresh, user.publicKey, new BN(shares.toString())).instruction());
  await client.program.provider.sendAndConfirm!(withdrawal, []);
  assert.equal(await tokenBalance(ata(user.publicKey, vault.shareMint)), 0n, "every share burned");
  const claim = await client.program.account.claim.fetch(pda.claim(key, user.publicKey));
  const owed = claim.owed.slice(0, fresh.assets.length).map((o: BN) => BigInt(o.toString()));
  assert.ok(owed.every((o: bigint) => o > 0n), `every asset owed: ${owed}`);
  const before = await Promise.all(userTokenAccounts(fresh, user.publicKey).map(tokenBalance));
  const redeem = new Transaction();
  for (let i = 0; i < fresh.assets.length; i++) {
    redeem.add(await client.redeemClaim(key, fresh, user.publicKey, i).instruction());
  }
  await client.program.provider.sendAndConfirm!(redeem, []);
  const after = await Promise.all(userTokenAccounts(fresh, user.publicKey).map(tokenBalance));
  after.forEach((a, i) => assert.equal(a - before[i], owed[i], `asset ${i} paid what was owed`));
});

test("valuation helper agrees with the vault's reserves", async () => {
  const client = clientFor(connection, Keypair.generate());
  const { vault } = await demoVault(client);
  const balances = await Promise.all(vault.assets.map((a) => tokenBalance(a.reserve)));
  const { nav, weightsBps } = valuation(vault, balances);
  assert.ok(nav > 0n);
  assert.ok(Math.abs(weightsBps.reduce((s, w) => s + w, 0) - 10_000) <= vault.assets.length);
});

test("heap frame: none for the 3-asset vault, the program's 256 KiB for one above 16 assets and for every rebalance", async () => {
  const client = clientFor(connection, Keypair.generate());
  const { vault } = await demoVault(client);
  assert.deepEqual(heapFrame(vault), []);
  const large = { ...vault, assets: Array.from({ length: 17 }, () => vault.assets[0]) } as Vault;
  const [ix] = heapFrame(large);
  assert.ok(ix.programId.equals(ComputeBudgetProgram.programId));
  assert.equal(ix.data[0], 1, "RequestHeapFrame");
  assert.equal(ix.data.readUInt32LE(1), HEAP_FRAME_BYTES);
  // The builders carry it: the transaction of a withdrawal into a claim starts with the request.
  const owner = Keypair.generate().publicKey;
  const tx = await client.withdrawToClaim(PublicKey.unique(), large, owner, new BN(1)).transaction();
  assert.ok(tx.instructions[0].programId.equals(ComputeBudgetProgram.programId));
  assert.equal(tx.instructions.length, 2);
  // A rebalance carries it whatever the vault's size: the 3-asset vault's too.
  const amm = { program: PublicKey.unique(), pool: PublicKey.unique(), poolVaultIn: PublicKey.unique(), poolVaultOut: PublicKey.unique() };
  const args = { sellIndex: 0, buyIndex: 2, amountIn: new BN(1), minOut: new BN(1) };
  const trade = await client.rebalance(PublicKey.unique(), vault, owner, args, amm).transaction();
  assert.ok(trade.instructions[0].programId.equals(ComputeBudgetProgram.programId));
  assert.equal(trade.instructions[0].data.readUInt32LE(1), HEAP_FRAME_BYTES);
});
