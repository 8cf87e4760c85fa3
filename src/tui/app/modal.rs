//! The dialog over the console, and what a key in it comes to. `key` is pure: it turns the
//! dialog and a key into the dialog still open, or what was decided, for the app to apply.

use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use crate::store::LeadFilter;
use crate::tui::forms::{
    CheckoutForm, ContactForm, EditForm, Field, FilterForm, FormResult, Outcome, OutcomeForm, StatusForm,
};
use crate::tui::request::Request;

#[derive(Debug, Clone)]
pub enum Modal {
    Outcome(Box<OutcomeForm>),
    Status(StatusForm),
    Edit(Box<EditForm>),
    Contact(ContactForm),
    Filter(Box<FilterForm>),
    Pause(Field),
    ConfirmDelete(Uuid, String),
    /// A supervisor releasing a call lock: the call, whose it is, and the reason being typed.
    Release(Uuid, String, Field),
    /// A supervisor giving a lead, or an open callback, to a named agent.
    Assign(AssignForm),
    /// A supervisor merging a duplicate (named by its id or the start of it) into the open lead.
    Merge(MergeForm),
    /// Taking leads away in an offline copy.
    Checkout(Box<CheckoutForm>),
    ConfirmQuit,
    Help,
}

/// What a supervisor is giving away, and to whom (being typed).
#[derive(Debug, Clone)]
pub struct AssignForm {
    pub target: AssignTarget,
    /// The lead's name, or whose callback on which lead.
    pub what: String,
    pub agent: Field,
}

