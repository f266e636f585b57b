// The console's benchmark (run by `cargo xtask bench console`): the initial download, first
// visits to the main pages on the real server, the log viewer with a large log opened through
// "Open a log file" in headless Chromium (memory beside the log's size, first paint, search,
// frames, DOM), and a finished deployment of as many lines opened on the real server, beside
// paging its log through the JSON API. Prints figures; asserts nothing about time.
//
// usage: KEYLESS_SERVER_BIN=… KEYLESS_DIST=… node bench-console.mjs --dist <dir> [--lines N]
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { deployFixture, launchBrowser, openAssistant, signedInPage, startServer } from "./harness.mjs";

const BUDGET_KB = 250;
/** How many times the finished deployment is opened (medians are printed). */
const OPENINGS = 5;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const dist = path.resolve(option("--dist", "../../dist"));
const lines = Number(option("--lines", "1000000"));
const kb = (bytes) => (bytes / 1024).toFixed(1);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (value) => `${value.toFixed(1)} ms`;

/** Keeps the console's WebAssembly memory where `memory()` finds it (trunk's start event). */
function keepWasmMemory() {
  addEventListener("TrunkApplicationStarted", (event) => {
    window.__keylessWasmMemory = event.detail.wasm.memory;
  });
}

/**
 * The page's memory: the JS heap in use after a garbage collection (through the DevTools
 * protocol), and the WebAssembly memory (which never shrinks: its high-water mark).
 */
async function memory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  const wasm = await page.evaluate(() => window.__keylessWasmMemory?.buffer.byteLength ?? 0);
  return { js: usedSize, wasm, total: usedSize + wasm };
}

/** One line on memory, against the bytes of the log it holds. */
function printMemory(label, { js, wasm, total }, logBytes) {
  console.log(
    `${label}: JS heap ${mb(js)} + wasm memory ${mb(wasm)} = ${mb(total)}, for a log of ${mb(logBytes)}: ${(total / logBytes).toFixed(2)}× the log`,
  );
}

/** Elements in the log viewer, and in the whole page. */
const domCount = (page) =>
  page.evaluate(() => ({
    viewer: document.querySelectorAll(".log-viewer, .log-viewer *").length,
    page: document.getElementsByTagName("*").length,
  }));

/** Milliseconds from `from` to `to` (User Timing marks; `null` is the navigation's start). */
const between = (page, from, to) =>
  page.evaluate(
    ([from, to]) => {
      const at = (name) => (name ? performance.getEntriesByName(name)[0].startTime : 0);
      return at(to) - at(from);
    },
    [from, to],
  );

/**
 * The page load as the browser timed it: each file and API call fetched (start → end, from the
 * navigation's start; the wasm modules a page fetches summed on one line) and the User Timing
 * marks, in order.
 */
const timeline = (page) =>
  page.evaluate(() => {
    const rows = [];
    const nav = performance.getEntriesByType("navigation")[0];
    rows.push([0, `index.html → ${nav.responseEnd.toFixed(0)}; DOMContentLoaded ${nav.domContentLoadedEventEnd.toFixed(0)}`]);
    const resources = performance.getEntriesByType("resource");
    const wasm = resources.filter((r) => r.name.endsWith(".wasm"));
    const [main, ...chunks] = wasm;
    if (main) rows.push([main.startTime, `${main.startTime.toFixed(0)} → ${main.responseEnd.toFixed(0)} main wasm`]);
    if (chunks.length) {
      const from = Math.min(...chunks.map((r) => r.startTime));
      const to = Math.max(...chunks.map((r) => r.responseEnd));
      rows.push([from, `${from.toFixed(0)} → ${to.toFixed(0)} ${chunks.length} page modules`]);
    }
    for (const r of resources.filter((r) => !r.name.endsWith(".wasm"))) {
      const name = new URL(r.name).pathname.replace(/\/deployments\/[0-9a-f-]{36}/, "/deployments/{id}");
      rows.push([r.startTime, `${r.startTime.toFixed(0)} → ${r.responseEnd.toFixed(0)} ${name}`]);
    }
    for (const mark of performance.getEntriesByType("mark")) {
      rows.push([mark.startTime, `${mark.startTime.toFixed(0)} mark ${mark.name}`]);
    }
    return rows.sort((a, b) => a[0] - b[0]).map(([, text]) => text);
  });

/** Waits for the User Timing mark `name`. */
const markSeen = (page, name) =>
  page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, name, {
    timeout: 300_000,
    polling: 20,
  });

