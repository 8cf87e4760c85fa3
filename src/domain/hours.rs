//! Calling hours, judged in the lead's own time zone.
//!
//! Calling people at night is both rude and, in many places, unlawful, so the window is checked
//! against the lead's local wall clock, including on days when daylight saving time shifts it.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

/// Daily window in which a lead may be called; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallingHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for CallingHours {
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a valid time"),
            end: NaiveTime::from_hms_opt(21, 0, 0).expect("21:00 is a valid time"),
        }
    }
}

/// Result of checking the window at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    /// `local_now` is the lead's wall-clock time; `opens_at` is the next instant the window opens.
    Closed {
        local_now: NaiveDateTime,
        opens_at: DateTime<Utc>,
    },
}

/// Result of checking the window in several zones at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JointWindow {
    Open,
    /// `zone` is a zone where the window is closed, `local_now` its wall-clock time; `opens_at`
    /// is when the window is next open in all the zones together (`None`: not in a week).
    Closed {
        zone: Tz,
        local_now: NaiveDateTime,
        opens_at: Option<DateTime<Utc>>,
    },
}

/// How many local days ahead to look for an opening. One is enough on normal days; the extra
/// days cover zones that once skipped a whole calendar day.
const DAYS_TO_SEARCH: u64 = 7;

impl CallingHours {
    /// Parses "08:00-21:00" (seconds optional). The start must be before the end, so windows
    /// that span midnight are not supported.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (start, end) = s
            .split_once('-')
            .ok_or_else(|| format!("'{s}' is not a time range like 08:00-21:00"))?;
        let start = parse_time(start)?;
        let end = parse_time(end)?;
        if start >= end {
            return Err(format!("calling hours must start before they end (got '{}')", s.trim()));
        }
        Ok(Self { start, end })
    }

    /// Whether `now` falls inside the window in `tz`, and if not, when it next opens.
    pub fn check(&self, now: DateTime<Utc>, tz: Tz) -> Window {
        let local_now = now.with_timezone(&tz).naive_local();
        if self.contains(local_now.time()) {
            return Window::Open;
        }
        Window::Closed {
            local_now,
            opens_at: self.next_opening(now, local_now.date(), tz),
        }
    }

    /// Whether `now` is inside the window in every one of `zones` (a number that may be in any
    /// of them is called only when it is daytime in all). When it is not, the first closed zone
    /// is reported with the next instant the window is open in all of them together, or `None`
    /// for that instant when the zones never share an hour of the window in the coming week.
    pub fn check_all(&self, now: DateTime<Utc>, zones: &[Tz]) -> JointWindow {
        let Some(closed) = zones.iter().copied().find(|tz| self.check(now, *tz) != Window::Open) else {
            return JointWindow::Open;
        };
        let local_now = now.with_timezone(&closed).naive_local();
        // The window opens in all zones at the moment it opens in the last of them, so the
        // joint opening is one of the zones' own opening instants.
        let mut starts: Vec<DateTime<Utc>> = zones
            .iter()
            .flat_map(|tz| {
                let today = now.with_timezone(tz).date_naive();
                (0..=DAYS_TO_SEARCH)
                    .filter_map(move |n| today.checked_add_days(Days::new(n)))
                    .flat_map(move |day| local_instants(day.and_time(self.start), *tz))
            })
            .filter(|at| *at > now)
            .collect();
        starts.sort();
        let opens_at = starts
            .into_iter()
            .find(|at| zones.iter().all(|tz| self.contains(at.with_timezone(tz).time())));
        JointWindow::Closed {
            zone: closed,
            local_now,
            opens_at,
        }
    }

    fn contains(&self, t: NaiveTime) -> bool {
        self.start <= t && t < self.end
    }

    /// The first start-of-window instant after `now`. Candidates are checked against the window
    /// because a DST gap can push the start past the end, and after a fall-back the earlier
    /// reading of an ambiguous start can lie before `now`.
    fn next_opening(&self, now: DateTime<Utc>, today: NaiveDate, tz: Tz) -> DateTime<Utc> {
        (0..=DAYS_TO_SEARCH)
            .filter_map(|n| today.checked_add_days(Days::new(n)))
            .flat_map(|day| local_instants(day.and_time(self.start), tz))
            .find(|at| *at > now && self.contains(at.with_timezone(&tz).time()))
            // Unreachable for real zones and valid hours; a day later is a safe answer.
            .unwrap_or(now + chrono::Duration::days(1))
    }
}

/// Instants at which the wall clock in `tz` shows `local`, earliest first. In a DST gap the
/// wall time never happens, so the first instant after the gap stands in for it.
fn local_instants(local: NaiveDateTime, tz: Tz) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => vec![at.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            vec![a.min(b), a.max(b)]
        }
        LocalResult::None => GapInfo::new(&local, &tz)
            .and_then(|gap| gap.end)
            .map(|at| vec![at.with_timezone(&Utc)])
            .unwrap_or_default(),
    }
}

