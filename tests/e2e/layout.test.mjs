// Every page fits the window: nothing makes the document wider than the viewport at a laptop
// (1280 px) or a phone (390 px) width. Long generated commands, policies and log lines scroll or
// wrap inside their own boxes instead. Settings → Deploy is checked with all three clouds on, so
// the trust assistant shows every cloud's commands; Agent pools with a pool just made, so its
// token and the command that starts an agent show.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { deployFixture, openAssistant, signInAt, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

let fixture;
let server;
let browser;
let version;

before(async () => {
  fixture = await deployFixture();
  ({ server, browser } = await startConsole(fixture.serverArgs));
  const saved = await server.api("POST", `${STACK}/deployments/settings`, server.tokens.admin, {
    sourceContext: { git: fixture.source },
    operationContext: {
      oidc: {
        azure: {
          clientId: "2f0c6a5e-1b7d-4c1e-9a53-0d6f3a9b8c71",
          tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          subscriptionId: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        },
        gcp: {
          projectId: "123456789012",
          workloadPoolId: "keyless-pool",
          providerId: "keyless-provider",
          serviceAccount: "deploy@acme-web.iam.gserviceaccount.com",
        },
      },
    },
  });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const created = await server.api("POST", `${STACK}/deployments`, server.tokens.member, { operation: "update" });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  version = created.body.version;
  const pool = await server.api("POST", "/api/orgs/acme/agent-pools", server.tokens.admin, {
    name: "build-machines-in-the-second-datacenter-basement-rack-seven",
    description: "Runs the deployments of stacks that reach the private network of the second datacenter",
  });
  assert.equal(pool.status, 200, JSON.stringify(pool.body));
});

after(async () => {
  await stopConsole(server, browser);
  await fixture?.cleanup();
});

/** Each page, and what shows once it has loaded. */
const pages = () => [
  ["/acme/website/prod", (page) => page.getByRole("link", { name: "Settings → Deploy" })],
  ["/stacks", (page) => page.locator('a[href="/acme/website/prod"]')],
  ["/acme/website/prod/deployments", (page) => page.getByRole("button", { name: "Deploy", exact: true })],
  [`/acme/website/prod/deployments/${version}`, (page) => page.locator(".deployment-summary .badge")],
  ["/acme/website/prod/settings/deploy", (page) => page.getByRole("button", { name: "Save deployment configuration" })],
  ["/tokens", (page) => page.getByRole("button", { name: /Create token/i })],
  ["/orgs/acme/deployments", (page) => page.locator("table")],
  ["/orgs/acme/agent-pools", (page) => page.locator(".pool h3")],
  ["/logs/open", (page) => page.getByLabel("Log file")],
];

/** How far the document reaches past the window's right edge, and the widest culprits. */
function overflow(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    const culprits = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)})`);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, culprits };
  });
}

for (const viewport of VIEWPORTS) {
  test(`no page is wider than a ${viewport.width}px window`, async () => {
    const signIn = await browser.newPage({ viewport });
    await signIn.goto(`${server.baseUrl}/signin`);
    await signIn.getByLabel("Access token", { exact: true }).waitFor();
    const signInWidth = await overflow(signIn);
    assert.ok(signInWidth.scrollWidth <= signInWidth.clientWidth, `/signin: ${JSON.stringify(signInWidth)}`);
    await signIn.context().close();

    const page = await signInAt(browser, server, server.tokens.admin, "/stacks");
    await page.setViewportSize(viewport);
    for (const [pagePath, loaded] of pages()) {
      await page.goto(server.baseUrl + pagePath);
      await loaded(page).first().waitFor();
      if (pagePath.endsWith("/settings/deploy")) {
        for (const cloud of ["AWS", "Azure", "Google Cloud"]) {
          const toggle = page.getByRole("switch", { name: `Enable ${cloud} Integration` });
          assert.equal(await toggle.getAttribute("aria-checked"), "true", cloud);
        }
        // The parts opened on request are measured too.
        await openAssistant(page);
        await page.locator("figure.code-block pre").first().waitFor();
        await page.getByRole("button", { name: "Show the payload URL, secret and deliveries" }).click();
        await page.getByLabel("Payload URL", { exact: true }).waitFor();
        // A look for people: KEYLESS_SCREENSHOTS=<dir> keeps the phone-width panel as a picture.
        const dir = process.env.KEYLESS_SCREENSHOTS;
        if (dir && viewport.width === 390) {
          await mkdir(dir, { recursive: true });
          await page.screenshot({ path: path.join(dir, "deploy-settings-390.png"), fullPage: true });
        }
      }
      if (pagePath.endsWith("/agent-pools")) {
        await page.getByLabel("Name", { exact: true }).fill(`pool-for-a-${viewport.width}px-window`);
        await page.getByRole("button", { name: "Create pool" }).click();
        await page.locator(".new-pool pre").waitFor();
      }
      const measured = await overflow(page);
      assert.ok(measured.scrollWidth <= measured.clientWidth, `${pagePath}: ${JSON.stringify(measured)}`);
    }
    await page.context().close();
  });
}
