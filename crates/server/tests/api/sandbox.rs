//! Deployments run apart from the root of trust: members cannot change what runs, code that a
//! deployment runs sees nothing of the server (data dir, environment, the operator's home,
//! other processes) and leaves nothing behind, and nothing it prints can grow the server's
//! memory or the log without bound. Every test here goes through the real server and the real
//! bubblewrap sandbox.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keyless_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{Fixture, deployments, process_alive, steps};
use crate::helpers::{TestApp, spawn_with};

/// A seeded server whose deployments run the fake pulumi, configured further by `configure`.
async fn app_with(fixture: &Fixture, configure: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    configure(&mut config);
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("seeded"))
}

#[tokio::test]
async fn members_deploy_only_what_admins_configured() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |_| {}).await;
    let prod = deployments("website", "prod");
    let overrides = [
        (
            json!({"operationContext": {"preRunCommands": ["cat /etc/passwd"]}}),
            vec!["operationContext.preRunCommands"],
        ),
        (
            json!({"sourceContext": {"git": {"repoUrl": "https://example.com/mine.git"}}}),
            vec!["sourceContext.git"],
        ),
        (
            json!({"operationContext": {"oidc": {"aws": {
                "roleArn": "arn:aws:iam::123456789012:role/mine",
                "sessionName": "mine"
            }}}}),
            vec!["operationContext.oidc"],
        ),
        // What the CLI sends with `--env FOO=bar`: the empty fields beside it change nothing.
        (
            json!({
                "inheritSettings": true,
                "executorContext": {"workingDirectory": ""},
                "operationContext": {
                    "preRunCommands": [],
                    "operation": "",
                    "environmentVariables": {"FOO": "bar"}
                },
                "agentPoolID": null
            }),
            vec!["operationContext.environmentVariables"],
        ),
        (json!({"inheritSettings": false}), vec!["inheritSettings"]),
        (
            json!({"executorContext": {"executorImage": "evil"}, "tag": "x"}),
            vec!["executorContext.executorImage", "tag"],
        ),
    ];
    for (fields, named) in overrides {
        let mut body = fields.clone();
        body["operation"] = json!("update");
        let reply = app.write(Method::POST, &prod, &app.member, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.error().code, 403);
        assert_eq!(reply.error_attributes(), named, "{}", reply.text);
        assert!(
            reply.error().message.contains("Only admins"),
            "{}",
            reply.text
        );
    }
    let listed = app.get(&prod, &app.member).await;
    assert_eq!(listed.body["deployments"], json!([]), "nothing was queued");

    // The operation alone, or with inheritSettings: true or values that say nothing, is a
    // member's to choose.
    for body in [
        json!({"operation": "preview"}),
        json!({"operation": "preview", "inheritSettings": true}),
        json!({"operation": "preview", "inheritSettings": null, "tag": "",
               "operationContext": {"oidc": null, "options": {"shell": ""}}}),
    ] {
        app.send(app.request(Method::POST, &format!("{prod}/pause"), Some(&app.admin)))
            .await;
        let reply = app.write(Method::POST, &prod, &app.member, &body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{body}: {}", reply.text);
    }

    // An admin's override runs.
    let dev = deployments("website", "dev");
    let (done, log) = app
        .run(
            &dev,
            &fixture.request("update", &["echo admin override ran"]),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert!(log.contains("\nadmin override ran\n"), "{log}");
}

/// What Pulumi's CLI sends for a member's `pulumi deployment run update` (and, with `null`s, what
/// older CLIs and the Automation API send): accepted, and the stack runs as its admins
/// configured it, its pre-run commands and environment untouched by the empty values.
#[tokio::test]
async fn a_members_cli_request_runs_the_stack_as_configured() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |_| {}).await;
    let dev = deployments("website", "dev");
    let mut settings = fixture.request("update", &["echo admin pre-run ran"]);
    settings
        .as_object_mut()
        .expect("an object")
        .remove("operation");
    let saved = app
        .write(
            Method::PUT,
            &format!("{dev}/settings"),
            &app.admin,
            &settings,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let cli = json!({
        "operation": "update",
        "inheritSettings": true,
        "executorContext": {"workingDirectory": ""},
        "operationContext": {"preRunCommands": [], "operation": "", "environmentVariables": {}},
        "agentPoolID": null
    });
    let mut older = cli.clone();
    older["operationContext"]["preRunCommands"] = Value::Null;
    older["operationContext"]["environmentVariables"] = Value::Null;
    // The same command run by an admin: the empty fields keep the stack's settings too.
    let runs = [
        (cli.clone(), &app.member),
        (older, &app.member),
        (cli, &app.admin),
    ];
    for (body, token) in runs {
        let request = app
            .request(Method::POST, &dev, Some(token))
            .header("X-Pulumi-Deployment-Initiator", "automation-api")
            .json(&body);
        let created = app.send(request).await;
        assert_eq!(
            created.status,
            StatusCode::ACCEPTED,
            "{body}: {}",
            created.text
        );
        let id = created.body["id"].as_str().expect("an id");
        let done = app.finished(&dev, id).await;
        let log = app.log_text(&dev, id).await;
        assert_eq!(done["status"], "succeeded", "{body}: {log}");
        assert!(log.contains("\nadmin pre-run ran\n"), "{body}: {log}");
        assert!(log.contains("\nPLAIN=plain-value\n"), "{body}: {log}");
        assert_eq!(done["initiator"], "automation-api");
    }
}

