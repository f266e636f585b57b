//! Organizations, accounts, stacks, settings and tokens.

use std::collections::BTreeMap;

use keyless_api_types::{OrgRole, StackRef};
use keyless_server::store::{NewAccount, NewToken, StackQuery, StoreError};
use serde_json::json;

use crate::Fixture;

pub async fn organizations_accounts_and_members(f: Fixture) {
    assert!(f.store.is_empty().await.expect("answers"));
    let pat = f.org_with_admin("acme", "pat").await;
    assert!(!f.store.is_empty().await.expect("answers"));
    assert!(matches!(
        f.store.create_organization("acme", "Again").await,
        Err(StoreError::Conflict)
    ));
    let again = NewAccount {
        login: "pat",
        name: "Pat again",
        email: "other@example.com",
    };
    assert!(matches!(
        f.store.create_account(again).await,
        Err(StoreError::Conflict)
    ));

    // Roles round-trip, and memberships list by organization name.
    f.store
        .create_organization("Zeta", "Zeta Inc")
        .await
        .expect("created");
    f.store
        .create_organization("beta", "Beta")
        .await
        .expect("created");
    f.store
        .add_member("Zeta", &pat.id, OrgRole::Admin)
        .await
        .expect("added");
    f.store
        .add_member("beta", &pat.id, OrgRole::Member)
        .await
        .expect("added");
    let memberships = f.store.memberships(&pat.id).await.expect("listed");
    let listed: Vec<(&str, &str, OrgRole)> = memberships
        .iter()
        .map(|m| (m.org.as_str(), m.org_display_name.as_str(), m.role))
        .collect();
    assert_eq!(
        listed,
        [
            ("Zeta", "Zeta Inc", OrgRole::Admin),
            ("acme", "ACME", OrgRole::Admin),
            ("beta", "Beta", OrgRole::Member),
        ],
        "byte order: upper case first"
    );
    assert!(matches!(
        f.store.add_member("acme", &pat.id, OrgRole::Member).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        f.store
            .add_member("nowhere", &pat.id, OrgRole::Member)
            .await,
        Err(StoreError::Missing)
    ));
}

pub async fn stacks_list_in_byte_order_page_by_key_and_stay_unique(f: Fixture) {
    f.org_with_admin("acme", "pat").await;
    f.store
        .create_organization("globex", "Globex")
        .await
        .expect("created");
    let names = [
        ("acme", "website", "prod"),
        ("acme", "website", "dev"),
        ("acme", "Website", "prod"),
        ("acme", "api", "prod"),
        ("globex", "api", "prod"),
    ];
    let mut tags = BTreeMap::new();
    tags.insert("team".to_owned(), "web".to_owned());
    for (org, project, stack) in names {
        f.store
            .create_stack(&StackRef::new(org, project, stack), &tags)
            .await
            .expect("created");
    }
    let prod = StackRef::new("acme", "website", "prod");
    assert!(matches!(
        f.store.create_stack(&prod, &BTreeMap::new()).await,
        Err(StoreError::Conflict)
    ));
    let found = f.store.stack(&prod).await.expect("answers").expect("found");
    assert_eq!(found.stack, prod);
    assert_eq!(f.store.stack_tags(&found.id).await.expect("tags"), tags);
    let missing = StackRef::new("acme", "website", "staging");
    assert_eq!(f.store.stack(&missing).await.expect("answers"), None);

    let list = |query: StackQuery| {
        let store = f.store.clone();
        async move {
            store
                .list_stacks(&query)
                .await
                .expect("listed")
                .into_iter()
                .map(|r| r.stack.to_string())
                .collect::<Vec<_>>()
        }
    };
    let acme = StackQuery {
        orgs: vec!["acme".into()],
        ..StackQuery::default()
    };
    assert_eq!(
        list(acme.clone()).await,
        [
            "acme/Website/prod",
            "acme/api/prod",
            "acme/website/dev",
            "acme/website/prod"
        ]
    );
    let first_page = StackQuery {
        limit: Some(2),
        ..acme.clone()
    };
    assert_eq!(
        list(first_page).await,
        ["acme/Website/prod", "acme/api/prod"]
    );
    let next_page = StackQuery {
        after: Some(StackRef::new("acme", "api", "prod")),
        limit: Some(2),
        ..acme.clone()
    };
    assert_eq!(
        list(next_page).await,
        ["acme/website/dev", "acme/website/prod"]
    );
    let one_project = StackQuery {
        project: Some("api".into()),
        orgs: vec!["acme".into(), "globex".into()],
        ..StackQuery::default()
    };
    assert_eq!(
        list(one_project).await,
        ["acme/api/prod", "globex/api/prod"]
    );
    assert!(list(StackQuery::default()).await.is_empty());
}

