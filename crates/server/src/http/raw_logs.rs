//! `GET S/deployments/{id}/logs/raw` (Keyless extension): the whole log in one streamed,
//! gzip-compressed text reply, in the format of the console's log files, so that a long log is
//! read in one request instead of one JSON page per 2,000 lines.
//!
//! Consistent as the JSON API is: the status is read first, then the id of the last stored
//! line, and only lines up to that id are sent. A deployment still running gets
//! `X-Keyless-Next-Token`, the JSON API's continuation token for the lines written later.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing;
use futures_util::{Stream, stream};
use keyless_api_types::GROUP_MARKER;
use serde::Deserialize;
use tokio::sync::mpsc;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

use super::extract::DeploymentAccess;
use super::logs::{decode_token, encode_token};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{DeploymentId, Store, StoreError};

/// Rows per store query: few queries, and a chunk of about a MiB in memory at a time.
const BATCH: u32 = 10_000;

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
) -> Result<Response> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    let after = params
        .continuation_token
        .as_deref()
        .map(decode_token)
        .transpose()?
        .unwrap_or(0);
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
