//! `migrate-store`: a server's SQLite store copied into PostgreSQL answers as it did, on the
//! same data dir, with the same tokens, settings, deployments and logs.

use keyless_server::Config;
use keyless_server::store::copy::{CopyError, copy};
use keyless_server::store::{DeploymentId, NewLogLine, Store};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::held_preview;
use crate::helpers::{PROD, spawn_with};
use crate::support::Schema;

#[tokio::test]
async fn a_sqlite_store_copied_to_postgresql_answers_as_before() {
    // On SQLite whatever store the other tests use: that is what there is to move up from.
    let data_dir = tempfile::tempdir().expect("data dir");
    let sqlite = format!("sqlite://{}", data_dir.path().join("keyless.db").display());
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.database_url = Some(sqlite.clone());
    let (app, tokens) = spawn_with(config.clone(), data_dir).await;
    let demo = tokens.expect("seeded");
    let app = app.signed_in(demo.clone());

    // A held deployment with a log, a token of Alice's own, and her settings' secret.
    let (base, id) = held_preview(&app).await;
    let lines: Vec<NewLogLine> = (0..10_000)
        .map(|i| NewLogLine {
            step: 0,
            step_offset: Some(i),
            timestamp: "2026-12-06T09:00:00.000000Z".into(),
            header: None,
            line: Some(format!("line {i}\n")),
        })
        .collect();
    let stored = DeploymentId::from(id.as_str());
    app.store
        .append_logs(&stored, &lines)
        .await
        .expect("logged");
    let token = app
        .write(
            Method::POST,
            "/api/user/tokens",
            &app.admin,
            &json!({"description": "CI"}),
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    let own_token = token.body["tokenValue"]
        .as_str()
        .expect("a token")
        .to_owned();
    let secret = app
        .patch(
            PROD,
            &json!({"operationContext": {"environmentVariables": {"API_KEY": {"secret": "s3cr3t"}}}}),
        )
        .await;
    assert_eq!(secret.status, StatusCode::OK, "{}", secret.text);

    let pool = app
        .write(
            Method::POST,
            "/api/orgs/acme/agent-pools",
            &app.admin,
            &json!({"name": "on-prem", "description": "racks"}),
        )
        .await;
    assert_eq!(pool.status, StatusCode::OK, "{}", pool.text);

    let reads = [
        // The signing keys move too: clouds trust them.
        "/oidc/.well-known/jwks".to_owned(),
        "/api/orgs/acme/agent-pools".to_owned(),
        PROD.to_owned(),
        base.clone(),
        format!("{base}/{id}"),
        format!("{base}/{id}/logs"),
        "/api/user/tokens".to_owned(),
    ];
    let mut before = Vec::new();
    for path in &reads {
        before.push(app.get(path, &app.admin).await.body);
    }
    let data_dir = app.crash();

    let (_schema, postgres) = Schema::create().await;
    let counts = copy(&sqlite, &postgres).await.expect("copied");
    let logs = counts
        .iter()
        .find(|(table, _)| *table == "deployment_logs")
        .map(|(_, rows)| *rows);
    assert_eq!(logs, Some(10_000));
    assert!(matches!(
        copy(&sqlite, &postgres).await,
        Err(CopyError::TargetNotEmpty("organizations"))
    ));
    assert!(matches!(
        copy(&postgres, &sqlite).await,
        Err(CopyError::Urls)
    ));

    config.database_url = Some(postgres);
    let (app, fresh) = spawn_with(config, data_dir).await;
    assert!(fresh.is_none(), "the copy is not seeded again");
    let app = app.signed_in(demo);
    for (path, was) in reads.iter().zip(&before) {
        let now = app.get(path, &app.admin).await;
        assert_eq!(now.status, StatusCode::OK, "{path}: {}", now.text);
        assert_eq!(&now.body, was, "{path}");
    }
    let whoami = app.get("/api/user", &own_token).await;
    assert_eq!(
        whoami.status,
        StatusCode::OK,
        "a token made before the move still works"
    );
    // New rows continue the copied sequences.
    let next = app.deploy(&base, &json!({"operation": "update"})).await;
    let listed = app.get(&base, &app.admin).await;
    let ids: Vec<&str> = listed.body["deployments"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(
        ids,
        [next.as_str(), id.as_str()],
        "newest first, after the copied one"
    );
}

/// A column the copy does not know (a migration that added one without teaching `TABLES`)
/// stops it before it writes a row, instead of leaving that column's data behind.
#[tokio::test]
async fn a_column_the_copy_does_not_know_stops_it_before_it_copies_anything() {
    let dir = tempfile::tempdir().expect("data dir");
    let sqlite = format!("sqlite://{}", dir.path().join("keyless.db").display());
    let source = keyless_server::store::SqliteStore::connect(&sqlite)
        .await
        .expect("connects");
    source.migrate().await.expect("migrates");
    let (_schema, postgres) = Schema::create().await;
    let target = keyless_server::store::PostgresStore::connect(&postgres)
        .await
        .expect("connects");
    target.migrate().await.expect("migrates");
    let pool = sqlx::PgPool::connect(&postgres).await.expect("connects");
    sqlx::query("ALTER TABLE stacks ADD COLUMN color TEXT")
        .execute(&pool)
        .await
        .expect("column added");

    let refused = copy(&sqlite, &postgres).await;
    assert!(
        matches!(&refused, Err(CopyError::Uncovered(column)) if column == "stacks.color"),
        "{refused:?}"
    );
    let organizations: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations")
        .fetch_one(&pool)
        .await
        .expect("counted");
    assert_eq!(organizations, 0);
}