/** Sums `names` (files of dist) gzipped at level 9, printing each. */
async function gzipped(names, indent = "  ") {
  let total = 0;
  for (const name of names) {
    const raw = await readFile(path.join(dist, name));
    const gz = gzipSync(raw, { level: 9 }).length;
    total += gz;
    console.log(`${indent}${name.padEnd(72)} ${kb(raw.length).padStart(8)} KB raw  ${kb(gz).padStart(7)} KB gzipped`);
  }
  return total;
}

const verdict = (total) => `budget ${BUDGET_KB} KB: ${total <= BUDGET_KB * 1024 ? "within" : "OVER"}`;

/** The files index.html loads before the console starts: every page's shared download. */
async function initialLoad() {
  const index = await readFile(path.join(dist, "index.html"), "utf8");
  const names = [...new Set([...index.matchAll(/(?:href|src)="\/?([^"]+\.(?:wasm|js|css))"/g)].map((m) => m[1]))];
  names.push(...(await readdir(dist)).filter((name) => name.endsWith("_split.js")));
  console.log("Initial load, what index.html loads (gzip -9):");
  const total = await gzipped(names);
  console.log(`  total ${kb(total)} KB gzipped (${verdict(total)})`);
}

/**
 * A first visit to `pagePath` with an empty cache: every wasm, pack, js and css file the browser
 * fetched until `ready` shows (a locator, or several: the shell plus the page's lazily loaded
 * modules and parts; `ready` may click first), gzipped. `label` names the visit when it is more
 * than the page.
 */
async function firstVisit(browser, base, pagePath, ready, token, label = pagePath) {
  const context = await browser.newContext();
  if (token) await context.addInitScript((t) => localStorage.setItem("keyless.token", t), token);
  const page = await context.newPage();
  const fetched = new Set();
  page.on("requestfinished", (request) => {
    const name = new URL(request.url()).pathname.slice(1);
    if (/\.(wasm|pack|js|css)$/.test(name)) fetched.add(name);
  });
  await page.goto(base + pagePath);
  for (const shown of [await ready(page)].flat()) await shown.waitFor({ timeout: 60_000 });
  await context.close();
  const modules = [...fetched].filter((name) => /-(split|chunk)_/.test(name)).length; // packs count once
  let total = 0;
  for (const name of fetched) total += gzipSync(await readFile(path.join(dist, name)), { level: 9 }).length;
  console.log(`  ${label.padEnd(44)} ${kb(total).padStart(7)} KB gzipped, ${fetched.size} files (${modules} lazily loaded modules or packs) (${verdict(total)})`);
}

/** First visits to the pages users open first, on the real server with a finished deployment. */
async function firstVisits(browser) {
  const fixture = await deployFixture();
  const server = await startServer(fixture.serverArgs);
  try {
    const stack = "/api/stacks/acme/website/prod";
    await server.api("POST", `${stack}/deployments/settings`, server.tokens.admin, { sourceContext: { git: fixture.source } });
    const created = await server.api("POST", `${stack}/deployments`, server.tokens.member, { operation: "update", inheritSettings: true });
    const log = `/acme/website/prod/deployments/${created.body.version}`;
    console.log("First visit with an empty cache, everything fetched until the page is usable (gzip -9):");
    const member = server.tokens.member;
    await firstVisit(browser, server.baseUrl, "/signin", (page) => page.getByLabel("Access token", { exact: true }));
    await firstVisit(browser, server.baseUrl, "/stacks", (page) => page.locator('a[href="/acme/website/prod"]'), member);
    // A step's header or a line: steps that succeeded start closed, and the deployment may
    // have ended by the time its page opens.
    await firstVisit(browser, server.baseUrl, log, (page) => page.locator(".log-row").first(), member);
    // prod has AWS on: the OIDC assistant and the webhook's settings are offered, and fetched
    // when opened (the second visit opens both).
    const deploy = "/acme/website/prod/settings/deploy";
    const saveButton = (page) => page.getByRole("button", { name: "Save deployment configuration" });
    await firstVisit(browser, server.baseUrl, deploy, (page) => [
      saveButton(page),
      page.getByRole("heading", { name: "GitHub webhook" }),
    ], server.tokens.admin);
    const opened = async (page) => {
      await saveButton(page).waitFor({ timeout: 60_000 });
      await openAssistant(page);
      await page.getByRole("button", { name: "Show the payload URL, secret and deliveries" }).click();
      return [page.getByRole("button", { name: "Test OIDC" }), page.getByLabel("Payload URL", { exact: true })];
    };
    await firstVisit(browser, server.baseUrl, deploy, opened, server.tokens.admin, `${deploy}, both opened`);
    await firstVisit(browser, server.baseUrl, "/logs/open", (page) => page.getByLabel("Log file"));
  } finally {
    await server.stop();
    await fixture.cleanup();
  }
}

/** Writes an N-line deployment-like log in the viewer's download format. */
async function writeLog(file) {
  const out = createWriteStream(file);
  const write = (text) => (out.write(text) ? null : new Promise((r) => out.once("drain", r)));
  const start = Date.parse("2026-11-25T17:34:00Z");
  const steps = ["Setup", "Get source", "Fetch credentials via OIDC", "Download dependencies", "pulumi update"];
  const perStep = Math.floor(lines / steps.length);
  let n = 0;
  for (const [s, step] of steps.entries()) {
    await write(`${new Date(start + n * 10).toISOString()} ##[group]${step}\n`);
    const count = s === steps.length - 1 ? lines - n : perStep;
    for (let i = 0; i < count; i++, n++) {
      const at = new Date(start + n * 10).toISOString();
      let text;
      if (n === lines - 10) text = "the last needle: keyless-bench-end";
      else if (n % 1000 === 0) text = `\u001b[31merror\u001b[0m: resource urn:pulumi:prod::website::aws:s3/bucket:Bucket::logs-${n} failed`;
      else if (n % 7 === 0) text = `\u001b[1;32m+\u001b[0m aws:ec2/instance:Instance web-${n} creating (${n % 60}s) <b>not bold</b>`;
      else text = `    ~ aws:lambda/function:Function handler-${n} updating [diff: ~code, ~environment] ${"x".repeat(n % 40)}`;
      await write(`${at} ${text}\n`);
    }
  }
  await new Promise((resolve) => out.end(resolve));
  return (await stat(file)).size;
}

/** Serves the built console, with the SPA fallback to index.html. */
function serveDist() {
  const types = {
    ".wasm": "application/wasm",
    ".pack": "application/octet-stream",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
  };
  const server = createServer(async (request, response) => {
    const wanted = decodeURIComponent(new URL(request.url, "http://x").pathname);
    let file = path.join(dist, path.normalize(wanted).replace(/^(\.\.[/\\])+/, ""));
    const found = await stat(file).then((s) => s.isFile()).catch(() => false);
    if (!found) file = path.join(dist, "index.html");
    response.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "text/html" });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] };
}

