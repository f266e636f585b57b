//! How request bodies are read: keys matched case-insensitively the way the real service's Go
//! decoder does (`repoURL` = `repoUrl`, `roleARN` = `roleArn`), then decoded with the path of
//! the first field that does not fit.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ErrorType;
use crate::validate::FieldError;

/// Every field name of the settings schema, in the spec's casing.
const FIELDS: &[&str] = &[
    "accessToken",
    "agentPoolID",
    "aws",
    "azure",
    "basicAuth",
    "branch",
    "cacheOptions",
    "ciphertext",
    "clientId",
    "commit",
    "credentials",
    "defaultIdentifier",
    "deleteAfterDestroy",
    "deployCommits",
    "deployPullRequest",
    "deployTags",
    "duration",
    "enable",
    "environmentVariables",
    "executorContext",
    "executorImage",
    "executorRootPath",
    "gcp",
    "git",
    "gitAuth",
    "gitHub",
    "hg",
    "hgAuth",
    "id",
    "inheritSettings",
    "installationId",
    "isDefault",
    "isSecret",
    "name",
    "oidc",
    "operation",
    "operationContext",
    "options",
    "password",
    "paths",
    "plaintext",
    "policyArns",
    "preRunCommands",
    "previewPullRequests",
    "projectId",
    "projectSourceUrl",
    "provider",
    "providerId",
    "pullRequestTemplate",
    "reference",
    "region",
    "remediateIfDriftDetected",
    "repoDir",
    "repoUrl",
    "repository",
    "reviewStackLabels",
    "revision",
    "role",
    "roleArn",
    "secret",
    "serviceAccount",
    "sessionName",
    "shell",
    "skipInstallDependencies",
    "skipIntermediateDeployments",
    "source",
    "sourceContext",
    "sourceUrl",
    "sshAuth",
    "sshPrivateKey",
    "subscriptionId",
    "tag",
    "tagFilters",
    "template",
    "tenantId",
    "tokenLifetime",
    "userName",
    "username",
    "value",
    "vcs",
    "version",
    "workloadPoolId",
];

/// Fields whose value is a map of user-chosen names, whose keys must be kept as written.
const MAPS: &[&str] = &["environmentVariables"];

/// Rewrites every known key to the spec's casing, recursively; user-named map keys are kept.
/// Request bodies are parsed by serde_json, which refuses 128 levels of nesting or more, so the
/// recursion is bounded.
pub fn canonicalize_keys(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            let taken = std::mem::take(fields);
            *fields = taken
                .into_iter()
                .map(|(key, mut child)| {
                    let key = canonical(&key).map_or(key, str::to_owned);
                    if MAPS.contains(&key.as_str()) {
                        if let Value::Object(entries) = &mut child {
                            entries.values_mut().for_each(canonicalize_keys);
                        }
                    } else {
                        canonicalize_keys(&mut child);
                    }
                    (key, child)
                })
                .collect::<Map<_, _>>();
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize_keys),
        _ => {}
    }
}

fn canonical(key: &str) -> Option<&'static str> {
    FIELDS.iter().copied().find(|f| f.eq_ignore_ascii_case(key))
}

/// Reads an optional string, taking `""` as absent: Go clients send the zero value of a field
/// they leave unset (the CLI's `operationContext.operation: ""`, `gcp.tokenLifetime: ""`).
pub fn empty_as_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(value.filter(|v| !v.is_empty()))
}

/// Decodes `value` into `T`, naming the first field that does not fit.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        let message = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
        FieldError {
            attribute: if path == "." { String::new() } else { path },
            kind: ErrorType::Invalid,
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DeploymentSettings;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn accepts_case_variants_and_emits_spec_casing() {
        let mut body = json!({
            "sourceContext": {"git": {"repoURL": "https://github.com/acme/infra", "Branch": "refs/heads/main"}},
            "operationContext": {
                "oidc": {"AWS": {"roleARN": "arn:aws:iam::123456789012:role/deploy", "sessionname": "s"}},
                "environmentVariables": {"myVar": "x", "ROLEARN": "kept as written"}
            },
            "agentPoolId": "pool"
        });
        canonicalize_keys(&mut body);
        let settings: DeploymentSettings = decode(body).expect("decodes");
        let out = serde_json::to_value(&settings).expect("serializes");
        assert_eq!(
            out["sourceContext"]["git"]["repoUrl"],
            "https://github.com/acme/infra"
        );
        assert_eq!(out["sourceContext"]["git"]["branch"], "refs/heads/main");
        assert_eq!(
            out["operationContext"]["oidc"]["aws"]["roleArn"],
            "arn:aws:iam::123456789012:role/deploy"
        );
        assert_eq!(
            out["operationContext"]["environmentVariables"]["ROLEARN"],
            "kept as written"
        );
        assert_eq!(
            out["operationContext"]["environmentVariables"]["myVar"],
            "x"
        );
        assert_eq!(out["agentPoolID"], "pool");
    }

    #[test]
    fn decode_errors_name_the_field() {
        let err =
            decode::<DeploymentSettings>(json!({"operationContext": {"preRunCommands": "echo"}}))
                .expect_err("a string is not a list");
        assert_eq!(err.attribute, "operationContext.preRunCommands");
        assert!(
            err.message.contains("expected a sequence"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_deepest_parsed_bodies_are_canonicalized_and_refused() {
        let (open, close) = (r#"{"gitHub":["#.repeat(63), "]}".repeat(63));
        assert!(serde_json::from_str::<Value>(&format!("{open}[[]]{close}")).is_err());
        let deepest = format!("{open}{{}}{close}");
        let mut body: Value = serde_json::from_str(&deepest).expect("127 levels parse");
        canonicalize_keys(&mut body);
        let err = decode::<DeploymentSettings>(body).expect_err("not settings");
        assert_eq!(err.attribute, "gitHub[0]");
    }

    proptest! {
        #[test]
        fn any_body_is_decoded_or_named(body in "\\PC{0,200}") {
            if let Ok(mut value) = serde_json::from_str::<Value>(&body) {
                canonicalize_keys(&mut value);
                let _ = decode::<DeploymentSettings>(value);
            }
        }

        #[test]
        fn settings_like_bodies_are_decoded_or_named(
            body in r#"[{}\[\],:"a-zA-Z0-9 ]{0,300}"#,
        ) {
            if let Ok(mut value) = serde_json::from_str::<Value>(&body) {
                canonicalize_keys(&mut value);
                let _ = decode::<DeploymentSettings>(value);
            }
        }
    }
}
