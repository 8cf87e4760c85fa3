//! The store's transaction flows, written once over `Backend` and `Tx`: each reads the facts it
//! needs, lets `crate::domain` decide, and applies the decision with further statements, all in
//! one transaction. Backends supply the statements; nothing here knows which database it runs on.

pub(crate) mod bulk;
pub(crate) mod calls;
pub(crate) mod leads;
pub(crate) mod lists;
pub(crate) mod privacy;
pub(crate) mod queue;
pub(crate) mod snapshot;
