//! The console against answers shaped as Pulumi documents them, in a real browser: the examples
//! of Pulumi's API docs and the fields its OpenAPI document requires, no more. They leave out
//! fields Keyless always sends (`initiator`, `configuration`, `pulumiOperation`, `paused`,
//! `lines`, `hasSchedules`, an error's `attribute`) and use roles Keyless never grants. Each
//! answer must decode, and each page that reads it must render.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::{
    ApiError, DeploymentLogs, ErrorType, GetDeploymentResponse, ListDeploymentResponseV2,
    ListStacksResponse, OrgRole, PulumiOperation, Stack, StackDeploymentsMetadataResponse, User,
};
use keyless_console::lazy::LazyParts;
use keyless_console::pages::deploy_settings::DeploySettingsPage;
use keyless_console::pages::deployment::DeploymentPage;
use keyless_console::pages::deployments::{OrgDeploymentsPage, StackDeploymentsPage};
use keyless_console::pages::stack::StackLayout;
use keyless_console::pages::stacks::StacksPage;
use keyless_console::router::{Route, Router, Routes};
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Element;

mod dom;

use dom::{all, container, input, settle, text, wait};

wasm_bindgen_test_configure!(run_in_browser);

const REQUESTED_BY: &str = r#"{"name": "Pat", "githubLogin": "pat", "avatarUrl": ""}"#;

/// `GET /api/user` with every field Pulumi requires, in an organization where Pat's role is
/// `role`.
fn user(role: &str) -> Value {
    json!({
        "id": "u-1", "githubLogin": "pat", "name": "Pat", "email": "pat@example.com",
        "avatarUrl": "", "hasMFA": false, "identities": ["github.com"],
        "isOrgManaged": false, "isManagedByMultiOrg": false,
        "organizations": [{"githubLogin": "acme", "name": "Acme", "avatarUrl": "", "role": role}]
    })
}

fn stacks() -> Value {
    json!({"stacks": [{"id": "s-1", "orgName": "acme", "projectName": "website",
                       "stackName": "prod"}]})
}

fn stack() -> Value {
    json!({"id": "s-1", "orgName": "acme", "projectName": "website", "stackName": "prod",
           "activeUpdate": "", "version": 3})
}

/// Deployment 2, running, with a step in a status this console does not know.
fn running() -> Value {
    json!({
        "id": "d-2", "created": "2026-11-25T17:34:00Z", "modified": "2026-11-25T17:36:05Z",
        "status": "running", "version": 2, "latestVersion": 2,
        "requestedBy": serde_json::from_str::<Value>(REQUESTED_BY).expect("JSON"),
        "jobs": [{"status": "running", "started": "2026-11-25T17:34:00Z",
                  "steps": [{"name": "Get source", "status": "cancelling"}]}]
    })
}

/// A listing whose deployments carry only the spec's required fields: no project, stack,
/// `paused` or `initiator`.
fn deployments() -> Value {
    json!({
        "deployments": [{
            "id": "d-1", "created": "2026-11-25T17:34:00Z", "modified": "2026-11-25T17:36:05Z",
            "status": "succeeded", "version": 1,
            "requestedBy": serde_json::from_str::<Value>(REQUESTED_BY).expect("JSON"),
            "jobs": [], "pulumiOperation": "update", "updates": []
        }],
        "itemsPerPage": 10, "total": 1
    })
}

/// The docs' `GetDeploymentResponse`, without the optional `pulumiOperation` (older
/// deployments), `initiator` and `configuration`.
fn deployment() -> Value {
    json!({
        "id": "d-1", "created": "2026-11-25T17:34:00Z", "modified": "2026-11-25T17:36:05Z",
        "status": "succeeded", "version": 1, "latestVersion": 1,
        "requestedBy": serde_json::from_str::<Value>(REQUESTED_BY).expect("JSON"),
        "jobs": [{"status": "succeeded", "started": "2026-11-25T17:34:00Z",
                  "lastUpdated": "2026-11-25T17:36:05Z",
                  "steps": [{"name": "Get source", "status": "succeeded"}]}]
    })
}

/// Deployment 3, in a status this console does not know.
fn unknown_status() -> Value {
    let mut deployment = deployment();
    deployment["id"] = json!("d-3");
    deployment["version"] = json!(3);
    deployment["latestVersion"] = json!(3);
    deployment["status"] = json!("paused-by-policy");
    deployment
}

