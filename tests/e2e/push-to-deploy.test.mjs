// Push to deploy, end to end: an admin sets a stack's GitHub repository, branch and a path
// filter and finds them after a reload; generates the organization's webhook secret and sees it
// once; a push signed with that secret, as GitHub sends it, shows in "Recent deliveries" with the
// deployment it started; a member sees the settings read-only and no webhook controls.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { signInAt, startConsole, stopConsole } from "./harness.mjs";

const STACK = "/api/stacks/acme/website/prod";
const PANEL = "/acme/website/prod/settings/deploy";
let server;
let browser;
/** The secret the admin generated, for signing deliveries. */
let secret;
/** A local repository standing in for acme/website, and the commit at the tip of `release`. */
let repo;
let SHA;

/** A repository with one commit on `release`: the server deploys a pushed commit only if it is
 * on the configured branch, and asks the repository itself. */
async function releaseRepository() {
  const dir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-push-"));
  const git = (...args) =>
    execFileSync("git", args, {
      cwd: dir,
      env: { ...process.env, GIT_AUTHOR_NAME: "Mona", GIT_AUTHOR_EMAIL: "mona@example.com", GIT_COMMITTER_NAME: "Mona", GIT_COMMITTER_EMAIL: "mona@example.com" },
    }).toString().trim();
  git("init", "--quiet", "--initial-branch=release");
  await writeFile(path.join(dir, "Pulumi.yaml"), "name: website\nruntime: yaml\n");
  git("add", ".");
  git("commit", "--quiet", "-m", "Tighten the bucket policy");
  return { dir, sha: git("rev-parse", "HEAD") };
}

before(async () => {
  ({ server, browser } = await startConsole());
  ({ dir: repo, sha: SHA } = await releaseRepository());
});
after(async () => {
  await stopConsole(server, browser);
  await rm(repo, { recursive: true, force: true });
});

/** A `push` payload as GitHub documents it, trimmed of fields nothing reads. */
function pushPayload(ref, files) {
  const commit = {
    id: SHA,
    message: "Tighten the bucket policy",
    timestamp: "2026-12-10T12:00:00+01:00",
    author: { name: "Mona Octocat", email: "mona@example.com", username: "octocat" },
    added: [],
    removed: [],
    modified: files,
  };
  return {
    ref,
    before: "9049f1265b7d61be4a8904a9a27120d2064dab3b",
    after: SHA,
    created: false,
    deleted: false,
    commits: [commit],
    head_commit: commit,
    repository: { id: 1296269, name: "website", full_name: "acme/website", default_branch: "main" },
    pusher: { name: "octocat", email: "mona@example.com" },
    sender: { login: "octocat", id: 1 },
  };
}

