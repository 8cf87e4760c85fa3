//! Ids as a person types them: a whole UUID, or an unambiguous prefix of one, as git takes a
//! commit's. A prefix is hex digits from the start of the id (dashes anywhere are ignored), so
//! "0192f3a1" names every id from 0192f3a1-0000-… to 0192f3a1-ffff-…: a range the id index
//! answers directly.

use uuid::Uuid;

/// The fewest hex digits a prefix must have: fewer name too many leads to mean one.
pub const MIN_PREFIX: usize = 4;

/// The ids a prefix stands for, as the inclusive range (lowest, highest); an error when it is
/// not hex or is too short or too long.
pub fn prefix_range(text: &str) -> Result<(Uuid, Uuid), String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_lowercase();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{}' is not a valid id nor the start of one (hex digits)",
            text.trim()
        ));
    }
    if hex.len() > 32 {
        return Err(format!("'{}' is longer than an id", text.trim()));
    }
    if hex.len() < MIN_PREFIX {
        return Err(format!(
            "'{}' is too short: give at least {MIN_PREFIX} hex digits of the id",
            text.trim()
        ));
    }
    let pad = |digit: char| {
        let mut full = hex.clone();
        full.extend(std::iter::repeat_n(digit, 32 - hex.len()));
        Uuid::parse_str(&full).expect("32 hex digits are a uuid")
    };
    Ok((pad('0'), pad('f')))
}

/// The answer to a prefix from what it matched (at most two are needed to tell): the one id,
/// or why not.
pub fn pick_one<T>(what: &str, prefix: &str, mut found: Vec<T>, id: impl Fn(&T) -> Uuid) -> Result<T, String> {
    match found.len() {
        0 => Err(format!("no {what} matches '{}'", prefix.trim())),
        1 => Ok(found.remove(0)),
        _ => Err(format!(
            "ambiguous: '{}' matches {what} {} and {}{}; give more of the id",
            prefix.trim(),
            id(&found[0]),
            id(&found[1]),
            if found.len() > 2 { " and more" } else { "" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_the_range_of_ids_that_start_with_it() {
        let (lo, hi) = prefix_range("0192F3A1").unwrap();
        assert_eq!(lo.to_string(), "0192f3a1-0000-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "0192f3a1-ffff-ffff-ffff-ffffffffffff");
        let (lo, hi) = prefix_range("0192f3a1-b2").unwrap();
        assert_eq!(lo.to_string(), "0192f3a1-b200-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "0192f3a1-b2ff-ffff-ffff-ffffffffffff");
        let whole = "0192f3a1-b2c3-7d4e-8f90-123456789abc";
        assert_eq!(
            prefix_range(whole).unwrap(),
            (whole.parse().unwrap(), whole.parse().unwrap())
        );
    }

    #[test]
    fn a_prefix_must_be_hex_and_long_enough() {
        assert!(prefix_range("abc").unwrap_err().contains("too short"));
        assert!(prefix_range("zz12ab").unwrap_err().contains("not a valid id"));
        assert!(prefix_range(&"a".repeat(33)).unwrap_err().contains("longer"));
        assert!(prefix_range("").is_err());
    }

    #[test]
    fn one_match_is_the_answer_none_or_two_say_so() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert_eq!(pick_one("lead", "0000", vec![a], |u| *u), Ok(a));
        assert_eq!(
            pick_one("lead", "0000", Vec::<Uuid>::new(), |u| *u),
            Err("no lead matches '0000'".into())
        );
        assert_eq!(
            pick_one("lead", "0000", vec![a, b], |u| *u),
            Err(format!(
                "ambiguous: '0000' matches lead {a} and {b}; give more of the id"
            ))
        );
    }
}