/// The organization's listing as Pulumi answers it, each deployment naming its stack.
fn org_deployments() -> Value {
    let mut listing = deployments();
    listing["deployments"][0]["projectName"] = json!("website");
    listing["deployments"][0]["stackName"] = json!("prod");
    listing
}

/// Settings as Pulumi's `GetDeploymentSettings` answers them: secrets as bare ciphertexts,
/// `executorImage` as an object, a plain environment variable beside a secret one, `vcs`, and
/// no `source`.
fn settings() -> Value {
    json!({
        "version": 3,
        "sourceContext": {"git": {
            "repoUrl": "https://github.com/acme/website.git", "branch": "refs/heads/main",
            "repoDir": "infra",
            "gitAuth": {"basicAuth": {"userName": {"ciphertext": "AAABAJx1"},
                                      "password": {"ciphertext": "AAABAMk2"}}}}},
        "operationContext": {
            "operation": "update",
            "preRunCommands": ["npm ci"],
            "environmentVariables": {"NODE_ENV": "production", "API_KEY": {"ciphertext": "AAABAK9z"}},
            "options": {"skipInstallDependencies": false, "shell": "/bin/bash"},
            "oidc": {"aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy",
                             "sessionName": "pulumi-deploy", "duration": "1h0m0s"}}},
        "executorContext": {"executorImage": {"reference": "pulumi/pulumi:latest"}},
        "gitHub": {"repository": "acme/website", "deployCommits": true,
                   "previewPullRequests": true, "paths": ["infra/**"]},
        "vcs": {"provider": "github", "repository": "acme/website"}
    })
}

/// The stack metadata Pulumi answers without `hasSchedules`.
fn metadata() -> Value {
    json!({"paused": false, "stackPaused": false, "organizationPaused": false})
}

fn decode<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value} does not decode: {e}"))
}

#[wasm_bindgen_test]
fn documented_answers_decode() {
    for (role, read) in [
        ("admin", OrgRole::Admin),
        ("member", OrgRole::Member),
        ("none", OrgRole::ReadOnly),
        ("potential-member", OrgRole::ReadOnly),
        ("stack-collaborator", OrgRole::ReadOnly),
        ("billing-manager", OrgRole::ReadOnly),
    ] {
        assert_eq!(
            decode::<User>(user(role)).role_in("acme"),
            Some(read),
            "{role}"
        );
    }
    decode::<ListStacksResponse>(stacks());
    decode::<Stack>(stack());
    let listed = decode::<ListDeploymentResponseV2>(deployments());
    assert_eq!(
        listed.deployments[0].pulumi_operation,
        Some(PulumiOperation::Update)
    );
    let one = decode::<GetDeploymentResponse>(deployment());
    assert_eq!((one.pulumi_operation, one.initiator.as_str()), (None, ""));
    assert!(one.configuration.environment_variables.is_empty());
    assert!(!decode::<StackDeploymentsMetadataResponse>(metadata()).has_schedules);

    // The docs' streaming example, and a poll that found no new lines.
    let logs = decode::<DeploymentLogs>(json!({"__type": "DeploymentLogs", "lines": [
        {"header": "Get source", "timestamp": "2026-11-25T17:34:00Z"},
        {"timestamp": "2026-11-25T17:34:01Z", "line": "Cloning…\n"}
    ], "nextToken": "t-2"}));
    assert_eq!(logs.lines.len(), 2);
    let idle = decode::<DeploymentLogs>(json!({"__type": "DeploymentLogs", "nextToken": "t-2"}));
    assert!(idle.lines.is_empty());
    assert_eq!(idle.next_token.as_deref(), Some("t-2"));

    // Errors without an attribute, or of a category this console does not know.
    let error = decode::<ApiError>(json!({"code": 409, "message": "Conflict", "errors": [
        {"resource": "Deployment", "errorType": "already_exists", "customMessage": "busy"},
        {"resource": "Deployment", "attribute": "operation", "errorType": "rate_limited"}
    ]}));
    assert_eq!(error.errors[0].attribute, "");
    assert_eq!(error.errors[1].error_type, ErrorType::Custom);
    assert_eq!(error.message_for("operation"), Some(""));
}

