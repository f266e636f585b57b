// The console served from one origin and the API from another, end to end: the API server
// allows the console's origin (`--cors-origin`), and the console's `config.json` names the API.
// An admin signs in, saves Settings → Deploy, deploys, and reads the log, every call crossing
// origins (tokens travel in a header, so no cookie or credentialed CORS is involved).
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { deployFixture, freePort, launchBrowser, signInAt, startServer } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";
const ROLE = "arn:aws:iam::123456789012:role/keyless-any-origin";

let fixture;
let api;
let consoleServer;
let browser;
let dist;

/**
 * Serves the built console from a second Keyless server, whose `--dist` is a copy of the build
 * with a `config.json` naming `apiBaseUrl`: the server that serves a console reads that file
 * and lets the console connect to that origin in its Content-Security-Policy.
 */
async function serveConsoleFor(apiBaseUrl, listen) {
  dist = await mkdtemp(path.join(tmpdir(), "keyless-e2e-dist-"));
  await cp(process.env.KEYLESS_DIST, dist, { recursive: true });
  await writeFile(path.join(dist, "config.json"), JSON.stringify({ apiBaseUrl }));
  const built = process.env.KEYLESS_DIST;
  process.env.KEYLESS_DIST = dist;
  try {
    return await startServer([], { listen });
  } finally {
    process.env.KEYLESS_DIST = built;
  }
}

before(async () => {
  fixture = await deployFixture();
  const consolePort = await freePort();
  const consoleOrigin = `http://127.0.0.1:${consolePort}`;
  api = await startServer([...fixture.serverArgs, "--cors-origin", consoleOrigin]);
  const saved = await api.api("POST", `${STACK}/deployments/settings`, api.tokens.admin, {
    sourceContext: { git: fixture.source },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  consoleServer = await serveConsoleFor(api.baseUrl, `127.0.0.1:${consolePort}`);
  assert.equal(consoleServer.baseUrl, consoleOrigin);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await consoleServer?.stop();
  await api?.stop();
  await fixture?.cleanup();
  if (dist) await rm(dist, { recursive: true, force: true });
});

test("the console on one origin signs in, saves, deploys and reads the log on another", async () => {
  assert.notEqual(new URL(api.baseUrl).origin, new URL(consoleServer.baseUrl).origin);
  // The console's server only knows its own demo tokens: signing in with the API server's
  // token works only if the console calls the API server.
  const page = await signInAt(browser, consoleServer, api.tokens.admin, "/acme/website/prod/settings/deploy");
  const apiCalls = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) apiCalls.push(request.url());
  });
  const violations = [];
  page.on("console", (message) => {
    if (/Content Security Policy|CORS/i.test(message.text())) violations.push(message.text());
  });

  // Settings → Deploy: change the AWS role and save.
  const roleArn = page.getByLabel("Role ARN", { exact: true });
  await roleArn.waitFor();
  await roleArn.fill(ROLE);
  await page.getByRole("button", { name: "Save deployment configuration" }).click();
  await page.getByText("Deployment configuration saved").waitFor();
  const settings = await api.api("GET", `${STACK}/deployments/settings`, api.tokens.admin);
  assert.equal(settings.body.operationContext.oidc.aws.roleArn, ROLE);

  // Deploy from the Deployments tab and read the log to its end.
  await page.getByRole("navigation", { name: "Stack" }).getByRole("link", { name: "Deployments" }).click();
  const deploy = page.getByRole("button", { name: "Deploy", exact: true });
  await deploy.waitFor();
  await page.getByLabel("Operation").selectOption("update");
  await deploy.click();
  await page.waitForURL(/\/acme\/website\/prod\/deployments\/\d+$/);
  await page.getByText("Update complete").waitFor({ timeout: 60_000 });
  await page.locator(".deployment-summary .badge", { hasText: "Succeeded" }).waitFor({ timeout: 60_000 });
  const card = page.getByRole("region", { name: "Credentials via OIDC" });
  assert.match(await card.innerText(), /assumed-role\/keyless-any-origin\//);

  assert.ok(apiCalls.length > 0, "the console called the API");
  for (const url of apiCalls) assert.equal(new URL(url).origin, new URL(api.baseUrl).origin, url);
  assert.deepEqual(violations, []);
});