/** Searches `term` from the top of the log (Shift+Enter: to its last match); prints the time. */
async function timeSearch(page, term, label) {
  await page.locator(".log-scroll").evaluate((el) => (el.scrollTop = 0));
  const search = page.getByRole("searchbox", { name: "Search the log" });
  await search.fill(term);
  await page.evaluate(() => {
    performance.clearMarks("keyless-log-search");
    performance.clearMarks("keyless-log-search-shown");
  });
  await search.press(label.includes("Shift") ? "Shift+Enter" : "Enter");
  await markSeen(page, "keyless-log-search-shown");
  const figures = await page.evaluate(() => {
    const start = performance.getEntriesByName("keyless-log-search")[0].startTime;
    const shown = performance.getEntriesByName("keyless-log-search-shown").at(-1).startTime;
    return { took: shown - start, status: document.getElementById("log-search-status").textContent };
  });
  const visible = await page.locator("mark.current").count();
  console.log(`Search ${JSON.stringify(term)} (${label}): ${ms(figures.took)} to find and show it — "${figures.status}", current match on screen: ${visible === 1}`);
  await search.fill("");
}

/** The log file opened through "Open a log file": memory, first paint, search, DOM, frames. */
async function logFile(browser, base, file, size) {
  console.log(`\nLog file: ${lines.toLocaleString("en")} lines, ${mb(size)}, opened through "Open a log file"`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(keepWasmMemory);
  const page = await context.newPage();
  await page.goto(`${base}/logs/open`);
  const input = page.getByLabel("Log file");
  await input.waitFor();
  const before = await memory(page);
  await input.setInputFiles(file);
  await markSeen(page, "keyless-log-painted");
  console.log(`File chosen → first paint: ${ms(await between(page, "keyless-log-open", "keyless-log-painted"))} (streamed as it is read)`);
  await markSeen(page, "keyless-log-complete");
  console.log(`File chosen → every line read and searchable: ${ms(await between(page, "keyless-log-open", "keyless-log-complete"))}`);
  printMemory("Memory, the log read", await memory(page), size);
  console.log(`  (before choosing the file: JS heap ${mb(before.js)} + wasm memory ${mb(before.wasm)})`);

  await timeSearch(page, "keyless-bench-end", "unique term near the end");
  await timeSearch(page, "error", "frequent term, then Shift+Enter to the last match");
  await page.getByLabel("Timestamps").selectOption("absolute");
  await timeSearch(page, "17:35:00.0", "a time, times shown");
  await page.getByLabel("Timestamps").selectOption("off");

  // Scroll to the end: how many elements are in the DOM.
  await page.locator(".log-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const rows = await page.evaluate(() => ({
    lines: document.querySelectorAll(".log-line").length,
    rows: document.querySelectorAll(".log-row").length,
    last: [...document.querySelectorAll(".log-line a[data-line]")].at(-1)?.dataset.line,
  }));
  const dom = await domCount(page);
  console.log(`At the end: ${rows.lines} line elements (${rows.rows} rows), ${dom.viewer} elements in the viewer, ${dom.page} in the whole page; last line shown ${rows.last}`);

  // Frame times while scrolling: steady wheel-like scrolling, then big jumps.
  for (const [label, stepPx, frames] of [
    ["scrolling 120 px a frame", 120, 240],
    ["jumping 1/200 of the log a frame", null, 200],
  ]) {
    const times = await page.locator(".log-scroll").evaluate(
      (el, { stepPx, frames }) =>
        new Promise((resolve) => {
          el.scrollTop = 0;
          const jump = stepPx ?? el.scrollHeight / 200;
          const deltas = [];
          let last = performance.now();
          let n = 0;
          const tick = (now) => {
            deltas.push(now - last);
            last = now;
            el.scrollTop += jump;
            if (++n < frames) requestAnimationFrame(tick);
            else resolve(deltas.slice(2));
          };
          requestAnimationFrame(tick);
        }),
      { stepPx, frames },
    );
    const s = stats(times);
    const long = times.filter((t) => t > 20).length;
    console.log(`Frames, ${label}: median ${ms(s.median)}, p95 ${ms(s.p95)}, max ${ms(s.max)}; ${long} of ${times.length} over 20 ms`);
  }
  printMemory("Memory at the end (after the searches)", await memory(page), size);
  await context.close();
}

