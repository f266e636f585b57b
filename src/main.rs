//! Reads the console's runtime configuration, then mounts the console into the page; the
//! page's modules are fetched meanwhile.

fn main() {
    console_error_panic_hook::set_once();
    // Every API call needs to know where the API is: read `config.json` before mounting. Asked
    // for first, so that it never waits behind the modules for one of the browser's connections.
    wasm_bindgen_futures::spawn_local(async {
        keyless_console::api::configure().await;
        leptos::mount::mount_to_body(keyless_console::app::App);
    });
    keyless_console::app::preload();
}
