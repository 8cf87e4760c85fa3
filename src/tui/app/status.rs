//! The status line: one message at a time, each tied to what it speaks of, so a message never
//! outlives its moment (a refusal for one lead is gone once another lead is in front).

use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// What a message is about; when that changes the message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// The console as a whole (the connection, the floor): stays until replaced.
    Console,
    /// The lead in front of the agent (open, or the selected row).
    Lead(Uuid),
    /// One call.
    Call(Uuid),
    /// The dialog on screen.
    Form,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    pub about: About,
}

/// What the messages can be about at one moment: compared before and after each key or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Subjects {
    pub lead: Option<Uuid>,
    pub call: Option<Uuid>,
    pub form: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Status {
    message: Option<Message>,
}

impl Status {
    pub fn info(&mut self, about: About, text: impl Into<String>) {
        self.set(Level::Info, about, text);
    }

    pub fn warn(&mut self, about: About, text: impl Into<String>) {
        self.set(Level::Warn, about, text);
    }

    pub fn error(&mut self, about: About, text: impl Into<String>) {
        self.set(Level::Error, about, text);
    }

    fn set(&mut self, level: Level, about: About, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            level,
            about,
        });
    }

    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The message's text, or "" when there is none.
    pub fn text(&self) -> &str {
        self.message.as_ref().map_or("", |m| m.text.as_str())
    }

    /// Drops a message whose subject is no longer in front: another lead, a call that ended, a
    /// dialog that closed.
    pub fn follow(&mut self, before: Subjects, now: Subjects) {
        let stale = match self.message.as_ref().map(|m| m.about) {
            Some(About::Lead(id)) => before.lead != now.lead && now.lead != Some(id),
            Some(About::Call(id)) => before.call != now.call && now.call != Some(id),
            Some(About::Form) => before.form && !now.form,
            Some(About::Console) | None => false,
        };
        if stale {
            self.message = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_about_a_lead_goes_when_another_lead_is_in_front() {
        let (ada, bea) = (Uuid::now_v7(), Uuid::now_v7());
        let mut status = Status::default();
        status.error(About::Lead(ada), "cannot call: outside calling hours");
        let at_ada = Subjects {
            lead: Some(ada),
            ..Subjects::default()
        };
        status.follow(at_ada, at_ada);
        assert_eq!(
            status.text(),
            "cannot call: outside calling hours",
            "same lead: it stays"
        );
        let at_bea = Subjects {
            lead: Some(bea),
            ..Subjects::default()
        };
        status.follow(at_ada, at_bea);
        assert_eq!(status.text(), "");
    }

    #[test]
    fn a_message_set_for_the_new_subject_survives_the_move_to_it() {
        let ada = Uuid::now_v7();
        let mut status = Status::default();
        status.info(About::Lead(ada), "next: Ada Quinn; press c to call");
        status.follow(
            Subjects::default(),
            Subjects {
                lead: Some(ada),
                ..Subjects::default()
            },
        );
        assert_eq!(status.text(), "next: Ada Quinn; press c to call");
    }

    #[test]
    fn call_and_form_messages_end_with_their_call_and_form() {
        let call = Uuid::now_v7();
        let on_call = Subjects {
            call: Some(call),
            ..Subjects::default()
        };
        let mut status = Status::default();
        status.error(About::Call(call), "dialling failed");
        status.follow(on_call, Subjects::default());
        assert_eq!(status.text(), "");

        let in_form = Subjects {
            form: true,
            ..Subjects::default()
        };
        status.error(About::Form, "the lead has errors");
        status.follow(in_form, in_form);
        assert_eq!(status.text(), "the lead has errors");
        status.follow(in_form, Subjects::default());
        assert_eq!(status.text(), "");

        status.warn(About::Console, "database unreachable");
        status.follow(in_form, Subjects::default());
        assert_eq!(status.text(), "database unreachable", "the console's own news stays");
    }
}
