//! Deployments: versions, the queue's order, transitions, jobs, logs and pauses.

use std::collections::BTreeMap;

use keyless_api_types::{DeploymentStatus, PulumiOperation, StackRef, StepStatus};
use keyless_server::store::{
    Account, DeploymentId, DeploymentPage, DeploymentRecord, DeploymentScope, Lease, NewDeployment,
    NewLogLine, Report, Reported, StackRecord,
};
use serde_json::json;

use crate::Fixture;

const NOW: &str = "2026-12-01T09:30:00.123456Z";
const LATER: &str = "2026-12-01T09:31:00.000001Z";

/// A lease of `millis` from now by the store's clock (negative: lapsed already).
fn lease(holder: &str, millis: i64) -> Lease<'_> {
    Lease { holder, millis }
}

/// Long enough not to lapse during a test.
const MINUTE: i64 = 60_000;

/// acme's admin and its stacks `website/prod` and `website/dev`.
async fn two_stacks(f: &Fixture) -> (Account, StackRecord, StackRecord) {
    let pat = f.org_with_admin("acme", "pat").await;
    let mut stacks = Vec::new();
    for name in ["prod", "dev"] {
        let stack = StackRef::new("acme", "website", name);
        stacks.push(
            f.store
                .create_stack(&stack, &BTreeMap::new())
                .await
                .expect("created"),
        );
    }
    let dev = stacks.pop().expect("dev");
    let prod = stacks.pop().expect("prod");
    (pat, prod, dev)
}

async fn queue(
    f: &Fixture,
    stack: &StackRecord,
    by: &Account,
    operation: PulumiOperation,
) -> DeploymentRecord {
    f.store
        .create_deployment(NewDeployment {
            stack_id: &stack.id,
            operation,
            requested_by: &by.id,
            initiator: "console",
            trigger: None,
            settings: &json!({"operationContext": {"operation": operation.as_str()}}),
            now: NOW,
        })
        .await
        .expect("queued")
}

fn page(scope: DeploymentScope, offset: u32, limit: u32, ascending: bool) -> DeploymentPage {
    DeploymentPage {
        scope,
        status: None,
        offset,
        limit,
        ascending,
    }
}

