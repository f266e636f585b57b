//! `cargo xtask bench console [--lines N]`: builds the console for release, then measures it in
//! headless Chromium (`tests/e2e/bench-console.mjs`, with playwright-core): the initial download
//! (wasm + js + css, gzipped) against its 250 KB budget, and for an N-line log (1,000,000 by
//! default) opened through "Open a log file": data to first paint, finding and showing the last
//! match of a search, line elements in the DOM at the end, and frame times while scrolling.
//! It prints figures; it asserts nothing about time.

use crate::cmd;

pub fn bench(args: &[String]) -> Result<(), String> {
    cmd::run(&mut cmd::new("trunk", &["build", "--release", "--offline"]))?;
    let root = cmd::root();
    let e2e = root.join("tests/e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        cmd::run(cmd::new("npm", &["ci", "--no-audit", "--no-fund"]).current_dir(&e2e))?;
    }
    let mut node = cmd::new("node", &["bench-console.mjs", "--dist"]);
    node.arg(root.join("dist")).args(args).current_dir(&e2e);
    cmd::run(&mut node)
}
