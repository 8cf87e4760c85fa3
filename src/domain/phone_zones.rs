//! Which time zones a phone number can be in, from libphonenumber's number-prefix → time-zone
//! data (`data/phone_timezones.txt`, shipped as it is published; see `DATA_VERSION`).
//!
//! Each line of the data is `PREFIX|Zone&Zone…`, the prefix being the E.164 digits without '+';
//! the longest prefix that starts a number decides. A prefix with one zone places the number;
//! with several (a country with several zones, an area code across a zone line) the number can
//! be in any of them. Zones that keep the same clock (Rome and the Vatican, London and Jersey)
//! are one zone for calling purposes: `distinct_clocks` keeps one of each, the one the data names
//! most often.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

use super::hours::parse_tz;

/// The libphonenumber release the shipped data file comes from.
pub const DATA_VERSION: &str = "9.0.35";

const DATA: &str = include_str!("../../data/phone_timezones.txt");

/// The longest prefix in the data (digits), to bound the look-up.
const MAX_PREFIX: usize = 10;

struct Table {
    by_prefix: HashMap<&'static str, Vec<Tz>>,
    /// How many prefixes name each zone: the better-known of two zones with one clock.
    mentions: HashMap<Tz, usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(DATA))
}

fn parse_table(data: &'static str) -> Table {
    let mut by_prefix = HashMap::new();
    let mut mentions: HashMap<Tz, usize> = HashMap::new();
    for line in data.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((prefix, zones)) = line.split_once('|') else {
            continue;
        };
        // A zone name this build's time-zone database does not know is left out rather than
        // guessed; the data test below proves there are none today.
        let mut zones: Vec<Tz> = zones.split('&').filter_map(parse_tz).collect();
        zones.sort_by_key(|tz| tz.name());
        zones.dedup();
        for tz in &zones {
            *mentions.entry(*tz).or_default() += 1;
        }
        if !zones.is_empty() {
            by_prefix.insert(prefix, zones);
        }
    }
    Table { by_prefix, mentions }
}

/// The zones an E.164 number ("+34912345678") can be in, most specific prefix first; empty when
/// the data says nothing about the number.
pub fn zones_for_number(e164: &str) -> &'static [Tz] {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return &[];
    }
    let table = table();
    (1..=digits.len().min(MAX_PREFIX))
        .rev()
        .find_map(|len| table.by_prefix.get(&digits[..len]))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The days on which two zones' clocks are compared: the 1st and 15th of every month of
/// 2025-2028, at midnight and noon UTC (so every daylight-saving season of those years counts).
fn sample_instants() -> impl Iterator<Item = chrono::DateTime<chrono::Utc>> {
    (2025..=2028).flat_map(|year| {
        (1..=12).flat_map(move |month| {
            [1, 15].into_iter().flat_map(move |day| {
                [0, 12].into_iter().filter_map(move |hour| {
                    NaiveDate::from_ymd_opt(year, month, day)
                        .and_then(|d| d.and_hms_opt(hour, 0, 0))
                        .map(|t| t.and_utc())
                })
            })
        })
    })
}

/// Whether two zones show the same time on every sampled day.
pub fn same_clock(a: Tz, b: Tz) -> bool {
    a == b
        || sample_instants().all(|at| {
            a.offset_from_utc_datetime(&at.naive_utc()).fix() == b.offset_from_utc_datetime(&at.naive_utc()).fix()
        })
}

/// One zone per clock: of zones that show the same time, the one the data names most often
/// (London rather than Jersey), in name order otherwise.
pub fn distinct_clocks(zones: &[Tz]) -> Vec<Tz> {
    let mentions = &table().mentions;
    let weight = |tz: &Tz| mentions.get(tz).copied().unwrap_or(0);
    let mut kept: Vec<Tz> = Vec::new();
    for tz in zones {
        match kept.iter_mut().find(|k| same_clock(**k, *tz)) {
            Some(k) if weight(tz) > weight(k) => *k = *tz,
            Some(_) => {}
            None => kept.push(*tz),
        }
    }
    kept.sort_by_key(|tz| tz.name());
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Atlantic, Europe};

    #[test]
    fn every_zone_in_the_data_is_known() {
        let mut unknown = Vec::new();
        for line in DATA.lines().filter(|l| !l.starts_with('#') && l.contains('|')) {
            let (prefix, zones) = line.split_once('|').unwrap();
            assert!(prefix.len() <= MAX_PREFIX, "{prefix}");
            assert!(prefix.bytes().all(|b| b.is_ascii_digit()), "{prefix}");
            unknown.extend(zones.split('&').filter(|z| parse_tz(z).is_none()).map(str::to_string));
        }
        assert_eq!(unknown, Vec::<String>::new());
        assert!(table().by_prefix.len() > 3000, "{}", table().by_prefix.len());
    }

    #[test]
    fn the_longest_prefix_decides() {
        // Madrid's geographic numbers; Spain's mobiles can be on the Canaries as well.
        assert_eq!(zones_for_number("+34912345678"), [Europe::Madrid]);
        assert_eq!(zones_for_number("+34612345678"), [Europe::Madrid]);
        assert_eq!(zones_for_number("+34822123456"), [Atlantic::Canary]);
        assert_eq!(zones_for_number("+34922123456"), [Atlantic::Canary]);
        // A prefix the data gives only at country level: either zone.
        assert_eq!(zones_for_number("+34212345678"), [Atlantic::Canary, Europe::Madrid]);
        // New York; an Idaho area code split across the Mountain and Pacific lines.
        assert_eq!(zones_for_number("+12125550123"), [America::New_York]);
        assert_eq!(zones_for_number("+12082010000"), [America::Denver]);
        assert!(zones_for_number("+12085000000").len() >= 2);
        assert!(
            zones_for_number("+15005550000").len() > 10,
            "a non-geographic NANP number"
        );
    }

    #[test]
    fn zones_with_one_clock_are_one_zone() {
        use chrono_tz::Europe;
        assert_eq!(distinct_clocks(zones_for_number("+390612345678")), [Europe::Rome]);
        assert_eq!(distinct_clocks(zones_for_number("+447700900123")), [Europe::London]);
        assert_eq!(
            distinct_clocks(zones_for_number("+34212345678")),
            [Atlantic::Canary, Europe::Madrid],
            "an hour apart: both stay"
        );
    }

    #[test]
    fn nothing_is_known_about_nonsense() {
        assert!(zones_for_number("").is_empty());
        assert!(zones_for_number("+").is_empty());
        assert!(zones_for_number("+12a").is_empty());
    }
}