/** Posts `payload` to the organization's webhook as GitHub would, signed with `key`. */
async function deliver(event, payload, key) {
  const body = JSON.stringify(payload);
  const signature = "sha256=" + createHmac("sha256", key).update(body).digest("hex");
  const response = await fetch(`${server.baseUrl}/api/webhooks/github/acme`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/044aadd",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": randomUUID(),
      "X-Hub-Signature-256": signature,
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}

test("an admin sets up push to deploy and finds it saved", async () => {
  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  await page.getByLabel("Repository", { exact: true }).fill("acme/website");
  await page.getByLabel("Branch", { exact: true }).fill("refs/heads/release");
  await page.getByRole("button", { name: "Add Path" }).click();
  const path = page.getByLabel("Path 1", { exact: true });
  await path.fill("src/[abc");
  await page.getByText("Path 1 has a [ without its ]").waitFor();
  assert.equal(await path.getAttribute("aria-invalid"), "true");
  await path.fill("infra/**");
  assert.equal(
    await page.getByRole("switch", { name: "Deploy commits" }).getAttribute("aria-checked"),
    "true",
  );
  await page.getByRole("button", { name: "Save deployment configuration" }).click();
  await page.getByText("Deployment configuration saved").waitFor();

  const saved = await server.api("GET", `${STACK}/deployments/settings`, server.tokens.admin);
  assert.equal(saved.status, 200);
  assert.deepEqual(saved.body.gitHub, { repository: "acme/website", paths: ["infra/**"] });
  assert.equal(saved.body.sourceContext.git.branch, "refs/heads/release");
  // Untouched settings are kept.
  assert.equal(saved.body.sourceContext.git.repoUrl, "https://github.com/acme/website");
  assert.ok(saved.body.operationContext.oidc.aws);

  await page.reload();
  await page.getByLabel("Repository", { exact: true }).waitFor();
  assert.equal(await page.getByLabel("Repository", { exact: true }).inputValue(), "acme/website");
  assert.equal(await page.getByLabel("Branch", { exact: true }).inputValue(), "refs/heads/release");
  assert.equal(await page.getByLabel("Path 1", { exact: true }).inputValue(), "infra/**");
  await page.context().close();
});

test("an admin generates the webhook secret, sees it once, and a signed push shows in the deliveries", async () => {
  const page = await signInAt(browser, server, server.tokens.admin, PANEL);
  await page.getByRole("button", { name: "Show the payload URL, secret and deliveries" }).click();
  const url = page.getByLabel("Payload URL", { exact: true });
  await url.waitFor();
  assert.equal(await url.inputValue(), `${server.baseUrl}/api/webhooks/github/acme`);
  await page.getByText("No deliveries yet.").waitFor();

  await page.getByRole("button", { name: "Generate webhook secret" }).click();
  const field = page.getByLabel("Webhook secret", { exact: true });
  await field.waitFor();
  secret = await field.inputValue();
  assert.match(secret, /^[0-9a-f]{64}$/);
  assert.equal(await field.getAttribute("readonly"), "");
  await page.getByText("Copy it now: it will not be shown again.").waitFor();
  await page.getByRole("button", { name: "Rotate webhook secret" }).waitFor();

  // The stack deploys from a repository the server can ask whether the commit is on `release`.
  const source = { sourceContext: { git: { repoUrl: repo } } };
  const patched = await server.api("POST", `${STACK}/deployments/settings`, server.tokens.admin, source);
  assert.equal(patched.status, 200);
  const pushed = await deliver("push", pushPayload("refs/heads/release", ["infra/index.ts"]), secret);
  assert.equal(pushed.status, 200);
  assert.equal(pushed.body.outcome, "started");
  const ignored = await deliver("push", pushPayload("refs/heads/release", ["docs/README.md"]), secret);
  assert.equal(ignored.body.outcome, "ignored");
  const forged = await deliver("push", pushPayload("refs/heads/release", ["infra/a.ts"]), "not the secret");
  assert.equal(forged.status, 401);

  await page.getByRole("button", { name: "Refresh deliveries" }).click();
  const deliveries = page.getByRole("list", { name: "Recent deliveries" });
  const started = deliveries.getByRole("listitem").filter({ hasText: "started 1 deployment" });
  await started.waitFor();
  assert.match(await started.innerText(), /Started/);
  assert.match(await started.innerText(), /push/);
  const link = started.getByRole("link", { name: "website/prod #1" });
  assert.equal(await link.getAttribute("href"), "/acme/website/prod/deployments/1");
  await deliveries.getByText(/ignored because .*none of the 1 changed files matches gitHub\.paths/).waitFor();
  await deliveries.getByText(/rejected: bad signature/).waitFor();

  // Shown once: after a reload the secret is gone, and only its existence is told.
  await page.reload();
  await page.getByRole("button", { name: "Show the payload URL, secret and deliveries" }).click();
  await page.getByRole("button", { name: "Rotate webhook secret" }).waitFor();
  assert.equal(await page.getByLabel("Webhook secret", { exact: true }).count(), 0);
  assert.equal(await page.getByText(secret).count(), 0);
  await page.getByText(/A secret exists, made/).waitFor();

  // The deployment tells which push started it, in the list and on its own page.
  const startedBy = `Push to release · ${SHA.slice(0, 7)} Tighten the bucket policy by Mona Octocat`;
  await page.goto(`${server.baseUrl}/acme/website/prod/deployments`);
  await page.getByRole("cell", { name: startedBy }).waitFor();
  await page.goto(`${server.baseUrl}/acme/website/prod/deployments/1`);
  await page.getByText(startedBy).waitFor();
  const commit = page.getByRole("link", { name: SHA.slice(0, 7) });
  assert.equal(await commit.getAttribute("href"), `https://github.com/acme/website/commit/${SHA}`);
  await page.context().close();
});

test("a member sees push to deploy read-only, without the webhook", async () => {
  const page = await signInAt(browser, server, server.tokens.member, PANEL);
  await page.getByText("Only organization admins can change deployment settings.").waitFor();
  const repository = page.getByLabel("Repository", { exact: true });
  assert.equal(await repository.inputValue(), "acme/website");
  assert.equal(await repository.isDisabled(), true);
  assert.equal(await page.getByLabel("Path 1", { exact: true }).isDisabled(), true);
  assert.equal(await page.getByRole("switch", { name: "Deploy tags" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: /webhook secret/ }).count(), 0);
  assert.equal(await page.getByText("Recent deliveries").count(), 0);
  assert.equal(await page.getByLabel("Payload URL", { exact: true }).count(), 0);
  assert.equal(await page.getByRole("heading", { name: "GitHub webhook" }).count(), 0);
  await page.context().close();
});
