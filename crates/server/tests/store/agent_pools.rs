//! Agent pools: named per organization, found by their token's hash, never across
//! organizations.

use keyless_server::store::{AgentSeen, NewAgentPool, StoreError};

use crate::Fixture;

fn pool<'a>(org: &'a str, name: &'a str, token_hash: &'a str) -> NewAgentPool<'a> {
    NewAgentPool {
        org,
        name,
        description: "",
        token_hash,
        created: 1_765_000_000,
    }
}

pub async fn pools_are_named_per_organization_and_found_by_token(f: Fixture) {
    f.org_with_admin("acme", "pat").await;
    f.org_with_admin("globex", "gina").await;
    let store = &f.store;
    let zeta = store
        .create_agent_pool(pool("acme", "zeta", "hash-z"))
        .await
        .expect("made");
    let alpha = store
        .create_agent_pool(NewAgentPool {
            description: "racks",
            ..pool("acme", "alpha", "hash-a")
        })
        .await
        .expect("made");
    assert!(matches!(
        store
            .create_agent_pool(pool("acme", "alpha", "hash-other"))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .create_agent_pool(pool("acme", "beta", "hash-a"))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .create_agent_pool(pool("nobody", "alpha", "hash-n"))
            .await,
        Err(StoreError::Missing)
    ));
    let theirs = store
        .create_agent_pool(pool("globex", "alpha", "hash-g"))
        .await
        .expect("the same name in another organization");

    let listed = store.agent_pools("acme").await.expect("lists");
    assert_eq!(listed, [alpha.clone(), zeta.clone()]);
    assert_eq!(listed[0].description, "racks");
    assert_eq!(listed[0].created, 1_765_000_000);

    assert_eq!(
        store.agent_pool("acme", &alpha.id).await.expect("reads"),
        Some(alpha.clone())
    );
    assert_eq!(
        store.agent_pool("globex", &alpha.id).await.expect("reads"),
        None
    );
    assert_eq!(
        store.agent_pool_by_token("hash-g").await.expect("reads"),
        Some(theirs.clone())
    );
    assert_eq!(
        store.agent_pool_by_token("hash-x").await.expect("reads"),
        None
    );

    // Renames: not into a taken name, not across organizations.
    assert!(matches!(
        store.update_agent_pool("acme", &zeta.id, "alpha", "").await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .update_agent_pool("globex", &zeta.id, "mine", "")
            .await
            .expect("answers"),
        None
    );
    let renamed = store
        .update_agent_pool("acme", &zeta.id, "omega", "new")
        .await
        .expect("renames")
        .expect("found");
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str()),
        ("omega", "new")
    );

    assert!(
        !store
            .delete_agent_pool("globex", &zeta.id)
            .await
            .expect("answers")
    );
    assert!(
        store
            .delete_agent_pool("acme", &zeta.id)
            .await
            .expect("deletes")
    );
    assert_eq!(
        store.agent_pool_by_token("hash-z").await.expect("reads"),
        None
    );
    assert_eq!(store.agent_pools("acme").await.expect("lists"), [alpha]);
    assert_eq!(store.agent_pools("globex").await.expect("lists"), [theirs]);
}

pub async fn an_organizations_agents_are_listed_last_heard_first(f: Fixture) {
    f.org_with_admin("acme", "pat").await;
    let store = &f.store;
    let builders = store
        .create_agent_pool(pool("acme", "builders", "hash-b"))
        .await
        .expect("made");
    let others = store
        .create_agent_pool(pool("acme", "others", "hash-o"))
        .await
        .expect("made");
    let seen = |id: &'static str, pool_id: &'static str, version: &'static str| AgentSeen {
        id,
        pool_id,
        hostname: "runner-1",
        version,
        platform: "linux/x86_64",
        pid: "42",
    };
    let b = builders.id.clone().leak();
    store
        .agent_seen(seen("agent:b:1", b, "0.1.0"))
        .await
        .expect("recorded");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store
        .agent_seen(seen("agent:b:2", b, "0.1.0"))
        .await
        .expect("recorded");
    // Heard from again: one row, updated.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store
        .agent_seen(seen("agent:b:1", b, "0.2.0"))
        .await
        .expect("recorded");
    let o = others.id.clone().leak();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store
        .agent_seen(seen("agent:o:1", o, "0.1.0"))
        .await
        .expect("recorded");
    let agents = store.agents("acme").await.expect("lists");
    let ids: Vec<(&str, &str)> = agents
        .iter()
        .map(|a| (a.id.as_str(), a.pool_id.as_str()))
        .collect();
    let (o, b): (&str, &str) = (o, b);
    assert_eq!(ids, [("agent:o:1", o), ("agent:b:1", b), ("agent:b:2", b)]);
    assert_eq!(agents[1].version, "0.2.0");
    assert!(agents[1].last_seen > agents[2].last_seen);
    assert!((0..60_000).contains(&agents[1].silent_millis), "{agents:?}");
    // Another organization's agents are not listed.
    f.org_with_admin("globex", "gina").await;
    assert!(store.agents("globex").await.expect("lists").is_empty());

    // A deleted pool's agents go with it.
    assert!(
        store
            .delete_agent_pool("acme", &builders.id)
            .await
            .expect("deletes")
    );
    let left: Vec<String> = store
        .agents("acme")
        .await
        .expect("lists")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(left, ["agent:o:1"]);
}