/// The lead kept, and the duplicate being named.
#[derive(Debug, Clone)]
pub struct MergeForm {
    pub keep: Uuid,
    pub keep_name: String,
    pub other: Field,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignTarget {
    Lead(Uuid),
    Callback(Uuid),
}

/// What a key in a dialog decided.
#[derive(Debug)]
pub enum Decided {
    /// Still open (perhaps with an error shown in it).
    Open(Modal),
    /// Closed with nothing to do.
    Closed,
    /// Closed, and the agent is told this.
    Said(&'static str),
    Quit,
    Pause(String),
    /// The outcome form was left: back to the call.
    BackToCall,
    Outcome(Box<OutcomeForm>, Outcome),
    Filter(LeadFilter),
    /// A finished dialog's write.
    Send(Request),
}

fn confirmed(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y'))
}

/// One key in the dialog, on behalf of `agent_id`; `region` reads phone numbers.
pub fn key(modal: Modal, key: &KeyEvent, agent_id: i64, region: &str) -> Decided {
    match modal {
        Modal::Help => Decided::Closed,
        Modal::ConfirmQuit if confirmed(key) => Decided::Quit,
        Modal::ConfirmQuit => Decided::Closed,
        Modal::ConfirmDelete(lead_id, _) if confirmed(key) => Decided::Send(Request::DeleteLead { lead_id, agent_id }),
        Modal::ConfirmDelete(..) => Decided::Said("not deleted"),
        Modal::Release(call_id, agent, mut field) => match key.code {
            KeyCode::Esc => Decided::Closed,
            KeyCode::Enter if field.value().trim().is_empty() => {
                field.error = Some("say why".into());
                Decided::Open(Modal::Release(call_id, agent, field))
            }
            KeyCode::Enter => Decided::Send(Request::ForceRelease {
                call_id,
                by: agent_id,
                reason: field.value().trim().to_string(),
            }),
            _ => {
                field.type_key(key);
                Decided::Open(Modal::Release(call_id, agent, field))
            }
        },
        Modal::Assign(mut form) => match key.code {
            KeyCode::Esc => Decided::Closed,
            KeyCode::Enter if form.agent.value().trim().is_empty() => {
                form.agent.error = Some("whose? type an agent's name".into());
                Decided::Open(Modal::Assign(form))
            }
            KeyCode::Enter => {
                let agent_name = form.agent.value().trim().to_string();
                let by = agent_id;
                Decided::Send(match form.target {
                    AssignTarget::Lead(lead_id) => Request::Assign {
                        lead_id,
                        agent_name,
                        by,
                    },
                    AssignTarget::Callback(callback_id) => Request::HandCallback {
                        callback_id,
                        agent_name,
                        by,
                    },
                })
            }
            _ => {
                form.agent.type_key(key);
                Decided::Open(Modal::Assign(form))
            }
        },
        Modal::Merge(mut form) => match key.code {
            KeyCode::Esc => Decided::Closed,
            KeyCode::Enter if form.other.value().trim().is_empty() => {
                form.other.error = Some("which lead? type its id or the start of it".into());
                Decided::Open(Modal::Merge(form))
            }
            KeyCode::Enter => Decided::Send(Request::Merge {
                keep: form.keep,
                other: form.other.value().trim().to_string(),
                by: agent_id,
            }),
            _ => {
                form.other.type_key(key);
                Decided::Open(Modal::Merge(form))
            }
        },
        Modal::Checkout(mut form) => match form.key(key) {
            FormResult::Editing => Decided::Open(Modal::Checkout(form)),
            FormResult::Cancelled => Decided::Closed,
            FormResult::Done(ask) => Decided::Send(Request::Checkout {
                agent_id,
                leads: ask.leads,
                hours: ask.hours,
                file: ask.file,
            }),
        },
        Modal::Pause(mut field) => match key.code {
            KeyCode::Esc => Decided::Closed,
            KeyCode::Enter => Decided::Pause(field.value().trim().to_string()),
            _ => {
                field.type_key(key);
                Decided::Open(Modal::Pause(field))
            }
        },
        Modal::Outcome(mut form) => match form.key(key) {
            FormResult::Editing => Decided::Open(Modal::Outcome(form)),
            FormResult::Cancelled => Decided::BackToCall,
            FormResult::Done(outcome) => Decided::Outcome(form, outcome),
        },
        Modal::Status(mut form) => match form.key(key) {
            FormResult::Editing => Decided::Open(Modal::Status(form)),
            FormResult::Cancelled => Decided::Closed,
            FormResult::Done((status, reason)) => Decided::Send(Request::SetStatus {
                lead_id: form.lead_id,
                status,
                reason,
                agent_id,
            }),
        },
        Modal::Edit(mut form) => match form.key(key, region) {
            FormResult::Editing => Decided::Open(Modal::Edit(form)),
            FormResult::Cancelled => Decided::Closed,
            FormResult::Done(fields) if form.is_new() => Decided::Send(Request::AddLead {
                fields: Box::new(fields),
                agent_id,
            }),
            FormResult::Done(fields) => Decided::Send(Request::SaveLead {
                lead_id: form.lead_id,
                fields: Box::new(fields),
                agent_id,
            }),
        },
        Modal::Contact(mut form) => match form.key(key) {
            FormResult::Editing => Decided::Open(Modal::Contact(form)),
            FormResult::Cancelled => Decided::Closed,
            FormResult::Done(contact) => Decided::Send(Request::AddContact {
                lead_id: form.lead_id,
                contact,
                region: region.to_string(),
            }),
        },
        Modal::Filter(mut form) => match form.key(key, agent_id) {
            FormResult::Editing => Decided::Open(Modal::Filter(form)),
            FormResult::Cancelled => Decided::Closed,
            FormResult::Done(filter) => Decided::Filter(filter),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(c: char) -> KeyEvent {
        KeyEvent::from(KeyCode::Char(c))
    }

    #[test]
    fn a_release_needs_a_reason() {
        let call = Uuid::now_v7();
        let modal = Modal::Release(call, "bob".into(), Field::new("Reason", "reason", ""));
        let Decided::Open(modal) = key(modal, &KeyEvent::from(KeyCode::Enter), 3, "US") else {
            panic!("stays open without a reason")
        };
        let Decided::Open(modal) = key(modal, &press('x'), 3, "US") else {
            panic!("typing")
        };
        match key(modal, &KeyEvent::from(KeyCode::Enter), 3, "US") {
            Decided::Send(Request::ForceRelease { call_id, by, reason }) => {
                assert_eq!((call_id, by, reason.as_str()), (call, 3, "x"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_y_confirms() {
        let lead = Uuid::now_v7();
        assert!(matches!(
            key(Modal::ConfirmDelete(lead, "Ada".into()), &press('n'), 1, "US"),
            Decided::Said("not deleted")
        ));
        assert!(matches!(
            key(Modal::ConfirmDelete(lead, "Ada".into()), &press('y'), 1, "US"),
            Decided::Send(Request::DeleteLead { .. })
        ));
        assert!(matches!(key(Modal::ConfirmQuit, &press('Y'), 1, "US"), Decided::Quit));
    }

    #[test]
    fn an_assignment_names_its_target() {
        let callback = Uuid::now_v7();
        let form = AssignForm {
            target: AssignTarget::Callback(callback),
            what: "bob's callback to Ada".into(),
            agent: Field::new("Agent", "agent name", "alice"),
        };
        match key(Modal::Assign(form), &KeyEvent::from(KeyCode::Enter), 9, "US") {
            Decided::Send(Request::HandCallback {
                callback_id,
                agent_name,
                by,
            }) => assert_eq!((callback_id, agent_name.as_str(), by), (callback, "alice", 9)),
            other => panic!("{other:?}"),
        }
    }
}
