// "Test OIDC" end to end against local relying parties: the exchange crate's AWS STS, Microsoft
// Entra ID and Google STS + IAM stand-ins, configured with exactly the trust "Set up trust"
// generates for acme/website/prod — and, for one more AWS role, the same policy for another
// stack only. The stand-ins verify the token against the server's own discovery and keys.
//
// The issuer has to be known before the stand-ins start and the server needs their URLs when it
// starts, so a first server (issuer set to the second's future address) generates the trust.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort, openAssistant, signInAt, startConsole, startRelyingParties, startServer, stopConsole } from "./harness.mjs";

const PANEL = "/acme/website/prod/settings/deploy";
const SETTINGS = "/api/stacks/acme/website/prod/deployments/settings";
const TRUST = "/api/stacks/acme/website/prod/deployments/oidc/trust?scope=stack";
const TEST_RUN = "/api/stacks/acme/website/prod/deployments/oidc/test";

const ROLE = "arn:aws:iam::123456789012:role/pulumi-deploy";
/** A role whose trust policy admits acme/website/dev only. */
const OTHER_STACKS_ROLE = "arn:aws:iam::123456789012:role/website-dev-deploy";
const TENANT = "8f5c1c7e-3c4b-4d1a-9a7e-2b6f0c9d1e23";
const CLIENT = "0b7d2c61-5a8e-4f3b-b1c9-6e2d4a8f7c10";
const PROJECT_NUMBER = "123456789012";
const SERVICE_ACCOUNT = "deploy@acme-web.iam.gserviceaccount.com";

/** acme/website/prod's OIDC block: the seeded AWS role (or `roleArn`), Azure and Google Cloud. */
function oidc(roleArn = ROLE) {
  return {
    aws: { roleArn, sessionName: "pulumi-${stack.name}-${operation}", duration: "1h" },
    azure: { clientId: CLIENT, tenantId: TENANT, subscriptionId: "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70" },
    gcp: {
      projectId: PROJECT_NUMBER,
      workloadPoolId: "keyless-pool",
      providerId: "keyless-provider",
      serviceAccount: SERVICE_ACCOUNT,
    },
  };
}

/** Merges `block` into the saved OIDC settings (POST is a JSON merge patch). */
async function saveOidc(server, block) {
  const reply = await server.api("POST", SETTINGS, server.tokens.admin, { operationContext: { oidc: block } });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
}

/** The relying parties' configuration: the generated `trust`, plus the other stack's AWS role. */
function relyingPartiesTrusting(trust) {
  const policy = trust.aws.trustPolicy;
  const otherStack = JSON.parse(JSON.stringify(policy).replaceAll(":stack:prod:", ":stack:dev:"));
  assert.notDeepEqual(otherStack, policy, "the other stack's policy names another stack");
  return {
    aws: {
      providers: [{ url: trust.aws.provider.url, clientIds: [trust.aws.provider.audience] }],
      roles: { [ROLE]: policy, [OTHER_STACKS_ROLE]: otherStack },
    },
    azure: { tenantId: TENANT, apps: { [CLIENT]: trust.azure.credentials } },
    gcp: {
      projectNumber: PROJECT_NUMBER,
      poolId: "keyless-pool",
      providerId: "keyless-provider",
      provider: trust.gcp.provider,
      serviceAccounts: { [SERVICE_ACCOUNT]: trust.gcp.policy },
    },
  };
}

let relyingParties;
let server;
let browser;
/** The trust policy of the role that admits acme/website/dev only. */
let otherStackPolicy;

before(async () => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/oidc`;
  const generator = await startServer(["--oidc-issuer", issuer]);
  let generated;
  try {
    await saveOidc(generator, oidc());
    generated = await generator.api("GET", TRUST, generator.tokens.admin);
  } finally {
    await generator.stop();
  }
  assert.equal(generated.status, 200, JSON.stringify(generated.body));
  assert.equal(generated.body.target.issuer, issuer);
  const trusting = relyingPartiesTrusting(generated.body.trust);
  otherStackPolicy = trusting.aws.roles[OTHER_STACKS_ROLE];
  relyingParties = await startRelyingParties(trusting);
  ({ server, browser } = await startConsole([...relyingParties.serverArgs, "--oidc-issuer", issuer], {
    listen: `127.0.0.1:${port}`,
  }));
  assert.equal(server.baseUrl, `http://127.0.0.1:${port}`);
});

after(async () => {
  await stopConsole(server, browser);
  relyingParties?.stop();
});

/** Opens the Deploy panel as admin, runs Test OIDC for `operation`, and returns its region. */
async function runTestOidc(operation) {
  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  await openAssistant(page);
  const testing = page.getByRole("region", { name: "Test OIDC" });
  await testing.waitFor();
  await testing.getByLabel("Operation", { exact: true }).selectOption(operation);
  await testing.getByRole("button", { name: "Test OIDC" }).click();
  await testing.locator(".oidc-test-outcome").waitFor({ timeout: 30_000 });
  return { page, testing };
}

