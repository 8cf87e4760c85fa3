//! Which time zones a lead is called in, and which zones are inside calling hours right now.
//!
//! A lead's zone is the one it was given (a column of its import, a field of its form); with none,
//! the zones its phone number allows (libphonenumber's prefix data, `phone_zones`); only when the
//! number gives no clue, the team's default zone. A number that allows several zones is called
//! only while the window is open in all of them. The queue filters leads by `open_zones` in SQL,
//! so claiming never scans leads it would have to refuse for the hour.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::hours::{parse_tz, Window};
use super::phone_zones::{distinct_clocks, same_clock, zones_for_number};
use super::Policy;

/// Where a lead's calling zone comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneOrigin {
    /// The lead has a time zone of its own (other than the one its number says).
    Given,
    /// Its phone number places it in one zone (the lead's zone, if it has one, is that zone).
    Number,
    /// Its phone number allows several zones; it is called only when all are in hours.
    Several,
    /// Its number gives no clue: the team's default zone.
    Default,
}

impl ZoneOrigin {
    pub const ALL: &'static [ZoneOrigin] = &[
        ZoneOrigin::Given,
        ZoneOrigin::Number,
        ZoneOrigin::Several,
        ZoneOrigin::Default,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ZoneOrigin::Given => "given",
            ZoneOrigin::Number => "number",
            ZoneOrigin::Several => "several",
            ZoneOrigin::Default => "default",
        }
    }

    /// How the origin reads beside the zone ("from the number").
    pub fn label(self) -> &'static str {
        match self {
            ZoneOrigin::Given => "given",
            ZoneOrigin::Number => "from the number",
            ZoneOrigin::Several => "several possible",
            ZoneOrigin::Default => "default zone",
        }
    }
}

/// The zones a lead is called in, and where they come from. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadZones {
    pub zones: Vec<Tz>,
    pub origin: ZoneOrigin,
}

/// Works out a lead's zones from its own zone (if any), its E.164 phone number and the team's
/// default. A zone name that is not a known zone counts as none, so the number decides. A zone
/// that is the one zone its number allows reads as from the number (an import writes that zone
/// with the lead); one that differs from what the number says was given.
pub fn lead_zones(given: Option<&str>, phone: &str, default: Tz) -> LeadZones {
    let from_number = distinct_clocks(zones_for_number(phone));
    if let Some(tz) = given.and_then(parse_tz) {
        let agrees = from_number.len() == 1 && same_clock(from_number[0], tz);
        return LeadZones {
            zones: vec![tz],
            origin: if agrees { ZoneOrigin::Number } else { ZoneOrigin::Given },
        };
    }
    match from_number.as_slice() {
        [] => LeadZones {
            zones: vec![default],
            origin: ZoneOrigin::Default,
        },
        [one] => LeadZones {
            zones: vec![*one],
            origin: ZoneOrigin::Number,
        },
        several => LeadZones {
            zones: several.to_vec(),
            origin: ZoneOrigin::Several,
        },
    }
}

impl LeadZones {
    /// The zone names joined for a message ("Atlantic/Canary, Europe/Madrid").
    pub fn names(&self) -> String {
        self.zones.iter().map(|tz| tz.name()).collect::<Vec<_>>().join(", ")
    }
}

/// "Europe/Madrid (from the number)", "Atlantic/Canary or Europe/Madrid (several possible: called
/// only when all are in hours)"; a long list is cut after a few names.
impl fmt::Display for LeadZones {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 4;
        let names: Vec<&str> = self.zones.iter().take(SHOWN).map(|tz| tz.name()).collect();
        match self.origin {
            ZoneOrigin::Several => {
                let more = self.zones.len().saturating_sub(SHOWN);
                let list = if more > 0 {
                    format!("{} and {more} more", names.join(", "))
                } else if let Some((last, rest)) = names.split_last() {
                    format!("{} or {last}", rest.join(", "))
                } else {
                    String::new()
                };
                write!(f, "{list} (several possible: called only when all are in hours)")
            }
            origin => write!(f, "{} ({})", names.join(", "), origin.label()),
        }
    }
}