pub async fn versions_count_per_stack_and_lists_page_in_queue_order(f: Fixture) {
    let (pat, prod, dev) = two_stacks(&f).await;
    let mut queued = Vec::new();
    for stack in [&prod, &dev, &prod, &prod, &dev] {
        queued.push(queue(&f, stack, &pat, PulumiOperation::Update).await);
    }
    let versions: Vec<i64> = queued.iter().map(|d| d.version).collect();
    assert_eq!(versions, [1, 1, 2, 3, 2]);
    let first = &queued[0];
    assert_eq!(first.status, DeploymentStatus::NotStarted);
    assert_eq!(first.stack, prod);
    assert_eq!(
        (
            first.created.as_str(),
            first.modified.as_str(),
            first.started.as_deref()
        ),
        (NOW, NOW, None),
        "timestamps come back as written"
    );
    assert_eq!(first.requested_by.github_login, "pat");
    assert_eq!(first.settings["operationContext"]["operation"], "update");
    assert_eq!(
        f.store
            .deployment(&first.id)
            .await
            .expect("answers")
            .as_ref(),
        Some(first)
    );
    assert_eq!(
        f.store
            .deployment(&DeploymentId::from("no-such-id"))
            .await
            .expect("answers"),
        None
    );
    assert_eq!(
        f.store
            .deployment_by_version(&prod.id, 3)
            .await
            .expect("answers")
            .map(|d| d.id),
        Some(queued[3].id.clone())
    );
    assert_eq!(f.store.latest_version(&prod.id).await.expect("answers"), 3);
    assert_eq!(f.store.latest_version(&dev.id).await.expect("answers"), 2);

    let ids = |list: Vec<DeploymentRecord>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let all: Vec<DeploymentId> = queued.iter().map(|d| d.id.clone()).collect();
    let (newest, total) = f
        .store
        .list_deployments(&page(DeploymentScope::Org("acme".into()), 0, 2, false))
        .await
        .expect("listed");
    assert_eq!(
        (ids(newest), total),
        (vec![all[4].clone(), all[3].clone()], 5)
    );
    let (oldest, _) = f
        .store
        .list_deployments(&page(DeploymentScope::Org("acme".into()), 1, 3, true))
        .await
        .expect("listed");
    assert_eq!(ids(oldest), all[1..4]);
    let (of_prod, total) = f
        .store
        .list_deployments(&page(DeploymentScope::Stack(prod.id.clone()), 0, 10, true))
        .await
        .expect("listed");
    assert_eq!(
        (ids(of_prod), total),
        (vec![all[0].clone(), all[2].clone(), all[3].clone()], 3)
    );
    let (beyond, total) = f
        .store
        .list_deployments(&page(DeploymentScope::Org("acme".into()), 10, 10, true))
        .await
        .expect("listed");
    assert_eq!((beyond.len(), total), (0, 5));

    f.store
        .transition(
            &all[1],
            &[DeploymentStatus::NotStarted],
            DeploymentStatus::Failed,
            LATER,
        )
        .await
        .expect("moved");
    let failed = DeploymentPage {
        status: Some(DeploymentStatus::Failed),
        ..page(DeploymentScope::Org("acme".into()), 0, 10, true)
    };
    let (list, total) = f.store.list_deployments(&failed).await.expect("listed");
    assert_eq!((ids(list), total), (vec![all[1].clone()], 1));
    let counts = f.store.deployment_counts("acme").await.expect("counted");
    assert_eq!((counts.not_started, counts.failed, counts.total), (4, 1, 5));
    let waiting = f
        .store
        .deployments_with_status(&[DeploymentStatus::NotStarted])
        .await
        .expect("listed");
    assert_eq!(
        ids(waiting),
        vec![
            all[0].clone(),
            all[2].clone(),
            all[3].clone(),
            all[4].clone()
        ],
        "queue order"
    );
}

pub async fn transitions_happen_only_from_the_states_named(f: Fixture) {
    let (pat, prod, _) = two_stacks(&f).await;
    let id = queue(&f, &prod, &pat, PulumiOperation::Preview).await.id;
    let queued = [DeploymentStatus::NotStarted, DeploymentStatus::Accepted];
    assert!(
        !f.store
            .transition(
                &id,
                &[DeploymentStatus::Running],
                DeploymentStatus::Succeeded,
                LATER
            )
            .await
            .expect("answers"),
        "it is not running"
    );
    assert!(
        f.store
            .transition(&id, &queued, DeploymentStatus::Failed, LATER)
            .await
            .expect("answers")
    );
    assert!(
        !f.store
            .transition(&id, &queued, DeploymentStatus::Skipped, LATER)
            .await
            .expect("answers"),
        "a finished deployment stays as it ended"
    );
    let stored = f
        .store
        .deployment(&id)
        .await
        .expect("answers")
        .expect("found");
    assert_eq!(
        (stored.status, stored.modified.as_str()),
        (DeploymentStatus::Failed, LATER)
    );
    assert!(
        !f.store
            .transition(
                &DeploymentId::from("no-such-id"),
                &queued,
                DeploymentStatus::Failed,
                LATER
            )
            .await
            .expect("answers")
    );
}

