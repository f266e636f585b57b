//! GitHub push-to-deploy: signed deliveries shaped like GitHub's documented payloads start
//! exactly the deployments they should, once, at the event's commit; everything else starts
//! nothing and says why in the deliveries log.

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fixtures::{Fixture, deploy_app, deployments};
use crate::helpers::{Reply, TestApp, spawn_app};

const SHA: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
const BEFORE: &str = "9049f1265b7d61be4a8904a9a27120d2064dab3b";
const PR_HEAD: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
const ZERO: &str = "0000000000000000000000000000000000000000";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A `push` payload as GitHub documents it (trimmed of fields nothing reads).
fn push(git_ref: &str, after: &str, files: &[&str]) -> Value {
    let commit = json!({
        "id": after,
        "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
        "distinct": true,
        "message": "Update the bucket policy",
        "timestamp": "2026-12-10T12:00:00+01:00",
        "url": format!("https://github.com/Acme/Website/commit/{after}"),
        "author": {"name": "Mona Octocat", "email": "mona@example.com", "username": "octocat"},
        "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
        "added": [],
        "removed": [],
        "modified": files
    });
    json!({
        "ref": git_ref,
        "before": BEFORE,
        "after": after,
        "created": false,
        "deleted": false,
        "forced": false,
        "compare": format!("https://github.com/Acme/Website/compare/{}...{}", &BEFORE[..12], &after[..12]),
        "commits": [commit.clone()],
        "head_commit": commit,
        "repository": {"id": 1296269, "name": "Website", "full_name": "Acme/Website",
                       "private": false, "default_branch": "main"},
        "pusher": {"name": "octocat", "email": "mona@example.com"},
        "sender": {"login": "octocat", "id": 1}
    })
}

/// A `pull_request` payload as GitHub documents it (trimmed).
fn pull_request(action: &str, base: &str) -> Value {
    json!({
        "action": action,
        "number": 42,
        "pull_request": {
            "number": 42,
            "state": "open",
            "title": "Add a logging bucket",
            "user": {"login": "octocat", "id": 1},
            "head": {"label": "acme:feature", "ref": "feature", "sha": PR_HEAD},
            "base": {"label": format!("acme:{base}"), "ref": base, "sha": BEFORE}
        },
        "repository": {"id": 1296269, "full_name": "acme/website"},
        "sender": {"login": "octocat", "id": 1}
    })
}

impl TestApp {
    /// Makes the org's webhook secret as the admin.
    async fn webhook_secret(&self, org: &str) -> String {
        let path = format!("/api/orgs/{org}/webhooks/github/secret");
        let reply = self
            .write(Method::POST, &path, &self.admin, &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.body["url"],
            format!("{}/api/webhooks/github/{org}", self.base_url)
        );
        reply.body["secret"].as_str().expect("a secret").to_owned()
    }

    /// Sends `body` as GitHub would, signed with `secret` when given.
    async fn deliver(&self, event: &str, id: &str, body: &Value, secret: Option<&str>) -> Reply {
        let bytes = serde_json::to_vec(body).expect("serialises");
        self.deliver_raw(event, id, bytes, secret).await
    }

    async fn deliver_raw(
        &self,
        event: &str,
        id: &str,
        bytes: Vec<u8>,
        secret: Option<&str>,
    ) -> Reply {
        let mut request = self
            .bare_post("/api/webhooks/github/acme")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", id)
            .header("User-Agent", "GitHub-Hookshot/044aadd")
            .header("Content-Type", "application/json");
        if let Some(secret) = secret {
            request = request.header("X-Hub-Signature-256", sign(secret, &bytes));
        }
        self.send(request.body(bytes)).await
    }

