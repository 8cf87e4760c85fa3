//! Text from the database shown on a terminal: control characters become spaces, so a lead
//! named with escape codes cannot move the cursor, recolour or clear the screen.

pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_are_defused() {
        assert_eq!(super::printable("Ann\x1b[2J\x07 Lee\r\n"), "Ann [2J  Lee  ");
    }
}
