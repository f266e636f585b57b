//! GitHub webhook deliveries: the log of refused ones and its rate limit.

use keyless_api_types::DeliveryOutcome;
use keyless_server::store::NewDelivery;

use crate::Fixture;

/// However many arrive at once, no more refused deliveries are logged than the limit allows:
/// on PostgreSQL, concurrent transactions each counting the recent rows must not all pass.
pub async fn refused_deliveries_keep_their_limit_under_concurrency(f: Fixture) {
    f.store
        .create_organization("acme", "Acme")
        .await
        .expect("organization created");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let store = f.store.clone();
        tasks.spawn(async move {
            store
                .add_refused_delivery(
                    NewDelivery {
                        org: "acme",
                        delivery_id: &format!("delivery-{i}"),
                        event: "push",
                        received: "2026-12-06T12:00:00.500000Z",
                        outcome: DeliveryOutcome::Rejected,
                        message: "bad signature",
                    },
                    "2026-12-06T12:00:00.000000Z",
                    5,
                )
                .await
                .expect("answers")
        });
    }
    let added = tasks.join_all().await;
    assert_eq!(added.iter().filter(|added| **added).count(), 5);
}
