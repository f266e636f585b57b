//! `cargo xtask test`: every check CI runs, in order from cheapest to slowest.

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
