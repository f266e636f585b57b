//! Idempotent installs of what building and testing need (see the toolchain notes in the
//! README): each tool is installed only when the right version is not already there.

use std::path::PathBuf;

use crate::cmd;

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_VERSION: &str = "132";
/// Minifies the console's scripts and stylesheet (`split.rs`).
const ESBUILD_VERSION: &str = "0.28.2";
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// The virtualenv schemathesis is installed in, under the workspace root.
const SCHEMATHESIS_VENV: &str = "target/schemathesis";

/// Installs the build tools and bubblewrap (every deployment runs in its sandbox), and with
/// `browser` also what the tests need beyond them: Chromium, chromedriver, the end-to-end test
/// dependencies and schemathesis.
pub fn setup(browser: bool) -> Result<(), String> {
    let have = |path: &str| std::path::Path::new(path).exists();
    if !have("/usr/bin/bwrap") {
        apt_install(&["bubblewrap"])?;
    }
    let targets = cmd::output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        cmd::run(&mut cmd::new(
            "rustup",
            &["target", "add", "wasm32-unknown-unknown"],
        ))?;
    }
    let trunk = cmd::output("trunk", &["--version"]).unwrap_or_default();
    if !trunk.ends_with(TRUNK_VERSION) {
        cmd::run(&mut cmd::new(
            "cargo",
            &["install", "trunk", "--version", TRUNK_VERSION, "--locked"],
        ))?;
    }
    let bindgen = wasm_bindgen_version()?;
    let installed = cmd::output("wasm-bindgen", &["--version"]).unwrap_or_default();
    let runner = cmd::output("wasm-bindgen-test-runner", &["--version"]).unwrap_or_default();
    if !installed.ends_with(&bindgen) || !runner.ends_with(&bindgen) {
        // Not `--locked`: its lock file pins a crate the registry no longer serves.
        cmd::run(&mut cmd::new(
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &bindgen],
        ))?;
    }
    let wasm_opt = cmd::output("wasm-opt", &["--version"]).unwrap_or_default();
    if !wasm_opt.contains(&format!("version {BINARYEN_VERSION}")) {
        let package = format!("binaryen@{BINARYEN_VERSION}");
        cmd::run(&mut cmd::new("npm", &["install", "-g", &package]))?;
    }
    let esbuild = cmd::output("esbuild", &["--version"]).unwrap_or_default();
    if esbuild != ESBUILD_VERSION {
        let package = format!("esbuild@{ESBUILD_VERSION}");
        cmd::run(&mut cmd::new("npm", &["install", "-g", &package]))?;
    }
    if browser {
        setup_browser()?;
        schemathesis()?;
    }
    Ok(())
}

/// schemathesis (from PyPI, in its own virtualenv) at [`SCHEMATHESIS_VERSION`], installed when
/// it is not there; returns the program.
pub fn schemathesis() -> Result<PathBuf, String> {
    let venv = cmd::root().join(SCHEMATHESIS_VENV);
    let program = venv.join("bin/schemathesis");
    let installed = cmd::output(&program.to_string_lossy(), &["--version"]).unwrap_or_default();
    if installed.ends_with(SCHEMATHESIS_VERSION) {
        return Ok(program);
    }
    let venv_arg = venv.to_string_lossy();
    let create = || cmd::run(&mut cmd::new("python3", &["-m", "venv", &venv_arg]));
    if create().is_err() {
        // Debian's python3 keeps venv in a package of its own.
        apt_install(&["python3-venv"])?;
        create()?;
    }
    let pip = venv.join("bin/pip");
    let package = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    cmd::run(&mut cmd::new(
        &pip.to_string_lossy(),
        &["install", "--quiet", &package],
    ))?;
    Ok(program)
}

/// The exact wasm-bindgen version in Cargo.lock, which the CLI must match.
fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(cmd::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

/// Installs Debian packages (the package lists are refreshed first).
fn apt_install(packages: &[&str]) -> Result<(), String> {
    cmd::run(&mut cmd::new("apt-get", &["update"]))?;
    let mut args = vec!["install", "-y"];
    args.extend(packages);
    cmd::run(cmd::new("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))
}

fn setup_browser() -> Result<(), String> {
    let have = |path: &str| std::path::Path::new(path).exists();
    if !have("/usr/bin/chromium") || !have("/usr/bin/chromedriver") {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    let e2e = cmd::root().join("tests/e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        cmd::run(cmd::new("npm", &["ci", "--no-audit", "--no-fund"]).current_dir(e2e))?;
    }
    Ok(())
}
