//! The statements of call scripts (`flows::scripts`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Tx;
use crate::store::model::CallScript;
use crate::store::Result;

pub(crate) trait ScriptTx: Tx {
    /// Stores the script under its name, replacing one there; answers the one replaced.
    async fn put_script(
        &mut self,
        name: &str,
        body: &str,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<CallScript>>;
    async fn scripts(&mut self) -> Result<Vec<CallScript>>;
    async fn script(&mut self, name: &str) -> Result<Option<CallScript>>;
    async fn delete_script(&mut self, name: &str) -> Result<bool>;
    /// The disposition of the lead's last ended call, if any.
    async fn last_disposition(&mut self, lead_id: Uuid) -> Result<Option<String>>;
}
