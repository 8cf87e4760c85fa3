//! Fitting text into a width: what is cut ends in an ellipsis, and lists of hints drop whole
//! items rather than stop mid-word.

use ratatui::text::Span;

/// Columns `text` takes on screen (wide characters count two).
pub fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// `text` cut to `max` columns, ending in "…" when anything was cut.
pub fn fit(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_text_ends_in_an_ellipsis_within_the_width() {
        assert_eq!(fit("Kwame Harbour", 20), "Kwame Harbour");
        assert_eq!(fit("Kwame Harbour", 8), "Kwame H…");
        assert_eq!(fit("東京 Trading", 4), "東…", "a wide character is not split");
        assert_eq!(width(&fit("東京 Trading", 6)), 6);
        assert_eq!(fit("abc", 0), "");
    }
}