fn parse_time(s: &str) -> Result<NaiveTime, String> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| format!("'{s}' is not a time like 08:00"))
}

/// Looks up an IANA zone name, ignoring case, and returns chrono-tz's own spelling of it.
pub fn parse_tz(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia};
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hours(s: &str) -> CallingHours {
        CallingHours::parse(s).unwrap()
    }

    /// Asserts the window is closed and returns when it opens.
    fn opening(w: Window) -> DateTime<Utc> {
        match w {
            Window::Closed { opens_at, .. } => opens_at,
            Window::Open => panic!("expected the window to be closed"),
        }
    }

    #[test]
    fn parses_ranges() {
        assert_eq!(hours("08:00-21:00"), CallingHours::default());
        assert_eq!(hours(" 09:30 - 17:00:00 ").start.to_string(), "09:30:00");
        assert!(CallingHours::parse("21:00-08:00").is_err());
        assert!(CallingHours::parse("08:00-08:00").is_err());
        assert!(CallingHours::parse("8am-9pm").is_err());
        assert!(CallingHours::parse("08:00").is_err());
    }

    #[test]
    fn new_york_before_during_and_at_end() {
        let h = CallingHours::default();
        // 06:00 EST.
        let w = h.check(utc("2026-01-15T11:00:00Z"), America::New_York);
        let Window::Closed { local_now, opens_at } = w else {
            panic!("expected closed")
        };
        assert_eq!(local_now.to_string(), "2026-01-15 06:00:00");
        assert_eq!(opens_at, utc("2026-01-15T13:00:00Z"));
        // 10:00 EST.
        assert_eq!(h.check(utc("2026-01-15T15:00:00Z"), America::New_York), Window::Open);
        // 20:59:59 EST is the last open second; 21:00 exactly is closed until tomorrow 08:00.
        assert_eq!(h.check(utc("2026-01-16T01:59:59Z"), America::New_York), Window::Open);
        let w = h.check(utc("2026-01-16T02:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-01-16T13:00:00Z"));
    }

    #[test]
    fn sydney_summer_time() {
        // 07:00 AEDT (+11) on 16 January; it opens at 08:00 AEDT, which is still the 15th in UTC.
        let w = CallingHours::default().check(utc("2026-01-15T20:00:00Z"), Australia::Sydney);
        assert_eq!(opening(w), utc("2026-01-15T21:00:00Z"));
        // 12:00 AEDT.
        assert_eq!(
            CallingHours::default().check(utc("2026-01-15T01:00:00Z"), Australia::Sydney),
            Window::Open
        );
    }

    #[test]
    fn kolkata_half_hour_offset() {
        // 07:30 IST (+05:30).
        let w = CallingHours::default().check(utc("2026-01-15T02:00:00Z"), Asia::Kolkata);
        assert_eq!(opening(w), utc("2026-01-15T02:30:00Z"));
        // 08:00 IST exactly is open.
        assert_eq!(
            CallingHours::default().check(utc("2026-01-15T02:30:00Z"), Asia::Kolkata),
            Window::Open
        );
    }

    #[test]
    fn us_spring_forward_day() {
        // 8 March 2026: 02:00 EST jumps to 03:00 EDT. At 06:00 EDT the 08:00 opening is 12:00 UTC.
        let w = CallingHours::default().check(utc("2026-03-08T10:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-03-08T12:00:00Z"));
        // Before the jump (01:00 EST) the same opening is still the 08:00 EDT one.
        let w = CallingHours::default().check(utc("2026-03-08T06:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-03-08T12:00:00Z"));
    }

    #[test]
    fn us_fall_back_day() {
        // 1 November 2026: 02:00 EDT falls back to 01:00 EST. 06:00 EST; opens 08:00 EST = 13:00 UTC.
        let w = CallingHours::default().check(utc("2026-11-01T11:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-11-01T13:00:00Z"));
        // A start inside the repeated hour takes its earlier reading (01:30 EDT = 05:30 UTC)...
        let h = hours("01:30-21:00");
        let w = h.check(utc("2026-11-01T04:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-11-01T05:30:00Z"));
        // ...unless that has passed: at 01:10 EST (second pass) the earlier 01:30 was 50 minutes ago,
        // and 01:30 EST is still ahead.
        let w = h.check(utc("2026-11-01T06:10:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-11-01T06:30:00Z"));
    }

    #[test]
    fn start_inside_dst_gap() {
        // 02:30 never happens on 8 March 2026 in New York; the window opens at 03:00 EDT = 07:00 UTC.
        let h = hours("02:30-21:00");
        let w = h.check(utc("2026-03-08T06:00:00Z"), America::New_York);
        assert_eq!(opening(w), utc("2026-03-08T07:00:00Z"));
        assert_eq!(h.check(utc("2026-03-08T07:00:00Z"), America::New_York), Window::Open);
    }

    #[test]
    fn parse_tz_is_case_insensitive_and_canonical() {
        assert_eq!(parse_tz("America/New_York"), Some(America::New_York));
        assert_eq!(parse_tz(" america/new_york ").map(Tz::name), Some("America/New_York"));
        assert_eq!(parse_tz("Mars/Olympus"), None);
        assert_eq!(parse_tz(""), None);
    }

    fn any_zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(chrono_tz::TZ_VARIANTS.to_vec())
    }

    fn any_hours() -> impl Strategy<Value = CallingHours> {
        (0u32..24 * 60 - 1)
            .prop_flat_map(|s| (Just(s), s + 1..24 * 60))
            .prop_map(|(s, e)| CallingHours {
                start: NaiveTime::from_hms_opt(s / 60, s % 60, 0).unwrap(),
                end: NaiveTime::from_hms_opt(e / 60, e % 60, 0).unwrap(),
            })
    }

    /// Any instant from 1970 to 2100, or one in the months when most zones change clocks, so
    /// that DST days are actually exercised.
    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let uniform = (0i64..4_102_444_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap());
        let dst_season = (
            2000i32..2040,
            prop::sample::select(vec![3u32, 4, 9, 10, 11]),
            1u32..=31,
            0i64..86_400,
        )
            .prop_filter_map("real date", |(y, m, d, s)| {
                let day = NaiveDate::from_ymd_opt(y, m, d)?;
                Some(day.and_hms_opt(0, 0, 0)?.and_utc() + chrono::Duration::seconds(s))
            });
        prop_oneof![uniform, dst_season]
    }

    proptest! {
        #[test]
        fn closed_window_opens_later_and_is_open_then(
            now in any_instant(),
            tz in any_zone(),
            h in prop_oneof![Just(CallingHours::default()), any_hours()],
        ) {
            if let Window::Closed { opens_at, .. } = h.check(now, tz) {
                prop_assert!(opens_at > now);
                prop_assert_eq!(h.check(opens_at, tz), Window::Open);
            }
        }

        /// Open in all zones exactly when each zone is open on its own; a joint opening is open
        /// in every zone and later than now.
        #[test]
        fn several_zones_are_open_only_together(
            now in any_instant(),
            zones in prop::collection::vec(any_zone(), 1..4),
            h in prop_oneof![Just(CallingHours::default()), any_hours()],
        ) {
            let each_open = zones.iter().all(|tz| h.check(now, *tz) == Window::Open);
            match h.check_all(now, &zones) {
                JointWindow::Open => prop_assert!(each_open),
                JointWindow::Closed { zone, opens_at, .. } => {
                    prop_assert!(!each_open);
                    prop_assert!(h.check(now, zone) != Window::Open);
                    if let Some(at) = opens_at {
                        prop_assert!(at > now);
                        for tz in &zones {
                            prop_assert_eq!(h.check(at, *tz), Window::Open, "{}", tz);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn madrid_and_the_canaries_open_when_the_later_one_does() {
        let h = CallingHours::default();
        let zones = [chrono_tz::Europe::Madrid, chrono_tz::Atlantic::Canary];
        // 07:30 UTC in winter: 08:30 in Madrid, 07:30 on the Canaries.
        let now = utc("2026-01-15T07:30:00Z");
        match h.check_all(now, &zones) {
            JointWindow::Closed { zone, opens_at, .. } => {
                assert_eq!(zone, chrono_tz::Atlantic::Canary);
                assert_eq!(opens_at, Some(utc("2026-01-15T08:00:00Z")));
            }
            JointWindow::Open => panic!("the Canaries are still asleep"),
        }
        assert_eq!(h.check_all(utc("2026-01-15T12:00:00Z"), &zones), JointWindow::Open);
        // 20:30 UTC: 21:30 in Madrid (closed) although 20:30 on the Canaries.
        assert!(matches!(
            h.check_all(utc("2026-01-15T20:30:00Z"), &zones),
            JointWindow::Closed {
                zone: chrono_tz::Europe::Madrid,
                ..
            }
        ));
    }

    #[test]
    fn zones_a_world_apart_never_share_the_window() {
        let h = CallingHours::default();
        // Eight hours apart each way round the clock: no hour of 08:00-21:00 is common to all.
        let zones = [
            chrono_tz::Europe::London,
            chrono_tz::Asia::Shanghai,
            chrono_tz::America::Los_Angeles,
        ];
        assert!(matches!(
            h.check_all(utc("2026-01-15T12:00:00Z"), &zones),
            JointWindow::Closed { opens_at: None, .. }
        ));
    }
}
