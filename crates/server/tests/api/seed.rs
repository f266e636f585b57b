//! The demo seed: what a first start creates, and that a restart does not seed again.

use std::collections::BTreeMap;

use keyless_server::seed::TOKENS_FILE;
use keyless_server::store::StackQuery;
use keyless_server::{Config, start};
use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn demo_tokens_are_written_privately_as_admin_and_member() {
    let app = spawn_app().await;
    let path = app.data_dir.path().join(TOKENS_FILE);
    let file: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&path).expect("tokens file")).expect("JSON");
    assert_eq!(file.keys().collect::<Vec<_>>(), ["admin", "member"]);
    assert_eq!(file["admin"], app.admin);
    assert_eq!(file["member"], app.member);
    for token in file.values() {
        assert!(token.starts_with("pul-") && token.len() == 44, "{token}");
        assert!(token[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
    #[cfg(unix)]
    for name in [TOKENS_FILE, "secret.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data_dir.path().join(name))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let database: Vec<u8> = std::fs::read_dir(app.data_dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("keyless.db"))
        })
        .flat_map(|p| std::fs::read(p).expect("reads"))
        .collect();
    assert!(
        !crate::helpers::contains(&database, &app.admin),
        "tokens are stored hashed only"
    );
}

#[tokio::test]
async fn globex_is_seeded_with_its_own_stack() {
    let app = spawn_app().await;
    let stacks = app
        .store
        .list_stacks(&StackQuery {
            orgs: vec!["globex".into()],
            ..StackQuery::default()
        })
        .await
        .expect("store answers");
    assert_eq!(stacks.len(), 1);
    assert_eq!(stacks[0].stack.to_string(), "globex/infra/prod");
}

#[tokio::test]
async fn a_restart_keeps_data_and_does_not_seed_again() {
    let app = spawn_app().await;
    let tokens_file = std::fs::read(app.data_dir.path().join(TOKENS_FILE)).expect("tokens");
    let config = Config::new(([127, 0, 0, 1], 0).into(), app.data_dir.path().to_owned());
    let (state, tokens) = start(&config, config.listen).await.expect("restarts");
    assert!(tokens.is_none(), "seeding is skipped when data exists");
    let orgs = vec!["acme".to_owned(), "globex".to_owned()];
    let all = state
        .store
        .list_stacks(&StackQuery {
            orgs,
            ..StackQuery::default()
        })
        .await
        .expect("store answers");
    assert_eq!(all.len(), 7);
    assert_eq!(
        std::fs::read(app.data_dir.path().join(TOKENS_FILE)).expect("tokens"),
        tokens_file
    );
    // The old tokens still work against the first server.
    assert_eq!(
        app.get("/api/user", &app.member).await.status,
        StatusCode::OK
    );
}
