//! Leads already in the database that are likely the same person, and what a merge of two of
//! them keeps. Pure rules: the store reads every live lead's keys and contact points, these
//! functions find and score the pairs, and the merge flow applies `merged_flags`.
//!
//! A pair is suggested for one or more reasons, each with a weight; the score of a pair is the
//! chance that at least one of its reasons is right, were they independent, as a percentage:
//! `100 × (1 − Π(1 − weight))`. So a shared number alone scores 90, a shared email 85, the same
//! name at the same company 60, and any two reasons together 94 or more.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use uuid::Uuid;

/// What a lead is matched by: its own phone and email, its name and company, and its further
/// contact points (phone numbers in E.164, emails in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadKeys {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub phone: String,
    pub email: Option<String>,
    pub other_phones: Vec<String>,
    pub other_emails: Vec<String>,
}

/// Why two leads look like one person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(tag = "reason", content = "value", rename_all = "snake_case")]
pub enum DuplicateReason {
    /// One lead's number is among the other's numbers (its own or a contact point).
    SameNumber(String),
    /// The same email on both (own or a contact point).
    SameEmail(String),
    /// The same name, normalised, at the same company, normalised.
    SameNameAtCompany(String),
}

impl DuplicateReason {
    /// How likely this reason alone means the same person, from 0 to 1.
    pub fn weight(&self) -> f64 {
        match self {
            DuplicateReason::SameNumber(_) => 0.90,
            DuplicateReason::SameEmail(_) => 0.85,
            DuplicateReason::SameNameAtCompany(_) => 0.60,
        }
    }
}

impl std::fmt::Display for DuplicateReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DuplicateReason::SameNumber(n) => write!(f, "same number {n}"),
            DuplicateReason::SameEmail(e) => write!(f, "same email {e}"),
            DuplicateReason::SameNameAtCompany(k) => write!(f, "same name at the same company ({k})"),
        }
    }
}

/// Two leads that are likely one person: `a` < `b` by id, with every reason and the score.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DuplicatePair {
    pub a: Uuid,
    pub b: Uuid,
    pub reasons: Vec<DuplicateReason>,
    pub score: u8,
}

/// The score of a pair with these reasons, 0 to 100 (see the module's notes).
pub fn score(reasons: &[DuplicateReason]) -> u8 {
    let miss: f64 = reasons.iter().map(|r| 1.0 - r.weight()).product();
    ((1.0 - miss) * 100.0).round().clamp(0.0, 100.0) as u8
}

/// A name or company as compared: letters folded to lower case without their accents, every run
/// of other characters one space, and for a company its legal form left out ("Acme, Inc." and
/// "ACME" are one company).
pub fn normalise_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = fold_accent(c);
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else if c != '\'' && c != '’' {
            gap = true;
        }
    }
    out
}

/// Legal forms left off a company's name when comparing.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "kg",
    "pty",
    "pvt",
    "sl",
];

pub fn normalise_company(text: &str) -> String {
    let name = normalise_name(text);
    let mut words: Vec<&str> = name.split(' ').collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// The key of the name-at-company reason: "first last @ company", or None when a part is empty.
pub fn name_key(first: &str, last: &str, company: &str) -> Option<String> {
    let name = normalise_name(&format!("{first} {last}"));
    let company = normalise_company(company);
    (!name.is_empty() && !company.is_empty()).then(|| format!("{name} @ {company}"))
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        c => c,
    }
}

/// A key shared by more leads than this is not a sign of one person (a switchboard number, a
/// shared inbox, "Unknown Unknown at Self-employed"): it suggests no pairs.
pub const CROWD: usize = 20;

/// Every pair of leads that share a number, an email, or a name at a company, best first (then
/// by ids). Each pair appears once with all its reasons.
pub fn find_duplicates(leads: &[LeadKeys]) -> Vec<DuplicatePair> {
    // key → the leads that have it (each lead once per key).
    let mut groups: BTreeMap<DuplicateReason, Vec<Uuid>> = BTreeMap::new();
    for lead in leads {
        let mut keys: Vec<DuplicateReason> = std::iter::once(&lead.phone)
            .chain(&lead.other_phones)
            .map(|p| DuplicateReason::SameNumber(p.clone()))
            .chain(
                lead.email
                    .iter()
                    .chain(&lead.other_emails)
                    .map(|e| DuplicateReason::SameEmail(e.to_lowercase())),
            )
            .chain(name_key(&lead.first_name, &lead.last_name, &lead.company).map(DuplicateReason::SameNameAtCompany))
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            groups.entry(key).or_default().push(lead.id);
        }
    }
    let mut pairs: HashMap<(Uuid, Uuid), Vec<DuplicateReason>> = HashMap::new();
    for (reason, ids) in groups {
        if ids.len() < 2 || ids.len() > CROWD {
            continue;
        }
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                let key = if a < b { (*a, *b) } else { (*b, *a) };
                pairs.entry(key).or_default().push(reason.clone());
            }
        }
    }
    let mut out: Vec<DuplicatePair> = pairs
        .into_iter()
        .map(|((a, b), mut reasons)| {
            reasons.sort();
            DuplicatePair {
                a,
                b,
                score: score(&reasons),
                reasons,
            }
        })
        .collect();
    out.sort_by(|x, y| y.score.cmp(&x.score).then(x.a.cmp(&y.a)).then(x.b.cmp(&y.b)));
    out
}

