//! `/logs/open`: opens a log file — one downloaded from a deployment or from GitHub Actions, or
//! any text log — in the log viewer, on this computer only (nothing is uploaded). The file is
//! streamed into the viewer as it is read, the first lines shown at once. The viewer is a module
//! of its own, fetched when a file is chosen: a first visit loads only the file picker.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::components::{LiveLog, LogViewer, PageTitle};
use crate::lazy::lazy_part;
use crate::log::LogText;
use crate::log::stream;

/// Reads a log file into the viewer. Marks `keyless-log-open` when the file starts to be read,
/// so that the browser's performance tools show the time to first paint after it.
#[component]
pub fn LogFilePage() -> impl IntoView {
    let log = LiveLog::new();
    let name = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    // Which file is being read: choosing another abandons the read of the one before.
    let reading = StoredValue::new(0_u64);
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
        reading.update_value(|n| *n += 1);
        let this_read = reading.get_value();
        if let Some(performance) = window().performance() {
            let _ = performance.mark("keyless-log-open");
        }
        log.update(|current| *current = LogText::new());
        log.complete.set(false);
        name.set(Some(file_name.clone()));
        error.set(None);
        spawn_local(async move {
            let wanted = move || reading.try_get_value() == Some(this_read);
            match stream::read_into(&file.stream(), log, wanted).await {
                Ok(true) => log.complete.set(true),
                Ok(false) => {}
                Err(why) => error.set(Some(format!("{file_name} could not be read: {why}"))),
            }
        });
    };
    let file_name = Signal::derive(move || name.get().unwrap_or_else(|| "log.txt".into()));
    provide_context(ChosenFile {
        log,
        name: file_name,
    });
    view! {
        <PageTitle text="Open a log file" />
        <div class="page-header">
            <h1>"Open a log file"</h1>
            <p class="lead">
                "View a downloaded deployment log, a GitHub Actions log, or any text log, with search, deep links and colours. "
                "The file stays on this computer."
            </p>
        </div>
        <div class="field">
            <label for="log-file">"Log file"</label>
            <input id="log-file" type="file" accept=".log,.txt,text/plain" on:change=on_change />
        </div>
        {move || error.get().map(|text| view! { <p class="alert" role="alert">{text}</p> })}
        <Show when=move || name.get().is_some()>
            {lazy_part(|parts| parts.log_file_viewer, "log viewer")}
        </Show>
    }
}

/// The file being read, for [`LogFileViewer`].
#[derive(Clone, Copy)]
struct ChosenFile {
    log: LiveLog,
    name: Signal<String>,
}

/// The viewer of the file chosen on the page around it.
#[component]
pub fn LogFileViewer() -> impl IntoView {
    let file = expect_context::<ChosenFile>();
    view! { <LogViewer log=file.log file_name=file.name /> }
}
