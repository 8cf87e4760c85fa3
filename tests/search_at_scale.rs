//! Search reads the leads one of two ways (walking the list order, or collecting the matches
//! through the search indexes and sorting them) and picks by how many match; the list reads the
//! first page and the pages after a cursor with two statements. Whichever way a query goes, it
//! must find what the single statement it replaced found, in the same order: on a few thousand
//! demo leads (statistics gathered on PostgreSQL, so common words take the walk there too) every
//! search here is checked, on both backends, against that statement run directly.

mod common;

use coldcall::domain::{LeadStatus, Priority};
use coldcall::store::search::{like_contains, SearchTerms};
use coldcall::store::LeadFilter;
use common::TestDb;
use sqlx::Row;
use uuid::Uuid;

/// Binds the filter's $1–$7 as the store does.
macro_rules! filters {
    ($query:expr, $filter:expr) => {
        $query
            .bind($filter.status.map(|s| s.as_str()))
            .bind($filter.priority.map(|p| p.as_str()))
            .bind($filter.assigned_to)
            .bind($filter.min_score)
            .bind($filter.max_score)
            .bind(common::office_hours())
            .bind($filter.callbacks_due)
    };
}

const LEAD_COLUMNS: &str = "id, first_name, last_name, email, phone, company, title, timezone, status, priority, \
    lead_score, conversion_probability, source, notes, consent_given, consent_date, do_not_call, do_not_email, \
    call_attempts, last_call_at, next_call_at, data_quality, created_at, updated_at, updated_by, deleted_at";

/// Texts of every shape: common and rare words, prefixes, phone and email fragments, words with
/// a fragment, pieces of unspaced scripts alone and with words, wildcard characters, nothing.
const TEXTS: &[&str] = &[
    "smith",
    "Olivia",
    "mar",
    "o'brien",
    "asked pricing",
    "analyt",
    "ceo",
    "1234",
    "0011",
    "555-01",
    "olivia.smith",
    "@bluefin",
    "bluefin.example",
    "a_b@wild",
    "50%off",
    "東京",
    "東京 trading",
    "กรุงเทพ",
    "smith 東京",
    "zzyzx",
    "müller",
];

