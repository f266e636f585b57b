//! Writing to the clipboard, which browsers offer only to secure pages (https or localhost).

use leptos::prelude::window;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Copies `text`; `false` when this page has no clipboard or the browser refuses the write.
pub async fn copy(text: &str) -> bool {
    let navigator = window().navigator();
    // On an insecure page `navigator.clipboard` is undefined: calling it would throw.
    let available = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|clipboard| !clipboard.is_undefined());
    available
        && JsFuture::from(navigator.clipboard().write_text(text))
            .await
            .is_ok()
}
