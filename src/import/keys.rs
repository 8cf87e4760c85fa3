//! The phones and emails an import has already seen, to find a person listed twice in one file.
//!
//! This is the one part of an import that grows with the file: one entry per distinct phone or
//! email (a few tens of bytes each; the import of 200,000 rows in benches/import.rs grows by
//! about 20 MB), never the rows themselves.
//! Keys are kept as 128-bit fingerprints rather than strings to keep that small; two different
//! keys sharing a fingerprint is about as likely as guessing a random UUID.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

#[derive(Debug, Default)]
pub struct SeenKeys(HashMap<u128, u64>);

fn fingerprint(key: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl SeenKeys {
    /// The line that first had `key`.
    pub fn line_of(&self, key: &str) -> Option<u64> {
        self.0.get(&fingerprint(key)).copied()
    }

    /// Remembers `key` as first seen on `line` (an earlier line is kept).
    pub fn insert(&mut self, key: &str, line: u64) {
        self.0.entry(fingerprint(key)).or_insert(line);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_line_is_kept() {
        let mut seen = super::SeenKeys::default();
        seen.insert("+14155550123", 2);
        seen.insert("+14155550123", 9);
        assert_eq!(seen.line_of("+14155550123"), Some(2));
        assert_eq!(seen.line_of("ada@example.com"), None);
    }
}
