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
import { BallastClient, ata, availableBalances } from "../src";
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

/** A vault's NAV and weights (bps) read from the chain: reserves less what is owed, pending or still vesting, at
 * Pyth prices. */
async function chainValues(connection: Connection, client: BallastClient, key: PublicKey) {
  const vault = await client.fetchVault(key);
  const now = await client.clusterTime();
  const reserves = await Promise.all(vault.assets.map(async (a) => BigInt((await connection.getTokenAccountBalance(a.reserve)).value.amount)));
  const held = availableBalances(vault, reserves, now);
  const values = await Promise.all(vault.assets.map(async (a, i) => {
    const oracle = await connection.getAccountInfo(a.oracle);
    return (Number(held[i]) / 10 ** a.decimals) * pythPrice(oracle!.data);
  }));
  const nav = values.reduce((s, v) => s + v, 0);
  return { nav, weights: values.map((v) => Math.round((v / nav) * 10_000)) };
}

test("the dashboard shows rebalances, the chain's weights and NAV, and deposits and exits from its dev wallet", async () => {
  await page.goto(net.rpcUrl + "/");
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "live", null, { timeout: 30_000 });
  const before = await page.locator("tr.rebalance").count();

  // A price move: the keeper rebalances and the page shows it without a reload.
  // (−30 % takes BTC, 30 % of the vault, past its 5 % band from the targets: 23 % of the vault.)
  await dev(net.rpcUrl, "ballast_movePrice", [1, -30]);
  await page.waitForFunction((n) => document.querySelectorAll("tr.rebalance").length > n, before, { timeout: 60_000 });

  // Let the keeper finish (no drift left over a band), then compare the page with the chain.
  const connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  const client = new BallastClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), {}));
  const [{ publicKey: key }] = await client.vaults();
  const chainView = () => chainValues(connection, client, key);
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

