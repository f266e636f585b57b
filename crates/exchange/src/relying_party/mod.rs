//! Local stand-ins for the clouds' token endpoints, for tests: AWS STS ([`aws`]), Microsoft
//! Entra ID ([`azure`]) and Google STS + IAM Service Account Credentials ([`gcp`]).
//!
//! Each serves its cloud's documented protocol on `127.0.0.1:<free port>`, checks every
//! required parameter, verifies the token's signature against the JWKS its issuer publishes
//! (`{iss}/.well-known/openid-configuration` → `jwks_uri`), applies the cloud's trust rules and
//! answers with the cloud's success or error shapes and codes. Every request is recorded.
//! Only behind the `relying-parties` feature.

pub mod aws;
pub mod azure;
pub mod gcp;
mod verify;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};

/// A running relying party; stops when dropped.
#[derive(Debug)]
pub struct RelyingParty {
    url: String,
    log: Log,
    task: tokio::task::JoinHandle<()>,
}

impl RelyingParty {
    /// Serves `router` on a free loopback port, recording every request; handlers find it as
    /// `Extension<Recorded>`.
    async fn start(router: Router) -> std::io::Result<Self> {
        let log = Log::default();
        let router = router.layer(from_fn_with_state(log.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            // The server only ends when the task is aborted; an accept error ends the test's use of it.
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { url, log, task })
    }

    /// The base URL, e.g. `http://127.0.0.1:43125`: set it as the matching [`crate::Endpoints`] field.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for RelyingParty {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The requests a relying party received.
type Log = Arc<Mutex<Vec<Recorded>>>;

/// Records the request into `log` and hands it on, with the [`Recorded`] in its extensions.
async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let recorded = Recorded::new(&parts.method, &parts.uri, &parts.headers, &body);
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(recorded.clone());
    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(recorded);
    next.run(request).await
}

/// One request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/tenant/oauth2/v2.0/token`.
    pub path: String,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
}

impl Recorded {
    fn new(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Self {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), ToString::to_string),
            content_type: header(header::CONTENT_TYPE),
            authorization: header(header::AUTHORIZATION),
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// Whether the content type's media type is `media_type` (parameters such as charset ignored).
    pub fn is_content_type(&self, media_type: &str) -> bool {
        self.content_type.as_deref().is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(media_type))
        })
    }

    /// The body as `application/x-www-form-urlencoded` pairs (empty when it is not a form).
    pub fn form(&self) -> Vec<(String, String)> {
        if !self.is_content_type("application/x-www-form-urlencoded") {
            return Vec::new();
        }
        serde_urlencoded::from_str(&self.body).unwrap_or_default()
    }

    /// The first form parameter called `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        if !self.is_content_type("application/json") {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
}

/// A random string of `len` characters from `alphabet`, for fake credentials and ids.
fn random(alphabet: &[u8], len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    (0..len)
        .map(|_| {
            let mut hasher = state.build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            let index = (hasher.finish() % alphabet.len() as u64) as usize;
            char::from(alphabet[index])
        })
        .collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64ISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

/// A random UUID-shaped id.
fn uuid() -> String {
    let hex = random(HEX, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// AWS `StringLike`: `*` matches any run of characters, `?` any one character.
pub fn string_like(pattern: &str, value: &str) -> bool {
    fn matches(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| matches(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && matches(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && matches(rest, &v[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    matches(&p, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_follows_aws_wildcards() {
        let sub = "pulumi:deploy:org:acme:project:web:stack:prod:operation:update:scope:write";
        assert!(string_like(
            "pulumi:deploy:org:acme:project:web:stack:prod:*",
            sub
        ));
        assert!(string_like(
            "pulumi:deploy:org:acme:*:operation:update:scope:write",
            sub
        ));
        assert!(!string_like(
            "pulumi:deploy:org:acme:project:web:stack:dev:*",
            sub
        ));
        assert!(!string_like("pulumi:deploy:org:Acme:*", sub));
        assert!(string_like("a?c", "abc") && !string_like("a?c", "ac"));
    }

    #[test]
    fn random_values_have_the_asked_shape() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_ne!(random(UPPER_DIGITS, 16), random(UPPER_DIGITS, 16));
    }
}
