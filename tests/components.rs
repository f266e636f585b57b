//! Component tests in a real browser: components are mounted into the document and found the
//! way a user finds them, by role, label and text.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::stack::StackRef;
use keyless_console::components::Switch;
use keyless_console::lazy::LazyParts;
use keyless_console::pages::deploy_settings::{
    DeploySettingsForm, READ_ONLY_NOTICE, SHOW_ASSISTANT,
};
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::tachys::view::Mountable;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

mod dom;

use dom::{all, by_label, container, fire, input, press, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

const GUID: &str = "8c3b2f1e-5d4a-4e6b-9a7c-1f2e3d4c5b6a";

// --- Finding things the way users do -------------------------------------------------------

/// The accessible name of a control named by its content or `aria-label`.
fn name(element: &Element) -> String {
    element
        .get_attribute("aria-label")
        .unwrap_or_else(|| text(element))
}

/// The element with `role` (explicit, or implied by the tag) and accessible `wanted` name.
fn by_role(root: &Element, role: &str, wanted: &str) -> Option<Element> {
    let selector = match role {
        "button" => "button:not([role]), [role=button]".to_owned(),
        other => format!("[role={other}]"),
    };
    all(root, &selector).into_iter().find(|e| name(e) == wanted)
}

fn switch(root: &Element, wanted: &str) -> HtmlButtonElement {
    by_role(root, "switch", wanted)
        .unwrap_or_else(|| panic!("no switch named {wanted:?}"))
        .unchecked_into()
}

/// The texts an input's `aria-describedby` points at.
fn description(input: &HtmlInputElement) -> String {
    input
        .get_attribute("aria-describedby")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|id| document().get_element_by_id(id))
        .map(|e| text(&e))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn is_invalid(input: &HtmlInputElement) -> bool {
    input.get_attribute("aria-invalid").as_deref() == Some("true")
}

fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    fire(input, "input");
}

fn checked(switch: &HtmlButtonElement) -> Option<String> {
    switch.get_attribute("aria-checked")
}

/// Mounts the Deploy panel for `acme/website/prod` with `settings`, as an admin or a member.
fn mount_panel(
    root: &HtmlElement,
    settings: Value,
    read_only: bool,
) -> leptos::mount::UnmountHandle<impl Mountable> {
    mount_to(root.clone(), move || {
        provide_context(Session::new(Some("test-token".into()), None));
        provide_context(LazyParts::in_place());
        view! {
            <DeploySettingsForm
                stack=StackRef::new("acme", "website", "prod")
                settings
                read_only
            />
        }
    })
}

// --- Switch --------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn switch_flips_on_click_space_and_enter() {
    let root = container();
    let (on, set_on) = signal(false);
    let _mounted = mount_to(root.clone(), move || {
        view! {
            <Switch label="Enable AWS Integration" checked=on on_change=Callback::new(move |v| set_on.set(v)) />
        }
    });
    let switch = switch(&root, "Enable AWS Integration");
    assert_eq!(checked(&switch).as_deref(), Some("false"));

    switch.click();
    settle().await;
    assert_eq!(
        checked(&switch).as_deref(),
        Some("true"),
        "click turns it on"
    );

    press(&switch, " ");
    settle().await;
    assert_eq!(
        checked(&switch).as_deref(),
        Some("false"),
        "Space turns it off"
    );

    press(&switch, "Enter");
    settle().await;
    assert_eq!(
        checked(&switch).as_deref(),
        Some("true"),
        "Enter turns it on"
    );

    press(&switch, "a");
    settle().await;
    assert_eq!(
        checked(&switch).as_deref(),
        Some("true"),
        "other keys do nothing"
    );
    assert!(on.get_untracked());
}

#[wasm_bindgen_test]
async fn a_disabled_switch_cannot_be_flipped() {
    let root = container();
    let (on, set_on) = signal(false);
    let _mounted = mount_to(root.clone(), move || {
        view! {
            <Switch
                label="Enable Azure Integration"
                checked=on
                on_change=Callback::new(move |v| set_on.set(v))
                disabled=true
            />
        }
    });
    let switch = switch(&root, "Enable Azure Integration");
    assert!(switch.disabled());
    switch.click();
    press(&switch, "Enter");
    press(&switch, " ");
    settle().await;
    assert_eq!(checked(&switch).as_deref(), Some("false"));
    assert!(!on.get_untracked());
}

