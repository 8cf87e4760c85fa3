//! The softphone: how a call is placed and what is known about it.
//!
//! Two kinds, chosen in the `[dial]` section of the config ([`Softphone`]):
//! - a command hook ([`hook`]) run when a call starts and ends, for any softphone with a
//!   command line; it knows nothing of the call's progress;
//! - baresip driven over its control socket ([`baresip`]), which reports the call's progress
//!   ([`Progress`]: dialling, ringing, answered, ended with a reason) so the call log gets true
//!   talk times and an outcome from SIP ([`CallOutcome`]).
//!
//! Without either, the console is a manual dialer: it shows the number to dial.

pub mod baresip;
pub mod hook;
pub mod netstring;
pub mod progress;
pub mod settings;

pub use hook::{expand, run, CallInfo, DialHook};
pub use progress::{CallOutcome, Ended, EndedBy, Progress};
pub use settings::{BaresipSettings, Softphone, UriTemplate};
