// Deployments and the log viewer, end to end against the real server: deploy from the console
// and watch the log stream to the end, the OIDC card with the token's claims and the identity
// AWS granted (read from marker lines the log hides), search into a collapsed step, a deep link,
// and HTML in a log line shown as text.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { deployFixture, launchBrowser, signInAt, startServer } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";
const TAB = "/acme/website/prod/deployments";

let fixture;
let server;
let browser;
let version;

before(async () => {
  fixture = await deployFixture();
  server = await startServer(fixture.serverArgs);
  browser = await launchBrowser();
  // The seeded stack deploys from GitHub; point it at the local repository.
  const saved = await server.api("POST", `${STACK}/deployments/settings`, server.tokens.admin, {
    sourceContext: { git: fixture.source },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await fixture?.cleanup();
});

/** The log row of line `n` (from 1). */
const lineRow = (page, n) => page.locator(".log-line", { has: page.locator(`a[data-line="${n}"]`) });

test("a member deploys from the Deployments tab and watches the log stream to the end", async () => {
  const page = await signInAt(browser, server, server.tokens.member, TAB);
  const deploy = page.getByRole("button", { name: "Deploy", exact: true });
  await deploy.waitFor();
  await page.getByLabel("Operation").selectOption("update");
  await deploy.click();
  await page.waitForURL(/\/acme\/website\/prod\/deployments\/\d+$/);
  version = Number(page.url().split("/").pop());

  // Lines arrive while it runs, then the last one, then the final status.
  await page.getByText(/resource step \d+ of 40/).first().waitFor({ timeout: 60_000 });
  await page.getByText("Update complete").waitFor({ timeout: 60_000 });
  await page.locator(".deployment-summary .badge", { hasText: "Succeeded" }).waitFor({ timeout: 60_000 });

  // The OIDC card: the token's decoded claims and the identity AWS granted, counting down.
  const claims = page.getByRole("table", { name: /Decoded claims/ });
  await claims.waitFor();
  const claimsText = await claims.innerText();
  assert.match(claimsText, /aud\s+acme/);
  assert.match(claimsText, /pulumi:deploy:org:acme:project:website:stack:prod:operation:update/);
  const card = page.getByRole("region", { name: "Credentials via OIDC" });
  assert.match(await card.innerText(), /arn:aws:sts::123456789012:assumed-role\/pulumi-deploy\//);
  assert.match(await card.innerText(), /expires in \d+m/);
  assert.match(await card.innerText(), /Variables set\s+AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN/);

  // The card reads the executor's marker lines, which the log does not show: its sentences only.
  const search = page.getByRole("searchbox", { name: "Search the log" });
  await search.fill("OIDC token claims");
  await search.press("Enter");
  await page.locator("#log-search-status", { hasText: "1 of 1" }).waitFor();
  await search.fill("##[keyless:oidc-");
  await search.press("Enter");
  await page.locator("#log-search-status", { hasText: "No matches" }).waitFor();

  // The list shows it, finished.
  await page.goto(server.baseUrl + TAB);
  const row = page.getByRole("row", { name: new RegExp(`#${version}`) });
  await row.waitFor();
  assert.match(await row.innerText(), /Succeeded/);
});

test("search finds a line inside a collapsed step and opens it", async () => {
  assert.ok(version, "the deployment test ran first");
  const page = await signInAt(browser, server, server.tokens.member, `${TAB}/${version}`);
  const step = page.getByRole("button", { name: "pulumi update" });
  await step.waitFor();
  assert.equal(await step.getAttribute("aria-expanded"), "false", "a succeeded step starts closed");
  assert.equal(await page.getByText("the needle is here").count(), 0);

  const search = page.getByRole("searchbox", { name: "Search the log" });
  await search.fill("NEEDLE");
  await search.press("Enter");
  await page.locator("mark.current", { hasText: "needle" }).waitFor();
  assert.equal(await step.getAttribute("aria-expanded"), "true");
  assert.equal(await page.locator("#log-search-status").innerText(), "1 of 1");
});

test("a deep link opens the log at its lines, highlighted", async () => {
  assert.ok(version, "the deployment test ran first");
  const page = await signInAt(browser, server, server.tokens.member, `${TAB}/${version}`);
  await page.waitForFunction(() => /^\d+ lines$/.test(document.querySelector(".log-summary span")?.textContent));
  const total = await page.locator(".log-summary span").first().innerText();
  const last = Number(total.match(/(\d+) lines/)[1]);
  await page.goto(`${server.baseUrl}${TAB}/${version}#L${last - 3}-L${last - 1}`);
  const target = lineRow(page, last - 1);
  await target.waitFor();
  assert.match(await target.getAttribute("class"), /selected/);
  assert.match(await lineRow(page, last - 3).getAttribute("class"), /selected/);
  assert.doesNotMatch(await lineRow(page, last).getAttribute("class"), /selected/);
  await target.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const view = el.closest(".log-scroll").getBoundingClientRect();
    if (box.top < view.top || box.bottom > view.bottom) throw new Error("the linked line is not in view");
  });
});

test("HTML in a log line is shown as text, never run", async () => {
  assert.ok(version, "the deployment test ran first");
  const page = await signInAt(browser, server, server.tokens.member, `${TAB}/${version}#L1`);
  await page.getByRole("button", { name: "pulumi update" }).click();
  const line = page.getByText("<script>window.__pwned = 1</script>", { exact: false });
  await line.waitFor();
  assert.equal(await page.locator(".log-rows script, .log-rows img").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // ANSI colours and bold are rendered as styles, the escape codes removed.
  const green = page.locator(".log-rows .fg2.sb", { hasText: "green and bold" });
  await green.waitFor();
  assert.equal(await page.getByText("[1;32m").count(), 0);
});