// --- Deploy panel --------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn switching_a_cloud_on_opens_its_form() {
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    assert!(by_label(&root, "Tenant ID").is_none(), "closed while off");

    switch(&root, "Enable Azure Integration").click();
    settle().await;
    for label in ["Client ID", "Tenant ID", "Subscription ID"] {
        let field = input(&root, label);
        assert!(!field.disabled(), "{label} is editable");
    }
    assert!(by_label(&root, "Role ARN").is_none(), "AWS stays closed");
}

#[wasm_bindgen_test]
async fn the_oidc_assistant_opens_on_switching_a_cloud_on_or_on_request() {
    let assistant = |root: &HtmlElement| {
        root.query_selector(".oidc-assistant")
            .expect("selector")
            .is_some()
    };
    // Switched on here: the admin is setting it up, so the assistant opens at once.
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    assert!(!assistant(&root), "no cloud, no assistant");
    switch(&root, "Enable AWS Integration").click();
    settle().await;
    assert!(assistant(&root), "opened by switching AWS on");
    assert!(by_role(&root, "button", SHOW_ASSISTANT).is_none());

    // Loaded with a cloud on: offered, and shown once asked for.
    let saved = container();
    let settings = json!({"operationContext": {"oidc": {
        "aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "sessionName": "pulumi"}}}});
    let _saved = mount_panel(&saved, settings, false);
    settle().await;
    assert!(!assistant(&saved), "not built until asked for");
    let open = by_role(&saved, "button", SHOW_ASSISTANT).expect("the assistant's button");
    assert_eq!(
        open.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    open.unchecked_into::<HtmlElement>().click();
    settle().await;
    assert!(assistant(&saved), "shown once asked for");
}

#[wasm_bindgen_test]
async fn a_bad_tenant_id_shows_its_error_until_fixed() {
    let root = container();
    let settings = json!({"operationContext": {"oidc": {"azure": {
        "clientId": GUID, "tenantId": GUID, "subscriptionId": GUID}}}});
    let _mounted = mount_panel(&root, settings, false);
    settle().await;
    let tenant = input(&root, "Tenant ID");
    assert!(!is_invalid(&tenant));

    type_into(&tenant, "contoso.onmicrosoft.com");
    settle().await;
    assert!(is_invalid(&tenant), "marked invalid");
    assert!(
        description(&tenant).contains("Tenant ID must be a GUID like"),
        "error linked to the input: {}",
        description(&tenant)
    );
    // Only the edited field complains.
    assert!(!is_invalid(&input(&root, "Client ID")));

    type_into(&tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47");
    settle().await;
    assert!(!is_invalid(&tenant), "valid again");
    assert!(
        !description(&tenant).contains("must be a GUID"),
        "{}",
        description(&tenant)
    );
}

#[wasm_bindgen_test]
async fn the_session_name_shows_its_expansion_for_this_stack() {
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    switch(&root, "Enable AWS Integration").click();
    settle().await;
    let session_name = input(&root, "Session Name");
    type_into(&session_name, "pulumi-${stack.name}-${deployment.version}");
    settle().await;
    assert!(
        description(&session_name).contains("For update #1 of this stack: pulumi-prod-1"),
        "{}",
        description(&session_name)
    );

    type_into(&session_name, "pulumi ${stack}");
    settle().await;
    assert!(!description(&session_name).contains("For update #1"));
    assert!(is_invalid(&session_name));
}

#[wasm_bindgen_test]
async fn policy_arn_rows_are_added_labelled_and_removed() {
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    switch(&root, "Enable AWS Integration").click();
    settle().await;
    let add: HtmlButtonElement = by_role(&root, "button", "Add Policy ARN")
        .expect("add button")
        .unchecked_into();
    add.click();
    add.click();
    settle().await;
    let second = input(&root, "Policy ARN 2");
    type_into(&second, "arn:aws:iam::aws:policy/ReadOnlyAccess");
    settle().await;
    assert!(
        input(&root, "Policy ARN 2").is_same_node(Some(&second)),
        "typing into a row keeps its input"
    );

    let remove: HtmlButtonElement = by_role(&root, "button", "Remove Policy ARN 1")
        .expect("remove button")
        .unchecked_into();
    remove.click();
    settle().await;
    assert!(by_label(&root, "Policy ARN 2").is_none());
    assert_eq!(
        input(&root, "Policy ARN 1").value(),
        "arn:aws:iam::aws:policy/ReadOnlyAccess"
    );
}

#[wasm_bindgen_test]
async fn saving_an_invalid_form_is_refused_and_shows_every_error() {
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    switch(&root, "Enable AWS Integration").click();
    settle().await;
    let role = input(&root, "Role ARN");
    assert!(!is_invalid(&role), "untouched fields do not complain yet");

    let save: HtmlButtonElement = by_role(&root, "button", "Save deployment configuration")
        .expect("save button")
        .unchecked_into();
    save.click();
    settle().await;
    assert!(is_invalid(&role));
    assert!(description(&role).contains("Role ARN is required"));
    assert!(is_invalid(&input(&root, "Session Name")));
    let summary = all(&root, "[role=alert]")
        .into_iter()
        .map(|e| text(&e))
        .collect::<String>();
    assert!(
        summary.contains("The deployment configuration was not saved."),
        "{summary}"
    );
    assert!(
        by_role(&root, "button", "Saving…").is_none(),
        "nothing was sent"
    );
}

#[wasm_bindgen_test]
async fn members_see_the_panel_read_only() {
    let root = container();
    let settings = json!({"operationContext": {"oidc": {
        "aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "sessionName": "pulumi"},
        "azure": {"clientId": GUID, "tenantId": GUID, "subscriptionId": GUID}}}});
    let _mounted = mount_panel(&root, settings, true);
    settle().await;

    assert!(text(&root).contains(READ_ONLY_NOTICE));
    for name in [
        "Enable AWS Integration",
        "Enable Azure Integration",
        "Enable Google Cloud Integration",
    ] {
        assert!(switch(&root, name).disabled(), "{name} is disabled");
    }
    for label in ["Role ARN", "Session Name", "Client ID", "Tenant ID"] {
        assert!(input(&root, label).disabled(), "{label} is disabled");
    }
    assert_eq!(
        input(&root, "Role ARN").value(),
        "arn:aws:iam::123456789012:role/deploy"
    );
    assert!(by_role(&root, "button", "Save deployment configuration").is_none());
    assert!(
        by_role(&root, "button", "Add Policy ARN")
            .is_some_and(|b| b.unchecked_into::<HtmlButtonElement>().disabled())
    );
}

// --- Push to deploy ------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_bad_path_glob_shows_its_error_on_its_row() {
    let root = container();
    let settings = json!({
        "sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "branch": "refs/heads/main"}},
        "gitHub": {"repository": "acme/website", "paths": ["infra/**", "!infra/docs/**"]}});
    let _mounted = mount_panel(&root, settings, false);
    settle().await;
    assert_eq!(input(&root, "Path 2").value(), "!infra/docs/**");

    let add: HtmlButtonElement = by_role(&root, "button", "Add Path")
        .expect("add button")
        .unchecked_into();
    add.click();
    settle().await;
    let third = input(&root, "Path 3");
    type_into(&third, "src/[abc");
    settle().await;
    assert!(is_invalid(&third), "marked invalid");
    assert!(
        description(&third).contains("Path 3 has a [ without its ]"),
        "error linked to the row: {}",
        description(&third)
    );
    assert!(!is_invalid(&input(&root, "Path 1")), "other rows are fine");

    type_into(&third, "src/[abc]/**");
    settle().await;
    assert!(!is_invalid(&third), "valid again");
}

#[wasm_bindgen_test]
async fn a_bad_repository_shows_its_error_and_switches_show_defaults() {
    let root = container();
    let _mounted = mount_panel(&root, json!({}), false);
    settle().await;
    // As the server applies them: commits deploy, pull requests preview, tags do not.
    assert_eq!(
        checked(&switch(&root, "Deploy commits")).as_deref(),
        Some("true")
    );
    assert_eq!(
        checked(&switch(&root, "Preview pull requests")).as_deref(),
        Some("true")
    );
    assert_eq!(
        checked(&switch(&root, "Deploy tags")).as_deref(),
        Some("false")
    );

    let repository = input(&root, "Repository");
    type_into(&repository, "acme");
    settle().await;
    assert!(is_invalid(&repository));
    assert!(
        description(&repository).contains("Repository must be owner/repo, like acme/website"),
        "{}",
        description(&repository)
    );
    type_into(&repository, "acme/website");
    settle().await;
    assert!(!is_invalid(&repository), "{}", description(&repository));
}

#[wasm_bindgen_test]
async fn members_see_push_to_deploy_read_only() {
    let root = container();
    let settings = json!({"gitHub": {"repository": "acme/website", "paths": ["infra/**"]}});
    let _mounted = mount_panel(&root, settings, true);
    settle().await;
    assert_eq!(input(&root, "Repository").value(), "acme/website");
    for label in ["Repository", "Branch", "Path 1"] {
        assert!(input(&root, label).disabled(), "{label} is disabled");
    }
    for name in ["Deploy commits", "Preview pull requests", "Deploy tags"] {
        assert!(switch(&root, name).disabled(), "{name} is disabled");
    }
}
