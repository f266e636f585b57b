//! `cargo xtask run`: build the console and the server, then run the server on the embedded
//! database with the built console. Extra arguments go to the server (`--listen`, …).
//!
//! Unless the server is given cloud endpoints of its own, it also starts the exchange crate's
//! local stand-ins for AWS STS, Entra ID and Google STS + IAM, trusting the seeded demo stack
//! `acme/demo/dev`, so that its deployments get OIDC credentials with no cloud account.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::{cmd, setup};

/// The server's flags (and their environment variables) that choose where tokens are
/// exchanged: given any, the user picked their clouds and no stand-in starts.
const ENDPOINTS: [(&str, &str); 4] = [
    ("--aws-sts-endpoint", "KEYLESS_AWS_STS_ENDPOINT"),
    ("--azure-authority-host", "KEYLESS_AZURE_AUTHORITY_HOST"),
    ("--gcp-sts-endpoint", "KEYLESS_GCP_STS_ENDPOINT"),
    (
        "--gcp-iam-credentials-endpoint",
        "KEYLESS_GCP_IAM_CREDENTIALS_ENDPOINT",
    ),
];

pub fn run(server_args: &[String]) -> Result<(), String> {
    setup::setup(false)?;
    build_console()?;
    let server = build_server()?;
    // The data dir is the server's default (`.keyless`, from the workspace root) unless
    // `--data-dir` or `KEYLESS_DATA_DIR` says otherwise.
    let mut command = cmd::new(&server.to_string_lossy(), &["--dist", "dist"]);
    // Kept until the server exits; dropping it stops the stand-ins.
    let _clouds = if ENDPOINTS
        .iter()
        .any(|(flag, env)| setting(server_args, flag, env).is_some())
    {
        None
    } else {
        let clouds = LocalClouds::start(&issuer(server_args))?;
        println!(
            "Local stand-ins for AWS STS ({}), Entra ID ({}) and Google STS + IAM ({}) — not the \
             real clouds: they trust only the demo stack acme/demo/dev. Pass --aws-sts-endpoint \
             and the other endpoint flags to use real clouds.",
            clouds.aws, clouds.azure, clouds.gcp
        );
        command.args([
            "--aws-sts-endpoint",
            &clouds.aws,
            "--azure-authority-host",
            &clouds.azure,
            "--gcp-sts-endpoint",
            &clouds.gcp,
            "--gcp-iam-credentials-endpoint",
            &clouds.gcp,
        ]);
        Some(clouds)
    };
    command.args(server_args);
    cmd::run(&mut command)
}

/// Builds the console into `dist/` (release, offline: the tools come from setup).
///
/// Holds an exclusive lock on `target/trunk.lock` meanwhile: two trunk builds in one checkout
/// would share the split hook's folder (`target/wasm-split`) and the staging dir.
pub fn build_console() -> Result<(), String> {
    let target = cmd::root().join("target");
    std::fs::create_dir_all(&target).map_err(|e| format!("cannot create {target:?}: {e}"))?;
    let lock = std::fs::File::create(target.join("trunk.lock"))
        .map_err(|e| format!("cannot create the trunk lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot take the trunk lock: {e}"))?;
    cmd::run(&mut cmd::new("trunk", &["build", "--release", "--offline"]))
}

/// Builds the server with its optimised profile; returns the binary.
pub fn build_server() -> Result<std::path::PathBuf, String> {
    cmd::run(&mut cmd::new(
        "cargo",
        &["build", "--profile", "server", "-p", "keyless-server"],
    ))?;
    Ok(cmd::root().join("target/server/keyless-server"))
}

/// Builds the exchange crate's local relying parties (stand-ins for the clouds' token
/// endpoints); returns the binary.
pub fn build_relying_parties() -> Result<std::path::PathBuf, String> {
    cmd::run(&mut cmd::new(
        "cargo",
        &[
            "build",
            "-p",
            "keyless-exchange",
            "--example",
            "relying_parties",
            "--features",
            "relying-parties",
        ],
    ))?;
    Ok(cmd::root().join("target/debug/examples/relying_parties"))
}

/// A server setting: `--flag value` or `--flag=value` among `args`, else the environment
/// variable the server would read.
fn setting(args: &[String], flag: &str, env: &str) -> Option<String> {
    let given = args.iter().enumerate().find_map(|(i, arg)| {
        if arg == flag {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(flag)?.strip_prefix('=').map(str::to_owned)
        }
    });
    given.or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
}

/// The issuer the server will put in its tokens, worked out as the server does:
/// `--oidc-issuer`, else `<public URL>/oidc`, the public URL defaulting to the listen address.
fn issuer(args: &[String]) -> String {
    if let Some(issuer) = setting(args, "--oidc-issuer", "KEYLESS_OIDC_ISSUER") {
        return issuer;
    }
    let public_url = setting(args, "--public-url", "KEYLESS_PUBLIC_URL").unwrap_or_else(|| {
        let scheme = match setting(args, "--tls-cert", "KEYLESS_TLS_CERT") {
            Some(_) => "https",
            None => "http",
        };
        let listen = setting(args, "--listen", "KEYLESS_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        format!("{scheme}://{listen}")
    });
    format!("{}/oidc", public_url.trim_end_matches('/'))
}

/// The relying parties' process (`crates/exchange/examples/relying_parties.rs`) and its URLs;
/// killed when dropped. On Ctrl-C the terminal signals it with the server.
struct LocalClouds {
    child: Child,
    aws: String,
    azure: String,
    gcp: String,
}

impl LocalClouds {
    fn start(issuer: &str) -> Result<Self, String> {
        let program = build_relying_parties()?;
        let mut child = std::process::Command::new(&program)
            .args(["--json", &demo_trust(issuer)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", program.display()))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let url = |cloud| cmd::json_string(&line, cloud);
        match (url("aws"), url("azure"), url("gcp")) {
            (Some(aws), Some(azure), Some(gcp)) => Ok(Self {
                child,
                aws,
                azure,
                gcp,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the local relying parties did not print their URLs: {line:?}"
                ))
            }
        }
    }
}

impl Drop for LocalClouds {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the stand-ins trust (see the example's doc): exactly the OIDC settings
/// `crates/server/src/seed.rs` gives `acme/demo/dev` (its `DEMO_*` constants), as "Set up trust"
/// would generate them for that stack; the audience is the organization's name. `<issuer>` and
/// `<issuer-host-path>` stand for the server's issuer. Data, not code: a test that starts the
/// stand-ins as this command does can read the same trust.
const DEMO_CLOUDS: &str = include_str!("../demo-clouds.json");

/// [`DEMO_CLOUDS`] for `issuer`.
fn demo_trust(issuer: &str) -> String {
    let escaped = issuer.replace('\\', "\\\\").replace('"', "\\\"");
    let host_path = escaped
        .split_once("://")
        .map_or(escaped.as_str(), |(_, rest)| rest);
    DEMO_CLOUDS
        .replace("<issuer-host-path>", host_path)
        .replace("<issuer>", &escaped)
}
