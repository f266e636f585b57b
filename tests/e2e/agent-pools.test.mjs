// Agent pools, end to end: an admin makes a pool on the Agent pools page, sees its token and the
// command that starts an agent once, chooses the pool in a stack's Settings → Deploy and saves,
// and the stack's settings then name it. Members are not offered the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { signInAt, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/dev";
const PANEL = "/acme/website/dev/settings/deploy";

let server;
let browser;

before(async () => ({ server, browser } = await startConsole()));
after(() => stopConsole(server, browser));

test("an admin makes a pool, sees its token once, and chooses it for a stack", async () => {
  const page = await signInAt(browser, server, server.tokens.admin, "/stacks");
  await page.getByRole("link", { name: "Agent pools", exact: true }).click();
  await page.waitForURL(`${server.baseUrl}/orgs/acme/agent-pools`);
  await page.getByText("No agent pools yet.").waitFor();

  const name = page.getByLabel("Name", { exact: true });
  await name.fill("on-prem");
  await name.fill("");
  await page.getByText("Name is required.").waitFor();
  await name.fill("on-prem");
  await page.getByLabel("Description", { exact: true }).fill("Racks in the basement");
  await page.getByRole("button", { name: "Create pool" }).click();

  const tokenField = page.getByLabel("Token of agent pool “on-prem”", { exact: true });
  await tokenField.waitFor();
  const token = await tokenField.inputValue();
  assert.match(token, /^\S{20,}$/);
  await page.getByText("Copy it now: it will not be shown again.").waitFor();
  const command = await page.locator(".new-pool pre code").innerText();
  assert.equal(command, `KEYLESS_AGENT_TOKEN=${token} keyless-server agent --server ${server.baseUrl}`);
  const pool = page.locator(".pool", { has: page.getByRole("heading", { name: "on-prem" }) });
  await pool.getByText("Racks in the basement").waitFor();
  assert.match(await pool.locator(".pool-state").innerText(), /Offline\s+Last seen never/);

  const listed = await server.api("GET", "/api/orgs/acme/agent-pools", server.tokens.admin);
  assert.equal(listed.status, 200);
  const made = listed.body.agentPools.find((p) => p.name === "on-prem");
  assert.ok(made, JSON.stringify(listed.body));

  // The token is shown this once: the page, visited again, never has it.
  await page.reload();
  await pool.getByText("Racks in the basement").waitFor();
  assert.equal(await page.getByText(token).count(), 0);
  assert.equal(await page.getByLabel("Token of agent pool “on-prem”").count(), 0);

  await page.goto(server.baseUrl + PANEL);
  const choice = page.getByLabel("Agent pool", { exact: true });
  await choice.waitFor();
  assert.equal(await choice.locator("option:checked").innerText(), "This server's agents (default)");
  await choice.selectOption({ label: "on-prem" });
  await page.getByRole("button", { name: "Save deployment configuration" }).click();
  await page.getByText("Deployment configuration saved").waitFor();

  const saved = await server.api("GET", `${STACK}/deployments/settings`, server.tokens.admin);
  assert.equal(saved.status, 200);
  assert.equal(saved.body.agentPoolID, made.id);

  await page.reload();
  await choice.waitFor();
  await page.waitForFunction(() => document.querySelector("#deploy-agentPoolID option:checked")?.textContent === "on-prem");

  // Deleting the pool that dev's settings choose asks again, naming the stack.
  await page.goto(`${server.baseUrl}/orgs/acme/agent-pools`);
  await page.getByRole("button", { name: "Delete on-prem" }).click();
  await page.getByRole("button", { name: "Delete pool" }).click();
  await page.getByText("website/dev", { exact: false }).waitFor();
  await page.getByRole("button", { name: "Delete anyway" }).click();
  await page.getByText("No agent pools yet.").waitFor();
  await page.context().close();
});

test("a member is not offered the Agent pools page", async () => {
  const page = await signInAt(browser, server, server.tokens.member, "/stacks");
  await page.getByRole("link", { name: "Access tokens" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Agent pools" }).count(), 0);

  await page.goto(`${server.baseUrl}/orgs/acme/agent-pools`);
  await page.getByText("Only organization admins can manage agent pools.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Create pool" }).count(), 0);
  await page.context().close();
});
