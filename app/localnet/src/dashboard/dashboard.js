// The ballast localnet dashboard. No dependencies: JSON-RPC over fetch, pubsub over the page's own
// websocket, Ed25519 signing with WebCrypto for the local development wallet.
"use strict";

const state = { vaults: [], wallet: null, ws: null, nextId: 1, pending: new Map(), subs: new Map(), refreshQueued: false };
const $ = (id) => document.getElementById(id);
const fmt = (x, d = 2) => Number(x).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const pct = (bps) => fmt(bps / 100, 2) + " %";
const short = (s) => s.slice(0, 4) + "…" + s.slice(-4);
// Base units (string, number or BigInt) in token units with every decimal of the token, thousands grouped.
function units(base, decimals) {
  const s = BigInt(base ?? 0).toString().padStart(decimals + 1, "0");
  const whole = s.slice(0, s.length - decimals).replace(/\B(?=(\d{3})+$)/g, ",");
  return decimals > 0 ? whole + "." + s.slice(s.length - decimals) : whole;
}
const signedPct = (bps) => (bps > 0 ? "+" : bps < 0 ? "−" : "") + pct(Math.abs(bps));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// ---- base58 / base64 ----
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = "";
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = "1" + out; }
  return out;
}
const b64decode = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const b64encode = (bytes) => btoa(String.fromCharCode(...bytes));

// ---- JSON-RPC and pubsub ----
async function rpc(method, params = []) {
  const r = await fetch("/", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: state.nextId++, method, params }) });
  const body = await r.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/");
  state.ws = ws;
  ws.onopen = () => {
    $("status").textContent = "live";
    $("status").className = "";
    subscribe("slotSubscribe", [], (r) => { $("slot").textContent = r.slot; });
    subscribe("logsSubscribe", [{ mentions: [window.BALLAST_PROGRAM] }, { commitment: "confirmed" }], () => queueRefresh());
    for (const v of state.vaults) watchVault(v.address);
  };
  ws.onclose = () => {
    $("status").textContent = "disconnected: reconnecting…";
    $("status").className = "bad";
    state.subs.clear();
    setTimeout(connect, 1000);
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id !== undefined && state.pending.has(msg.id)) {
      const { resolve, reject } = state.pending.get(msg.id);
      state.pending.delete(msg.id);
      msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result);
    } else if (msg.params) {
      const cb = state.subs.get(msg.params.subscription);
      if (cb) cb(msg.params.result);
    }
  };
}

function request(method, params) {
  const id = state.nextId++;
  state.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  return new Promise((resolve, reject) => state.pending.set(id, { resolve, reject }));
}

async function subscribe(method, params, cb) {
  const sub = await request(method, params);
  state.subs.set(sub, cb);
  return sub;
}

const watched = new Set();
function watchVault(address) {
  if (watched.has(address) && state.ws.readyState === 1) return;
  watched.add(address);
  subscribe("accountSubscribe", [address, { encoding: "base64" }], () => queueRefresh());
}

function queueRefresh() {
  if (state.refreshQueued) return;
  state.refreshQueued = true;
  setTimeout(() => { state.refreshQueued = false; refresh(); }, 150);
}

// ---- views ----
// A vault of more than PAGE_SIZE assets is listed a page at a time: every asset at a glance in the drift strip,
// then the bars, holdings and prices of one page of them, found by symbol, mint or index, sorted, or only those
// out of their band. Each vault's choice (state.views) survives the live refreshes.
const PAGE_SIZE = 16;
const SORTS = {
  drift: ["largest drift first", (a, b) => Math.abs(b.driftBps) - Math.abs(a.driftBps) || a.index - b.index],
  index: ["listing order", (a, b) => a.index - b.index],
  value: ["largest value first", (a, b) => b.valueUsd - a.valueUsd || a.index - b.index],
  symbol: ["symbol", (a, b) => a.symbol.localeCompare(b.symbol, "en", { numeric: true }) || a.index - b.index],
};
state.views = {};
const viewOf = (address) => (state.views[address] ??= { page: 0, sort: "drift", query: "", outOnly: false });
const paged = (v) => v.assets.length > PAGE_SIZE;

