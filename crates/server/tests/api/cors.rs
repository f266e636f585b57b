//! Cross-origin API calls (`--cors-origin`), as a browser makes them for a console served from
//! another origin: preflights are answered for every API path without a token, answers (errors
//! included) carry the headers the console needs, and nothing CORS reaches an origin not listed,
//! a path outside the API, or a server started without the flag.

use keyless_server::Config;
use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, spawn_app, spawn_with};

const CONSOLE: &str = "https://console.example.com";
const OTHER: &str = "https://evil.example.com";

/// A seeded server that lets [`CONSOLE`] (and one more origin) call its API.
async fn cors_app() -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.cors_origins = vec![CONSOLE.into(), "http://localhost:8080".into()];
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("seeded"))
}

/// A preflight from `origin` for a `method` request to `path` carrying the console's headers:
/// no token, as browsers send it.
async fn preflight(app: &TestApp, origin: &str, method: &str, path: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, path, None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,x-keyless-client",
        )
        .send()
        .await
        .expect("answered")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("an ASCII header"))
}

/// The comma-separated values of `name`, lowercased.
fn listed(response: &reqwest::Response, name: &str) -> Vec<String> {
    header(response, name)
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn no_cors_headers(response: &reqwest::Response, what: &str) {
    let cors: Vec<_> = response
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{what}: {cors:?}");
}

#[tokio::test]
async fn a_listed_origin_is_answered_preflights_and_reads_answers() {
    let app = cors_app().await;
    // Every kind of API path: one that takes the method, one that does not, one that does not
    // exist; preflights carry no token, and are answered all the same.
    for (method, path) in [
        ("POST", "/api/stacks/acme/website/prod/deployments"),
        ("PUT", "/api/stacks/acme/website/prod/deployments/settings"),
        ("DELETE", "/api/user"),
        ("GET", "/api/no-such-thing"),
    ] {
        let reply = preflight(&app, CONSOLE, method, path).await;
        let what = format!("{method} {path}");
        assert_eq!(reply.status(), StatusCode::OK, "{what}");
        assert_eq!(
            header(&reply, "access-control-allow-origin"),
            Some(CONSOLE),
            "{what}"
        );
        let methods = listed(&reply, "access-control-allow-methods");
        for allowed in ["get", "post", "put", "patch", "delete", "options"] {
            assert!(methods.contains(&allowed.to_owned()), "{what}: {methods:?}");
        }
        let headers = listed(&reply, "access-control-allow-headers");
        for allowed in [
            "authorization",
            "content-type",
            "accept",
            "x-keyless-client",
            "x-pulumi-source",
            "x-pulumi-deployment-initiator",
        ] {
            assert!(headers.contains(&allowed.to_owned()), "{what}: {headers:?}");
        }
        assert_eq!(
            header(&reply, "access-control-allow-credentials"),
            None,
            "{what}"
        );
        assert!(header(&reply, "access-control-max-age").is_some(), "{what}");
        assert!(
            listed(&reply, "vary").contains(&"origin".to_owned()),
            "{what}"
        );
    }

    // The request itself: its answer names the origin and exposes what the console reads.
    let reply = app
        .request(Method::GET, "/api/user", Some(&app.admin))
        .header("Origin", CONSOLE)
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some(CONSOLE));
    let exposed = listed(&reply, "access-control-expose-headers");
    for name in ["retry-after", "x-keyless-next-token"] {
        assert!(exposed.contains(&name.to_owned()), "{exposed:?}");
    }
    assert_eq!(header(&reply, "access-control-allow-credentials"), None);
    assert_eq!(header(&reply, "cache-control"), Some("no-store"));

    // A refusal too, so that the console can tell a user to sign in again.
    for token in [None, Some("pul-not-a-token")] {
        let reply = app
            .request(Method::GET, "/api/user", token)
            .header("Origin", "http://localhost:8080")
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(
            header(&reply, "access-control-allow-origin"),
            Some("http://localhost:8080"),
            "{token:?}"
        );
        assert!(
            listed(&reply, "access-control-expose-headers").contains(&"retry-after".to_owned())
        );
    }
}

#[tokio::test]
async fn other_origins_and_paths_outside_the_api_get_nothing_cors() {
    let app = cors_app().await;
    for origin in [OTHER, "https://console.example.com.evil.example", "null"] {
        let reply = preflight(&app, origin, "POST", "/api/user").await;
        assert_ne!(
            reply.status(),
            StatusCode::OK,
            "{origin}: not answered as a preflight"
        );
        no_cors_headers(&reply, origin);
        let reply = app
            .request(Method::GET, "/api/user", Some(&app.admin))
            .header("Origin", origin)
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), StatusCode::OK, "{origin}");
        no_cors_headers(&reply, origin);
    }
    for path in ["/healthz", "/oidc/.well-known/openid-configuration"] {
        let reply = app
            .bare_get(path)
            .header("Origin", CONSOLE)
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), StatusCode::OK, "{path}");
        no_cors_headers(&reply, path);
        no_cors_headers(&preflight(&app, CONSOLE, "GET", path).await, path);
    }
}

#[tokio::test]
async fn without_the_flag_the_api_sends_no_cors_headers() {
    let app = spawn_app().await;
    let reply = preflight(&app, CONSOLE, "GET", "/api/user").await;
    assert_eq!(reply.status(), StatusCode::METHOD_NOT_ALLOWED);
    no_cors_headers(&reply, "preflight");
    let reply = app
        .request(Method::GET, "/api/user", Some(&app.admin))
        .header("Origin", CONSOLE)
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), StatusCode::OK);
    no_cors_headers(&reply, "request");
}
