//! HTTPS served by the server itself, and `--public-url`: the issuer, console links and the
//! webhook URL name the public URL, not the listen address.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::deployments;
use crate::helpers::{PROD, TestApp, spawn_with_client};

const PUBLIC_URL: &str = "https://keyless.example.com";

/// A server on HTTPS with a fresh certificate for 127.0.0.1, and a client trusting only it.
async fn spawn_tls(public_url: Option<&str>) -> TestApp {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])
        .expect("a certificate is generated");
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let cert = data_dir.path().join("cert.pem");
    let key = data_dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).expect("cert.pem");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key.pem");

    let mut config =
        keyless_server::Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().join("state"));
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    config.public_url = public_url.map(str::to_owned);
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("PEM"),
        )
        .build()
        .expect("client");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("binds a free port");
    let (app, tokens) = spawn_with_client(listener, config, data_dir, client).await;
    app.signed_in(tokens.expect("seeded"))
}

#[tokio::test]
async fn https_is_served_and_every_url_given_out_names_the_public_url() {
    let app = spawn_tls(Some(PUBLIC_URL)).await;
    assert!(app.base_url.starts_with("https://127.0.0.1:"));

    let discovery = app
        .send(app.bare_get("/oidc/.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.text);
    let issuer = format!("{PUBLIC_URL}/oidc");
    assert_eq!(discovery.body["issuer"], issuer);
    let jwks_uri = discovery.body["jwks_uri"].as_str().expect("a JWKS URI");
    let jwks_path = jwks_uri
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{jwks_uri} is under the public URL"));
    let jwks = app.send(app.bare_get(jwks_path)).await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
    assert!(
        jwks.body["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{}",
        jwks.text
    );

    // Queued behind a pause, so that nothing runs.
    let prod = deployments("website", "prod");
    app.send(app.request(Method::POST, &format!("{prod}/pause"), Some(&app.member)))
        .await;
    let created = app
        .write(
            Method::POST,
            &prod,
            &app.member,
            &json!({"operation": "update"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    assert_eq!(
        created.body["consoleUrl"],
        format!("{PUBLIC_URL}/acme/website/prod/deployments/1")
    );

    let webhook = app
        .write(
            Method::POST,
            "/api/orgs/acme/webhooks/github/secret",
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(webhook.status, StatusCode::OK, "{}", webhook.text);
    assert_eq!(
        webhook.body["url"],
        format!("{PUBLIC_URL}/api/webhooks/github/acme")
    );
}

#[tokio::test]
async fn without_a_public_url_the_issuer_is_the_https_listen_address() {
    let app = spawn_tls(None).await;
    let discovery = app
        .send(app.bare_get("/oidc/.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.text);
    assert_eq!(discovery.body["issuer"], format!("{}/oidc", app.base_url));
    let settings: Value = app.get(PROD, &app.admin).await.body;
    assert!(
        settings.is_object(),
        "the API answers over HTTPS: {settings}"
    );

    // The same port refuses to talk plain HTTP.
    let plain = reqwest::Client::new()
        .get(app.base_url.replacen("https://", "http://", 1) + "/healthz")
        .send()
        .await;
    assert!(
        !plain.is_ok_and(|r| r.status().is_success()),
        "plain HTTP is not served"
    );
}
