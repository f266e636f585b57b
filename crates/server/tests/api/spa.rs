//! Serving the console: deep links answer `index.html`; `/api` paths never do.

use reqwest::{Method, StatusCode};

use crate::helpers::{spawn_app, spawn_app_with_dist};

const INDEX: &str = "<!doctype html><title>Keyless</title><body>console</body>";

#[tokio::test]
async fn deep_links_answer_the_console_and_api_paths_answer_json() {
    let dist = tempfile::tempdir().expect("temp dist");
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index.html");
    std::fs::create_dir(dist.path().join("assets")).expect("assets dir");
    std::fs::write(dist.path().join("assets/app.js"), "console.log(1)").expect("app.js");
    let app = spawn_app_with_dist(Some(dist.path().to_owned())).await;

    for path in [
        "/",
        "/acme/website/prod/settings/deploy",
        "/acme",
        "/signin?next=%2Facme",
    ] {
        let reply = app.send(app.bare_get(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.text, INDEX, "{path}");
    }
    let asset = app.send(app.bare_get("/assets/app.js")).await;
    assert_eq!(
        (asset.status, asset.text.as_str()),
        (StatusCode::OK, "console.log(1)")
    );

    // Built files are named by their content, so they are cached for good; the page naming
    // them is revalidated, so that a new build shows at once.
    for (path, policy) in [
        ("/assets/app.js", "public, max-age=31536000, immutable"),
        ("/", "no-cache"),
        ("/index.html", "no-cache"),
        ("/acme/website/prod/deployments/3", "no-cache"),
    ] {
        let reply = app.bare_get(path).send().await.expect("answered");
        assert_eq!(reply.headers()["cache-control"], policy, "{path}");
        // Revalidated and unchanged: still the same policy.
        let again = app
            .bare_get(path)
            .header(
                "If-Modified-Since",
                reply.headers()["last-modified"].clone(),
            )
            .send()
            .await
            .expect("answered");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["cache-control"], policy, "{path}");
    }
    let stale = app
        .bare_get("/assets/app-old.js")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        stale.headers()["cache-control"],
        "no-cache",
        "a missing file answers the page"
    );
    let api = app
        .request(Method::GET, "/api/user", Some(&app.admin))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        api.headers()["cache-control"],
        "no-store",
        "API replies are not the console's"
    );

    for path in [
        "/api/nope",
        "/api",
        "/api/stacks/acme/website",
        "/api/user/nope/deeper",
    ] {
        let reply = app
            .send(app.request(Method::GET, path, Some(&app.admin)))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error().code, 404, "{path}: {}", reply.text);
    }
    let wrong_method = app
        .send(app.request(Method::DELETE, "/api/user", Some(&app.admin)))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error().code, 405);
    let health = app.send(app.bare_get("/healthz")).await;
    assert_eq!(
        (health.status, health.text.as_str()),
        (StatusCode::OK, "ok")
    );
}

#[tokio::test]
async fn the_console_goes_gzipped_to_browsers_that_accept_it() {
    let dist = tempfile::tempdir().expect("temp dist");
    let wasm = vec![0u8; 64 * 1024];
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index.html");
    std::fs::write(dist.path().join("console_bg.wasm"), &wasm).expect("wasm");
    let app = spawn_app_with_dist(Some(dist.path().to_owned())).await;

    let gzipped = app
        .bare_get("/console_bg.wasm")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("answered");
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert_eq!(gzipped.headers()["content-type"], "application/wasm");
    let body = gzipped.bytes().await.expect("body");
    assert_eq!(body[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(body.len() < wasm.len() / 10, "{} bytes", body.len());

    let plain = app
        .bare_get("/console_bg.wasm")
        .send()
        .await
        .expect("answered");
    assert!(!plain.headers().contains_key("content-encoding"));
    assert_eq!(plain.bytes().await.expect("body").len(), wasm.len());
}

#[tokio::test]
async fn without_a_console_unknown_paths_are_json_404s() {
    let app = spawn_app().await;
    for path in ["/", "/acme/website/prod/settings/deploy", "/api/nope"] {
        let reply = app.send(app.bare_get(path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error().code, 404);
    }
}
