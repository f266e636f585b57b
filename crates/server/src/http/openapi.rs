//! `GET /api/openapi.json`: the OpenAPI 3 document of exactly the routes this server has,
//! derived from the Pulumi Cloud spec's paths and schemas for them.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::Routes;

/// The document, kept beside `Cargo.toml`.
const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn router() -> Routes {
    Routes::default().get("/api/openapi.json", document)
}

async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT)
}