/// Names of every zone whose local time is inside the calling window at `now`, and whether the
/// policy's default zone (used for leads without one) is among them.
pub fn open_zones(policy: &Policy, now: DateTime<Utc>) -> (Vec<String>, bool) {
    let zones: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|tz| matches!(policy.calling_hours.check(now, **tz), Window::Open))
        .map(|tz| tz.name().to_string())
        .collect();
    let default_open = matches!(policy.calling_hours.check(now, policy.default_timezone), Window::Open);
    (zones, default_open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::{America, Asia, Atlantic, Europe};

    #[test]
    fn a_given_zone_wins_then_the_number_then_the_default() {
        let ny = America::New_York;
        let given = lead_zones(Some("asia/tokyo"), "+34912345678", ny);
        assert_eq!(
            (given.zones.as_slice(), given.origin),
            (&[Asia::Tokyo][..], ZoneOrigin::Given)
        );
        let madrid = lead_zones(None, "+34912345678", ny);
        assert_eq!(
            (madrid.zones.as_slice(), madrid.origin),
            (&[Europe::Madrid][..], ZoneOrigin::Number)
        );
        assert_eq!(madrid.to_string(), "Europe/Madrid (from the number)");
        let agreeing = lead_zones(Some("Europe/Madrid"), "+34912345678", ny);
        assert_eq!(agreeing.origin, ZoneOrigin::Number, "a zone the number gives reads so");
        let typo = lead_zones(Some("Madrid"), "+34912345678", ny);
        assert_eq!(typo.origin, ZoneOrigin::Number, "an unknown zone name counts as none");
        let spain = lead_zones(None, "+34212345678", ny);
        assert_eq!(spain.zones, [Atlantic::Canary, Europe::Madrid]);
        assert_eq!(spain.origin, ZoneOrigin::Several);
        assert_eq!(
            spain.to_string(),
            "Atlantic/Canary or Europe/Madrid (several possible: called only when all are in hours)"
        );
        let nowhere = lead_zones(None, "+80012345678", ny);
        assert_eq!(
            (nowhere.zones.as_slice(), nowhere.origin),
            (&[ny][..], ZoneOrigin::Default)
        );
        assert_eq!(nowhere.to_string(), "America/New_York (default zone)");
    }

    #[test]
    fn zones_follow_the_local_clock() {
        let policy = Policy::default();
        // 15:00 UTC is 10:00 in New York and midnight in Tokyo
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        let (zones, default_open) = open_zones(&policy, now);
        assert!(zones.iter().any(|z| z == "America/New_York"));
        assert!(!zones.iter().any(|z| z == "Asia/Tokyo"));
        assert!(default_open);
    }

    #[test]
    fn a_closed_default_zone_is_reported() {
        let policy = Policy::default();
        // 04:00 UTC is 23:00 in New York
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 4, 0, 0).unwrap();
        assert!(!open_zones(&policy, now).1);
    }
}

/// The one zone a number places a lead in, if it places it in exactly one.
pub fn number_zone(phone: &str) -> Option<String> {
    let zones = lead_zones(None, phone, chrono_tz::UTC);
    (zones.origin == ZoneOrigin::Number).then(|| zones.zones[0].name().to_string())
}

/// The zone a lead added or edited by hand is stored with, as an import stores it. `zone` is the
/// lead's zone once the typed fields are laid over it; `before` is, on an edit, the lead's phone
/// and zone as stored. A zone given (or kept) is the lead's; with none, the one zone its number
/// places it in, or none (several zones or no clue: can-call then judges the lead in all of
/// them, or in the default zone). An edit that changes the number and leaves alone a zone that
/// came from the old number gives the lead the new number's zone.
pub fn zone_to_store(zone: Option<&str>, phone: &str, before: Option<(&str, Option<&str>)>) -> Option<String> {
    let zone = zone.map(str::trim).filter(|z| !z.is_empty());
    if let Some((old_phone, old_zone)) = before {
        let untouched = zone == old_zone.map(str::trim).filter(|z| !z.is_empty());
        let from_old_number = lead_zones(zone, old_phone, chrono_tz::UTC).origin == ZoneOrigin::Number;
        if old_phone != phone && untouched && (zone.is_none() || from_old_number) {
            return number_zone(phone);
        }
    }
    match zone {
        Some(zone) => Some(zone.to_string()),
        None => number_zone(phone),
    }
}

#[cfg(test)]
mod zone_to_store_tests {
    use super::*;

    #[test]
    fn a_lead_typed_without_a_zone_gets_its_numbers_zone_as_an_import_gives_it() {
        assert_eq!(
            zone_to_store(None, "+34912345678", None).as_deref(),
            Some("Europe/Madrid")
        );
        assert_eq!(
            zone_to_store(Some(" "), "+34912345678", None).as_deref(),
            Some("Europe/Madrid")
        );
        assert_eq!(
            zone_to_store(Some("Asia/Tokyo"), "+34912345678", None).as_deref(),
            Some("Asia/Tokyo"),
            "a zone given is kept"
        );
        assert_eq!(
            zone_to_store(None, "+12085550108", None),
            None,
            "Idaho's 208 spans two zones"
        );
    }

    #[test]
    fn an_edit_that_changes_the_number_moves_a_zone_that_came_from_the_old_number() {
        let madrid = Some("Europe/Madrid");
        assert_eq!(
            zone_to_store(madrid, "+442071234567", Some(("+34912345678", madrid))).as_deref(),
            Some("Europe/London")
        );
        assert_eq!(
            zone_to_store(
                Some("Asia/Tokyo"),
                "+442071234567",
                Some(("+34912345678", Some("Asia/Tokyo")))
            )
            .as_deref(),
            Some("Asia/Tokyo"),
            "a zone given by hand stays"
        );
        assert_eq!(
            zone_to_store(Some("Asia/Tokyo"), "+442071234567", Some(("+34912345678", madrid))).as_deref(),
            Some("Asia/Tokyo"),
            "a zone typed with the edit wins"
        );
        assert_eq!(
            zone_to_store(madrid, "+34912345678", Some(("+34912345678", madrid))).as_deref(),
            madrid
        );
    }
}
