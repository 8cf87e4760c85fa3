//! Demo data a newcomer can try at once: realistic leads spread over time zones, priorities and
//! statuses, and a few agents. Deterministic, so the same seed gives the same floor.

use crate::domain::{LeadFields, LeadInput, LeadStatus, Priority};

const FIRST_NAMES: &str = include_str!("../assets/demo/first_names.txt");
const LAST_NAMES: &str = include_str!("../assets/demo/last_names.txt");
const COMPANIES: &str = include_str!("../assets/demo/companies.txt");
const TITLES: &str = include_str!("../assets/demo/titles.txt");
const AREAS: &str = include_str!("../assets/demo/areas.txt");

/// Agents created by `db seed`: name, role.
pub const DEMO_AGENTS: &[(&str, &str)] = &[("alice", "agent"), ("bob", "agent"), ("sam", "supervisor")];

fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// A small deterministic generator (64-bit LCG): enough spread for demo data, no dependency.
struct Spread(u64);

impl Spread {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

/// The `index`-th demo lead. Phone numbers are unique per index; a number the phone library
/// rejects yields a validation error, which the caller counts.
pub fn demo_lead(index: u64) -> Result<LeadFields, crate::domain::ValidationErrors> {
    let mut spread = Spread(index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC0FFEE);
    let first = spread.pick(&lines(FIRST_NAMES));
    let last = spread.pick(&lines(LAST_NAMES));
    let company = spread.pick(&lines(COMPANIES));
    let areas = lines(AREAS);
    let area = areas[(index as usize) % areas.len()];
    let mut parts = area.split_whitespace();
    let (country, code, zone) = (
        parts.next().unwrap_or("1"),
        parts.next().unwrap_or("212"),
        parts.next().unwrap_or(""),
    );
    let serial = index / areas.len() as u64;
    let phone = match country {
        // NANP: exchange 200–999 without N11 codes, then four digits
        "1" => {
            let exchange = 200 + (serial / 10_000) % 800;
            let exchange = if exchange % 100 == 11 { exchange + 1 } else { exchange };
            format!("+1{code}{exchange:03}{:04}", serial % 10_000)
        }
        "44" => format!("+44{code}7{:07}", serial % 10_000_000),
        _ => format!("+{country}{code}{:08}", 10_000_000 + serial % 90_000_000),
    };
    let status = match spread.next() % 10 {
        0..=5 => LeadStatus::New,
        6 => LeadStatus::Contacted,
        7 => LeadStatus::Qualified,
        8 => LeadStatus::Nurturing,
        _ => LeadStatus::Proposal,
    };
    let priority = match spread.next() % 10 {
        0..=2 => Priority::Low,
        3..=6 => Priority::Medium,
        7..=8 => Priority::High,
        _ => Priority::Urgent,
    };
    let domain: String = company
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let local: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let input = LeadInput {
        first_name: first.into(),
        last_name: last.into(),
        email: if spread.next() % 5 == 0 {
            String::new()
        } else {
            format!("{local}.{index}@{domain}.example")
        },
        phone,
        company: company.into(),
        title: spread.pick(&lines(TITLES)).into(),
        timezone: if spread.next() % 8 == 0 {
            String::new()
        } else {
            zone.into()
        },
        status: status.as_str().into(),
        priority: priority.as_str().into(),
        lead_score: (spread.next() % 101).to_string(),
        conversion_probability: format!("{:.2}", (spread.next() % 100) as f64 / 100.0),
        source: spread
            .pick(&["trade show", "website", "referral", "purchased list", "webinar"])
            .into(),
        notes: if spread.next() % 3 == 0 {
            "Asked for pricing last quarter.".into()
        } else {
            String::new()
        },
        consent_given: if spread.next() % 2 == 0 {
            "yes".into()
        } else {
            "no".into()
        },
        do_not_call: String::new(),
        do_not_email: String::new(),
    };
    input.validate("US")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_leads_are_valid_and_unique() {
        let leads: Vec<LeadFields> = (0..2_000).map(|i| demo_lead(i).expect("valid demo lead")).collect();
        let phones: std::collections::HashSet<&str> = leads.iter().map(|l| l.phone.as_str()).collect();
        assert_eq!(phones.len(), leads.len(), "phone numbers must be unique");
        assert!(
            leads.iter().any(|l| l.timezone.is_none()),
            "some leads exercise the default zone"
        );
        assert!(leads.iter().any(|l| l.priority == Priority::Urgent));
    }

    #[test]
    fn the_same_index_gives_the_same_lead() {
        assert_eq!(demo_lead(42).unwrap(), demo_lead(42).unwrap());
    }
}
