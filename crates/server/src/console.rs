//! Serving the built console from `--dist`: any path outside `/api` answers `index.html`, so
//! deep links load the app; files go gzipped to browsers that accept it.
//!
//! Every file trunk and the split step write carries its content hash in its name, so it is
//! cached for good; `index.html`, which names them, is revalidated on every load so that a new
//! build is picked up at once.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use tower_http::compression::Compression;
use tower_http::services::{ServeDir, ServeFile};

const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const FOREVER: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The console's files under `dist`, with `index.html` for every other path.
pub fn service(dist: &Path) -> Router {
    let files = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
    Router::new()
        .fallback_service(Compression::new(files))
        .layer(from_fn(cache_policy))
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
