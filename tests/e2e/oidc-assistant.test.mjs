// The OIDC setup assistant, end to end: an admin opens the Deploy panel of acme/website/prod
// (AWS on in the seed), reads the generated trust policy, widens its scope to the organization,
// and runs Test OIDC. This server has no cloud endpoints configured, so AWS's real STS cannot be
// reached from here: the expected outcome is a refusal that says so.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openAssistant, signInAt, startConsole, stopConsole } from "./harness.mjs";

const PANEL = "/acme/website/prod/settings/deploy";

let server;
let browser;

before(async () => ({ server, browser } = await startConsole()));
after(() => stopConsole(server, browser));

/** The text of the AWS role's trust policy as shown. */
async function trustPolicy(page) {
  const block = page.locator("figure.code-block", { hasText: "The role's trust policy" }).locator("pre code");
  await block.waitFor();
  return block.textContent();
}

test("an admin sees the generated AWS trust, widens its scope and tests the exchange", async () => {
  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  const setup = await openAssistant(page);

  const policy = await trustPolicy(page);
  assert.match(policy, /sts:AssumeRoleWithWebIdentity/);
  assert.match(policy, /:aud": "acme"/, "the audience is the organization, lowercase");
  assert.match(policy, /pulumi:deploy:org:acme:project:website:stack:prod:operation:\*/);
  assert.ok(await page.getByRole("button", { name: "Copy: The role's trust policy" }).isVisible());

  const organization = setup.getByLabel("Organization", { exact: true });
  await organization.check();
  assert.ok(await organization.isChecked());
  await page
    .locator("figure.code-block pre code", { hasText: "project:*:stack:*:operation:*" })
    .first()
    .waitFor();
  assert.doesNotMatch(await trustPolicy(page), /stack:prod/);

  const testing = page.getByRole("region", { name: "Test OIDC" });
  await testing.getByRole("button", { name: "Test OIDC" }).click();
  const outcome = testing.locator(".cloud-result", { hasText: "AWS: refused" });
  await outcome.waitFor({ timeout: 30_000 });
  const explanation = await outcome.locator(".explanation").textContent();
  assert.match(explanation, /could not talk to AWS STS/, explanation);
  assert.ok(await testing.getByRole("table", { name: "The test token's claims" }).isVisible());
  await page.context().close();
});

test("a member sees the generated trust but no Test OIDC", async () => {
  const page = await signInAt(browser, server, server.tokens.member, PANEL);
  await openAssistant(page);
  assert.match(await trustPolicy(page), /sts:AssumeRoleWithWebIdentity/);
  assert.equal(await page.getByRole("button", { name: "Test OIDC" }).count(), 0);
  await page.context().close();
});
