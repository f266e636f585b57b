//! `/logs/open`: opens a log file — one downloaded from a deployment, or any text log — in the
//! log viewer, on this computer only (nothing is uploaded).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;

use crate::components::{LiveLog, LogViewer, PageTitle};
use crate::log::LogText;

/// The bytes read before the first paint.
const FIRST_PIECE: usize = 64 * 1024;
/// The bytes read between two frames after that.
const PIECE: usize = 4 * 1024 * 1024;

/// Lets the browser paint.
async fn sleep_a_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

/// Reads a log file into the viewer. Marks `keyless-log-data` when the file's text is in
/// memory, so the browser's performance tools show the time to first paint after it.
#[component]
pub fn LogFilePage() -> impl IntoView {
    let log = LiveLog::new();
    let name = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        let file_name = file.name();
        spawn_local(async move {
            match JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
            {
                Some(text) => {
                    if let Some(performance) = window().performance() {
                        let _ = performance.mark("keyless-log-data");
                    }
                    log.update(|current| *current = LogText::new());
                    log.complete.set(false);
                    name.set(Some(file_name));
                    error.set(None);
                    // The first screenful shows at once; the rest is read in pieces between
                    // frames, the viewer growing as if the log were live.
                    let mut from = 0;
                    let mut piece = FIRST_PIECE;
                    while from < text.len() {
                        let to = LogText::chunk_end(&text, from + piece);
                        log.update(|current| current.push_raw(&text[from..to]));
                        from = to;
                        piece = PIECE;
                        sleep_a_frame().await;
                    }
                    log.complete.set(true);
                }
                None => error.set(Some(format!("{file_name} could not be read as text."))),
            }
        });
    };
    let file_name = Signal::derive(move || name.get().unwrap_or_else(|| "log.txt".into()));
    view! {
        <PageTitle text="Open a log file" />
        <div class="page-header">
            <h1>"Open a log file"</h1>
            <p class="lead">
                "View a downloaded deployment log, or any text log, with search, deep links and colours. "
                "The file stays on this computer."
            </p>
        </div>
        <div class="field">
            <label for="log-file">"Log file"</label>
            <input id="log-file" type="file" accept=".log,.txt,text/plain" on:change=on_change />
        </div>
        {move || error.get().map(|text| view! { <p class="alert" role="alert">{text}</p> })}
        <Show when=move || name.get().is_some()>
            <LogViewer log file_name />
        </Show>
    }
}
