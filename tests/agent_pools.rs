//! Agent pools in a real browser, against a fake `fetch` that keeps pools the way the server
//! does: the Agent pools page (validation as the admin types, the token shown once, deleting a
//! pool that stacks still choose) and the pool choice of Settings → Deploy.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::User;
use keyless_api_types::stack::StackRef;
use keyless_console::api::ApiFailure;
use keyless_console::lazy::LazyParts;
use keyless_console::pages::agent_pools::{ADMINS_ONLY, AgentPoolsPage};
use keyless_console::pages::deploy_settings::{DEFAULT_AGENTS, DeploySettingsForm};
use keyless_console::router::{Route, Router, Routes};
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

mod dom;

use dom::{all, container, fire, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = "pul-00112233445566778899aabbccddeeff00112233";

/// The fake API: `window.__pools` holds the pools and every call made.
const FAKE_FETCH: &str = r#"
return (async () => {
const state = window.__pools;
const request = new Request(input, init);
const method = request.method;
const url = new URL(request.url);
const path = url.pathname + url.search;
const body = await request.text();
state.calls.push(method + ' ' + path + (body ? ' ' + body : ''));
const json = (status, body) => new Response(JSON.stringify(body),
    {status, headers: {'Content-Type': 'application/json'}});
const base = '/api/orgs/acme/agent-pools';
if (url.pathname === base && method === 'GET') return json(200, {agentPools: state.pools});
if (url.pathname === base && method === 'POST') {
    const wanted = JSON.parse(body);
    if (state.pools.some(p => p.name === wanted.name)) return json(409,
        {code: 409, message: `The organization already has an agent pool named '${wanted.name}'`});
    const id = 'p-' + (state.pools.length + 1);
    state.pools.push({id, name: wanted.name, description: wanted.description, created: 1800000000,
        lastSeen: 0, status: 'offline'});
    return json(200, {id, tokenValue: state.token});
}
const id = url.pathname.startsWith(base + '/') && url.pathname.slice(base.length + 1);
const pool = state.pools.find(p => p.id === id);
if (id && !pool) return json(404, {code: 404, message: `Agent pool '${id}' not found`});
if (pool && method === 'GET') return json(200, {id, name: pool.name, description: pool.description,
    created: pool.created, agents: state.agents[id] || []});
if (pool && method === 'PATCH') {
    Object.assign(pool, JSON.parse(body));
    return new Response(null, {status: 204});
}
if (pool && method === 'DELETE') {
    if (state.used.includes(id) && url.searchParams.get('force') !== 'true') return json(409,
        {code: 409, message: `Agent pool '${id}' is named by the deployment settings of website/prod; choose another pool for them first, or delete with force=true`});
    state.pools = state.pools.filter(p => p.id !== id);
    return new Response(null, {status: 204});
}
if (url.pathname.endsWith('/deployments/settings') && method === 'POST') {
    const patch = JSON.parse(body);
    if (patch.agentPoolID === 'p-gone') return json(400, {code: 400, message: 'Invalid deployment settings',
        errors: [{resource: 'DeploymentSettings', attribute: 'agentPoolID', errorType: 'invalid',
            customMessage: "names agent pool 'p-gone', which organization 'acme' does not have"}]});
    const saved = Object.assign({}, state.settings, patch);
    for (const key of Object.keys(saved)) if (saved[key] === null) delete saved[key];
    state.settings = saved;
    return json(200, saved);
}
return json(404, {code: 404, message: 'no such endpoint'});
})();
"#;

/// Installs the fake API with two pools: `on-prem` (online, with an agent, chosen by a stack's
/// settings) and `gpu` (never seen).
fn fake_api() {
    let state = json!({
        "calls": [], "token": TOKEN, "used": ["p-1"], "settings": {},
        "pools": [
            {"id": "p-1", "name": "on-prem", "description": "Racks in Lyon", "created": 1_700_000_000,
             "lastSeen": 1_800_000_000, "status": "online"},
            {"id": "p-2", "name": "gpu", "description": "", "created": 1_700_000_000,
             "lastSeen": 0, "status": "offline"}
        ],
        "agents": {"p-1": [{"version": "0.1.0", "platform": "linux", "hostname": "rack-7",
            "ip": "", "pid": "4242", "lastSeen": 1_800_000_000, "status": "online",
            "running": [{"project": "website", "stack": "dev", "version": 3}]}]}
    });
    let state = js_sys::JSON::parse(&state.to_string()).expect("state");
    js_sys::Reflect::set(&window(), &"__pools".into(), &state).expect("state set");
    let fetch = js_sys::Function::new_with_args("input, init", FAKE_FETCH);
    js_sys::Reflect::set(&window(), &"fetch".into(), &fetch).expect("fetch replaced");
}

/// The calls made, as `METHOD path [body]`.
fn calls() -> Vec<String> {
    let state = js_sys::Reflect::get(&window(), &"__pools".into()).expect("state");
    let calls = js_sys::Reflect::get(&state, &"calls".into()).expect("calls");
    js_sys::Array::from(&calls)
        .iter()
        .filter_map(|call| call.as_string())
        .collect()
}

/// A signed-in user whose role in `acme` is `role`.
fn user(role: &str) -> User {
    serde_json::from_value(json!({
        "id": "u-1", "githubLogin": "pat",
        "organizations": [{"githubLogin": "acme", "name": "Acme", "role": role}]
    }))
    .expect("a user")
}

/// Opens the Agent pools page of `acme` as a user with `role` there.
fn open_page(role: &str) -> HtmlElement {
    fake_api();
    window()
        .history()
        .expect("history")
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("/orgs/acme/agent-pools"),
        )
        .expect("address set");
    let user = user(role);
    let root = container();
    let mounted = mount_to(root.clone(), move || {
        provide_context(Session::new(Some("test-token".into()), Some(user)));
        view! {
            <Router>
                <Routes routes=POOLS_PAGE fallback=|| "not found".into_any() />
            </Router>
        }
    });
    std::mem::forget(mounted);
    root
}

