//! Requests exactly as Pulumi's clients send them (`tests/pulumi-clients/*.json`, described in
//! its README): each is accepted, stored as intended and read back in the documented shape;
//! settings survive the round trips the CLI and the provider make with what they read; and no
//! secret's plaintext reaches a response or the disk.

use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, contains, spawn_app};

const STACK: &str = "/api/stacks/acme/website/dev";
const SETTINGS: &str = "/api/stacks/acme/website/dev/deployments/settings";
const CIPHERTEXT: &str = "<ciphertext>";

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pulumi-clients");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the fixture folder lists")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().expect("a name").to_string_lossy().into();
            let text = std::fs::read_to_string(&path).expect("the fixture reads");
            let fixture = serde_json::from_str(&text)
                .unwrap_or_else(|err| panic!("{name} is not JSON: {err}"));
            (name, fixture)
        })
        .collect()
}

#[tokio::test]
async fn requests_as_pulumis_clients_send_them_are_stored_and_read_back_as_documented() {
    let app = spawn_app().await;
    // Deployments are queued, not run: only what was stored is under test here.
    let paused = app
        .write(
            Method::POST,
            "/api/orgs/acme/deployments/pause",
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let fixtures = fixtures();
    assert!(fixtures.len() >= 10, "the fixture set is there");
    for (name, fixture) in fixtures {
        run(&app, &name, &fixture).await;
    }
}

async fn run(app: &TestApp, name: &str, fixture: &Value) {
    let reset = app
        .send(app.request(Method::DELETE, SETTINGS, Some(&app.admin)))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{name}: {}", reset.text);
    let mut replies = Vec::new();
    if let Some(given) = fixture.get("given") {
        let reply = app.write(Method::PUT, SETTINGS, &app.admin, given).await;
        assert_eq!(reply.status, StatusCode::OK, "{name} given: {}", reply.text);
    }

    let request = &fixture["request"];
    let method: Method = request["method"]
        .as_str()
        .expect("a method")
        .parse()
        .expect("known");
    let path = format!("{STACK}/{}", request["path"].as_str().expect("a path"));
    let token = match fixture.get("by").and_then(Value::as_str) {
        None | Some("admin") => &app.admin,
        Some("member") => &app.member,
        Some(other) => panic!("{name}: `by` is admin or member, not {other}"),
    };
    let mut builder = app
        .request(method, &path, Some(token))
        .body(request["body"].to_string());
    for (header, value) in request["headers"].as_object().into_iter().flatten() {
        builder = builder.header(header, value.as_str().expect("a header value"));
    }
    let reply = app.send(builder).await;
    let status = fixture["status"].as_u64().expect("a status");
    assert_eq!(
        u64::from(reply.status.as_u16()),
        status,
        "{name}: {}",
        reply.text
    );
    if let Some(expected) = fixture.get("response") {
        assert_shape(name, expected, &reply.body, true);
    }
    replies.push(reply.text.clone());

    if let Some(read_back) = fixture.get("readBack") {
        let path = read_back["path"].as_str().expect("a path");
        let path = match reply.body["id"].as_str() {
            Some(id) => path.replace("{id}", id),
            None => path.to_owned(),
        };
        let read = app.get(&format!("{STACK}/{path}"), &app.admin).await;
        assert_eq!(read.status, StatusCode::OK, "{name}: {}", read.text);
        let exact = read_back["exact"].as_bool().unwrap_or(false);
        assert_shape(name, &read_back["body"], &read.body, exact);
        replies.push(read.text.clone());
        if path == "deployments/settings" {
            replies.extend(round_trips(app, name, &read.body).await);
        }
    }

    let disk = app.stored_bytes().await;
    for secret in fixture["secrets"]
        .as_array()
        .expect("the fixture lists its secrets")
    {
        let secret = secret.as_str().expect("a plaintext");
        for text in &replies {
            assert!(
                !text.contains(secret),
                "{name}: {secret} answered in {text}"
            );
        }
        assert!(!contains(&disk, secret), "{name}: {secret} is on disk");
    }
}

/// `expected` against `actual`: `"<ciphertext>"` matches any ciphertext string; `null` matches
/// an absent field; unless `exact`, fields of objects not shown are not compared.
fn assert_shape(name: &str, expected: &Value, actual: &Value, exact: bool) {
    if let Err(at) = matches(expected, actual, exact, "") {
        panic!("{name}: differs at `{at}`\nexpected {expected:#}\nactual {actual:#}");
    }
}

fn matches(expected: &Value, actual: &Value, exact: bool, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if e == CIPHERTEXT => (a.len() >= 24
            && !a.contains(char::is_whitespace))
        .then_some(())
        .ok_or_else(|| at.to_owned()),
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let at = format!("{at}.{key}");
                match a.get(key) {
                    None if value.is_null() => {}
                    None => return Err(at),
                    Some(actual) => matches(value, actual, exact, &at)?,
                }
            }
            match a.keys().find(|key| exact && !e.contains_key(*key)) {
                Some(extra) => Err(format!("{at}.{extra}")),
                None => Ok(()),
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .try_for_each(|(i, (e, a))| matches(e, a, exact, &format!("{at}[{i}]"))),
        _ if expected == actual => Ok(()),
        _ => Err(at.to_owned()),
    }
}