pub async fn settings_count_versions_and_refuse_stale_writes(f: Fixture) {
    f.org_with_admin("acme", "pat").await;
    let stack = f
        .store
        .create_stack(&StackRef::new("acme", "website", "prod"), &BTreeMap::new())
        .await
        .expect("created");
    assert_eq!(f.store.settings(&stack.id).await.expect("answers"), None);
    let document = json!({"sourceContext": {"git": {"branch": "refs/heads/main"}}});
    let first = f
        .store
        .save_settings(&stack.id, None, &document, "api")
        .await
        .expect("saved");
    assert_eq!(first, 1);
    assert!(matches!(
        f.store
            .save_settings(&stack.id, None, &json!({}), "api")
            .await,
        Err(StoreError::Conflict)
    ));
    let second = f
        .store
        .save_settings(&stack.id, Some(1), &json!({"tag": "x"}), "console")
        .await
        .expect("saved");
    assert_eq!(second, 2);
    assert!(matches!(
        f.store
            .save_settings(&stack.id, Some(1), &document, "api")
            .await,
        Err(StoreError::Conflict)
    ));
    let stored = f
        .store
        .settings(&stack.id)
        .await
        .expect("answers")
        .expect("stored");
    assert_eq!(
        (stored.document, stored.source.as_str(), stored.version),
        (json!({"tag": "x"}), "console", 2)
    );
    f.store.delete_settings(&stack.id).await.expect("deleted");
    f.store
        .delete_settings(&stack.id)
        .await
        .expect("deleting again is fine");
    assert_eq!(f.store.settings(&stack.id).await.expect("answers"), None);
}

pub async fn tokens_are_found_by_hash_and_deleted_only_by_their_owner(f: Fixture) {
    let pat = f.org_with_admin("acme", "pat").await;
    let sam = f.org_with_admin("globex", "sam").await;
    let token = f
        .store
        .create_token(NewToken {
            user_id: &pat.id,
            token_hash: "aa11",
            description: "CI",
            expires: Some(4_000_000_000),
        })
        .await
        .expect("created");
    assert_eq!(
        (token.description.as_str(), token.expires, token.last_used),
        ("CI", Some(4_000_000_000), None)
    );
    let duplicate = NewToken {
        user_id: &sam.id,
        token_hash: "aa11",
        description: "same hash",
        expires: None,
    };
    assert!(matches!(
        f.store.create_token(duplicate).await,
        Err(StoreError::Conflict)
    ));

    let (owner, found) = f
        .store
        .token_by_hash("aa11")
        .await
        .expect("answers")
        .expect("found");
    assert_eq!((owner, found.id.as_str()), (pat.clone(), token.id.as_str()));
    f.store
        .record_token_use(&token.id, 2_000)
        .await
        .expect("recorded");
    f.store
        .record_token_use(&token.id, 1_000)
        .await
        .expect("an earlier use is ignored");
    let listed = f.store.tokens(&pat.id).await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used, Some(2_000));
    assert!(f.store.tokens(&sam.id).await.expect("listed").is_empty());

    assert!(
        !f.store
            .delete_token(&sam.id, &token.id)
            .await
            .expect("answers"),
        "not sam's"
    );
    assert!(
        f.store
            .token_by_hash("aa11")
            .await
            .expect("answers")
            .is_some()
    );
    assert!(
        f.store
            .delete_token(&pat.id, &token.id)
            .await
            .expect("answers")
    );
    assert!(
        f.store
            .token_by_hash("aa11")
            .await
            .expect("answers")
            .is_none()
    );
}
