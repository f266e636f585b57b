//! Serving the built console from `--dist`: any path outside `/api` answers `index.html`, so
//! deep links load the app; files go gzipped to browsers that accept it.
//!
//! Every file trunk and the split step write carries its content hash in its name, so it is
//! cached for good; `index.html`, which names them, is revalidated on every load so that a new
//! build is picked up at once.
//!
//! The console runs under a Content-Security-Policy that allows its own files only. Trunk
//! always starts the wasm from an inline module script in `index.html`; rather than allowing
//! inline scripts, the policy names that script by its hash, taken from the `index.html` being
//! served (again whenever the file changes, so that a new build runs at once).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tower_http::compression::Compression;
use tower_http::services::{ServeDir, ServeFile};

const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const FOREVER: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The console's files under `dist`, with `index.html` for every other path.
pub fn service(dist: &Path) -> Router {
    let index = dist.join("index.html");
    let files = ServeDir::new(dist).fallback(ServeFile::new(&index));
    let policy = Arc::new(Policy {
        index,
        current: Mutex::default(),
    });
    Router::new()
        .fallback_service(Compression::new(files))
        .layer(from_fn(cache_policy))
        .layer(from_fn_with_state(policy, content_security_policy))
}

/// The console's Content-Security-Policy, kept for the `index.html` it was made from.
struct Policy {
    index: PathBuf,
    /// The policy, and the modification time of the `index.html` it names the scripts of.
    current: Mutex<Option<(SystemTime, HeaderValue)>>,
}

impl Policy {
    fn header(&self) -> HeaderValue {
        let modified = std::fs::metadata(&self.index)
            .and_then(|m| m.modified())
            .ok();
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((at, policy)), Some(modified)) = (current.as_ref(), modified)
            && *at == modified
        {
            return policy.clone();
        }
        let html = std::fs::read_to_string(&self.index).unwrap_or_default();
        let policy = console_policy(&html);
        if let Some(modified) = modified {
            *current = Some((modified, policy.clone()));
        }
        policy
    }
}

/// Scripts and styles from the console's origin, wasm compiled from them, the inline scripts
/// of `html` by hash; inline `style` attributes, which the log viewer sets for ANSI colours,
/// but no `<style>` elements; nothing framing it, no plugins, no `<base>`.
fn console_policy(html: &str) -> HeaderValue {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    HeaderValue::try_from(format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    ))
    .expect("base64 and ASCII only")
}

/// The text of every `<script>` in `html` that has no `src`, as browsers hash it.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (tag, rest) = rest.split_once('>')?;
        let (text, _) = rest.split_once("</script>")?;
        (!tag.contains("src=")).then_some(text)
    })
}

async fn content_security_policy(
    State(policy): State<Arc<Policy>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy.header());
    response
}

/// A built file (a name with an extension, found: not the `index.html` fallback) is cached for
/// good; anything else is revalidated.
async fn cache_policy(request: Request, next: Next) -> Response {
    let file = Path::new(request.uri().path())
        .extension()
        .is_some_and(|extension| extension != "html");
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let policy = if file && found && !html {
        FOREVER
    } else {
        REVALIDATE
    };
    response.headers_mut().insert(header::CACHE_CONTROL, policy);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_scripts_from_files_by_origin() {
        let html = "<head><script type=\"module\" src=\"/a.js\"></script>\
            <script type=\"module\">\nimport init from '/b.js';\n</script></head>";
        let scripts: Vec<_> = inline_scripts(html).collect();
        assert_eq!(scripts, ["\nimport init from '/b.js';\n"]);
        let policy = console_policy(html);
        let digest = STANDARD.encode(Sha256::digest(scripts[0]));
        assert!(
            policy.to_str().expect("ASCII").contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}';"
            )),
            "{policy:?}"
        );
    }
}
