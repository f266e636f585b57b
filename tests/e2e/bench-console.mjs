// The console's benchmark (run by `cargo xtask bench console`): the initial download, first
// visits to the main pages on the real server, and the log viewer with a large log opened
// through "Open a log file" in headless Chromium. Prints figures; asserts nothing about time.
//
// usage: KEYLESS_SERVER_BIN=… KEYLESS_DIST=… node bench-console.mjs --dist <dir> [--lines N]
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { deployFixture, launchBrowser, startServer } from "./harness.mjs";

const BUDGET_KB = 250;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const dist = path.resolve(option("--dist", "../../dist"));
const lines = Number(option("--lines", "1000000"));
const kb = (bytes) => (bytes / 1024).toFixed(1);
const ms = (value) => `${value.toFixed(1)} ms`;

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
 * A first visit to `pagePath` with an empty cache: every wasm, js and css file the browser
 * fetched until `ready` (the shell plus the page's lazily loaded modules), gzipped.
 */
async function firstVisit(browser, base, pagePath, ready, token) {
  const context = await browser.newContext();
  if (token) await context.addInitScript((t) => localStorage.setItem("keyless.token", t), token);
  const page = await context.newPage();
  const fetched = new Set();
  page.on("requestfinished", (request) => {
    const name = new URL(request.url()).pathname.slice(1);
    if (/\.(wasm|js|css)$/.test(name)) fetched.add(name);
  });
  await page.goto(base + pagePath);
  await ready(page).waitFor({ timeout: 60_000 });
  await context.close();
  const modules = [...fetched].filter((name) => /-(split|chunk)_/.test(name)).length;
  let total = 0;
  for (const name of fetched) total += gzipSync(await readFile(path.join(dist, name)), { level: 9 }).length;
  console.log(`  ${pagePath.padEnd(44)} ${kb(total).padStart(7)} KB gzipped, ${fetched.size} files (${modules} lazily loaded modules) (${verdict(total)})`);
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
    await firstVisit(browser, server.baseUrl, log, (page) => page.locator(".log-line").first(), member);
    await firstVisit(browser, server.baseUrl, "/acme/website/prod/settings/deploy", (page) => page.getByRole("button", { name: "Save deployment configuration" }), server.tokens.admin);
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
  const types = { ".wasm": "application/wasm", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
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
    console.log(`\nLog: ${lines.toLocaleString("en")} lines, ${(size / 1e6).toFixed(1)} MB`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/logs/open`);
    const input = page.getByLabel("Log file");
    await input.waitFor();
    const wall = Date.now();
    await input.setInputFiles(file);
    await page.waitForFunction(() => performance.getEntriesByName("keyless-log-painted").length > 0, null, {
      timeout: 300_000,
      polling: 50,
    });
    const painted = await page.evaluate(() => {
      const data = performance.getEntriesByName("keyless-log-data")[0].startTime;
      const paint = performance.getEntriesByName("keyless-log-painted")[0].startTime;
      return paint - data;
    });
    console.log(`Data in memory → first paint: ${ms(painted)} (file chosen → first paint ${Date.now() - wall} ms, wall clock)`);
    await page.waitForFunction(() => !document.querySelector(".log-summary span")?.textContent.includes("live"), null, {
      timeout: 300_000,
      polling: 20,
    });
    const loaded = await page.evaluate(() => performance.now() - performance.getEntriesByName("keyless-log-data")[0].startTime);
    console.log(`Data in memory → every line read and searchable: ${ms(loaded)} (read in pieces between frames)`);

    // Search: a term on one line near the end, from the top of the log.
    await page.locator(".log-scroll").evaluate((el) => (el.scrollTop = 0));
    const search = page.getByRole("searchbox", { name: "Search the log" });
    for (const [term, label] of [
      ["keyless-bench-end", "unique term near the end"],
      ["error", "frequent term, then Shift+Enter to the last match"],
    ]) {
      await search.fill(term);
      await page.evaluate(() => {
        performance.clearMarks("keyless-log-search");
        performance.clearMarks("keyless-log-search-shown");
      });
      const shift = label.includes("Shift");
      await search.press(shift ? "Shift+Enter" : "Enter");
      await page.waitForFunction(() => performance.getEntriesByName("keyless-log-search-shown").length > 0, null, {
        timeout: 120_000,
        polling: 10,
      });
      const figures = await page.evaluate(() => {
        const start = performance.getEntriesByName("keyless-log-search")[0].startTime;
        const shown = performance.getEntriesByName("keyless-log-search-shown").at(-1).startTime;
        return { took: shown - start, status: document.getElementById("log-search-status").textContent };
      });
      const visible = await page.locator("mark.current").count();
      console.log(`Search ${JSON.stringify(term)} (${label}): ${ms(figures.took)} to find and show it — "${figures.status}", current match on screen: ${visible === 1}`);
      await search.fill("");
    }

    // Scroll to the end: how many line elements are in the DOM.
    await page.locator(".log-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const dom = await page.evaluate(() => ({
      lines: document.querySelectorAll(".log-line").length,
      rows: document.querySelectorAll(".log-row").length,
      elements: document.getElementsByTagName("*").length,
      last: [...document.querySelectorAll(".log-line a[data-line]")].at(-1)?.dataset.line,
    }));
    console.log(`At the end: ${dom.lines} line elements (${dom.rows} rows), ${dom.elements} elements in the whole page; last line shown ${dom.last}`);

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
    const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize);
    if (heap) console.log(`JS heap in use: ${(heap / 1e6).toFixed(1)} MB (the log's text lives in wasm memory)`);
  } finally {
    await browser.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
