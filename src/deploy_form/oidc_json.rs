//! The loaded OIDC settings, read straight from their JSON. `OidcConfig`'s derived
//! `Deserialize` reads the same (its tests say so) but, instantiated for the console, cost
//! Settings → Deploy about 3 KB gzipped; this takes what serde takes and refuses what it
//! refuses: strings where strings are due (`null` too), and an optional value may be absent or
//! `null` (or, for a duration or region, empty). Keys it does not know are left alone. Unlike
//! serde it also refuses an array where an object is due (serde reads a struct from its fields
//! in order), which no settings hold.

use keyless_api_types::{AwsOidc, AzureOidc, GcpOidc, OidcConfig};
use serde_json::{Map, Value};

/// The OIDC settings at `operationContext.oidc` (`None` when absent or `null`).
pub fn read(oidc: Option<&Value>) -> Result<Option<OidcConfig>, String> {
    let Some(oidc) = object(oidc, "operationContext.oidc")? else {
        return Ok(None);
    };
    let cloud = |key: &str| object(oidc.get(key), &format!("operationContext.oidc.{key}"));
    let aws = match cloud("aws")? {
        Some(aws) => Some(AwsOidc {
            role_arn: text(aws, "aws", "roleArn")?,
            session_name: text(aws, "aws", "sessionName")?,
            policy_arns: texts(aws, "aws", "policyArns")?,
            duration: optional(aws, "aws", "duration")?,
        }),
        None => None,
    };
    let azure = match cloud("azure")? {
        Some(azure) => Some(AzureOidc {
            client_id: text(azure, "azure", "clientId")?,
            tenant_id: text(azure, "azure", "tenantId")?,
            subscription_id: text(azure, "azure", "subscriptionId")?,
        }),
        None => None,
    };
    let gcp = match cloud("gcp")? {
        Some(gcp) => Some(GcpOidc {
            project_id: text(gcp, "gcp", "projectId")?,
            region: optional(gcp, "gcp", "region")?,
            workload_pool_id: text(gcp, "gcp", "workloadPoolId")?,
            provider_id: text(gcp, "gcp", "providerId")?,
            service_account: text(gcp, "gcp", "serviceAccount")?,
            token_lifetime: optional(gcp, "gcp", "tokenLifetime")?,
        }),
        None => None,
    };
    Ok(Some(OidcConfig { aws, azure, gcp }))
}

fn object<'a>(
    value: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(fields)) => Ok(Some(fields)),
        Some(_) => Err(format!("{path} is not an object")),
    }
}

/// A string that defaults to empty when absent.
fn text(fields: &Map<String, Value>, cloud: &str, key: &str) -> Result<String, String> {
    match fields.get(key) {
        None => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(not_a(cloud, key, "a string")),
    }
}

/// An optional string, `None` also when empty.
fn optional(fields: &Map<String, Value>, cloud: &str, key: &str) -> Result<Option<String>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone()).filter(|t| !t.is_empty())),
        Some(_) => Err(not_a(cloud, key, "a string")),
    }
}

/// An optional list of strings.
fn texts(
    fields: &Map<String, Value>,
    cloud: &str,
    key: &str,
) -> Result<Option<Vec<String>>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| not_a(cloud, key, "a list of strings")),
        Some(_) => Err(not_a(cloud, key, "a list of strings")),
    }
}

fn not_a(cloud: &str, key: &str, what: &str) -> String {
    format!("operationContext.oidc.{cloud}.{key} is not {what}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What serde's derived `Deserialize` makes of `oidc`, as `read` must.
    fn by_serde(oidc: &Value) -> Result<Option<OidcConfig>, String> {
        serde_json::from_value(oidc.clone()).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_serde_reads() {
        let inputs = [
            json!(null),
            json!({}),
            json!({"aws": null, "azure": null, "gcp": null}),
            json!({"aws": {}}),
            json!({"aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "sessionName": "s",
                           "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "duration": "1h",
                           "unknown": 7}}),
            json!({"aws": {"roleArn": "r", "policyArns": null, "duration": ""}}),
            json!({"aws": {"roleArn": "r", "policyArns": []}}),
            json!({"azure": {"clientId": "c", "tenantId": "t", "subscriptionId": "s"}}),
            json!({"azure": {"clientId": "c"}}),
            json!({"gcp": {"projectId": "123", "workloadPoolId": "p", "providerId": "v",
                           "serviceAccount": "sa@x.iam.gserviceaccount.com", "region": "",
                           "tokenLifetime": "3600s"}}),
            json!({"gcp": {"projectId": "123", "region": "europe-west1", "tokenLifetime": null}}),
            json!({"aws": {"roleArn": "r"}, "azure": {"tenantId": "t"}, "gcp": {"providerId": "v"}, "other": 1}),
        ];
        for oidc in inputs {
            assert_eq!(read(Some(&oidc)), by_serde(&oidc), "{oidc}");
        }
        assert_eq!(read(None), Ok(None));
    }

    #[test]
    fn refuses_what_serde_refuses() {
        let inputs = [
            (json!("aws"), "operationContext.oidc is not an object"),
            (
                json!({"aws": true}),
                "operationContext.oidc.aws is not an object",
            ),
            (
                json!({"aws": {"roleArn": 7}}),
                "operationContext.oidc.aws.roleArn is not a string",
            ),
            (
                json!({"aws": {"roleArn": null}}),
                "operationContext.oidc.aws.roleArn is not a string",
            ),
            (
                json!({"aws": {"duration": 3600}}),
                "operationContext.oidc.aws.duration is not a string",
            ),
            (
                json!({"aws": {"policyArns": "arn"}}),
                "operationContext.oidc.aws.policyArns is not a list of strings",
            ),
            (
                json!({"aws": {"policyArns": ["arn", 1]}}),
                "operationContext.oidc.aws.policyArns is not a list of strings",
            ),
            (
                json!({"azure": {"tenantId": {}}}),
                "operationContext.oidc.azure.tenantId is not a string",
            ),
            (
                json!({"gcp": {"region": 1}}),
                "operationContext.oidc.gcp.region is not a string",
            ),
            (
                json!({"gcp": {"serviceAccount": false}}),
                "operationContext.oidc.gcp.serviceAccount is not a string",
            ),
        ];
        for (oidc, message) in inputs {
            assert!(by_serde(&oidc).is_err(), "serde takes {oidc}");
            assert_eq!(read(Some(&oidc)), Err(message.to_owned()), "{oidc}");
        }
        // serde reads a struct from an array of its fields in order; settings never hold one.
        for (oidc, message) in [
            (json!([]), "operationContext.oidc is not an object"),
            (
                json!({"azure": ["c"]}),
                "operationContext.oidc.azure is not an object",
            ),
        ] {
            assert_eq!(read(Some(&oidc)), Err(message.to_owned()), "{oidc}");
        }
    }
}
