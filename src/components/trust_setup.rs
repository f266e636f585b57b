//! "Set up trust": what each enabled cloud must trust, generated from the form as it is.

use std::time::Duration;

use keyless_api_types::stack::StackRef;
use keyless_api_types::trust::{Command, Note, ScopeKind};
use keyless_api_types::{Cloud, OidcConfig, PulumiOperation};
use leptos::prelude::*;
use serde_json::Value;

use super::{CopyButton, OperationSelect};
use crate::load::load_live;
use crate::session::use_session;
use crate::trust_view::{CloudTrust, cloud_sections, scope_label};

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
    let scope = RwSignal::new(ScopeKind::Stack);
    let request = Memo::new(move |_| {
        let block = oidc.get()?;
        let scope = scope.get().with(operation.get());
        Some((changed.get().then_some(block), scope))
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
                Some((unsaved, scope)) => client
                    .oidc_trust(&stack, scope, unsaved.as_ref())
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
    scope: Signal<ScopeKind>,
    /// Called with the scope the admin picks.
    #[prop(into)]
    on_change: Callback<ScopeKind>,
    /// The operation of "This stack and operation".
    operation: RwSignal<PulumiOperation>,
) -> impl IntoView {
    let radio = move |choice: ScopeKind| {
        let id = format!("trust-scope-{}", choice.key());
        view! {
            <div class="radio">
                <input type="radio" name="trust-scope" id=id.clone() value=choice.key()
                    prop:checked=move || scope.get() == choice
                    on:change=move |_| on_change.run(choice) />
                <label for=id>{scope_label(choice)}</label>
                {(choice == ScopeKind::StackOperation).then(|| view! {
                    <OperationSelect id="trust-scope-operation" operation
                        disabled=Signal::derive(move || scope.get() != ScopeKind::StackOperation) />
                })}
            </div>
        }
    };
    view! {
        <fieldset class="scope-picker">
            <legend>"Who may use these credentials"</legend>
            {ScopeKind::ALL.map(radio).into_iter().collect_view()}
        </fieldset>
    }
}

/// The generated trust of every enabled cloud (`keyless_trust::TrustConfig` as JSON).
#[component]
pub fn TrustConfigView(
    /// `{ "aws"?, "azure"?, "gcp"? }`.
    trust: Value,
) -> impl IntoView {
    view! {
        <div class="trust-config">
            {cloud_sections(&trust)
                .into_iter()
                .map(|section| view! { <CloudTrustSection section /> })
                .collect_view()}
        </div>
    }
}

/// One cloud's trust: its notes, the values to enter, the JSON to paste and the commands.
#[component]
fn CloudTrustSection(
    /// The cloud's section.
    section: CloudTrust,
) -> impl IntoView {
    let heading_id = format!("trust-{}-heading", section.cloud.key());
    let labelled_by = heading_id.clone();
    let facts = (!section.facts.is_empty()).then(|| {
        view! {
            <dl class="facts">
                {section
                    .facts
                    .into_iter()
                    .map(|(label, value)| view! { <dt>{label}</dt><dd><code>{value}</code></dd> })
                    .collect_view()}
            </dl>
        }
    });
    let commands_label = match section.cloud {
        Cloud::Aws => "aws commands",
        Cloud::Azure => "az commands",
        Cloud::Gcp => "gcloud commands",
    };
    view! {
        <section class="trust-cloud" aria-labelledby=labelled_by>
            <h5 id=heading_id>{section.cloud.name()}</h5>
            {section.summary.map(|summary| view! { <p class="trust-summary">{summary}</p> })}
            <NoteList notes=section.notes />
            {facts}
            {section
                .blocks
                .into_iter()
                .map(|(label, text)| view! { <CodeBlock label text /> })
                .collect_view()}
            <CommandList label=commands_label commands=section.commands />
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
    commands: Vec<Command>,
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