/**
 * A Python program printing `lines` lines like `writeLog`'s (the server adds the times), run
 * as the deployment's pre-run command; base64 keeps the shell from reading it.
 */
function printer() {
  const program = `import sys
n_lines = ${lines}
w = sys.stdout.write
for n in range(n_lines):
    if n == n_lines - 10:
        t = "the last needle: keyless-bench-end"
    elif n % 1000 == 0:
        t = "\\x1b[31merror\\x1b[0m: resource urn:pulumi:prod::website::aws:s3/bucket:Bucket::logs-%d failed" % n
    elif n % 7 == 0:
        t = "\\x1b[1;32m+\\x1b[0m aws:ec2/instance:Instance web-%d creating (%ds) <b>not bold</b>" % (n, n % 60)
    else:
        t = "    ~ aws:lambda/function:Function handler-%d updating [diff: ~code, ~environment] %s" % (n, "x" * (n % 40))
    w(t + "\\n")
`;
  return `echo ${Buffer.from(program).toString("base64")} | base64 -d | python3 -`;
}

/**
 * A finished deployment of `lines` lines on the real server, opened in the console: navigation
 * → first lines on screen → every line read and searchable, and its memory; beside the same
 * log paged through the JSON logs API (2,000 lines a request), fetched and parsed in the page.
 */