    /// Every deployment of `acme`, newest first.
    async fn org_deployments(&self) -> Vec<Value> {
        let reply = self
            .get("/api/orgs/acme/deployments?pageSize=100", &self.admin)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body["deployments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn delivery_log(&self) -> Value {
        let reply = self
            .get("/api/orgs/acme/webhooks/github/deliveries", &self.admin)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body
    }

    async fn configure(&self, project: &str, stack: &str, settings: Value) {
        let path = format!("/api/stacks/acme/{project}/{stack}/deployments/settings");
        let reply = self.write(Method::PUT, &path, &self.admin, &settings).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
}

fn git_settings(branch: &str, github: Value) -> Value {
    json!({
        "sourceContext": {"git": {
            "repoUrl": "https://github.com/acme/website",
            "branch": branch,
            "repoDir": "infra"
        }},
        "gitHub": github
    })
}

/// An app whose `acme` queue is paused (deployments stay queued), with a secret, and with
/// `website/dev` (main, infra paths), `website/staging` (tags `v*`), `payments/dev` (another
/// repository) set up for push-to-deploy.
async fn configured() -> (TestApp, String) {
    let app = spawn_app().await;
    let pause = app
        .write(
            Method::POST,
            "/api/orgs/acme/deployments/pause",
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(pause.status, StatusCode::OK);
    app.configure(
        "website",
        "dev",
        git_settings(
            "refs/heads/main",
            json!({"repository": "acme/website", "paths": ["infra/**", "!infra/**/*.md"]}),
        ),
    )
    .await;
    app.configure(
        "website",
        "staging",
        git_settings(
            "staging",
            json!({"repository": "acme/website", "deployTags": true, "tagFilters": ["v*"],
                   "previewPullRequests": false}),
        ),
    )
    .await;
    app.configure(
        "payments",
        "dev",
        git_settings("main", json!({"repository": "acme/payments"})),
    )
    .await;
    let secret = app.webhook_secret("acme").await;
    (app, secret)
}

#[tokio::test]
async fn a_push_to_a_stacks_branch_updates_it_once_at_the_pushed_commit() {
    let (app, secret) = configured().await;
    let body = push("refs/heads/main", SHA, &["infra/index.ts", "README.md"]);
    let reply = app.deliver("push", "d-1", &body, Some(&secret)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["outcome"], "started");
    assert_eq!(
        reply.body["message"],
        "started 1 deployment: acme/website/dev (update); not acme/website/staging: it deploys \
         branch staging, not main"
    );

    let listed = app.org_deployments().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let deployment = &listed[0];
    assert_eq!(deployment["stackName"], "dev");
    assert_eq!(deployment["pulumiOperation"], "update");
    assert_eq!(deployment["initiator"], "github-push");
    assert_eq!(deployment["requestedBy"]["githubLogin"], "alice");
    assert_eq!(
        deployment["trigger"],
        json!({
            "repository": "Acme/Website", "ref": "refs/heads/main", "commit": SHA,
            "message": "Update the bucket policy", "author": "Mona Octocat", "deliveryId": "d-1"
        })
    );
    assert_eq!(reply.body["deploymentIds"], json!([deployment["id"]]));
    let id = deployment["id"].as_str().expect("id");
    let one = app
        .get(
            &format!("{}/{id}", deployments("website", "dev")),
            &app.admin,
        )
        .await;
    assert_eq!(one.body["trigger"]["commit"], SHA);
    assert_eq!(
        one.body["configuration"]["source"]["git"],
        json!({"repoURL": "https://github.com/acme/website", "repoDir": "infra", "commit": SHA})
    );

    // GitHub redelivers: nothing starts twice.
    let again = app.deliver("push", "d-1", &body, Some(&secret)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["outcome"], "duplicate");
    assert_eq!(app.org_deployments().await.len(), 1);

    let log = app.delivery_log().await;
    let entries = log["deliveries"].as_array().expect("deliveries");
    assert_eq!(entries[0]["outcome"], "duplicate");
    assert_eq!(entries[1]["id"], "d-1");
    assert_eq!(entries[1]["event"], "push");
    assert_eq!(entries[1]["outcome"], "started");
    assert_eq!(entries[1]["deploymentIds"], json!([id]));
    assert!(log["secretCreated"].is_string());
}

#[tokio::test]
async fn pushes_that_concern_no_stack_start_nothing_and_say_why() {
    let (app, secret) = configured().await;
    let cases = [
        (
            push(
                "refs/heads/main",
                SHA,
                &["infra/README.md", "docs/guide.md"],
            ),
            "ignored because acme/website/dev: none of the 2 changed files matches \
             gitHub.paths; acme/website/staging: it deploys branch staging, not main",
        ),
        (
            push("refs/heads/feature", SHA, &["infra/index.ts"]),
            "ignored because acme/website/dev: it deploys branch main, not feature; \
             acme/website/staging: it deploys branch staging, not feature",
        ),
        (
            json!({"ref": "refs/heads/main", "before": SHA, "after": ZERO, "deleted": true,
                   "commits": [], "head_commit": null,
                   "repository": {"full_name": "acme/website"}}),
            "ignored because the push deleted refs/heads/main",
        ),
        (
            json!({"ref": "refs/heads/main", "before": BEFORE, "after": SHA, "commits": [],
                   "repository": {"full_name": "octo-org/other"}}),
            "ignored because no stack of acme deploys from octo-org/other",
        ),
        (
            push("refs/tags/nightly", SHA, &[]),
            "ignored because acme/website/dev: deployTags is off; acme/website/staging: tag \
             nightly matches no gitHub.tagFilters",
        ),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let reply = app
            .deliver("push", &format!("n-{i}"), body, Some(&secret))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["outcome"], "ignored", "{}", reply.text);
        assert_eq!(reply.body["message"], *message);
    }
    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1,
                      "hook": {"type": "Organization", "events": ["push", "pull_request"]}});
    let pong = app.deliver("ping", "p-1", &ping, Some(&secret)).await;
    assert_eq!(pong.status, StatusCode::OK);
    assert_eq!(
        pong.body["message"],
        "ignored because it is a ping: the webhook is set up"
    );
    assert!(app.org_deployments().await.is_empty());
}

