//! The dialer's rules as plain Rust: no I/O, no async, no database. The store calls these inside
//! its transactions; the UI and the command line call them to validate input.

pub mod authority;
pub mod bounds;
pub mod bulk_load;
pub mod call_end;
pub mod can_call;
pub mod contact;
pub mod disposition;
pub mod doctor;
pub mod duplicates;
pub mod formula;
pub mod hours;
pub mod ids;
pub mod lead;
pub mod merge;
pub mod offline;
pub mod phone;
pub mod phone_zones;
pub mod script;
pub mod text;
pub mod types;
pub mod zones;

pub use can_call::*;
pub use disposition::{Disposition, OutcomeEffects, OutcomeError, OutcomeInput};
pub use hours::{parse_tz, CallingHours, JointWindow, Window};
pub use lead::{DuplicateKeys, FieldError, LeadFields, LeadInput, ValidationErrors};
pub use merge::{DuplicateMode, FieldSet, LeadField};
pub use phone::{normalize_phone, PhoneError};
pub use types::*;
pub use zones::{lead_zones, LeadZones, ZoneOrigin};