/// A command that prints `blocked: <what>` when `attempt` fails and `ESCAPED: <what>` when it
/// succeeds.
fn attempt(what: &str, attempt: &str) -> String {
    format!("if {attempt}; then echo 'ESCAPED: {what}'; else echo 'blocked: {what}'; fi")
}

#[tokio::test]
async fn a_deployment_sees_nothing_of_the_server_and_leaves_nothing_behind() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |_| {}).await;
    let data = app.data_dir.path().canonicalize().expect("data dir");
    let data = data.display();
    let server_pid = std::process::id();
    let operator_home = std::env::var("HOME").expect("the server has a HOME");
    let secret_key = format!("{data}/secret.key");
    // The signing keys are in the store: on SQLite, the data dir's database file.
    let signing_keys = format!("{data}/keyless.db");
    // From the program dir (work/<id>/source/infra), enough `..` to reach `/`, then the data dir.
    let upward = format!("../../../../../../../../../../../..{data}/secret.key");
    let commands = [
        attempt(
            "key by path",
            &format!("cat '{secret_key}' >/dev/null 2>&1"),
        ),
        attempt(
            "signing keys by path",
            &format!("grep -qa oidc_key_ring '{signing_keys}' 2>/dev/null"),
        ),
        attempt("database by path", &format!("test -e '{data}/keyless.db'")),
        attempt("key by ..", &format!("cat '{upward}' >/dev/null 2>&1")),
        attempt(
            "key anywhere",
            "find / -name secret.key 2>/dev/null | grep -q .",
        ),
        attempt(
            "server environ",
            &format!("cat /proc/{server_pid}/environ 2>/dev/null | grep -qa PATH"),
        ),
        attempt(
            "server process",
            &format!("test -e /proc/{server_pid}/cmdline"),
        ),
        attempt(
            "operator home",
            &format!("ls -A '{operator_home}' 2>/dev/null | grep -q ."),
        ),
        attempt(
            "operator ssh",
            &format!("ls '{operator_home}/.ssh' >/dev/null 2>&1"),
        ),
        attempt(
            "write data dir",
            &format!("touch '{data}/pwned' 2>/dev/null"),
        ),
        attempt(
            "write operator home",
            &format!("touch '{operator_home}/keyless-pwned' 2>/dev/null"),
        ),
        attempt("write /usr", "touch /usr/keyless-pwned 2>/dev/null"),
        attempt("root", "test \"$(id -u)\" = 0"),
        "echo \"home is $HOME\"".to_owned(),
        "setsid sleep 600.0201 </dev/null >/dev/null 2>&1 & sleep 600.0202 & echo left behind"
            .to_owned(),
    ];
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let dev = deployments("website", "dev");
    let (done, log) = app.run(&dev, &fixture.request("update", &commands)).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert!(!log.contains("\nESCAPED"), "{log}");
    for what in [
        "key by path",
        "signing keys by path",
        "database by path",
        "key by ..",
        "key anywhere",
        "server environ",
        "server process",
        "operator home",
        "operator ssh",
        "write data dir",
        "write operator home",
        "write /usr",
        "root",
    ] {
        assert!(
            log.contains(&format!("\nblocked: {what}\n")),
            "{what}: {log}"
        );
    }
    assert!(log.contains("\nleft behind\n"), "{log}");
    assert!(log.contains("in a sandbox"), "{log}");
    assert!(!Path::new(&format!("{data}/pwned")).exists());
    assert!(!Path::new(&format!("{operator_home}/keyless-pwned")).exists());
    // The fresh HOME is the deployment's own, inside its work dir (not the data dir).
    let home = log
        .lines()
        .find_map(|l| l.strip_prefix("home is "))
        .expect("home printed");
    let work_dir = home
        .strip_suffix("/home")
        .expect("HOME is the work dir's home");
    assert!(
        log.contains(&format!("Work directory: {work_dir} (")),
        "{log}"
    );
    assert!(!home.starts_with(&data.to_string()), "{home}");
    assert!(!Path::new(home).exists(), "the work dir is removed");
    // Nothing it started outlives it, not even a process in a session of its own.
    for command in ["sleep 600.0201", "sleep 600.0202"] {
        assert!(!process_alive(command), "{command} outlived the deployment");
    }
}