pub async fn jobs_record_their_steps(f: Fixture) {
    let (pat, prod, _) = two_stacks(&f).await;
    let id = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    let steps = ["Setup".to_owned(), "Get source".to_owned()];
    assert!(
        f.store
            .start_job(&id, &steps, LATER, lease("here", MINUTE))
            .await
            .expect("started")
    );
    assert!(
        !f.store
            .start_job(&id, &steps, LATER, lease("here", MINUTE))
            .await
            .expect("answers"),
        "a job starts once"
    );
    f.assert_no_transaction_left_open();
    let stored = f
        .store
        .deployment(&id)
        .await
        .expect("answers")
        .expect("found");
    assert_eq!(
        (stored.status, stored.started.as_deref()),
        (DeploymentStatus::Running, Some(LATER))
    );
    f.store
        .set_step(&id, 0, StepStatus::Running, LATER)
        .await
        .expect("set");
    f.store
        .set_step(&id, 0, StepStatus::Succeeded, "2026-12-01T09:32:00Z")
        .await
        .expect("set");
    let steps = f.store.steps(&id).await.expect("listed");
    let read: Vec<(&str, StepStatus, Option<&str>, Option<&str>)> = steps
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.status,
                s.started.as_deref(),
                s.last_updated.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                "Setup",
                StepStatus::Succeeded,
                Some(LATER),
                Some("2026-12-01T09:32:00Z")
            ),
            ("Get source", StepStatus::NotStarted, None, None),
        ]
    );
}

fn header(step: i64, name: &str) -> NewLogLine {
    NewLogLine {
        step,
        step_offset: None,
        timestamp: NOW.into(),
        header: Some(name.into()),
        line: None,
    }
}

fn line(step: i64, offset: i64, text: &str) -> NewLogLine {
    NewLogLine {
        step,
        step_offset: Some(offset),
        timestamp: NOW.into(),
        header: None,
        line: Some(text.into()),
    }
}

pub async fn logs_are_read_in_order_by_line_and_by_step(f: Fixture) {
    let (pat, prod, _) = two_stacks(&f).await;
    let id = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    let other = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    assert_eq!(f.store.last_log_id(&id).await.expect("answers"), None);
    assert_eq!(
        f.store
            .log_text(&id, 0, i64::MAX, 10, "##[group]")
            .await
            .expect("answers"),
        None
    );
    f.store
        .append_logs(
            &id,
            &[header(0, "Setup"), line(0, 0, "one\n"), line(0, 1, "two")],
        )
        .await
        .expect("appended");
    f.store
        .append_logs(&other, &[line(0, 0, "another deployment's\n")])
        .await
        .expect("appended");
    assert_eq!(f.store.next_step_offset(&id, 0).await.expect("answers"), 2);
    assert_eq!(f.store.next_step_offset(&id, 1).await.expect("answers"), 0);
    f.store
        .append_logs(&id, &[header(1, "Get source"), line(1, 0, "cloned\n")])
        .await
        .expect("appended");

    let all = f.store.logs_after(&id, 0, 100).await.expect("read");
    let texts: Vec<(i64, Option<&str>, Option<&str>)> = all
        .iter()
        .map(|r| (r.step, r.header.as_deref(), r.line.as_deref()))
        .collect();
    assert_eq!(
        texts,
        [
            (0, Some("Setup"), None),
            (0, None, Some("one\n")),
            (0, None, Some("two")),
            (1, Some("Get source"), None),
            (1, None, Some("cloned\n")),
        ]
    );
    assert!(
        all.windows(2).all(|w| w[0].id < w[1].id),
        "ids order the log"
    );
    let rest = f.store.logs_after(&id, all[1].id, 2).await.expect("read");
    assert_eq!(
        rest.iter().map(|r| r.id).collect::<Vec<_>>(),
        [all[2].id, all[3].id]
    );
    let last = all[4].id;
    assert_eq!(f.store.last_log_id(&id).await.expect("answers"), Some(last));

    let step = f.store.step_logs(&id, 0, 1, 10).await.expect("read");
    assert_eq!(
        step.iter().map(|r| r.line.as_deref()).collect::<Vec<_>>(),
        [Some("two")],
        "a step's lines from an offset, without its header"
    );

    let (text, through) = f
        .store
        .log_text(&id, 0, last, 3, "##[group]")
        .await
        .expect("answers")
        .expect("lines");
    assert_eq!(
        text,
        format!("{NOW} ##[group]Setup\n{NOW} one\n{NOW} two\n"),
        "a newline ends every line"
    );
    assert_eq!(through, all[2].id);
    let (text, through) = f
        .store
        .log_text(&id, through, last, 3, "##[group]")
        .await
        .expect("answers")
        .expect("lines");
    assert_eq!(text, format!("{NOW} ##[group]Get source\n{NOW} cloned\n"));
    assert_eq!(through, last);
    assert_eq!(
        f.store
            .log_text(&id, last, last, 3, "##[group]")
            .await
            .expect("answers"),
        None
    );
}

