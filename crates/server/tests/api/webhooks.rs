//! GitHub push-to-deploy: signed deliveries shaped like GitHub's documented payloads start
//! exactly the deployments they should, once, at the event's commit, when the repository
//! confirms the commit is on the pushed branch; everything else starts nothing and says why in
//! the deliveries log.

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::fixtures::{Fixture, deploy_app, deployments};
use crate::helpers::{Reply, TestApp, spawn_app};

/// A commit no repository here has.
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

fn git_settings(repo: &std::path::Path, branch: &str, github: Value) -> Value {
    json!({
        "sourceContext": {"git": {
            "repoUrl": repo.display().to_string(),
            "branch": branch,
            "repoDir": "infra"
        }},
        "gitHub": github
    })
}

/// An app whose `acme` queue is paused (deployments stay queued), with a secret, and with
/// `website/dev` (main, infra paths), `website/staging` (tags `v*`), `payments/dev` (another
/// repository) set up for push-to-deploy from a local repository.
struct Hooked {
    app: TestApp,
    secret: String,
    /// `main`, `staging` and the tag `v1.4.0` are at `head`; `feature` is a commit past it.
    repo: Fixture,
    head: String,
    feature: String,
}

async fn configured() -> Hooked {
    configured_on(spawn_app().await).await
}

/// `app` with the organization's queue paused, three stacks following the repository, and a
/// webhook secret.
async fn configured_on(app: TestApp) -> Hooked {
    let repo = Fixture::new();
    let head = git(&repo.repo, &["rev-parse", "HEAD"]);
    git(&repo.repo, &["branch", "staging"]);
    git(&repo.repo, &["tag", "-a", "-m", "Release 1.4.0", "v1.4.0"]);
    git(&repo.repo, &["checkout", "--quiet", "-b", "feature"]);
    git(
        &repo.repo,
        &["commit", "--quiet", "--allow-empty", "-m", "Not on main"],
    );
    let feature = git(&repo.repo, &["rev-parse", "HEAD"]);
    git(&repo.repo, &["checkout", "--quiet", "main"]);
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
            &repo.repo,
            "refs/heads/main",
            json!({"repository": "acme/website", "paths": ["infra/**", "!infra/**/*.md"]}),
        ),
    )
    .await;
    app.configure(
        "website",
        "staging",
        git_settings(
            &repo.repo,
            "staging",
            json!({"repository": "acme/website", "deployTags": true, "tagFilters": ["v*"],
                   "previewPullRequests": false}),
        ),
    )
    .await;
    app.configure(
        "payments",
        "dev",
        git_settings(&repo.repo, "main", json!({"repository": "acme/payments"})),
    )
    .await;
    let secret = app.webhook_secret("acme").await;
    Hooked {
        app,
        secret,
        repo,
        head,
        feature,
    }
}

#[tokio::test]
async fn a_push_to_a_stacks_branch_updates_it_once_at_the_pushed_commit() {
    let Hooked {
        app,
        secret,
        repo,
        head,
        ..
    } = configured().await;
    let body = push("refs/heads/main", &head, &["infra/index.ts", "README.md"]);
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
            "repository": "Acme/Website", "ref": "refs/heads/main", "commit": head,
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
    assert_eq!(one.body["trigger"]["commit"], head);
    assert_eq!(
        one.body["configuration"]["source"]["git"],
        json!({"repoURL": repo.repo.display().to_string(), "repoDir": "infra", "commit": head})
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
    let Hooked {
        app,
        secret,
        repo: _repo,
        ..
    } = configured().await;
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
    let Hooked {
        app,
        secret,
        repo: _repo,
        head,
        ..
    } = configured().await;
    let tag = app
        .deliver(
            "push",
            "t-1",
            &push("refs/tags/v1.4.0", &head, &[]),
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
            ("staging", "update", "github-push", head.as_str()),
        ]
    );
    assert_eq!(listed[0]["trigger"]["pullRequest"], 42);
    assert_eq!(listed[0]["trigger"]["author"], "octocat");
    assert_eq!(listed[0]["trigger"]["message"], "Add a logging bucket");
    assert_eq!(listed[1]["trigger"]["ref"], "refs/tags/v1.4.0");
}