/// The flags the kept lead has after a merge: a request not to be called or emailed made to
/// either lead stands.
pub fn merged_flags(keep: (bool, bool), other: (bool, bool)) -> (bool, bool) {
    (keep.0 || other.0, keep.1 || other.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u128, first: &str, last: &str, company: &str, phone: &str, email: Option<&str>) -> LeadKeys {
        LeadKeys {
            id: Uuid::from_u128(n),
            first_name: first.into(),
            last_name: last.into(),
            company: company.into(),
            phone: phone.into(),
            email: email.map(Into::into),
            other_phones: Vec::new(),
            other_emails: Vec::new(),
        }
    }

    #[test]
    fn names_and_companies_compare_without_case_accents_punctuation_or_legal_form() {
        assert_eq!(normalise_name("  José  María O'Neill-Díaz "), "jose maria oneill diaz");
        assert_eq!(normalise_name("ZOË"), "zoe");
        assert_eq!(normalise_company("Acme, Inc."), "acme");
        assert_eq!(normalise_company("ACME"), "acme");
        assert_eq!(normalise_company("Weber GmbH & Co. KG"), "weber");
        assert_eq!(normalise_company("Co"), "co", "a name that is only a legal form stays");
        assert_eq!(
            name_key("Ada", "Lovelace", "Analytical Engines Ltd"),
            Some("ada lovelace @ analytical engines".into())
        );
        assert_eq!(name_key("", "", "Acme"), None);
        assert_eq!(name_key("Ada", "L", "!!"), None);
    }

    #[test]
    fn scores_combine_reasons_as_independent_chances() {
        use DuplicateReason::*;
        assert_eq!(score(&[SameNumber("+1".into())]), 90);
        assert_eq!(score(&[SameEmail("a@b".into())]), 85);
        assert_eq!(score(&[SameNameAtCompany("k".into())]), 60);
        assert_eq!(score(&[SameEmail("a@b".into()), SameNameAtCompany("k".into())]), 94);
        assert_eq!(score(&[SameNumber("+1".into()), SameNameAtCompany("k".into())]), 96);
        assert_eq!(
            score(&[
                SameNumber("+1".into()),
                SameEmail("a@b".into()),
                SameNameAtCompany("k".into())
            ]),
            99
        );
        assert_eq!(score(&[]), 0);
    }

    #[test]
    fn pairs_are_found_by_number_email_and_name_each_once_with_every_reason() {
        let mut a = keys(
            1,
            "Ada",
            "Lovelace",
            "Engines Ltd",
            "+14155550101",
            Some("ada@x.example"),
        );
        a.other_phones.push("+14155550199".into());
        let b = keys(2, "ADA", "lovelace", "Engines", "+14155550199", None);
        let mut c = keys(3, "Grace", "Hopper", "Navy", "+12125550101", None);
        c.other_emails.push("ada@x.example".into());
        let d = keys(4, "Alan", "Turing", "Bletchley", "+12125550103", None);
        let pairs = find_duplicates(&[d, c, b, a]);
        assert_eq!(
            pairs,
            [
                DuplicatePair {
                    a: Uuid::from_u128(1),
                    b: Uuid::from_u128(2),
                    reasons: vec![
                        DuplicateReason::SameNumber("+14155550199".into()),
                        DuplicateReason::SameNameAtCompany("ada lovelace @ engines".into()),
                    ],
                    score: 96,
                },
                DuplicatePair {
                    a: Uuid::from_u128(1),
                    b: Uuid::from_u128(3),
                    reasons: vec![DuplicateReason::SameEmail("ada@x.example".into())],
                    score: 85,
                },
            ]
        );
    }

    #[test]
    fn a_key_shared_by_a_crowd_suggests_nothing() {
        let leads: Vec<LeadKeys> = (0..=CROWD as u128)
            .map(|n| keys(n, "Front", "Desk", "Hotel", &format!("+1415555{n:04}"), None))
            .collect();
        assert!(find_duplicates(&leads).is_empty());
        assert_eq!(find_duplicates(&leads[..2]).len(), 1);
    }

    #[test]
    fn a_merge_keeps_do_not_call_and_do_not_email_from_either_lead() {
        assert_eq!(merged_flags((false, false), (true, false)), (true, false));
        assert_eq!(merged_flags((false, true), (false, false)), (false, true));
        assert_eq!(merged_flags((false, false), (false, false)), (false, false));
    }
}
