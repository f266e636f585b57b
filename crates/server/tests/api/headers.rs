//! Security headers: every reply is `nosniff` and sends no referrer; API replies are never
//! stored and load nothing; the console runs under a policy naming its inline script by hash,
//! and may connect to the API its `config.json` names.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyless_server::Config;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, spawn_app_with_dist};

/// What trunk writes: a preloaded module, and an inline module that starts the wasm.
const LOADER: &str = "\nimport init from '/console-1.js';\nawait init();\n";

fn index(loader: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Keyless</title>\
         <link rel=\"modulepreload\" href=\"/console-1.js\">\
         <script type=\"module\">{loader}</script></head><body></body></html>"
    )
}

fn console_policy(loader: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{}'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        STANDARD.encode(Sha256::digest(loader))
    )
}

async fn console() -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().expect("temp dist");
    std::fs::write(dist.path().join("index.html"), index(LOADER)).expect("index.html");
    std::fs::write(dist.path().join("console-1.js"), "export default 1").expect("js");
    let app = spawn_app_with_dist(Some(dist.path().to_owned())).await;
    (app, dist)
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("an ASCII header"))
}

#[tokio::test]
async fn api_replies_are_not_stored_sniffed_or_framed() {
    let (app, _dist) = console().await;
    for (method, path, token, status) in [
        (Method::GET, "/api/user", Some(&app.admin), StatusCode::OK),
        (Method::GET, "/api/user", None, StatusCode::UNAUTHORIZED),
        (
            Method::GET,
            "/api/nope",
            Some(&app.admin),
            StatusCode::NOT_FOUND,
        ),
        (Method::GET, "/api", Some(&app.admin), StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/api/user",
            Some(&app.admin),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let reply = app
            .request(method.clone(), path, token.map(String::as_str))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), status, "{method} {path}");
        assert_eq!(header(&reply, "cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            header(&reply, "content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header(&reply, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&reply, "referrer-policy"), Some("no-referrer"));
    }
    for path in ["/healthz", "/oidc/.well-known/openid-configuration"] {
        let reply = app.bare_get(path).send().await.expect("answered");
        assert_eq!(reply.status(), StatusCode::OK, "{path}");
        assert_ne!(header(&reply, "cache-control"), Some("no-store"), "{path}");
        assert_eq!(header(&reply, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&reply, "referrer-policy"), Some("no-referrer"));
        assert_eq!(
            header(&reply, "content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_console_runs_under_a_policy_that_names_its_inline_script() {
    let (app, dist) = console().await;
    for path in [
        "/",
        "/index.html",
        "/acme/website/prod/deployments/1",
        "/console-1.js",
    ] {
        let reply = app.bare_get(path).send().await.expect("answered");
        assert_eq!(reply.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&reply, "content-security-policy"),
            Some(console_policy(LOADER).as_str()),
            "{path}"
        );
        assert_eq!(header(&reply, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&reply, "referrer-policy"), Some("no-referrer"));
        assert_ne!(header(&reply, "cache-control"), Some("no-store"), "{path}");
    }

    // A new build is served at once, and so is the hash of its script.
    let rebuilt = "\nimport init from '/console-2.js';\nawait init();\n";
    let index_file = dist.path().join("index.html");
    let built = std::fs::metadata(&index_file)
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(&index_file, index(rebuilt)).expect("index.html");
    // A build a second later, whatever the file system's clock resolution.
    std::fs::File::options()
        .write(true)
        .open(&index_file)
        .and_then(|f| f.set_modified(built + std::time::Duration::from_secs(1)))
        .expect("mtime set");
    let reply = app.bare_get("/").send().await.expect("answered");
    assert_eq!(
        header(&reply, "content-security-policy"),
        Some(console_policy(rebuilt).as_str())
    );
}

/// A console served here but calling the API of another server (its `config.json` says which):
/// the policy lets it connect there and nowhere else, and `config.json`, whose name carries no
/// hash, is revalidated on every load.
#[tokio::test]
async fn the_console_may_connect_to_the_api_its_config_names() {
    let dist = tempfile::tempdir().expect("temp dist");
    std::fs::write(dist.path().join("index.html"), index(LOADER)).expect("index.html");
    let config = r#"{"apiBaseUrl": "https://API.example.com:443/keyless/"}"#;
    std::fs::write(dist.path().join("config.json"), config).expect("config.json");
    let app = spawn_app_with_dist(Some(dist.path().to_owned())).await;

    let expected = console_policy(LOADER).replacen(
        "default-src 'self'; ",
        "default-src 'self'; connect-src 'self' https://api.example.com; ",
        1,
    );
    for path in ["/", "/acme/website/prod/deployments/1", "/config.json"] {
        let reply = app.bare_get(path).send().await.expect("answered");
        assert_eq!(reply.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&reply, "content-security-policy"),
            Some(expected.as_str()),
            "{path}"
        );
    }
    let served = app.bare_get("/config.json").send().await.expect("answered");
    assert_eq!(header(&served, "cache-control"), Some("no-cache"));
    assert_eq!(header(&served, "content-type"), Some("application/json"));
    assert_eq!(served.text().await.expect("a body"), config);

    // Read once at start: a later edit waits for a restart.
    std::fs::write(
        dist.path().join("config.json"),
        r#"{"apiBaseUrl": "https://elsewhere.example.com"}"#,
    )
    .expect("config.json");
    let reply = app.bare_get("/").send().await.expect("answered");
    assert_eq!(
        header(&reply, "content-security-policy"),
        Some(expected.as_str())
    );
}

/// The console calling its own origin (no `config.json`, no `apiBaseUrl`, or a relative one)
/// needs nothing more;
/// a `config.json` the console could not use stops the server at start, naming the file.
#[tokio::test]
async fn a_config_naming_no_other_api_changes_nothing_and_a_broken_one_stops_the_start() {
    for config in [
        None,
        Some("{}"),
        Some(r#"{"apiBaseUrl": ""}"#),
        Some(r#"{"apiBaseUrl": "/"}"#),
    ] {
        let dist = tempfile::tempdir().expect("temp dist");
        std::fs::write(dist.path().join("index.html"), index(LOADER)).expect("index.html");
        if let Some(config) = config {
            std::fs::write(dist.path().join("config.json"), config).expect("config.json");
        }
        let app = spawn_app_with_dist(Some(dist.path().to_owned())).await;
        let reply = app.bare_get("/").send().await.expect("answered");
        assert_eq!(
            header(&reply, "content-security-policy"),
            Some(console_policy(LOADER).as_str()),
            "{config:?}"
        );
        // Absent, it is missing rather than the page, so that the console knows to call its
        // own origin.
        let served = app.bare_get("/config.json").send().await.expect("answered");
        let status = if config.is_some() {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(served.status(), status, "{config:?}");
        assert_eq!(
            header(&served, "cache-control"),
            Some("no-cache"),
            "{config:?}"
        );
    }
    for (config, why) in [
        ("{", "EOF"),
        (r#"{"apiBaseUrl": 42}"#, "must be a string"),
        (
            r#"{"apiBaseUrl": "ftp://api.example.com"}"#,
            "neither an http(s) URL",
        ),
        (
            r#"{"apiBaseUrl": "api.example.com"}"#,
            "neither an http(s) URL",
        ),
    ] {
        let dist = tempfile::tempdir().expect("temp dist");
        std::fs::write(dist.path().join("index.html"), index(LOADER)).expect("index.html");
        std::fs::write(dist.path().join("config.json"), config).expect("config.json");
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut server = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
        server.dist = Some(dist.path().to_owned());
        let err = keyless_server::start(&server, ([127, 0, 0, 1], 0).into())
            .await
            .err()
            .expect("the start fails")
            .to_string();
        assert!(
            err.contains("config.json") && err.contains(why),
            "{config}: {err}"
        );
    }
}
