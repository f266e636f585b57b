//! What servers sharing a store hold in it together: the OIDC key ring, versioned so that no
//! rotation overwrites another, and rate limits that hold under concurrent hits.

use std::sync::Arc;

use keyless_server::store::{Limit, StoreError};

use crate::Fixture;

pub async fn the_key_ring_is_versioned_and_stale_writes_are_refused(f: Fixture) {
    let store = &f.store;
    assert_eq!(store.key_ring().await.expect("reads"), None);
    assert_eq!(store.key_ring_version().await.expect("reads"), None);
    assert_eq!(store.save_key_ring("first", None).await.expect("stores"), 1);
    assert!(matches!(
        store.save_key_ring("also first", None).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .save_key_ring("second", Some(1))
            .await
            .expect("stores"),
        2
    );
    assert!(matches!(
        store.save_key_ring("from a stale read", Some(1)).await,
        Err(StoreError::Conflict)
    ));
    let stored = store.key_ring().await.expect("reads").expect("stored");
    assert_eq!((stored.ring.as_str(), stored.version), ("second", 2));
    assert_eq!(store.key_ring_version().await.expect("reads"), Some(2));
}

pub async fn rate_limits_hold_under_concurrency(f: Fixture) {
    let limit = Limit {
        max: 5,
        window: 60_000,
    };
    // Connections open first, so that the hits below do run at once.
    let warm = (0..16).map(|_| {
        let store = Arc::clone(&f.store);
        tokio::spawn(async move { store.key_ring_version().await.expect("answers") })
    });
    for task in warm.collect::<Vec<_>>() {
        task.await.expect("joins");
    }
    let hits = (0..24).map(|_| {
        let store = Arc::clone(&f.store);
        tokio::spawn(async move { store.hit("stack-1", limit).await.expect("answers") })
    });
    let mut allowed = 0;
    for hit in hits.collect::<Vec<_>>() {
        if hit.await.expect("joins").is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5, "concurrent hits past the limit");
    // Refused, with the time until the oldest leaves the window; another key has its own.
    let wait = f.store.hit("stack-1", limit).await.expect("answers");
    f.assert_no_transaction_left_open();
    assert!(
        matches!(wait, Err(ms) if (50_000..=60_000).contains(&ms)),
        "{wait:?}"
    );
    assert_eq!(
        f.store.hit("stack-2", limit).await.expect("answers"),
        Ok(())
    );
    // Once the window has passed, hits count again.
    let short = Limit {
        max: 1,
        window: 300,
    };
    assert_eq!(
        f.store.hit("stack-3", short).await.expect("answers"),
        Ok(())
    );
    assert!(
        f.store
            .hit("stack-3", short)
            .await
            .expect("answers")
            .is_err()
    );
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert_eq!(
        f.store.hit("stack-3", short).await.expect("answers"),
        Ok(())
    );
}
