//! The PostgreSQL change feed under out-of-order commits: a transaction that took a lower feed id
//! commits after one with a higher id. A reader that polls in between must still see both.

mod common;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

async fn write_change(conn: &mut PgConnection, lead: Uuid) -> i64 {
    sqlx::query_scalar("INSERT INTO changes (kind, lead_id, op) VALUES ('lead', $1, 'update') RETURNING id")
        .bind(lead)
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_with_a_lower_id_is_not_skipped() {
    let db = common::postgres().await;
    let store = &db.store;
    let mut cursor = store.feed_head().await.unwrap();
    let mut first = PgConnection::connect(&db.url).await.unwrap();
    let mut second = PgConnection::connect(&db.url).await.unwrap();
    let (early_lead, late_lead) = (Uuid::now_v7(), Uuid::now_v7());

    sqlx::query("BEGIN").execute(&mut first).await.unwrap();
    let low_id = write_change(&mut first, early_lead).await;
    sqlx::query("BEGIN").execute(&mut second).await.unwrap();
    let high_id = write_change(&mut second, late_lead).await;
    assert!(low_id < high_id);
    sqlx::query("COMMIT").execute(&mut second).await.unwrap();

    // The higher id is committed, the lower one is not yet: a poll now must not move past it.
    let mut seen = Vec::new();
    for change in store.changes_since(cursor, 100).await.unwrap() {
        cursor = change.cursor();
        seen.push(change.id);
    }
    assert!(seen.is_empty(), "nothing past the running writer is read: {seen:?}");
    sqlx::query("COMMIT").execute(&mut first).await.unwrap();
    // Both are final once no older writer in this database is running.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.len() < 2 && std::time::Instant::now() < deadline {
        for change in store.changes_since(cursor, 100).await.unwrap() {
            cursor = change.cursor();
            seen.push(change.id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    seen.sort();
    assert_eq!(seen, vec![low_id, high_id], "both commits are seen, each once");
    assert!(store.changes_since(cursor, 100).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_interleaved_writers_lose_nothing() {
    let db = common::postgres().await;
    let store = db.store.clone();
    let start = store.feed_head().await.unwrap();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let url = db.url.clone();
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await.unwrap();
                let mut ids = Vec::new();
                for i in 0..50 {
                    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
                    ids.push(write_change(&mut conn, Uuid::now_v7()).await);
                    // vary how long each transaction stays open so commits interleave
                    if (i + w) % 3 == 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    }
                    sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
                }
                ids
            })
        })
        .collect();
    // Poll while the writers run, as a console would. Rows become readable once no older
    // transaction is still running (other tests' transactions included), so keep polling until
    // everything written has come through or a generous deadline passes.
    let mut written = Vec::new();
    let reader = tokio::spawn(async move {
        let mut cursor = start;
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while seen.len() < 400 && tokio::time::Instant::now() < deadline {
            let page = store.changes_since(cursor, 25).await.unwrap();
            if page.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            for change in page {
                cursor = change.cursor();
                seen.push(change.id);
            }
        }
        // one more poll: anything beyond the 400 written would be a duplicate
        seen.extend(store.changes_since(cursor, 25).await.unwrap().into_iter().map(|c| c.id));
        seen
    });
    for w in writers {
        written.extend(w.await.unwrap());
    }
    let mut seen = reader.await.unwrap();
    written.sort();
    seen.sort();
    assert_eq!(seen, written);
}

/// The horizon is this database's oldest running writer, not the cluster's: a long transaction
/// in another database on the same server must not hold back this floor's screens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_writer_in_another_database_does_not_hold_the_feed_back() {
    let db = common::postgres().await;
    let elsewhere = common::postgres().await;
    let mut cursor = db.store.feed_head().await.unwrap();

    let mut long = PgConnection::connect(&elsewhere.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut long).await.unwrap();
    write_change(&mut long, Uuid::now_v7()).await;

    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let id = write_change(&mut conn, Uuid::now_v7()).await;
    let page = db.store.changes_since(cursor, 100).await.unwrap();
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    cursor = page[0].cursor();
    assert!(db.store.changes_since(cursor, 100).await.unwrap().is_empty());
    sqlx::query("ROLLBACK").execute(&mut long).await.unwrap();
}
