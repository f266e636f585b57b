//! Reusable UI pieces, one component per concept.

mod list_field;
mod page_title;
mod switch;
mod tabs;
mod text_field;

pub use list_field::ListField;
pub use page_title::PageTitle;
pub use switch::Switch;
pub use tabs::{Tab, TabNav};
pub use text_field::TextField;

/// Moves keyboard focus to the element with `id`, when it is on the page.
pub fn focus_by_id(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = leptos::prelude::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
