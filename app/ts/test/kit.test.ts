/**
 * `@solana/kit` against `ballast localnet`: its RPC and websocket subscriptions confirm an airdrop and
 * a ballast `poke` signed and sent with kit alone, and the vault it touched decodes with the IDL; an
 * instruction built by the TypeScript client (`assertMinBalance`) goes through kit, its error decoded by kit.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { AnchorProvider, BorshAccountsCoder, Wallet, convertIdlToCamelCase } from "@anchor-lang/core";
import {
  AccountRole, Instruction, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM, address, airdropFactory,
  appendTransactionMessageInstruction, createSolanaRpc, createSolanaRpcSubscriptions, createTransactionMessage,
  fetchEncodedAccount, generateKeyPairSigner, getSignatureFromTransaction, isSolanaError, lamports, pipe,
  sendAndConfirmTransactionFactory, setTransactionMessageFeePayerSigner, setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import { Connection, Keypair, TransactionInstruction } from "@solana/web3.js";
import { BallastClient, IDL, LOCKED_SHARES, PROGRAM_ID } from "../src";
import { Localnet, localnet } from "../support/localnet";

let net: Localnet;
before(async () => {
  net = await localnet();
});
after(() => net?.stop());

test("kit: airdrop and a ballast poke confirmed over subscriptions, the vault decoded", async () => {
  const rpc = createSolanaRpc(net.rpcUrl);
  const rpcSubscriptions = createSolanaRpcSubscriptions(net.wsUrl);

  // A slot notification arrives.
  const abort = new AbortController();
  const slots = await rpcSubscriptions.slotNotifications().subscribe({ abortSignal: abort.signal });
  for await (const n of slots) {
    assert.ok(n.slot > 0n);
    break;
  }
  abort.abort();

  const payer = await generateKeyPairSigner();
  await airdropFactory({ rpc, rpcSubscriptions } as any)({
    recipientAddress: payer.address, lamports: lamports(1_000_000_000n), commitment: "confirmed",
  });
  assert.equal((await rpc.getBalance(payer.address).send()).value, 1_000_000_000n);

  // The demo vault, found and decoded through the IDL's account layout.
  const coder = new BorshAccountsCoder(convertIdlToCamelCase(IDL as any));
  const found = await rpc
    .getProgramAccounts(address(PROGRAM_ID.toBase58()), {
      encoding: "base64",
      filters: [{ memcmp: { offset: 0n, bytes: Buffer.from(coder.accountDiscriminator("vault")).toString("base64") as any, encoding: "base64" } }],
    })
    .send();
  assert.equal(found.length, 1);
  const vaultAddress = found[0].pubkey;
  const vault = coder.decode("vault", Buffer.from(found[0].account.data[0], "base64"));
  const pokeIx = (IDL as any).instructions.find((i: any) => i.name === "poke");
  const instruction = {
    programAddress: address(PROGRAM_ID.toBase58()),
    accounts: [
      { address: vaultAddress, role: AccountRole.WRITABLE },
      { address: address(vault.shareMint.toBase58()), role: AccountRole.READONLY },
      ...vault.assets.flatMap((a: any) => [
        { address: address(a.oracle.toBase58()), role: AccountRole.READONLY },
        { address: address(a.reserve.toBase58()), role: AccountRole.READONLY },
      ]),
    ],
    data: Uint8Array.from(pokeIx.discriminator),
  };
  const { value: latest } = await rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
    (m) => appendTransactionMessageInstruction(instruction, m),
  );
  const signed = await signTransactionMessageWithSigners(message);
  await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions } as any)(signed as any, { commitment: "confirmed" });
  const signature = getSignatureFromTransaction(signed);
  const statuses = await rpc.getSignatureStatuses([signature]).send();
  assert.equal(statuses.value[0]?.err, null);
  const tx = await rpc.getTransaction(signature, { maxSupportedTransactionVersion: 0, encoding: "json" }).send();
  assert.ok(tx?.meta?.logMessages?.some((l) => l.includes("Program data: ")), "the poke's event is in the logs");
  const after = await fetchEncodedAccount(rpc, vaultAddress);
  assert.ok(after.exists);
  assert.equal(coder.decode("vault", Buffer.from(after.data)).vaultId.toString(), vault.vaultId.toString());
});

/** A web3.js instruction (as the client's builders make them) in kit's form (no signer accounts). */
function toKit(ix: TransactionInstruction): Instruction {
  return {
    programAddress: address(ix.programId.toBase58()),
    accounts: ix.keys.map((k) => {
      assert.ok(!k.isSigner, "no signer accounts");
      return { address: address(k.pubkey.toBase58()), role: k.isWritable ? AccountRole.WRITABLE : AccountRole.READONLY };
    }),
    data: Uint8Array.from(ix.data),
  };
}

test("kit: the client's assertMinBalance sent with kit passes at the balance and fails above it with 6131", async () => {
  const rpc = createSolanaRpc(net.rpcUrl);
  const rpcSubscriptions = createSolanaRpcSubscriptions(net.wsUrl);
  const payer = await generateKeyPairSigner();
  await airdropFactory({ rpc, rpcSubscriptions } as any)({
    recipientAddress: payer.address, lamports: lamports(1_000_000_000n), commitment: "confirmed",
  });
  // The builder needs no wallet of the sender: any provider will do.
  const client = new BallastClient(
    new AnchorProvider(new Connection(net.rpcUrl, "confirmed"), new Wallet(Keypair.generate()), { commitment: "confirmed" }),
  );
  const [{ account: vault }] = await client.vaults();
  // The vault's locked first shares: a balance nothing ever moves.
  const { value: held } = await rpc.getTokenAccountBalance(address(vault.lockedShares.toBase58())).send();
  assert.equal(BigInt(held.amount), LOCKED_SHARES);
  const send = async (min: bigint) => {
    const instruction = toKit(await client.assertMinBalance(vault.lockedShares, min).instruction());
    const { value: latest } = await rpc.getLatestBlockhash().send();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) => appendTransactionMessageInstruction(instruction, m),
    );
    const signed = await signTransactionMessageWithSigners(message);
    await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions } as any)(signed as any, { commitment: "confirmed" });
    return getSignatureFromTransaction(signed);
  };
  const signature = await send(LOCKED_SHARES);
  assert.equal((await rpc.getSignatureStatuses([signature]).send()).value[0]?.err, null);
  await assert.rejects(send(LOCKED_SHARES + 1n), (e: any) => {
    const custom = [e, e?.cause].find((x) => isSolanaError(x, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) as any;
    assert.ok(custom, `not a custom instruction error: ${e}`);
    assert.equal(custom.context.code, 6131, "BalanceBelowMinimum");
    return true;
  });
});