test("Test OIDC obtains credentials from AWS, Azure and Google Cloud with the generated trust", async () => {
  await saveOidc(server, oidc());
  const { page, testing } = await runTestOidc("update");

  const aws = testing.locator(".cloud-result.success", { hasText: "AWS: credentials obtained" });
  await aws.waitFor();
  const identity = await aws.locator("code").textContent();
  assert.equal(identity, "arn:aws:sts::123456789012:assumed-role/pulumi-deploy/pulumi-prod-update");
  assert.match(await aws.locator(".expiry").textContent(), /^expires in \d+:\d\d(:\d\d)?$/);

  for (const cloud of ["Azure", "Google Cloud"]) {
    const result = testing.locator(".cloud-result", { hasText: `${cloud}: ` });
    assert.match(await result.textContent(), new RegExp(`${cloud}: credentials obtained`), cloud);
    assert.match(await result.locator(".expiry").textContent(), /^expires in /, cloud);
  }
  assert.ok(
    (await testing.locator(".cloud-result", { hasText: "Google Cloud: " }).locator("code").textContent()).includes(
      SERVICE_ACCOUNT,
    ),
  );
  assert.equal(await testing.locator(".cloud-result.failure").count(), 0);
  const claims = testing.getByRole("table", { name: "The test token's claims" });
  assert.match(
    await claims.textContent(),
    /pulumi:deploy:org:acme:project:website:stack:prod:operation:update:scope:write/,
  );
  await page.context().close();
});

test("Test OIDC shows AWS's refusal, explained, when the role trusts another stack only", async () => {
  await saveOidc(server, oidc(OTHER_STACKS_ROLE));
  const { page, testing } = await runTestOidc("update");

  const aws = testing.locator(".cloud-result.failure", { hasText: "AWS: refused" });
  await aws.waitFor();
  assert.equal(await aws.locator("code").first().textContent(), "AccessDenied");
  assert.match(await aws.textContent(), /Not authorized to perform sts:AssumeRoleWithWebIdentity/);
  const explanation = await aws.locator(".explanation").textContent();
  assert.match(explanation, /trust policy of role arn:aws:iam::123456789012:role\/website-dev-deploy did not accept/);
  assert.match(explanation, /stack:prod:operation:update/, explanation);
  // The other clouds still trust this stack.
  assert.equal(await testing.locator(".cloud-result.success").count(), 2);

  // The explainer (a module of its own, fetched when its disclosure opens) judges the policy.
  const fetched = [];
  page.on("requestfinished", (request) => {
    const name = new URL(request.url()).pathname.match(/-split_(\w+)\.wasm$/)?.[1];
    if (name) fetched.push(name);
  });
  await testing.getByText("Paste your AWS trust configuration").click();
  await testing.getByLabel("Trust configuration (JSON)").fill(JSON.stringify(otherStackPolicy));
  assert.deepEqual(fetched, ["explain_trust"]);
  await testing.getByRole("button", { name: "Explain", exact: true }).click();
  // Judged as AWS would: this test's issuer is plain http, which AWS never registers.
  const verdict = testing.locator(".verdict.rejected");
  await verdict.waitFor();
  assert.match(await verdict.textContent(), /issuer `http:\/\/127\.0\.0\.1:\d+\/oidc` is not an https:\/\/ URL/);
  await page.context().close();
});

// Last in this file: it spends the stack's Test OIDC runs for the minute.
test("Test OIDC past the per-minute limit says how long to wait, as the server's Retry-After", async () => {
  await saveOidc(server, oidc());
  let reply;
  for (let run = 0; run <= 10 && reply?.status !== 429; run++) {
    reply = await server.api("POST", TEST_RUN, server.tokens.admin, { operation: "update" });
  }
  assert.equal(reply.status, 429, JSON.stringify(reply.body));

  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  await openAssistant(page);
  const testing = page.getByRole("region", { name: "Test OIDC" });
  await testing.waitFor();
  const answered = page.waitForResponse((response) => response.url() === server.baseUrl + TEST_RUN);
  await testing.getByRole("button", { name: "Test OIDC" }).click();
  const response = await answered;
  assert.equal(response.status(), 429);
  const seconds = response.headers()["retry-after"];
  assert.match(seconds, /^[1-9]\d*$/);
  // The wait comes from the header: the server's message says "try again in 42s", not this.
  const alert = testing.getByRole("alert");
  await alert.waitFor();
  assert.equal(await alert.textContent(), `Too many tests: try again in ${seconds} s.`);
  await page.context().close();
});
