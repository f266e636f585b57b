//! The signed-in user: the spec's `User` and `OrganizationSummaryWithRole`.

use serde::{Deserialize, Serialize};

/// A user's role in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgRole {
    Admin,
    Member,
}

/// An organization the user belongs to, with their role in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSummaryWithRole {
    pub github_login: String,
    pub name: String,
    pub avatar_url: String,
    pub role: OrgRole,
}

/// `GET /api/user`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub github_login: String,
    pub name: String,
    pub email: String,
    pub avatar_url: String,
    pub organizations: Vec<OrganizationSummaryWithRole>,
    #[serde(default)]
    pub identities: Vec<String>,
    #[serde(default, rename = "hasMFA")]
    pub has_mfa: bool,
    #[serde(default)]
    pub is_org_managed: bool,
    #[serde(default)]
    pub is_managed_by_multi_org: bool,
}

impl User {
    /// The user's role in `org`, if they belong to it.
    pub fn role_in(&self, org: &str) -> Option<OrgRole> {
        self.organizations
            .iter()
            .find(|o| o.github_login == org)
            .map(|o| o.role)
    }
}
