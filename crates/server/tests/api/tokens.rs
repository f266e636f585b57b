//! `GET|POST /api/user/tokens` and `DELETE /api/user/tokens/{tokenId}`.

use std::time::Duration;

use keyless_api_types::tokens::{AccessToken, CreateAccessTokenResponse, ListAccessTokensResponse};
use keyless_server::store::NewToken;
use keyless_server::tokens::{hash, unix_now};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, contains, spawn_app};

const TOKENS: &str = "/api/user/tokens";

async fn create(app: &TestApp, token: &str, body: Value) -> CreateAccessTokenResponse {
    let reply = app.write(Method::POST, TOKENS, token, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_value(reply.body).expect("a CreateAccessTokenResponse")
}

async fn list(app: &TestApp, query: &str, token: &str) -> Vec<AccessToken> {
    let reply = app.get(&format!("{TOKENS}{query}"), token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_value::<ListAccessTokensResponse>(reply.body)
        .expect("a ListAccessTokensResponse")
        .tokens
}

async fn delete(app: &TestApp, token: &str, id: &str) -> StatusCode {
    let request = app.request(Method::DELETE, &format!("{TOKENS}/{id}"), Some(token));
    app.send(request).await.status
}

async fn whoami(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/user", token).await.status
}

#[tokio::test]
async fn a_token_is_made_used_and_deleted() {
    let app = spawn_app().await;
    let before = unix_now();
    let made = create(&app, &app.admin, json!({"description": "ci", "expires": 0})).await;
    assert!(made.token_value.starts_with("pul-"), "{}", made.token_value);

    let reply = app.get(TOKENS, &app.admin).await;
    assert!(!reply.text.contains(&made.token_value), "{}", reply.text);
    let tokens = list(&app, "", &app.admin).await;
    let listed = tokens.iter().find(|t| t.id == made.id).expect("listed");
    assert_eq!(
        (
            listed.description.as_str(),
            listed.last_used,
            listed.expires
        ),
        ("ci", 0, 0)
    );
    assert!(listed.created.ends_with('Z'), "{}", listed.created);
    // The seed's token is listed too, and never expires.
    let demo = tokens.iter().find(|t| t.id != made.id).expect("demo token");
    assert_eq!(demo.expires, 0);

    assert_eq!(whoami(&app, &made.token_value).await, StatusCode::OK);
    let used = list(&app, "", &app.admin).await;
    let last_used = used
        .iter()
        .find(|t| t.id == made.id)
        .expect("listed")
        .last_used;
    assert!(
        (before..=unix_now()).contains(&last_used),
        "lastUsed {last_used}"
    );

    assert_eq!(
        delete(&app, &app.admin, &made.id).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        whoami(&app, &made.token_value).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        delete(&app, &app.admin, &made.id).await,
        StatusCode::NOT_FOUND
    );
    assert!(
        list(&app, "", &app.admin)
            .await
            .iter()
            .all(|t| t.id != made.id)
    );
}

#[tokio::test]
async fn a_token_deleted_with_itself_stops_at_once() {
    let app = spawn_app().await;
    let made = create(&app, &app.admin, json!({"description": "one-off"})).await;
    assert_eq!(
        delete(&app, &made.token_value, &made.id).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        whoami(&app, &made.token_value).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let alice = app
        .store
        .account_by_token(&hash(&app.admin))
        .await
        .expect("store")
        .expect("alice");
    let value = keyless_server::tokens::generate();
    app.store
        .create_token(NewToken {
            user_id: &alice.id,
            token_hash: &hash(&value),
            description: "expired",
            expires: Some(unix_now() - 1),
        })
        .await
        .expect("stored");
    assert_eq!(whoami(&app, &value).await, StatusCode::UNAUTHORIZED);

    // One made through the API with a short life works until it ends.
    let soon = unix_now() + 2;
    let short = create(
        &app,
        &app.admin,
        json!({"description": "short", "expires": soon}),
    )
    .await;
    let long_expiry = unix_now() + 3_600;
    let long = create(
        &app,
        &app.admin,
        json!({"description": "long", "expires": long_expiry}),
    )
    .await;
    while unix_now() <= soon {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        whoami(&app, &short.token_value).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(whoami(&app, &long.token_value).await, StatusCode::OK);

    // Expired tokens are listed only when asked for, as Pulumi does.
    let live = list(&app, "", &app.admin).await;
    assert!(
        live.iter()
            .all(|t| t.description != "expired" && t.id != short.id)
    );
    let listed = live.iter().find(|t| t.id == long.id).expect("listed");
    assert_eq!(listed.expires, long_expiry);
    let all = list(&app, "?show_expired=true", &app.admin).await;
    assert!(all.iter().any(|t| t.id == short.id));
    assert!(all.iter().any(|t| t.description == "expired"));
}

#[tokio::test]
async fn bad_descriptions_and_past_expiries_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "description"),
        (json!({"description": ""}), "description"),
        (json!({"description": "  "}), "description"),
        (json!({"description": "a".repeat(1025)}), "description"),
        (
            json!({"description": "ci", "expires": unix_now() - 60}),
            "expires",
        ),
        (json!({"description": "ci", "expires": -1}), "expires"),
    ];
    for (body, attribute) in cases {
        let reply = app.write(Method::POST, TOKENS, &app.admin, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.error_attributes(), [attribute], "{body}");
    }
    create(&app, &app.admin, json!({"description": "é".repeat(1024)})).await;
}

#[tokio::test]
async fn one_user_cannot_see_or_delete_another_users_token() {
    let app = spawn_app().await;
    let made = create(&app, &app.admin, json!({"description": "alice's"})).await;
    assert_eq!(
        delete(&app, &app.member, &made.id).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(whoami(&app, &made.token_value).await, StatusCode::OK);
    let bobs = list(&app, "", &app.member).await;
    assert!(bobs.iter().all(|t| t.id != made.id));
    assert_eq!(bobs.len(), 1, "only Bob's demo token");
}

#[tokio::test]
async fn a_token_is_kept_only_as_its_hash() {
    let app = spawn_app().await;
    let made = create(&app, &app.admin, json!({"description": "on disk"})).await;
    // Used, so that its row is written again.
    assert_eq!(whoami(&app, &made.token_value).await, StatusCode::OK);
    let disk = app.stored_bytes().await;
    assert!(!contains(&disk, &made.token_value));
    assert!(!contains(&disk, &made.token_value["pul-".len()..]));
    assert!(
        contains(&disk, &hash(&made.token_value)),
        "the grep sees rows"
    );
}

#[tokio::test]
async fn every_endpoint_needs_a_token() {
    let app = spawn_app().await;
    let unauthorized = [
        app.bare_get(TOKENS),
        app.bare_post(TOKENS).json(&json!({"description": "x"})),
        app.request(Method::DELETE, &format!("{TOKENS}/x"), None),
    ];
    for request in unauthorized {
        assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED);
    }
}
