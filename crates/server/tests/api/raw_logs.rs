//! `GET …/deployments/{id}/logs/raw`: the whole log as one streamed text file, the same lines
//! as the JSON pages, gzip-compressed when asked, and a continuation token while it runs; a
//! finished one sent from its archive, compressed once.

use std::io::Read;
use std::time::Instant;

use keyless_api_types::{DeploymentStatus, OrgRole};
use keyless_server::store::{DeploymentId, NewLogLine};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{Fixture, Gate, PATIENCE, deploy_app, deployments, held_preview};
use crate::helpers::{TestApp, spawn_app};

const NEXT_TOKEN: &str = "x-keyless-next-token";

/// A raw reply: status, headers and the body's bytes as sent.
struct Raw {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("the log is UTF-8")
    }

    /// The text of a gzip-encoded reply.
    fn gunzipped(&self) -> String {
        assert_eq!(self.header("content-encoding"), Some("gzip"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(self.body.as_slice())
            .read_to_string(&mut text)
            .expect("a gzip stream");
        text
    }
}

async fn raw(app: &TestApp, path: &str, token: &str, gzip: bool) -> Raw {
    let mut request = app.request(Method::GET, path, Some(token));
    if gzip {
        request = request.header("Accept-Encoding", "gzip");
    }
    let response = request.send().await.expect("request is answered");
    Raw {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body is read").to_vec(),
    }
}

/// The JSON API's lines after `token` (from the start without one), following `nextToken`
/// until it is absent or a page comes back empty.
async fn json_lines(app: &TestApp, logs: &str, mut token: Option<String>) -> Vec<Value> {
    let mut lines = Vec::new();
    loop {
        let path = match &token {
            Some(t) => format!("{logs}?continuationToken={t}"),
            None => logs.to_owned(),
        };
        let reply = app.get(&path, &app.member).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let page = reply.body["lines"].as_array().cloned().unwrap_or_default();
        let empty = page.is_empty();
        lines.extend(page);
        match reply.body["nextToken"].as_str() {
            Some(next) if !empty => token = Some(next.to_owned()),
            _ => return lines,
        }
    }
}

/// JSON lines in the raw format, as the endpoint's contract states it.
fn as_text(lines: &[Value]) -> String {
    let mut out = String::new();
    for line in lines {
        let at = line["timestamp"].as_str().expect("a timestamp");
        if let Some(header) = line["header"].as_str() {
            out.push_str(&format!("{at} ##[group]{header}\n"));
        }
        if let Some(text) = line["line"].as_str() {
            out.push_str(&format!("{at} {text}"));
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// Runs an update printing `count` numbered lines on `acme/website/dev` and waits for its end;
/// returns the path of its logs.
async fn finished_log(app: &TestApp, fixture: &Fixture, count: u32) -> String {
    let base = deployments("website", "dev");
    let print = format!("seq 1 {count}");
    let (done, log) = app.run(&base, &fixture.request("update", &[&print])).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    format!("{base}/{}/logs", done["id"].as_str().expect("an id"))
}

#[tokio::test]
async fn a_finished_log_reads_whole_as_the_json_pages_say() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    // More lines than one store query or one JSON page holds.
    let logs = finished_log(&app, &fixture, 12_345).await;
    let lines = json_lines(&app, &logs, None).await;
    assert!(lines.len() > 12_345 && lines.iter().any(|l| l["header"].is_string()));

    let reply = raw(&app, &format!("{logs}/raw"), &app.member, false).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(
        reply.header(NEXT_TOKEN),
        None,
        "finished: everything was sent"
    );
    let text = reply.text();
    assert_eq!(text, as_text(&lines));
    assert!(text.contains(" ##[group]Get source\n") && text.contains(" 12345\n"));
}

#[tokio::test]
async fn gzip_is_applied_when_asked_and_decompresses_to_the_same_text() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let logs = finished_log(&app, &fixture, 5_000).await;
    let path = format!("{logs}/raw");
    let plain = raw(&app, &path, &app.member, false).await;
    let gzipped = raw(&app, &path, &app.member, true).await;
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("cache-control"), Some("no-store"));
    assert!(
        gzipped.body.len() * 4 < plain.body.len(),
        "{} bytes gzipped of {}",
        gzipped.body.len(),
        plain.body.len()
    );
    assert_eq!(gzipped.gunzipped(), plain.text());
}

/// Waits until deployment `id`'s log archive is stored; returns how many pieces it has.
async fn archived(app: &TestApp, id: &DeploymentId) -> i64 {
    let start = Instant::now();
    while app
        .store
        .log_archive_piece(id, 0)
        .await
        .expect("read")
        .is_none()
    {
        assert!(start.elapsed() < PATIENCE, "the log was never archived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut pieces = 1;
    while app
        .store
        .log_archive_piece(id, pieces)
        .await
        .expect("read")
        .is_some()
    {
        pieces += 1;
    }
    pieces
}

#[tokio::test]
async fn a_finished_log_is_archived_when_it_ends_and_sent_as_archived() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let logs = finished_log(&app, &fixture, 12_345).await;
    let id = DeploymentId::from(logs.split('/').nth_back(1).expect("an id"));
    assert_eq!(archived(&app, &id).await, 1);
    let whole = as_text(&json_lines(&app, &logs, None).await);
    // A row the store takes after the end (nothing writes one) shows which copy is sent.
    let late = NewLogLine {
        step: 0,
        step_offset: Some(1_000_000),
        timestamp: "2026-12-01T09:30:00Z".into(),
        header: None,
        line: Some("written after the archive".into()),
    };
    app.store.append_logs(&id, &[late]).await.expect("stored");

    let path = format!("{logs}/raw");
    let gzipped = raw(&app, &path, &app.member, true).await;
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(
        gzipped.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(gzipped.header("cache-control"), Some("no-store"));
    assert_eq!(gzipped.header("vary"), Some("accept-encoding"));
    let length = gzipped.body.len().to_string();
    assert_eq!(gzipped.header("content-length"), Some(length.as_str()));
    assert_eq!(gzipped.header(NEXT_TOKEN), None);
    assert_eq!(gzipped.gunzipped(), whole, "the archive, as the log ended");
    // A reader that takes no gzip (or refuses it) gets the rows as they are now.
    for refusing in [None, Some("gzip;q=0, identity"), Some("br")] {
        let mut request = app.request(Method::GET, &path, Some(&app.member));
        if let Some(accepted) = refusing {
            request = request.header("Accept-Encoding", accepted);
        }
        let reply = request.send().await.expect("answered");
        assert_eq!(
            reply.headers().get("content-encoding"),
            None,
            "{refusing:?}"
        );
        let text = reply.text().await.expect("text");
        assert_eq!(
            text,
            format!("{whole}2026-12-01T09:30:00Z written after the archive\n")
        );
    }
    // The archive is the deployment's log: no one who may not read it gets it.
    let outsider = app.create_user("globex", OrgRole::Admin).await;
    let elsewhere = path.replace("/website/dev/", "/website/prod/");
    for (path, token, status) in [
        (&path, Some(outsider.as_str()), StatusCode::NOT_FOUND),
        (&elsewhere, Some(app.admin.as_str()), StatusCode::NOT_FOUND),
        (&path, None, StatusCode::UNAUTHORIZED),
    ] {
        let request = app.request(Method::GET, path, token);
        let reply = request
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), status, "{path}");
    }
}

#[tokio::test]
async fn a_log_finished_without_its_archive_gets_one_on_its_first_whole_read() {
    let app = spawn_app().await;
    let (base, id) = held_preview(&app).await;
    let stored = DeploymentId::from(id.as_str());
    // About 3 MB that compress to about half: an archive of several pieces.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let rows: Vec<NewLogLine> = (0..30_000)
        .map(|n| {
            let noise: String = (0..6)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    format!("{seed:016x}")
                })
                .collect();
            NewLogLine {
                step: 0,
                step_offset: Some(n),
                timestamp: "2026-12-01T09:30:00.123456Z".into(),
                header: None,
                line: Some(format!("{n} {noise}")),
            }
        })
        .collect();
    app.store.append_logs(&stored, &rows).await.expect("stored");
    let now = keyless_server::timestamp::now();
    let ended = app
        .store
        .transition(
            &stored,
            &[DeploymentStatus::NotStarted, DeploymentStatus::Accepted],
            DeploymentStatus::Failed,
            &now,
        )
        .await
        .expect("ended");
    assert!(
        ended,
        "the held deployment ends as a lapsed lease or a cancel would end it"
    );

    let path = format!("{base}/{id}/logs/raw");
    let first = raw(&app, &path, &app.member, true).await;
    assert_eq!(first.status, StatusCode::OK);
    let text = first.gunzipped();
    assert_eq!(first.header("content-length"), None, "compressed as read");
    assert!(text.starts_with("2026-12-01T09:30:00.123456Z 0 ") && text.lines().count() == 30_000);
    assert!(archived(&app, &stored).await >= 2, "pieces of about a MiB");
    let again = raw(&app, &path, &app.member, true).await;
    assert_eq!(again.gunzipped(), text);
    let length = again.body.len().to_string();
    assert_eq!(again.header("content-length"), Some(length.as_str()));
    assert!(
        again.body.len() * 3 < text.len() * 2,
        "{} bytes",
        again.body.len()
    );
    assert_eq!(raw(&app, &path, &app.member, false).await.text(), text);
}

