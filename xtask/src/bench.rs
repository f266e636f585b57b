//! `cargo xtask bench logs [--lines N] [--database-url postgres://…]`: builds the server and the
//! log benchmark with the server's optimised profile, then runs the benchmark against the real
//! server binary, on SQLite and, when given, on PostgreSQL too (see
//! `crates/server/examples/bench_logs.rs`). It prints figures; it asserts nothing about time.
//! `cargo xtask bench sizes`: the last console build's download per page, by crate (see
//! `wasm_sizes.rs`); `bench console` ends with it.

use crate::cmd;

pub fn bench(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("logs") => logs(&args[1..]),
        Some("console") => {
            crate::bench_console::bench(&args[1..])?;
            crate::wasm_sizes::sizes()
        }
        Some("sizes") => crate::wasm_sizes::sizes(),
        _ => Err("usage: cargo xtask bench <logs [--database-url postgres://…] | console | sizes> [--lines N]".into()),
    }
}

fn logs(args: &[String]) -> Result<(), String> {
    cmd::run(&mut cmd::new(
        "cargo",
        &[
            "build",
            "--profile",
            "server",
            "-p",
            "keyless-server",
            "--bin",
            "keyless-server",
            "--example",
            "bench_logs",
        ],
    ))?;
    let target = cmd::root().join("target/server");
    let server = target.join("keyless-server");
    let mut bench = cmd::new(
        &target.join("examples/bench_logs").display().to_string(),
        &[],
    );
    bench.arg("--server").arg(&server).args(args);
    cmd::run(&mut bench)
}
