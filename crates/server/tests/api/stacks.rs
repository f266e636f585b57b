//! `GET /api/stacks/{org}/{project}/{stack}`.

use keyless_api_types::{ListStacksResponse, Stack};
use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn stack_has_a_stable_id_and_its_tags() {
    let app = spawn_app().await;
    let reply = app.get("/api/stacks/acme/website/prod", &app.member).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let stack: Stack = serde_json::from_value(reply.body.clone()).expect("a Stack");
    assert_eq!(
        (
            stack.org_name.as_str(),
            stack.project_name.as_str(),
            stack.stack_name.as_str()
        ),
        ("acme", "website", "prod")
    );
    assert_eq!(stack.active_update, "");
    assert_eq!(stack.version, 0);
    assert_eq!(
        stack.tags.get("environment").map(String::as_str),
        Some("prod")
    );
    assert_eq!(stack.id.len(), 36, "a UUID: {}", stack.id);
    let again: Stack = serde_json::from_value(
        app.get("/api/stacks/acme/website/prod", &app.admin)
            .await
            .body,
    )
    .expect("a Stack");
    assert_eq!(again.id, stack.id);
    let listed: ListStacksResponse =
        serde_json::from_value(app.get("/api/user/stacks", &app.admin).await.body).expect("a list");
    let summary = listed
        .stacks
        .iter()
        .find(|s| s.stack_name == "prod" && s.project_name == "website")
        .expect("listed");
    assert_eq!(summary.id, stack.id);
}

#[tokio::test]
async fn unknown_and_foreign_stacks_are_the_same_404() {
    let app = spawn_app().await;
    for path in [
        "/api/stacks/acme/website/nope",
        "/api/stacks/acme/nope/prod",
        "/api/stacks/nope/website/prod",
        "/api/stacks/globex/infra/prod",
        "/api/stacks/acme/website/nope/deployments/settings",
        "/api/stacks/globex/infra/prod/deployments/settings",
    ] {
        let reply = app.get(path, &app.admin).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        let error = reply.error();
        assert_eq!(error.code, 404);
        assert!(
            error.message.ends_with("' not found"),
            "{path}: {}",
            error.message
        );
    }
}
