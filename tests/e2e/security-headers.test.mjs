// Every page of the console runs under the server's Content-Security-Policy (its own files,
// wasm, the inline loader by hash, inline style attributes for log colours) with nothing
// refused: Chromium reports no `securitypolicyviolation` event and logs no "Refused to…".
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { deployFixture, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";

let fixture;
let server;
let browser;
let version;
let dir;

before(async () => {
  fixture = await deployFixture();
  ({ server, browser } = await startConsole(fixture.serverArgs));
  dir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-csp-"));
  const admin = server.tokens.admin;
  const saved = await server.api("POST", `${STACK}/deployments/settings`, admin, {
    sourceContext: { git: fixture.source },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const created = await server.api("POST", `${STACK}/deployments`, admin, { operation: "update" });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  version = created.body.version;
  // Finished before it is opened, so that its page shows every step closed.
  for (let tries = 0; ; tries++) {
    const deployment = await server.api("GET", `${STACK}/deployments/version/${version}`, admin);
    if (deployment.body.status === "succeeded") break;
    assert.ok(tries < 120 && /running|not-started/.test(deployment.body.status), JSON.stringify(deployment.body));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
});

after(async () => {
  await stopConsole(server, browser);
  await fixture?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("every console page loads under the Content-Security-Policy with nothing refused", async () => {
  const context = await browser.newContext();
  const violations = [];
  await context.exposeFunction("reportCspViolation", (violation) => violations.push(violation));
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (event) =>
      window.reportCspViolation(`${location.pathname}: ${event.violatedDirective} blocked ${event.blockedURI}`),
    ),
  );
  const page = await context.newPage();
  page.on("console", (message) => {
    if (/Refused to|Content.Security.Policy/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
  });

  /** Loads `pagePath` afresh (the document and its policy) and waits for what shows it works. */
  const visit = async (pagePath, ready) => {
    const response = await page.goto(server.baseUrl + pagePath);
    const policy = response.headers()["content-security-policy"] ?? "";
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+=*'/, pagePath);
    assert.match(policy, /frame-ancestors 'none'/, pagePath);
    assert.equal(response.headers()["x-content-type-options"], "nosniff", pagePath);
    assert.equal(response.headers()["referrer-policy"], "no-referrer", pagePath);
    await ready().waitFor({ timeout: 60_000 });
  };

  // Signed out, a page sends to sign-in.
  await visit("/stacks", () => page.getByLabel("Access token", { exact: true }));
  await page.getByLabel("Access token", { exact: true }).fill(server.tokens.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('a[href="/acme/website/prod"]').waitFor();

  await visit("/stacks", () => page.locator('a[href="/acme/website/prod"]'));
  await visit("/acme/website/prod", () => page.getByRole("link", { name: "Settings → Deploy" }));
  await visit("/acme/website/prod/deployments", () => page.getByRole("button", { name: "Deploy", exact: true }));
  await visit(`/acme/website/prod/deployments/${version}`, () =>
    page.locator(".deployment-summary .badge", { hasText: "Succeeded" }),
  );
  await page.getByRole("button", { name: /pulumi update/ }).click();
  await page.getByText("green and bold").waitFor();
  await visit("/acme/website/prod/settings/deploy", () =>
    page.getByRole("button", { name: "Save deployment configuration" }),
  );
  await visit("/orgs/acme/deployments", () => page.getByRole("row", { name: new RegExp(`#${version}\\b`) }));

  // A log in 24-bit colour: its spans carry inline style attributes, which the policy allows.
  const log = path.join(dir, "colours.log");
  await writeFile(log, "plain line\n\x1b[38;2;255;0;0mred by RGB\x1b[0m\n" + "long ".repeat(400) + "\n");
  await visit("/logs/open", () => page.getByLabel("Log file"));
  await page.getByLabel("Log file").setInputFiles(log);
  const red = page.locator(".log-line span[style]", { hasText: "red by RGB" });
  await red.waitFor();
  assert.equal(await red.evaluate((span) => getComputedStyle(span).color), "rgb(255, 0, 0)");
  // Wrapped, the long line's row is as tall as its rows, by an inline style too.
  await page.getByLabel("Wrap lines").check();
  await page.locator('.log-line[style*="height"]').waitFor();

  assert.deepEqual(violations, []);
  await context.close();
});
