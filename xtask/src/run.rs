//! `cargo xtask run`: build the console and the server, then run the server on the embedded
//! database with the built console. Extra arguments go to the server (`--listen`, …).

use crate::{cmd, setup};

/// Where the server keeps its database, keys and demo tokens unless told otherwise.
const DATA_DIR: &str = ".keyless";

pub fn run(server_args: &[String]) -> Result<(), String> {
    setup::setup(false)?;
    build_console()?;
    let server = build_server()?;
    let mut command = cmd::new(&server.to_string_lossy(), &["--dist", "dist"]);
    if !server_args.iter().any(|a| a.starts_with("--data-dir")) {
        command.args(["--data-dir", DATA_DIR]);
    }
    command.args(server_args);
    cmd::run(&mut command)
}

/// Builds the console into `dist/` (release, offline: the tools come from setup).
pub fn build_console() -> Result<(), String> {
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