#[tokio::test]
async fn unsigned_forged_and_oversized_deliveries_are_refused() {
    let Hooked {
        app,
        secret,
        repo: _repo,
        head,
        ..
    } = configured().await;
    let body = push("refs/heads/main", &head, &["infra/index.ts"]);
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
                 webhook secret"
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
async fn a_delivery_replayed_to_another_server_sharing_the_store_starts_nothing() {
    let fixture = Fixture::new();
    let (a, store) = crate::replicas::first(&fixture, 4).await;
    let b = crate::replicas::join(&a, &store, &fixture, 4).await;
    let Hooked {
        app: a,
        secret,
        repo: _repo,
        head,
        ..
    } = configured_on(a).await;
    let body = push("refs/heads/main", &head, &["infra/index.ts"]);
    let first = a.deliver("push", "r-1", &body, Some(&secret)).await;
    assert_eq!(first.body["outcome"], "started", "{}", first.text);
    // The same delivery, and the same body under a new id, through the other server.
    for id in ["r-1", "r-2"] {
        let replay = b.deliver("push", id, &body, Some(&secret)).await;
        assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
        assert_eq!(replay.body["outcome"], "duplicate", "{}", replay.text);
    }
    assert_eq!(a.org_deployments().await.len(), 1);
    assert_eq!(b.org_deployments().await.len(), 1);
}

#[tokio::test]
async fn a_replayed_body_under_a_fresh_delivery_id_starts_nothing() {
    let Hooked {
        app,
        secret,
        repo: _repo,
        head,
        ..
    } = configured().await;
    let body = push("refs/heads/main", &head, &["infra/index.ts"]);
    let first = app.deliver("push", "once-1", &body, Some(&secret)).await;
    assert_eq!(first.body["outcome"], "started", "{}", first.text);
    // The signature covers the body, not X-GitHub-Delivery: a captured delivery comes back
    // under a new id, still correctly signed.
    let replay = app.deliver("push", "once-2", &body, Some(&secret)).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    assert_eq!(replay.body["outcome"], "duplicate");
    assert_eq!(
        replay.body["message"],
        "ignored because its body was already received in another delivery; nothing started \
         again"
    );
    assert_eq!(app.org_deployments().await.len(), 1);
    let log = app.delivery_log().await;
    assert_eq!(log["deliveries"][0]["id"], "once-2");
    assert_eq!(log["deliveries"][0]["outcome"], "duplicate");
    assert_eq!(log["deliveries"][1]["outcome"], "started");
}

#[tokio::test]
async fn a_flood_of_unsigned_deliveries_cannot_make_room_for_a_replay() {
    let Hooked {
        app,
        secret,
        repo: _repo,
        head,
        ..
    } = configured().await;
    let body = push("refs/heads/main", &head, &["infra/index.ts"]);
    let accepted = app.deliver("push", "kept-1", &body, Some(&secret)).await;
    assert_eq!(accepted.body["outcome"], "started", "{}", accepted.text);

    let long_id = "x".repeat(5000);
    let bytes = serde_json::to_vec(&body).expect("serialises");
    for batch in 0..100 {
        let mut flood = tokio::task::JoinSet::new();
        for i in 0..50 {
            let request = app
                .bare_post("/api/webhooks/github/acme")
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", format!("{long_id}-{batch}-{i}"))
                .header("Content-Type", "application/json")
                .body(bytes.clone());
            flood.spawn(async move { request.send().await.map(|r| r.status()) });
        }
        while let Some(status) = flood.join_next().await {
            let status = status.expect("joins").expect("answered");
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }

    for id in ["kept-1", "kept-2"] {
        let replay = app.deliver("push", id, &body, Some(&secret)).await;
        assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
        assert_eq!(replay.body["outcome"], "duplicate", "{}", replay.text);
    }
    assert_eq!(app.org_deployments().await.len(), 1);

    let log = app.delivery_log().await;
    let entries = log["deliveries"].as_array().expect("deliveries");
    let kept = entries
        .iter()
        .find(|d| d["id"] == "kept-1" && d["outcome"] == "started")
        .expect("the accepted delivery is still listed");
    assert_eq!(kept["deploymentIds"].as_array().map(Vec::len), Some(1));
    let rejected: Vec<_> = entries
        .iter()
        .filter(|d| d["outcome"] == "rejected")
        .collect();
    // Only a few a second are logged, and at most so many a minute from one source (all of
    // these come from 127.0.0.1).
    assert!(
        !rejected.is_empty()
            && rejected.len() <= keyless_server::http::REFUSED_DELIVERIES_PER_MINUTE,
        "{}",
        rejected.len()
    );
    assert!(
        rejected
            .iter()
            .all(|d| d["id"].as_str().is_some_and(|id| id.chars().count() <= 200))
    );
}

#[tokio::test]
async fn a_push_of_a_commit_that_is_not_on_the_branch_starts_nothing() {
    let Hooked {
        app,
        secret,
        repo,
        feature,
        ..
    } = configured().await;
    // Signed, but claiming that a commit of `feature` was pushed to `main`.
    let body = push("refs/heads/main", &feature, &["infra/index.ts"]);
    let reply = app.deliver("push", "b-1", &body, Some(&secret)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["outcome"], "ignored");
    assert_eq!(
        reply.body["message"],
        format!(
            "ignored because acme/website/dev: commit {feature} is not on branch main; \
             acme/website/staging: it deploys branch staging, not main"
        )
    );
    let tag = app
        .deliver(
            "push",
            "b-2",
            &push("refs/tags/v1.4.0", &feature, &[]),
            Some(&secret),
        )
        .await;
    assert_eq!(tag.body["outcome"], "ignored", "{}", tag.text);
    assert!(
        tag.text
            .contains(&format!("commit {feature} is not on tag v1.4.0")),
        "{}",
        tag.text
    );

    // When the repository cannot be asked, nothing starts either.
    let gone = repo.repo.with_file_name("gone");
    app.configure(
        "payments",
        "dev",
        git_settings(&gone, "main", json!({"repository": "acme/payments"})),
    )
    .await;
    let mut elsewhere = push("refs/heads/main", &feature, &[]);
    elsewhere["repository"]["full_name"] = json!("acme/payments");
    let unreachable = app.deliver("push", "b-3", &elsewhere, Some(&secret)).await;
    assert_eq!(
        unreachable.body["outcome"], "ignored",
        "{}",
        unreachable.text
    );
    let message = unreachable.body["message"].as_str().expect("a message");
    // A local path is checked as a deployment would be shown it before git is asked.
    assert!(
        message.starts_with("ignored because acme/payments/dev: ")
            && message.ends_with("gone is not a git repository on this server"),
        "{message}"
    );
    assert!(app.org_deployments().await.is_empty());
    let log = app.delivery_log().await;
    assert_eq!(log["deliveries"][2]["id"], "b-1");
    assert_eq!(log["deliveries"][2]["message"], reply.body["message"]);

    // A repository inside the data dir is never asked about, even a real one: the check runs
    // git on the host, beside the key that seals every secret.
    let inside = app.data_dir.path().join("repo");
    let init = std::process::Command::new("git")
        .args(["init", "--quiet", "--initial-branch=main"])
        .arg(&inside)
        .status()
        .expect("git runs");
    assert!(init.success());
    app.configure(
        "payments",
        "dev",
        git_settings(&inside, "main", json!({"repository": "acme/payments"})),
    )
    .await;
    // Another body: the one above was claimed, and a replay starts nothing anyway.
    elsewhere["compare"] = json!("the same push, delivered again with a new body");
    let refused = app.deliver("push", "b-4", &elsewhere, Some(&secret)).await;
    assert_eq!(refused.body["outcome"], "ignored", "{}", refused.text);
    assert!(
        refused.text.contains("overlaps the server's data dir"),
        "{}",
        refused.text
    );
    assert!(app.org_deployments().await.is_empty());
}

impl TestApp {
    /// Makes `owner/repo`'s own webhook secret as the admin.
    async fn repository_secret(&self, owner: &str, repo: &str) -> String {
        let path = format!("/api/orgs/acme/webhooks/github/repositories/{owner}/{repo}/secret");
        let reply = self
            .write(Method::POST, &path, &self.admin, &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.body["url"],
            format!("{}/api/webhooks/github/acme", self.base_url)
        );
        reply.body["secret"].as_str().expect("a secret").to_owned()
    }
}

#[tokio::test]
async fn a_repositorys_own_secret_replaces_the_organizations_for_it() {
    let Hooked {
        app,
        secret: org_secret,
        repo: _repo,
        head,
        ..
    } = configured().await;
    let repo_secret = app.repository_secret("Acme", "Website").await;
    assert_ne!(repo_secret, org_secret);

    let body = push("refs/heads/main", &head, &["infra/index.ts"]);
    let old = app.deliver("push", "r-1", &body, Some(&org_secret)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{}", old.text);
    assert_eq!(
        old.body["message"],
        "rejected: bad signature for repository acme/website: X-Hub-Signature-256 does not \
         match the body and the webhook secret"
    );
    let new = app.deliver("push", "r-2", &body, Some(&repo_secret)).await;
    assert_eq!(new.body["outcome"], "started", "{}", new.text);
    let listed = app.org_deployments().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["requestedBy"]["githubLogin"], "alice");

    // Other repositories keep the organization's secret, and only it.
    let mut payments = push("refs/heads/main", &head, &[]);
    payments["repository"]["full_name"] = json!("acme/payments");
    let wrong = app
        .deliver("push", "r-3", &payments, Some(&repo_secret))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
    let right = app
        .deliver("push", "r-4", &payments, Some(&org_secret))
        .await;
    assert_eq!(right.body["outcome"], "started", "{}", right.text);

    // Rotating it retires the old one; removing it brings back the organization's.
    let rotated = app.repository_secret("acme", "website").await;
    let tag = push("refs/tags/v1.4.0", &head, &[]);
    let stale = app.deliver("push", "r-5", &tag, Some(&repo_secret)).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.text);
    let path = "/api/orgs/acme/webhooks/github/repositories/acme/website/secret";
    let member = app
        .send(app.request(Method::DELETE, path, Some(&app.member)))
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    let removed = app
        .send(app.request(Method::DELETE, path, Some(&app.admin)))
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    let again = app
        .send(app.request(Method::DELETE, path, Some(&app.admin)))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let unrotated = app.deliver("push", "r-6", &tag, Some(&rotated)).await;
    assert_eq!(unrotated.status, StatusCode::UNAUTHORIZED);
    let back = app.deliver("push", "r-7", &tag, Some(&org_secret)).await;
    assert_eq!(back.body["outcome"], "started", "{}", back.text);

    let bad = app
        .write(
            Method::POST,
            "/api/orgs/acme/webhooks/github/repositories/acme/..%2Fx/secret",
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let member = app
        .write(
            Method::POST,
            "/api/orgs/acme/webhooks/github/repositories/acme/website/secret",
            &app.member,
            &json!({}),
        )
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
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
