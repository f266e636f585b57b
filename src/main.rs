//! Reads the console's runtime configuration, then mounts the console into the page.

fn main() {
    console_error_panic_hook::set_once();
    // Every API call needs to know where the API is: read `config.json` first.
    wasm_bindgen_futures::spawn_local(async {
        keyless_console::api::configure().await;
        leptos::mount::mount_to_body(keyless_console::app::App);
    });
}