test("a 128-asset vault is listed a page at a time: every asset's drift at a glance, search, filter, sort and pages that survive live updates", async () => {
  const connection = new Connection(net.rpcUrl, { commitment: "confirmed", wsEndpoint: net.wsUrl });
  const client = new BallastClient(new AnchorProvider(connection, new Wallet(Keypair.generate()), {}));
  const { vault: address } = await dev(net.rpcUrl, "ballast_addLargeVault", [128]);
  const key = new PublicKey(address);
  const section = `section.vault[data-address="${address}"]`;
  await page.waitForSelector(section, { timeout: 60_000 });
  const layout = () => page.evaluate((s) => {
    const el = document.querySelector(s)!;
    return {
      cells: el.querySelectorAll(".strip .cell").length,
      rows: [...el.querySelectorAll("tr.asset-row")].map((tr) => ({
        symbol: tr.getAttribute("data-symbol")!, index: Number(tr.getAttribute("data-index")),
        drift: Number(tr.getAttribute("data-drift")), out: tr.getAttribute("data-out") === "true",
        holdings: tr.querySelector("td.holdings")!.textContent!.trim(),
        weight: Math.round(parseFloat(tr.querySelector("td.weight")!.textContent!) * 100),
      })),
      prices: el.querySelectorAll("tr.price-row").length,
      bars: el.querySelectorAll(".bar").length,
      scale: Number(el.querySelector(".bars")!.getAttribute("data-scale-bps")),
      range: el.querySelector(".pager .range")!.textContent!.trim(),
      outCount: Number(el.querySelector(".pager .out-count")!.textContent),
      outCells: el.querySelectorAll(".strip .cell.out").length,
      sort: (el.querySelector(".asset-sort") as HTMLSelectElement).value,
      next: (el.querySelector(".pager .next") as HTMLButtonElement).disabled,
      nav: Number(el.querySelector("[data-nav]")!.getAttribute("data-nav")),
    };
  }, section);

  // Every asset in the strip; one page of 16 in the bars, the holdings and the prices, largest drift first.
  const first = await layout();
  assert.equal(first.cells, 128);
  assert.deepEqual([first.rows.length, first.prices, first.bars, first.range, first.sort], [16, 16, 16, "1–16 of 128", "drift"]);
  // Weights of 0.78 % on bars from 0 to 1.3 % (1.25 × the highest band edge, 0.79 % + 0.25 %), not 0 to 100 %.
  assert.equal(first.scale, 130);
  // The demo vault beside it is listed whole, without a pager, and stays the wallet's vault.
  const small = await page.evaluate((a) => [...document.querySelectorAll("section.vault")]
    .filter((e) => e.getAttribute("data-address") !== a)
    .map((e) => ({ assets: e.getAttribute("data-assets"), pagers: e.querySelectorAll(".pager").length, rows: e.querySelectorAll("tr.asset-row").length })), address);
  assert.deepEqual(small, [{ assets: "3", pagers: 0, rows: 3 }]);
  assert.notEqual((await page.textContent("#wallet-vault"))!.trim(), address);

  // Amounts in token units with each token's decimals (T0…T127 have 6 to 9), weights and NAV as on chain.
  const listed = await client.fetchVault(key);
  assert.equal(listed.assets.length, 128);
  await eventually("the large vault's NAV and weights as on chain", 60_000, async () => {
    const c = await chainValues(connection, client, key);
    const p = await layout();
    const same = Math.abs(p.nav - c.nav) <= 0.01 + c.nav * 1e-6 && p.rows.every((r) => Math.abs(r.weight - c.weights[r.index]) <= 1);
    return same || undefined;
  });
  for (const r of (await layout()).rows) {
    assert.equal(r.holdings.split(".")[1]?.length ?? 0, listed.assets[r.index].decimals, `${r.symbol}: every decimal of its token`);
  }

  // A 60 % move puts T77 out of its 0.25 % band: red in the strip, first on the first page, alone under "out of band only".
  await dev(net.rpcUrl, "ballast_movePrice", [77, 60, address]);
  const moved = await eventually("T77 out of its band on the page", 60_000, async () => {
    const l = await layout();
    return l.rows[0]?.symbol === "T77" && l.rows[0].out ? l : undefined;
  });
  assert.ok(moved.rows[0].drift > 25, `T77 drifts ${moved.rows[0].drift} bps`);
  for (let i = 1; i < moved.rows.length; i++) {
    assert.ok(Math.abs(moved.rows[i - 1].drift) >= Math.abs(moved.rows[i].drift), "largest drift first");
  }
  assert.equal(moved.outCount, moved.outCells);
  await page.check(`${section} .out-only`);
  const out = await layout();
  assert.ok(out.rows.length >= 1 && out.rows.every((r) => r.out), "only assets out of their band");
  assert.equal(out.rows.length, out.outCount);
  await page.uncheck(`${section} .out-only`);

  // Search by symbol, keeps the focus while typing; by index; a strip cell finds its asset.
  await page.fill(`${section} .asset-search`, "T5");
  assert.deepEqual((await layout()).rows.map((r) => r.symbol).sort(), ["T5", "T50", "T51", "T52", "T53", "T54", "T55", "T56", "T57", "T58", "T59"]);
  await page.keyboard.type("3");
  assert.deepEqual((await layout()).rows.map((r) => r.symbol), ["T53"]);
  assert.equal((await layout()).range, "1–1 of 1 matching (of 128)");
  await page.fill(`${section} .asset-search`, "#100");
  assert.deepEqual((await layout()).rows.map((r) => r.symbol), ["T100"]);
  await page.click(`${section} .strip .cell[data-index="9"]`);
  assert.deepEqual((await layout()).rows.map((r) => r.symbol), ["T9"]);
  await page.fill(`${section} .asset-search`, "");

  // In listing order the 8 pages hold every asset once; the last has no next page.
  await page.selectOption(`${section} .asset-sort`, "index");
  const seen: number[] = [];
  const ranges: string[] = [];
  for (let p = 0; p < 8; p++) {
    const l = await layout();
    ranges.push(l.range);
    seen.push(...l.rows.map((r) => r.index));
    assert.equal(l.next, p === 7);
    if (p < 7) await page.click(`${section} .pager .next`);
  }
  assert.deepEqual(seen, Array.from({ length: 128 }, (_, i) => i));
  assert.deepEqual(ranges, Array.from({ length: 8 }, (_, p) => `${p * 16 + 1}–${p * 16 + 16} of 128`));

  // A live update (a price move on the demo vault) redraws the page and keeps the page and sort chosen.
  const stamp = await page.evaluate(() => document.body.dataset.refreshed);
  await dev(net.rpcUrl, "ballast_movePrice", [0, 1]);
  await page.waitForFunction((s) => document.body.dataset.refreshed !== s, stamp, { timeout: 30_000 });
  const after = await layout();
  assert.deepEqual([after.range, after.sort, after.rows[0].index], ["113–128 of 128", "index", 112]);

  fs.mkdirSync(path.join(ROOT, "target"), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, "target/dashboard-large.png"), fullPage: true });
});
