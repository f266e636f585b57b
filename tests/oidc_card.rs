//! The OIDC card in a real browser: read from the executor's marker lines, a refusal with its
//! "Explain this failure" disclosure.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::stack::StackRef;
use keyless_console::components::{LiveLog, OidcCard};
use keyless_console::lazy::LazyParts;
use keyless_console::log::oidc::STEP_NAME;
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Event, HtmlElement, HtmlTextAreaElement};

mod dom;

use dom::{all, container, settle, text, wait};

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = r#"##[keyless:oidc-token] {"issuer":"http://k/oidc","subject":"pulumi:deploy:org:acme","audience":"acme","expiresAt":"2026-11-25T17:54:00Z","header":{"alg":"RS256"},"claims":{"aud":"acme","exp":1795629240,"iss":"http://k/oidc","sub":"pulumi:deploy:org:acme"}}"#;
const FAILURE: &str = r#"##[keyless:oidc-failure] {"cloud":"azure","code":"AADSTS70021","message":"No matching federated identity record found","explanation":"Add a federated credential.","presented":{"iss":"http://k/oidc","aud":"acme","sub":"pulumi:deploy:org:acme"}}"#;

/// Mounts the card over a credentials step printing `lines`.
fn mount_card(root: &HtmlElement, lines: &[&str]) -> impl Sized + use<> {
    let log = LiveLog::new();
    log.update(|text| {
        text.push_header(STEP_NAME, None);
        for line in lines {
            text.push_line(line, None);
        }
    });
    mount_to(root.clone(), move || {
        provide_context(Session::new(Some("test-token".into()), None));
        provide_context(LazyParts::in_place());
        let stack = Signal::derive(|| Some(StackRef::new("acme", "website", "dev")));
        view! { <OidcCard log stack /> }
    })
}

#[wasm_bindgen_test]
async fn a_refusal_shows_its_reason_and_explains_pasted_trust() {
    let root = container();
    let _mounted = mount_card(&root, &["Azure said: No matching", TOKEN, FAILURE]);
    settle().await;
    let shown = text(&root);
    for wanted in [
        "Azure did not grant credentials",
        "Add a federated credential.",
        "AADSTS70021",
        "iss http://k/oidc, aud acme, sub pulumi:deploy:org:acme",
        "Explain this failure",
        "Decoded claims",
    ] {
        assert!(shown.contains(wanted), "{wanted:?} in {shown}");
    }
    assert!(!shown.contains("##[keyless"), "{shown}");
    // What the disclosure holds is built (and, split, fetched) only once it is opened.
    let details = root
        .query_selector("details.pasted-trust")
        .expect("selector")
        .expect("the disclosure");
    assert!(
        root.query_selector("#explain-failure-trust")
            .expect("selector")
            .is_none(),
        "nothing inside before it is opened"
    );
    details.set_attribute("open", "").expect("opened");
    // The toggle event is a task of its own.
    wait(50).await;
    let label = root
        .query_selector("label[for=explain-failure-trust]")
        .expect("selector")
        .expect("label");
    assert_eq!(text(&label), "Paste your trust configuration (JSON)");
    let area: HtmlTextAreaElement = root
        .query_selector("#explain-failure-trust")
        .expect("selector")
        .expect("textarea")
        .unchecked_into();
    let explain: HtmlElement = all(&root, "button")
        .into_iter()
        .find(|b| text(b) == "Explain")
        .expect("the Explain button")
        .unchecked_into();
    explain.click();
    settle().await;
    assert!(text(&root).contains("Paste the configuration first."));
    area.set_value("{ not json");
    area.dispatch_event(&Event::new("input").expect("event"))
        .expect("dispatched");
    explain.click();
    settle().await;
    let error = root
        .query_selector("#explain-failure-trust-error")
        .expect("selector")
        .expect("the error beside the textarea");
    assert!(
        text(&error).starts_with("This is not JSON"),
        "{}",
        text(&error)
    );
    assert_eq!(
        area.get_attribute("aria-describedby").as_deref(),
        Some("explain-failure-trust-error")
    );
}

#[wasm_bindgen_test]
async fn without_markers_there_is_no_card_and_without_a_cloud_nothing_to_explain() {
    let root = container();
    let _plain = mount_card(
        &root,
        &["Minted an OIDC token for s (issuer i), in X and y"],
    );
    settle().await;
    assert_eq!(text(&root), "");
    let other = container();
    let unreachable = FAILURE.replace(r#""cloud":"azure""#, r#""cloud":null"#);
    let _mounted = mount_card(&other, &[unreachable.as_str()]);
    settle().await;
    assert!(
        text(&other).contains("The exchange failed"),
        "{}",
        text(&other)
    );
    assert!(!text(&other).contains("Explain this failure"));
}
