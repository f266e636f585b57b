//! The log benchmark that `cargo xtask bench logs` runs: starts the real server binary on a
//! temporary data directory, queues a deployment whose pre-run command prints N lines (each
//! with the time it was printed), follows it through the logs API with continuation tokens the
//! way a client does, then pages through the whole log again, and reads it whole through
//! `logs/raw` (gzip, decompressed as it arrives, and plain); finally it measures the raw
//! batched-insert rate of the same database through the same store code, for comparison.
//! Then it floods: one deployment prints 64 MiB without a newline, another 200 MB of lines,
//! and it samples the server's resident memory meanwhile (the limits keep it flat: lines are
//! cut at 16 KiB, the log stops at its budget). It prints figures and asserts nothing about
//! time.
//!
//! With `--database-url postgres://…` it runs again with the store in PostgreSQL (a schema of its
//! own in that database, dropped afterwards) and prints those figures beside SQLite's.
//!
//! `bench_logs --server <keyless-server binary> [--lines N] [--database-url postgres://…]`

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyless_server::store::{DeploymentId, NewLogLine};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Lines per transaction in the raw insert, as the server's log writer batches at most.
const BATCH: usize = 8 * 1024;

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds since the epoch of an API timestamp (`2026-12-01T09:30:00.123456Z`).
fn parse_timestamp(text: &str) -> Option<f64> {
    let (date, time) = text.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = time.split(':');
    let (h, min, s) = (t.next()?, t.next()?, t.next()?);
    Some(
        days as f64 * 86400.0
            + h.parse::<f64>().ok()? * 3600.0
            + min.parse::<f64>().ok()? * 60.0
            + s.parse::<f64>().ok()?,
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn git(repo: &Path, args: &[&str]) -> Result<(), BoxError> {
    let status = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed").into())
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut server: Option<PathBuf> = None;
    let mut lines: u64 = 1_000_000;
    let mut postgres: Option<String> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => server = args.next().map(PathBuf::from),
            "--lines" => lines = args.next().ok_or("--lines needs a number")?.parse()?,
            "--database-url" => postgres = args.next(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let server = server.ok_or("--server <keyless-server binary> is required")?;

    let sqlite = bench(&server, lines, None).await?;
    sqlite.stats.print("SQLite", lines, sqlite.raw);
    if let Some(flood) = &sqlite.flood {
        flood.print();
    }
    let Some(postgres) = postgres else {
        return Ok(());
    };
    // A schema of the run's own in that database, dropped afterwards.
    let schema = format!("bench_logs_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&postgres).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await?;
    let separator = if postgres.contains('?') { '&' } else { '?' };
    let scoped = format!("{postgres}{separator}options[search_path]={schema}");
    let result = bench(&server, lines, Some(&scoped)).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await?;
    let pg = result?;
    pg.stats.print("PostgreSQL", lines, pg.raw);
    println!();
    println!("PostgreSQL beside SQLite, same run (PostgreSQL / SQLite)");
    let ratio = |what: &str, pg: f64, sqlite: f64| println!("  {what:<32} {:>12.2}", pg / sqlite);
    ratio(
        "ingest lines/s",
        pg.stats.ingest_per_sec,
        sqlite.stats.ingest_per_sec,
    );
    ratio(
        "end-to-end lag p50",
        percentile(&pg.stats.lags, 0.50),
        percentile(&sqlite.stats.lags, 0.50),
    );
    ratio(
        "paging the finished log, s",
        pg.stats.page_secs,
        sqlite.stats.page_secs,
    );
    ratio(
        "logs/raw gzip, s",
        pg.stats.raw_gzip.secs,
        sqlite.stats.raw_gzip.secs,
    );
    ratio("raw batched insert lines/s", pg.raw, sqlite.raw);
    Ok(())
}

/// One engine's figures.
struct Run {
    stats: Stats,
    /// Lines per second of the store's own batched inserts into the same database.
    raw: f64,
    /// Only on SQLite, the default: the limits it shows do not depend on the engine.
    flood: Option<Flood>,
}

/// Runs the benchmark against a server on a fresh data dir, its store in SQLite there or at
/// `database_url`.
async fn bench(server: &Path, lines: u64, database_url: Option<&str>) -> Result<Run, BoxError> {
    let scratch = tempfile::tempdir()?;
    let data_dir = scratch.path().join("data");
    let repo = scratch.path().join("repo");
    std::fs::create_dir_all(&repo)?;
    git(&repo, &["init", "--quiet", "--initial-branch=main"])?;
    std::fs::write(repo.join("Pulumi.yaml"), "name: bench\nruntime: yaml\n")?;
    git(&repo, &["add", "."])?;
    git(&repo, &["commit", "--quiet", "-m", "bench"])?;
    // The deployment's last step needs a pulumi CLI; the bench measures logs, not pulumi.
    // In a folder of its own: deployments are shown that folder, read-only.
    let pulumi = scratch.path().join("bin/pulumi");
    std::fs::create_dir_all(scratch.path().join("bin"))?;
    std::fs::write(&pulumi, "#!/bin/sh\necho \"pulumi $*\"\n")?;
    std::fs::set_permissions(&pulumi, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;

    let mut command = Command::new(server);
    command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .arg("--pulumi")
        .arg(&pulumi);
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut url = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        if let Some(rest) = line.trim().strip_prefix("Keyless listening on ") {
            url = rest.to_owned();
            break;
        }
        line.clear();
    }
    if url.is_empty() {
        return Err("the server did not say where it listens".into());
    }
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let result = run(&url, &data_dir, &repo, lines, child.id()).await;
    let flood = match (&result, database_url) {
        (Ok(_), None) => Some(flood(&url, &data_dir, &repo, child.id()).await),
        _ => None,
    };
    // SIGTERM: the server shuts down gracefully.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let (deployment_id, stats) = result?;
    let store_url = match database_url {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}", data_dir.join("keyless.db").display()),
    };
    let raw = raw_insert_rate(&store_url, &deployment_id, lines).await?;
    Ok(Run {
        stats,
        raw,
        flood: flood.transpose()?,
    })
}

/// The server's memory around the floods, in KiB.
struct Flood {
    before: u64,
    peak: u64,
    after: u64,
    outcomes: Vec<(String, String, usize)>,
}

impl Flood {
    fn print(&self) {
        println!();
        println!("Flood: 64 MiB without a newline, then 200 MB of lines (log budget 100 MB)");
        for (what, status, stored) in &self.outcomes {
            println!("  {what:<32} {status}, {stored} bytes of log stored");
        }
        println!(
            "  server RSS before / peak / after {:.1} / {:.1} / {:.1} MiB",
            self.before as f64 / 1024.0,
            self.peak as f64 / 1024.0,
            self.after as f64 / 1024.0
        );
    }
}

/// `VmRSS` of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

async fn flood(url: &str, data_dir: &Path, repo: &Path, server: u32) -> Result<Flood, BoxError> {
    let tokens: Value = serde_json::from_slice(&std::fs::read(data_dir.join("demo-tokens.json"))?)?;
    let token = tokens["admin"].as_str().ok_or("no admin token")?;
    let client = reqwest::Client::new();
    let base = format!("{url}/api/stacks/acme/website/staging/deployments");
    let before = rss_kib(server);
    let mut peak = before;
    let mut outcomes = Vec::new();
    for (what, command) in [
        (
            "64 MiB without a newline",
            "head -c 67108864 /dev/zero | tr '\\0' x",
        ),
        (
            "200 MB of lines",
            "yes 'a line of a deployment that prints far too much' | head -c 200000000",
        ),
    ] {
        let id = queue(&client, token, &base, repo, command).await?;
        let status = loop {
            peak = peak.max(rss_kib(server));
            let deployment: Value = client
                .get(format!("{base}/{id}"))
                .header("Authorization", format!("token {token}"))
                .send()
                .await?
                .json()
                .await?;
            let status = deployment["status"].as_str().unwrap_or_default().to_owned();
            if ["succeeded", "failed"].contains(&status.as_str()) {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let logs = format!("{base}/{id}/logs");
        let mut stored = 0;
        let mut next: Option<String> = None;
        loop {
            let page = get(&client, token, &logs, next.as_deref()).await?;
            let lines = page["lines"].as_array().cloned().unwrap_or_default();
            stored += lines
                .iter()
                .filter_map(|l| l["line"].as_str())
                .map(str::len)
                .sum::<usize>();
            match page["nextToken"].as_str() {
                Some(token) if !token.is_empty() && !lines.is_empty() => {
                    next = Some(token.to_owned())
                }
                _ => break,
            }
        }
        outcomes.push((what.to_owned(), status, stored));
    }
    Ok(Flood {
        before,
        peak,
        after: rss_kib(server),
        outcomes,
    })
}

struct Stats {
    ingest_per_sec: f64,
    lags: Vec<f64>,
    follow_secs: f64,
    page_secs: f64,
    pages: u64,
    total_lines: u64,
    raw_gzip: RawRead,
    raw_plain: RawRead,
}

/// One whole read through `logs/raw`.
struct RawRead {
    secs: f64,
    lines: u64,
    text_bytes: u64,
    received_bytes: u64,
    /// The server's peak resident memory meanwhile, in KiB.
    peak_rss: u64,
}

impl RawRead {
    fn print(&self, what: &str) {
        println!(
            "  {what:<32} {:>12.2} s ({} lines, {:.1} MB of text, {:.1} MB received, server RSS peak {:.1} MiB)",
            self.secs,
            self.lines,
            self.text_bytes as f64 / 1e6,
            self.received_bytes as f64 / 1e6,
            self.peak_rss as f64 / 1024.0
        );
    }
}

impl Stats {
    fn print(&self, engine: &str, lines: u64, raw: f64) {
        println!();
        println!("Log benchmark, store in {engine}: {lines} lines printed by one pre-run command");
        println!("  lines returned by the API        {}", self.total_lines);
        println!(
            "  ingest (first → last line)       {:>12.0} lines/s",
            self.ingest_per_sec
        );
        println!(
            "  end-to-end lag, printed → read   p50 {:.1} ms, p99 {:.1} ms (client polls every 100 ms when idle)",
            percentile(&self.lags, 0.50) * 1000.0,
            percentile(&self.lags, 0.99) * 1000.0
        );
        println!(
            "  following while it ran           {:>12.2} s",
            self.follow_secs
        );
        println!(
            "  paging the finished log          {:>12.2} s ({} pages, {:.0} lines/s)",
            self.page_secs,
            self.pages,
            self.total_lines as f64 / self.page_secs
        );
        self.raw_gzip.print("logs/raw, gzip (decompressed)");
        self.raw_plain.print("logs/raw, uncompressed");
        println!(
            "  paging / logs/raw gzip           {:>12.1}x faster",
            self.page_secs / self.raw_gzip.secs
        );
        println!(
            "  raw batched insert, same DB      {raw:>12.0} lines/s ({BATCH} per transaction)"
        );
        println!(
            "  ingest / raw insert              {:>12.2}",
            self.ingest_per_sec / raw
        );
    }
}

async fn run(
    url: &str,
    data_dir: &Path,
    repo: &Path,
    lines: u64,
    server: u32,
) -> Result<(String, Stats), BoxError> {
    let tokens: Value = serde_json::from_slice(&std::fs::read(data_dir.join("demo-tokens.json"))?)?;
    let token = tokens["admin"].as_str().ok_or("no admin token")?;
    let client = reqwest::Client::new();
    let base = format!("{url}/api/stacks/acme/website/dev/deployments");
    let printer = format!(
        "python3 -c 'import sys, time\nfor i in range(1, {lines} + 1):\n    sys.stdout.write(\"%d %.6f\\n\" % (i, time.time())); sys.stdout.flush()'"
    );
    let id = queue(&client, token, &base, repo, &printer).await?;
    let logs = format!("{base}/{id}/logs");

    // Follow it while it runs.
    let start = Instant::now();
    let mut lags = Vec::with_capacity(lines as usize);
    let (mut first, mut last) = (None::<f64>, None::<f64>);
    let mut next: Option<String> = None;
    loop {
        let page = get(&client, token, &logs, next.as_deref()).await?;
        let received = now_secs();
        let entries = page["lines"].as_array().cloned().unwrap_or_default();
        for entry in &entries {
            let Some(text) = entry["line"].as_str() else {
                continue;
            };
            let mut words = text.split_whitespace();
            let (Some(n), Some(printed)) = (words.next(), words.next()) else {
                continue;
            };
            if n.parse::<u64>().is_err() {
                continue;
            }
            let Ok(printed) = printed.parse::<f64>() else {
                continue;
            };
            lags.push(received - printed);
            let stamped = entry["timestamp"].as_str().and_then(parse_timestamp);
            first = first.or(stamped);
            last = stamped.or(last);
        }
        match page["nextToken"].as_str() {
            Some(token) if !token.is_empty() => next = Some(token.to_owned()),
            _ => break,
        }
        if entries.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let follow_secs = start.elapsed().as_secs_f64();

    // Page through the whole finished log.
    let start = Instant::now();
    let (mut pages, mut total_lines, mut text_lines) = (0u64, 0u64, 0u64);
    let mut next: Option<String> = None;
    loop {
        let page = get(&client, token, &logs, next.as_deref()).await?;
        pages += 1;
        let entries = page["lines"].as_array().cloned().unwrap_or_default();
        total_lines += entries.len() as u64;
        text_lines += entries.iter().map(text_line_count).sum::<u64>();
        match page["nextToken"].as_str() {
            Some(token) if !token.is_empty() => next = Some(token.to_owned()),
            _ => break,
        }
    }
    let page_secs = start.elapsed().as_secs_f64();
    let raw_gzip = read_raw(&client, token, &logs, true, server).await?;
    let raw_plain = read_raw(&client, token, &logs, false, server).await?;
    for read in [&raw_gzip, &raw_plain] {
        if read.lines != text_lines {
            return Err(format!(
                "logs/raw gave {} lines of text, the JSON pages {text_lines}",
                read.lines
            )
            .into());
        }
    }
    lags.sort_by(f64::total_cmp);
    let span = match (first, last) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => f64::NAN,
    };
    Ok((
        id,
        Stats {
            ingest_per_sec: lags.len() as f64 / span,
            lags,
            follow_secs,
            page_secs,
            pages,
            total_lines,
            raw_gzip,
            raw_plain,
        },
    ))
}

/// How many lines of text `logs/raw` writes for one JSON log entry: its header's, and its
/// line's (whose inner newlines it keeps, and which it ends with one).
fn text_line_count(entry: &Value) -> u64 {
    let header = u64::from(entry["header"].is_string());
    let line = entry["line"].as_str().map_or(0, |text| {
        text.matches('\n').count() as u64 + u64::from(!text.ends_with('\n'))
    });
    header + line
}

/// Counts what is written to it: bytes and lines.
#[derive(Default)]
struct LineCounter {
    lines: u64,
    bytes: u64,
}

impl Write for LineCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads the finished log whole through `logs/raw`, gzip-compressed when `gzip` (decompressed
/// as it arrives, as a browser does), counting its lines, while sampling the server's memory.
async fn read_raw(
    client: &reqwest::Client,
    token: &str,
    logs: &str,
    gzip: bool,
    server: u32,
) -> Result<RawRead, BoxError> {
    let start = Instant::now();
    let mut request = client
        .get(format!("{logs}/raw"))
        .header("Authorization", format!("token {token}"));
    if gzip {
        request = request.header("Accept-Encoding", "gzip");
    }
    let mut response = request.send().await?.error_for_status()?;
    let encoding = response.headers().get("content-encoding").cloned();
    if gzip != (encoding.as_ref().is_some_and(|e| e == "gzip")) {
        return Err(format!("logs/raw answered with Content-Encoding {encoding:?}").into());
    }
    let (mut plain, mut gunzip) = (
        LineCounter::default(),
        flate2::write::GzDecoder::new(LineCounter::default()),
    );
    let (mut received_bytes, mut peak_rss) = (0, rss_kib(server));
    let mut sampled = Instant::now();
    while let Some(chunk) = response.chunk().await? {
        received_bytes += chunk.len() as u64;
        // Every 10 ms: reading /proc costs more than a chunk.
        if sampled.elapsed() > Duration::from_millis(10) {
            peak_rss = peak_rss.max(rss_kib(server));
            sampled = Instant::now();
        }
        if gzip {
            gunzip.write_all(&chunk)?;
        } else {
            plain.write_all(&chunk)?;
        }
    }
    if gzip {
        plain = gunzip.finish()?;
    }
    Ok(RawRead {
        secs: start.elapsed().as_secs_f64(),
        lines: plain.lines,
        text_bytes: plain.bytes,
        received_bytes,
        peak_rss,
    })
}

/// Queues an update of `repo` whose only pre-run command is `command`; returns its id.
async fn queue(
    client: &reqwest::Client,
    token: &str,
    base: &str,
    repo: &Path,
    command: &str,
) -> Result<String, BoxError> {
    let body = json!({
        "operation": "update",
        "sourceContext": {"git": {"repoUrl": repo.display().to_string(), "branch": "main"}},
        "operationContext": {
            "preRunCommands": [command],
            "options": {"skipInstallDependencies": true}
        }
    });
    let created: Value = client
        .post(base)
        .header("Authorization", format!("token {token}"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(created["id"].as_str().ok_or("no deployment id")?.to_owned())
}

async fn get(
    client: &reqwest::Client,
    token: &str,
    url: &str,
    next: Option<&str>,
) -> Result<Value, BoxError> {
    let mut request = client
        .get(url)
        .header("Authorization", format!("token {token}"));
    if let Some(next) = next {
        request = request.query(&[("continuationToken", next)]);
    }
    Ok(request.send().await?.error_for_status()?.json().await?)
}

/// Lines per second stored by `append_logs` in batches of [`BATCH`], into the same database
/// (`store_url`), as an extra step of the same deployment.
async fn raw_insert_rate(store_url: &str, id: &str, lines: u64) -> Result<f64, BoxError> {
    let store = keyless_server::store::open(store_url).await?;
    let stamp = keyless_server::timestamp::now();
    let start = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    let id = &DeploymentId::from(id);
    for i in 0..lines {
        batch.push(NewLogLine {
            step: 1000,
            step_offset: Some(i as i64),
            timestamp: stamp.clone(),
            header: None,
            line: Some(format!("{i} {:.6}\n", now_secs())),
        });
        if batch.len() == BATCH {
            store.append_logs(id, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append_logs(id, &batch).await?;
    }
    Ok(lines as f64 / start.elapsed().as_secs_f64())
}
