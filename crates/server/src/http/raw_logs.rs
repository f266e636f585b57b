//! `GET S/deployments/{id}/logs/raw` (Keyless extension): the whole log in one streamed,
//! gzip-compressed text reply, in the format of the console's log files, so that a long log is
//! read in one request instead of one JSON page per 2,000 lines.
//!
//! Consistent as the JSON API is: the status is read first, then the id of the last stored
//! line, and only lines up to that id are sent. A deployment still running gets
//! `X-Keyless-Next-Token`, the JSON API's continuation token for the lines written later.
//!
//! A finished deployment's log is sent from its archive ([`crate::log_archive`]), compressed
//! once, to any reader that takes gzip.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing;
use futures_util::{Stream, StreamExt, stream};
use keyless_api_types::GROUP_MARKER;
use serde::Deserialize;
use tokio::sync::mpsc;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

use super::extract::DeploymentAccess;
use super::logs::{decode_token, encode_token};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::log_archive::BATCH;
use crate::store::{DeploymentId, Store, StoreError};

/// The continuation token for the lines after the ones sent; absent when everything was sent.
const NEXT_TOKEN: HeaderName = HeaderName::from_static("x-keyless-next-token");

pub fn router() -> Routes {
    // The fastest level: it still shrinks logs about tenfold, and keeps compression from
    // being the slowest part of the read.
    let gzip = CompressionLayer::new().quality(CompressionLevel::Fastest);
    Routes::default().add(
        Method::GET,
        stack_route!("/deployments/{id}/logs/raw"),
        routing::get(get_raw_logs).layer(gzip),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawParams {
    continuation_token: Option<String>,
}

async fn get_raw_logs(
    State(state): State<AppState>,
    // The status (read here) before the last id: the executor stores every line before it
    // finishes.
    DeploymentAccess { record, .. }: DeploymentAccess,
    params: Result<Query<RawParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    let after = params
        .continuation_token
        .as_deref()
        .map(decode_token)
        .transpose()?
        .unwrap_or(0);
    if after == 0 && record.status.is_finished() && accepts_gzip(&headers) {
        if let Some(len) = state.store.log_archive_len(&record.id).await? {
            return Ok(archived(state.store.clone(), record.id, len));
        }
        state.log_archives.build_in_background(record.id.clone());
    }
    let last = state.store.last_log_id(&record.id).await?;
    let until = last.unwrap_or(0).max(after);
    let text = log_text(state.store.clone(), record.id, after, until);
    let mut response = (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(text),
    )
        .into_response();
    if !record.status.is_finished() {
        let token = HeaderValue::from_str(&encode_token(until))
            .map_err(|err| Error::Internal(format!("continuation token: {err}")))?;
        response.headers_mut().insert(NEXT_TOKEN, token);
    }
    Ok(response)
}

/// The log's rows with ids in `(after, until]` as text, one chunk per store query. The next
/// chunk is read while the last one is compressed and sent; a reader that goes away stops the
/// reads. A store error ends the stream with an error, which cuts the reply short rather than
/// end it cleanly.
fn log_text(
    store: Arc<dyn Store>,
    id: DeploymentId,
    mut after: i64,
    until: i64,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let (chunks, mut received) = mpsc::channel(1);
    tokio::spawn(async move {
        while after < until {
            let chunk = match store.log_text(&id, after, until, BATCH, GROUP_MARKER).await {
                Ok(Some((text, last))) => {
                    after = last;
                    Ok(Bytes::from(text))
                }
                Ok(None) => return,
                Err(err) => {
                    tracing::error!(deployment = %id, %err, "reading the raw log failed");
                    Err(err)
                }
            };
            let failed = chunk.is_err();
            if chunks.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    // Polled again after its end by the compression layer, which a closed receiver allows.
    stream::poll_fn(move |cx| received.poll_recv(cx))
}

/// Finished deployment `id`'s stored archive of `len` bytes, read a piece at a time, as the
/// gzip-encoded reply (the compression layer leaves an encoded reply alone). Its length is
/// known, so the browser can tell how much is left.
fn archived(store: Arc<dyn Store>, id: DeploymentId, len: u64) -> Response {
    let pieces = stream::unfold(Some(0), move |next| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            let piece = next?;
            match store.log_archive_piece(&id, piece).await {
                Ok(bytes) => bytes.map(|b| (Ok(Bytes::from(b)), Some(piece + 1))),
                Err(err) => {
                    tracing::error!(deployment = %id, %err, "reading the log archive failed");
                    Some((Err(err), None))
                }
            }
        }
    })
    // Polled again after its end by the compression layer.
    .fuse();
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            (CONTENT_LENGTH, HeaderValue::from(len)),
            (VARY, HeaderValue::from_static("accept-encoding")),
        ],
        Body::from_stream(pieces),
    )
        .into_response()
}

/// Whether the request's `Accept-Encoding` takes gzip.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}
