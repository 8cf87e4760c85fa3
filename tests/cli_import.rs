//! `coldcall import`, `dnc import` and `export` through the real binary, as an admin runs them:
//! the mapping on --dry-run, the rejects file, JSON reports, messages and exit codes. Runs on a
//! SQLite file and on PostgreSQL.

mod common;

use std::path::Path;

use common::binary::{code, stderr, stdout, Coldcall as Admin};

const FILE: &str = "\u{feff}First Name;Last Name;E-mail Address;Mobile Phone;Company Name;Favourite Colour\r\n\
Ada;Lovelace;ADA@example.com;(415) 555-0123;=Engines;blue\r\n\
Bob;Stone;bob@;415 555 0199;Acme;red\r\n\
Ada;Lovelace;;+1 415 555 0123;Engines;\r\n";

fn session(admin: &Admin, dir: &Path) {
    let file = dir.join("crm.csv");
    std::fs::write(&file, FILE).unwrap();
    let file = file.to_str().unwrap();
    let rejects = dir.join("crm.rejects.csv");

    // --dry-run: the mapping and the counts, nothing written, no rejects file.
    let dry = admin.run(&["import", file, "--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    let text = stdout(&dry);
    for expected in [
        "COLUMN            FIELD       NOTE",
        "E-mail Address    email",
        "Mobile Phone      phone",
        "Favourite Colour  -           not a lead field: --map 'Favourite Colour=FIELD' to import it",
        "dry run: nothing was written; this is what the import would do",
        "crm.csv: 3 rows read (delimiter ';' · duplicates: skip)",
        "  imported            1",
        "  rejected            1  (email 1)",
        "  line 3: email: 'bob@' is not a valid email address (column 'E-mail Address')",
        "  line 4: duplicate: same lead as line 2 (+14155550123)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!rejects.exists());
    assert_eq!(admin.lead_count(), 0);

    // The import itself, as JSON for a script.
    let report = admin.json(&["import", file]);
    assert_eq!(report["report"]["rows_read"], 3);
    assert_eq!(report["report"]["imported"], 1);
    assert_eq!(report["report"]["duplicates"], 1);
    assert_eq!(report["report"]["rejected"], 1);
    assert_eq!(report["mapping"][5]["placement"], "unknown");
    assert_eq!(report["report"]["rejects_file"]["rows"], 2);
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(
        written,
        "import_line;import_error;First Name;Last Name;E-mail Address;Mobile Phone;Company Name;Favourite Colour\n\
         3;email: 'bob@' is not a valid email address (column 'E-mail Address');Bob;Stone;bob@;415 555 0199;Acme;red\n\
         4;duplicate: same lead as line 2 (+14155550123);Ada;Lovelace;;'+1 415 555 0123;Engines;\n"
    );

    // Human summary of a second run: everything is a duplicate now.
    let again = admin.run(&["import", file, "--on-duplicate", "update"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stdout(&again)
            .contains("duplicates          2  (0 already in the database, 1 unchanged, 1 repeated in the file)"),
        "{}",
        stdout(&again)
    );
    assert!(stdout(&again).contains("columns not imported: 'Favourite Colour'"));

    // Errors: exit code 1 and a message that says what to do.
    let missing = admin.run(&["import", dir.join("nope.csv").to_str().unwrap()]);
    assert_eq!(code(&missing), 1);
    assert!(
        stderr(&missing).contains("nope.csv: cannot open the file"),
        "{}",
        stderr(&missing)
    );
    let no_phone = dir.join("no_phone.csv");
    std::fs::write(&no_phone, "First Name,Last Name,Company\nA,B,C\n").unwrap();
    let refused = admin.run(&["import", no_phone.to_str().unwrap()]);
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("missing required column: phone (a header such as 'Phone'"),
        "{}",
        stderr(&refused)
    );
    let bad_map = admin.run(&["import", file, "--map", "Handy=phone"]);
    assert_eq!(code(&bad_map), 1);
    assert!(
        stderr(&bad_map).contains("--map 'Handy': the file has no such column"),
        "{}",
        stderr(&bad_map)
    );
    let bad_mode = admin.run(&["import", file, "--on-duplicate", "overwrite"]);
    assert_eq!(code(&bad_mode), 1);
    assert!(stderr(&bad_mode).contains("use skip, update or merge"));

    // Export: formula-safe cells, a file the import maps back on its own.
    let exported = admin.run(&["export", "leads"]);
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    let csv = stdout(&exported);
    assert!(csv.starts_with("first_name,last_name,email,phone,company,"), "{csv}");
    assert!(
        csv.contains("Ada,Lovelace,ada@example.com,+14155550123,'=Engines,"),
        "{csv}"
    );
    let out = dir.join("leads.csv");
    let summary = admin.json(&["export", "leads", "--out", out.to_str().unwrap()]);
    assert_eq!(summary["rows"], 1);
    let back = admin.json(&["import", out.to_str().unwrap()]);
    assert_eq!(back["report"]["duplicates_in_database"], 1);
    assert_eq!(back["report"]["rejected"], 0);
    let calls = admin.run(&["export", "calls", "--from", "2020-01-01"]);
    assert_eq!(code(&calls), 0, "{}", stderr(&calls));
    assert!(stdout(&calls).starts_with("id,started_at,ringing_at,answered_at,ended_at,agent,lead_id,lead_name"));

    // A do-not-call list: the lead's number is listed, so a call check now refuses (exit 3).
    let dnc = dir.join("dnc.csv");
    std::fs::write(&dnc, "number,reason\n415-555-0123,asked\n12,typo\n").unwrap();
    let listed = admin.run(&["dnc", "import", dnc.to_str().unwrap()]);
    assert_eq!(code(&listed), 0, "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains("leads marked do-not-call: 1"),
        "{}",
        stdout(&listed)
    );
    assert!(dir.join("dnc.rejects.csv").exists());
    assert_eq!(code(&admin.run(&["dnc", "check", "(415) 555-0123"])), 3);
}

/// A Salesforce export and an address book as an admin brings them on a Monday morning: the
/// help names the fields, the dry run shows the status table and what has no mapping, the
/// summary says where zones come from, and `lead show` says it for one lead.
fn real_exports(admin: &Admin, dir: &Path) {
    let help = admin.run(&["import", "--help"]);
    assert_eq!(code(&help), 0, "{}", stderr(&help));
    for expected in [
        "Fields a column can map to",
        "conversion_probability, source, notes, consent_given, do_not_call, do_not_email",
        "--map-status <FROM=TO>",
        "--set <FIELD=VALUE>",
        "A .vcf file (vCard 2.1, 3.0 or 4.0)",
    ] {
        assert!(
            stdout(&help).contains(expected),
            "missing {expected:?} in:\n{}",
            stdout(&help)
        );
    }

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let salesforce = dir.join("Lead.csv");
    std::fs::copy(fixtures.join("salesforce_leads.csv"), &salesforce).unwrap();
    let salesforce = salesforce.to_str().unwrap();
    let dry = admin.run(&["import", salesforce, "--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    let text = stdout(&dry);
    for expected in [
        "IsDeleted",
        "deleted in the source (such rows are skipped)",
        "Lead.csv: 20 rows read (delimiter ',' · duplicates: skip)",
        "  imported           15",
        "  skipped             2  (marked deleted in the source)",
        "time zones: from the number 14 · several possible 1",
        "statuses read: 'Closed - Converted' → closed_won (2), ",
        "statuses with no mapping (rows rejected): 'Hot Prospect' (1); add --map-status 'VALUE=STATUS'",
        "status values mapped by default (--map-status FROM=TO overrides):",
        "Zoho        Junk Lead",
        "further phone numbers and emails: 3 (contact points of the leads)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(admin.lead_count(), 0);

    let report = admin.json(&["import", salesforce, "--map-status", "Hot Prospect=qualified"]);
    assert_eq!(report["report"]["imported"], 16);
    assert_eq!(report["report"]["skipped_deleted"], 2);
    assert_eq!(report["report"]["zones"]["number"], 15);
    assert_eq!(report["report"]["zones"]["several"], 1);
    assert_eq!(
        report["statuses"].as_array().map(Vec::len),
        Some(coldcall::import::statuses::STANDARD.len())
    );

    let bad = admin.run(&["import", salesforce, "--map-status", "Hot=sizzling"]);
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("unknown status 'sizzling'"), "{}", stderr(&bad));
    let bad = admin.run(&["import", salesforce, "--set", "colour=blue"]);
    assert_eq!(code(&bad), 1);
    assert!(
        stderr(&bad).contains("'colour' is not a lead field"),
        "{}",
        stderr(&bad)
    );

    // lead show says where the zone comes from.
    let listed = admin.json(&["lead", "list", "--limit", "100"]);
    let id_of = |phone: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["phone"] == phone)
            .map(|l| l["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no lead {phone}"))
    };
    for (phone, zone) in [
        ("+34912345106", "timezone  Europe/Madrid (from the number)"),
        ("+12085550108", "(several possible: called only when all are in hours)"),
    ] {
        let id = id_of(phone);
        let shown = admin.run(&["lead", "show", &id]);
        assert_eq!(code(&shown), 0, "{}", stderr(&shown));
        assert!(stdout(&shown).contains(zone), "{}", stdout(&shown));
    }

    let cards = dir.join("contacts.vcf");
    std::fs::copy(fixtures.join("iphone.vcf"), &cards).unwrap();
    let run = admin.run(&["import", cards.to_str().unwrap()]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    assert!(
        stdout(&run).contains("contacts.vcf: 3 cards read (vCard · duplicates: skip)"),
        "{}",
        stdout(&run)
    );
}

#[test]
fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let admin = Admin::new(dir.path().join("floor.db").to_str().unwrap());
    session(&admin, dir.path());
}

#[test]
fn real_exports_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let admin = Admin::new(dir.path().join("floor.db").to_str().unwrap());
    real_exports(&admin, dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_exports_on_postgres() {
    let db = common::postgres().await;
    let admin = Admin::new(&db.url);
    let dir = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || real_exports(&admin, dir.path()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let db = common::postgres().await;
    let admin = Admin::new(&db.url);
    let dir = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || session(&admin, dir.path()))
        .await
        .unwrap();
}