// The assets shown: all of a small vault; of a large one, those matching the search, sorted, one page.
function shownAssets(v) {
  if (!paged(v)) return { rows: v.assets, matching: v.assets.length, from: 0, pages: 1 };
  const view = viewOf(v.address);
  const raw = view.query.trim();
  const q = raw.toLowerCase();
  // "#12" is an index; a mint is matched by its first 4 or more characters (case matters in base58).
  const hit = (a) => !q || (q.startsWith("#") ? String(a.index) === q.slice(1)
    : a.symbol.toLowerCase().includes(q) || (raw.length >= 4 && a.mint.startsWith(raw)) || String(a.index) === q);
  const matching = v.assets.filter((a) => (!view.outOnly || a.outOfBand) && hit(a)).sort(SORTS[view.sort][1]);
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  view.page = Math.min(Math.max(0, view.page), pages - 1);
  const from = view.page * PAGE_SIZE;
  return { rows: matching.slice(from, from + PAGE_SIZE), matching: matching.length, from, pages };
}

// Every asset of a large vault in one strip, one cell each: red out of its band, shaded by drift against the band.
function renderStrip(v) {
  const cells = v.assets.map((a) => {
    const share = a.bandBps > 0 ? Math.min(1, Math.abs(a.driftBps) / a.bandBps) : 1;
    return `<span class="cell${a.outOfBand ? " out" : ""}" data-index="${a.index}" style="opacity:${(0.25 + 0.75 * share).toFixed(2)}"
      title="${esc(a.symbol)} #${a.index}: drift ${signedPct(a.driftBps)}, band ± ${pct(a.bandBps)}"></span>`;
  }).join("");
  return `<div class="strip" data-vault="${v.address}">${cells}</div>`;
}

function renderPager(v, shown) {
  const view = viewOf(v.address);
  const out = v.assets.filter((a) => a.outOfBand).length;
  const range = shown.matching ? `${shown.from + 1}–${shown.from + shown.rows.length} of ${shown.matching}` : "none of";
  const options = Object.entries(SORTS).map(([k, [label]]) => `<option value="${k}"${k === view.sort ? " selected" : ""}>${label}</option>`).join("");
  return `<div class="pager" data-vault="${v.address}">
    <span class="summary"><b>${v.assets.length}</b> assets · <b class="out-count ${out ? "out" : "in"}">${out}</b> out of band</span>
    <input class="asset-search" placeholder="find: symbol, mint or #index" value="${esc(view.query)}">
    <label><input type="checkbox" class="out-only"${view.outOnly ? " checked" : ""}> out of band only</label>
    <select class="asset-sort">${options}</select>
    <button class="secondary prev"${view.page > 0 ? "" : " disabled"}>‹</button>
    <span class="range">${range}${shown.matching && shown.matching < v.assets.length ? ` matching (of ${v.assets.length})` : ""}</span>
    <button class="secondary next"${view.page + 1 < shown.pages ? "" : " disabled"}>›</button>
  </div>`;
}

const assetName = (v, a) => `<b>${esc(a.symbol)}</b>${paged(v) ? ` <span class="muted">#${a.index}</span>` : ""}`;