#[tokio::test]
async fn a_running_log_gives_a_token_from_which_the_json_api_continues() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let gate = Gate::new().await;
    let base = deployments("website", "dev");
    let commands = ["echo before the gate", &gate.wait(), "echo after the gate"];
    let id = app
        .deploy(&base, &fixture.request("update", &commands))
        .await;
    app.wait_for_log(&base, &id, "before the gate").await;
    let logs = format!("{base}/{id}/logs");

    let early = raw(&app, &format!("{logs}/raw"), &app.member, false).await;
    assert_eq!(early.status, StatusCode::OK);
    let token = early
        .header(NEXT_TOKEN)
        .expect("a running deployment's reply carries a token")
        .to_owned();
    let early = early.text();
    assert!(early.contains(" before the gate\n") && !early.contains("after the gate"));

    gate.open();
    let done = app.finished(&base, &id).await;
    assert_eq!(done["status"], "succeeded");
    let later = json_lines(&app, &logs, Some(token.clone())).await;
    let whole = json_lines(&app, &logs, None).await;
    assert!(as_text(&later).contains(" after the gate\n"));
    assert_eq!(format!("{early}{}", as_text(&later)), as_text(&whole));

    // The raw endpoint takes the token too, and says nothing more follows once finished.
    let rest = raw(
        &app,
        &format!("{logs}/raw?continuationToken={token}"),
        &app.member,
        false,
    )
    .await;
    assert_eq!(rest.header(NEXT_TOKEN), None);
    assert_eq!(rest.text(), as_text(&later));
}

