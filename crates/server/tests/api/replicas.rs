//! Two servers on one PostgreSQL store, as replicas behind a load balancer: either answers any
//! request alike, deployments queued through both run once each in per-stack order within the
//! organization's limit, a log is followed through the server that does not run it, a cancel
//! reaches the server that runs it, and a crashed server's deployment fails once its lease
//! lapses while its stack's queue moves on.

use std::time::{Duration, Instant};

use keyless_server::Config;
use keyless_server::deploy::{AGENT_LOST_LINE, INTERRUPTED_LINE};
use keyless_server::seed::DemoTokens;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::fixtures::{
    Fixture, Gate, assert_one_per_stack_within, deployments, process_alive, wait_until_ended,
};
use crate::helpers::{TEST_LEASE, TestApp, rotate_oidc_key, spawn_with, verify_jwt};
use crate::support::Schema;

/// A seeded server on a new schema of its own, `max` deployments at a time per organization.
pub async fn first(fixture: &Fixture, max: usize) -> (TestApp, Store) {
    first_with(fixture, |config| {
        config.deploy.max_concurrent_deployments = max
    })
    .await
}

/// [`first`], configured further by `configure`.
async fn first_with(fixture: &Fixture, configure: impl FnOnce(&mut Config)) -> (TestApp, Store) {
    let (schema, url) = Schema::create().await;
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = config(fixture, 4, &url, &data_dir);
    configure(&mut config);
    let (server, tokens) = spawn_with(config, data_dir).await;
    let tokens = tokens.expect("seeded");
    let store = Store {
        url,
        tokens,
        _schema: schema,
    };
    (server.signed_in(store.tokens.clone()), store)
}

/// Another server on `first`'s store, with a data dir of its own and `first`'s secret key
/// (`--secret-key-file`), as replicas are given the same key.
pub async fn join(first: &TestApp, store: &Store, fixture: &Fixture, max: usize) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = config(fixture, max, &store.url, &data_dir);
    config.secret_key_file = Some(first.data_dir.path().join("secret.key"));
    let (server, again) = spawn_with(config, data_dir).await;
    assert!(again.is_none(), "a replica does not seed again");
    server.signed_in(store.tokens.clone())
}

/// Two servers on one store, the first running `command` (which begins `echo started`) as a
/// deployment of `website/dev`: the second joins once it has started, so the first runs it.
/// Returns both servers, the store, the stack's deployments path and the deployment's id.
async fn running_on_first(
    fixture: &Fixture,
    command: &str,
) -> (TestApp, TestApp, Store, String, String) {
    let (a, store) = first(fixture, 4).await;
    let dev = deployments("website", "dev");
    let id = a.deploy(&dev, &fixture.request("update", &[command])).await;
    a.wait_for_log(&dev, &id, "\nstarted\n").await;
    let b = join(&a, &store, fixture, 4).await;
    (a, b, store, dev, id)
}

/// The issuer every replica names in its tokens (the load balancer's address, in production).
const ISSUER: &str = "https://keyless.example.com/oidc";

/// The store replicas share, and the demo tokens it was seeded with.
pub struct Store {
    url: String,
    tokens: DemoTokens,
    _schema: Schema,
}

fn config(fixture: &Fixture, max: usize, url: &str, data_dir: &TempDir) -> Config {
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    // Replicas behind one address share one issuer URL.
    config.deploy.oidc_issuer = Some(ISSUER.into());
    config.database_url = Some(url.to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    config.deploy.max_concurrent_deployments = max;
    config.deploy.deployment_lease = TEST_LEASE.into();
    config
}

fn status(deployment: &Value) -> &str {
    deployment["status"].as_str().unwrap_or_default()
}

fn text<'a>(deployment: &'a Value, field: &str) -> &'a str {
    deployment[field].as_str().unwrap_or_default()
}

