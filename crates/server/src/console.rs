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
//!
//! Beside `index.html`, whoever deploys the console may write `config.json`, which the console
//! reads at run time (`{"apiBaseUrl": "https://api.example.com"}`; by default it calls the
//! origin it is served from). It is served like any file, but revalidated, its name carrying no
//! hash, and 404 rather than the page when absent; its API origin, read once at start, is the
//! one other origin the policy lets the console connect to.

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
use keyless_api_types::console_config;
use sha2::{Digest, Sha256};
use tower_http::compression::Compression;
use tower_http::services::{ServeDir, ServeFile};

const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const FOREVER: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The console's runtime configuration in `dist`.
fn config_file(dist: &Path) -> PathBuf {
    dist.join(console_config::PATH.trim_start_matches('/'))
}

/// The origin of the API that the console in `dist` is configured to call, from its
/// `config.json`: `None` without the file, or when it leaves `apiBaseUrl` empty or relative
/// (the console then calls the origin it is served from).
pub fn api_origin(dist: &Path) -> Result<Option<String>, String> {
    let path = config_file(dist);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("{}: {err}", path.display())),
    };
    let base =
        console_config::api_base_url(&text).map_err(|why| format!("{}: {why}", path.display()))?;
    if base.is_empty() || base.starts_with('/') {
        return Ok(None);
    }
    crate::cors::origin_of(&base)
        .map(Some)
        .map_err(|why| format!("{}: apiBaseUrl {base} {why}", path.display()))
}

/// The console's files under `dist`, with `index.html` for every other path but
/// `/config.json`, which is 404 when absent so that the console knows to call its own origin;
/// the console may also connect to `api_origin` (see [`api_origin`]).
pub fn service(dist: &Path, api_origin: Option<&str>) -> Router {
    let index = dist.join("index.html");
    let files = ServeDir::new(dist).fallback(ServeFile::new(&index));
    let runtime_config = ServeFile::new(config_file(dist));
    let policy = Arc::new(Policy {
        index,
        api_origin: api_origin.map(str::to_owned),
        current: Mutex::default(),
    });
    Router::new()
        .route_service(console_config::PATH, Compression::new(runtime_config))
        .fallback_service(Compression::new(files))
        .layer(from_fn(cache_policy))
        .layer(from_fn_with_state(policy, content_security_policy))
}

/// The console's Content-Security-Policy, kept for the `index.html` it was made from.
struct Policy {
    index: PathBuf,
    /// The API's origin, when the console calls one other than its own.
    api_origin: Option<String>,
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
        let policy = console_policy(&html, self.api_origin.as_deref());
        if let Some(modified) = modified {
            *current = Some((modified, policy.clone()));
        }
        policy
    }
}

/// Scripts and styles from the console's origin, wasm compiled from them, the inline scripts
/// of `html` by hash; inline `style` attributes, which the log viewer sets for ANSI colours,
/// but no `<style>` elements; requests to its own origin and to `api_origin`; nothing framing
/// it, no plugins, no `<base>`.
fn console_policy(html: &str, api_origin: Option<&str>) -> HeaderValue {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    let connect = api_origin
        .map(|origin| format!(" connect-src 'self' {origin};"))
        .unwrap_or_default();
    HeaderValue::try_from(format!(
        "default-src 'self';{connect} script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self'; style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    ))
    .expect("an origin, base64 and ASCII only")
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
/// good; anything else, `config.json` included, is revalidated.
async fn cache_policy(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let file = Path::new(path)
        .extension()
        .is_some_and(|extension| extension != "html")
        && path != console_config::PATH;
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
        let policy = console_policy(html, None);
        let digest = STANDARD.encode(Sha256::digest(scripts[0]));
        assert!(
            policy.to_str().expect("ASCII").contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}';"
            )),
            "{policy:?}"
        );
        assert!(!policy.to_str().expect("ASCII").contains("connect-src"));
    }

    #[test]
    fn the_console_may_connect_to_its_own_origin_and_the_api_it_is_configured_for() {
        let policy = console_policy("", Some("https://api.example.com"));
        assert!(
            policy
                .to_str()
                .expect("ASCII")
                .starts_with("default-src 'self'; connect-src 'self' https://api.example.com; "),
            "{policy:?}"
        );
    }
}
