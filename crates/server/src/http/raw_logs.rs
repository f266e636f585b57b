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
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing;
use futures_util::{Stream, stream};
use keyless_api_types::GROUP_MARKER;
use serde::Deserialize;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;

use super::deployments::find;
use super::extract::StackAccess;
use super::logs::{decode_token, encode_token};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{LogRecord, Store, StoreError};

/// Rows per store query: few queries, and a chunk of a few hundred KiB in memory at a time.
const BATCH: u32 = 10_000;

/// The continuation token for the lines after the ones sent; absent when everything was sent.
const NEXT_TOKEN: HeaderName = HeaderName::from_static("x-keyless-next-token");

pub fn router() -> Routes {
    // The fastest level: it still shrinks logs about tenfold, and keeps compression from
    // being the slowest part of the read.
    let gzip = CompressionLayer::new().quality(CompressionLevel::Fastest);
    Routes::default().add(
        Method::GET,
        "/api/stacks/{org}/{project}/{stack}/deployments/{id}/logs/raw",
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
    access: StackAccess,
    Path((_, _, _, id)): Path<(String, String, String, String)>,
    params: Result<Query<RawParams>, QueryRejection>,
) -> Result<Response> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    // The status before the last id: the executor stores every line before it finishes.
    let record = find(&state, &access.stack, &id).await?;
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

/// The log's rows with ids in `(after, until]` as text, one chunk per store query. A store
/// error ends the stream with an error, which cuts the reply short rather than end it cleanly.
fn log_text(
    store: Arc<dyn Store>,
    id: String,
    after: i64,
    until: i64,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    stream::try_unfold(after, move |after| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            if after >= until {
                return Ok(None);
            }
            let rows = store
                .logs_after(&id, after, BATCH)
                .await
                .inspect_err(|err| {
                    tracing::error!(deployment = %id, %err, "reading the raw log failed");
                })?;
            let rows: Vec<_> = rows.into_iter().take_while(|r| r.id <= until).collect();
            let Some(next) = rows.last().map(|r| r.id) else {
                return Ok(None);
            };
            let mut text = String::with_capacity(rows.len() * 64);
            rows.iter().for_each(|row| write_row(&mut text, row));
            Ok(Some((Bytes::from(text), next)))
        }
    })
}

/// One stored row as `LogText::push_raw` reads it: `<time> ##[group]<header>` for a header,
/// `<time> <line>` for a line (its inner newlines kept), each ending in a newline.
fn write_row(out: &mut String, row: &LogRecord) {
    if let Some(header) = &row.header {
        out.push_str(&row.timestamp);
        out.push(' ');
        out.push_str(GROUP_MARKER);
        out.push_str(header);
        out.push('\n');
    }
    if let Some(line) = &row.line {
        out.push_str(&row.timestamp);
        out.push(' ');
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push('\n');
        }
    }
}
