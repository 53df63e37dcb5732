/**
 * The web dashboard in headless Chromium (Debian's package, driven by playwright-core): the page loads
 * and goes live, a rebalance appears after a price move, the weights and NAV it shows match the chain
 * (read here over JSON-RPC with @anchor-lang/core), and a deposit made from the page with the local
 * development wallet lands; the wallet then leaves in USDC in one transaction ("Withdraw to": in-kind
 * withdrawal, swaps, one minimum), deposits again and withdraws in kind. A screenshot is written to
 * `target/dashboard.png` for review.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { AnchorProvider, Wallet } from "@anchor-lang/core";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { Browser, chromium, Page } from "playwright-core";
import { BallastClient, ata } from "../src";
import { Localnet, dev, eventually, localnet } from "../support/localnet";

const ROOT = path.resolve(__dirname, "../../../../../..");
let net: Localnet;
let browser: Browser;
let page: Page;

before(async () => {
  net = await localnet();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  page.on("pageerror", (e) => console.error("page error:", e.message));
});

after(async () => {
  await browser?.close();
  net?.stop();
});

/** Pyth PriceUpdateV2: price × 10^expo. */
function pythPrice(data: Buffer): number {
  let o = 8 + 32;
  o += data[o] === 0 ? 2 : 1; // verification level: Partial { num_signatures } or Full
  o += 32; // feed id
  const price = data.readBigInt64LE(o);
  const expo = data.readInt32LE(o + 16);
  return Number(price) * 10 ** expo;
}