pub async fn pauses_hold_a_stack_or_an_organization(f: Fixture) {
    let (_, prod, _) = two_stacks(&f).await;
    assert!(f.store.pauses().await.expect("listed").is_empty());
    f.store
        .set_paused("acme", Some(&prod.id), true)
        .await
        .expect("paused");
    f.store
        .set_paused("acme", Some(&prod.id), true)
        .await
        .expect("pausing twice is fine");
    f.store
        .set_paused("acme", None, true)
        .await
        .expect("paused");
    let mut pauses = f.store.pauses().await.expect("listed");
    pauses.sort_by_key(|(_, stack)| stack.is_some());
    assert_eq!(
        pauses,
        [
            ("acme".to_owned(), None),
            ("acme".to_owned(), Some(prod.id.clone()))
        ]
    );
    f.store
        .set_paused("acme", Some(&prod.id), false)
        .await
        .expect("resumed");
    assert_eq!(
        f.store.pauses().await.expect("listed"),
        [("acme".to_owned(), None)]
    );
    f.store
        .set_paused("acme", None, false)
        .await
        .expect("resumed");
    assert!(f.store.pauses().await.expect("listed").is_empty());
}

pub async fn leases_are_renewed_by_their_holder_and_lapse_without_them(f: Fixture) {
    let (pat, prod, dev) = two_stacks(&f).await;
    let store = &f.store;
    let ours = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    let theirs = queue(&f, &dev, &pat, PulumiOperation::Update).await.id;
    let steps = ["Setup".to_owned()];
    assert!(
        store
            .start_job(&ours, &steps, LATER, lease("a", MINUTE))
            .await
            .expect("starts")
    );
    // Started with a lease that has lapsed already, as if its holder had stopped renewing.
    assert!(
        store
            .start_job(&theirs, &steps, LATER, lease("b", -1))
            .await
            .expect("starts")
    );

    // Only the holder renews, and only what it names.
    let both = [ours.clone(), theirs.clone()];
    let renewed = store
        .renew_leases(lease("a", MINUTE), &both)
        .await
        .expect("renews");
    assert_eq!(renewed, [(ours.clone(), None)]);
    let lapsed: Vec<DeploymentId> = store
        .lapsed_leases()
        .await
        .expect("answers")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(lapsed, std::slice::from_ref(&theirs));

    // Taken over only once lapsed, and only once; its old holder then renews nothing.
    assert!(
        !store
            .take_lapsed(&ours, lease("c", MINUTE))
            .await
            .expect("answers")
    );
    assert!(
        store
            .take_lapsed(&theirs, lease("c", MINUTE))
            .await
            .expect("takes")
    );
    assert!(
        !store
            .take_lapsed(&theirs, lease("d", MINUTE))
            .await
            .expect("answers")
    );
    let old_holder = store
        .renew_leases(lease("b", MINUTE), &both)
        .await
        .expect("renews");
    assert!(old_holder.is_empty(), "{old_holder:?}");
    assert!(store.lapsed_leases().await.expect("answers").is_empty());

    // A cancel asked through another holder waits for the holder; the first ask stays.
    assert!(store.request_cancel(&ours, "bob").await.expect("asks"));
    assert!(store.request_cancel(&ours, "carol").await.expect("asks"));
    let renewed = store
        .renew_leases(lease("a", MINUTE), &both)
        .await
        .expect("renews");
    assert_eq!(renewed, [(ours.clone(), Some("bob".to_owned()))]);

    // Only the holder ends it. A finished deployment is neither renewed, nor lapsed, nor
    // cancellable.
    assert!(
        !store
            .finish_job(&ours, "c", DeploymentStatus::Failed, LATER)
            .await
            .expect("answers")
    );
    assert!(
        store
            .finish_job(&ours, "a", DeploymentStatus::Succeeded, LATER)
            .await
            .expect("finishes")
    );
    assert_eq!(
        store
            .deployment(&ours)
            .await
            .expect("reads")
            .expect("found")
            .status,
        DeploymentStatus::Succeeded
    );
    assert!(
        store
            .renew_leases(lease("a", -1), &both)
            .await
            .expect("renews")
            .is_empty()
    );
    assert!(!store.request_cancel(&ours, "bob").await.expect("answers"));
    assert!(store.lapsed_leases().await.expect("answers").is_empty());
}

