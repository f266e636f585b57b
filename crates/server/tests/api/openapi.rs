//! `GET /api/openapi.json` describes exactly the routes the server has.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// `/api/stacks/{orgName}/x` and `/api/stacks/{org}/x` are the same route.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
                .map(move |method| (method.to_uppercase(), shape(path)))
        })
        .collect()
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::String(target)) = fields.get("$ref") {
                out.push(target.clone());
            }
            fields.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_lists_every_route_and_nothing_else() {
    let app = spawn_app().await;
    let reply = app.send(app.bare_get("/api/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.body;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));

    let routes: BTreeSet<(String, String)> = keyless_server::http::routes()
        .list()
        .iter()
        .map(|(method, path)| (method.to_string(), shape(path)))
        .collect();
    assert_eq!(documented(&doc), routes);

    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    for target in targets {
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling {target}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    let doc = app.send(app.bare_get("/api/openapi.json")).await.body;
    let stack = "/api/stacks/acme/website/prod/deployments";
    // Writes last, and deletes after them, so each call finds what it needs; the settings'
    // delete goes last of all, as every probe queues a deployment with them.
    let order = ["GET", "POST", "PUT", "DELETE"];
    let mut operations: Vec<_> = documented(&doc).into_iter().collect();
    operations.sort_by_key(|(method, path)| {
        (
            order.iter().position(|m| m == method),
            path.ends_with("/deployments/settings"),
        )
    });
    // An agent pool for `{poolId}` to name.
    let pool = app
        .write(
            Method::POST,
            "/api/orgs/acme/agent-pools",
            &app.admin,
            &json!({"name": "probe"}),
        )
        .await;
    let pool = pool.body["id"].as_str().expect("a pool id").to_owned();
    for (method, path) in operations {
        // A deployment to address, kept queued by pausing its stack.
        let queued = queued_deployment(&app, stack).await;
        let fourth = if path.contains("/version/") {
            queued["version"].to_string()
        } else {
            queued["id"].as_str().expect("an id").to_owned()
        };
        let concrete = if path.starts_with("/api/orgs/{}/agent-pools/") {
            path.replacen("{}", "acme", 1).replacen("{}", &pool, 1)
        } else {
            path
        };
        let concrete = concrete
            .replacen("{}", "acme", 1)
            .replacen("{}", "website", 1)
            .replacen("{}", "prod", 1)
            .replacen("{}", &fourth, 1);
        let method: Method = method.parse().expect("a method");
        let creates = method == Method::POST && concrete == stack;
        let request = app.request(method.clone(), &concrete, Some(&app.admin));
        let request = match method {
            Method::POST if creates => request.json(&json!({"operation": "preview"})),
            Method::POST | Method::PUT => request.json(&json!({"tag": "probe"})),
            Method::PATCH => request.json(&json!({"name": "probe"})),
            _ => request,
        };
        let reply = app.send(request).await;
        // The webhook receiver takes no token: unsigned, it is refused (webhooks.rs covers it).
        // The OIDC test and explainer refuse the probe body (oidc_assistant.rs covers them),
        // and so do token creation and encrypt; the probe's id names no token (tokens.rs and
        // pulumi_clients.rs cover them).
        let probed = concrete.ends_with("/oidc/test")
            || concrete.ends_with("/oidc/explain")
            || concrete.ends_with("/settings/encrypt")
            || (method == Method::POST && concrete == "/api/user/tokens")
            || (method == Method::POST && concrete == "/api/orgs/acme/agent-pools");
        // A pool's update and delete answer no body (agent_pools.rs covers them).
        let no_content = concrete.starts_with("/api/orgs/acme/agent-pools/")
            && (method == Method::PATCH || method == Method::DELETE);
        let expected = if creates {
            StatusCode::ACCEPTED
        } else if concrete.starts_with("/api/webhooks/") {
            StatusCode::UNAUTHORIZED
        } else if concrete.starts_with("/api/user/tokens/") {
            StatusCode::NOT_FOUND
        } else if probed {
            StatusCode::BAD_REQUEST
        } else if no_content {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::OK
        };
        assert_eq!(
            reply.status, expected,
            "{method} {concrete}: {}",
            reply.text
        );
    }
}

async fn queued_deployment(app: &crate::helpers::TestApp, stack: &str) -> Value {
    let pause = app
        .write(
            Method::POST,
            &format!("{stack}/pause"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(pause.status, StatusCode::OK, "{}", pause.text);
    // With its own source: the probe above may have replaced the stack's settings.
    let body = json!({
        "operation": "preview",
        "sourceContext": {"git": {"repoUrl": "https://git.example.com/acme/website.git"}}
    });
    let created = app.write(Method::POST, stack, &app.admin, &body).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    created.body
}
