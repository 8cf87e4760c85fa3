//! Leads exported and imported again into an empty database are unchanged, on both backends:
//! names that a spreadsheet would run as formulas ('=', '-', '+', '@'), unicode, commas, quotes
//! and line breaks included. Also: the exported file itself is formula-safe.

mod common;

use coldcall::domain::{LeadFields, LeadInput, LeadStatus, Priority};
use coldcall::export::export_leads;
use coldcall::import::{ImportOptions, LeadImport};
use coldcall::store::{LeadFilter, Store};
use proptest::prelude::*;

/// Text a person might type, including what CSV and spreadsheets treat specially.
fn text(max: usize) -> impl Strategy<Value = String> {
    let start = prop_oneof![
        Just(String::new()),
        Just("=".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("@".to_string()),
        Just("'=".to_string()),
        Just("'".to_string()),
    ];
    let body = proptest::string::string_regex(&format!("[a-zA-Zéßøç漢字 ,;\"'=+@()-]{{1,{max}}}")).unwrap();
    (start, body).prop_map(|(s, b)| format!("{s}{b}"))
}

fn notes() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[=+@-]?[a-zA-Z0-9 ,;\"'\n\té]{1,120}").unwrap()
}

/// Valid, normalised leads with distinct phones and emails.
fn leads() -> impl Strategy<Value = Vec<LeadFields>> {
    let one = (
        (text(20), text(20), text(40), proptest::option::of(text(30))),
        (
            proptest::option::of(notes()),
            proptest::option::of(text(20)),
            prop::sample::select(LeadStatus::ALL.to_vec()),
            prop::sample::select(Priority::ALL.to_vec()),
            0i16..=100,
            0.0f64..=1.0,
            any::<(bool, bool, bool, bool)>(),
        ),
    );
    proptest::collection::vec(one, 1..8).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .filter_map(
                |(i, ((first, last, company, title), (notes, source, status, priority, score, p, flags)))| {
                    LeadInput {
                        first_name: first,
                        last_name: last,
                        email: if flags.3 {
                            format!("Person.{i}@Example.com")
                        } else {
                            String::new()
                        },
                        phone: format!("+1212555{:04}", 100 + i),
                        company,
                        title: title.unwrap_or_default(),
                        timezone: if flags.0 { "Europe/Berlin".into() } else { String::new() },
                        status: status.as_str().into(),
                        priority: priority.as_str().into(),
                        lead_score: score.to_string(),
                        conversion_probability: p.to_string(),
                        source: source.unwrap_or_default(),
                        notes: notes.unwrap_or_default(),
                        consent_given: flags.1.to_string(),
                        do_not_call: flags.2.to_string(),
                        do_not_email: flags.0.to_string(),
                    }
                    .validate("US")
                    .ok()
                },
            )
            .collect::<Vec<_>>()
    })
}

async fn stored_fields(store: &Store) -> Vec<LeadFields> {
    let page = store.list_leads(&LeadFilter::default(), None, 1000).await.unwrap();
    let mut fields: Vec<LeadFields> = page.items.iter().map(|l| l.fields()).collect();
    fields.sort_by(|a, b| a.phone.cmp(&b.phone));
    fields
}

async fn round_trip(from: &Store, to: &Store, mut leads: Vec<LeadFields>) -> Result<(), TestCaseError> {
    for lead in &leads {
        from.create_lead(lead, None).await.unwrap();
    }
    // What was stored is the reference: a lead typed without a zone takes its number's.
    let stored = stored_fields(from).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    let file = std::fs::File::create(&path).unwrap();
    let written = export_leads(from, &LeadFilter::default(), file).await.unwrap();
    prop_assert_eq!(written as usize, leads.len());

    // No cell of the file starts with a formula trigger unless it is a plain number.
    let mut reader = csv::Reader::from_path(&path).unwrap();
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            let digits = cell.trim_start_matches(['+', '-']);
            let number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.');
            prop_assert!(!risky || number, "cell {:?} would run as a formula", cell);
        }
    }

    let report = LeadImport::open(&path, ImportOptions::new("US"))
        .unwrap()
        .run(to, |_, _| {})
        .await
        .unwrap();
    prop_assert_eq!(report.imported as usize, leads.len(), "{:?}", report.rejects);
    leads.sort_by(|a, b| a.phone.cmp(&b.phone));
    prop_assert_eq!(stored_fields(to).await, stored.clone());

    // And importing the export into the database it came from changes nothing.
    let again = LeadImport::open(&path, ImportOptions::new("US"))
        .unwrap()
        .run(from, |_, _| {})
        .await
        .unwrap();
    prop_assert_eq!(again.duplicates_in_database as usize, leads.len());
    prop_assert_eq!(stored_fields(from).await, stored);
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_leads_survive_export_and_import(leads in leads()) {
        runtime().block_on(async {
            let (from, to) = (common::sqlite().await, common::sqlite().await);
            round_trip(&from.store, &to.store, leads).await
        })?;
    }
}

proptest! {
    // Each case creates two PostgreSQL databases; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn postgres_leads_survive_export_and_import(leads in leads()) {
        let rt = runtime();
        let result = rt.block_on(async {
            let (from, to) = (common::postgres().await, common::postgres().await);
            let result = round_trip(&from.store, &to.store, leads).await;
            from.store.close().await;
            to.store.close().await;
            result
        });
        result?;
    }
}