test("the dashboard shows rebalances, the chain's weights and NAV, and deposits and exits from its dev wallet", async () => {
  await page.goto(net.rpcUrl + "/");
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "live", null, { timeout: 30_000 });
  const before = await page.locator("tr.rebalance").count();

  // A price move: the keeper rebalances and the page shows it without a reload.
  await dev(net.rpcUrl, "ballast_movePrice", [1, -20]);
  await page.waitForFunction((n) => document.querySelectorAll("tr.rebalance").length > n, before, { timeout: 60_000 });

  // Let the keeper finish (no drift left over a band), then compare the page with the chain.
  const connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  const client = new BallastClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), {}));
  const [{ publicKey: key }] = await client.vaults();
  const chainView = async () => {
    const vault = await client.fetchVault(key);
    const values = await Promise.all(vault.assets.map(async (a) => {
      const reserve = BigInt((await connection.getTokenAccountBalance(a.reserve)).value.amount);
      const held = reserve - BigInt(a.owed.toString()) - BigInt(a.pendingIn.toString());
      const oracle = await connection.getAccountInfo(a.oracle);
      return (Number(held) / 10 ** a.decimals) * pythPrice(oracle!.data);
    }));
    const nav = values.reduce((s, v) => s + v, 0);
    return { nav, weights: values.map((v) => Math.round((v / nav) * 10_000)) };
  };
  const pageView = async () => page.evaluate(() => ({
    nav: Number(document.querySelector("[data-nav]")!.getAttribute("data-nav")),
    weights: [...document.querySelectorAll("section.vault tbody tr td.weight")].map((td) => Math.round(parseFloat(td.textContent!) * 100)),
  }));
  const matched = await eventually("the page to show the chain's state", 30_000, async () => {
    const c = await chainView();
    await page.waitForTimeout(400); // a notification-driven refresh is debounced by 150 ms
    const p = await pageView();
    const same = Math.abs(p.nav - c.nav) <= 0.01 + c.nav * 1e-6 && p.weights.every((w, i) => Math.abs(w - c.weights[i]) <= 1);
    return same ? { c, p } : undefined;
  });
  assert.equal(matched.p.weights.length, 3);

  // Per asset the prices table shows the oracle's spot, its EMA and the divergence between them, and the
  // price the whitelisted pools imply; every holding is in token units with the token's decimals.
  const shown = await page.evaluate(() => [...document.querySelectorAll("section.vault tr.price-row")].map((tr) => ({
    symbol: tr.getAttribute("data-symbol"),
    spot: Number(tr.querySelector("td.spot")!.getAttribute("data-price")),
    ema: Number(tr.querySelector("td.ema")!.getAttribute("data-ema")),
    emaText: tr.querySelector("td.ema")!.textContent!.trim(),
    divergenceText: tr.querySelector("td.ema-divergence")!.textContent!.trim(),
    pools: [...tr.querySelectorAll(".pool-price")].map((p) => Number(p.getAttribute("data-price"))),
  })));
  assert.equal(shown.length, 3);
  for (const a of shown) {
    assert.ok(Number.isFinite(a.ema) && a.ema > 0, `${a.symbol}: an EMA price is shown`);
    assert.match(a.emaText, /^\$[\d,]+\.\d+$/);
    assert.match(a.divergenceText, /^[+−]?[\d,]+\.\d{2} %$/);
  }
  const pooled = shown.find((a) => a.pools.length > 0);
  assert.ok(pooled, "at least one asset shows a pool price");
  for (const price of pooled.pools) {
    // Pools are arbitraged to the oracle: a wrong scale (decimals) would be off by powers of ten.
    assert.ok(price > pooled.spot / 2 && price < pooled.spot * 2, `${pooled.symbol}: pool price ${price} near spot ${pooled.spot}`);
  }
  const listed = await client.fetchVault(key);
  const holdings = await page.evaluate(() =>
    [...document.querySelectorAll("section.vault tbody tr td.holdings")].map((td) => td.textContent!.trim()));
  assert.deepEqual(holdings.map((h) => h.split(".")[1]?.length ?? 0), listed.assets.map((a) => a.decimals));

  // A deposit from the page's development wallet.
  await page.click("#faucet");
  await page.waitForFunction(() => document.getElementById("wallet-status")?.textContent === "funded from the faucet", null, { timeout: 30_000 });
  await page.click("#deposit");
  await page.waitForFunction(() => /deposit (confirmed|failed)/.test(document.getElementById("wallet-status")?.textContent ?? ""), null, { timeout: 60_000 });
  const status = await page.textContent("#wallet-status");
  assert.match(status!, /deposit confirmed/);
  const owner = new PublicKey((await page.textContent("#wallet-address"))!.trim());
  const vault = await client.fetchVault(key);
  const shares = BigInt((await connection.getTokenAccountBalance(ata(owner, vault.shareMint))).value.amount);
  assert.ok(shares > 0n, "the page's wallet holds shares on chain");
  const signature = await page.evaluate(() => document.body.dataset.lastDeposit);
  const tx = await connection.getTransaction(signature!, { maxSupportedTransactionVersion: 0 });
  assert.equal(tx!.meta!.err, null);
  await page.waitForFunction((s) => document.getElementById("wallet-shares")?.getAttribute("data-base") === s, shares.toString(), { timeout: 10_000 });

  // Every share out in USDC in one transaction from the wallet's "Withdraw to" select: the preview (each slice,
  // its route and quote), then the result.
  const usdc = ata(owner, vault.assets[2].mint);
  const usdcBefore = BigInt((await connection.getTokenAccountBalance(usdc)).value.amount);
  await page.selectOption("#exit-to", { label: "USDC" });
  assert.equal((await page.textContent("#exit"))!.trim(), "Withdraw all to USDC");
  await page.click("#exit");
  await page.waitForFunction(() => /^exit (confirmed|failed)/.test(document.getElementById("wallet-status")?.textContent ?? ""), null, { timeout: 60_000 });
  assert.match((await page.textContent("#wallet-status"))!, /^exit confirmed \(.+\): received [\d,]+\.\d{6} USDC \(at least [\d,]+\.\d{6}\)$/);
  const exit = await page.evaluate(() => ({
    min: document.getElementById("exit-min")!.getAttribute("data-base")!,
    expected: document.getElementById("exit-expected")!.getAttribute("data-base")!,
    received: document.getElementById("exit-preview")!.dataset.received!,
    slices: [...document.querySelectorAll("#exit-preview li")].map((li) => li.textContent!.trim()),
  }));
  assert.equal(exit.slices.length, 3);
  assert.match(exit.slices[0], /^[\d,]+\.\d{9} SOL → [\d,]+\.\d{6} USDC via (reference|raydium-cpmm|orca-whirlpool) /);
  assert.match(exit.slices[1], /^[\d,]+\.\d{8} BTC → [\d,]+\.\d{6} USDC via /);
  assert.match(exit.slices[2], /^[\d,]+\.\d{6} USDC paid as is$/);
  const usdcAfter = BigInt((await connection.getTokenAccountBalance(usdc)).value.amount);
  assert.ok(usdcAfter > usdcBefore, "the wallet's USDC rose");
  assert.equal((usdcAfter - usdcBefore).toString(), exit.received);
  assert.ok(usdcAfter - usdcBefore >= BigInt(exit.min) && BigInt(exit.min) < BigInt(exit.expected), "at least the minimum");
  assert.equal((await connection.getTokenAccountBalance(ata(owner, vault.shareMint))).value.amount, "0");
  const exitTx = await connection.getTransaction((await page.evaluate(() => document.body.dataset.lastExit))!, { maxSupportedTransactionVersion: 0 });
  assert.equal(exitTx!.meta!.err, null);

  fs.mkdirSync(path.join(ROOT, "target"), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, "target/dashboard.png"), fullPage: true });

  // Shares again, and every share back out in kind.
  await page.click("#deposit");
  await page.waitForFunction(() => /^deposit(ing)? (confirmed|failed)/.test(document.getElementById("wallet-status")?.textContent ?? ""), null, { timeout: 60_000 });
  assert.match((await page.textContent("#wallet-status"))!, /deposit confirmed/);
  await page.waitForFunction(() => (document.getElementById("wallet-shares")?.getAttribute("data-base") ?? "0") !== "0", null, { timeout: 10_000 });
  await page.click("#withdraw");
  await page.waitForFunction(() => /withdraw(al confirmed|ing failed)/.test(document.getElementById("wallet-status")?.textContent ?? ""), null, { timeout: 60_000 });
  assert.match((await page.textContent("#wallet-status"))!, /withdrawal confirmed/);
  assert.equal((await connection.getTokenAccountBalance(ata(owner, vault.shareMint))).value.amount, "0");
});
