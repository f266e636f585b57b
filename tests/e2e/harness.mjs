// Starts the real Keyless server (fresh data dir, seeded) serving the built console, and a
// headless Chromium to drive it. Paths come from KEYLESS_SERVER_BIN and KEYLESS_DIST.
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the end-to-end tests with 'cargo xtask test'`);
  return value;
}

/**
 * Starts the server on a free port (or `listen`, e.g. from `freePort()`); resolves once it says
 * where it listens. `extraArgs` are more server flags (e.g. `--pulumi` from `deployFixture()`,
 * or the cloud endpoints from `relyingParties.serverArgs`).
 */
export async function startServer(extraArgs = [], { listen = "127.0.0.1:0" } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-"));
  const server = spawn(
    required("KEYLESS_SERVER_BIN"),
    [
      "--listen",
      listen,
      "--data-dir",
      dataDir,
      "--dist",
      required("KEYLESS_DIST"),
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/[^\s]+)/i);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ""));
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
  const tokens = JSON.parse(await readFile(path.join(dataDir, "demo-tokens.json"), "utf8"));
  return {
    baseUrl,
    tokens,
    /** Calls the API as `token`. */
    async api(method, apiPath, token, body) {
      const response = await fetch(baseUrl + apiPath, {
        method,
        headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    async stop() {
      server.kill("SIGTERM");
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The real server (`startServer(serverArgs, options)`) and headless Chromium: what an e2e file drives. */
export async function startConsole(serverArgs = [], options = {}) {
  const server = await startServer(serverArgs, options);
  return { server, browser: await launchBrowser() };
}

/** Stops what `startConsole` started; either may be missing when starting failed. */
export async function stopConsole(server, browser) {
  await browser?.close();
  await server?.stop();
}

/** Launches headless Chromium with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/** Opens `pagePath`, signs in on the sign-in page it redirects to, and waits to return. */
export async function signInAt(browser, server, token, pagePath) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.baseUrl + pagePath);
  await page.getByLabel("Access token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(server.baseUrl + pagePath);
  return page;
}

/**
 * A page in a fresh browser context that is signed in as `token` from its first navigation,
 * as the console keeps a session (`contextOptions`: the context's, e.g. a viewport).
 */
export async function signedInPage(browser, token, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  await context.addInitScript((token) => localStorage.setItem("keyless.token", token), token);
  return context.newPage();
}

/** Holds the answers to `page`'s requests matching `pattern` back until the returned function is called. */
export async function holdBack(page, pattern) {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(pattern, async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

/**
 * Opens the Deploy panel's OIDC assistant, offered behind a button when the panel was loaded
 * with a cloud already on, and returns its "Set up trust" region.
 */
export async function openAssistant(page) {
  await page.getByRole("button", { name: "Set up trust and test OIDC" }).click();
  const setup = page.getByRole("region", { name: "Set up trust" });
  await setup.waitFor();
  return setup;
}

// What deployments run against in these tests: a local git repository with a YAML program, a
// stand-in `pulumi` (the real CLI cannot be installed here; the server takes it by `--pulumi`)
// and a stand-in AWS STS that grants every AssumeRoleWithWebIdentity. The same doubles the
// server's API tests use (crates/server/tests/api/fixtures.rs), written for node.

/** The stand-in pulumi: prints colours, HTML, a line to search for, and numbered lines slowly. */
const FAKE_PULUMI = `#!/bin/sh
echo "fake pulumi: $*"
printf '\\033[1;32mgreen and bold\\033[0m then plain\\n'
echo '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">'
i=1
while [ $i -le 40 ]; do
  echo "resource step $i of 40"
  if [ $i -eq 20 ]; then echo "the needle is here"; fi
  sleep 0.05
  i=$((i + 1))
done
echo "Update complete"
`;

function git(cwd, ...args) {
  execFileSync("git", args, {
    cwd,
    stdio: "ignore",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  });
}

/** Answers STS's AssumeRoleWithWebIdentity with credentials valid for an hour. */
function fakeSts() {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const role = form.get("RoleArn") ?? "arn:aws:iam::123456789012:role/unknown";
      const session = form.get("RoleSessionName") ?? "session";
      const assumed = role.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/");
      const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
      response.writeHead(200, { "Content-Type": "text/xml" });
      response.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId>
      <SecretAccessKey>fake-secret-access-key</SecretAccessKey>
      <SessionToken>fake-session-token</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>${assumed}/${session}</Arn></AssumedRoleUser>
    <SubjectFromWebIdentityToken>stand-in</SubjectFromWebIdentityToken>
    <Audience>acme</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

/**
 * Makes the git repository, the stand-in pulumi and STS. `serverArgs` go to `startServer`;
 * `source` is the `sourceContext.git` for deployment settings.
 */
export async function deployFixture() {
  const dir = await mkdtemp(path.join(tmpdir(), "keyless-e2e-deploy-"));
  const repo = path.join(dir, "repo");
  await mkdir(path.join(repo, "infra"), { recursive: true });
  git(repo, "init", "--quiet", "--initial-branch=main");
  await writeFile(path.join(repo, "infra/Pulumi.yaml"), "name: website\nruntime: yaml\nresources: {}\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "First program");
  const pulumi = path.join(dir, "bin/pulumi");
  await mkdir(path.dirname(pulumi), { recursive: true });
  await writeFile(pulumi, FAKE_PULUMI);
  await chmod(pulumi, 0o755);
  const sts = await fakeSts();
  return {
    serverArgs: ["--pulumi", pulumi, "--aws-sts-endpoint", sts.url],
    source: { repoUrl: repo, branch: "refs/heads/main", repoDir: "infra" },
    async cleanup() {
      sts.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback port free right now, for a server whose URL must be known before it starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the local AWS STS, Microsoft Entra ID and Google STS + IAM stand-ins
 * (KEYLESS_RELYING_PARTIES_BIN, the exchange crate's `relying_parties` example) trusting what
 * `config` says (see that example for its shape). Resolves with their URLs, the server flags
 * that point at them, and `stop()`.
 */
export async function startRelyingParties(config) {
  const child = spawn(required("KEYLESS_RELYING_PARTIES_BIN"), ["--json", JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  child.stderr.on("data", (chunk) => (errors += chunk));
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relying parties did not start:\n${errors}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const line = output.split("\n").find((l, i, all) => i < all.length - 1 && l.trim());
      if (line) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line));
        } catch (error) {
          reject(error);
        }
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`relying parties exited (${code}):\n${errors}`));
    });
  });
  return {
    ...urls,
    serverArgs: [
      "--aws-sts-endpoint",
      urls.aws,
      "--azure-authority-host",
      urls.azure,
      "--gcp-sts-endpoint",
      urls.gcp,
      "--gcp-iam-credentials-endpoint",
      urls.gcp,
    ],
    stop() {
      child.kill("SIGTERM");
    },
  };
}
