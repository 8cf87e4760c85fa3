//! `coldcall doctor`'s verdict: what the database's facts mean for a floor, and what to do about
//! each. Plain rules over facts gathered elsewhere, so every threshold is tested here.

use serde::Serialize;

/// What was found about one database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Migrations this coldcall has that the database has not applied.
    pub pending_migrations: Vec<String>,
    /// Call locks whose console stopped sending heartbeats: (agent, lead, seconds since).
    pub stale_locks: Vec<(String, String, i64)>,
    /// Transactions open longer than a minute: (process, seconds, state, start of the statement).
    pub long_transactions: Vec<(i64, f64, String, String)>,
    /// The database server's clock minus this machine's, in seconds (PostgreSQL only).
    pub clock_skew_s: Option<f64>,
    /// The claim queue table's live and dead rows (PostgreSQL only).
    pub queue_rows: Option<(i64, i64)>,
    /// SQLite's `quick_check` answer ("ok" when the file is sound).
    pub integrity: Option<String>,
    /// For the agent named: leads the rules allow now, the queue's ready rows, and leads held
    /// back by each rule.
    pub queue: Option<QueueFacts>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFacts {
    pub agent: String,
    pub callable: i64,
    pub ready: i64,
    pub held: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's verdict, and what to do when it is not ok.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub detail: String,
    pub fix: Option<String>,
}

/// A transaction open this long holds back vacuum and may hold locks consoles wait for.
const LONG_TRANSACTION_FAIL_S: f64 = 600.0;
/// Calling hours, gaps and lock expiry are judged on the consoles' clocks and the database's.
const SKEW_WARN_S: f64 = 2.0;
const SKEW_FAIL_S: f64 = 30.0;
/// Dead rows in the claim queue slow every claim down once they are a fifth of the table.
const DEAD_SHARE_WARN: f64 = 0.2;
const DEAD_ROWS_WARN: i64 = 10_000;

fn finding(check: &'static str, level: Level, detail: String, fix: Option<&str>) -> Finding {
    Finding {
        check,
        level,
        detail,
        fix: fix.map(str::to_string),
    }
}

/// Every check's verdict, in the order a person fixes them.
pub fn judge(facts: &Facts) -> Vec<Finding> {
    use Level::*;
    let mut out = vec![if facts.pending_migrations.is_empty() {
        finding("schema", Ok, "every migration is applied".into(), None)
    } else {
        finding(
            "schema",
            Fail,
            format!("migrations not applied: {}", facts.pending_migrations.join(", ")),
            Some("coldcall db migrate (after a backup: coldcall backup)"),
        )
    }];
    if let Some(answer) = &facts.integrity {
        out.push(if answer == "ok" {
            finding("integrity", Ok, "the file is sound".into(), None)
        } else {
            finding(
                "integrity",
                Fail,
                format!("the file is damaged: {answer}"),
                Some("stop the consoles and restore the last backup (coldcall restore FILE)"),
            )
        });
    }
    out.push(match facts.stale_locks.as_slice() {
        [] => finding("locks", Ok, "no call lock outlived its console".into(), None),
        locks => finding(
            "locks",
            Warn,
            locks
                .iter()
                .map(|(agent, lead, age)| format!("{agent} on {lead}, silent {age} s"))
                .collect::<Vec<_>>()
                .join("; "),
            Some("coldcall calls reap (any console also does this on its own within a minute)"),
        ),
    });
    let longest = facts.long_transactions.iter().map(|t| t.1).fold(0.0, f64::max);
    out.push(match facts.long_transactions.as_slice() {
        [] => finding("transactions", Ok, "none open longer than a minute".into(), None),
        open => finding(
            "transactions",
            if longest >= LONG_TRANSACTION_FAIL_S { Fail } else { Warn },
            open.iter()
                .map(|(pid, s, state, query)| format!("process {pid} {state} for {s:.0} s: {query}"))
                .collect::<Vec<_>>()
                .join("; "),
            Some("end it with SELECT pg_terminate_backend(PID) once you know whose it is"),
        ),
    });
    if let Some(skew) = facts.clock_skew_s {
        let level = match skew.abs() {
            s if s >= SKEW_FAIL_S => Fail,
            s if s >= SKEW_WARN_S => Warn,
            _ => Ok,
        };
        out.push(finding(
            "clock",
            level,
            format!("the database's clock is {skew:+.1} s from this machine's"),
            (level != Ok).then_some("keep both clocks on NTP (timedatectl set-ntp true)"),
        ));
    }
    if let Some((live, dead)) = facts.queue_rows {
        let share = if live + dead == 0 {
            0.0
        } else {
            dead as f64 / (live + dead) as f64
        };
        let bloated = dead >= DEAD_ROWS_WARN && share >= DEAD_SHARE_WARN;
        out.push(finding(
            "queue table",
            if bloated { Warn } else { Ok },
            format!("{live} live rows, {dead} dead ({:.0}%)", share * 100.0),
            bloated.then_some("VACUUM (ANALYZE) lead_queue; then check autovacuum's settings"),
        ));
    }
    if let Some(queue) = &facts.queue {
        let held: Vec<String> = queue
            .held
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect();
        let held = if held.is_empty() {
            "none".into()
        } else {
            held.join(", ")
        };
        out.push(match (queue.callable, queue.ready) {
            (0, _) => finding(
                "queue",
                Warn,
                format!("nothing {} may call now; held back: {held}", queue.agent),
                Some("coldcall queue why shows the same; import leads, or wait for the window or the gap"),
            ),
            (callable, 0) => finding(
                "queue",
                Warn,
                format!(
                    "{callable} leads callable by {} but none ready in the queue",
                    queue.agent
                ),
                Some("coldcall queue next feeds it; if it stays empty, coldcall db migrate and report it"),
            ),
            (callable, ready) => finding(
                "queue",
                Ok,
                format!(
                    "{callable} leads callable by {}, {ready} ready; held back: {held}",
                    queue.agent
                ),
                None,
            ),
        });
    }
    out
}