#[tokio::test]
async fn deployments_queued_through_both_run_once_each_in_order_within_the_limit() {
    let fixture = Fixture::new();
    let (a, store) = first(&fixture, 2).await;
    let b = join(&a, &store, &fixture, 2).await;

    // Settings written through one are read through the other.
    let settings = "/api/stacks/acme/website/dev/deployments/settings";
    let patch = json!({"operationContext": {"environmentVariables": {"REGION": "eu-west-1"}}});
    let written = a.patch(settings, &patch).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    let read = b.get(settings, &b.admin).await;
    assert_eq!(read.body, written.body);

    let stacks = [
        deployments("website", "dev"),
        deployments("website", "staging"),
        deployments("payments", "dev"),
        deployments("payments", "prod"),
        deployments("data-platform", "dev"),
    ];
    let mut queued = Vec::new();
    for n in 0..20 {
        let base = &stacks[n % stacks.len()];
        let through = if n % 2 == 0 { &a } else { &b };
        let marker = format!("run {n} of 20");
        let body = fixture.request("update", &[&format!("echo '{marker}'; sleep 0.3")]);
        queued.push((base.clone(), through.deploy(base, &body).await, marker));
    }

    let mut runs = Vec::new();
    for (base, id, marker) in &queued {
        let done = b.finished(base, id).await;
        assert_eq!(status(&done), "succeeded", "{}", b.log_text(base, id).await);
        let log = a.log_text(base, id).await;
        assert_eq!(log.matches(&format!("\n{marker}\n")).count(), 1, "{log}");
        assert_eq!(log.matches("fake pulumi: up").count(), 1, "ran once: {log}");
        let started = done["jobs"][0]["started"]
            .as_str()
            .expect("started")
            .to_owned();
        runs.push((base.clone(), started, text(&done, "modified").to_owned()));
    }
    // Per stack, each run starts after the one queued before it ended; never more than the
    // organization's limit at once, counting both servers.
    assert_one_per_stack_within(&runs, 2);
}