async fn the_chosen_way_finds_what_the_one_statement_found(db: &TestDb) {
    let store = &db.store;
    coldcall::demo::seed(store, 3_000).await.unwrap();
    for (n, change) in [
        (1u32, ("Kenji", "株式会社東京商事", None)),
        (2, ("Somchai", "Bangkok Trading", Some("ลูกค้าจากกรุงเทพมหานคร"))),
        (3, ("Ken", "東京Trading", None)),
    ] {
        common::lead_with(store, n, |i| {
            i.first_name = change.0.into();
            i.company = change.1.into();
            i.notes = change.2.unwrap_or_default().into();
        })
        .await;
    }
    common::lead_with(store, 4, |i| i.email = "a_b@wild.example".into()).await;
    common::lead_with(store, 5, |i| i.email = "50%off@deals.example".into()).await;
    let postgres = db.url.starts_with("postgres");
    if postgres {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query("ANALYZE leads").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let filters = [
        LeadFilter::default(),
        LeadFilter {
            status: Some(LeadStatus::New),
            ..LeadFilter::default()
        },
        LeadFilter {
            priority: Some(Priority::High),
            min_score: Some(50),
            ..LeadFilter::default()
        },
    ];
    let mut found_any = 0;
    for text in TEXTS {
        for filter in &filters {
            for limit in [5u32, 200] {
                let found: Vec<Uuid> = store
                    .search_leads(text, filter, limit)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| l.id)
                    .collect();
                let expected = reference(&db.url, postgres, text, filter, limit).await;
                assert_eq!(found, expected, "{text:?}, limit {limit}, {filter:?}");
                found_any += usize::from(!found.is_empty());
            }
        }
    }
    assert!(found_any > 60, "the texts find leads: {found_any}");

    // Every page, first and after a cursor, gives the leads in list order once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_leads(&filters[1], after, 333).await.unwrap();
        seen.extend(page.items.iter().map(|l| l.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let everything = reference_list(&db.url, postgres, &filters[1]).await;
    assert_eq!(seen, everything);
}

/// The search statement each backend ran before it chose a way (one generic statement).
async fn reference(url: &str, postgres: bool, text: &str, filter: &LeadFilter, limit: u32) -> Vec<Uuid> {
    let terms = SearchTerms::parse(text);
    if terms.is_empty() {
        return Vec::new();
    }
    if postgres {
        let tsquery = (!terms.words.is_empty()).then(|| {
            terms
                .words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & ")
        });
        let fragment = terms.fragment.as_deref().map(like_contains);
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE {PG_FILTERS} \
             AND (($11 AND ($8::text IS NULL OR to_tsvector('simple', first_name || ' ' || last_name || ' ' || \
                  company || ' ' || coalesce(email, '') || ' ' || coalesce(title, '') || ' ' || coalesce(notes, '')) \
                  @@ to_tsquery('simple', $8)) \
                   AND NOT EXISTS (SELECT 1 FROM unnest($12::text[]) AS w(piece) \
                                   WHERE strpos(lower(first_name || ' ' || last_name || ' ' || company || ' ' || \
                                   coalesce(title, '') || ' ' || coalesce(notes, '')), w.piece) = 0)) \
                  OR ($9::text IS NOT NULL AND (phone LIKE $9 OR email LIKE $9))) \
             ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $10"
        );
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = filters!(sqlx::query(&sql), filter)
            .bind(tsquery)
            .bind(fragment)
            .bind(i64::from(limit))
            .bind(terms.has_words())
            .bind(&terms.inner)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<Uuid, _>("id")).collect()
    } else {
        let words = (!terms.words.is_empty()).then(|| {
            terms
                .words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" AND ")
        });
        let fragment = terms
            .fragment
            .as_deref()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")));
        let inner = (!terms.inner.is_empty()).then(|| serde_json::to_string(&terms.inner).unwrap());
        let word_part = if words.is_some() {
            "seq IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH $8)"
        } else {
            "$8 IS NULL"
        };
        let inner_part = if inner.is_some() {
            "NOT EXISTS (SELECT 1 FROM json_each($11) w WHERE instr(lower(first_name || ' ' || last_name || ' ' || \
             company || ' ' || coalesce(title, '') || ' ' || coalesce(notes, '')), w.value) = 0)"
        } else {
            "$11 IS NULL"
        };
        let fragment_part = if fragment.is_some() {
            "seq IN (SELECT rowid FROM leads_trgm WHERE leads_trgm MATCH $9)"
        } else {
            "$9 IS NULL"
        };
        let matches = match (terms.has_words(), fragment.is_some()) {
            (true, true) => format!("(({word_part} AND {inner_part}) OR {fragment_part})"),
            (true, false) => format!("({word_part} AND {inner_part} AND {fragment_part})"),
            (false, _) => format!("({fragment_part} AND {word_part} AND {inner_part})"),
        };
        let sql = format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE {SQLITE_FILTERS} AND {matches} \
             ORDER BY priority_rank DESC, lead_score DESC, id DESC LIMIT $10"
        );
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = filters!(sqlx::query(&sql), filter)
            .bind(words)
            .bind(fragment)
            .bind(i64::from(limit))
            .bind(inner)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<Uuid, _>("id")).collect()
    }
}

/// Every live lead the filter keeps, in list order.
async fn reference_list(url: &str, postgres: bool, filter: &LeadFilter) -> Vec<Uuid> {
    let order = "ORDER BY priority_rank DESC, lead_score DESC, id DESC";
    if postgres {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let sql = format!("SELECT id FROM leads WHERE {PG_FILTERS} {order}");
        let rows = filters!(sqlx::query(&sql), filter).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<Uuid, _>("id")).collect()
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let sql = format!("SELECT id FROM leads WHERE {SQLITE_FILTERS} {order}");
        let rows = filters!(sqlx::query(&sql), filter).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<Uuid, _>("id")).collect()
    }
}

const PG_FILTERS: &str = "deleted_at IS NULL \
    AND ($1::text IS NULL OR status = $1) \
    AND ($2::text IS NULL OR priority = $2) \
    AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4::smallint IS NULL OR lead_score >= $4) \
    AND ($5::smallint IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

const SQLITE_FILTERS: &str = "deleted_at IS NULL \
    AND ($1 IS NULL OR status = $1) \
    AND ($2 IS NULL OR priority = $2) \
    AND ($3 IS NULL OR EXISTS (SELECT 1 FROM lead_assignments a WHERE a.lead_id = leads.id AND a.active = 1 \
         AND a.agent_id = $3 AND (a.expires_at IS NULL OR a.expires_at > $6))) \
    AND ($4 IS NULL OR lead_score >= $4) \
    AND ($5 IS NULL OR lead_score <= $5) \
    AND (NOT $7 OR EXISTS (SELECT 1 FROM callbacks c WHERE c.lead_id = leads.id AND c.done_at IS NULL AND c.due_at <= $6))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_chosen_way_finds_what_the_one_statement_found() {
    the_chosen_way_finds_what_the_one_statement_found(&common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_chosen_way_finds_what_the_one_statement_found() {
    the_chosen_way_finds_what_the_one_statement_found(&common::postgres().await).await;
}
