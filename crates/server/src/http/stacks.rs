//! Stacks: `GET /api/stacks/{org}/{project}/{stack}`.

use axum::Json;
use axum::extract::State;
use keyless_api_types::Stack;

use super::extract::StackAccess;
use super::{AppState, Routes};
use crate::error::Result;

pub fn router() -> Routes {
    Routes::default().get(stack_route!(""), get_stack)
}

async fn get_stack(State(state): State<AppState>, access: StackAccess) -> Result<Json<Stack>> {
    let record = access.stack;
    let tags = state.store.stack_tags(&record.id).await?;
    Ok(Json(Stack {
        id: record.id.into(),
        org_name: record.stack.org,
        project_name: record.stack.project,
        stack_name: record.stack.stack,
        // No updates are recorded yet.
        active_update: String::new(),
        tags,
        version: 0,
    }))
}