pub async fn the_queue_lock_has_one_holder_until_it_lapses(f: Fixture) {
    let store = &f.store;
    assert!(store.lock_queue(lease("a", MINUTE)).await.expect("takes"));
    assert!(!store.lock_queue(lease("b", MINUTE)).await.expect("answers"));
    assert!(
        store
            .lock_queue(lease("a", MINUTE))
            .await
            .expect("retakes its own")
    );
    store.unlock_queue("b").await.expect("answers");
    assert!(
        !store.lock_queue(lease("b", MINUTE)).await.expect("answers"),
        "not b's to free"
    );
    store.unlock_queue("a").await.expect("frees");
    // Taken for a moment that has passed already: lapsed at once.
    assert!(
        store
            .lock_queue(lease("b", -1))
            .await
            .expect("takes a freed lock")
    );
    assert!(
        store
            .lock_queue(lease("a", MINUTE))
            .await
            .expect("takes a lapsed lock")
    );
    assert!(!store.lock_queue(lease("b", MINUTE)).await.expect("answers"));
}

pub async fn reports_are_stored_once_in_order_and_only_from_the_holder(f: Fixture) {
    let (pat, prod, _) = two_stacks(&f).await;
    let id = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    let report = |seq: i64, lines: &'static [NewLogLine]| Report {
        seq,
        step: None,
        lines,
        finish: None,
    };
    // Not running yet: nobody holds it.
    assert_eq!(
        f.store
            .apply_report(&id, "a", report(1, &[]))
            .await
            .expect("answers"),
        Reported::NotHeld
    );
    f.assert_no_transaction_left_open();
    assert!(
        f.store
            .start_job(&id, &steps_named(), NOW, lease("a", MINUTE))
            .await
            .expect("starts")
    );
    let first = Box::leak(Box::new([header(0, "Setup"), line(0, 0, "one\n")]));
    let second = Box::leak(Box::new([line(0, 1, "two\n")]));
    let step = Report {
        step: Some((0, StepStatus::Running, LATER)),
        ..report(1, first)
    };
    assert_eq!(
        f.store.apply_report(&id, "a", step).await.expect("answers"),
        Reported::Stored
    );
    // Sent again (its answer lost): stored once.
    assert_eq!(
        f.store.apply_report(&id, "a", step).await.expect("answers"),
        Reported::Again
    );
    f.assert_no_transaction_left_open();
    // Another holder, or a report out of order: nothing stored.
    assert_eq!(
        f.store
            .apply_report(&id, "b", report(2, second))
            .await
            .expect("answers"),
        Reported::NotHeld
    );
    assert_eq!(
        f.store
            .apply_report(&id, "a", report(3, second))
            .await
            .expect("answers"),
        Reported::NotHeld
    );
    let finish = Report {
        finish: Some((DeploymentStatus::Succeeded, LATER)),
        ..report(2, second)
    };
    assert_eq!(
        f.store
            .apply_report(&id, "a", finish)
            .await
            .expect("answers"),
        Reported::Stored
    );
    assert_eq!(
        f.store
            .apply_report(&id, "a", finish)
            .await
            .expect("answers"),
        Reported::Again
    );
    let text = f
        .store
        .log_text(&id, 0, i64::MAX, 10, "##[group]")
        .await
        .expect("answers")
        .expect("lines")
        .0;
    assert_eq!(text.matches("one").count(), 1, "{text}");
    assert_eq!(text.matches("two").count(), 1, "{text}");
    let record = f
        .store
        .deployment(&id)
        .await
        .expect("answers")
        .expect("kept");
    assert_eq!(record.status, DeploymentStatus::Succeeded);
    let steps = f.store.steps(&id).await.expect("answers");
    assert_eq!(
        (steps[0].status, steps[0].started.as_deref()),
        (StepStatus::Running, Some(LATER))
    );

    // Taken over once its lease lapsed: the old holder's reports are refused.
    let other = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    assert!(
        f.store
            .start_job(&other, &steps_named(), NOW, lease("a", -1))
            .await
            .expect("starts")
    );
    assert!(
        f.store
            .take_lapsed(&other, lease("c", MINUTE))
            .await
            .expect("answers")
    );
    assert_eq!(
        f.store
            .apply_report(&other, "a", report(1, &[]))
            .await
            .expect("answers"),
        Reported::NotHeld
    );
    f.assert_no_transaction_left_open();
    let record = f
        .store
        .deployment(&other)
        .await
        .expect("answers")
        .expect("kept");
    assert_eq!(record.lease_holder.as_deref(), Some("c"));
}

