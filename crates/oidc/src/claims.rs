//! The claims of a deployment's OIDC token, as Pulumi Deployments issues them.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::Error;

/// The longest lifetime a token may be minted with: 2 hours.
///
/// Retired keys stay in the JWKS this long (plus [`RETIRED_KEY_GRACE`](crate::RETIRED_KEY_GRACE))
/// after rotation, so raising it keeps old keys published longer.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// The issuer URL: the `iss` claim, and the base of the discovery and JWKS URLs.
///
/// An `http://` or `https://` URL with no trailing slash, query or fragment, so that
/// `{issuer}/.well-known/…` is well formed and `iss` matches the discovery `issuer` exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    /// Checks and wraps an issuer URL such as `https://keyless.example.com/oidc`.
    pub fn new(url: impl Into<String>) -> Result<Self, Error> {
        let url = url.into();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let valid = rest.is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.ends_with('/')
                && !rest.contains(['?', '#'])
                && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        if valid {
            Ok(Self(url))
        } else {
            Err(Error::InvalidIssuer(url))
        }
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{issuer}/.well-known/openid-configuration`, where the discovery document is served.
    pub fn discovery_uri(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.0)
    }

    /// `{issuer}/.well-known/jwks`, where the key set is served.
    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks", self.0)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The deployment a token is for.
///
/// `org`, `project`, `stack` and `operation` must be 1-256 ASCII letters, digits, `-`, `_` or
/// `.` (Pulumi's own name rules fit in this): they are joined with `:` into `sub`, so a `:` in a
/// name could forge another stack's subject. `stack_id` is checked the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployment<'a> {
    /// The organization name as the user spelled it (e.g. `Acme`).
    pub org: &'a str,
    pub project: &'a str,
    pub stack: &'a str,
    /// The stack's stable id (the `stackId` claim).
    pub stack_id: &'a str,
    /// `update`, `preview`, `refresh`, `destroy`, …
    pub operation: &'a str,
    /// The deployment's version number within the stack (the `deployment` claim).
    pub version: u64,
}

/// The claims of one deployment's token. Build with [`DeploymentClaims::new`], sign with
/// [`mint`](crate::mint).
///
/// As Pulumi does, `aud` is the organization name **lowercased** (AWS compares it
/// case-sensitively, and trust policies are written in lowercase) while `sub` and `org` keep the
/// name **as spelled**: `pulumi:deploy:org:Acme:project:…` with `aud` `acme`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentClaims {
    iss: String,
    aud: String,
    sub: String,
    org: String,
    project: String,
    stack: String,
    #[serde(rename = "stackId")]
    stack_id: String,
    operation: String,
    deployment: u64,
    scope: &'static str,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
}

impl DeploymentClaims {
    /// Claims for `deployment`, issued at `issued_at` (Unix seconds; also `nbf`) and valid for
    /// `lifetime` (whole seconds, 1 s to [`MAX_TOKEN_LIFETIME`]), with a random UUIDv4 `jti`.
    pub fn new(
        issuer: &Issuer,
        deployment: &Deployment<'_>,
        issued_at: u64,
        lifetime: Duration,
    ) -> Result<Self, Error> {
        let requested = lifetime.as_secs();
        let max = MAX_TOKEN_LIFETIME.as_secs();
        if requested == 0 || lifetime > MAX_TOKEN_LIFETIME {
            return Err(Error::Lifetime { requested, max });
        }
        let exp = issued_at
            .checked_add(requested)
            .ok_or(Error::ExpiryOverflow)?;
        let Deployment {
            org,
            project,
            stack,
            stack_id,
            operation,
            version,
        } = *deployment;
        for (claim, value) in [
            ("org", org),
            ("project", project),
            ("stack", stack),
            ("stackId", stack_id),
            ("operation", operation),
        ] {
            check_name(claim, value)?;
        }
        Ok(Self {
            iss: issuer.as_str().to_owned(),
            aud: org.to_lowercase(),
            sub: format!(
                "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"
            ),
            org: org.to_owned(),
            project: project.to_owned(),
            stack: stack.to_owned(),
            stack_id: stack_id.to_owned(),
            operation: operation.to_owned(),
            deployment: version,
            scope: "write",
            iat: issued_at,
            nbf: issued_at,
            exp,
            jti: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// The `sub` claim: what a cloud's trust policy matches.
    pub fn subject(&self) -> &str {
        &self.sub
    }

    /// The `aud` claim: the lowercased organization name.
    pub fn audience(&self) -> &str {
        &self.aud
    }

    /// The `exp` claim, in Unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.exp
    }

    /// The `jti` claim: this token's unique id.
    pub fn jti(&self) -> &str {
        &self.jti
    }
}

fn check_name(claim: &'static str, value: &str) -> Result<(), Error> {
    let valid = (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidClaim {
            claim,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Deployment<'static> {
        Deployment {
            org: "Acme-Corp",
            project: "web.site",
            stack: "prod_1",
            stack_id: "6f1c2a8e-0d7b-4c55-9a43-0d2f3e1b7c10",
            operation: "destroy",
            version: 9,
        }
    }

    fn issuer() -> Issuer {
        Issuer::new("https://keyless.example.com/oidc").expect("issuer")
    }

    #[test]
    fn issuer_urls_must_be_http_without_trailing_slash_query_or_fragment() {
        let ok = Issuer::new("http://127.0.0.1:8080/oidc").expect("local http is allowed");
        assert_eq!(ok.jwks_uri(), "http://127.0.0.1:8080/oidc/.well-known/jwks");
        assert_eq!(
            ok.discovery_uri(),
            "http://127.0.0.1:8080/oidc/.well-known/openid-configuration"
        );
        for bad in [
            "",
            "keyless.example.com",
            "ftp://keyless.example.com",
            "https://",
            "https:///oidc",
            "https://keyless.example.com/oidc/",
            "https://keyless.example.com/oidc?x=1",
            "https://keyless.example.com/oidc#x",
            "https://keyless.example.com/o idc",
        ] {
            assert!(
                matches!(Issuer::new(bad), Err(Error::InvalidIssuer(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_that_could_forge_a_subject_are_rejected() {
        let bad_values = [
            "",
            "a:b",
            "prod:operation:update",
            "a b",
            "é",
            &"x".repeat(257),
        ];
        for value in bad_values {
            for field in 0..5 {
                let mut d = deployment();
                let (slot, claim) = match field {
                    0 => (&mut d.org, "org"),
                    1 => (&mut d.project, "project"),
                    2 => (&mut d.stack, "stack"),
                    3 => (&mut d.stack_id, "stackId"),
                    _ => (&mut d.operation, "operation"),
                };
                *slot = value;
                let err =
                    DeploymentClaims::new(&issuer(), &d, 0, MAX_TOKEN_LIFETIME).expect_err(value);
                assert!(
                    matches!(err, Error::InvalidClaim { claim: c, .. } if c == claim),
                    "{claim}={value:?}: {err}"
                );
            }
        }
    }

    #[test]
    fn lifetime_is_capped_and_sets_exp() {
        let at = |secs| DeploymentClaims::new(&issuer(), &deployment(), 1_000, secs);
        assert_eq!(at(MAX_TOKEN_LIFETIME).expect("max").expires_at(), 8_200);
        assert_eq!(at(Duration::from_secs(1)).expect("1 s").expires_at(), 1_001);
        for bad in [
            Duration::ZERO,
            Duration::from_millis(999),
            MAX_TOKEN_LIFETIME + Duration::from_secs(1),
            MAX_TOKEN_LIFETIME + Duration::from_nanos(1),
        ] {
            assert!(
                matches!(at(bad), Err(Error::Lifetime { max: 7_200, .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(
            DeploymentClaims::new(&issuer(), &deployment(), u64::MAX, MAX_TOKEN_LIFETIME),
            Err(Error::ExpiryOverflow)
        ));
    }

    #[test]
    fn each_token_gets_its_own_jti() {
        let a = DeploymentClaims::new(&issuer(), &deployment(), 0, MAX_TOKEN_LIFETIME).expect("a");
        let b = DeploymentClaims::new(&issuer(), &deployment(), 0, MAX_TOKEN_LIFETIME).expect("b");
        assert_ne!(a.jti(), b.jti());
        assert!(uuid::Uuid::parse_str(a.jti()).is_ok_and(|id| id.get_version_num() == 4));
    }
}
