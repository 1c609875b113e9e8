//! Rules for the `[product]` table's values: what each key is for and what it may hold.

use crate::model::{ClientIp, ConsentPolicy};

/// Where `gen-docs` writes the page when `docs_path` is left out.
pub(crate) const DEFAULT_DOCS_PATH: &str = "docs/telemetry.md";

/// A text key of the `[product]` table, with what it is for: messages about it say so.
pub(crate) struct Key {
    /// Its name in the file.
    pub name: &'static str,
    /// What it gives, completing "the [product] table needs `key`: ..." and, for free text,
    /// "`key` ... is empty: it must say ...".
    pub is_for: &'static str,
}

/// The required `name`.
pub(crate) const NAME: Key = Key {
    name: "name",
    is_for: "the program's short name, which names its environment variables, state directory and project opt-out file",
};

/// The required `contact`.
pub(crate) const CONTACT: Key = Key {
    name: "contact",
    is_for: "where users send deletion requests (an email address or a web page)",
};

/// The required `data_location`.
pub(crate) const DATA_LOCATION: Key = Key {
    name: "data_location",
    is_for: "where the data is stored (e.g. `\"https://eu.i.posthog.com (PostHog Cloud, EU region)\"`)",
};

/// The required `retention`.
pub(crate) const RETENTION: Key = Key {
    name: "retention",
    is_for: "how long events are kept (e.g. `\"1 year\"`)",
};

/// The optional `purpose`.
pub(crate) const PURPOSE: Key = Key {
    name: "purpose",
    is_for: "in one sentence what the data helps the authors learn (e.g. `\"which commands are used and which fail\"`)",
};

/// Reads the `consent` value; the error is the message.
pub(crate) fn parse_consent(value: &str) -> Result<ConsentPolicy, String> {
    match value {
        "opt-in" => Ok(ConsentPolicy::OptIn),
        "opt-out" => Ok(ConsentPolicy::OptOut),
        _ => Err(format!(
            "`consent` `{value}` must be `\"opt-in\"` (nothing is recorded until the user turns telemetry on; the default) or `\"opt-out\"` (recording starts on the run after the first-run notice, until the user turns it off)"
        )),
    }
}

/// Reads the `client_ip` value; the error is the message.
pub(crate) fn parse_client_ip(value: &str) -> Result<ClientIp, String> {
    match value {
        "discarded" => Ok(ClientIp::Discarded),
        "kept" => Ok(ClientIp::Kept),
        _ => Err(format!(
            "`client_ip` `{value}` must be `\"discarded\"` (the PostHog project's \"Discard client IP data\" is on) or `\"kept\"` (PostHog stores the address requests come from with the events), or be left out (the page then says it may be stored)"
        )),
    }
}

/// Checks the program's short name; the error is the message.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if is_program_word(name, 32, &['-', '_']) {
        Ok(())
    } else {
        Err(format!(
            "product name `{name}` must be 1 to 32 characters of a-z, 0-9, `-` and `_`, starting with a letter: it names the environment variables, the state directory and the project opt-out file"
        ))
    }
}

/// Checks how users run the program; the error is the message.
pub(crate) fn check_command(command: &str) -> Result<(), String> {
    if is_program_word(command, 64, &['-', '_', '.']) {
        Ok(())
    } else {
        Err(format!(
            "product command `{command}` must be 1 to 64 characters of a-z, 0-9, `-`, `_` and `.`, starting with a letter: it is what users type to run the program"
        ))
    }
}

/// Checks the policy's published address; the error is the message.
pub(crate) fn check_docs_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !url.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!(
            "`docs_url` `{url}` must be an `https://` or `http://` address without whitespace"
        )),
    }
}

/// Checks where `gen-docs` writes the page; the error is the message.
///
/// The path is joined to the workspace root on every platform, so it must be relative in both
/// Unix and Windows terms and must not climb out of the workspace.
pub(crate) fn check_docs_path(path: &str) -> Result<(), String> {
    let absolute = path.starts_with('/') || path.as_bytes().get(1) == Some(&b':');
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let problem = if absolute {
        "must be relative to the workspace root"
    } else if path.contains('\\') {
        "must separate folders with `/`"
    } else if path.split('/').any(|part| part == "..") {
        "must not contain `..`: the page is written inside the workspace"
    } else if file_name.len() <= ".md".len() || !file_name.ends_with(".md") {
        "must name a Markdown file, ending in `.md`"
    } else {
        return Ok(());
    };
    Err(format!("`docs_path` `{path}` {problem}"))
}

/// 1 to `max` characters of `a-z`, `0-9` and `extra`, starting with a letter: safe in environment
/// variable names, file names and shell commands alike.
fn is_program_word(word: &str, max: usize, extra: &[char]) -> bool {
    word.starts_with(|c: char| c.is_ascii_lowercase())
        && word.len() <= max
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["demo", "d", "my-tool_2", &"a".repeat(32)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Demo",
            "2demo",
            "-demo",
            "my.tool",
            "my tool",
            &"a".repeat(33),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commands() {
        for good in ["demo", "demo.exe", "my-tool_2", &"a".repeat(64)] {
            assert_eq!(check_command(good), Ok(()), "{good}");
        }
        for bad in ["", ".demo", "Demo", "demo cli", "demo/cli", &"a".repeat(65)] {
            assert!(check_command(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn consents() {
        assert_eq!(parse_consent("opt-in"), Ok(ConsentPolicy::OptIn));
        assert_eq!(parse_consent("opt-out"), Ok(ConsentPolicy::OptOut));
        for bad in ["", "Opt-Out", "opt_out", "optout", "off", " opt-in"] {
            assert!(parse_consent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docs_urls() {
        for good in [
            "https://example.com/demo/telemetry",
            "http://localhost:8080/x",
        ] {
            assert_eq!(check_docs_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "https://",
            "https://a b",
            "https://a\n",
        ] {
            assert!(check_docs_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docs_paths() {
        for good in [DEFAULT_DOCS_PATH, "telemetry.md", "./docs/x.md", "a/b/c.md"] {
            assert_eq!(check_docs_path(good), Ok(()), "{good}");
        }
        for (bad, problem) in [
            ("/docs/x.md", "must be relative"),
            ("C:/docs/x.md", "must be relative"),
            ("docs\\x.md", "must separate folders"),
            ("../x.md", "must not contain `..`"),
            ("docs/../../x.md", "must not contain `..`"),
            ("docs/x.txt", "Markdown"),
            ("docs/.md", "Markdown"),
            ("docs/", "Markdown"),
            ("", "Markdown"),
        ] {
            let message = check_docs_path(bad).unwrap_err();
            assert!(message.contains(problem), "{bad}: {message}");
        }
    }
}
