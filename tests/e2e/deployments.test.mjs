// Deployments and the log viewer, end to end against the real server: deploy from the console
// and watch the log stream to the end, the OIDC card with the token's claims and the identity
// AWS granted (read from marker lines the log hides), search into a collapsed step, a finished
// log read in one request and searched by its times, a deep link, HTML in a log line shown as
// text, cancelling a running deployment, and pausing and resuming the stack's deployments.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { deployFixture, holdBack, signedInPage, signInAt, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";
const TAB = "/acme/website/prod/deployments";

let fixture;
let server;
let browser;
let version;

before(async () => {
  fixture = await deployFixture();
  ({ server, browser } = await startConsole(fixture.serverArgs));
  // The seeded stack deploys from GitHub; point it at the local repository.
  const saved = await server.api("POST", `${STACK}/deployments/settings`, server.tokens.admin, {
    sourceContext: { git: fixture.source },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
});

after(async () => {
  await stopConsole(server, browser);
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

test("a finished deployment's log is read whole in one request, its times searchable", async () => {
  assert.ok(version, "the deployment test ran first");
  const page = await signedInPage(browser, server.tokens.member);
  const logRequests = [];
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (/\/logs(\/raw)?$/.test(pathname)) logRequests.push(pathname.endsWith("/raw") ? "raw" : "page");
  });
  await page.goto(`${server.baseUrl}${TAB}/${version}`);
  await page.waitForFunction(() => /^\d+ lines$/.test(document.querySelector(".log-summary span")?.textContent));
  assert.deepEqual(logRequests, ["raw"]);

  // With times shown, a line is found by the time beside it.
  const deployment = await server.api("GET", `${STACK}/deployments/version/${version}`, server.tokens.member);
  const logs = await server.api("GET", `${STACK}/deployments/${deployment.body.id}/logs`, server.tokens.member);
  const needle = logs.body.lines.find((line) => line.line?.startsWith("the needle is here"));
  const time = needle.timestamp.slice(11, 19);
  await page.getByLabel("Timestamps").selectOption("absolute");
  const search = page.getByRole("searchbox", { name: "Search the log" });
  await search.fill(time);
  await search.press("Enter");
  await page.locator(".log-line .ts mark", { hasText: time }).first().waitFor();
  await page.context().close();
});

test("a deployment's page asks for the deployment and its log while the stack loads, and shows them once it has", async () => {
  assert.ok(version, "the deployment test ran first");
  const page = await signedInPage(browser, server.tokens.member);
  // The stack's answer is held back until the log has been asked for.
  const release = await holdBack(page, `**${STACK}`);
  const logAsked = page.waitForRequest((request) => request.url().endsWith("/logs/raw"));
  await page.goto(`${server.baseUrl}${TAB}/${version}`);
  await logAsked;
  await page.getByText("Loading the stack…").waitFor();
  assert.equal(await page.locator(".log-viewer").isVisible(), false, "nothing of the page shows before its stack");
  release();
  await page.waitForFunction(() => /^\d+ lines$/.test(document.querySelector(".log-summary span")?.textContent));
  assert.equal(await page.getByText("Loading the stack…").count(), 0);

  // A stack that cannot be read shows why, and not the page below it.
  await page.goto(`${server.baseUrl}/acme/website/nope/deployments/${version}`);
  await page.getByRole("heading", { name: "Stack not found" }).waitFor();
  assert.equal(await page.title(), "Stack not found · Keyless");
  assert.equal(await page.getByText("The deployment could not be loaded").count(), 0);
  assert.equal(await page.locator(".log-viewer").count(), 0);
  await page.context().close();
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

/** The row of deployment `n` in the Deployments tab's list. */
const deploymentRow = (page, n) => page.getByRole("row", { name: new RegExp(`#${n}\\b`) });

test("a member cancels a running deployment from its page: it ends Failed, saying who cancelled it", async () => {
  // A stand-in pulumi that waits, so that the deployment is surely running when Cancel is pressed.
  const pulumi = fixture.serverArgs[fixture.serverArgs.indexOf("--pulumi") + 1];
  const original = await readFile(pulumi, "utf8");
  await writeFile(pulumi, '#!/bin/sh\necho "waiting to be cancelled"\nsleep 120\n');
  try {
    const page = await signInAt(browser, server, server.tokens.member, TAB);
    await page.getByRole("button", { name: "Deploy", exact: true, disabled: false }).click();
    await page.waitForURL(/\/acme\/website\/prod\/deployments\/\d+$/);
    const cancelled = Number(page.url().split("/").pop());
    const badge = page.locator(".deployment-summary .badge");
    await page.getByText("waiting to be cancelled").waitFor({ timeout: 60_000 });
    await badge.filter({ hasText: "Running" }).waitFor();

    await page.getByRole("button", { name: "Cancel deployment" }).click();
    await page.getByRole("status").filter({ hasText: "Cancelling the deployment…" }).waitFor();
    await badge.filter({ hasText: "Failed" }).waitFor({ timeout: 60_000 });
    await page.getByText(/^Deployment cancelled by \S+$/).waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel deployment" }).count(), 0);

    // The list says so too, with nothing left to cancel.
    await page.goto(server.baseUrl + TAB);
    const row = deploymentRow(page, cancelled);
    await row.waitFor();
    assert.match(await row.innerText(), /Failed/);
    assert.equal(await row.getByRole("button", { name: /Cancel/ }).count(), 0);
  } finally {
    await writeFile(pulumi, original);
  }
});

test("pausing the stack disables Deploy with the reason and holds queued deployments; resuming runs them", async () => {
  const page = await signInAt(browser, server, server.tokens.member, TAB);
  const deploy = (disabled) => page.getByRole("button", { name: "Deploy", exact: true, disabled });
  const metadata = async () => (await server.api("GET", `${STACK}/deployments/metadata`, server.tokens.member)).body;
  await deploy(false).waitFor();

  await page.getByRole("button", { name: "Pause deployments" }).click();
  await page.getByRole("button", { name: "Resume deployments" }).waitFor();
  await deploy(true).waitFor();
  assert.equal(
    await page.locator("#deploy-blocker").innerText(),
    "Deployments of this stack are paused. Resume them to deploy.",
  );
  assert.equal((await metadata()).stackPaused, true);

  // Deployments queued meanwhile (by the API) wait; one is cancelled from the list.
  const queue = async () => {
    const created = await server.api("POST", `${STACK}/deployments`, server.tokens.member, { operation: "update" });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    return created.body.version;
  };
  const [dropped, held] = [await queue(), await queue()];
  await page.reload();
  for (const n of [dropped, held]) {
    await deploymentRow(page, n).filter({ hasText: "Queued" }).waitFor();
  }
  await page.getByRole("button", { name: `Cancel deployment ${dropped}` }).click();
  await page.getByRole("status").filter({ hasText: `Deployment ${dropped} was cancelled.` }).waitFor();
  await deploymentRow(page, dropped).filter({ hasText: "Failed" }).waitFor();
  const waiting = await server.api("GET", `${STACK}/deployments/version/${held}`, server.tokens.member);
  assert.equal(waiting.body.status, "not-started", "a paused stack's deployment waits");

  await page.getByRole("button", { name: "Resume deployments" }).click();
  await page.getByRole("button", { name: "Pause deployments" }).waitFor();
  await deploy(false).waitFor();
  assert.equal(await page.locator("#deploy-blocker").innerText(), "");
  assert.equal((await metadata()).stackPaused, false);
  await deploymentRow(page, held).filter({ hasText: "Succeeded" }).waitFor({ timeout: 60_000 });
});

test("destroy deploys only once the stack's name is typed, and shows in the organization's list", async () => {
  const page = await signInAt(browser, server, server.tokens.member, TAB);
  await page.getByLabel("Operation").selectOption("destroy");
  await page.getByRole("button", { name: "Deploy", exact: true, disabled: false }).click();
  const confirm = page.getByRole("group", { name: "Destroy every resource of this stack?" });
  const destroy = confirm.getByRole("button", { name: "Destroy", exact: true });
  const name = confirm.getByLabel(/Type the stack name/);
  await name.fill("staging");
  assert.equal(await destroy.isDisabled(), true, "another stack's name");
  await name.fill("prod");
  await destroy.click();
  await page.waitForURL(/\/acme\/website\/prod\/deployments\/\d+$/);
  const destroyed = Number(page.url().split("/").pop());
  const created = await server.api("GET", `${STACK}/deployments/version/${destroyed}`, server.tokens.member);
  assert.equal(created.body.pulumiOperation, "destroy");

  await page.goto(`${server.baseUrl}/orgs/acme/deployments`);
  const row = page.getByRole("row", { name: new RegExp(`#${destroyed}\\b`) });
  await row.waitFor();
  assert.match(await row.innerText(), /website\/prod/);
  assert.match(await row.innerText(), /[Dd]estroy/);
});

test("a stack without deployment settings cannot deploy, and says why", async () => {
  const page = await signInAt(browser, server, server.tokens.member, "/acme/website/dev/deployments");
  // The button is also disabled while the settings load; wait for the reason, not the button.
  await page.locator("#deploy-blocker", { hasText: "no deployment settings" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Deploy", exact: true }).isDisabled(), true);
});
