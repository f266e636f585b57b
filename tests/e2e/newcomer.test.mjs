// A newcomer's first minutes, end to end: the README's `cargo xtask run` with its defaults (a
// relative data dir, no cloud account, no cloud endpoint flags, whatever pulumi CLI the machine
// has), sign in with the admin token it prints, open the demo stack and Deploy. The log's
// "Fetch credentials via OIDC" must succeed against the local stand-ins the command starts, and
// say that they are not the clouds. Only the listen address (a free port) and the data dir (a
// relative one under target/, so that a developer's own `.keyless` is left alone) differ.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { freePort, launchBrowser, signInAt } from "./harness.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORK = "target/e2e-newcomer";
const DATA_DIR = `${WORK}/.keyless`;

let child;
let output = "";
let baseUrl;
let adminToken;
let browser;

before(async () => {
  await rm(path.join(ROOT, WORK), { recursive: true, force: true });
  const port = await freePort();
  // Its own process group: `cargo xtask run` starts the server and the stand-ins beneath it.
  child = spawn("cargo", ["xtask", "run", "--listen", `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: { ...process.env, KEYLESS_DATA_DIR: DATA_DIR },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // The first run may build the server with its optimised profile: minutes on two cores.
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cargo xtask run did not start:\n${output}`)), 40 * 60_000);
    const onData = (chunk) => {
      output += chunk;
      const listening = output.match(/listening on (http:\/\/[^\s]+)/i);
      const admin = output.match(/admin\s+\(alice, admin of acme\):\s+(\S+)/);
      if (listening && admin) {
        clearTimeout(timer);
        baseUrl = listening[1].replace(/\/$/, "");
        adminToken = admin[1];
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`cargo xtask run exited (${code}):\n${output}`));
    });
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (child?.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await exited;
  }
  await rm(path.join(ROOT, WORK), { recursive: true, force: true });
});

test("cargo xtask run says what it started and where to sign in", () => {
  assert.match(output, /Local stand-ins for AWS STS \(http:\/\/127\.0\.0\.1:\d+\)/);
  assert.match(output, /not the real clouds/);
  assert.match(output, /Demo data created\. Open http:\/\/127\.0\.0\.1:\d+\/ and sign in/);
  assert.ok(output.includes(`${DATA_DIR}/demo-tokens.json`), output);
});

test("the admin deploys the demo stack and gets credentials from the stand-ins", async () => {
  const page = await signInAt(browser, { baseUrl }, adminToken, "/acme/demo/dev/deployments");
  const deploy = page.getByRole("button", { name: "Deploy", exact: true });
  await deploy.waitFor();
  await page.getByLabel("Operation").selectOption("update");
  await deploy.click();
  await page.waitForURL(/\/acme\/demo\/dev\/deployments\/\d+$/);

  // One grant per cloud, each saying where it came from; no refusal.
  const card = page.getByRole("region", { name: "Credentials via OIDC" });
  await card.locator(".grant").nth(2).waitFor({ timeout: 120_000 });
  assert.equal(await card.locator(".oidc-failure").count(), 0, await card.innerText());
  const text = await card.innerText();
  assert.match(text, /arn:aws:sts::123456789012:assumed-role\/keyless-demo\//);
  for (const flag of ["--aws-sts-endpoint", "--azure-authority-host", "--gcp-sts-endpoint"]) {
    assert.ok(text.includes(`set by ${flag}; not the cloud's own endpoint`), text);
  }

  // The deployment ends: with no pulumi CLI on this machine, the last step says how to install it.
  const status = page.locator(".deployment-summary .badge", { hasText: /Succeeded|Failed/ });
  await status.waitFor({ timeout: 300_000 });
  if ((await status.innerText()).includes("Failed")) {
    const search = page.getByRole("searchbox", { name: "Search the log" });
    await search.fill("https://www.pulumi.com/docs/install/");
    await search.press("Enter");
    await page.locator("#log-search-status", { hasText: /\d+ of \d+/ }).waitFor();
  }
});
