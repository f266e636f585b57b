//! The machine-readable lines of the "Fetch credentials via OIDC" step: beside its sentences for
//! people, the executor writes one `##[keyless:oidc-<kind>] {json}` line per event, which the
//! console reads instead of the sentences. Never the token or its signature, never a secret.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Cloud;

/// What every marker line starts with.
pub const PREFIX: &str = "##[keyless:oidc-";

/// One event of the step.
#[derive(Clone, Debug, PartialEq)]
pub enum OidcLogEvent {
    /// `oidc-token`: the minted token, decoded.
    Token(TokenEvent),
    /// `oidc-grant`: what a cloud granted.
    Grant(GrantEvent),
    /// `oidc-failure`: why the exchange failed.
    Failure(FailureEvent),
}

/// The minted token: its decoded header and claims (the signature left out).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct TokenEvent {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// RFC 3339.
    pub expires_at: String,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

/// What one cloud granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct GrantEvent {
    pub cloud: Cloud,
    /// A role session, an app, a service account.
    pub identity: String,
    /// RFC 3339.
    pub expires_at: String,
    /// The names of the environment variables set (never their values).
    pub variables: Vec<String>,
    /// Non-secret facts the cloud returned (audience, request id…).
    pub details: BTreeMap<String, String>,
}

/// Why an exchange failed; `cloud` is `None` when no cloud was involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct FailureEvent {
    pub cloud: Option<Cloud>,
    /// The cloud's error code, when it sent one.
    pub code: Option<String>,
    /// What went wrong, in the cloud's words when it answered.
    pub message: String,
    /// What to change.
    pub explanation: String,
    /// The claim values the cloud judged.
    pub presented: Presented,
}

/// The token claims a cloud judges first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
pub struct Presented {
    pub iss: String,
    pub aud: String,
    pub sub: String,
}

impl OidcLogEvent {
    fn kind(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::Grant(_) => "grant",
            Self::Failure(_) => "failure",
        }
    }
}

/// `##[keyless:oidc-<kind>] {json}`, on one line.
pub fn marker_line(event: &OidcLogEvent) -> String {
    let json = match event {
        OidcLogEvent::Token(e) => serde_json::to_string(e),
        OidcLogEvent::Grant(e) => serde_json::to_string(e),
        OidcLogEvent::Failure(e) => serde_json::to_string(e),
    };
    // Maps with string keys and plain structs always serialise.
    let json = json.unwrap_or_default();
    format!("{PREFIX}{}] {json}", event.kind())
}

/// The event a marker line carries; `None` for any other line, or a marker that does not parse.
///
/// Read by hand from a [`Value`], which the console already parses every API answer to: the
/// three decoders serde derives cost a deployment's page 5.7 KB gzipped. It takes what
/// serde would (the tests compare both): unknown keys are ignored, an optional key may be absent
/// or `null`, and anything else of the wrong type refuses the line.
pub fn parse_marker(line: &str) -> Option<OidcLogEvent> {
    let (kind, json) = line.strip_prefix(PREFIX)?.split_once("] ")?;
    let Value::Object(fields) = serde_json::from_str(json.trim_end()).ok()? else {
        return None;
    };
    let text = |key: &str| fields.get(key)?.as_str().map(str::to_owned);
    let object = |key: &str| fields.get(key)?.as_object().cloned();
    Some(match kind {
        "token" => OidcLogEvent::Token(TokenEvent {
            issuer: text("issuer")?,
            subject: text("subject")?,
            audience: text("audience")?,
            expires_at: text("expiresAt")?,
            header: object("header")?,
            claims: object("claims")?,
        }),
        "grant" => OidcLogEvent::Grant(GrantEvent {
            cloud: cloud(fields.get("cloud")?)?,
            identity: text("identity")?,
            expires_at: text("expiresAt")?,
            variables: fields
                .get("variables")?
                .as_array()?
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            details: {
                // Inserted one by one: collecting into a map sorts first, a sort the page
                // would otherwise carry for this alone.
                let mut details = BTreeMap::new();
                for (name, value) in fields.get("details")?.as_object()? {
                    details.insert(name.clone(), value.as_str()?.to_owned());
                }
                details
            },
        }),
        "failure" => OidcLogEvent::Failure(FailureEvent {
            cloud: match fields.get("cloud") {
                None | Some(Value::Null) => None,
                Some(key) => Some(cloud(key)?),
            },
            code: match fields.get("code") {
                None | Some(Value::Null) => None,
                Some(code) => Some(code.as_str()?.to_owned()),
            },
            message: text("message")?,
            explanation: text("explanation")?,
            presented: {
                let presented = fields.get("presented")?;
                let text = |key: &str| presented.get(key)?.as_str().map(str::to_owned);
                Presented {
                    iss: text("iss")?,
                    aud: text("aud")?,
                    sub: text("sub")?,
                }
            },
        }),
        _ => return None,
    })
}

