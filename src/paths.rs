//! Where coldcall keeps its files. A leaf module: every layer may ask it (the backup files, the
//! logs, the console), and it asks none of them, so no layer below `config` has to reach up to
//! `config` for a path.

use std::path::PathBuf;

/// The platform data directory (e.g. `~/.local/share/coldcall` on Linux), or `COLDCALL_DATA_DIR`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COLDCALL_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    project_dirs()
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".coldcall"))
}

/// The config file: `COLDCALL_CONFIG`, else beside the data when `COLDCALL_DATA_DIR` is set, else
/// the platform config directory (e.g. `~/.config/coldcall/config.toml`).
pub fn config_path() -> PathBuf {
    if let Some(path) = std::env::var_os("COLDCALL_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if std::env::var_os("COLDCALL_DATA_DIR").is_some_and(|d| !d.is_empty()) {
        return data_dir().join("config.toml");
    }
    project_dirs()
        .map(|dirs| dirs.config_dir().join("config.toml"))
        .unwrap_or_else(|| PathBuf::from(".coldcall/config.toml"))
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "coldcall")
}
