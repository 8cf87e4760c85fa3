//! coldcall: a terminal dialer console for cold-calling teams.
//!
//! `domain` holds the rules as plain Rust, `store` the async data layer over PostgreSQL and
//! SQLite, `cli` the scriptable command line.

pub mod backup;
pub mod cli;
pub mod config;
pub mod console_settings;
pub mod demo;
pub mod dialer;
pub mod display;
pub mod domain;
pub mod export;
pub mod floor_session;
pub mod import;
pub mod logging;
pub mod offline_link;
pub mod paths;
pub mod private_files;
pub mod server;
pub mod store;
pub mod tui;