/// The worst level found: the verdict, and doctor's exit code.
pub fn verdict(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_of(facts: &Facts, check: &str) -> Level {
        judge(facts).into_iter().find(|f| f.check == check).unwrap().level
    }

    #[test]
    fn a_sound_database_is_ok() {
        let facts = Facts {
            clock_skew_s: Some(0.3),
            queue_rows: Some((1000, 10)),
            ..Facts::default()
        };
        assert_eq!(verdict(&judge(&facts)), Level::Ok);
    }

    #[test]
    fn each_problem_is_named_with_its_fix() {
        let facts = Facts {
            pending_migrations: vec!["20261202090000".into()],
            stale_locks: vec![("bob".into(), "Ada Quinn".into(), 300)],
            long_transactions: vec![(42, 700.0, "idle in transaction".into(), "UPDATE leads".into())],
            clock_skew_s: Some(-45.0),
            queue_rows: Some((10_000, 40_000)),
            integrity: Some("row 3 missing from index".into()),
            queue: Some(QueueFacts {
                agent: "alice".into(),
                callable: 0,
                ready: 0,
                held: vec![("too_soon".into(), 12)],
            }),
        };
        let findings = judge(&facts);
        assert_eq!(verdict(&findings), Level::Fail);
        for f in &findings {
            assert_ne!(f.level, Level::Ok, "{f:?}");
            assert!(f.fix.is_some(), "{f:?}");
        }
        assert_eq!(level_of(&facts, "locks"), Level::Warn);
        assert_eq!(level_of(&facts, "transactions"), Level::Fail);
        assert_eq!(level_of(&facts, "clock"), Level::Fail);
        assert!(findings.iter().any(|f| f.detail.contains("too_soon 12")));
    }

    #[test]
    fn thresholds() {
        let skew = |s| Facts {
            clock_skew_s: Some(s),
            ..Facts::default()
        };
        assert_eq!(level_of(&skew(1.9), "clock"), Level::Ok);
        assert_eq!(level_of(&skew(-2.0), "clock"), Level::Warn);
        let long = |s| Facts {
            long_transactions: vec![(1, s, "active".into(), "SELECT".into())],
            ..Facts::default()
        };
        assert_eq!(level_of(&long(90.0), "transactions"), Level::Warn);
        assert_eq!(level_of(&long(600.0), "transactions"), Level::Fail);
        let queue = |live, dead| Facts {
            queue_rows: Some((live, dead)),
            ..Facts::default()
        };
        assert_eq!(
            level_of(&queue(100, 90), "queue table"),
            Level::Ok,
            "small tables are fine"
        );
        assert_eq!(level_of(&queue(100_000, 30_000), "queue table"), Level::Warn);
    }
}