#[tokio::test]
async fn one_step_cannot_plant_links_that_the_next_sandbox_follows_or_change_the_kernel() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |_| {}).await;
    let data = app.data_dir.path().canonicalize().expect("data dir");
    let key = data.join("secret.key");
    let key = key.display();
    // Step 1 plants links where the sandbox's /etc/passwd and /etc/group could come from: in
    // its work dir (where they once were) and beside it.
    let plant = format!(
        "W=$(dirname \"$HOME\"); for d in \"$W/.sandbox\" \"$W.etc\"; do \
         mkdir -p \"$d\" 2>/dev/null; rm -f \"$d/passwd\" \"$d/group\" 2>/dev/null; \
         ln -s '{key}' \"$d/passwd\" 2>/dev/null; ln -s / \"$d/group\" 2>/dev/null; done; echo planted"
    );
    let commands = [
        plant,
        "grep '^deployer:' /etc/passwd".to_owned(),
        attempt("group is the host", "test -d /etc/group"),
        attempt(
            "kernel setting",
            "v=$(cat /proc/sys/vm/swappiness) && echo \"$v\" > /proc/sys/vm/swappiness 2>/dev/null",
        ),
        attempt("sysrq", "echo h > /proc/sysrq-trigger 2>/dev/null"),
        attempt("user namespace", "unshare -Ur true 2>/dev/null"),
    ];
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let dev = deployments("website", "dev");
    let (done, log) = app.run(&dev, &fixture.request("update", &commands)).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert!(log.contains("\nplanted\n"), "{log}");
    assert!(log.contains("\ndeployer:x:1000:1000:"), "{log}");
    assert!(!log.contains("\nESCAPED"), "{log}");
    for what in [
        "group is the host",
        "kernel setting",
        "sysrq",
        "user namespace",
    ] {
        assert!(
            log.contains(&format!("\nblocked: {what}\n")),
            "{what}: {log}"
        );
    }
}

#[tokio::test]
async fn long_lines_are_cut_and_the_log_stops_at_its_budget() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |config| {
        config.deploy.max_log_bytes = 2_000_000;
    })
    .await;
    let dev = deployments("website", "dev");
    // 64 MiB without a newline, then a short line.
    let long = "head -c 67108864 /dev/zero | tr '\\0' x; echo; echo after the long line";
    let id = app.deploy(&dev, &fixture.request("update", &[long])).await;
    let done = app.finished(&dev, &id).await;
    let lines = app.log_lines(&dev, &id).await;
    let text: Vec<&str> = lines.iter().filter_map(|l| l["line"].as_str()).collect();
    assert_eq!(done["status"], "succeeded");
    let cut = text
        .iter()
        .find(|l| l.starts_with("xxxx"))
        .expect("the long line, cut");
    assert!(cut.len() < 17 * 1024, "{} bytes", cut.len());
    assert!(cut.contains("line cut"), "{}", &cut[cut.len() - 60..]);
    assert!(text.contains(&"after the long line\n"));

    // 200 MB of lines: the log keeps its budget, says so once, and the deployment goes on.
    let flood = "yes 'a line of a deployment that prints far too much' | head -c 200000000; \
                 echo flood done";
    let id = app
        .deploy(&dev, &fixture.request("update", &[flood, "echo next step"]))
        .await;
    let done = app.finished(&dev, &id).await;
    let lines = app.log_lines(&dev, &id).await;
    let stored: usize = lines
        .iter()
        .filter_map(|l| l["line"].as_str())
        .map(str::len)
        .sum();
    let log = app.log_text(&dev, &id).await;
    assert_eq!(done["status"], "succeeded", "{}", &log[log.len() - 2000..]);
    assert!(stored < 2_100_000, "{stored} bytes stored");
    assert_eq!(log.matches("Log limit reached").count(), 1);
    assert!(!log.contains("\nflood done\n") && !log.contains("\nnext step\n"));
    assert_eq!(steps(&done).last().map(|s| s.1.as_str()), Some("succeeded"));
}

