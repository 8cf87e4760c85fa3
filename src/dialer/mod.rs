//! The softphone: how a call is placed and what is known about it.

pub mod hook;
pub mod netstring;

pub use hook::{expand, run, CallInfo, DialHook};
