//! Where backups go and how they are named, so `--keep N` can prune old ones without ever
//! touching a file coldcall did not write.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

const PREFIX: &str = "coldcall-";
const SUFFIX: &str = ".backup.zst";
const STAMP: &str = "%Y%m%dT%H%M%S%.3fZ";

/// The default folder: `backups/` in the data directory.
pub fn default_dir() -> PathBuf {
    crate::paths::data_dir().join("backups")
}

/// `coldcall-20261123T150000.123Z.backup.zst`: names sort in time order.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(STAMP))
}

/// When a file of that name was written, if the name is one coldcall gives its backups.
pub fn backup_time(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    NaiveDateTime::parse_from_str(stamp, STAMP).ok().map(|t| t.and_utc())
}

/// Deletes all but the newest `keep` coldcall backups in `dir`, oldest first; other files are
/// left alone. Returns what was deleted.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut backups: Vec<(DateTime<Utc>, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| {
            let time = backup_time(entry.file_name().to_str()?)?;
            Some((time, entry.path()))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for (_, path) in backups.into_iter().take(excess) {
        std::fs::remove_file(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_sort_in_time_order_and_read_back() {
        let a = Utc.with_ymd_and_hms(2026, 11, 23, 9, 5, 0).unwrap();
        let b = a + chrono::Duration::milliseconds(1500);
        assert_eq!(file_name(a), "coldcall-20261123T090500.000Z.backup.zst");
        assert!(file_name(a) < file_name(b));
        assert_eq!(backup_time(&file_name(b)), Some(b));
        assert_eq!(backup_time("coldcall-notatime.backup.zst"), None);
        assert_eq!(backup_time("notes.txt"), None);
    }

    #[test]
    fn prune_keeps_the_newest_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        for day in 0..5 {
            std::fs::write(dir.path().join(file_name(start + chrono::Duration::days(day))), b"x").unwrap();
        }
        for other in [
            "notes.txt",
            "coldcall-20261101T000000.000Z.backup.zst.partial",
            "coldcall.db",
        ] {
            std::fs::write(dir.path().join(other), b"x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(removed.len(), 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "coldcall-20261101T000000.000Z.backup.zst.partial",
                "coldcall-20261126T090000.000Z.backup.zst",
                "coldcall-20261127T090000.000Z.backup.zst",
                "coldcall.db",
                "notes.txt"
            ]
        );
    }
}
