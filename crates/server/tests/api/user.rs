//! `GET /api/user` and `GET /api/user/stacks`.

use keyless_api_types::{ListStacksResponse, OrgRole, User};
use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

const ACME_STACKS: [&str; 7] = [
    "acme/data-platform/dev",
    "acme/demo/dev",
    "acme/payments/dev",
    "acme/payments/prod",
    "acme/website/dev",
    "acme/website/prod",
    "acme/website/staging",
];

async fn list(app: &TestApp, query: &str, token: &str) -> ListStacksResponse {
    let reply = app.get(&format!("/api/user/stacks{query}"), token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_value(reply.body).expect("a ListStacksResponse")
}

fn names(response: &ListStacksResponse) -> Vec<String> {
    response
        .stacks
        .iter()
        .map(|s| s.stack_ref().to_string())
        .collect()
}

#[tokio::test]
async fn user_lists_organizations_with_roles() {
    let app = spawn_app().await;
    let alice: User =
        serde_json::from_value(app.get("/api/user", &app.admin).await.body).expect("a User");
    assert_eq!(alice.github_login, "alice");
    assert_eq!(alice.name, "Alice Admin");
    assert_eq!(alice.organizations.len(), 1);
    assert_eq!(alice.organizations[0].github_login, "acme");
    assert_eq!(alice.organizations[0].name, "Acme Corp");
    assert_eq!(alice.role_in("acme"), Some(OrgRole::Admin));
    let bob: User =
        serde_json::from_value(app.get("/api/user", &app.member).await.body).expect("a User");
    assert_eq!(bob.name, "Bob Member");
    assert_eq!(bob.role_in("acme"), Some(OrgRole::Member));
    assert_ne!(alice.id, bob.id);
}

#[tokio::test]
async fn stacks_of_the_users_organizations_only_sorted() {
    let app = spawn_app().await;
    assert_eq!(names(&list(&app, "", &app.admin).await), ACME_STACKS);
    assert_eq!(names(&list(&app, "", &app.member).await), ACME_STACKS);
    let gina_like = app.create_user("globex", OrgRole::Member).await;
    assert_eq!(
        names(&list(&app, "", &gina_like).await),
        ["globex/infra/prod"]
    );
}

#[tokio::test]
async fn a_user_in_two_organizations_sees_both() {
    let app = spawn_app().await;
    let token = app.create_user("globex", OrgRole::Member).await;
    let account = app
        .store
        .account_by_token(&keyless_server::tokens::hash(&token))
        .await
        .expect("store answers")
        .expect("account exists");
    app.store
        .add_member("acme", &account.id, OrgRole::Member)
        .await
        .expect("joins acme");
    let mut expected = ACME_STACKS.to_vec();
    expected.push("globex/infra/prod");
    assert_eq!(names(&list(&app, "", &token).await), expected);
    assert_eq!(
        names(&list(&app, "?organization=globex", &token).await),
        ["globex/infra/prod"]
    );
}

#[tokio::test]
async fn filters_by_organization_and_project() {
    let app = spawn_app().await;
    assert_eq!(
        names(&list(&app, "?organization=acme&project=website", &app.admin).await),
        [
            "acme/website/dev",
            "acme/website/prod",
            "acme/website/staging"
        ]
    );
    assert_eq!(
        names(&list(&app, "?project=payments", &app.admin).await),
        ["acme/payments/dev", "acme/payments/prod"]
    );
    assert!(
        list(&app, "?organization=globex", &app.admin)
            .await
            .stacks
            .is_empty()
    );
}

#[tokio::test]
async fn pages_follow_continuation_tokens_to_the_end() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    let mut query = "?maxResults=4".to_owned();
    let mut pages = 0;
    loop {
        let page = list(&app, &query, &app.admin).await;
        assert!(page.stacks.len() <= 4);
        seen.extend(names(&page));
        pages += 1;
        match page.continuation_token {
            Some(token) => query = format!("?maxResults=4&continuationToken={token}"),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, ACME_STACKS);
    let exact = list(&app, "?maxResults=7", &app.admin).await;
    assert_eq!(exact.stacks.len(), 7);
    assert_eq!(
        exact.continuation_token, None,
        "no token when nothing follows"
    );
}

#[tokio::test]
async fn bad_paging_parameters_are_400_errors() {
    let app = spawn_app().await;
    for query in [
        "?continuationToken=not-a-token",
        "?continuationToken=%21%21",
        "?maxResults=0",
        "?maxResults=-1",
        "?maxResults=lots",
    ] {
        let reply = app
            .get(&format!("/api/user/stacks{query}"), &app.admin)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.error().code, 400);
    }
}