async function deploymentLog(browser) {
  const fixture = await deployFixture();
  // A budget above the log's size: the whole log is kept.
  const server = await startServer([...fixture.serverArgs, "--max-log-bytes", String(4e9)]);
  try {
    const stack = "/api/stacks/acme/website/prod";
    const queued = Date.now();
    const created = await server.api("POST", `${stack}/deployments`, server.tokens.admin, {
      operation: "update",
      sourceContext: { git: fixture.source },
      operationContext: { preRunCommands: [printer()], options: { skipInstallDependencies: true } },
    });
    if (created.status !== 202) throw new Error(`the deployment was not queued: ${JSON.stringify(created.body)}`);
    const { id, version } = created.body;
    for (;;) {
      const { body } = await server.api("GET", `${stack}/deployments/${id}`, server.tokens.admin);
      if (body.status === "succeeded") break;
      if (body.status === "failed") throw new Error("the bench deployment failed");
      await new Promise((r) => setTimeout(r, 500));
    }
    const ran = (Date.now() - queued) / 1000;
    const finished = performance.now();
    const rawLog = (method = "GET") =>
      fetch(`${server.baseUrl}${stack}/deployments/${id}/logs/raw`, {
        method,
        headers: { Authorization: `token ${server.tokens.member}`, "Accept-Encoding": "gzip" },
      });
    // Only the archive's reply has a length: it is known before the first byte is sent.
    const readAlone = async () => {
      const started = performance.now();
      const reply = await rawLog();
      const size = (await reply.arrayBuffer()).byteLength;
      const source = reply.headers.get("content-length")
        ? `from its archive, ${mb(Number(reply.headers.get("content-length")))} gzipped`
        : "read from its rows and compressed as sent";
      return { took: performance.now() - started, size, source };
    };
    const first = await readAlone();
    const size = first.size;
    console.log(`\nDeployment: ${lines.toLocaleString("en")} lines printed (ran in ${ran.toFixed(1)} s), its log file ${mb(size)}; logs/raw alone (gzip, read by node) just after it finished: ${ms(first.took)}, ${first.source}`);
    while (!(await rawLog("HEAD")).headers.get("content-length")) {
      if (performance.now() - finished > 120_000) throw new Error("the log was never archived");
      await new Promise((r) => setTimeout(r, 100));
    }
    const archivedAfter = performance.now() - finished;
    const again = await readAlone();
    console.log(`Archived ${ms(archivedAfter)} after it finished (or sooner); then logs/raw alone: ${ms(again.took)}, ${again.source}; the console opens it from the archive`);

    // Opened OPENINGS times, each a fresh page load with an empty cache; the last is kept for
    // the search, the memory and the paging below.
    let page;
    const runs = [];
    for (let run = 0; run < OPENINGS; run++) {
      await page?.context().close();
      page = await signedInPage(browser, server.tokens.member, { viewport: { width: 1280, height: 900 } });
      await page.addInitScript(keepWasmMemory);
      await page.goto(`${server.baseUrl}/acme/website/prod/deployments/${version}`);
      await markSeen(page, "keyless-log-painted");
      await markSeen(page, "keyless-log-complete");
      runs.push({
        opened: await between(page, null, "keyless-log-open"),
        painted: await between(page, null, "keyless-log-painted"),
        complete: await between(page, null, "keyless-log-complete"),
      });
    }
    console.log(`Opening it, ${OPENINGS} fresh page loads (navigation → the log asked for → first lines on screen → every line read and searchable):`);
    for (const { opened, painted, complete } of runs) {
      console.log(`  ${ms(opened)} → ${ms(painted)} → ${ms(complete)}`);
    }
    const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(OPENINGS / 2)];
    const complete = median("complete");
    console.log(`  median: log asked for ${ms(median("opened"))} after navigating, first lines on screen ${ms(median("painted"))}, every line searchable ${ms(complete)}`);
    console.log("  what came before the log was asked for in the last load, from the navigation (ms):");
    for (const line of await timeline(page)) console.log(`    ${line}`);
    const summary = await page.locator(".log-summary span").first().innerText();
    await timeSearch(page, "keyless-bench-end", `unique term near the end; ${summary}`);
    printMemory("Memory, the deployment's log read", await memory(page), size);

    const paging = await page.evaluate(async (api) => {
      const token = localStorage.getItem("keyless.token");
      const start = performance.now();
      let [next, pages, count] = [null, 0, 0];
      do {
        const query = next ? `?continuationToken=${encodeURIComponent(next)}` : "";
        const response = await fetch(api + query, { headers: { Authorization: `token ${token}` } });
        const body = await response.json();
        pages += 1;
        count += body.lines?.length ?? 0;
        next = body.nextToken;
      } while (next);
      return { took: performance.now() - start, pages, count };
    }, `${stack}/deployments/${id}/logs`);
    console.log(`Paging the same log through the JSON logs API in the page (fetch and parse only, nothing shown): ${ms(paging.took)}, ${paging.pages} requests for ${paging.count.toLocaleString("en")} entries; opening read it whole ${(paging.took / complete).toFixed(1)}× faster than this alone`);
    await page.context().close();
  } finally {
    await server.stop();
    await fixture.cleanup();
  }
}

async function main() {
  await initialLoad();
  const dir = await mkdtemp(path.join(tmpdir(), "keyless-bench-"));
  const file = path.join(dir, "deployment.log");
  const size = await writeLog(file);
  const server = await serveDist();
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchBrowser();
  try {
    await firstVisits(browser);
    await logFile(browser, base, file, size);
    await deploymentLog(browser);
  } finally {
    await browser.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