static POOLS_PAGE: &[Route] = &[Route::leaf("/orgs/:org/agent-pools", || {
    view! { <AgentPoolsPage /> }.into_any()
})];

/// Waits until `ready` holds, failing after a while.
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..100 {
        if ready() {
            return;
        }
        settle().await;
    }
    panic!("never: {what}");
}

fn button_named(root: &Element, name: &str) -> Option<HtmlElement> {
    all(root, "button")
        .into_iter()
        .find(|b| b.get_attribute("aria-label").unwrap_or_else(|| text(b)) == name)
        .map(JsCast::unchecked_into)
}

fn button(root: &Element, name: &str) -> HtmlElement {
    button_named(root, name).unwrap_or_else(|| panic!("no button {name:?}"))
}

fn alerts(root: &Element) -> Vec<String> {
    all(root, "[role=alert]").iter().map(text).collect()
}

/// The pools listed, by their headings.
fn pool_names(root: &Element) -> Vec<String> {
    all(root, ".pool h3").iter().map(text).collect()
}

/// The input under `root` whose `<label>` reads `wanted` (earlier tests' pages stay in the
/// document, with the same ids).
fn by_label(root: &Element, wanted: &str) -> Option<HtmlInputElement> {
    let label = all(root, "label").into_iter().find(|l| text(l) == wanted)?;
    let id = label.get_attribute("for")?;
    root.query_selector(&format!("[id='{id}']"))
        .expect("selector")
        .map(JsCast::unchecked_into)
}

fn input(root: &Element, wanted: &str) -> HtmlInputElement {
    by_label(root, wanted).unwrap_or_else(|| panic!("no input labelled {wanted:?}"))
}

fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    fire(input, "input");
}

