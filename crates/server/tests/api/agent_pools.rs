//! `GET|POST /api/orgs/{org}/agent-pools`, `GET|PATCH|DELETE …/{poolId}`, and `agentPoolID`
//! in deployment settings and requests.

use keyless_api_types::OrgRole;
use keyless_api_types::agent_pools::{
    AgentPoolDetail, AgentStatus, CreateAgentPoolResponse, ListAgentPoolsResponse,
};
use keyless_server::tokens::hash;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, contains, spawn_app};

const POOLS: &str = "/api/orgs/acme/agent-pools";
const SETTINGS: &str = "/api/stacks/acme/website/dev/deployments/settings";

async fn create(app: &TestApp, body: Value) -> CreateAgentPoolResponse {
    let reply = app.write(Method::POST, POOLS, &app.admin, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_value(reply.body).expect("a CreateAgentPoolResponse")
}

async fn listed(app: &TestApp) -> ListAgentPoolsResponse {
    let reply = app.get(POOLS, &app.admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    serde_json::from_value(reply.body).expect("a ListAgentPoolsResponse")
}

async fn delete(app: &TestApp, path: &str) -> StatusCode {
    let request = app.request(Method::DELETE, path, Some(&app.admin));
    app.send(request).await.status
}

#[tokio::test]
async fn a_pool_is_made_listed_renamed_and_deleted_and_its_token_is_shown_once() {
    let app = spawn_app().await;
    let made = create(
        &app,
        json!({"name": "on-prem", "description": "Racks in Leeds"}),
    )
    .await;
    assert!(made.token_value.starts_with("pul-"), "{}", made.token_value);

    let pools = listed(&app).await.agent_pools;
    assert_eq!(pools.len(), 1);
    let pool = &pools[0];
    assert_eq!(
        (
            pool.id.as_str(),
            pool.name.as_str(),
            pool.description.as_str()
        ),
        (made.id.as_str(), "on-prem", "Racks in Leeds")
    );
    assert_eq!((pool.status, pool.last_seen), (AgentStatus::Offline, 0));
    assert!(pool.created > 0);

    let path = format!("{POOLS}/{}", made.id);
    let reply = app.get(&path, &app.admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let detail: AgentPoolDetail = serde_json::from_value(reply.body).expect("a detail");
    assert_eq!((detail.name.as_str(), detail.agents.len()), ("on-prem", 0));

    // The token is never shown again, and the store keeps only its hash.
    for reply in [
        app.get(POOLS, &app.admin).await,
        app.get(&path, &app.admin).await,
    ] {
        assert!(!reply.text.contains(&made.token_value), "{}", reply.text);
    }
    let stored = app.stored_bytes().await;
    assert!(!contains(&stored, &made.token_value), "the token is stored");
    assert!(
        contains(&stored, &hash(&made.token_value)),
        "no hash stored"
    );

    let reply = app
        .write(
            Method::PATCH,
            &path,
            &app.admin,
            &json!({"name": "leeds", "description": ""}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let pools = listed(&app).await.agent_pools;
    assert_eq!(
        (pools[0].name.as_str(), pools[0].description.as_str()),
        ("leeds", "")
    );

    assert_eq!(delete(&app, &path).await, StatusCode::NO_CONTENT);
    assert!(listed(&app).await.agent_pools.is_empty());
    assert_eq!(
        app.get(&path, &app.admin).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(delete(&app, &path).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_admins_of_the_pools_organization_reach_it() {
    let app = spawn_app().await;
    let made = create(&app, json!({"name": "on-prem"})).await;
    let path = format!("{POOLS}/{}", made.id);
    let body = json!({"name": "taken-over"});

    for (method, path) in [
        (Method::GET, POOLS),
        (Method::POST, POOLS),
        (Method::GET, path.as_str()),
        (Method::PATCH, path.as_str()),
        (Method::DELETE, path.as_str()),
    ] {
        let reply = app.write(method.clone(), path, &app.member, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "member {method} {path}"
        );
        let reply = app
            .send(app.request(method.clone(), path, None).json(&body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
    }

    // An admin of another organization does not see acme's pools, through its path or theirs.
    let other = app.create_user("initech", OrgRole::Admin).await;
    assert_eq!(app.get(POOLS, &other).await.status, StatusCode::NOT_FOUND);
    let theirs = format!("/api/orgs/initech/agent-pools/{}", made.id);
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let reply = app.write(method.clone(), &theirs, &other, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {}",
            reply.text
        );
    }

    // The pool's token is not an access token.
    let reply = app.get("/api/user", &made.token_value).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let pools = listed(&app).await.agent_pools;
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].name, "on-prem");
}

#[tokio::test]
async fn bad_names_and_taken_names_are_refused_naming_the_field() {
    let app = spawn_app().await;
    for (body, attribute) in [
        (json!({}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "two\nlines"}), "name"),
        (json!({"name": "x".repeat(256)}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(1025)}),
            "description",
        ),
    ] {
        let reply = app.write(Method::POST, POOLS, &app.admin, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error_attributes(), [attribute], "{body}");
    }
    let reply = app
        .write(Method::POST, POOLS, &app.admin, &json!({"name": 7}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    let first = create(&app, json!({"name": "on-prem"})).await;
    let second = create(&app, json!({"name": "cloud"})).await;
    let reply = app
        .write(
            Method::POST,
            POOLS,
            &app.admin,
            &json!({"name": " on-prem "}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(reply.error().message.contains("on-prem"), "{}", reply.text);
    let reply = app
        .write(
            Method::PATCH,
            &format!("{POOLS}/{}", second.id),
            &app.admin,
            &json!({"name": "on-prem"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);

    // Nothing refused changed what is stored.
    let pools = listed(&app).await.agent_pools;
    let names: Vec<(&str, &str)> = pools
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (second.id.as_str(), "cloud"),
            (first.id.as_str(), "on-prem")
        ]
    );
}

#[tokio::test]
async fn settings_may_name_only_a_pool_of_their_organization() {
    let app = spawn_app().await;
    let pool = create(&app, json!({"name": "on-prem"})).await;

    let reply = app
        .patch(SETTINGS, &json!({"agentPoolID": "no-such-pool"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), ["agentPoolID"]);

    // Another organization's pool is as unknown as a made-up one.
    let gina = app.create_user("globex", OrgRole::Admin).await;
    let reply = app
        .write(
            Method::POST,
            "/api/orgs/globex/agent-pools",
            &gina,
            &json!({"name": "globex-pool"}),
        )
        .await;
    let theirs: CreateAgentPoolResponse = serde_json::from_value(reply.body).expect("made");
    let reply = app
        .patch(SETTINGS, &json!({"agentPoolID": theirs.id}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), ["agentPoolID"]);
    assert!(
        app.stored_settings("acme", "website", "dev")
            .await
            .is_none()
    );

    let reply = app.patch(SETTINGS, &json!({"agentPoolId": pool.id})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["agentPoolID"], pool.id.as_str());

    // A pool that settings name is kept unless the delete is forced.
    let path = format!("{POOLS}/{}", pool.id);
    let reply = app
        .send(app.request(Method::DELETE, &path, Some(&app.admin)))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.error().message.contains("website/dev"),
        "{}",
        reply.text
    );
    assert_eq!(listed(&app).await.agent_pools.len(), 1);
    assert_eq!(
        delete(&app, &format!("{path}?force=true")).await,
        StatusCode::NO_CONTENT
    );

    // Settings that still name it may change anything else; naming it anew is refused.
    let reply = app
        .patch(
            SETTINGS,
            &json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website"}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let other = create(&app, json!({"name": "other"})).await;
    let reply = app.patch(SETTINGS, &json!({"agentPoolID": other.id})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = app.patch(SETTINGS, &json!({"agentPoolID": pool.id})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), ["agentPoolID"]);
    let reply = app
        .write(
            Method::POST,
            "/api/stacks/acme/website/dev/deployments",
            &app.admin,
            &json!({"operation": "preview", "agentPoolID": pool.id}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), ["agentPoolID"]);

    let reply = app.patch(SETTINGS, &json!({"agentPoolID": null})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.body.get("agentPoolID").is_none(), "{}", reply.text);
}
