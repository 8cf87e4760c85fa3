//! The store's transaction flows, written once over `Backend` and `Tx`: each reads the facts it
//! needs, lets `crate::domain` decide, and applies the decision with further statements, all in
//! one transaction. Backends supply the statements; nothing here knows which database it runs on.

use super::backend::Tx;
use super::settings::FloorSettings;
use super::{Result, StoreError};

pub(crate) mod bulk;
pub(crate) mod calls;
pub(crate) mod leads;
pub(crate) mod lists;
pub(crate) mod merge;
pub(crate) mod offline;
pub(crate) mod privacy;
pub(crate) mod queue;
pub(crate) mod scripts;
pub(crate) mod snapshot;

/// The floor's settings as stored, read inside the flow's transaction. A stored value out of
/// range stops the flow with an error naming the setting; it never panics or guesses.
pub(crate) async fn floor_in<T: Tx>(tx: &mut T) -> Result<FloorSettings> {
    FloorSettings::from_rows(&tx.settings().await?).map_err(StoreError::BadSetting)
}