/// Writes the settings back the way Pulumi's clients do after reading them, and checks that
/// every secret keeps its value: the CLI's `SecretValue` sends a ciphertext alone
/// (`{"ciphertext": …}`), the provider's the object as read. Returns the replies.
async fn round_trips(app: &TestApp, name: &str, read: &Value) -> Vec<String> {
    let mut as_cli = read.clone();
    ciphertexts_only(&mut as_cli);
    let mut replies = Vec::new();
    for (client, body) in [("the CLI", as_cli), ("the provider", read.clone())] {
        let written = app.write(Method::PUT, SETTINGS, &app.admin, &body).await;
        assert_eq!(
            written.status,
            StatusCode::OK,
            "{name}, {client}: {}",
            written.text
        );
        let again = app.get(SETTINGS, &app.admin).await;
        assert_eq!(
            without_version(&again.body),
            without_version(read),
            "{name}: {client}'s round trip changed the settings"
        );
        replies.extend([written.text, again.text]);
    }
    replies
}

/// Every `{"secret": "[secret]", "ciphertext": c}` as `{"ciphertext": c}`.
fn ciphertexts_only(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            if fields.contains_key("ciphertext") {
                fields.remove("secret");
            }
            fields.values_mut().for_each(ciphertexts_only);
        }
        Value::Array(items) => items.iter_mut().for_each(ciphertexts_only),
        _ => {}
    }
}

fn without_version(settings: &Value) -> Map<String, Value> {
    let mut fields = settings
        .as_object()
        .cloned()
        .expect("settings are an object");
    fields.remove("version");
    fields.remove("source");
    fields
}

#[tokio::test]
async fn a_ciphertext_from_encrypt_is_a_secret_settings_keep() {
    let app = spawn_app().await;
    let encrypted = app
        .write(
            Method::POST,
            &format!("{SETTINGS}/encrypt"),
            &app.admin,
            &json!("fixture-encrypted-token"),
        )
        .await;
    assert_eq!(encrypted.status, StatusCode::OK, "{}", encrypted.text);
    let ciphertext = encrypted.body["ciphertext"].as_str().expect("a ciphertext");
    let patch = json!({"operationContext": {"environmentVariables": {
        "TOKEN": {"ciphertext": ciphertext}
    }}});
    let saved = app.patch(SETTINGS, &patch).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        saved.body["operationContext"]["environmentVariables"]["TOKEN"],
        json!({"secret": "[secret]", "ciphertext": ciphertext})
    );
    // Issued for this stack only: another stack's settings refuse it, naming the field.
    let elsewhere = app
        .patch(
            "/api/stacks/acme/website/staging/deployments/settings",
            &patch,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        elsewhere.error_attributes(),
        ["operationContext.environmentVariables.TOKEN"]
    );
}

#[tokio::test]
async fn encrypt_refuses_nothing_and_members() {
    let app = spawn_app().await;
    let path = format!("{SETTINGS}/encrypt");
    for body in [json!(""), json!({"secret": ""}), json!({}), json!(42)] {
        let reply = app.write(Method::POST, &path, &app.admin, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.error_attributes(), ["secret"], "{body}");
    }
    let member = app
        .write(Method::POST, &path, &app.member, &json!("value"))
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn clients_name_themselves_only_with_names_a_client_may_have() {
    let app = spawn_app().await;
    let deployments = format!("{STACK}/deployments");
    let settings =
        json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website.git"}}});
    let initiators = [
        (
            ("x-pulumi-deployment-initiator", "automation-api"),
            "automation-api",
        ),
        // Deliveries from GitHub start these, with their trigger; a client cannot.
        (("x-pulumi-deployment-initiator", "github-push"), "api"),
        (("x-pulumi-deployment-initiator", "Automation API"), "api"),
        (("x-keyless-client", "console"), "console"),
    ];
    app.write(
        Method::POST,
        "/api/orgs/acme/deployments/pause",
        &app.admin,
        &json!({}),
    )
    .await;
    for ((header, value), initiator) in initiators {
        let mut body = settings.clone();
        body["operation"] = json!("preview");
        let request = app
            .request(Method::POST, &deployments, Some(&app.admin))
            .header(header, value)
            .json(&body);
        let created = app.send(request).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let id = created.body["id"].as_str().expect("an id");
        let read = app.get(&format!("{deployments}/{id}"), &app.admin).await;
        assert_eq!(read.body["initiator"], initiator, "{header}: {value}");
    }
    let sources = [
        ("provider", "provider"),
        ("Provider", "provider"),
        ("github-gitops", "api"),
        ("Pulumi CLI", "api"),
    ];
    for (value, source) in sources {
        let request = app
            .request(Method::PUT, SETTINGS, Some(&app.admin))
            .header("x-pulumi-source", value)
            .json(&settings);
        let saved = app.send(request).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        assert_eq!(saved.body["source"], source, "X-Pulumi-Source: {value}");
        let read = app.get(SETTINGS, &app.admin).await;
        assert_eq!(read.body["source"], source, "X-Pulumi-Source: {value}");
    }
}
