//! Who may call what: every endpoint for an admin, a member, a user of another organization,
//! no token and a bad token.

use keyless_api_types::OrgRole;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PROD, spawn_app};

#[tokio::test]
async fn every_endpoint_answers_each_role_with_the_expected_status() {
    let app = spawn_app().await;
    let outsider = app.create_user("globex", OrgRole::Admin).await;
    let callers: [(&str, Option<&str>); 5] = [
        ("no token", None),
        (
            "bad token",
            Some("pul-0000000000000000000000000000000000000000"),
        ),
        ("other org", Some(&outsider)),
        ("member", Some(&app.member)),
        ("admin", Some(&app.admin)),
    ];
    let stack = "/api/stacks/acme/website/prod";
    let patch = json!({"tag": "v2"});
    let full = json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "branch": "refs/heads/main"}}});
    // Expected statuses in the order of `callers`; writes come last so that reads see the seed.
    let table = [
        (
            Method::GET,
            "/api/user".to_owned(),
            None,
            [401, 401, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/user/stacks".to_owned(),
            None,
            [401, 401, 200, 200, 200],
        ),
        (
            Method::GET,
            stack.to_owned(),
            None,
            [401, 401, 404, 200, 200],
        ),
        (
            Method::GET,
            PROD.to_owned(),
            None,
            [401, 401, 404, 200, 200],
        ),
        (
            Method::POST,
            PROD.to_owned(),
            Some(&patch),
            [401, 401, 404, 403, 200],
        ),
        (
            Method::PUT,
            PROD.to_owned(),
            Some(&full),
            [401, 401, 404, 403, 200],
        ),
        (
            Method::DELETE,
            PROD.to_owned(),
            None,
            [401, 401, 404, 403, 200],
        ),
    ];
    for (method, path, body, expected) in table {
        for ((who, token), want) in callers.iter().zip(expected) {
            let mut request = app.request(method.clone(), &path, *token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let reply = app.send(request).await;
            assert_eq!(
                reply.status.as_u16(),
                want,
                "{method} {path} as {who}: {}",
                reply.text
            );
            if want != 200 {
                let error = reply.error();
                assert_eq!(error.code, want, "{method} {path} as {who}");
                assert!(!error.message.is_empty());
            }
        }
    }
}

#[tokio::test]
async fn only_the_token_scheme_is_accepted_and_the_pulumi_accept_header_is_optional() {
    let app = spawn_app().await;
    let bearer = app
        .bare_get("/api/user")
        .header("Authorization", format!("Bearer {}", app.admin));
    assert_eq!(app.send(bearer).await.status, StatusCode::UNAUTHORIZED);
    let bare = app
        .bare_get("/api/user")
        .header("Authorization", format!("token {}", app.admin));
    assert_eq!(app.send(bare).await.status, StatusCode::OK);
    let empty = app.bare_get("/api/user").header("Authorization", "token ");
    assert_eq!(app.send(empty).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_member_cannot_write_even_invalid_settings_and_nothing_changes() {
    let app = spawn_app().await;
    let before = app.stored_settings("acme", "website", "prod").await;
    for method in [Method::POST, Method::PUT] {
        let reply = app
            .write(
                method,
                PROD,
                &app.member,
                &json!({"operationContext": {"oidc": null}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    let reply = app
        .send(
            app.request(Method::POST, PROD, Some(&app.member))
                .body("{not json"),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "authorisation comes before the body"
    );
    assert_eq!(app.stored_settings("acme", "website", "prod").await, before);
}
