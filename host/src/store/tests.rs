//! The store against a real SQLite file: migrations, jobs' life, profile history, events.

use super::*;
use crate::operation::ProgressSnapshot;
use crate::profile::ContainerProfile;

fn job(store: &Store, kind: JobKind) -> JobRecord {
    store
        .insert_job(&NewJob {
            incremental: false,
            kind,
            datastore: "orders".into(),
            containers: vec!["orders.csv".into()],
            trigger: "test".into(),
        })
        .unwrap()
}

#[test]
fn reopening_keeps_everything_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let first = job(&Store::open(dir.path()).unwrap(), JobKind::Catalog);
    let store = Store::open(dir.path()).unwrap();
    let again = store.job(first.id).unwrap().unwrap();
    assert_eq!(again.containers, vec!["orders.csv".to_string()]);
    assert_eq!(again.state, JobState::Queued);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_job_runs_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let created = job(&store, JobKind::Profile);
    store.start_job(created.id, "files@0.1.0", "abc").unwrap();
    let progress = ProgressSnapshot {
        rows: 10,
        bytes: 100,
        partitions_done: 1,
        partitions_total: 2,
    };
    store.job_progress(created.id, &progress).unwrap();
    let running = store.job(created.id).unwrap().unwrap();
    assert_eq!(
        (running.state, running.progress),
        (JobState::Running, progress)
    );
    assert_eq!(running.plugin.as_deref(), Some("files@0.1.0"));
    let failure = ContainerFailure {
        container: "bad.csv".into(),
        error: "line 3".into(),
        code: "plugin.data".into(),
    };
    store
        .finish_job(
            created.id,
            JobState::Succeeded,
            &progress,
            None,
            std::slice::from_ref(&failure),
        )
        .unwrap();
    let done = store.job(created.id).unwrap().unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.failures, vec![failure]);
    assert!(done.started_at.is_some() && done.finished_at.is_some());
    let listed = store
        .jobs(&JobFilter {
            state: Some(JobState::Succeeded),
            ..JobFilter::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
}

#[test]
fn unfinished_jobs_are_interrupted_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let queued = job(&store, JobKind::Catalog);
    let running = job(&store, JobKind::Profile);
    store.start_job(running.id, "files@0.1.0", "abc").unwrap();
    let done = job(&store, JobKind::Catalog);
    store
        .finish_job(
            done.id,
            JobState::Succeeded,
            &ProgressSnapshot::default(),
            None,
            &[],
        )
        .unwrap();
    assert_eq!(
        store.interrupt_unfinished().unwrap(),
        vec![queued.id, running.id]
    );
    for id in [queued.id, running.id] {
        let job = store.job(id).unwrap().unwrap();
        assert_eq!(job.state, JobState::Interrupted);
        assert!(job.error.unwrap().contains("run it again"));
    }
    assert_eq!(
        store.job(done.id).unwrap().unwrap().state,
        JobState::Succeeded
    );
}

#[test]
fn profiles_are_versioned_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let schema = arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new(
        "n",
        arrow::datatypes::DataType::Int64,
        true,
    )]);
    let mut older = ContainerProfile::new("orders.csv", &schema, 1_000_000);
    older.rows = 5;
    let mut newer = ContainerProfile::new("orders.csv", &schema, 2_000_000);
    newer.rows = 7;
    let first = store.insert_profile("orders", None, &older).unwrap();
    let second = store.insert_profile("orders", None, &newer).unwrap();
    let latest = store
        .latest_profile("orders", "orders.csv")
        .unwrap()
        .unwrap();
    assert_eq!((latest.id, latest.profile.rows), (second, 7));
    let history = store.profile_history("orders", "orders.csv", 10).unwrap();
    assert_eq!(
        history.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    assert_eq!(store.profile(first).unwrap().unwrap().profile.rows, 5);
    assert!(store.latest_profile("orders", "other").unwrap().is_none());
}

#[test]
fn catalogs_are_replaced_and_events_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let entry = |name: &str| CatalogEntry {
        name: name.into(),
        kind: "file".into(),
        fields: vec![FieldEntry {
            name: "id".into(),
            data_type: "Int64".into(),
            nullable: false,
        }],
        row_estimate: Some(3),
        byte_size: None,
        error: None,
        updated_at: String::new(),
    };
    store
        .replace_catalog("orders", 1, &[entry("a"), entry("b")])
        .unwrap();
    store.replace_catalog("orders", 2, &[entry("b")]).unwrap();
    let containers = store.containers("orders").unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].fields[0].data_type, "Int64");
    assert!(store.container("orders", "a").unwrap().is_none());

    store
        .insert_event(&PluginEvent::new("files", EventKind::Loaded, "loaded"))
        .unwrap();
    store
        .insert_event(&PluginEvent::new("files", EventKind::Failed, "truncated"))
        .unwrap();
    store
        .insert_event(&PluginEvent::new("other", EventKind::Loaded, "loaded"))
        .unwrap();
    let events = store.events(Some("files"), 10).unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::Failed, EventKind::Loaded]
    );
}
