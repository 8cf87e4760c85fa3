//! Migrations are reversible: up → down (all of them) → up leaves exactly the schema the first
//! up made, on both backends; all the way down, nothing of coldcall's is left.

mod common;

use coldcall::store::{LeadFilter, Store};

async fn up_down_up_leaves_the_same_schema(store: &Store) {
    common::lead(store, 1).await;
    let before = store.schema_objects().await.unwrap();
    assert!(before.len() > 40, "the listing sees the schema: {before:?}");
    for name in ["leads", "call_logs", "audit_log", "agent_presence", "leads_phone_key"] {
        assert!(before.iter().any(|o| o.contains(name)), "{name} is not in the listing");
    }
    let migrations = store.migration_status().await.unwrap();
    assert!(migrations.iter().all(|m| m.applied));

    let mut undone = Vec::new();
    while let Some(m) = store.migrate_down().await.unwrap() {
        undone.push(m.version);
    }
    let mut newest_first: Vec<i64> = migrations.iter().map(|m| m.version).collect();
    newest_first.reverse();
    assert_eq!(undone, newest_first, "each migration is reverted once, newest first");
    let left = store.schema_objects().await.unwrap();
    assert!(left.is_empty(), "coldcall objects left after rolling back: {left:?}");

    store.migrate().await.unwrap();
    let after = store.schema_objects().await.unwrap();
    assert_eq!(after, before, "up → down → up changed the schema");
    assert!(store
        .list_leads(&LeadFilter::default(), None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
    common::lead(store, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_up_down_up_leaves_the_same_schema() {
    up_down_up_leaves_the_same_schema(&common::sqlite().await.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_up_down_up_leaves_the_same_schema() {
    up_down_up_leaves_the_same_schema(&common::postgres().await.store).await;
}
