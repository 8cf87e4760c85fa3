//! Whether the database answers, and the writes it did not take while it was away (kept and
//! retried until saved, so nothing an agent typed is lost).

use crate::tui::request::Request;

#[derive(Debug, Clone)]
pub struct Connection {
    online: bool,
    pending: Vec<Request>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            online: true,
            pending: Vec::new(),
        }
    }
}

impl Connection {
    pub fn online(&self) -> bool {
        self.online
    }

    /// Writes waiting for the database.
    pub fn pending(&self) -> &[Request] {
        &self.pending
    }

    /// The database answered; true when it had been away.
    pub fn answered(&mut self) -> bool {
        !std::mem::replace(&mut self.online, true)
    }

    /// The database is away; true when it had been answering.
    pub fn lost(&mut self) -> bool {
        std::mem::replace(&mut self.online, false)
    }

    /// A request failed for want of the database; writes are kept (once). True when kept.
    pub fn failed(&mut self, request: Request) -> bool {
        self.online = false;
        if !request.must_survive() {
            return false;
        }
        if !self.pending.contains(&request) {
            self.pending.push(request);
        }
        true
    }

    /// The kept writes, to send again now that the database answers.
    pub fn retry(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LeadStatus;

    fn status_change() -> Request {
        Request::SetStatus {
            lead_id: uuid::Uuid::now_v7(),
            status: LeadStatus::Contacted,
            reason: None,
            agent_id: 1,
        }
    }

    #[test]
    fn writes_are_kept_once_and_reads_are_not() {
        let mut connection = Connection::default();
        let write = status_change();
        assert!(connection.failed(write.clone()));
        assert!(connection.failed(write.clone()));
        assert!(!connection.failed(Request::ActiveCalls));
        assert!(!connection.online());
        assert_eq!(connection.pending(), std::slice::from_ref(&write));
        assert!(connection.answered(), "it was away");
        assert!(!connection.answered());
        assert_eq!(connection.retry(), vec![write]);
        assert!(connection.pending().is_empty());
    }
}
