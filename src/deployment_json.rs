//! A deployment and a page of its log, read straight from their JSON. The derived
//! `Deserialize` of `GetDeploymentResponse` and `DeploymentLogs` reads the same (the tests
//! compare both) but, instantiated for the console, cost a deployment's page 8.7 KB gzipped,
//! 3 KB of it in the shell every page loads. Like serde, this takes unknown keys, absent or `null` optional values, and absent
//! defaulted ones, and refuses a value of the wrong type anywhere; unlike serde it also refuses
//! an array where an object is due (serde reads a struct from its fields in order), which no
//! answer holds.

use keyless_api_types::{
    DeploymentConfiguration, DeploymentJob, DeploymentLogLine, DeploymentLogs, DeploymentSource,
    DeploymentSourceGit, DeploymentTrigger, EnvironmentVariable, GetDeploymentResponse,
    PulumiOperation, StepRun,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

type Fields = Map<String, Value>;

/// `GET …/deployments/version/{version}`'s answer; `None` when it is not one.
pub fn deployment(value: &Value) -> Option<GetDeploymentResponse> {
    let fields = value.as_object()?;
    Some(GetDeploymentResponse {
        id: text(fields, "id")?,
        created: text(fields, "created")?,
        modified: text(fields, "modified")?,
        status: serde_read(fields, "status")?,
        version: fields.get("version")?.as_i64()?,
        latest_version: fields.get("latestVersion")?.as_i64()?,
        requested_by: serde_read(fields, "requestedBy")?,
        // An operation the console does not know reads as none, as serde's reads it.
        pulumi_operation: optional(fields, "pulumiOperation", string)?
            .and_then(|name| PulumiOperation::parse(&name)),
        initiator: text_or_empty(fields, "initiator")?,
        trigger: optional(fields, "trigger", trigger)?,
        configuration: match fields.get("configuration") {
            None => DeploymentConfiguration::default(),
            Some(value) => configuration(value.as_object()?)?,
        },
        jobs: list(fields, "jobs", job)?,
    })
}

/// A page of `GET …/deployments/{id}/logs` in streaming mode; `None` when it is not one.
pub fn logs(value: &Value) -> Option<DeploymentLogs> {
    let fields = value.as_object()?;
    Some(DeploymentLogs {
        lines: list(fields, "lines", |line| {
            let fields = line.as_object()?;
            Some(DeploymentLogLine {
                header: optional(fields, "header", string)?,
                timestamp: text(fields, "timestamp")?,
                line: optional(fields, "line", string)?,
            })
        })?,
        next_token: optional(fields, "nextToken", string)?,
    })
}

fn trigger(value: &Value) -> Option<DeploymentTrigger> {
    let fields = value.as_object()?;
    Some(DeploymentTrigger {
        repository: text(fields, "repository")?,
        git_ref: text(fields, "ref")?,
        commit: text(fields, "commit")?,
        message: optional(fields, "message", string)?,
        author: optional(fields, "author", string)?,
        pull_request: optional(fields, "pullRequest", Value::as_i64)?,
        delivery_id: text(fields, "deliveryId")?,
    })
}

fn configuration(fields: &Fields) -> Option<DeploymentConfiguration> {
    Some(DeploymentConfiguration {
        environment_variables: list(fields, "environmentVariables", |variable| {
            let fields = variable.as_object()?;
            Some(EnvironmentVariable {
                name: text(fields, "name")?,
                value: optional(fields, "value", string)?,
                secret: match fields.get("secret") {
                    None => false,
                    Some(secret) => secret.as_bool()?,
                },
            })
        })?,
        source: optional(fields, "source", |source| {
            Some(DeploymentSource {
                git: optional(source.as_object()?, "git", |git| {
                    let fields = git.as_object()?;
                    Some(DeploymentSourceGit {
                        repo_url: text(fields, "repoURL")?,
                        branch: optional(fields, "branch", string)?,
                        repo_dir: optional(fields, "repoDir", string)?,
                        commit: optional(fields, "commit", string)?,
                    })
                })?,
            })
        })?,
    })
}

fn job(value: &Value) -> Option<DeploymentJob> {
    let fields = value.as_object()?;
    Some(DeploymentJob {
        status: serde_read(fields, "status")?,
        started: optional(fields, "started", string)?,
        last_updated: optional(fields, "lastUpdated", string)?,
        steps: list(fields, "steps", |step| {
            let fields = step.as_object()?;
            Some(StepRun {
                name: text_or_empty(fields, "name")?,
                status: serde_read(fields, "status")?,
                started: optional(fields, "started", string)?,
                last_updated: optional(fields, "lastUpdated", string)?,
            })
        })?,
    })
}

/// A value of a type other pages read with serde: the console carries that decoder already.
fn serde_read<T: DeserializeOwned>(fields: &Fields, key: &str) -> Option<T> {
    serde_json::from_value(fields.get(key)?.clone()).ok()
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// A string the answer must hold.
fn text(fields: &Fields, key: &str) -> Option<String> {
    string(fields.get(key)?)
}

/// A string that is empty when absent (`null` is refused, as serde refuses it).
fn text_or_empty(fields: &Fields, key: &str) -> Option<String> {
    match fields.get(key) {
        None => Some(String::new()),
        Some(value) => string(value),
    }
}

/// An optional value: `Some(None)` when absent or `null`, `None` when present but unreadable.
fn optional<T>(
    fields: &Fields,
    key: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<Option<T>> {
    match fields.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(value) => read(value).map(Some),
    }
}

/// A list that is empty when absent; `None` when any item is unreadable.
fn list<T>(fields: &Fields, key: &str, read: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    let Some(items) = fields.get(key) else {
        return Some(Vec::new());
    };
    let mut list = Vec::new();
    for item in items.as_array()? {
        list.push(read(item)?);
    }
    Some(list)
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::*;

    /// A deployment holding every key the type has.
    fn full_deployment() -> Value {
        json!({
            "id": "0b6e0d1c-3f7a-4c0e-9f5e-2d9a0e4c1b7a",
            "created": "2026-12-07T10:00:00Z",
            "modified": "2026-12-07T10:01:00Z",
            "status": "running",
            "version": 7,
            "latestVersion": 9,
            "requestedBy": {"name": "Ada", "githubLogin": "ada", "avatarUrl": "https://a/x.png"},
            "pulumiOperation": "update",
            "initiator": "github-push",
            "trigger": {"repository": "acme/infra", "ref": "refs/heads/main", "commit": "abc",
                        "message": "Deploy", "author": "ada", "pullRequest": 12, "deliveryId": "d-1"},
            "configuration": {
                "environmentVariables": [{"name": "A", "value": "1", "secret": false},
                                         {"name": "TOKEN", "secret": true}],
                "source": {"git": {"repoURL": "https://github.com/acme/infra.git", "branch": "main",
                                   "repoDir": "app", "commit": "abc"}}
            },
            "jobs": [{"status": "running", "started": "2026-12-07T10:00:01Z",
                      "lastUpdated": "2026-12-07T10:00:05Z",
                      "steps": [{"name": "Setup", "status": "succeeded",
                                 "started": "2026-12-07T10:00:01Z", "lastUpdated": "2026-12-07T10:00:02Z"},
                                {"name": "Fetch credentials via OIDC", "status": "running"}]}]
        })
    }

    fn full_logs() -> Value {
        json!({
            "__type": "DeploymentLogs",
            "lines": [{"header": "Setup", "timestamp": "2026-12-07T10:00:01Z"},
                      {"timestamp": "2026-12-07T10:00:01.5Z", "line": "cloning"}],
            "nextToken": "42"
        })
    }

    /// `value` with each key, at any depth, removed or replaced by a value of each JSON type
    /// (an object's key by an empty list only when it does not hold an object, see the module).
    fn variants(value: &Value) -> Vec<Value> {
        let replacements = [
            json!(null),
            json!(7),
            json!(-1.5),
            json!(u64::MAX),
            json!("x"),
            json!(true),
            json!({}),
        ];
        let mut out = Vec::new();
        match value {
            Value::Object(fields) => {
                for (key, inner) in fields {
                    let mut removed = fields.clone();
                    removed.remove(key);
                    out.push(Value::Object(removed));
                    let mut with = |replacement: Value| {
                        let mut fields = fields.clone();
                        fields.insert(key.clone(), replacement);
                        out.push(Value::Object(fields));
                    };
                    for replacement in replacements
                        .iter()
                        .cloned()
                        .chain((!inner.is_object()).then(|| json!([])))
                    {
                        with(replacement);
                    }
                    for deeper in variants(inner) {
                        with(deeper);
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    for deeper in variants(item) {
                        let mut items = items.clone();
                        items[index] = deeper;
                        out.push(Value::Array(items));
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn by_serde<T: DeserializeOwned>(value: &Value) -> Option<T> {
        serde_json::from_value(value.clone()).ok()
    }

    /// Asserts that `read` takes `full` and each of its variants exactly as serde does, and
    /// returns how many variants it took and how many it refused.
    fn compare_with_serde<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
        full: &Value,
        read: fn(&Value) -> Option<T>,
    ) -> (usize, usize) {
        assert!(read(full).is_some(), "{full}");
        assert_eq!(read(full), by_serde(full));
        let variants = variants(full);
        let taken = variants
            .iter()
            .filter(|variant| {
                let ours = read(variant);
                assert_eq!(ours, by_serde(variant), "{variant}");
                ours.is_some()
            })
            .count();
        (taken, variants.len() - taken)
    }

    #[test]
    fn a_deployment_is_read_as_serde_reads_it() {
        let (taken, refused) = compare_with_serde(&full_deployment(), deployment);
        // Both outcomes are exercised, many times.
        assert!(
            taken > 50 && refused > 50,
            "{taken} taken, {refused} refused"
        );
        let read = deployment(&full_deployment()).expect("the full deployment");
        assert_eq!(read.configuration.environment_variables[1].value, None);
    }

    #[test]
    fn a_page_of_a_log_is_read_as_serde_reads_it() {
        let (taken, refused) = compare_with_serde(&full_logs(), logs);
        assert!(
            taken > 10 && refused > 10,
            "{taken} taken, {refused} refused"
        );
        assert_eq!(logs(&full_logs()).expect("logs").lines.len(), 2);
        let empty = DeploymentLogs {
            lines: vec![],
            next_token: None,
        };
        assert_eq!(logs(&json!({})), Some(empty));
    }

    #[test]
    fn a_list_where_an_object_is_due_is_refused() {
        let mut answer = full_deployment();
        answer["configuration"] = json!([]);
        assert!(
            by_serde::<GetDeploymentResponse>(&answer).is_some(),
            "serde reads it as a struct's fields"
        );
        assert_eq!(deployment(&answer), None);
        assert_eq!(deployment(&json!([])), None);
    }
}