#[tokio::test]
async fn a_log_is_followed_and_a_deployment_cancelled_through_the_other_server() {
    let fixture = Fixture::new();
    let gate = Gate::new().await;
    let command = format!(
        "echo started; {}; echo after the gate; sleep 60.0201",
        gate.wait()
    );
    let (a, b, _store, dev, id) = running_on_first(&fixture, &command).await;

    // `b` reads the lines `a` writes as they come.
    b.wait_for_log(&dev, &id, "\nstarted\n").await;
    gate.open();
    b.wait_for_log(&dev, &id, "\nafter the gate\n").await;
    assert!(process_alive("sleep 60.0201"));

    // Cancelled through `b`, which asks `a` through the store.
    let reply = b
        .send(b.request(Method::POST, &format!("{dev}/{id}/cancel"), Some(&b.member)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = b.finished(&dev, &id).await;
    assert_eq!(status(&done), "failed");
    let log = a.log_text(&dev, &id).await;
    assert_eq!(
        log.matches("Deployment cancelled by bob").count(),
        1,
        "{log}"
    );
    wait_until_ended("sleep 60.0201", "the cancel").await;
}

#[tokio::test]
async fn a_crashed_servers_deployment_fails_when_its_lease_lapses_and_its_stack_moves_on() {
    let fixture = Fixture::new();
    let (a, b, _store, dev, running) =
        running_on_first(&fixture, "echo started; sleep 60.0301").await;
    let queued = b
        .deploy(&dev, &fixture.request("update", &["echo second run"]))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status(&b.deployment(&dev, &queued).await), "not-started");

    let crashed = Instant::now();
    let _data_dir = a.crash();
    let failed = b.finished(&dev, &running).await;
    assert_eq!(status(&failed), "failed");
    let lease = Duration::from_secs(3);
    // Within the lease and one scheduling poll (5 s) of the crash.
    let waited = crashed.elapsed();
    assert!(
        waited < lease + Duration::from_secs(8),
        "failed after {waited:?}"
    );
    let log = b.log_text(&dev, &running).await;
    assert!(
        log.contains("\nstarted\n"),
        "a line logged before the crash is kept: {log}"
    );
    // Its local agent died with it.
    assert!(log.contains(AGENT_LOST_LINE), "{log}");

    let done = b.finished(&dev, &queued).await;
    assert_eq!(
        status(&done),
        "succeeded",
        "{}",
        b.log_text(&dev, &queued).await
    );
    assert!(b.log_text(&dev, &queued).await.contains("\nsecond run\n"));
}

#[tokio::test]
async fn both_servers_publish_the_same_keys_and_a_rotation_through_either_reaches_both() {
    let fixture = Fixture::new();
    let (a, store) = first(&fixture, 4).await;
    let b = join(&a, &store, &fixture, 4).await;
    let before = jwks(&a).await;
    assert_eq!(before, jwks(&b).await, "byte-identical JWKS");
    let kids = |text: &str| -> Vec<String> {
        let jwks: Value = serde_json::from_str(text).expect("JSON");
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    let old = kids(&before);
    assert_eq!(old.len(), 1);

    // Rotated by the real command, pointed at the shared store.
    let data_dir = a.data_dir.path().display().to_string();
    let printed = rotate_oidc_key(["--data-dir", &data_dir, "--database-url", &store.url]);
    let after = jwks(&b).await;
    assert_eq!(after, jwks(&a).await, "both serve the rotated ring at once");
    let new = kids(&after);
    assert_eq!(new.len(), 2, "{after}");
    assert_eq!(
        new[1], old[0],
        "the old key stays published, after the new one"
    );
    assert!(
        printed.contains(&new[0]),
        "the command names the new key, which signs from now on"
    );
}

async fn jwks(server: &TestApp) -> String {
    server
        .send(server.bare_get("/oidc/.well-known/jwks"))
        .await
        .text
}

#[tokio::test]
async fn a_token_minted_by_one_server_verifies_against_the_others_keys_before_and_after_rotation() {
    let fixture = Fixture::new();
    let sts = TokenCatcher::start().await;
    let (a, store) = first_with(&fixture, |config| {
        config.deploy.run.aws_sts_endpoint = Some(sts.url.clone());
    })
    .await;
    let b = join(&a, &store, &fixture, 4).await;
    // "Test OIDC" on the seeded prod stack (AWS) makes `a` mint a token and send it to STS.
    let test = "/api/stacks/acme/website/prod/deployments/oidc/test";
    let minted_by_a = || async {
        let reply = a.write(Method::POST, test, &a.admin, &json!({})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        sts.last().await
    };
    let before = minted_by_a().await;
    let old_kid = verify(&jwks(&b).await, &before);

    let data_dir = b.data_dir.path().display().to_string();
    let key = a.data_dir.path().join("secret.key").display().to_string();
    let printed = rotate_oidc_key([
        "--data-dir",
        &data_dir,
        "--database-url",
        &store.url,
        "--secret-key-file",
        &key,
    ]);
    let after = minted_by_a().await;
    let new_kid = verify(&jwks(&b).await, &after);
    assert_ne!(
        new_kid, old_kid,
        "the rotation through the other server signs at once"
    );
    assert!(printed.contains(&new_kid));
    // The old token still verifies: its key stays published.
    verify(&jwks(&b).await, &before);
}

/// Verifies `token` against `jwks` and the shared issuer; returns the key id that signed it.
fn verify(jwks: &str, token: &str) -> String {
    let jwks: Value = serde_json::from_str(jwks).expect("JWKS is JSON");
    verify_jwt(&jwks, token, ISSUER, None).0
}

/// A stand-in for AWS STS that keeps every `WebIdentityToken` it is sent and refuses it.
struct TokenCatcher {
    url: String,
    tokens: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TokenCatcher {
    async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = tokens.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 8192];
                    // Read until the body the headers announce has arrived.
                    while let Ok(read) = stream.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        request.extend_from_slice(&buffer[..read]);
                        let text = String::from_utf8_lossy(&request);
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    let (name, value) = l.split_once(':')?;
                                    name.eq_ignore_ascii_case("content-length")
                                        .then(|| value.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if body.len() >= length {
                                let token = body.split('&').find_map(|pair| {
                                    pair.strip_prefix("WebIdentityToken=").map(str::to_owned)
                                });
                                if let (Some(token), Ok(mut kept)) = (token, kept.lock()) {
                                    kept.push(token);
                                }
                                break;
                            }
                        }
                    }
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Self { url, tokens }
    }

    /// The last token sent.
    async fn last(&self) -> String {
        self.tokens
            .lock()
            .ok()
            .and_then(|tokens| tokens.last().cloned())
            .expect("a token reached STS")
    }
}

#[tokio::test]
async fn the_test_oidc_limit_counts_runs_through_every_server() {
    let fixture = Fixture::new();
    let (a, store) = first(&fixture, 4).await;
    let b = join(&a, &store, &fixture, 4).await;
    // The seeded prod stack has AWS OIDC; the exchange fails (no STS here), which still counts.
    let test = "/api/stacks/acme/website/prod/deployments/oidc/test";
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        let reply = server
            .write(Method::POST, test, &server.admin, &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "run {n}: {}", reply.text);
    }
    for server in [&a, &b] {
        let reply = server
            .write(Method::POST, test, &server.admin, &json!({}))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.text
        );
    }
}

