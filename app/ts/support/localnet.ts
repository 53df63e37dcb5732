/**
 * The `ballast localnet` the tests run against. When `BALLAST_RPC_URL` is set (the Rust test suite
 * starts the localnet and a keeper in-process and passes `BALLAST_RPC_URL`, `BALLAST_WS_URL` and
 * `BALLAST_KEYS_DIR`), that one is used; otherwise the test starts `ballast localnet` and `ballast
 * keeper` itself from `BALLAST_BIN` or `target/debug/ballast` (build it with `cargo build -p ballast-app`).
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AnchorProvider, Wallet } from "@anchor-lang/core";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { BallastClient } from "../src";

export interface Localnet {
  rpcUrl: string;
  wsUrl: string;
  keysDir: string;
  stop(): void;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health`);
    return r.ok;
  } catch {
    return false;
  }
}

export async function localnet(): Promise<Localnet> {
  if (process.env.BALLAST_RPC_URL) {
    return {
      rpcUrl: process.env.BALLAST_RPC_URL,
      wsUrl: process.env.BALLAST_WS_URL ?? "",
      keysDir: process.env.BALLAST_KEYS_DIR ?? "",
      stop() {},
    };
  }
  const root = path.resolve(__dirname, "../../../../../..");
  const bin = process.env.BALLAST_BIN ?? path.join(root, "target/debug/ballast");
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} not found: run \`cargo build -p ballast-app\` or set BALLAST_BIN`);
  }
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-ts-"));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const children: ChildProcess[] = [];
  const net = spawn(bin, ["localnet", "--addr", `127.0.0.1:${port}`, "--keys-dir", dir, "--price-path", "hold"], {
    stdio: "ignore",
  });
  children.push(net);
  for (let i = 0; i < 600 && !(await healthy(rpcUrl)); i++) await new Promise((r) => setTimeout(r, 100));
  const keeperKey = path.join(dir, "keeper.json");
  fs.writeFileSync(keeperKey, JSON.stringify(Array.from(Keypair.generate().secretKey)));
  children.push(spawn(bin, ["keeper", "--rpc", rpcUrl, "--keypair", keeperKey, "--interval-ms", "300", "--metrics-addr", "127.0.0.1:0"], { stdio: "ignore" }));
  return {
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port + 1}`,
    keysDir: dir,
    stop() {
      for (const c of children) c.kill();
    },
  };
}

/** A call to one of the localnet's development methods (`ballast_faucet`, `ballast_warpTime`, `ballast_movePrice`). */
export async function dev(rpcUrl: string, method: string, params: unknown[]): Promise<any> {
  const r = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await r.json()) as any;
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export function readKeypair(file: string): Keypair {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(fs.readFileSync(file, "utf8"))));
}

/** Resolves with the first value `poll` returns that is not undefined, or rejects after `ms`. */
export async function eventually<T>(what: string, ms: number, poll: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await poll();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A ballast client that signs as `kp` over `connection`, confirming at "confirmed". */
export function clientFor(connection: Connection, kp: Keypair): BallastClient {
  return new BallastClient(new AnchorProvider(connection, new Wallet(kp), { commitment: "confirmed" }));
}

/** A token account's balance (0 when the account does not exist). */
export async function tokenBalance(connection: Connection, account: PublicKey): Promise<bigint> {
  const info = await connection.getAccountInfo(account);
  return info ? info.data.readBigUInt64LE(64) : 0n;
}
