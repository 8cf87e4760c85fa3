//! The decisions of ending a call that are not a disposition's effects: who may end it, how long
//! it lasted, and which of the lead's callbacks it answers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::authority::{authorize, Forbidden, Permission};
use super::Role;

/// The longest call a floor records: twelve hours. Anything longer is a typing error, and an
/// unbounded value would overflow the sums behind the floor's figures.
pub const MAX_CALL_SECONDS: i32 = 12 * 60 * 60;

/// Who is ending the call, as the store knows them.
#[derive(Debug, Clone, Copy)]
pub struct Ender<'a> {
    pub agent_id: i64,
    pub name: &'a str,
    pub role: Role,
    /// The ender asked to end a call that is not theirs (`--force`).
    pub force: bool,
}

/// How a call is being ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The agent on the call.
    Owner,
    /// A supervisor ending someone else's call; audited.
    Supervisor,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndRefusal {
    #[error("only the agent on the call, or a supervisor with --force, can end it")]
    NotOwner,
    #[error("{0}")]
    Forbidden(Forbidden),
}

/// Only the agent on the call ends it, or a supervisor who says so (`force`).
pub fn may_end_call(owner_id: i64, ender: &Ender) -> Result<EndedBy, EndRefusal> {
    if owner_id == ender.agent_id {
        return Ok(EndedBy::Owner);
    }
    if !ender.force {
        return Err(EndRefusal::NotOwner);
    }
    authorize(ender.name, ender.role, Permission::EndOthersCall).map_err(EndRefusal::Forbidden)?;
    Ok(EndedBy::Supervisor)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration must not be negative")]
    Negative,
    #[error("duration: {0} seconds is more than the 12 hours a call can last")]
    TooLong(i64),
}

/// The call's talk time in seconds: the one given, or the time since the call started.
/// A clock that stepped back gives 0, never a negative duration.
pub fn call_duration(given: Option<i64>, started_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<i32, DurationError> {
    let seconds = match given {
        Some(s) if s < 0 => return Err(DurationError::Negative),
        Some(s) => s,
        None => (now - started_at).num_seconds().max(0),
    };
    if seconds > i64::from(MAX_CALL_SECONDS) {
        return Err(DurationError::TooLong(seconds));
    }
    Ok(seconds as i32)
}

/// An open callback on the lead being called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCallback {
    pub id: Uuid,
    pub due_at: DateTime<Utc>,
}

/// A call to the lead answers every callback that was due by the time it ended, whoever owned it;
/// callbacks still in the future stay open (the lead asked to be called then, not now).
pub fn callbacks_answered(open: &[OpenCallback], now: DateTime<Utc>) -> Vec<Uuid> {
    open.iter().filter(|c| c.due_at <= now).map(|c| c.id).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn ender(agent_id: i64, role: Role, force: bool) -> Ender<'static> {
        Ender {
            agent_id,
            name: "sam",
            role,
            force,
        }
    }

    #[test]
    fn the_owner_ends_their_call_and_a_supervisor_only_with_force() {
        assert_eq!(may_end_call(1, &ender(1, Role::Agent, false)), Ok(EndedBy::Owner));
        assert_eq!(
            may_end_call(1, &ender(2, Role::Supervisor, false)),
            Err(EndRefusal::NotOwner)
        );
        assert_eq!(
            may_end_call(1, &ender(2, Role::Supervisor, true)),
            Ok(EndedBy::Supervisor)
        );
        assert_eq!(may_end_call(1, &ender(2, Role::Admin, true)), Ok(EndedBy::Supervisor));
        let refused = may_end_call(1, &ender(2, Role::Agent, true)).unwrap_err();
        assert!(refused
            .to_string()
            .contains("only a supervisor or admin can end another agent's call"));
    }

    #[test]
    fn duration_is_measured_when_not_given_and_bounded_when_given() {
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        assert_eq!(call_duration(None, start, start + Duration::seconds(95)), Ok(95));
        assert_eq!(call_duration(None, start, start - Duration::seconds(5)), Ok(0));
        assert_eq!(call_duration(Some(30), start, start), Ok(30));
        assert_eq!(call_duration(Some(-1), start, start), Err(DurationError::Negative));
        assert_eq!(
            call_duration(Some(43_201), start, start),
            Err(DurationError::TooLong(43_201))
        );
        assert_eq!(
            call_duration(Some(i64::MAX), start, start),
            Err(DurationError::TooLong(i64::MAX))
        );
        assert!(call_duration(None, start, start + Duration::days(2)).is_err());
    }

    #[test]
    fn a_call_answers_the_callbacks_already_due_and_leaves_later_ones() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        let due = OpenCallback {
            id: Uuid::from_u128(1),
            due_at: now - Duration::minutes(5),
        };
        let exactly_now = OpenCallback {
            id: Uuid::from_u128(2),
            due_at: now,
        };
        let later = OpenCallback {
            id: Uuid::from_u128(3),
            due_at: now + Duration::days(1),
        };
        assert_eq!(
            callbacks_answered(&[due, exactly_now, later], now),
            vec![due.id, exactly_now.id]
        );
    }
}
