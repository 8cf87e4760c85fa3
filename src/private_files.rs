//! Lead data on disk is readable by its owner only: the data directory is 0700 and the SQLite
//! database, its WAL, the logs and exports are 0600. New files get that from the process's
//! file-creation mask (set in `main`); files left by an older coldcall are tightened here.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) readable by its owner only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Takes group and other access off `path` when this user owns it; a missing file is fine.
/// Answers whether anything was changed.
pub fn restrict(path: &Path) -> io::Result<bool> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mode = meta.permissions().mode();
    if meta.uid() != me || mode & 0o077 == 0 {
        return Ok(false);
    }
    let private = if meta.is_dir() { 0o700 } else { 0o600 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode & !0o777 | private))?;
    Ok(true)
}

/// From now on files and directories this process creates are its owner's only.
pub fn owner_only_from_now_on() {
    // SAFETY: umask only sets this process's file-creation mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_files_are_tightened_and_new_dirs_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        let file = dir.join("coldcall.db");
        fs::write(&file, b"x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(restrict(&file).unwrap());
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!restrict(&file).unwrap(), "already private");
        assert!(!restrict(&dir.join("missing")).unwrap());
    }
}
