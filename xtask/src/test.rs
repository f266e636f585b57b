//! `cargo xtask test`: every check CI runs, in order from cheapest to slowest.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::{cmd, run, setup};

const WASM: &str = "wasm32-unknown-unknown";

pub fn test(_args: &[String]) -> Result<(), String> {
    setup::setup(true)?;
    cmd::run(&mut cmd::new("cargo", &["fmt", "--all", "--check"]))?;
    cmd::run(&mut cmd::new(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    cmd::run(&mut cmd::new(
        "cargo",
        &[
            "clippy",
            "-p",
            "keyless-console",
            "--target",
            WASM,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    // Native: shared types and validators, the server's API tests, the console's form logic.
    cmd::run(&mut cmd::new("cargo", &["test", "--workspace"]))?;
    // The API tests again, with the store on PostgreSQL (a schema of each test server's own on
    // the local PostgreSQL; the store's own suite runs on both engines above).
    cmd::run(
        cmd::new("cargo", &["test", "-p", "keyless-server", "--test", "api"])
            .env("KEYLESS_TEST_STORE", "postgres"),
    )?;
    api_fuzz()?;
    // The console's components in headless Chromium.
    cmd::run(
        cmd::new(
            "cargo",
            &["test", "-p", "keyless-console", "--target", WASM],
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
    )?;
    // End to end: the real server serving the built console, driven in headless Chromium.
    run::build_console()?;
    cmd::run(&mut cmd::new("cargo", &["build", "-p", "keyless-server"]))?;
    // The local AWS, Azure and Google relying parties "Test OIDC" runs against.
    let relying_parties = run::build_relying_parties()?;
    let root = cmd::root();
    cmd::run(
        cmd::new("npm", &["test"])
            .current_dir(root.join("tests/e2e"))
            .env(
                "KEYLESS_SERVER_BIN",
                root.join("target/debug/keyless-server"),
            )
            .env("KEYLESS_DIST", root.join("dist"))
            .env("KEYLESS_RELYING_PARTIES_BIN", relying_parties),
    )
}

/// The API fuzz's scratch folder, relative to the workspace root: schemathesis works in it
/// (Hypothesis keeps its files there), the server's data dir is `data` in it (the demo seed puts
/// its repository beside that), and it is removed before and after.
const FUZZ_DIR: &str = "target/api-fuzz";
const FUZZ_DATA_DIR: &str = "target/api-fuzz/data";
/// schemathesis's configuration: what it checks and the path parameters it pins.
const FUZZ_CONFIG: &str = "crates/server/tests/schemathesis.toml";
/// Keyless's own document, as the server serves it.
const KEYLESS_DOCUMENT: &str = "crates/server/openapi.json";
/// Pulumi's published document (its deployments subset, with the wire correction listed in
/// `pulumi-openapi.md` beside it) and the configuration of the pass over it.
const PULUMI_DOCUMENT: &str = "crates/server/tests/pulumi-openapi.json";
const PULUMI_CONFIG: &str = "crates/server/tests/schemathesis-pulumi.toml";

/// The API against its own document: schemathesis fuzzes every operation of the served
/// `/api/openapi.json` on the real server, started on a fresh seeded data dir and stopped after,
/// and fails on a server error, or a status, content type, header or body the document does
/// not describe. Then against Pulumi's: the operations both documents name, on the same server,
/// must answer bodies that validate against Pulumi's schemas, so that Pulumi's clients read them.
fn api_fuzz() -> Result<(), String> {
    let schemathesis = setup::schemathesis()?;
    cmd::run(&mut cmd::new("cargo", &["build", "-p", "keyless-server"]))?;
    let root = cmd::root();
    let scratch = root.join(FUZZ_DIR);
    let _ = std::fs::remove_dir_all(&scratch);
    let server = FuzzServer::start()?;
    // A deployment for `{deploymentId}` to name: a preview of the seeded acme/website/prod;
    // and an agent pool for `{poolId}`.
    let deployment = server.create(
        "/api/stacks/acme/website/prod/deployments",
        r#"{"operation":"preview"}"#,
    )?;
    let pool = server.create("/api/orgs/acme/agent-pools", r#"{"name":"fuzz"}"#)?;
    let fuzz = |config: &str, document: &str, args: &[String]| {
        cmd::run(
            cmd::new(
                &schemathesis.to_string_lossy(),
                &["--config-file", &root.join(config).to_string_lossy()],
            )
            .args(["run", document, "--no-color"])
            .args(args)
            .current_dir(&scratch)
            .env("KEYLESS_FUZZ_TOKEN", &server.admin_token)
            .env("KEYLESS_FUZZ_DEPLOYMENT", &deployment)
            .env("KEYLESS_FUZZ_POOL", &pool),
        )
    };
    let result = fuzz(
        FUZZ_CONFIG,
        &format!("{}/api/openapi.json", server.url),
        &[],
    )
    .and_then(|()| {
        let pulumi = read(PULUMI_DOCUMENT)?;
        let keyless = read(KEYLESS_DOCUMENT)?;
        // The document is a local file: requests go to the server.
        let mut args = vec!["--url".to_owned(), server.url.clone()];
        args.extend(
            operation_ids(&pulumi)
                .filter(|id| operation_ids(&keyless).any(|ours| ours == *id))
                .map(|id| format!("--include-operation-id={id}")),
        );
        fuzz(
            PULUMI_CONFIG,
            &root.join(PULUMI_DOCUMENT).to_string_lossy(),
            &args,
        )
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The debug server on [`FUZZ_DATA_DIR`] and a free port; killed when dropped (its sandboxes die
/// with it).
struct FuzzServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    url: String,
    /// The seeded admin's access token.
    admin_token: String,
}

impl FuzzServer {
    fn start() -> Result<Self, String> {
        let program = cmd::root().join("target/debug/keyless-server");
        let mut child = cmd::new(
            &program.to_string_lossy(),
            &["--listen", "127.0.0.1:0", "--data-dir", FUZZ_DATA_DIR],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", program.display()))?;
        // The first line says where it listens; the rest is drained, as a closed pipe would
        // fail the server's next print.
        let mut lines = child.stdout.take().map(|out| BufReader::new(out).lines());
        let line = lines
            .as_mut()
            .and_then(|lines| lines.next())
            .and_then(Result::ok)
            .unwrap_or_default();
        if let Some(lines) = lines {
            std::thread::spawn(move || lines.for_each(drop));
        }
        let url = line
            .trim()
            .strip_prefix("Keyless listening on ")
            .map(str::to_owned);
        let tokens =
            std::fs::read_to_string(cmd::root().join(FUZZ_DATA_DIR).join("demo-tokens.json"))
                .unwrap_or_default();
        match (url, cmd::json_string(&tokens, "admin")) {
            (Some(url), Some(admin_token)) => Ok(Self {
                child,
                url,
                admin_token,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the server did not start on a seeded data dir: {line:?}"
                ))
            }
        }
    }

    /// POSTs `body` to `path` as the admin; returns the `id` answered.
    fn create(&self, path: &str, body: &str) -> Result<String, String> {
        let address = self.url.trim_start_matches("http://");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\n\
             Authorization: token {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.admin_token,
            body.len()
        );
        let mut response = String::new();
        TcpStream::connect(address)
            .and_then(|mut stream| {
                stream.write_all(request.as_bytes())?;
                stream.read_to_string(&mut response)
            })
            .map_err(|e| format!("cannot POST {path} at {address}: {e}"))?;
        cmd::json_string(&response, "id")
            .ok_or_else(|| format!("POST {path} answered {response:?}"))
    }
}

impl Drop for FuzzServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file of the workspace.
fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(cmd::root().join(path)).map_err(|e| format!("cannot read {path}: {e}"))
}

/// The `operationId`s an OpenAPI document declares, in order (ids hold no escapes).
fn operation_ids(document: &str) -> impl Iterator<Item = &str> {
    document
        .split("\"operationId\"")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start().strip_prefix(':')?.trim_start();
            let id = rest.strip_prefix('"')?;
            id.split('"').next()
        })
}
