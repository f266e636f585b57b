use std::time::Duration;

use keyless_api_types::stack::StackRef;
use keyless_api_types::{OidcConfig, PulumiOperation};
use leptos::prelude::*;
use serde_json::Value;

use super::{CopyButton, OperationSelect};
use crate::load::load_live;
use crate::session::use_session;
use crate::trust_view::{self, Note, TrustScope, commands, notes, pretty, text_at};

/// How long the form must rest before the trust is generated again.
const DEBOUNCE: Duration = Duration::from_millis(400);

/// "Set up trust": what each enabled cloud must trust so this stack's deployments get
/// credentials, generated from the form's current OIDC block (unsaved edits included, once they
/// validate) for the scope the admin picks.
#[component]
pub fn TrustSetup(
    /// The stack whose tokens the clouds should trust.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The form's OIDC block when it validates; `None` while it has errors.
    #[prop(into)]
    oidc: Signal<Option<OidcConfig>>,
    /// Whether the block differs from the saved settings (then it is sent; else the saved
    /// settings are read).
    #[prop(into)]
    changed: Signal<bool>,
    /// The operation of the narrowest scope.
    operation: RwSignal<PulumiOperation>,
) -> impl IntoView {
    let session = use_session();
    let scope = RwSignal::new(TrustScope::Stack);
    let request = Memo::new(move |_| {
        let block = oidc.get()?;
        let query = scope.get().query(operation.get());
        Some((changed.get().then_some(block), query))
    });

    // The request once the form has rested for `DEBOUNCE`.
    let settled = RwSignal::new(None);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let next = request.get();
        if let Some(pending) = timer.get_value() {
            pending.clear();
        }
        let handle = set_timeout_with_handle(move || settled.set(next), DEBOUNCE).ok();
        timer.set_value(handle);
    });
    on_cleanup(move || {
        if let Some(pending) = timer.try_get_value().flatten() {
            pending.clear();
        }
    });

    let generated = load_live(move || {
        let wanted = settled.get();
        let stack = stack.get();
        let client = session.client();
        async move {
            match wanted {
                None => Ok(None),
                Some((unsaved, query)) => client
                    .oidc_trust(&stack, &query, unsaved.as_ref())
                    .await
                    .map(|answer| answer.get("trust").cloned()),
            }
        }
    });

    view! {
        <section class="trust-setup" aria-labelledby="trust-setup-heading">
            <h4 id="trust-setup-heading">"Set up trust"</h4>
            <p class="section-hint">
                "Create this in each cloud so deployments of this stack can exchange their token. It follows the form as you type."
            </p>
            <ScopePicker
                scope
                on_change=Callback::new(move |picked| scope.set(picked))
                operation
            />
            {move || match (oidc.read().is_some(), generated.get()) {
                (false, _) => view! {
                    <p class="notice">"Fix the errors above to see the trust configuration."</p>
                }
                .into_any(),
                (true, None) => view! { <p class="status">"Generating…"</p> }.into_any(),
                (true, Some(Err(failure))) => view! {
                    <p class="alert" role="alert">
                        {format!("The trust configuration could not be generated. {failure}")}
                    </p>
                }
                .into_any(),
                (true, Some(Ok(trust))) => view! {
                    <TrustConfigView trust=trust.unwrap_or_default() />
                }
                .into_any(),
            }}
        </section>
    }
}

/// The scope picker: a radio group of how widely the generated trust admits tokens, the
/// narrowest with its operation.
#[component]
pub fn ScopePicker(
    /// The scope picked.
    #[prop(into)]
    scope: Signal<TrustScope>,
    /// Called with the scope the admin picks.
    #[prop(into)]
    on_change: Callback<TrustScope>,
    /// The operation of "This stack and operation".
    operation: RwSignal<PulumiOperation>,
) -> impl IntoView {
    let radio = move |choice: TrustScope| {
        let id = format!("trust-scope-{}", choice.key());
        view! {
            <div class="radio">
                <input type="radio" name="trust-scope" id=id.clone() value=choice.key()
                    prop:checked=move || scope.get() == choice
                    on:change=move |_| on_change.run(choice) />
                <label for=id>{choice.label()}</label>
                {(choice == TrustScope::StackOperation).then(|| view! {
                    <OperationSelect id="trust-scope-operation" operation
                        disabled=Signal::derive(move || scope.get() != TrustScope::StackOperation) />
                })}
            </div>
        }
    };
    view! {
        <fieldset class="scope-picker">
            <legend>"Who may use these credentials"</legend>
            {TrustScope::ALL.map(radio).into_iter().collect_view()}
        </fieldset>
    }
}

/// The generated trust of every enabled cloud (`keyless_trust::TrustConfig` as JSON).
#[component]
pub fn TrustConfigView(
    /// `{ "aws"?, "azure"?, "gcp"? }`.
    trust: Value,
) -> impl IntoView {
    let aws = trust
        .get("aws")
        .cloned()
        .map(|cloud| view! { <AwsTrust cloud /> });
    let azure = trust
        .get("azure")
        .cloned()
        .map(|cloud| view! { <AzureTrust cloud /> });
    let gcp = trust
        .get("gcp")
        .cloned()
        .map(|cloud| view! { <GcpTrust cloud /> });
    view! { <div class="trust-config">{aws}{azure}{gcp}</div> }
}

