//! Lead lists and do-not-call lists from CSV files.
pub mod reader;
pub mod sniff;