#[tokio::test]
async fn tags_and_pull_requests_start_what_the_stacks_ask_for() {
    let (app, secret) = configured().await;
    let tag = app
        .deliver(
            "push",
            "t-1",
            &push("refs/tags/v1.4.0", SHA, &[]),
            Some(&secret),
        )
        .await;
    assert_eq!(tag.body["outcome"], "started", "{}", tag.text);
    let opened = app
        .deliver(
            "pull_request",
            "pr-1",
            &pull_request("opened", "main"),
            Some(&secret),
        )
        .await;
    assert_eq!(opened.body["outcome"], "started", "{}", opened.text);
    for (id, action, base) in [("pr-2", "closed", "main"), ("pr-3", "opened", "develop")] {
        let reply = app
            .deliver(
                "pull_request",
                id,
                &pull_request(action, base),
                Some(&secret),
            )
            .await;
        assert_eq!(reply.body["outcome"], "ignored", "{}", reply.text);
    }

    let listed = app.org_deployments().await;
    let summary: Vec<_> = listed
        .iter()
        .map(|d| {
            (
                d["stackName"].as_str().unwrap_or_default(),
                d["pulumiOperation"].as_str().unwrap_or_default(),
                d["initiator"].as_str().unwrap_or_default(),
                d["trigger"]["commit"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("dev", "preview", "github-pull-request", PR_HEAD),
            ("staging", "update", "github-push", SHA),
        ]
    );
    assert_eq!(listed[0]["trigger"]["pullRequest"], 42);
    assert_eq!(listed[0]["trigger"]["author"], "octocat");
    assert_eq!(listed[0]["trigger"]["message"], "Add a logging bucket");
    assert_eq!(listed[1]["trigger"]["ref"], "refs/tags/v1.4.0");
}

#[tokio::test]
async fn unsigned_forged_and_oversized_deliveries_are_refused() {
    let (app, secret) = configured().await;
    let body = push("refs/heads/main", SHA, &["infra/index.ts"]);
    let missing = app.deliver("push", "f-1", &body, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED, "{}", missing.text);
    let forged = app
        .deliver("push", "f-2", &body, Some("not-the-secret"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.text);
    let huge = serde_json::to_vec(&json!({"padding": "x".repeat(1024 * 1024)})).expect("json");
    let oversized = app.deliver_raw("push", "f-3", huge, Some(&secret)).await;
    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.org_deployments().await.is_empty());

    let log = app.delivery_log().await;
    let messages: Vec<_> = log["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| {
            (
                d["outcome"].as_str().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            ("rejected", "rejected: the body is larger than 1 MiB"),
            (
                "rejected",
                "rejected: bad signature: X-Hub-Signature-256 does not match the body and the \
                 organization's secret"
            ),
            (
                "rejected",
                "rejected: bad signature: no X-Hub-Signature-256 header"
            ),
        ]
    );

    // A forged delivery cannot claim the id of the real one that follows.
    let real = app.deliver("push", "f-2", &body, Some(&secret)).await;
    assert_eq!(real.body["outcome"], "started", "{}", real.text);

    // Rotating the secret retires the old one.
    let rotated = app.webhook_secret("acme").await;
    assert_ne!(rotated, secret);
    let stale = app.deliver("push", "f-4", &body, Some(&secret)).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_admins_see_and_rotate_the_webhook() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::POST, "/api/orgs/acme/webhooks/github/secret"),
        (Method::GET, "/api/orgs/acme/webhooks/github/deliveries"),
    ] {
        let reply = app
            .send(
                app.request(method.clone(), path, Some(&app.member))
                    .json(&json!({})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let fresh = app.delivery_log().await;
    assert!(fresh.get("secretCreated").is_none());
    // Without a secret nothing is verified, so nothing starts.
    let body = push("refs/heads/main", SHA, &[]);
    let reply = app.deliver("push", "x-1", &body, Some("guess")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// Runs `git` in `repo`, returning its output.
fn git(repo: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn the_deployment_checks_out_the_pushed_commit_not_the_branch_tip() {
    let fixture = Fixture::new();
    let pushed = git(&fixture.repo, &["rev-parse", "HEAD"]);
    std::fs::write(fixture.repo.join("infra/later.txt"), "later\n").expect("writes");
    git(&fixture.repo, &["add", "."]);
    git(
        &fixture.repo,
        &["commit", "--quiet", "-m", "A later commit"],
    );
    let app = deploy_app(&fixture, 2).await;
    app.configure(
        "website",
        "dev",
        json!({
            "sourceContext": {"git": {
                "repoUrl": fixture.repo.display().to_string(),
                "branch": "refs/heads/main",
                "repoDir": "infra"
            }},
            "gitHub": {"repository": "acme/website"}
        }),
    )
    .await;
    let secret = app.webhook_secret("acme").await;
    let reply = app
        .deliver(
            "push",
            "r-1",
            &push("refs/heads/main", &pushed, &["infra/Pulumi.yaml"]),
            Some(&secret),
        )
        .await;
    assert_eq!(reply.body["outcome"], "started", "{}", reply.text);
    let id = reply.body["deploymentIds"][0].as_str().expect("an id");
    let base = deployments("website", "dev");
    let log = app
        .wait_for_log(&base, id, &format!("Checked out {pushed}: First program"))
        .await;
    assert!(!log.contains("A later commit"), "{log}");
}