#[wasm_bindgen_test]
async fn pools_are_listed_with_their_status_and_agents_on_demand() {
    let root = open_page("admin");
    until("the pools", || pool_names(&root).len() == 2).await;
    assert_eq!(pool_names(&root), ["on-prem", "gpu"]);
    let cards: Vec<String> = all(&root, ".pool-head").iter().map(text).collect();
    assert!(cards[0].contains("Racks in Lyon") && cards[0].contains("Online"));
    assert!(cards[1].contains("Offline") && cards[1].contains("Last seen never"));
    let seen = all(&root, ".pool-head time");
    assert_eq!(
        seen[0].get_attribute("datetime").as_deref(),
        Some("2027-01-15T08:00:00.000Z")
    );
    assert!(
        seen[0].get_attribute("title").is_some(),
        "the exact time on hover"
    );

    let toggle = button(&root, "Agents of on-prem");
    assert_eq!(
        toggle.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    toggle.click();
    until("the agents", || text(&root).contains("rack-7")).await;
    assert_eq!(
        toggle.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    let rows = all(&root, ".pool-agents tbody tr");
    assert_eq!(rows.len(), 1);
    let cells: Vec<String> = all(&rows[0], "td").iter().map(text).collect();
    assert_eq!(
        [&cells[..4], &cells[5..6]].concat(),
        ["rack-7", "0.1.0", "linux", "4242", "Online"]
    );
    let link = &all(&rows[0], "td a")[0];
    assert_eq!(text(link), "website/dev #3");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("/acme/website/dev/deployments/3")
    );
    assert_eq!(
        all(&rows[0], "time")[0]
            .get_attribute("datetime")
            .as_deref(),
        Some("2027-01-15T08:00:00.000Z")
    );
    assert!(calls().contains(&"GET /api/orgs/acme/agent-pools/p-1".to_owned()));

    button(&root, "Agents of gpu").click();
    until("no agents yet", || {
        text(&root).contains("No agent has connected to this pool yet.")
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_form_checks_the_name_and_description_as_the_admin_types() {
    let root = open_page("admin");
    until("the pools", || pool_names(&root).len() == 2).await;
    let name = input(&root, "Name");
    let description = input(&root, "Description");
    assert!(alerts(&root).is_empty(), "nothing before an edit");

    type_into(&name, "edge");
    type_into(&name, "   ");
    until("the name's error", || {
        alerts(&root) == ["Name is required."]
    })
    .await;
    assert_eq!(name.get_attribute("aria-invalid").as_deref(), Some("true"));
    type_into(&name, "edge");
    until("the error to go", || alerts(&root).is_empty()).await;

    type_into(&description, &"x".repeat(1025));
    until("the description's error", || {
        alerts(&root) == ["Description must be at most 1024 characters."]
    })
    .await;
    button(&root, "Create pool").click();
    settle().await;
    assert!(
        calls().iter().all(|c| !c.starts_with("POST")),
        "{:?}",
        calls()
    );

    // An untouched empty form says why only once the admin tries to create.
    type_into(&description, "");
    type_into(&name, "");
    settle().await;
    button(&root, "Create pool").click();
    until("the name's error", || {
        alerts(&root) == ["Name is required."]
    })
    .await;
    assert!(calls().iter().all(|c| !c.starts_with("POST")));
}

#[wasm_bindgen_test]
async fn a_new_pool_shows_its_token_and_command_once() {
    let root = open_page("admin");
    until("the pools", || pool_names(&root).len() == 2).await;
    type_into(&input(&root, "Name"), " edge ");
    type_into(&input(&root, "Description"), "Branch offices");
    button(&root, "Create pool").click();
    until("the token", || {
        by_label(&root, "Token of agent pool “edge”").is_some()
    })
    .await;
    assert_eq!(input(&root, "Token of agent pool “edge”").value(), TOKEN);
    assert!(text(&root).contains("Copy it now: it will not be shown again."));
    assert!(button_named(&root, "Copy the pool's token").is_some());
    let origin = window().location().origin().expect("origin");
    let command = all(&root, ".new-pool pre code")
        .iter()
        .map(text)
        .collect::<Vec<_>>();
    assert_eq!(
        command,
        [format!(
            "KEYLESS_AGENT_TOKEN={TOKEN} keyless-server agent --server {origin}"
        )]
    );
    assert!(button_named(&root, "Copy: Command to start an agent").is_some());
    assert!(
        calls().contains(
            &r#"POST /api/orgs/acme/agent-pools {"description":"Branch offices","name":"edge"}"#
                .to_owned()
        ),
        "{:?}",
        calls()
    );
    until("the new pool listed", || pool_names(&root).len() == 3).await;
    assert_eq!(
        input(&root, "Name").value(),
        "",
        "cleared for the next pool"
    );

    // A name the organization already has: the server's refusal, and no token.
    type_into(&input(&root, "Name"), "gpu");
    button(&root, "Create pool").click();
    until("the refusal", || !alerts(&root).is_empty()).await;
    assert_eq!(
        alerts(&root),
        ["The agent pool was not created. The organization already has an agent pool named 'gpu'"]
    );
    assert!(!text(&root).contains(TOKEN), "the token is shown once only");

    // Another visit to the page never shows it.
    let again = open_page("admin");
    until("the pools", || pool_names(&again).len() == 2).await;
    assert!(!text(&again).contains(TOKEN));
}

#[wasm_bindgen_test]
async fn a_pool_is_renamed_and_redescribed() {
    let root = open_page("admin");
    until("the pools", || pool_names(&root).len() == 2).await;
    button(&root, "Edit gpu").click();
    until("the edit form", || all(&root, ".pool-edit").len() == 1).await;
    let form = all(&root, ".pool-edit").remove(0);
    let name = input(&form, "Name");
    assert_eq!(name.value(), "gpu");
    type_into(&name, "");
    until("the name's error", || {
        text(&form).contains("Name is required.")
    })
    .await;
    type_into(&name, "gpu-a100");
    type_into(&input(&form, "Description"), "Training runs");
    button(&form, "Save pool").click();
    until("the renamed pool", || {
        pool_names(&root) == ["on-prem", "gpu-a100"]
    })
    .await;
    let patch =
        r#"PATCH /api/orgs/acme/agent-pools/p-2 {"description":"Training runs","name":"gpu-a100"}"#;
    assert!(calls().iter().any(|c| c == patch), "{:?}", calls());
    assert!(text(&root).contains("Training runs"));
}

#[wasm_bindgen_test]
async fn deleting_a_pool_that_stacks_choose_asks_again() {
    let root = open_page("admin");
    until("the pools", || pool_names(&root).len() == 2).await;
    button(&root, "Delete on-prem").click();
    until("the question", || {
        button_named(&root, "Delete pool").is_some()
    })
    .await;
    button(&root, "Delete pool").click();
    until("the refusal", || {
        button_named(&root, "Delete anyway").is_some()
    })
    .await;
    assert_eq!(
        alerts(&root),
        [
            "Agent pool 'p-1' is named by the deployment settings of website/prod; choose another pool for them first, or delete with force=true"
        ]
    );
    assert_eq!(pool_names(&root), ["on-prem", "gpu"]);
    button(&root, "Delete anyway").click();
    until("the pool to go", || pool_names(&root) == ["gpu"]).await;
    let deletes: Vec<String> = calls()
        .into_iter()
        .filter(|c| c.starts_with("DELETE"))
        .collect();
    assert_eq!(
        deletes,
        [
            "DELETE /api/orgs/acme/agent-pools/p-1",
            "DELETE /api/orgs/acme/agent-pools/p-1?force=true"
        ]
    );
}

#[wasm_bindgen_test]
async fn members_are_told_the_page_is_for_admins() {
    let root = open_page("member");
    until("the notice", || text(&root).contains(ADMINS_ONLY)).await;
    settle().await;
    assert!(calls().is_empty(), "{:?}", calls());
    assert!(by_label(&root, "Name").is_none());
}

// --- Settings → Deploy ---------------------------------------------------------------------

fn pool(id: &str, name: &str) -> (String, String) {
    (id.to_owned(), name.to_owned())
}

/// Mounts the Deploy panel of `acme/website/prod` with `settings`; an admin's panel is given
/// `pools` as the organization's.
fn open_panel(settings: Value, read_only: bool, pools: Vec<(String, String)>) -> HtmlElement {
    open_panel_with(settings, read_only, Ok(pools))
}

/// [`open_panel`], with the answer to reading the pools.
fn open_panel_with(
    settings: Value,
    read_only: bool,
    pools: Result<Vec<(String, String)>, ApiFailure>,
) -> HtmlElement {
    fake_api();
    let root = container();
    let mounted = mount_to(root.clone(), move || {
        provide_context(Session::new(Some("test-token".into()), None));
        provide_context(LazyParts::in_place());
        let agent_pools = (!read_only).then_some(pools);
        view! {
            <DeploySettingsForm
                stack=StackRef::new("acme", "website", "prod")
                settings
                read_only
                agent_pools
            />
        }
    });
    std::mem::forget(mounted);
    root
}

fn listed() -> Vec<(String, String)> {
    vec![pool("p-1", "on-prem"), pool("p-2", "gpu")]
}

/// The pool select of the panel in `root`.
fn pool_select(root: &Element) -> Element {
    root.query_selector("#deploy-agentPoolID")
        .expect("selector")
        .expect("the pool select")
}

/// The pool select's options as shown, and the one selected.
fn pool_choice(root: &Element) -> (Vec<String>, String) {
    let options = all(&pool_select(root), "option");
    let selected = options
        .iter()
        .find(|o| {
            js_sys::Reflect::get(o, &"selected".into())
                .ok()
                .and_then(|v| v.as_bool())
                == Some(true)
        })
        .map(text)
        .unwrap_or_default();
    (options.iter().map(text).collect(), selected)
}

fn choose_pool(root: &Element, value: &str) {
    let select = pool_select(root);
    js_sys::Reflect::set(&select, &"value".into(), &value.into()).expect("chosen");
    fire(&select, "change");
}

fn settings_posts() -> Vec<String> {
    calls()
        .into_iter()
        .filter(|c| c.starts_with("POST /api/stacks/"))
        .collect()
}

#[wasm_bindgen_test]
async fn an_admin_picks_a_pool_and_goes_back_to_the_servers_agents() {
    let root = open_panel(json!({}), false, listed());
    settle().await;
    let (options, selected) = pool_choice(&root);
    assert_eq!(options, [DEFAULT_AGENTS, "on-prem", "gpu"]);
    assert_eq!(selected, DEFAULT_AGENTS);
    assert!(!pool_select(&root).has_attribute("disabled"));

    choose_pool(&root, "p-2");
    settle().await;
    button(&root, "Save deployment configuration").click();
    until("saved", || {
        text(&root).contains("Deployment configuration saved")
    })
    .await;
    assert_eq!(
        settings_posts(),
        [r#"POST /api/stacks/acme/website/prod/deployments/settings {"agentPoolID":"p-2"}"#]
    );
    assert_eq!(pool_choice(&root).1, "gpu");

    choose_pool(&root, "");
    settle().await;
    button(&root, "Save deployment configuration").click();
    until("saved again", || settings_posts().len() == 2).await;
    assert_eq!(
        settings_posts()[1],
        r#"POST /api/stacks/acme/website/prod/deployments/settings {"agentPoolID":null}"#
    );
}

#[wasm_bindgen_test]
async fn the_servers_refusal_of_a_pool_lands_on_the_pool_choice() {
    // The pool was deleted after the list was read: the server refuses it.
    let root = open_panel(json!({}), false, vec![pool("p-gone", "retired")]);
    settle().await;
    choose_pool(&root, "p-gone");
    settle().await;
    button(&root, "Save deployment configuration").click();
    let message = "Agent pool names agent pool 'p-gone', which organization 'acme' does not have";
    until("the refusal", || text(&root).contains(message)).await;
    let select = pool_select(&root);
    assert_eq!(
        select.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    let error = root
        .query_selector("#deploy-agentPoolID-error")
        .expect("selector")
        .expect("the field's error");
    assert_eq!(text(&error), message);
    assert!(
        select
            .get_attribute("aria-describedby")
            .unwrap_or_default()
            .contains("deploy-agentPoolID-error")
    );
    // Choosing again clears it.
    choose_pool(&root, "");
    settle().await;
    assert!(
        root.query_selector("#deploy-agentPoolID-error")
            .expect("selector")
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn a_saved_pool_that_no_longer_exists_stays_chosen_and_says_so() {
    let root = open_panel(json!({"agentPoolID": "p-9"}), false, listed());
    settle().await;
    assert_eq!(
        pool_choice(&root),
        (
            vec![
                DEFAULT_AGENTS.to_owned(),
                "on-prem".into(),
                "gpu".into(),
                "p-9 (no longer exists)".into()
            ],
            "p-9 (no longer exists)".into()
        )
    );
}

#[wasm_bindgen_test]
async fn pools_that_could_not_be_read_are_said_so_and_the_saved_one_stays() {
    let failure = ApiFailure::Network("connection refused".into());
    let root = open_panel_with(json!({"agentPoolID": "p-1"}), false, Err(failure));
    settle().await;
    assert_eq!(
        pool_choice(&root),
        (
            vec![DEFAULT_AGENTS.to_owned(), "Agent pool p-1".into()],
            "Agent pool p-1".into()
        )
    );
    assert!(text(&root).contains(
        "The organization's agent pools could not be loaded. The Keyless API could not be \
         reached (connection refused)."
    ));
}

#[wasm_bindgen_test]
async fn members_see_the_saved_pool_read_only() {
    let root = open_panel(json!({"agentPoolID": "p-1"}), true, listed());
    settle().await;
    let (options, selected) = pool_choice(&root);
    assert_eq!(options, [DEFAULT_AGENTS, "Agent pool p-1"]);
    assert_eq!(selected, "Agent pool p-1");
    assert!(pool_select(&root).has_attribute("disabled"));
    assert!(calls().is_empty(), "{:?}", calls());
}
