//! `cargo xtask …`: the project's commands, the ones the README names.
//!
//! - `cargo xtask run`: install what is missing, build the console and the server, and run
//!   the server on the embedded database, seeded with demo data on first start, with local
//!   stand-ins for the clouds' token endpoints that the demo stack `acme/demo/dev` deploys with.
//! - `cargo xtask test`: install what is missing, then fmt, clippy and every test: native unit
//!   and API tests, a schemathesis fuzz of the API against its OpenAPI document, browser
//!   component tests, and end-to-end tests in headless Chromium.
//! - `cargo xtask setup [--browser]`: only the installs (idempotent).
//! - `cargo xtask bench logs [--lines N]`: the deployment-log benchmark (figures, no asserts).
//! - `cargo xtask build-console`: only the console's release build into `dist/` (one at a
//!   time per checkout; see `run::build_console`).
//! - `cargo xtask bench sizes`: the last console build's download per page, by crate.
//! - `cargo xtask split-console`: trunk's post-build hook that splits the console's wasm into
//!   lazily loaded pages (see `split.rs`).
//! - `cargo xtask bench console [--lines N]`: the console's download size and its log viewer
//!   with a million lines in headless Chromium (figures, no asserts).

mod bench;
mod bench_console;
mod cmd;
mod glue_imports;
mod packs;
mod run;
mod setup;
mod split;
mod test;
mod wasm_sizes;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(&args[1..]),
        Some("setup") => setup::setup(args.iter().any(|a| a == "--browser")),
        Some("bench") => bench::bench(&args[1..]),
        Some("build-console") => run::build_console(),
        Some("split-console") => split::split_console(),
        _ => {
            eprintln!(
                "usage: cargo xtask <run [server flags…] | test | setup [--browser] | build-console | bench <logs | console | sizes> [--lines N]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
