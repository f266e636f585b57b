//! Cross-origin access to the API (`--cors-origin`), for a console served from another origin
//! than the API it talks to.
//!
//! Only requests to `/api/**` that come from a listed origin go through tower-http's CORS
//! layer. It answers their preflights itself, before any extractor asks for the token that a
//! preflight never carries, and adds its headers to every other answer, errors included, so
//! that the browser lets the console read a 401 as well as a 200. Every other request, a
//! preflight from an origin not listed included, reaches the server as if CORS did not exist:
//! no `Access-Control-*` header is ever sent to an origin not listed. Credentials are not
//! allowed: tokens travel in `Authorization`, never in cookies.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The methods the API serves.
const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// The request headers the console and Pulumi's clients send.
const REQUEST_HEADERS: [HeaderName; 6] = [
    AUTHORIZATION,
    CONTENT_TYPE,
    ACCEPT,
    HeaderName::from_static("x-keyless-client"),
    HeaderName::from_static("x-pulumi-source"),
    HeaderName::from_static("x-pulumi-deployment-initiator"),
];

/// The response headers the console reads: how long to wait before asking again, and where a
/// raw log continues.
const EXPOSED_HEADERS: [HeaderName; 2] =
    [RETRY_AFTER, HeaderName::from_static("x-keyless-next-token")];

/// How long a browser may reuse a preflight's answer; the console polls many URLs, each of
/// which would otherwise be preflighted again every few seconds.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// The origins allowed to call the API from a browser, and the layer that answers them.
pub struct ApiCors {
    origins: Vec<HeaderValue>,
    layer: CorsLayer,
}

impl ApiCors {
    /// The policy for `origins` (as `--cors-origin` takes them); `None` when there is none, so
    /// that the API sends no CORS header at all.
    pub fn new(origins: &[String]) -> Result<Option<Arc<Self>>, String> {
        if origins.is_empty() {
            return Ok(None);
        }
        let mut allowed = Vec::new();
        for given in origins {
            let origin = parse_origin(given)
                .and_then(|origin| HeaderValue::try_from(origin).map_err(|err| err.to_string()))
                .map_err(|why| format!("--cors-origin {given}: {why}"))?;
            if !allowed.contains(&origin) {
                allowed.push(origin);
            }
        }
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed.clone()))
            .allow_methods(METHODS)
            .allow_headers(REQUEST_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(MAX_AGE);
        Ok(Some(Arc::new(Self {
            origins: allowed,
            layer,
        })))
    }

    /// Whether `request` is an API request from an allowed origin.
    fn applies(&self, request: &Request) -> bool {
        crate::is_api(request.uri().path())
            && request
                .headers()
                .get(ORIGIN)
                .is_some_and(|origin| self.origins.contains(origin))
    }
}

/// The middleware: requests [`ApiCors`] applies to go through its CORS layer, others straight
/// on.
pub async fn api_cors(State(cors): State<Arc<ApiCors>>, request: Request, next: Next) -> Response {
    if !cors.applies(&request) {
        return next.run(request).await;
    }
    match cors.layer.clone().layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// An `--cors-origin` value as browsers send it in `Origin`: a scheme (`https` or `http`) and a
/// host with an optional port, lowercased, without a default port or a trailing slash.
pub fn parse_origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.contains('*') {
        return Err(
            "wildcards are not accepted; name each origin the console is served from, \
                    e.g. https://console.example.com"
                .into(),
        );
    }
    let (scheme, rest) = split_scheme(value)?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(
            "an origin is a scheme and a host (and port) only, with no path, \
                    e.g. https://console.example.com"
                .into(),
        );
    }
    canonical(scheme, authority)
}

/// The origin of `url` (an absolute http or https URL), as browsers send it in `Origin`.
pub fn origin_of(url: &str) -> Result<String, String> {
    let (scheme, rest) = split_scheme(url.trim())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    canonical(scheme, authority)
}

/// `url`'s scheme, lowercased, and what follows `://`.
fn split_scheme(url: &str) -> Result<(String, &str), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("must start with https:// or http://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("must start with https:// or http://".into());
    }
    Ok((scheme, rest))
}

/// `scheme://authority` as browsers serialise an origin.
fn canonical(scheme: String, authority: &str) -> Result<String, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(allowed) {
        return Err("must name a host (and port), e.g. https://console.example.com".into());
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Ok(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        for (given, origin) in [
            ("https://console.example.com", "https://console.example.com"),
            (
                "https://Console.Example.com/",
                "https://console.example.com",
            ),
            (
                "HTTPS://console.example.com:443",
                "https://console.example.com",
            ),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            (
                " https://console.example.com ",
                "https://console.example.com",
            ),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(origin), "{given}");
        }
    }

    #[test]
    fn wildcards_paths_and_other_schemes_are_refused_with_the_reason() {
        for (given, reason) in [
            ("*", "wildcards are not accepted"),
            ("https://*.example.com", "wildcards are not accepted"),
            ("https://console.example.com/keyless", "no path"),
            ("https://console.example.com?x", "no path"),
            ("console.example.com", "must start with https://"),
            ("null", "must start with https://"),
            ("ftp://console.example.com", "must start with https://"),
            ("https://", "must name a host"),
            ("https://user@console.example.com", "must name a host"),
        ] {
            let err = parse_origin(given).expect_err(given);
            assert!(err.contains(reason), "{given}: {err}");
        }
    }

    #[test]
    fn a_configuration_bypassing_the_flags_parser_is_checked_at_start_too() {
        assert!(ApiCors::new(&[]).expect("no origin").is_none());
        let err = ApiCors::new(&["https://console.example.com".into(), "*".into()])
            .err()
            .expect("a wildcard");
        assert!(err.starts_with("--cors-origin *: wildcards"), "{err}");
    }

    #[test]
    fn a_urls_origin_drops_its_path() {
        assert_eq!(
            origin_of("https://API.example.com:443/keyless/?x#y").as_deref(),
            Ok("https://api.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert!(origin_of("/api").is_err());
        assert!(origin_of("https:///api").is_err());
    }
}
