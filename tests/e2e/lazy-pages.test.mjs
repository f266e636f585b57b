// The console arrives in pieces: index.html loads the shell, and each page's wasm module is
// fetched the first time the page is visited, once (the build splits it per page), with the
// chunks it needs in one pack when none of them has been fetched before.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { holdBack, openAssistant, signedInPage, startConsole, stopConsole } from "./harness.mjs";

let server;
let browser;

// The page (split module) a request fetches, alone (`-split_<page>.wasm`) or in its pack.
const pageOf = (url) => new URL(url).pathname.match(/-split_(\w+)\.(?:wasm|pack)$/)?.[1];

before(async () => ({ server, browser } = await startConsole()));
after(() => stopConsole(server, browser));

test("each page's module is fetched on its first visit, and only then", async () => {
  const page = await signedInPage(browser, server.tokens.admin);
  const fetched = [];
  page.on("requestfinished", (request) => {
    const name = new URL(request.url()).pathname;
    if (name.endsWith(".wasm") || name.endsWith(".pack")) fetched.push(request.url());
  });
  // Sorted: a page and its parent layout are fetched concurrently.
  const pageModules = () => fetched.map(pageOf).filter(Boolean).sort();

  await page.goto(`${server.baseUrl}/stacks`);
  await page.locator('a[href="/acme/website/prod"]').click();
  await page.getByRole("link", { name: "Settings → Deploy" }).waitFor();
  assert.deepEqual(pageModules(), ["stack", "stack_overview", "stacks"]);
  assert.equal(fetched.filter((name) => name.endsWith("_bg.wasm")).length, 1, "one main module");

  // prod has AWS OIDC configured: the assistant and the webhook are offered, and fetched once
  // opened.
  await page.getByRole("link", { name: "Settings → Deploy" }).click();
  await page.getByRole("button", { name: "Save deployment configuration" }).waitFor();
  await page.getByRole("heading", { name: "GitHub webhook" }).waitFor();
  await page.waitForTimeout(500);
  assert.deepEqual(pageModules(), ["deploy_settings", "stack", "stack_overview", "stacks"]);
  await openAssistant(page);
  await page.getByRole("button", { name: "Test OIDC" }).waitFor();
  await page.getByRole("button", { name: "Show the payload URL, secret and deliveries" }).click();
  await page.getByLabel("Payload URL", { exact: true }).waitFor();
  await page.getByRole("link", { name: "Stacks" }).first().click();
  await page.locator('a[href="/acme/website/prod"]').waitFor();
  const settingsModules = ["deploy_settings", "github_webhook", "oidc_assistant", "stack", "stack_overview", "stacks"];
  assert.deepEqual(pageModules(), settingsModules, "nothing fetched twice");
  await page.context().close();
});

test("the first page's modules are fetched while the console reads config.json", async () => {
  const page = await signedInPage(browser, server.tokens.admin);
  // config.json's answer is held back until the page's modules have been asked for.
  const release = await holdBack(page, "**/config.json");
  const asked = (module) => page.waitForRequest((request) => pageOf(request.url()) === module);
  const modules = Promise.all([asked("stack"), asked("stack_overview")]);
  await page.goto(`${server.baseUrl}/acme/website/prod`);
  await modules;
  release();
  await page.getByRole("link", { name: "Settings → Deploy" }).waitFor();
  await page.context().close();
});

test("Settings → Deploy fetches the OIDC assistant once a cloud is switched on, and members never fetch the webhook", async () => {
  for (const [role, token] of [["admin", server.tokens.admin], ["member", server.tokens.member]]) {
    const page = await signedInPage(browser, token);
    const fetched = [];
    const chunks = [];
    page.on("requestfinished", (request) => {
      const name = pageOf(request.url());
      if (name) fetched.push(name);
      if (/-chunk_\d+\.wasm$/.test(request.url())) chunks.push(request.url());
    });
    // dev has no OIDC configured.
    await page.goto(`${server.baseUrl}/acme/website/dev/settings/deploy`);
    await page.getByRole("switch", { name: "Enable AWS Integration" }).waitFor();
    if (role === "admin") {
      await page.getByRole("heading", { name: "GitHub webhook" }).waitFor();
      assert.deepEqual(fetched.sort(), ["deploy_settings", "stack"]);
      // Switching a cloud on opens the assistant at once.
      await page.getByRole("switch", { name: "Enable AWS Integration" }).click();
      await page.getByRole("button", { name: "Test OIDC" }).waitFor();
      assert.deepEqual(fetched.sort(), ["deploy_settings", "oidc_assistant", "stack"]);
    } else {
      await page.getByText("Only organization admins can change deployment settings.").waitFor();
      await page.waitForTimeout(500);
      assert.deepEqual(fetched.sort(), ["deploy_settings", "stack"]);
      // A first visit takes the page's chunks from its pack and the layout's.
      assert.deepEqual(chunks, []);
    }
    await page.context().close();
  }
});

test("Open a log file fetches the log viewer only once a file is chosen", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-logfile-"));
  const log = path.join(dir, "build.log");
  await writeFile(log, "2026-11-25T17:34:00.000Z ##[group]Build\n2026-11-25T17:34:01.000Z compiled 3 crates\n");
  const page = await (await browser.newContext()).newPage();
  const fetched = [];
  page.on("requestfinished", (request) => {
    const name = pageOf(request.url());
    if (name) fetched.push(name);
  });
  await page.goto(`${server.baseUrl}/logs/open`);
  await page.getByLabel("Log file").waitFor();
  assert.deepEqual(fetched, ["log_file"]);

  await page.getByLabel("Log file").setInputFiles(log);
  await page.locator(".log-line", { hasText: "compiled 3 crates" }).waitFor();
  assert.deepEqual(fetched, ["log_file", "log_file_viewer"]);
  assert.match(await page.locator(".log-step").first().innerText(), /Build/);
  await page.context().close();
  await rm(dir, { recursive: true, force: true });
});

// A pack that fails, is not one, or is cut short (its header names more bytes than came) is
// never used: the page's modules come one by one.
const brokenPacks = {
  "does not arrive": async (route) => route.fulfill({ status: 503, body: "unavailable" }),
  "is not a pack": async (route) => route.fulfill({ status: 200, body: "<html>not a pack</html>" }),
  "is cut short": async (route) => {
    const whole = await (await route.fetch()).body();
    return route.fulfill({ status: 200, body: whole.subarray(0, whole.length >> 1) });
  },
};
for (const [how, answer] of Object.entries(brokenPacks)) {
  test(`a page whose pack ${how} loads its modules one by one`, async () => {
    const page = await signedInPage(browser, server.tokens.admin);
    const packs = [];
    await page.route("**/*.pack", (route) => {
      packs.push(route.request().url());
      return answer(route);
    });
    const modules = [];
    page.on("requestfinished", (request) => {
      if (request.url().endsWith(".wasm")) modules.push(request.url());
    });
    await page.goto(`${server.baseUrl}/acme/website/dev/settings/deploy`);
    await page.getByRole("switch", { name: "Enable AWS Integration" }).waitFor();
    await page.getByRole("button", { name: "Save deployment configuration" }).waitFor();
    assert.ok(packs.some((url) => url.endsWith("-split_deploy_settings.pack")), "the pack was asked for");
    assert.ok(modules.some((url) => url.endsWith("-split_deploy_settings.wasm")), "the module came alone");
    assert.ok(modules.filter((url) => /-chunk_\d+\.wasm$/.test(url)).length > 5, "its chunks came alone");
    await page.context().close();
  });
}
