//! Stacks: the `AppStack`, `AppStackSummary` and `AppListStacksResponse` shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Names one stack: `org/project/stack`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StackRef {
    pub org: String,
    pub project: String,
    pub stack: String,
}

impl StackRef {
    pub fn new(org: &str, project: &str, stack: &str) -> Self {
        Self {
            org: org.into(),
            project: project.into(),
            stack: stack.into(),
        }
    }

    /// The API path prefix `/api/stacks/{org}/{project}/{stack}`.
    pub fn api_path(&self) -> String {
        format!("/api/stacks/{}/{}/{}", self.org, self.project, self.stack)
    }
}

impl std::fmt::Display for StackRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.org, self.project, self.stack)
    }
}

/// One entry of `GET /api/user/stacks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackSummary {
    pub id: String,
    pub org_name: String,
    pub project_name: String,
    pub stack_name: String,
    /// Unix seconds of the last update, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_count: Option<i64>,
}

impl StackSummary {
    pub fn stack_ref(&self) -> StackRef {
        StackRef::new(&self.org_name, &self.project_name, &self.stack_name)
    }
}

/// `GET /api/user/stacks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStacksResponse {
    pub stacks: Vec<StackSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

/// `GET /api/stacks/{org}/{project}/{stack}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    pub id: String,
    pub org_name: String,
    pub project_name: String,
    pub stack_name: String,
    /// The most recent update's id; empty when the stack was never updated.
    pub active_update: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub version: i64,
}