#[tokio::test]
async fn a_deployment_that_runs_too_long_is_cancelled_saying_why() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |config| {
        config.deploy.deployment_timeout = "2s".into();
    })
    .await;
    let dev = deployments("website", "dev");
    let id = app
        .deploy(
            &dev,
            &fixture.request("update", &["echo waiting; sleep 600.0301"]),
        )
        .await;
    let done = app.finished(&dev, &id).await;
    let log = app.log_text(&dev, &id).await;
    assert_eq!(done["status"], "failed", "{log}");
    assert!(
        log.contains("Deployment cancelled: it ran longer than this server allows (2s"),
        "{log}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!process_alive("sleep 600.0301"));
}

#[tokio::test]
async fn without_the_sandbox_every_log_opens_with_a_warning() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |config| config.deploy.run.no_sandbox = true).await;
    let dev = deployments("website", "dev");
    let id = app
        .deploy(&dev, &fixture.request("update", &["echo ran"]))
        .await;
    let done = app.finished(&dev, &id).await;
    let lines = app.log_lines(&dev, &id).await;
    assert_eq!(done["status"], "succeeded");
    let first = lines.iter().find_map(|l| l["line"].as_str());
    assert!(
        first.is_some_and(
            |l| l.starts_with("Warning: this server runs deployments without a sandbox")
        ),
        "{lines:?}"
    );
}

#[tokio::test]
async fn without_bubblewrap_deployments_refuse_to_start_and_say_how_to_install_it() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |config| {
        config.deploy.run.bwrap = Some(PathBuf::from("/nonexistent/bwrap"));
    })
    .await;
    let dev = deployments("website", "dev");
    let (done, log) = app
        .run(&dev, &fixture.request("update", &["echo never"]))
        .await;
    assert_eq!(done["status"], "failed", "{log}");
    assert_eq!(steps(&done)[0], ("Setup".to_owned(), "failed".to_owned()));
    assert!(
        log.contains("bubblewrap (bwrap) is not installed")
            && log.contains("apt-get install bubblewrap")
            && log.contains("--no-sandbox"),
        "{log}"
    );
    assert!(!log.contains("\nnever\n"), "{log}");
}

#[tokio::test]
async fn local_repositories_come_only_from_the_configured_folder() {
    let fixture = Fixture::new();
    let elsewhere = tempfile::tempdir().expect("another folder");
    let app = app_with(&fixture, |config| {
        config.deploy.run.local_repos = Some(elsewhere.path().to_owned());
    })
    .await;
    let dev = deployments("website", "dev");
    let (done, log) = app
        .run(&dev, &fixture.request("update", &["echo never"]))
        .await;
    assert_eq!(done["status"], "failed", "{log}");
    assert!(
        log.contains("deploys local repositories only from") && log.contains("--local-repos"),
        "{log}"
    );

    let parent = fixture
        .repo
        .parent()
        .expect("the fixture's folder")
        .to_owned();
    let app = app_with(&fixture, |config| {
        config.deploy.run.local_repos = Some(parent)
    })
    .await;
    let id = app
        .deploy(&dev, &fixture.request("update", &["echo ran"]))
        .await;
    let done = app.finished(&dev, &id).await;
    assert_eq!(
        done["status"],
        "succeeded",
        "{}",
        app.log_text(&dev, &id).await
    );
}

/// `path` relative to the current directory, through `..` up to `/`.
fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().expect("cwd");
    let ups = cwd.components().count() - 1;
    let mut relative = PathBuf::new();
    for _ in 0..ups {
        relative.push("..");
    }
    relative.join(path.strip_prefix("/").expect("absolute"))
}

