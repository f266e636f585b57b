//! `cargo xtask bench console [--lines N]`: builds the console for release and the server, then
//! measures them in headless Chromium (`tests/e2e/bench-console.mjs`, with playwright-core):
//! what index.html loads (wasm + js + css, gzipped) against the 250 KB budget, everything a
//! first visit to each main page fetches on the real server; for an N-line log (1,000,000 by
//! default) opened through "Open a log file": the memory it takes (JS heap + WebAssembly
//! memory) beside the log's size, time to first paint and to every line searchable, finding
//! and showing matches (a time among them), elements in the viewer and frame times while
//! scrolling; and for a finished N-line deployment on the real server: the time from opening
//! it to its first lines on screen and to every line searchable, beside paging its log
//! through the JSON logs API. It prints figures; it asserts nothing about time.

use crate::{cmd, run};

pub fn bench(args: &[String]) -> Result<(), String> {
    run::build_console()?;
    let server = run::build_server()?;
    let root = cmd::root();
    let e2e = root.join("tests/e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        cmd::run(cmd::new("npm", &["ci", "--no-audit", "--no-fund"]).current_dir(&e2e))?;
    }
    let mut node = cmd::new("node", &["bench-console.mjs", "--dist"]);
    node.arg(root.join("dist"))
        .args(args)
        .current_dir(&e2e)
        .env("KEYLESS_SERVER_BIN", server)
        .env("KEYLESS_DIST", root.join("dist"));
    cmd::run(&mut node)
}