function renderVault(v) {
  const paused = Object.entries(v.paused).filter(([, on]) => on).map(([k]) => `<span class="badge bad">${k} paused</span>`).join("")
    || '<span class="badge ok">nothing paused</span>';
  if (v.error) return `<section><h2>vault <code>${v.address}</code></h2><p class="out">${esc(v.error)}</p></section>`;
  const shown = shownAssets(v);
  // The bars span the whole vault, or for a large vault (weights of a few %) 1.25× its largest weight or band edge.
  const full = paged(v)
    ? Math.min(10000, Math.ceil((1.25 * Math.max(...v.assets.map((a) => Math.max(a.weightBps, a.targetBps + a.bandBps)))) / 10) * 10)
    : 10000;
  const at = (bps) => Math.min(100, (100 * bps) / full);
  const bars = shown.rows.map((a) => {
    const lo = at(Math.max(0, a.targetBps - a.bandBps)), hi = at(Math.min(10000, a.targetBps + a.bandBps));
    return `<div class="bar" data-symbol="${esc(a.symbol)}"><b>${esc(a.symbol)}</b><div class="track">
      <div class="band" style="left:${lo}%;width:${hi - lo}%"></div>
      <div class="weight${a.outOfBand ? " out" : ""}" style="width:${at(a.weightBps)}%"></div>
      <div class="target" style="left:${at(a.targetBps)}%"></div></div>
      <span>${pct(a.weightBps)} <span class="muted">/ ${pct(a.targetBps)} ± ${pct(a.bandBps)}</span></span></div>`;
  }).join("");
  const rows = shown.rows.map((a) => `<tr class="asset-row" data-symbol="${esc(a.symbol)}" data-index="${a.index}" data-drift="${a.driftBps}" data-out="${a.outOfBand}">
      <td>${assetName(v, a)}</td><td class="holdings">${units(a.balanceBase, a.decimals)}</td><td class="value">$${fmt(a.valueUsd)}</td>
      <td class="weight">${pct(a.weightBps)}</td><td>${pct(a.targetBps)}</td><td>± ${pct(a.bandBps)}</td>
      <td class="${a.outOfBand ? "out" : "in"}">${a.driftBps > 0 ? "+" : ""}${pct(a.driftBps)}</td></tr>`).join("")
    || '<tr><td colspan="7" class="muted">no asset matches</td></tr>';
  const pending = v.pendingParams?.staging
    ? `<h3>Pending governance change</h3><p class="staging">being staged: <b>${v.pendingParams.staged} of ${v.pendingParams.total}</b>
        assets' parameters in; it cannot execute, and its timelock starts when the last arrive</p>
       <ul>${v.pendingParams.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`
    : v.pendingParams
    ? `<h3>Pending governance change</h3><p>executes ${v.pendingParams.secondsLeft > 0
        ? `in <b class="countdown" data-eta="${v.pendingParams.eta}">${v.pendingParams.secondsLeft} s</b> (chain time)` : "<b>now (timelock elapsed)</b>"}</p>
       <ul>${v.pendingParams.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`
    : '<h3>Pending governance change</h3><p class="muted">none</p>';
  const f = v.fees;
  const fees = !f ? "" : `<h3>Fees</h3><p class="fees">management ${pct(f.managementBps)} a year, performance ${pct(f.performanceBps)}
      above the high-water mark ($${fmt(f.hwmUsd, 6)} a share), entry ${pct(f.entryBps)} and exit ${pct(f.exitBps)} (kept by the vault).
      Earned so far: ${units(f.managementSharesBase, v.shareDecimals)} shares of management and
      ${units(f.performanceSharesBase, v.shareDecimals)} of performance fee; owed, not yet minted: ${units(f.pendingSharesBase, v.shareDecimals)}; last accrued on fresh prices
      ${f.secondsSincePricedAccrual >= 0 ? `${f.secondsSincePricedAccrual} s ago (chain time)` : "never"}.</p>`;
  const large = paged(v)
    ? `<h3>Drift of every asset (red: out of its band)</h3>${renderStrip(v)}${renderPager(v, shown)}
       <p class="muted">${v.directFlows ? "" : "Above 16 assets: deposits are single-asset, withdrawals go through a claim redeemed asset by asset."}</p>`
    : "";
  return `<section class="vault" data-address="${v.address}" data-assets="${v.assets.length}">
    <h2>vault <code>${v.address}</code> <span class="badge">${esc(v.status)}</span>${paused}</h2>
    <div class="figures">
      <div class="figure"><b id="nav-${v.address}" data-nav="${v.navUsd}">$${fmt(v.navUsd)}</b><span>net asset value</span></div>
      <div class="figure"><b data-share-price="${v.sharePriceUsd}">$${fmt(v.sharePriceUsd, 6)}</b><span>per share</span></div>
      <div class="figure"><b>${units(v.shareSupplyBase, v.shareDecimals)}</b><span>shares</span></div>
      <div class="figure"><b class="${v.maxDriftBps > 0 ? "" : "in"}">${pct(v.maxDriftBps)}</b><span>largest drift</span></div>
      <div class="figure"><b>${esc(v.bandMode.split(" ")[0])}</b><span>band mode</span></div>
      <div class="figure"><b>${v.assets.length}</b><span>assets</span></div>
    </div>
    ${large}
    <h3>Weights against targets (shaded: the ε band${full < 10000 ? `; bars from 0 to ${pct(full)}` : ""})</h3><div class="bars" data-scale-bps="${full}">${bars}</div>
    <table class="holdings-table"><thead><tr><th>asset</th><th>holdings</th><th>value</th><th>weight</th><th>target</th><th>band</th><th>drift</th></tr></thead><tbody>${rows}</tbody></table>
    ${renderPrices(v, shown.rows)}
    <p class="muted">a keeper now: ${esc(v.keeperWouldDo)}</p>
    ${pending}
    ${fees}
  </section>`;
}

