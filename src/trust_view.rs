//! The OIDC setup assistant's logic as plain Rust, tested natively: the scope picker's labels,
//! notes by level, verdicts, claims as rows, countdowns and what a 429 says.
//!
//! Notes, commands and verdicts are `keyless_api_types::trust` types, shared with the server.
//! The generated policy documents (`keyless_trust::TrustConfig`) stay JSON, shown as they are:
//! the console carries no copy of the generator's document types.

use std::cmp::Reverse;

use keyless_api_types::Cloud;
use keyless_api_types::trust::{Command, Note, ScopeKind};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The scope picker's label for `kind`.
pub fn scope_label(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::StackOperation => "This stack and operation",
        ScopeKind::Stack => "This stack, all operations",
        ScopeKind::Project => "Project",
        ScopeKind::Org => "Organization",
    }
}

/// The `notes` of one cloud's configuration, errors first, then warnings, then information,
/// each group in the server's order.
pub fn notes(cloud: &Value) -> Vec<Note> {
    let mut notes: Vec<Note> = decoded_list(cloud, "notes");
    notes.sort_by_key(|note| Reverse(note.level));
    notes
}

/// The `commands` of one cloud's configuration.
pub fn commands(cloud: &Value) -> Vec<Command> {
    decoded_list(cloud, "commands")
}

/// The entries of the list under `key` that decode as `T` (none when there is no list).
fn decoded_list<T: DeserializeOwned>(cloud: &Value, key: &str) -> Vec<T> {
    cloud
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| T::deserialize(entry).ok())
        .collect()
}

/// The string at `pointer`, or an empty string.
pub fn text_at(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// JSON as people read it: indented by two spaces.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// One cloud's generated trust, laid out for the page: every cloud shows the same parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudTrust {
    pub cloud: Cloud,
    /// A line under the heading (Azure: how many credentials).
    pub summary: Option<String>,
    pub notes: Vec<Note>,
    /// Values to type into the cloud's console: (label, value).
    pub facts: Vec<(&'static str, String)>,
    /// JSON to paste: (label, text).
    pub blocks: Vec<(&'static str, String)>,
    pub commands: Vec<Command>,
}

/// The sections of a generated `keyless_trust::TrustConfig`, one per enabled cloud: AWS's
/// identity provider and role trust policy, Azure's federated credentials (and the flexible
/// alternative), Google's workload identity provider and service account bindings.
pub fn cloud_sections(trust: &Value) -> Vec<CloudTrust> {
    let json =
        |cloud: &Value, pointer: &str| cloud.pointer(pointer).map(pretty).unwrap_or_default();
    let mut sections = Vec::new();
    if let Some(aws) = trust.get(Cloud::Aws.key()) {
        sections.push(CloudTrust {
            cloud: Cloud::Aws,
            summary: Some(text_at(aws, "/provider/thumbprintNote")).filter(|s| !s.is_empty()),
            notes: notes(aws),
            facts: vec![
                ("Identity provider URL", text_at(aws, "/provider/url")),
                ("Audience", text_at(aws, "/provider/audience")),
            ],
            blocks: vec![("The role's trust policy", json(aws, "/trustPolicy"))],
            commands: commands(aws),
        });
    }
    if let Some(azure) = trust.get(Cloud::Azure.key()) {
        let count = azure
            .get("credentials")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let plural = if count == 1 { "" } else { "s" };
        sections.push(CloudTrust {
            cloud: Cloud::Azure,
            summary: Some(format!(
                "{count} federated credential{plural} (Entra ID allows 20 per app)."
            )),
            notes: notes(azure),
            facts: Vec::new(),
            blocks: vec![
                ("Federated credentials", json(azure, "/credentials")),
                ("Or one flexible credential", json(azure, "/flexible")),
            ],
            commands: commands(azure),
        });
    }
    if let Some(gcp) = trust.get(Cloud::Gcp.key()) {
        let audiences = gcp
            .pointer("/provider/oidc/allowedAudiences")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        sections.push(CloudTrust {
            cloud: Cloud::Gcp,
            summary: None,
            notes: notes(gcp),
            facts: vec![
                ("Issuer", text_at(gcp, "/provider/oidc/issuerUri")),
                ("Allowed audience", audiences),
                (
                    "Attribute condition",
                    text_at(gcp, "/provider/attributeCondition"),
                ),
            ],
            blocks: vec![
                ("Attribute mapping", json(gcp, "/provider/attributeMapping")),
                ("Service account bindings", json(gcp, "/policy/bindings")),
            ],
            commands: commands(gcp),
        });
    }
    sections
}

/// A token's decoded claims as (name, value) rows in the token's order; strings unquoted,
/// everything else as JSON.
pub fn claim_rows(claims: &Value) -> Vec<(String, String)> {
    claims
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let shown = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), shown)
        })
        .collect()
}

