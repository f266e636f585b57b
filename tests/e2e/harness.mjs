// Starts the real Keyless server (fresh data dir, seeded) serving the built console, and a
// headless Chromium to drive it. Paths come from KEYLESS_SERVER_BIN and KEYLESS_DIST.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the end-to-end tests with 'cargo xtask test'`);
  return value;
}

/** Starts the server on a free port; resolves once it says where it listens. */
export async function startServer() {
  const dataDir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-"));
  const server = spawn(
    required("KEYLESS_SERVER_BIN"),
    ["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--dist", required("KEYLESS_DIST")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/[^\s]+)/i);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ""));
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
  const tokens = JSON.parse(await readFile(path.join(dataDir, "demo-tokens.json"), "utf8"));
  return {
    baseUrl,
    tokens,
    /** Calls the API as `token`. */
    async api(method, apiPath, token, body) {
      const response = await fetch(baseUrl + apiPath, {
        method,
        headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    async stop() {
      server.kill("SIGTERM");
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches headless Chromium with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/** Opens `pagePath`, signs in on the sign-in page it redirects to, and waits to return. */
export async function signInAt(browser, server, token, pagePath) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.baseUrl + pagePath);
  await page.getByLabel("Access token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(server.baseUrl + pagePath);
  return page;
}
