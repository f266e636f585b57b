//! Secrets: sealed on write, never returned or stored in plaintext, kept when sent back as read.

use keyless_server::crypto::Cipher;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PROD, contains, spawn_app};

const PLAINTEXT: &str = "s3cr3t-plaintext-that-must-not-leak";

#[tokio::test]
async fn plaintext_never_appears_in_responses_or_on_disk() {
    let app = spawn_app().await;
    let token = json!({"secret": format!("{PLAINTEXT}-token")});
    let body = json!({
        "operationContext": {"environmentVariables": {"API_KEY": {"secret": PLAINTEXT}}},
        "sourceContext": {"git": {"gitAuth": {"accessToken": token}}}
    });
    let post = app.patch(PROD, &body).await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text);
    let put_body =
        json!({"operationContext": {"environmentVariables": {"OTHER": {"secret": PLAINTEXT}}}});
    let put = app
        .write(
            Method::PUT,
            "/api/stacks/acme/website/dev/deployments/settings",
            &app.admin,
            &put_body,
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let get = app.get(PROD, &app.member).await;
    for reply in [&post, &put, &get] {
        assert!(!reply.text.contains(PLAINTEXT), "leaked: {}", reply.text);
    }
    let secret = &get.body["operationContext"]["environmentVariables"]["API_KEY"];
    assert_eq!(secret["secret"], "[secret]");
    let ciphertext = secret["ciphertext"].as_str().expect("a ciphertext");
    assert_eq!(
        get.body["sourceContext"]["git"]["gitAuth"]["accessToken"]["secret"],
        "[secret]"
    );
    let disk = app.stored_bytes().await;
    assert!(
        contains(&disk, ciphertext),
        "the settings were written to disk"
    );
    assert!(
        !contains(&disk, PLAINTEXT),
        "plaintext found in the data directory"
    );
}

#[tokio::test]
async fn sending_settings_back_as_read_keeps_secret_values() {
    let app = spawn_app().await;
    let stack_id = app.stack_id("acme", "website", "prod").await;
    let written = app
        .patch(PROD, &json!({"operationContext": {"environmentVariables": {"API_KEY": {"secret": PLAINTEXT}}}}))
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    let read = app.get(PROD, &app.admin).await.body;
    let ciphertext =
        read["operationContext"]["environmentVariables"]["API_KEY"]["ciphertext"].clone();

    // PUT of exactly what was read, and a POST patch that resends the secret as read.
    let put = app.write(Method::PUT, PROD, &app.admin, &read).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let resent = json!({"operationContext": {"environmentVariables": {"API_KEY": {"secret": "[secret]", "ciphertext": ciphertext}}}});
    let post = app.patch(PROD, &resent).await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text);
    assert_eq!(
        post.body["operationContext"]["environmentVariables"]["API_KEY"]["ciphertext"],
        ciphertext
    );

    let cipher = Cipher::load_or_create(app.data_dir.path()).expect("the server's key");
    let stored = app
        .stored_settings("acme", "website", "prod")
        .await
        .expect("settings");
    let sealed =
        stored.document["operationContext"]["environmentVariables"]["API_KEY"]["ciphertext"]
            .as_str()
            .expect("stored sealed");
    assert_eq!(
        cipher.open(sealed, stack_id.as_str()).expect("opens"),
        PLAINTEXT
    );

    // The seeded secret survives patches that do not mention it.
    let seeded = &stored.document["operationContext"]["environmentVariables"]["DATADOG_API_KEY"];
    assert_eq!(
        cipher
            .open(
                seeded["ciphertext"].as_str().expect("sealed"),
                stack_id.as_str()
            )
            .expect("opens"),
        "demo-datadog-key-not-real"
    );
}

