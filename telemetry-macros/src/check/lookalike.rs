//! Names that differ from an allowlisted one only by non-ASCII letters that look like Latin
//! ones (`соmmand` with a Cyrillic `о` and `с`): said plainly, since the two look the same in
//! the error message too.
//!
//! A small table of the common look-alikes (Cyrillic, Greek, a few Latin variants, full-width
//! forms) is enough: allowlisted names are ASCII snake_case.

/// A non-ASCII letter, the ASCII character it looks like, and its Unicode name.
const LOOKALIKES: &[(char, char, &str)] = &[
    ('\u{0430}', 'a', "CYRILLIC SMALL LETTER A"),
    ('\u{0435}', 'e', "CYRILLIC SMALL LETTER IE"),
    ('\u{043E}', 'o', "CYRILLIC SMALL LETTER O"),
    ('\u{0440}', 'p', "CYRILLIC SMALL LETTER ER"),
    ('\u{0441}', 'c', "CYRILLIC SMALL LETTER ES"),
    ('\u{0443}', 'y', "CYRILLIC SMALL LETTER U"),
    ('\u{0445}', 'x', "CYRILLIC SMALL LETTER HA"),
    ('\u{0455}', 's', "CYRILLIC SMALL LETTER DZE"),
    (
        '\u{0456}',
        'i',
        "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
    ),
    ('\u{0458}', 'j', "CYRILLIC SMALL LETTER JE"),
    ('\u{04BB}', 'h', "CYRILLIC SMALL LETTER SHHA"),
    ('\u{04CF}', 'l', "CYRILLIC SMALL LETTER PALOCHKA"),
    ('\u{0501}', 'd', "CYRILLIC SMALL LETTER KOMI DE"),
    ('\u{051B}', 'q', "CYRILLIC SMALL LETTER QA"),
    ('\u{051D}', 'w', "CYRILLIC SMALL LETTER WE"),
    ('\u{03B1}', 'a', "GREEK SMALL LETTER ALPHA"),
    ('\u{03B3}', 'y', "GREEK SMALL LETTER GAMMA"),
    ('\u{03B9}', 'i', "GREEK SMALL LETTER IOTA"),
    ('\u{03BA}', 'k', "GREEK SMALL LETTER KAPPA"),
    ('\u{03BD}', 'v', "GREEK SMALL LETTER NU"),
    ('\u{03BF}', 'o', "GREEK SMALL LETTER OMICRON"),
    ('\u{03C1}', 'p', "GREEK SMALL LETTER RHO"),
    ('\u{03C4}', 't', "GREEK SMALL LETTER TAU"),
    ('\u{03C5}', 'u', "GREEK SMALL LETTER UPSILON"),
    ('\u{03C7}', 'x', "GREEK SMALL LETTER CHI"),
    ('\u{0131}', 'i', "LATIN SMALL LETTER DOTLESS I"),
    ('\u{0251}', 'a', "LATIN SMALL LETTER ALPHA"),
    ('\u{0261}', 'g', "LATIN SMALL LETTER SCRIPT G"),
    ('\u{FF3F}', '_', "FULLWIDTH LOW LINE"),
];

const DIGITS: [&str; 10] = [
    "ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE",
];

/// The ASCII character `c` looks like, and `c`'s Unicode name.
fn lookalike(c: char) -> Option<(char, String)> {
    if let Some((_, ascii, name)) = LOOKALIKES.iter().find(|(l, _, _)| *l == c) {
        return Some((*ascii, (*name).to_owned()));
    }
    // Full-width forms sit at a fixed offset from ASCII.
    let ascii = char::from_u32((c as u32).checked_sub(0xFEE0)?)?;
    let name = match c {
        '\u{FF41}'..='\u{FF5A}' => {
            format!(
                "FULLWIDTH LATIN SMALL LETTER {}",
                ascii.to_ascii_uppercase()
            )
        }
        '\u{FF21}'..='\u{FF3A}' => format!("FULLWIDTH LATIN CAPITAL LETTER {ascii}"),
        '\u{FF10}'..='\u{FF19}' => {
            format!("FULLWIDTH DIGIT {}", DIGITS[ascii as usize - '0' as usize])
        }
        _ => return None,
    };
    Some((ascii, name))
}

/// When `name` is not ASCII: why, as a message. `is_known` says whether an ASCII name is one
/// the allowlist knows; when `name` spells one with look-alike letters, the message says so.
pub(crate) fn explain(name: &str, is_known: impl Fn(&str) -> bool) -> Option<String> {
    if name.is_ascii() {
        return None;
    }
    let mut ascii = String::new();
    let mut found: Vec<String> = Vec::new();
    for c in name.chars() {
        if c.is_ascii() {
            ascii.push(c);
            continue;
        }
        let (like, unicode_name) = lookalike(c)?;
        ascii.push(like);
        let described = format!("`{c}` U+{:04X} {unicode_name}", c as u32);
        if !found.contains(&described) {
            found.push(described);
        }
    }
    is_known(&ascii).then(|| {
        let what = if found.len() == 1 {
            "a look-alike non-ASCII character"
        } else {
            "look-alike non-ASCII characters"
        };
        format!(
            "`{name}` is not `{ascii}`: it contains {what} ({}); type the name in ASCII",
            found.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "command" | "exit_code" | "node_count")
    }

    #[test]
    fn cyrillic_and_greek_look_alikes_are_named() {
        assert_eq!(
            explain("\u{0441}\u{043E}mmand", known).unwrap(),
            "`\u{0441}\u{043E}mmand` is not `command`: it contains look-alike non-ASCII characters \
             (`\u{0441}` U+0441 CYRILLIC SMALL LETTER ES, `\u{043E}` U+043E CYRILLIC SMALL LETTER O); \
             type the name in ASCII"
        );
        let greek = explain("n\u{03BF}de_c\u{03BF}unt", known).unwrap();
        assert!(
            greek.contains("(`\u{03BF}` U+03BF GREEK SMALL LETTER OMICRON);"),
            "{greek}"
        );
    }

    #[test]
    fn full_width_forms_are_named() {
        let message = explain("exit\u{FF3F}\u{FF43}ode", known).unwrap();
        assert!(message.contains("U+FF3F FULLWIDTH LOW LINE"), "{message}");
        assert!(
            message.contains("U+FF43 FULLWIDTH LATIN SMALL LETTER C"),
            "{message}"
        );
    }

    #[test]
    fn other_names_are_left_alone() {
        assert!(explain("command", known).is_none());
        assert!(explain("\u{043E}ther", known).is_none());
        assert!(explain("caf\u{00E9}", known).is_none());
    }
}