/// AWS: the IAM OIDC identity provider and the role's trust policy.
#[component]
fn AwsTrust(
    /// `keyless_trust::aws::AwsTrust` as JSON.
    cloud: Value,
) -> impl IntoView {
    let policy = cloud.get("trustPolicy").map(pretty).unwrap_or_default();
    view! {
        <section class="trust-cloud" aria-labelledby="trust-aws-heading">
            <h5 id="trust-aws-heading">"AWS"</h5>
            <NoteList notes=notes(&cloud) />
            <dl class="facts">
                <dt>"Identity provider URL"</dt>
                <dd><code>{text_at(&cloud, "/provider/url")}</code></dd>
                <dt>"Audience"</dt>
                <dd><code>{text_at(&cloud, "/provider/audience")}</code></dd>
            </dl>
            <p class="field-hint">{text_at(&cloud, "/provider/thumbprintNote")}</p>
            <CodeBlock label="The role's trust policy" text=policy />
            <CommandList label="aws commands" commands=commands(&cloud) />
        </section>
    }
}

/// Azure: the federated identity credentials to add to the app, and the flexible alternative.
#[component]
fn AzureTrust(
    /// `keyless_trust::azure::AzureTrust` as JSON.
    cloud: Value,
) -> impl IntoView {
    let credentials = cloud.get("credentials").cloned().unwrap_or_default();
    let count = credentials.as_array().map_or(0, Vec::len);
    let summary = match count {
        1 => "1 federated credential (Entra ID allows 20 per app).".to_owned(),
        n => format!("{n} federated credentials (Entra ID allows 20 per app)."),
    };
    let flexible = cloud.get("flexible").map(pretty).unwrap_or_default();
    view! {
        <section class="trust-cloud" aria-labelledby="trust-azure-heading">
            <h5 id="trust-azure-heading">"Azure"</h5>
            <p class="credential-count">{summary}</p>
            <NoteList notes=notes(&cloud) />
            <CodeBlock label="Federated credentials" text=pretty(&credentials) />
            <CodeBlock label="Or one flexible credential" text=flexible />
            <CommandList label="az commands" commands=commands(&cloud) />
        </section>
    }
}

/// Google Cloud: the workload identity provider and the service account's bindings.
#[component]
fn GcpTrust(
    /// `keyless_trust::gcp::GcpTrust` as JSON.
    cloud: Value,
) -> impl IntoView {
    let mapping = cloud
        .pointer("/provider/attributeMapping")
        .map(pretty)
        .unwrap_or_default();
    let audiences = cloud
        .pointer("/provider/oidc/allowedAudiences")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let bindings = cloud
        .pointer("/policy/bindings")
        .map(pretty)
        .unwrap_or_default();
    view! {
        <section class="trust-cloud" aria-labelledby="trust-gcp-heading">
            <h5 id="trust-gcp-heading">"Google Cloud"</h5>
            <NoteList notes=notes(&cloud) />
            <dl class="facts">
                <dt>"Issuer"</dt>
                <dd><code>{text_at(&cloud, "/provider/oidc/issuerUri")}</code></dd>
                <dt>"Allowed audience"</dt>
                <dd><code>{audiences}</code></dd>
                <dt>"Attribute condition"</dt>
                <dd><code>{text_at(&cloud, "/provider/attributeCondition")}</code></dd>
            </dl>
            <CodeBlock label="Attribute mapping" text=mapping />
            <CodeBlock label="Service account bindings" text=bindings />
            <CommandList label="gcloud commands" commands=commands(&cloud) />
        </section>
    }
}

/// A generated configuration's notes, each styled by its level.
#[component]
pub fn NoteList(
    /// The notes, most severe first.
    notes: Vec<Note>,
) -> impl IntoView {
    (!notes.is_empty()).then(|| {
        view! {
            <ul class="notes">
                {notes
                    .into_iter()
                    .map(|note| {
                        let level = note.level.name();
                        view! {
                            <li class=format!("note note-{level}")>
                                <span class="note-level">{format!("{level}: ")}</span>
                                {note.text}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// Text to copy (JSON, a command), shown as preformatted text with a copy button.
#[component]
pub fn CodeBlock(
    /// What the text is; names the block and its copy button.
    #[prop(into)]
    label: String,
    /// The text, shown as is.
    #[prop(into)]
    text: String,
) -> impl IntoView {
    let copy_label = format!("Copy: {label}");
    view! {
        <figure class="code-block">
            <figcaption>
                <span>{label}</span>
                <CopyButton text=text.clone() label=copy_label />
            </figcaption>
            <pre><code>{text}</code></pre>
        </figure>
    }
}

/// The CLI commands that create a configuration, in order.
#[component]
fn CommandList(
    /// What the list holds, e.g. "aws commands".
    #[prop(into)]
    label: String,
    /// The commands.
    commands: Vec<trust_view::Command>,
) -> impl IntoView {
    (!commands.is_empty()).then(|| {
        view! {
            <div class="commands">
                <h6>{label}</h6>
                {commands
                    .into_iter()
                    .map(|command| view! { <CodeBlock label=command.summary text=command.line /> })
                    .collect_view()}
            </div>
        }
    })
}