fn steps_named() -> Vec<String> {
    vec!["Setup".to_owned()]
}

pub async fn a_log_archive_is_stored_once_and_read_piece_by_piece(f: Fixture) {
    let (pat, prod, _) = two_stacks(&f).await;
    let id = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    let other = queue(&f, &prod, &pat, PulumiOperation::Update).await.id;
    assert_eq!(f.store.log_archive_len(&id).await.expect("answers"), None);
    assert_eq!(
        f.store.log_archive_piece(&id, 0).await.expect("answers"),
        None
    );
    let pieces = [vec![0x1f, 0x8b, 0, 255], vec![7; 3000]];
    let theirs = [vec![1, 2, 3]];
    // Two builders at once (two servers): one archive is stored whole, never a mix.
    let (first, second) = tokio::join!(
        f.store.save_log_archive(&id, &pieces),
        f.store.save_log_archive(&id, &theirs)
    );
    let stored = match (first.expect("saved"), second.expect("saved")) {
        (true, false) => &pieces[..],
        (false, true) => &theirs[..],
        both => panic!("exactly one archive is stored: {both:?}"),
    };
    for (n, piece) in stored.iter().enumerate() {
        let read = f
            .store
            .log_archive_piece(&id, n as i64)
            .await
            .expect("read");
        assert_eq!(read.as_ref(), Some(piece), "piece {n}");
    }
    let past = f.store.log_archive_piece(&id, stored.len() as i64).await;
    assert_eq!(past.expect("answers"), None);
    let len: usize = stored.iter().map(Vec::len).sum();
    assert_eq!(
        f.store.log_archive_len(&id).await.expect("answers"),
        Some(len as u64)
    );
    assert!(
        !f.store
            .save_log_archive(&id, &pieces)
            .await
            .expect("answers")
    );
    f.assert_no_transaction_left_open();
    // Another deployment's is its own.
    assert_eq!(
        f.store.log_archive_len(&other).await.expect("answers"),
        None
    );
    assert!(
        f.store
            .save_log_archive(&other, &theirs)
            .await
            .expect("saved")
    );
    assert_eq!(
        f.store.log_archive_len(&other).await.expect("answers"),
        Some(3)
    );
}