#[tokio::test]
async fn a_new_value_replaces_a_sealed_secret() {
    let app = spawn_app().await;
    let before = app.get(PROD, &app.admin).await.body;
    let old =
        before["operationContext"]["environmentVariables"]["DATADOG_API_KEY"]["ciphertext"].clone();
    let reply = app
        .patch(PROD, &json!({"operationContext": {"environmentVariables": {"DATADOG_API_KEY": {"secret": "rotated"}}}}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let new = &reply.body["operationContext"]["environmentVariables"]["DATADOG_API_KEY"];
    assert_eq!(new["secret"], "[secret]");
    assert_ne!(new["ciphertext"], old);
    let cipher = Cipher::load_or_create(app.data_dir.path()).expect("the server's key");
    let stack_id = app.stack_id("acme", "website", "prod").await;
    let sealed = new["ciphertext"].as_str().expect("sealed");
    assert_eq!(
        cipher.open(sealed, stack_id.as_str()).expect("opens"),
        "rotated"
    );
}

#[tokio::test]
async fn forged_replayed_or_missing_ciphertexts_are_400() {
    let app = spawn_app().await;
    let attribute = "operationContext.environmentVariables.DATADOG_API_KEY";
    let seeded = app.get(PROD, &app.admin).await.body;
    let prod_ciphertext =
        seeded["operationContext"]["environmentVariables"]["DATADOG_API_KEY"]["ciphertext"].clone();
    let secret = |value: Value| json!({"operationContext": {"environmentVariables": {"DATADOG_API_KEY": value}}});
    let before = app.stored_settings("acme", "website", "prod").await;
    let new_var = "operationContext.environmentVariables.NEW_KEY";
    let cases = [
        (
            "forged",
            Method::POST,
            secret(
                json!({"secret": "[secret]", "ciphertext": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
            ),
            attribute,
            "invalid",
        ),
        (
            "not base64",
            Method::POST,
            secret(json!({"secret": "[secret]", "ciphertext": "%%%"})),
            attribute,
            "invalid",
        ),
        (
            "ciphertext only",
            Method::POST,
            secret(json!({"ciphertext": "AAAA"})),
            attribute,
            "invalid",
        ),
        (
            "replaced without ciphertext",
            Method::PUT,
            secret(json!({"secret": "[secret]"})),
            attribute,
            "required",
        ),
        (
            "new without ciphertext",
            Method::POST,
            json!({"operationContext": {"environmentVariables": {"NEW_KEY": {"secret": "[secret]"}}}}),
            new_var,
            "required",
        ),
    ];
    for (name, method, body, attribute, kind) in cases {
        let reply = app.write(method, PROD, &app.admin, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            reply.text
        );
        let error = reply.error();
        let detail = error.errors.iter().find(|e| e.attribute == attribute);
        let detail = detail.unwrap_or_else(|| panic!("{name}: {}", reply.text));
        assert_eq!(
            serde_json::to_value(detail.error_type).expect("serialises"),
            kind,
            "{name}"
        );
        assert_eq!(
            app.stored_settings("acme", "website", "prod").await,
            before,
            "{name}"
        );
    }

    // Patching a stored secret with just "[secret]" keeps it: the stored ciphertext merges in.
    let keep = app
        .patch(PROD, &secret(json!({"secret": "[secret]"})))
        .await;
    assert_eq!(keep.status, StatusCode::OK, "{}", keep.text);
    assert_eq!(
        keep.body["operationContext"]["environmentVariables"]["DATADOG_API_KEY"]["ciphertext"],
        prod_ciphertext
    );

    // A ciphertext read from one stack cannot be replayed into another.
    let dev = "/api/stacks/acme/website/dev/deployments/settings";
    let replay = secret(json!({"secret": "[secret]", "ciphertext": prod_ciphertext}));
    let reply = app.patch(dev, &replay).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), [attribute]);
    assert_eq!(app.get(dev, &app.admin).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn type_errors_do_not_echo_the_value() {
    let app = spawn_app().await;
    // The key pasted where its object goes (a string is a fine `sshPrivateKey`).
    let body = json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "gitAuth": {"sshAuth": PLAINTEXT}}}});
    let reply = app.patch(PROD, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(
        reply.error_attributes(),
        ["sourceContext.git.gitAuth.sshAuth"]
    );
    assert!(!reply.text.contains(PLAINTEXT), "{}", reply.text);
}
