//! The OIDC setup assistant's components in a real browser, found by role, label and text.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::trust::ScopeKind;
use keyless_api_types::trust::{Explained, Verdict};
use keyless_api_types::{Cloud, CloudResult, OidcTestRun, PulumiOperation};
use keyless_console::components::{OidcTestOutcome, ScopePicker, TrustConfigView};
use leptos::mount::mount_to;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlInputElement};

mod dom;

use dom::{all, container, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

/// The input whose `<label>` reads `wanted`.
fn input(root: &Element, wanted: &str) -> HtmlInputElement {
    let label = all(root, "label")
        .into_iter()
        .find(|l| text(l) == wanted)
        .unwrap_or_else(|| panic!("no label {wanted:?}"));
    let id = label.get_attribute("for").expect("for");
    document()
        .get_element_by_id(&id)
        .expect("labelled input")
        .unchecked_into()
}

fn button_named(root: &Element, wanted: &str) -> Option<Element> {
    all(root, "button").into_iter().find(|b| {
        b.get_attribute("aria-label")
            .unwrap_or_else(|| text(b))
            .eq(wanted)
    })
}

#[wasm_bindgen_test]
async fn scope_picker_checks_the_scope_picked_and_enables_the_operation_only_for_its_scope() {
    let root = container();
    let scope = RwSignal::new(ScopeKind::Stack);
    let operation = RwSignal::new(PulumiOperation::Update);
    let _mounted = mount_to(root.clone(), move || {
        view! { <ScopePicker scope on_change=Callback::new(move |s| scope.set(s)) operation /> }
    });
    settle().await;
    let legend = all(&root, "fieldset > legend");
    assert_eq!(legend.len(), 1, "a radio group with a legend");
    assert!(input(&root, "This stack, all operations").checked());
    let operation_select = document()
        .get_element_by_id("trust-scope-operation")
        .expect("operation select");
    assert!(operation_select.has_attribute("disabled"));

    input(&root, "Organization").click();
    settle().await;
    assert_eq!(scope.get_untracked(), ScopeKind::Org);
    assert!(input(&root, "Organization").checked());
    assert!(!input(&root, "This stack, all operations").checked());

    input(&root, "This stack and operation").click();
    settle().await;
    assert_eq!(scope.get_untracked(), ScopeKind::StackOperation);
    assert!(!operation_select.has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn generated_trust_shows_the_policy_the_azure_count_and_warnings_with_copy_buttons() {
    let root = container();
    let trust = json!({
        "aws": {
            "provider": {"url": "https://keyless.example/oidc", "hostPath": "keyless.example/oidc",
                "audience": "acme", "arn": "arn:aws:iam::1:oidc-provider/keyless.example/oidc",
                "thumbprintNote": "AWS ignores thumbprints for this issuer."},
            "trustPolicy": {"Version": "2012-10-17", "Statement": [{
                "Sid": "KeylessDeployments", "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/keyless.example/oidc"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"keyless.example/oidc:aud": "acme"}}
            }]},
            "commands": [{"summary": "Create the role", "line": "aws iam create-role --role-name x"}],
            "notes": [{"level": "info", "text": "Tokens are for acme."}]
        },
        "azure": {
            "credentials": [
                {"name": "a", "issuer": "i", "subject": "s1", "audiences": ["acme"], "description": ""},
                {"name": "b", "issuer": "i", "subject": "s2", "audiences": ["acme"], "description": ""},
                {"name": "c", "issuer": "i", "subject": "s3", "audiences": ["acme"], "description": ""}
            ],
            "flexible": {"name": "f", "issuer": "i", "subject": "", "audiences": ["acme"], "description": ""},
            "commands": [],
            "notes": [{"level": "warning", "text": "18 of the app's 20 federated credentials."}]
        }
    });
    let _mounted = mount_to(
        root.clone(),
        move || view! { <TrustConfigView trust=trust.clone() /> },
    );
    settle().await;

    let all_text = text(&root);
    assert!(
        all_text.contains("sts:AssumeRoleWithWebIdentity"),
        "{all_text}"
    );
    assert!(all_text.contains("3 federated credentials"), "{all_text}");
    let policy = all(&root, "pre code")
        .into_iter()
        .map(|c| c.text_content().unwrap_or_default())
        .find(|c| c.contains("\"Version\": \"2012-10-17\""))
        .expect("the trust policy as indented JSON");
    assert!(policy.contains("keyless.example/oidc:aud"));
    let warning = all(&root, ".note-warning");
    assert_eq!(warning.len(), 1);
    assert!(text(&warning[0]).contains("18 of the app's 20"));
    assert!(button_named(&root, "Copy: The role's trust policy").is_some());
    assert!(button_named(&root, "Copy: Create the role").is_some());
    assert!(
        all(&root, "[role=status][aria-live=polite]").len() >= 2,
        "copy buttons announce in live regions"
    );
}

#[wasm_bindgen_test]
async fn a_refused_test_shows_the_explanation_the_verdict_and_the_claims() {
    let root = container();
    let run = OidcTestRun {
        id: "t1".into(),
        requested_by: "alice".into(),
        created: "2026-11-25T19:00:00Z".into(),
        operation: PulumiOperation::Update,
        claims: json!({"sub": "pulumi:deploy:org:acme:project:website:stack:prod:operation:update", "deployment": 0}),
        results: vec![CloudResult {
            cloud: Cloud::Aws,
            success: false,
            identity: None,
            expires_at: None,
            code: Some("Unreachable".into()),
            message: Some("could not talk to STS".into()),
            explanation: Some("Keyless could not reach the AWS STS endpoint.".into()),
            verdict: Some(Explained::Verdict(Verdict::rejected(
                "StringEquals aud",
                "aud is acme, the policy wants Acme",
                "lowercase the audience",
            ))),
        }],
    };
    let _mounted = mount_to(
        root.clone(),
        move || view! { <OidcTestOutcome run=run.clone() /> },
    );
    settle().await;
    let shown = text(&root);
    for wanted in [
        "AWS: refused",
        "Unreachable",
        "Keyless could not reach the AWS STS endpoint.",
        "Rejected",
        "StringEquals aud",
        "lowercase the audience",
    ] {
        assert!(shown.contains(wanted), "{wanted:?} in {shown}");
    }
    let claims = all(&root, "table.claims tbody tr");
    assert_eq!(claims.len(), 2);
    assert!(text(&root).contains("pulumi:deploy:org:acme"));
}
