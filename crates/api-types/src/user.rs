//! The signed-in user: the spec's `User` and `OrganizationSummaryWithRole`. Reading is lenient
//! (defaults for what the console can do without, any unknown role read as
//! [`OrgRole::ReadOnly`]) so that the console signs in against Pulumi Cloud too.

use serde::{Deserialize, Serialize};

/// A user's role in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgRole {
    Admin,
    Member,
    /// Any role Keyless does not grant: Pulumi's `none`, `potential-member`,
    /// `stack-collaborator`, `billing-manager`, or one added later. Reading one must not fail
    /// sign-in against Pulumi Cloud; the console lets it read stacks and logs, nothing more.
    #[serde(other)]
    ReadOnly,
}

impl OrgRole {
    /// Whether the role may start, cancel and pause deployments (admins and members).
    pub fn can_deploy(self) -> bool {
        matches!(self, Self::Admin | Self::Member)
    }
}

/// An organization the user belongs to, with their role in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSummaryWithRole {
    pub github_login: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub avatar_url: String,
    pub role: OrgRole,
}

/// `GET /api/user`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub github_login: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub avatar_url: String,
    #[serde(default)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_keyless_does_not_grant_read_as_read_only() {
        for (name, role) in [
            ("admin", OrgRole::Admin),
            ("member", OrgRole::Member),
            ("stack-collaborator", OrgRole::ReadOnly),
            ("billing-manager", OrgRole::ReadOnly),
            ("a-role-of-tomorrow", OrgRole::ReadOnly),
        ] {
            let read: OrgRole = serde_json::from_value(json!(name)).expect("reads");
            assert_eq!(read, role, "{name}");
        }
        assert!(OrgRole::Member.can_deploy());
        assert!(!OrgRole::ReadOnly.can_deploy());
    }
}
