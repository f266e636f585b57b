//! Asking before unsaved changes are lost: on closing or reloading the tab (`beforeunload`), on
//! in-app link clicks and on sign-out.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::MouseEvent;

use crate::router::in_app_link;

/// The question asked before leaving with unsaved changes.
pub const LEAVE_QUESTION: &str = "You have unsaved changes. Leave without saving?";

/// Whether some form on the page has unsaved changes.
#[derive(Clone, Copy)]
pub struct UnsavedChanges {
    dirty: RwSignal<bool>,
}

impl UnsavedChanges {
    /// Marks whether there are unsaved changes.
    pub fn set(&self, dirty: bool) {
        self.dirty.set(dirty);
    }

    /// Whether leaving may go ahead: true without unsaved changes, else the user's answer.
    pub fn confirm_leave(&self) -> bool {
        !self.dirty.get_untracked()
            || window()
                .confirm_with_message(LEAVE_QUESTION)
                .unwrap_or(true)
    }
}

/// Provides [`UnsavedChanges`] and installs the page-wide listeners that consult it.
pub fn provide_unsaved_changes() -> UnsavedChanges {
    let guard = UnsavedChanges {
        dirty: RwSignal::new(false),
    };
    provide_context(guard);

    // The handle is kept for the app's lifetime.
    let _ = window_event_listener(ev::beforeunload, move |event| {
        if guard.dirty.get_untracked() {
            event.prevent_default();
            event.set_return_value(LEAVE_QUESTION);
        }
    });

    // Runs in the capture phase, before the router's own click handler on `window`, which
    // leaves alone clicks whose default was prevented.
    let on_click = Closure::<dyn Fn(MouseEvent)>::new(move |event: MouseEvent| {
        if !guard.dirty.get_untracked() || !is_in_app_navigation(&event) {
            return;
        }
        if !guard.confirm_leave() {
            event.prevent_default();
            event.stop_propagation();
        }
    });
    let _ = document().add_event_listener_with_callback_and_bool(
        "click",
        on_click.as_ref().unchecked_ref(),
        true,
    );
    on_click.forget();
    guard
}

/// Whether a click follows a link to another page of this app (other origins and new tabs are
/// covered by `beforeunload`, or leave this page alone).
fn is_in_app_navigation(event: &MouseEvent) -> bool {
    in_app_link(event).is_some_and(|anchor| {
        let location = window().location();
        location.href().is_ok_and(|here| here != anchor.href())
    })
}
