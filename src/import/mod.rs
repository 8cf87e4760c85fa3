//! Lead lists and do-not-call lists from CSV files, as another CRM or a spreadsheet exports them.
//!
//! The pure parts have no I/O: `sniff` (encoding and delimiter), `mapping` (headers → lead
//! fields), `row` (a record → a validated lead or the reason it cannot be taken). `reader` streams
//! records with their line numbers, `source` reads and validates on its own thread, `rejects`
//! writes the rows that could not be taken, and `leads` / `dnc` run an import through the store.

pub mod dnc;
pub mod keys;
pub mod leads;
pub mod mapping;
pub mod reader;
pub mod rejects;
pub mod row;
pub mod sniff;
pub mod source;
pub mod statuses;
pub mod vcard;

pub use dnc::{DncImport, DncImportOptions, DncReport, DncStopped};
pub use leads::{ImportError, ImportOptions, ImportReport, ImportStopped, LeadImport};
pub use mapping::{Mapping, Placement};
pub use row::ParsedLead;