/// Replaces `fetch` with Pulumi-shaped answers for `acme/website/prod`, and `extra` (by path);
/// unless `extra` sets them, settings are unset (404, as Pulumi answers). Counts the requests
/// per path in `window.__asked`.
fn fake_pulumi(extra: Value) {
    let mut answers = json!({
        "/api/user/stacks": stacks(),
        "/api/stacks/acme/website/prod": stack(),
        "/api/stacks/acme/website/prod/deployments": deployments(),
        "/api/stacks/acme/website/prod/deployments/metadata": metadata(),
        "/api/stacks/acme/website/prod/deployments/version/1": deployment(),
        "/api/stacks/acme/website/prod/deployments/version/2": running(),
        "/api/stacks/acme/website/prod/deployments/version/3": unknown_status(),
        "/api/orgs/acme/deployments": org_deployments(),
        "/api/stacks/acme/website/prod/deployments/d-1/logs": {"__type": "DeploymentLogs"},
        // A poll of a running deployment with no new lines: no `lines` at all.
        "/api/stacks/acme/website/prod/deployments/d-2/logs":
            {"__type": "DeploymentLogs", "nextToken": "t-1"},
    });
    if let (Value::Object(answers), Value::Object(extra)) = (&mut answers, extra) {
        answers.extend(extra);
    }
    js_sys::Reflect::set(&window(), &"__asked".into(), &js_sys::Object::new()).expect("reset");
    js_sys::Reflect::set(
        &window(),
        &"__answers".into(),
        &js_sys::JSON::parse(&answers.to_string()).expect("answers"),
    )
    .expect("answers set");
    let fetch = js_sys::Function::new_with_args(
        "input, init",
        r#"
        const path = new URL(new Request(input, init).url).pathname;
        window.__asked[path] = (window.__asked[path] || 0) + 1;
        const headers = {'Content-Type': 'application/json'};
        if (path.endsWith('/logs/raw')) {
            // Deployment 2 is running: the console follows its log from there.
            const more = path.includes('/d-2/') ? {'X-Keyless-Next-Token': 't-0'} : {};
            return Promise.resolve(new Response('', {status: 200, headers: more}));
        }
        const body = window.__answers[path];
        return Promise.resolve(body === undefined
            ? new Response(JSON.stringify({code: 404, message: 'Not found'}), {status: 404, headers})
            : new Response(JSON.stringify(body), {status: 200, headers}));
        "#,
    );
    js_sys::Reflect::set(&window(), &"fetch".into(), &fetch).expect("fetch replaced");
}

/// Opens `path` in the console's routes, signed in as a user with `role` in `acme`.
fn open(path: &str, role: &str) -> Element {
    open_with(path, role, json!({}))
}

/// [`open`], with `extra` answers by path.
fn open_with(path: &str, role: &str, extra: Value) -> Element {
    fake_pulumi(extra);
    window()
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .expect("address set");
    let user = decode::<User>(user(role));
    let root = container();
    let mounted = mount_to(root.clone(), move || {
        provide_context(Session::new(Some("test-token".into()), Some(user)));
        provide_context(LazyParts::in_place());
        view! {
            <Router>
                <Routes routes=PAGES fallback=|| "not found".into_any() />
            </Router>
        }
    });
    std::mem::forget(mounted);
    root.into()
}

/// The pages these tests open, routed as the console routes them.
static PAGES: &[Route] = &[
    Route::leaf("/stacks", || view! { <StacksPage /> }.into_any()),
    Route::leaf("/orgs/:org/deployments", || {
        view! { <OrgDeploymentsPage /> }.into_any()
    }),
    Route {
        path: "/:org/:project/:stack",
        view: || view! { <StackLayout /> }.into_any(),
        children: &[
            Route::leaf("deployments", || {
                view! { <StackDeploymentsPage /> }.into_any()
            }),
            Route::leaf("deployments/:version", || {
                view! { <DeploymentPage /> }.into_any()
            }),
            Route::leaf("settings/deploy", || {
                view! { <DeploySettingsPage /> }.into_any()
            }),
        ],
        preload: None,
    },
];

/// Waits until `root` shows `wanted`, or fails saying what it shows.
async fn shows(root: &Element, wanted: &str) {
    for _ in 0..100 {
        if text(root).contains(wanted) {
            return;
        }
        settle().await;
    }
    panic!("{wanted:?} never showed; the page reads {:?}", text(root));
}

fn buttons(root: &Element) -> Vec<String> {
    all(root, "button").iter().map(text).collect()
}

#[wasm_bindgen_test]
async fn stacks_render_from_pulumis_listing() {
    let root = open("/stacks", "stack-collaborator");
    shows(&root, "website").await;
    shows(&root, "prod").await;
}