#[tokio::test]
async fn relative_data_and_work_dirs_deploy() {
    let fixture = Fixture::new();
    let work = tempfile::tempdir().expect("work root");
    let data_dir = tempfile::tempdir().expect("data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), relative_to_cwd(data_dir.path()));
    config.deploy.run.work_dir = Some(relative_to_cwd(work.path()));
    config.deploy.run.pulumi = Some(relative_to_cwd(&fixture.pulumi));
    let (app, tokens) = spawn_with(config, data_dir).await;
    let app = app.signed_in(tokens.expect("seeded"));
    let dev = deployments("website", "dev");
    // The repository by a relative path and as a file:// URL.
    let mut by_path = fixture.request("update", &["echo ran"]);
    by_path["sourceContext"]["git"]["repoUrl"] =
        json!(relative_to_cwd(&fixture.repo).display().to_string());
    let mut by_url = fixture.request("update", &["echo ran"]);
    by_url["sourceContext"]["git"]["repoUrl"] = json!(format!("file://{}", fixture.repo.display()));
    for body in [by_path, by_url] {
        let (done, log) = app.run(&dev, &body).await;
        assert_eq!(done["status"], "succeeded", "{log}");
        assert!(
            log.contains("Checked out ") && log.contains("fake pulumi: up"),
            "{log}"
        );
        let work_dir = log
            .lines()
            .find_map(|l| l.strip_prefix("Work directory: "))
            .expect("work dir logged");
        let canonical = work.path().canonicalize().expect("canonical");
        assert!(
            work_dir.starts_with(&canonical.display().to_string()),
            "{work_dir}"
        );
    }
}

#[tokio::test]
async fn a_local_path_that_is_no_repository_or_holds_the_data_dir_is_refused() {
    let fixture = Fixture::new();
    let app = app_with(&fixture, |_| {}).await;
    let dev = deployments("website", "dev");
    let data = app.data_dir.path().canonicalize().expect("data dir");
    let parent = data.parent().expect("parent").display().to_string();
    for (url, why) in [
        ("/".to_owned(), "not a git repository"),
        (parent, "not a git repository"),
        (data.display().to_string(), "not a git repository"),
    ] {
        let mut body: Value = fixture.request("update", &[]);
        body["sourceContext"]["git"]["repoUrl"] = json!(url);
        let (done, log) = app.run(&dev, &body).await;
        assert_eq!(done["status"], "failed", "{log}");
        assert!(log.contains(why), "{url}: {log}");
    }
    // A git repository made inside the data dir is still never shown.
    let inside = data.join("repo");
    std::fs::create_dir_all(inside.join(".git/objects")).expect("mkdir");
    std::fs::write(inside.join(".git/HEAD"), "ref: refs/heads/main\n").expect("writes");
    let mut body: Value = fixture.request("update", &[]);
    body["sourceContext"]["git"]["repoUrl"] = json!(inside.display().to_string());
    let (done, log) = app.run(&dev, &body).await;
    assert_eq!(done["status"], "failed", "{log}");
    assert!(log.contains("overlaps the server's data dir"), "{log}");
}

#[tokio::test]
async fn a_secret_key_kept_outside_the_data_dir_is_not_shown_either() {
    let fixture = Fixture::new();
    let keys = tempfile::tempdir().expect("temp dir");
    let key = keys.path().join("secret.key");
    std::fs::write(&key, [7u8; 32]).expect("writes a key");
    let shown = key.clone();
    let app = app_with(&fixture, |config| config.secret_key_file = Some(shown)).await;
    let key = key.canonicalize().expect("key path");
    let key = key.display();
    let dir = keys.path().canonicalize().expect("key dir");
    let commands = [
        attempt("key file", &format!("cat '{key}' >/dev/null 2>&1")),
        attempt(
            "key dir",
            &format!("ls '{}' >/dev/null 2>&1", dir.display()),
        ),
    ];
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let dev = deployments("website", "dev");
    let (done, log) = app.run(&dev, &fixture.request("update", &commands)).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    for what in ["key file", "key dir"] {
        assert!(
            log.contains(&format!("\nblocked: {what}\n")),
            "{what}: {log}"
        );
    }
}
