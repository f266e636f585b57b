// Settings → Deploy, end to end: an admin turns Azure OIDC on, fixes a bad tenant id, saves and
// finds it saved after a reload; a member sees the same panel read-only; another organization's
// stack, under any tab, shows nothing more than one that does not exist.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { signedInPage, signInAt, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/staging";
const PANEL = "/acme/website/staging/settings/deploy";
const CLIENT_ID = "2f0c6a5e-1b7d-4c1e-9a53-0d6f3a9b8c71";
const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUBSCRIPTION_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

let server;
let browser;

before(async () => ({ server, browser } = await startConsole()));
after(() => stopConsole(server, browser));

test("an admin enables Azure, corrects a bad tenant id, saves, and finds it saved", async () => {
  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  const azure = page.getByRole("switch", { name: "Enable Azure Integration" });
  assert.equal(await azure.getAttribute("aria-checked"), "false");
  await azure.click();
  assert.equal(await azure.getAttribute("aria-checked"), "true");

  await page.getByLabel("Client ID", { exact: true }).fill(CLIENT_ID);
  const tenant = page.getByLabel("Tenant ID", { exact: true });
  await tenant.fill("contoso.onmicrosoft.com");
  const tenantError = page.getByText("must be a GUID", { exact: false });
  await tenantError.waitFor();
  assert.equal(await tenant.getAttribute("aria-invalid"), "true");

  await tenant.fill(TENANT_ID);
  await tenantError.waitFor({ state: "detached" });
  await page.getByLabel("Subscription ID", { exact: true }).fill(SUBSCRIPTION_ID);
  await page.getByRole("button", { name: "Save deployment configuration" }).click();
  await page.getByText("Deployment configuration saved").waitFor();

  const saved = await server.api("GET", `${STACK}/deployments/settings`, server.tokens.admin);
  assert.equal(saved.status, 200);
  assert.deepEqual(saved.body.operationContext.oidc.azure, {
    clientId: CLIENT_ID,
    tenantId: TENANT_ID,
    subscriptionId: SUBSCRIPTION_ID,
  });

  await page.reload();
  const reloaded = page.getByRole("switch", { name: "Enable Azure Integration" });
  await page.getByLabel("Tenant ID", { exact: true }).waitFor();
  assert.equal(await reloaded.getAttribute("aria-checked"), "true");
  assert.equal(await page.getByLabel("Tenant ID", { exact: true }).inputValue(), TENANT_ID);
  await page.context().close();
});

test("a member sees the Deploy panel read-only", async () => {
  const page = await signInAt(browser, server, server.tokens.member, "/acme/website/prod/settings/deploy");
  await page.getByText("Only organization admins can change deployment settings.").waitFor();
  const aws = page.getByRole("switch", { name: "Enable AWS Integration" });
  assert.equal(await aws.getAttribute("aria-checked"), "true");
  assert.equal(await aws.isDisabled(), true);
  assert.equal(await page.getByLabel("Role ARN", { exact: true }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Save deployment configuration" }).count(), 0);
  await page.context().close();
});

test("another organization's stack reads, under every tab, exactly as a stack that does not exist", async () => {
  const page = await signedInPage(browser, server.tokens.admin);
  const answers = [];
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith("/api/") && url.pathname.includes("/globex/")) answers.push(`${response.status()} ${response.url()}`);
  });
  const shown = async (stackPath) => {
    await page.goto(server.baseUrl + stackPath);
    await page.getByRole("heading", { name: "Stack not found" }).waitFor();
    return page.locator("main").innerText();
  };
  for (const tab of ["", "/deployments", "/deployments/1", "/settings/deploy"]) {
    // Alice is an admin of acme only; globex/infra/prod exists, nope/infra/prod does not.
    const theirs = await shown(`/globex/infra/prod${tab}`);
    assert.equal(await page.title(), "Stack not found · Keyless", tab);
    assert.equal(await page.locator("form, .log-viewer, button.deploy-button").count(), 0, tab);
    assert.equal(theirs.replaceAll("globex", "nope"), await shown(`/nope/infra/prod${tab}`), tab);
  }
  assert.ok(answers.length >= 4, "the console asked for the stack");
  assert.deepEqual(answers.filter((answer) => !answer.startsWith("404 ")), [], "every answer about globex is a 404");
  await page.context().close();
});