fn cloud(key: &Value) -> Option<Cloud> {
    Cloud::from_key(key.as_str()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn failure() -> OidcLogEvent {
        OidcLogEvent::Failure(FailureEvent {
            cloud: Some(Cloud::Azure),
            code: Some("AADSTS70021".into()),
            message: "No matching federated identity record found".into(),
            explanation: "Add a federated credential] whose subject is the token's sub.".into(),
            presented: Presented {
                iss: "https://k/oidc".into(),
                aud: "acme".into(),
                sub: "pulumi:deploy:org:acme".into(),
            },
        })
    }

    #[test]
    fn a_marker_is_one_line_that_reads_back() {
        let token = OidcLogEvent::Token(TokenEvent {
            issuer: "https://k/oidc".into(),
            subject: "s".into(),
            audience: "acme".into(),
            expires_at: "2026-11-25T17:54:00Z".into(),
            header: json!({"alg": "RS256"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            claims: json!({"nested": "}\n{"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        });
        let grant = OidcLogEvent::Grant(GrantEvent {
            cloud: Cloud::Gcp,
            identity: "deploy@p.iam.gserviceaccount.com".into(),
            expires_at: "2026-11-25T18:54:00Z".into(),
            variables: vec!["GOOGLE_OAUTH_ACCESS_TOKEN".into()],
            details: BTreeMap::from([("Region".into(), "europe-west1".into())]),
        });
        for event in [token, grant, failure()] {
            let line = marker_line(&event);
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(parse_marker(&line), Some(event.clone()));
            assert_eq!(parse_marker(&format!("{line}\n")), Some(event));
        }
    }

    #[test]
    fn the_wire_shape_is_fixed() {
        let line = marker_line(&failure());
        let json = line
            .strip_prefix("##[keyless:oidc-failure] ")
            .expect("prefix");
        let value: Value = serde_json::from_str(json).expect("json");
        assert_eq!(value["cloud"], "azure");
        assert_eq!(value["presented"]["sub"], "pulumi:deploy:org:acme");
        assert!(value.get("explanation").is_some());
    }

    /// What serde's derived `Deserialize` reads from a marker's JSON.
    fn serde_reads(kind: &str, json: &str) -> Option<OidcLogEvent> {
        match kind {
            "token" => serde_json::from_str(json).ok().map(OidcLogEvent::Token),
            "grant" => serde_json::from_str(json).ok().map(OidcLogEvent::Grant),
            "failure" => serde_json::from_str(json).ok().map(OidcLogEvent::Failure),
            _ => None,
        }
    }

    #[test]
    fn markers_are_read_as_serde_would_read_them() {
        let token = r#""issuer":"i","subject":"s","audience":"a","expiresAt":"t""#;
        let grant = r#""cloud":"aws","identity":"r","expiresAt":"t""#;
        let failure = r#""message":"m","explanation":"e""#;
        let presented = r#""presented":{"iss":"i","aud":"a","sub":"s"}"#;
        let cases = [
            // Taken.
            ("token", format!(r#"{{{token},"header":{{}},"claims":{{"n":[1,{{"x":null}}]}}}}"#)),
            ("token", format!(r#"{{{token},"header":{{"kid":"k"}},"claims":{{}},"more":1}}"#)),
            ("grant", format!(r#"{{{grant},"variables":["A","B"],"details":{{"R":"x"}}}}"#)),
            ("grant", format!(r#"{{{grant},"variables":[],"details":{{}}}}"#)),
            ("failure", format!("{{{failure},{presented}}}")),
            ("failure", format!(r#"{{{failure},{presented},"cloud":null,"code":null}}"#)),
            ("failure", format!(r#"{{{failure},{presented},"cloud":"gcp","code":"C"}}"#)),
            // Refused.
            ("token", format!(r#"{{{token},"header":{{}}}}"#)),
            ("token", format!(r#"{{{token},"header":[],"claims":{{}}}}"#)),
            ("token", format!(r#"{{{token},"header":{{}},"claims":null}}"#)),
            ("token", r#"{"issuer":null,"subject":"s","audience":"a","expiresAt":"t","header":{},"claims":{}}"#.into()),
            ("token", r#"{"issuer":1,"subject":"s","audience":"a","expiresAt":"t","header":{},"claims":{}}"#.into()),
            ("grant", format!(r#"{{{grant},"variables":["A",1],"details":{{}}}}"#)),
            ("grant", format!(r#"{{{grant},"variables":"A","details":{{}}}}"#)),
            ("grant", format!(r#"{{{grant},"variables":[],"details":{{"R":1}}}}"#)),
            ("grant", r#"{"cloud":"oracle","identity":"r","expiresAt":"t","variables":[],"details":{}}"#.into()),
            ("grant", r#"{"cloud":null,"identity":"r","expiresAt":"t","variables":[],"details":{}}"#.into()),
            ("grant", r#"{"identity":"r","expiresAt":"t","variables":[],"details":{}}"#.into()),
            ("failure", format!(r#"{{{failure},{presented},"cloud":"AWS"}}"#)),
            ("failure", format!(r#"{{{failure},{presented},"code":7}}"#)),
            ("failure", format!("{{{failure}}}")),
            ("failure", format!(r#"{{{failure},"presented":{{"iss":"i","aud":"a"}}}}"#)),
            ("failure", format!(r#"{{{failure},"presented":"i a s"}}"#)),
            ("failure", r#"{"message":"m","explanation":null,"presented":{"iss":"i","aud":"a","sub":"s"}}"#.into()),
            ("failure", "[]".into()),
            ("failure", "{".into()),
        ];
        let mut taken = 0;
        for (kind, json) in &cases {
            let ours = parse_marker(&format!("{PREFIX}{kind}] {json}"));
            assert_eq!(ours, serde_reads(kind, json), "{kind}: {json}");
            taken += usize::from(ours.is_some());
        }
        assert_eq!(taken, 7, "the first seven are taken");
    }

    #[test]
    fn other_lines_are_not_markers() {
        for line in [
            "Minted an OIDC token for s",
            "##[keyless:oidc-unknown] {}",
            "##[keyless:oidc-grant] {\"cloud\": \"aws\"}",
            "##[keyless:oidc-token]{}",
            "",
        ] {
            assert_eq!(parse_marker(line), None, "{line}");
        }
    }
}