// Every vault, keeping the focus (and caret) of an asset search being typed in.
function renderVaults() {
  const active = document.activeElement;
  const typing = active?.classList.contains("asset-search")
    ? { vault: active.closest(".pager").dataset.vault, at: active.selectionStart } : null;
  $("vaults").innerHTML = state.vaults.map(renderVault).join("") || "<section>no vault yet</section>";
  if (typing) {
    const input = document.querySelector(`.pager[data-vault="${typing.vault}"] .asset-search`);
    input?.focus();
    input?.setSelectionRange(typing.at, typing.at);
  }
}

// The pagers' controls, once for the container (its content is replaced on every refresh).
function wirePagers() {
  const container = $("vaults");
  const change = (e, fn) => {
    const pager = e.target.closest(".pager, .strip");
    if (!pager) return;
    fn(viewOf(pager.dataset.vault), e.target);
    renderVaults();
  };
  container.addEventListener("input", (e) => {
    if (e.target.classList.contains("asset-search")) change(e, (view, el) => { view.query = el.value; view.page = 0; });
  });
  container.addEventListener("change", (e) => {
    if (e.target.classList.contains("out-only")) change(e, (view, el) => { view.outOnly = el.checked; view.page = 0; });
    if (e.target.classList.contains("asset-sort")) change(e, (view, el) => { view.sort = el.value; view.page = 0; });
  });
  container.addEventListener("click", (e) => {
    if (e.target.classList.contains("prev")) change(e, (view) => { view.page -= 1; });
    if (e.target.classList.contains("next")) change(e, (view) => { view.page += 1; });
    // A cell of the strip finds its asset.
    if (e.target.classList.contains("cell")) change(e, (view, el) => {
      Object.assign(view, { query: "#" + el.dataset.index, outOnly: false, page: 0 });
    });
  });
}

