//! Turns what an agent types into search terms. Backends render the terms into their own query
//! syntax from these parts only (alphanumeric words, a digits-or-text fragment), so nothing typed
//! can reach SQL or full-text query syntax unescaped.

/// Shortest fragment that is searched inside phone numbers and emails; shorter ones match too
/// much to be useful and cannot use the trigram indexes.
pub const MIN_FRAGMENT: usize = 3;
/// Longest search text taken; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchTerms {
    /// Lower-cased words, each matched as a word prefix in names, company, email, title and notes.
    pub words: Vec<String>,
    /// Lower-cased words in scripts written without spaces between words (Chinese, Japanese,
    /// Thai, …), each matched anywhere in names, company, title and notes: neither backend's
    /// tokenizer splits such a run into words, so a prefix query would miss "東京" inside
    /// "株式会社東京商事".
    pub inner: Vec<String>,
    /// A piece of a phone number (digits only) or of an email, matched anywhere in it.
    pub fragment: Option<String>,
}

impl SearchTerms {
    pub fn parse(text: &str) -> SearchTerms {
        let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let text = text.trim();
        let (inner, words): (Vec<String>, Vec<String>) = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(8)
            .partition(|w| w.chars().any(is_unspaced_script));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let phone_like = text.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let fragment = if phone_like && digits.len() >= MIN_FRAGMENT {
            Some(digits)
        } else if (text.contains('@') || text.contains('.')) && text.chars().count() >= MIN_FRAGMENT {
            Some(text.to_lowercase())
        } else {
            None
        };
        SearchTerms { words, inner, fragment }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.inner.is_empty() && self.fragment.is_none()
    }

    /// Whether the word part (prefix words and inner pieces) has anything to match.
    pub fn has_words(&self) -> bool {
        !self.words.is_empty() || !self.inner.is_empty()
    }
}

/// Letters of scripts that do not put spaces between words: Han, Hiragana, Katakana, Hangul
/// syllables (particles attach to words), Thai, Lao, Khmer and Myanmar.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F  // CJK extensions B–F and compatibility supplement
    )
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern and wraps it in `%`.
pub fn like_contains(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len() + 2);
    out.push('%');
    for c in fragment.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_alphanumeric_tokens() {
        let t = SearchTerms::parse("  Ann O'Neil, ACME ");
        assert_eq!(t.words, ["ann", "o", "neil", "acme"]);
        assert_eq!(t.fragment, None);
    }

    #[test]
    fn phone_text_becomes_a_digit_fragment() {
        let t = SearchTerms::parse("(415) 555-01");
        assert_eq!(t.fragment.as_deref(), Some("41555501"));
        assert_eq!(
            SearchTerms::parse("55").fragment,
            None,
            "too short to search inside numbers"
        );
    }

    #[test]
    fn email_text_becomes_a_fragment() {
        let t = SearchTerms::parse("ann@acme.io");
        assert_eq!(t.fragment.as_deref(), Some("ann@acme.io"));
        assert_eq!(t.words, ["ann", "acme", "io"]);
    }

    #[test]
    fn query_syntax_is_not_passed_through() {
        let t = SearchTerms::parse("\"a\" OR * NEAR(b) ' ; DROP TABLE leads --");
        assert!(t.words.iter().all(|w| w.chars().all(char::is_alphanumeric)));
        assert!(SearchTerms::parse("   ").is_empty());
    }

    #[test]
    fn words_of_unspaced_scripts_are_matched_inside_text() {
        let t = SearchTerms::parse("東京 acme กรุงเทพ");
        assert_eq!(t.words, ["acme"]);
        assert_eq!(t.inner, ["東京", "กรุงเทพ"]);
        assert!(t.has_words());
        let t = SearchTerms::parse("Zoë Łukasiewicz");
        assert_eq!(
            t.words,
            ["zoë", "łukasiewicz"],
            "Latin letters with marks stay prefix words"
        );
        assert!(t.inner.is_empty());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