#[wasm_bindgen_test]
async fn a_read_only_role_sees_deployments_without_deploying() {
    let root = open("/acme/website/prod/deployments", "billing-manager");
    shows(&root, "Succeeded").await;
    shows(&root, "update").await;
    let link = all(&root, "table a")
        .into_iter()
        .find(|a| text(a) == "#1")
        .expect("a link to the deployment");
    // Without `projectName`/`stackName` in the listing, the link uses the stack of the page.
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("/acme/website/prod/deployments/1")
    );
    let buttons = buttons(&root);
    assert!(
        !buttons.iter().any(|b| b == "Deploy" || b.contains("Pause")),
        "{buttons:?}"
    );
}

#[wasm_bindgen_test]
async fn a_member_deploys_from_pulumis_answers() {
    let root = open("/acme/website/prod/deployments", "member");
    shows(&root, "Succeeded").await;
    // Pulumi answers 404 for unset settings: Deploy is offered, and says why it waits.
    shows(&root, "no deployment settings").await;
    assert!(buttons(&root).iter().any(|b| b == "Deploy"));
}

#[wasm_bindgen_test]
async fn a_deployment_without_operation_initiator_or_configuration_renders() {
    let root = open("/acme/website/prod/deployments/1", "stack-collaborator");
    shows(&root, "Deployment 1 · unknown operation").await;
    shows(&root, "Started by").await;
    shows(&root, "Pat").await;
}

#[wasm_bindgen_test]
async fn a_read_only_role_cannot_cancel_and_unknown_statuses_read_as_unknown() {
    let root = open("/acme/website/prod/deployments/2", "billing-manager");
    shows(&root, "Deployment 2").await;
    shows(&root, "Running").await;
    assert!(
        !buttons(&root).iter().any(|b| b.contains("Cancel")),
        "{:?}",
        buttons(&root)
    );
    let root = open("/acme/website/prod/deployments/2", "member");
    shows(&root, "Cancel deployment").await;
    assert_eq!(
        decode::<GetDeploymentResponse>(unknown_status()).status,
        keyless_api_types::DeploymentStatus::Unknown
    );
    let root = open("/acme/website/prod/deployments/3", "member");
    shows(&root, "Deployment 3").await;
    let badges: Vec<String> = all(&root, ".badge").iter().map(text).collect();
    assert!(badges.iter().any(|b| b == "Unknown"), "{badges:?}");
}

#[wasm_bindgen_test]
async fn a_running_deployment_renders_while_its_log_polls_answer_no_lines() {
    const LOGS: &str = "/api/stacks/acme/website/prod/deployments/d-2/logs";
    let root = open("/acme/website/prod/deployments/2", "member");
    shows(&root, "Running").await;
    // Polls answer `nextToken` without `lines`: the page goes on polling, and says nothing failed.
    let asked = || {
        js_sys::Reflect::get(
            &js_sys::Reflect::get(&window(), &"__asked".into()).expect("counts"),
            &LOGS.into(),
        )
        .ok()
        .and_then(|n| n.as_f64())
        .unwrap_or(0.0)
    };
    for _ in 0..100 {
        if asked() >= 3.0 {
            break;
        }
        wait(50).await;
    }
    assert!(asked() >= 3.0, "the log was polled {} times", asked());
    let page = text(&root);
    assert!(
        page.contains("Running") && page.contains("0 lines"),
        "{page}"
    );
    assert!(!page.contains("could not be loaded"), "{page}");
}

#[wasm_bindgen_test]
async fn the_org_listing_renders_from_pulumis_answer() {
    let root = open("/orgs/acme/deployments", "member");
    shows(&root, "Succeeded").await;
    let link = all(&root, "table a")
        .into_iter()
        .find(|a| text(a) == "#1")
        .expect("a link to the deployment");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("/acme/website/prod/deployments/1")
    );
}

#[wasm_bindgen_test]
async fn deploy_settings_render_from_pulumis_answer() {
    let settings_path = "/api/stacks/acme/website/prod/deployments/settings";
    let root = open_with(
        "/acme/website/prod/settings/deploy",
        "admin",
        json!({ settings_path: settings() }),
    );
    shows(&root, "Enable AWS Integration").await;
    shows(&root, "Save deployment configuration").await;
    assert_eq!(
        input(&root, "Role ARN").value(),
        "arn:aws:iam::123456789012:role/deploy"
    );
    assert_eq!(input(&root, "Session Name").value(), "pulumi-deploy");
    assert_eq!(input(&root, "Repository").value(), "acme/website");
    // No ciphertext reaches the page.
    assert!(!text(&root).contains("AAAB"), "{}", text(&root));
}