// Per asset: the oracle's spot and EMA (their divergence against the vault's bound, red beyond it) and the USD
// price each whitelisted pool trading the asset implies through the other asset's oracle (amber beyond the vault's
// pool bound, where single-asset flows wait).
function renderPrices(v, assets) {
  const bound = v.maxEmaDivergenceBps;
  const poolBound = v.maxPoolDivergenceBps;
  const rows = assets.map((a) => {
    const ema = a.emaDivergenceBps === null ? "no EMA"
      : `${a.price >= a.emaPrice ? "+" : "−"}${pct(a.emaDivergenceBps)}`;
    const pools = a.poolPrices.map((p) => `<div class="pool-price" data-pool="${p.pool}" data-price="${p.priceUsd}">
        $${fmt(p.priceUsd, 4)} <span class="${Math.abs(p.divergenceBps) > poolBound ? "warn" : "muted"}">${signedPct(p.divergenceBps)}</span>
        <span class="muted">via ${esc(p.otherSymbol)} · ${esc(p.venue ?? "pool")} <code>${short(p.pool)}</code></span></div>`).join("")
      || '<span class="muted">no whitelisted pool</span>';
    return `<tr class="price-row" data-symbol="${esc(a.symbol)}" data-index="${a.index}"><td>${assetName(v, a)}</td>
      <td class="spot" data-price="${a.price}">$${fmt(a.price, 4)}</td><td>${a.priceAgeSecs} s</td><td>${fmt(a.confBps / 100, 2)} %</td>
      <td class="ema" data-ema="${a.emaPrice}">$${fmt(a.emaPrice, 4)}</td>
      <td class="ema-divergence ${a.emaWithinBound ? "in" : "out"}" data-bps="${a.emaDivergenceBps ?? ""}">${ema}</td>
      <td class="pools">${pools}</td></tr>`;
  }).join("");
  return `<h3>Prices: oracle spot, Pyth EMA, whitelisted pools</h3>
    <table class="prices"><thead><tr><th>asset</th><th>oracle spot</th><th>age</th><th>confidence</th><th>EMA</th>
      <th>spot vs EMA (bound ${pct(bound)})</th><th>pool price (vs spot, bound ${pct(poolBound)})</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderHistory(h) {
  $("history").querySelector("tbody").innerHTML = h.rebalances.map((r) => `<tr class="rebalance">
      <td>${new Date(r.time * 1000).toISOString().slice(11, 19)}</td><td><code>${short(r.keeper)}</code></td><td>${esc(r.route)}</td>
      <td>${units(r.amountInBase, r.sellDecimals)} ${esc(r.sell)}</td><td>${units(r.minOutBase, r.buyDecimals)} ${esc(r.buy)}</td>
      <td>${units(r.receivedBase, r.buyDecimals)} ${esc(r.buy)}</td>
      <td>${units(r.bountyBase, r.sellDecimals)} ${esc(r.sell)} <span class="muted">($${fmt(r.bountyUsd, 4)})</span></td><td><code>${short(r.signature)}</code></td></tr>`).join("")
    || '<tr><td colspan="8" class="muted">no rebalance yet</td></tr>';
  $("keepers").querySelector("tbody").innerHTML = h.keepers.map((k) => `<tr><td><code>${k.keeper}</code></td><td>${k.rebalances}</td>
      <td>$${fmt(k.bountyUsd, 4)}</td><td>${units(k.feesLamports, 9)} SOL</td><td>${new Date(k.lastTime * 1000).toISOString().slice(11, 19)}</td></tr>`).join("")
    || '<tr><td colspan="5" class="muted">none yet</td></tr>';
  $("failed").textContent = `${h.failedTransactions} failed ballast transaction(s) on record.`;
}

async function refresh() {
  try {
    const [v, h] = await Promise.all([fetch("/api/vaults").then((r) => r.json()), fetch("/api/history").then((r) => r.json())]);
    state.vaults = v.vaults;
    state.chainTime = v.unixTime;
    $("slot").textContent = v.slot;
    $("chain-time").textContent = new Date(v.unixTime * 1000).toISOString().slice(11, 19);
    renderVaults();
    if (state.ws && state.ws.readyState === 1) for (const x of v.vaults) watchVault(x.address);
    renderHistory(h);
    renderDepositInputs();
    renderExitSelect();
    await refreshWallet();
    document.body.dataset.refreshed = String(Date.now());
  } catch (e) {
    $("status").textContent = "refresh failed: " + e.message;
  }
}

// ---- local development wallet ----
// The vault the wallet deposits into and withdraws from: the first whose flows each fit one transaction.
const walletVault = () => state.vaults.find((v) => v.directFlows && !v.error) ?? state.vaults[0];

// The amount of an SPL token account's data (u64 little-endian at byte 64).
function tokenAmount(d) {
  let amount = 0n;
  for (let i = 7; i >= 0; i--) amount = amount * 256n + BigInt(d[64 + i]);
  return amount;
}

async function tokenBalance(address) {
  const info = await rpc("getAccountInfo", [address, { encoding: "base64" }]);
  return info.value ? tokenAmount(b64decode(info.value.data[0])) : 0n;
}

async function loadWallet() {
  let stored = localStorage.getItem("ballast-dev-wallet");
  let keys;
  if (stored) {
    const { pkcs8, raw } = JSON.parse(stored);
    keys = { privateKey: await crypto.subtle.importKey("pkcs8", b64decode(pkcs8), { name: "Ed25519" }, false, ["sign"]), raw: b64decode(raw) };
  } else {
    const kp = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", kp.privateKey));
    localStorage.setItem("ballast-dev-wallet", JSON.stringify({ pkcs8: b64encode(pkcs8), raw: b64encode(raw) }));
    keys = { privateKey: kp.privateKey, raw };
  }
  state.wallet = { ...keys, address: base58(keys.raw) };
  $("wallet-address").textContent = state.wallet.address;
}

async function refreshWallet() {
  if (!state.wallet || !state.vaults.length) return;
  const v = walletVault();
  $("wallet-vault").textContent = v.address;
  const sol = await rpc("getBalance", [state.wallet.address]);
  $("wallet-sol").textContent = `· ${units(sol.value, 9)} SOL`;
  const owned = await rpc("getProgramAccounts", ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    { encoding: "base64", filters: [{ dataSize: 165 }, { memcmp: { offset: 32, bytes: state.wallet.address } }] }]);
  const byMint = {};
  for (const a of owned) {
    const d = b64decode(a.account.data[0]);
    byMint[base58(d.slice(0, 32))] = tokenAmount(d);
  }
  state.walletBalances = byMint;
  const parts = v.assets.map((a) => `${esc(a.symbol)} <b data-wallet="${esc(a.symbol)}">${units(byMint[a.mint] ?? 0n, a.decimals)}</b>`);
  const shares = byMint[v.shareMint] ?? 0n;
  parts.push(`shares <b id="wallet-shares" data-base="${shares}">${units(shares, v.shareDecimals)}</b>`);
  $("wallet-balances").innerHTML = parts.join(" · ");
}

function renderDepositInputs() {
  const v = walletVault();
  if (!v || $("deposit-inputs").childElementCount) return;
  const defaults = { SOL: "2", BTC: "0.01", USDC: "500" };
  $("deposit-inputs").innerHTML = "deposit at most " + v.assets.map((a) =>
    `<label>${esc(a.symbol)} <input data-asset="${a.index}" value="${defaults[a.symbol] ?? "1"}"></label>`).join(" ");
}

// "Withdraw to ▾": the vault's assets, USDC chosen first; the button names the choice.
function renderExitSelect() {
  const v = walletVault();
  const sel = $("exit-to");
  if (!v || sel.childElementCount) return;
  sel.innerHTML = v.assets.map((a) => `<option value="${a.index}">${esc(a.symbol)}</option>`).join("");
  const usdc = v.assets.find((a) => a.symbol === "USDC");
  if (usdc) sel.value = String(usdc.index);
  const label = () => { $("exit").textContent = "Withdraw all to " + sel.selectedOptions[0].textContent; };
  sel.onchange = label;
  label();
}

// An exit's preview: each slice, the route it is sold through and its quote; the expected and least output.
function renderExitPreview(p) {
  const to = esc(p.toSymbol);
  const lines = p.slices.map((s) => `<li data-asset="${s.asset}">` + (s.venue
    ? `${units(s.swapped, s.decimals)} ${esc(s.symbol)} → ${units(s.quotedOut, p.toDecimals)} ${to} via ${esc(s.venue)} <code>${short(s.pool)}</code>`
    : s.asset === p.to ? `${units(s.amount, s.decimals)} ${esc(s.symbol)} paid as is`
      : `${units(s.kept, s.decimals)} ${esc(s.symbol)} kept: no pool pays for it`) + "</li>").join("");
  const impact = p.priceImpactBps === null ? "n/a" : pct(p.priceImpactBps);
  $("exit-preview").innerHTML = `exit of ${units(p.shares, walletVault().shareDecimals)} shares to ${to}:<ul>${lines}</ul>
    expected <b id="exit-expected" data-base="${p.expectedOut}">${units(p.expectedOut, p.toDecimals)} ${to}</b>,
    at least <b id="exit-min" data-base="${p.minOut}">${units(p.minOut, p.toDecimals)} ${to}</b>
    (fees and price impact ${impact}; one transaction of ${p.txBytes} bytes)`;
}

function baseUnits(text, decimals) {
  const [whole, frac = ""] = text.trim().split(".");
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(frac) || frac.length > decimals) throw new Error(`"${text}" is not an amount with at most ${decimals} decimals`);
  return (BigInt(whole || "0") * 10n ** BigInt(decimals) + BigInt((frac + "0".repeat(decimals)).slice(0, decimals))).toString();
}

async function signAndSend(b64tx) {
  const tx = b64decode(b64tx);
  // Legacy wire format: compact-u16 signature count (1 here), the signatures, then the message.
  const count = tx[0];
  const message = tx.slice(1 + 64 * count);
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, state.wallet.privateKey, message));
  tx.set(sig, 1);
  const signature = await rpc("sendTransaction", [b64encode(tx), { encoding: "base64" }]);
  // Confirm over the websocket.
  await new Promise((resolve, reject) => {
    subscribe("signatureSubscribe", [signature, { commitment: "confirmed" }], (r) => {
      r.value.err ? reject(new Error("transaction failed: " + JSON.stringify(r.value.err))) : resolve();
    });
    setTimeout(() => reject(new Error("not confirmed within 30 s")), 30000);
  });
  return signature;
}

async function act(button, what, fn) {
  const buttons = document.querySelectorAll("#wallet button");
  buttons.forEach((b) => (b.disabled = true));
  $("wallet-status").textContent = what + "…";
  try {
    $("wallet-status").textContent = await fn();
  } catch (e) {
    $("wallet-status").textContent = what + " failed: " + e.message;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    await refresh();
  }
}

async function buildTx(kind, body) {
  const r = await fetch("/api/tx/" + kind, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error);
  return j;
}

function wire() {
  $("faucet").onclick = () => act($("faucet"), "funding", async () => {
    await rpc("ballast_faucet", [state.wallet.address]);
    return "funded from the faucet";
  });
  $("deposit").onclick = () => act($("deposit"), "depositing", async () => {
    const v = walletVault();
    const maxAmountsIn = v.assets.map((a) => baseUnits(document.querySelector(`input[data-asset="${a.index}"]`).value, a.decimals));
    const built = await buildTx("deposit", { owner: state.wallet.address, vault: v.address, maxAmountsIn });
    const sig = await signAndSend(built.transaction);
    document.body.dataset.lastDeposit = sig;
    return `deposit confirmed (${short(sig)}): ${units(built.preview.shares, v.shareDecimals)} shares`;
  });
  $("withdraw").onclick = () => act($("withdraw"), "withdrawing", async () => {
    const v = walletVault();
    const shares = $("wallet-shares")?.dataset.base ?? "0";
    if (shares === "0") throw new Error("this wallet holds no shares");
    const built = await buildTx("withdraw", { owner: state.wallet.address, vault: v.address, shares });
    const sig = await signAndSend(built.transaction);
    return `withdrawal confirmed (${short(sig)})`;
  });
  $("exit").onclick = () => act($("exit"), "exit", async () => {
    const v = walletVault();
    const shares = $("wallet-shares")?.dataset.base ?? "0";
    if (shares === "0") throw new Error("this wallet holds no shares");
    const built = await buildTx("exit", { owner: state.wallet.address, vault: v.address, shares, to: $("exit-to").value, slippageBps: 50 });
    const p = built.preview;
    renderExitPreview(p);
    const sig = await signAndSend(built.transaction);
    const received = (await tokenBalance(p.destination)) - BigInt(p.balanceBefore);
    document.body.dataset.lastExit = sig;
    $("exit-preview").dataset.received = received.toString();
    return `exit confirmed (${short(sig)}): received ${units(received, p.toDecimals)} ${p.toSymbol} (at least ${units(p.minOut, p.toDecimals)})`;
  });
}

// Countdown of pending changes follows chain time between refreshes.
setInterval(() => {
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Math.max(0, Number(el.dataset.eta) - (state.chainTime ?? 0));
    el.textContent = left + " s";
  }
}, 1000);

(async () => {
  window.BALLAST_PROGRAM = (await fetch("/api/program").then((r) => r.json())).programId;
  await loadWallet();
  wire();
  wirePagers();
  await refresh();
  connect();
})();
