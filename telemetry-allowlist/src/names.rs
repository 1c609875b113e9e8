//! Rules for property names, shared by the allowlist checks and the macro's suggestions.

/// The properties the runtime adds to every event, so no `[[property]]` may take their names.
///
/// `telemetry-core` declares them, with their kinds and descriptions; its tests check that this
/// list names the same properties, so the two cannot drift apart.
pub const COMMON_PROPERTY_NAMES: &[&str] = &[
    "app_version",
    "app_git_commit",
    "build_kind",
    "os",
    "arch",
    "is_ci",
];

/// Whether `name` is one of the [`COMMON_PROPERTY_NAMES`] the runtime adds to every event.
pub fn is_common_property(name: &str) -> bool {
    COMMON_PROPERTY_NAMES.contains(&name)
}

/// Names no property may take: PostHog's own fields and what would look like a secret.
pub const RESERVED_NAMES: &[&str] = &[
    "distinct_id",
    "uuid",
    "timestamp",
    "token",
    "api_key",
    "event",
    "properties",
    "type",
    "set",
    "set_once",
    "sent_at",
];

/// `lower_snake_case`: starts with a letter, then lowercase letters, digits and single underscores.
pub fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && !name.ends_with('_')
        && !name.contains("__")
}

/// The candidate closest to `name` by edit distance, when it is close enough to be a likely typo
/// or a near synonym (at most a third of the longer name's length away, or two edits).
pub fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = name.chars().count();
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= (length.max(candidate.chars().count()) / 3).max(2)
        })
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case() {
        assert!(is_snake_case("exit_code"));
        assert!(is_snake_case("a1"));
        assert!(!is_snake_case("ExitCode"));
        assert!(!is_snake_case("exit__code"));
        assert!(!is_snake_case("_exit"));
        assert!(!is_snake_case("exit_"));
        assert!(!is_snake_case("$lib"));
        assert!(!is_snake_case(""));
    }

    #[test]
    fn common_properties() {
        assert!(is_common_property("os"));
        assert!(is_common_property("app_git_commit"));
        assert!(!is_common_property("exit_code"));
        assert!(!is_common_property("OS"));
    }

    #[test]
    fn suggestions() {
        let names = ["exit_code", "duration_ms", "command"];
        assert_eq!(closest_name("exitcode", names), Some("exit_code"));
        assert_eq!(closest_name("duration", names), Some("duration_ms"));
        assert_eq!(closest_name("branch", names), None);
    }
}