/// Time left until an expiry, counting down: `expires in 59:58`, `expires in 1:02:03`,
/// `expired`.
pub fn countdown(seconds_left: i64) -> String {
    if seconds_left <= 0 {
        return "expired".to_owned();
    }
    let (hours, minutes, seconds) = (
        seconds_left / 3_600,
        seconds_left / 60 % 60,
        seconds_left % 60,
    );
    if hours > 0 {
        format!("expires in {hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("expires in {minutes}:{seconds:02}")
    }
}

/// What a 429 from Test OIDC tells the admin: the wait its `Retry-After` header names, else
/// the server's message.
pub fn too_many_tests(retry_after_seconds: Option<u64>, message: &str) -> String {
    match retry_after_seconds {
        Some(seconds) => format!("Too many tests: try again in {seconds} s."),
        None => message.to_owned(),
    }
}

/// Pasted trust configuration: `None` when the box is empty, else its JSON, or why it is not
/// JSON.
pub fn parse_pasted(text: &str) -> Result<Option<Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| format!("This is not JSON: {e}."))
}

#[cfg(test)]
mod tests {
    use keyless_api_types::trust::Level;
    use serde_json::json;

    use super::*;

    #[test]
    fn notes_are_grouped_errors_first_keeping_the_servers_order_within_a_level() {
        let cloud = json!({"notes": [
            {"level": "info", "text": "i1"},
            {"level": "warning", "text": "w1"},
            {"level": "error", "text": "e1"},
            {"level": "info", "text": "i2"},
            {"level": "warning", "text": "w2"},
            {"text": "no level"},
        ]});
        let grouped = notes(&cloud);
        let texts: Vec<(Level, &str)> =
            grouped.iter().map(|n| (n.level, n.text.as_str())).collect();
        assert_eq!(
            texts,
            [
                (Level::Error, "e1"),
                (Level::Warning, "w1"),
                (Level::Warning, "w2"),
                (Level::Info, "i1"),
                (Level::Info, "i2"),
            ]
        );
        assert!(notes(&json!({})).is_empty());
    }

    #[test]
    fn pasted_trust_is_empty_json_or_an_error() {
        assert_eq!(parse_pasted("  \n"), Ok(None));
        assert_eq!(
            parse_pasted(r#"{"Version": "2012-10-17"}"#),
            Ok(Some(json!({"Version": "2012-10-17"})))
        );
        assert!(
            parse_pasted("{oops")
                .unwrap_err()
                .starts_with("This is not JSON")
        );
    }

    #[test]
    fn countdown_formats_minutes_hours_and_expiry() {
        assert_eq!(countdown(3_599), "expires in 59:59");
        assert_eq!(countdown(65), "expires in 1:05");
        assert_eq!(countdown(3_723), "expires in 1:02:03");
        assert_eq!(countdown(0), "expired");
        assert_eq!(countdown(-5), "expired");
    }

    #[test]
    fn too_many_tests_names_the_wait_else_the_servers_message() {
        assert_eq!(
            too_many_tests(Some(42), "Slow down"),
            "Too many tests: try again in 42 s."
        );
        assert_eq!(too_many_tests(None, "Slow down"), "Slow down");
    }

    #[test]
    fn claims_become_rows_with_strings_unquoted() {
        let rows =
            claim_rows(&json!({"sub": "pulumi:deploy:org:acme", "deployment": 0, "aud": ["a"]}));
        assert!(rows.contains(&("sub".into(), "pulumi:deploy:org:acme".into())));
        assert!(rows.contains(&("deployment".into(), "0".into())));
        assert!(rows.contains(&("aud".into(), "[\"a\"]".into())));
    }

    #[test]
    fn sections_follow_the_enabled_clouds_with_the_azure_count() {
        let trust = json!({
            "azure": {"credentials": [{}, {}, {}], "flexible": {"name": "f"}, "commands": [], "notes": []},
            "aws": {"provider": {"url": "https://k.example/oidc", "audience": "acme"},
                "trustPolicy": {"Version": "2012-10-17"}, "commands": [], "notes": []},
        });
        let sections = cloud_sections(&trust);
        let clouds: Vec<Cloud> = sections.iter().map(|s| s.cloud).collect();
        assert_eq!(clouds, [Cloud::Aws, Cloud::Azure]);
        assert_eq!(sections[0].facts[1], ("Audience", "acme".to_owned()));
        assert!(
            sections[0].blocks[0]
                .1
                .contains("\"Version\": \"2012-10-17\"")
        );
        assert_eq!(
            sections[1].summary.as_deref(),
            Some("3 federated credentials (Entra ID allows 20 per app).")
        );
        assert!(cloud_sections(&json!({})).is_empty());
    }

    #[test]
    fn commands_and_text_read_a_cloud_section() {
        let cloud = json!({
            "provider": {"url": "https://k.example/oidc", "audience": "acme"},
            "commands": [{"summary": "Create the role", "line": "aws iam create-role"}, {"summary": 1}],
        });
        assert_eq!(
            commands(&cloud),
            [Command {
                summary: "Create the role".into(),
                line: "aws iam create-role".into()
            }]
        );
        assert_eq!(text_at(&cloud, "/provider/audience"), "acme");
        assert_eq!(text_at(&cloud, "/provider/missing"), "");
    }
}
