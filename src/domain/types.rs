//! Small enums shared by the whole app.
//!
//! Every enum has the same surface (serde names, `as_str`, `label`, `Display`, lenient `FromStr`),
//! so one macro generates it; the string forms must stay identical to the serde names because they
//! are what gets stored and what CSV files and command-line flags contain.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A text value did not name any variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {allowed})")]
pub struct UnknownValue {
    /// What was being parsed, e.g. "status".
    pub kind: &'static str,
    /// The text as given.
    pub value: String,
    /// Comma-separated list of accepted values.
    pub allowed: String,
}

/// Generates an enum plus its shared impls from `Variant => "snake_name", "Human label"` rows.
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        $name:ident, kind = $kind:literal,
        { $($(#[$vmeta:meta])* $variant:ident => $text:literal, $label:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order (used for pickers and error hints).
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// Stable snake_case name, identical to the serde form.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Human-readable name for the screen.
            pub fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = loose_key(s);
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| UnknownValue {
                        kind: $kind,
                        value: s.to_string(),
                        allowed: Self::ALL
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    };
}

/// People type "Closed Won", "closed-won" or "CLOSED_WON"; all mean the same value.
fn loose_key(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

domain_enum! {
    /// Where a lead stands in the sales pipeline.
    LeadStatus, kind = "status", {
        New => "new", "New",
        Contacted => "contacted", "Contacted",
        Qualified => "qualified", "Qualified",
        Proposal => "proposal", "Proposal",
        Negotiation => "negotiation", "Negotiation",
        ClosedWon => "closed_won", "Closed won",
        ClosedLost => "closed_lost", "Closed lost",
        Nurturing => "nurturing", "Nurturing",
    }
}

impl LeadStatus {
    /// Closed leads are never dialled again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::ClosedWon | Self::ClosedLost)
    }
}

domain_enum! {
    /// How urgently a lead should be worked.
    Priority, kind = "priority", {
        Low => "low", "Low",
        Medium => "medium", "Medium",
        High => "high", "High",
        Urgent => "urgent", "Urgent",
    }
}

impl Priority {
    /// Numeric rank for sorting and storage: Low 0 .. Urgent 3.
    pub fn rank(self) -> i16 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }

    /// Inverse of [`Priority::rank`].
    pub fn from_rank(rank: i16) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.rank() == rank)
    }
}

domain_enum! {
    /// What a user of the console is allowed to do.
    Role, kind = "role", {
        Agent => "agent", "Agent",
        Supervisor => "supervisor", "Supervisor",
        Admin => "admin", "Admin",
    }
}

domain_enum! {
    /// Progress of a single call.
    CallStatus, kind = "call status", {
        Initiated => "initiated", "Initiated",
        Ringing => "ringing", "Ringing",
        Answered => "answered", "Answered",
        Busy => "busy", "Busy",
        Failed => "failed", "Failed",
        Voicemail => "voicemail", "Voicemail",
        Completed => "completed", "Completed",
        Abandoned => "abandoned", "Abandoned",
        /// Rang out, or the agent gave up before an answer (from the softphone).
        NoAnswer => "no_answer", "No answer",
        /// The far end refused the call (SIP 603, from the softphone).
        Declined => "declined", "Declined",
    }
}

domain_enum! {
    /// Who placed the call.
    Direction, kind = "direction", {
        Inbound => "inbound", "Inbound",
        Outbound => "outbound", "Outbound",
    }
}

domain_enum! {
    /// Kind of an extra contact point stored for a lead.
    ContactKind, kind = "contact kind", {
        Phone => "phone", "Phone",
        Email => "email", "Email",
        Address => "address", "Address",
        Social => "social", "Social",
    }
}

domain_enum! {
    /// What an agent is doing, as the floor sees it.
    PresenceState, kind = "agent state", {
        Ready => "ready", "Ready",
        OnCall => "on_call", "On call",
        WrapUp => "wrap_up", "Wrap-up",
        Paused => "paused", "Paused",
        Offline => "offline", "Offline",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, StrDeserializer};
    use serde::de::IntoDeserializer;
    use std::str::FromStr;

    /// Checks the shared contract for one enum: serde, `as_str`, `Display` and `FromStr` agree.
    fn check_contract<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr + for<'de> Deserialize<'de>,
    {
        for &v in all {
            let text = as_str(v);
            assert_eq!(v.to_string(), text);
            let de: StrDeserializer<'_, DeError> = text.into_deserializer();
            assert_eq!(T::deserialize(de).unwrap(), v, "serde name of {v:?}");
            assert!(T::from_str(text).is_ok_and(|p| p == v));
            assert!(T::from_str(&text.to_uppercase()).is_ok_and(|p| p == v));
            assert!(T::from_str(&text.replace('_', " ")).is_ok_and(|p| p == v));
            assert!(T::from_str(&text.replace('_', "-")).is_ok_and(|p| p == v));
        }
    }

    #[test]
    fn all_enums_keep_their_contract() {
        check_contract(LeadStatus::ALL, LeadStatus::as_str);
        check_contract(Priority::ALL, Priority::as_str);
        check_contract(Role::ALL, Role::as_str);
        check_contract(CallStatus::ALL, CallStatus::as_str);
        check_contract(Direction::ALL, Direction::as_str);
        check_contract(ContactKind::ALL, ContactKind::as_str);
    }

    #[test]
    fn labels_are_human() {
        assert_eq!(LeadStatus::ClosedWon.label(), "Closed won");
        assert_eq!(LeadStatus::ClosedWon.as_str(), "closed_won");
        assert_eq!(CallStatus::Voicemail.label(), "Voicemail");
    }

    #[test]
    fn lenient_parsing() {
        assert_eq!("  Closed Won ".parse(), Ok(LeadStatus::ClosedWon));
        assert_eq!("closed-lost".parse(), Ok(LeadStatus::ClosedLost));
        assert_eq!("URGENT".parse(), Ok(Priority::Urgent));
    }

    #[test]
    fn unknown_value_lists_choices() {
        let err = "foo".parse::<LeadStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown status 'foo' (expected one of: new, contacted, qualified, proposal, \
             negotiation, closed_won, closed_lost, nurturing)"
        );
        let err = "x".parse::<CallStatus>().unwrap_err();
        assert!(err.to_string().starts_with("unknown call status 'x'"));
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<_> = LeadStatus::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [&LeadStatus::ClosedWon, &LeadStatus::ClosedLost]);
    }

    #[test]
    fn priority_rank_round_trips() {
        for &p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
        }
        assert_eq!(Priority::Low.rank(), 0);
        assert_eq!(Priority::Urgent.rank(), 3);
        assert_eq!(Priority::from_rank(4), None);
        assert_eq!(Priority::from_rank(-1), None);
    }
}