#[tokio::test]
async fn rows_are_written_as_the_console_reads_them() {
    let app = spawn_app().await;
    // Held in its queue, so that only the rows below are its log.
    let (base, id) = held_preview(&app).await;
    let at = "2026-12-01T09:30:00.123456Z";
    let row = |header: Option<&str>, line: Option<&str>| NewLogLine {
        step: 0,
        step_offset: header.is_none().then_some(0),
        timestamp: at.into(),
        header: header.map(Into::into),
        line: line.map(Into::into),
    };
    let rows = [
        row(Some("Setup"), None),
        row(None, Some("ends in a newline\n")),
        row(None, Some("no newline")),
        row(None, Some("two\nphysical lines\n")),
        row(Some("Both"), Some("in one row\n")),
    ];
    let stored = DeploymentId::from(id.as_str());
    app.store.append_logs(&stored, &rows).await.expect("stored");

    let logs = format!("{base}/{id}/logs");
    let reply = raw(&app, &format!("{logs}/raw"), &app.member, false).await;
    assert_eq!(
        reply.text(),
        format!(
            "{at} ##[group]Setup\n{at} ends in a newline\n{at} no newline\n\
             {at} two\nphysical lines\n{at} ##[group]Both\n{at} in one row\n"
        )
    );
    assert_eq!(reply.text(), as_text(&json_lines(&app, &logs, None).await));
    // Not finished: a token, from which nothing has been written yet.
    let token = reply.header(NEXT_TOKEN).expect("a token");
    let rest = app
        .get(&format!("{logs}?continuationToken={token}"), &app.member)
        .await;
    assert_eq!(rest.body["lines"], json!([]), "{}", rest.text);
}

#[tokio::test]
async fn others_unknown_ids_and_bad_tokens_are_refused_as_by_the_json_api() {
    let app = spawn_app().await;
    let (base, id) = held_preview(&app).await;
    let path = format!("{base}/{id}/logs/raw");
    let outsider = app.create_user("globex", OrgRole::Admin).await;

    let member = app
        .send(app.request(Method::GET, &path, Some(&app.member)))
        .await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.text);
    let cases = [
        (path.clone(), Some(outsider.as_str()), StatusCode::NOT_FOUND),
        (
            format!("{}/{id}/logs/raw", deployments("website", "dev")),
            Some(&app.admin),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{base}/no-such-deployment/logs/raw"),
            Some(&app.admin),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{path}?continuationToken=not-a-token"),
            Some(&app.member),
            StatusCode::BAD_REQUEST,
        ),
        // Whether the deployment exists is settled before the token is read.
        (
            format!("{base}/no-such-deployment/logs/raw?continuationToken=not-a-token"),
            Some(&app.member),
            StatusCode::NOT_FOUND,
        ),
        (path.clone(), None, StatusCode::UNAUTHORIZED),
    ];
    for (path, token, status) in cases {
        let reply = app.send(app.request(Method::GET, &path, token)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert_eq!(reply.error().code, status.as_u16(), "{path}");
    }
}
