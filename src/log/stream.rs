//! Feeds a [`LiveLog`] from a browser `ReadableStream` of a log file's bytes: a chosen file's
//! `stream()`, or the body of `logs/raw` (its gzip undone by the browser). Each chunk is copied
//! once from JavaScript into one reused buffer in wasm memory and parsed from there into the
//! log's segments: neither the file nor a string of it is ever held whole. The viewer is told
//! when the first lines are in, then at most every [`SLICE_MS`], and the browser gets a turn
//! each time to paint them and to answer the user.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult};

use super::live::LiveLog;
use super::raw::RawReader;

/// How long lines are parsed before the viewer is told and the browser gets a turn.
const SLICE_MS: f64 = 50.0;

/// Waits `millis` milliseconds (`0`: lets the browser paint and handle events first).
pub async fn sleep(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
    });
    let _ = JsFuture::from(promise).await;
}

/// What a failed read says, for people.
fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the read failed".to_owned())
}

/// Reads `body` to its end into `log` while `wanted()` says the log still wants it: `Ok(true)`
/// once read whole, `Ok(false)` when abandoned (the stream is then cancelled), or why the read
/// failed. The log is not marked complete: the caller knows whether more will come.
pub async fn read_into(
    body: &ReadableStream,
    log: LiveLog,
    wanted: impl Fn() -> bool,
) -> Result<bool, String> {
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut raw = RawReader::default();
    let mut buffer = Vec::new();
    let mut told: Option<f64> = None;
    loop {
        let next: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(describe)?
            .unchecked_into();
        if next.get_done().unwrap_or(true) {
            break;
        }
        let chunk: Uint8Array = next.get_value().unchecked_into();
        buffer.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buffer);
        if !wanted() || !log.try_update_quietly(|text| raw.feed(text, &buffer)) {
            let _ = reader.cancel();
            return Ok(false);
        }
        if told.is_none_or(|at| js_sys::Date::now() - at >= SLICE_MS) {
            log.notify();
            sleep(0).await;
            told = Some(js_sys::Date::now());
        }
    }
    if !wanted() || !log.try_update_quietly(|text| raw.finish(text)) {
        return Ok(false);
    }
    log.notify();
    Ok(true)
}