#[tokio::test]
async fn a_server_given_another_key_refuses_to_start_on_the_store() {
    let fixture = Fixture::new();
    let (a, store) = first(&fixture, 4).await;
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let config = config(&fixture, 4, &store.url, &data_dir);
    let started = keyless_server::start(&config, ([127, 0, 0, 1], 0).into()).await;
    let err = started.err().expect("refused").to_string();
    assert!(err.contains("--secret-key-file"), "{err}");
    let config = Config {
        secret_key_file: Some(data_dir.path().join("missing.key")),
        ..config
    };
    let started = keyless_server::start(&config, ([127, 0, 0, 1], 0).into()).await;
    let err = started.err().expect("refused").to_string();
    assert!(err.contains("missing.key"), "{err}");

    // The right key, kept where deployments would see it, is refused too.
    let work = tempfile::tempdir().expect("temp work dir");
    let visible = work.path().join("secret.key");
    std::fs::copy(a.data_dir.path().join("secret.key"), &visible).expect("copies");
    let mut config = Config {
        secret_key_file: Some(visible),
        ..config
    };
    config.deploy.run.work_dir = Some(work.path().to_owned());
    let started = keyless_server::start(&config, ([127, 0, 0, 1], 0).into()).await;
    let err = started.err().expect("refused").to_string();
    assert!(err.contains("deployments can see that path"), "{err}");
}

#[tokio::test]
async fn an_agent_whose_lease_was_taken_over_stops_its_deployment_and_writes_no_more() {
    let fixture = Fixture::new();
    let (_a, b, store, dev, running) =
        running_on_first(&fixture, "echo started; sleep 60.0401").await;
    // As if `a` had stalled past its lease and another server had begun to take it over.
    let database = sqlx::PgPool::connect(&store.url).await.expect("connects");
    sqlx::query("UPDATE deployments SET lease_holder = 'elsewhere', lease_until = 0 WHERE id = $1")
        .bind(&running)
        .execute(&database)
        .await
        .expect("lapses");
    // `a`'s local agent learns at its next renewal and stops its process, leaving the end to
    // the server that takes the lapsed lease over (here `b`), which fails it.
    let done = b.finished(&dev, &running).await;
    assert_eq!(status(&done), "failed");
    wait_until_ended("sleep 60.0401", "the lost lease").await;
    let log = b.log_text(&dev, &running).await;
    assert_eq!(log.matches(INTERRUPTED_LINE).count(), 1, "{log}");
    // What the agent says on stopping is not stored: it no longer holds the deployment.
    assert!(!log.contains("could not renew its lease"), "{log}");
}
