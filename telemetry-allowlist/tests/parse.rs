//! Every check of the allowlist reports the right place and says what is wrong; all problems of
//! one file come together, in file order; the real allowlist parses.

use std::path::Path;

use telemetry_allowlist::{
    AllowlistError, AllowlistErrors, COMMON_PROPERTY_NAMES, ClientIp, ConsentPolicy, Kind, Product,
    RESERVED_NAMES, Sensitivity, is_common_property, parse, read,
};

/// This package's directory: what cargo says when it runs the test (a binary it reuses from a
/// build in another checkout of the same sources still finds this one's files), else where it
/// was compiled.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}

const PATH: &str = "telemetry-schema/allowlist.toml";

/// A property that passes every check, to surround the one under test.
const GOOD: &str = r#"[[property]]
name = "exit_code"
kind = "signed"
sensitivity = "technical"
description = "Exit code the command finished with."
"#;

/// `[[property]]` (line 6) with these lines (from line 7), after [`GOOD`].
fn after_good(body: &str) -> String {
    format!("{GOOD}[[property]]\n{body}")
}

fn errors(source: &str) -> Vec<AllowlistError> {
    match parse(Path::new(PATH), source) {
        Ok(allowlist) => panic!("expected errors, got {allowlist:#?}"),
        Err(AllowlistErrors(errors)) => errors,
    }
}

/// The only error of `source`, as (line, column, message).
fn only_error(source: &str) -> (usize, usize, String) {
    let errors = errors(source);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    let error = &errors[0];
    assert_eq!(error.path, Path::new(PATH));
    (error.line, error.column, error.message.clone())
}

fn assert_error(source: &str, line: usize, column: usize, expected: &str) {
    let (l, c, message) = only_error(source);
    assert_eq!(
        (l, c, message.as_str()),
        (line, column, expected),
        "in:\n{source}"
    );
}

// ---------------------------------------------------------------------------------------------
// A file that is not a well-formed allowlist.

#[test]
fn toml_syntax_error() {
    let source = after_good("name = \"node_count\nkind = \"unsigned\"\n");
    let (line, column, message) = only_error(&source);
    // Where the unterminated string ends: the end of its line.
    assert_eq!((line, column), (7, 19));
    assert!(
        message.starts_with("invalid telemetry allowlist: "),
        "{message}"
    );
}

#[test]
fn unknown_key_in_a_property() {
    let source = after_good(
        "name = \"node_count\"\nkind = \"unsigned\"\nsensitivity = \"technical\"\ndescription = \"Nodes.\"\nowner = \"me\"\n",
    );
    let (line, column, message) = only_error(&source);
    assert_eq!((line, column), (11, 1));
    assert!(message.contains("unknown field `owner`"), "{message}");
}

#[test]
fn unknown_section() {
    let source = format!("{GOOD}\n[[event]]\nname = \"x\"\n");
    let (line, _, message) = only_error(&source);
    assert_eq!(line, 7);
    assert!(message.contains("unknown field `event`"), "{message}");
}

#[test]
fn missing_key() {
    let source =
        after_good("name = \"node_count\"\nkind = \"unsigned\"\ndescription = \"Nodes.\"\n");
    let (line, _, message) = only_error(&source);
    // The table that lacks it.
    assert_eq!(line, 6);
    assert!(message.contains("missing field `sensitivity`"), "{message}");
}

#[test]
fn value_of_the_wrong_type() {
    let source = after_good(
        "name = \"provider\"\nkind = \"enum\"\nvalues = \"claude\"\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n",
    );
    let (line, column, message) = only_error(&source);
    assert_eq!((line, column), (9, 10));
    assert!(
        message.starts_with("invalid telemetry allowlist: "),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// Names.

#[test]
fn dollar_prefixed_name() {
    assert_error(
        &after_good(
            "name = \"$current_url\"\nkind = \"bool\"\nsensitivity = \"technical\"\ndescription = \"x\"\n",
        ),
        7,
        8,
        "`$current_url` is reserved: `$`-prefixed properties belong to PostHog",
    );
}

#[test]
fn every_reserved_name() {
    for name in RESERVED_NAMES {
        let source = after_good(&format!(
            "name = \"{name}\"\nkind = \"bool\"\nsensitivity = \"technical\"\ndescription = \"x\"\n"
        ));
        assert_error(
            &source,
            7,
            8,
            &format!(
                "`{name}` is reserved: PostHog uses it for the event itself or it names a secret"
            ),
        );
    }
    for name in ["distinct_id", "uuid", "timestamp", "token", "api_key"] {
        assert!(RESERVED_NAMES.contains(&name), "{name} is not reserved");
    }
}

#[test]
fn name_that_is_not_snake_case() {
    for name in [
        "ExitCode",
        "exit-code",
        "exit__code",
        "_exit",
        "exit_",
        "1st",
        "",
        "exit code",
    ] {
        let source = after_good(&format!(
            "name = \"{name}\"\nkind = \"bool\"\nsensitivity = \"technical\"\ndescription = \"x\"\n"
        ));
        assert_error(
            &source,
            7,
            8,
            &format!("property name `{name}` must be lower snake_case (e.g. `exit_code`)"),
        );
    }
}

#[test]
fn duplicate_property() {
    let source = after_good(
        "name = \"exit_code\"\nkind = \"unsigned\"\nsensitivity = \"technical\"\ndescription = \"Again.\"\n",
    );
    assert_error(
        &source,
        7,
        8,
        "duplicate property `exit_code`: already declared at line 2",
    );
}

#[test]
fn property_named_like_a_common_property() {
    assert_eq!(
        COMMON_PROPERTY_NAMES,
        [
            "app_version",
            "app_git_commit",
            "build_kind",
            "os",
            "arch",
            "is_ci"
        ]
    );
    for name in COMMON_PROPERTY_NAMES {
        assert!(is_common_property(name));
        let source = after_good(&format!(
            "name = \"{name}\"\nkind = \"bool\"\nsensitivity = \"technical\"\ndescription = \"x\"\n"
        ));
        assert_error(
            &source,
            7,
            8,
            &format!(
                "`{name}` is a common property: the runtime adds it to every event, so it cannot be declared here"
            ),
        );
    }
    assert!(!is_common_property("exit_code"));
}

/// What a file that still has the former `[[common]]` section is told, at its first entry.
const NO_COMMON: &str = "the [[common]] section is no longer read: the runtime declares the properties it adds to every event itself (app_version, app_git_commit, build_kind, os, arch, is_ci); delete these entries";

#[test]
fn leftover_common_section() {
    let common = "[[common]]\nname = \"os\"\nkind = \"build_constant\"\nsensitivity = \"technical\"\ndescription = \"OS.\"\n";
    let never_sent =
        "[[never_sent]]\ncategory = \"File paths\"\nexamples = \"cwd\"\nreason = \"Layout.\"\n";
    // Once, at the first entry, however many there are and wherever they are.
    assert_error(
        &format!("{GOOD}\n{common}\n{never_sent}\n{common}"),
        7,
        1,
        NO_COMMON,
    );
    // Its entries are not read: one that would not even deserialise as a property is still
    // reported as a leftover, by us rather than by the TOML reader.
    assert_error(&format!("{GOOD}\n[[common]]\nname = 1\n"), 7, 1, NO_COMMON);
    assert_error("[common]\nname = \"os\"\n", 1, 1, NO_COMMON);
}

// ---------------------------------------------------------------------------------------------
// Descriptions and sensitivity.

#[test]
fn empty_description() {
    for description in ["", "   ", "\\n\\t"] {
        let source = after_good(&format!(
            "name = \"node_count\"\nkind = \"unsigned\"\nsensitivity = \"technical\"\ndescription = \"{description}\"\n"
        ));
        assert_error(
            &source,
            10,
            15,
            "property `node_count` has an empty description: say what it means in plain words",
        );
    }
}

#[test]
fn refused_sensitivities() {
    for sensitivity in ["stored_content", "highly_sensitive"] {
        let source = after_good(&format!(
            "name = \"node_count\"\nkind = \"unsigned\"\nsensitivity = \"{sensitivity}\"\ndescription = \"Nodes.\"\n"
        ));
        assert_error(
            &source,
            9,
            15,
            &format!(
                "property `node_count` has sensitivity `{sensitivity}`, which this library refuses outright: only `technical` and `interaction` data may be sent"
            ),
        );
    }
}

#[test]
fn unknown_sensitivity() {
    assert_error(
        &after_good(
            "name = \"node_count\"\nkind = \"unsigned\"\nsensitivity = \"public\"\ndescription = \"Nodes.\"\n",
        ),
        9,
        15,
        "unknown sensitivity `public` for property `node_count`: expected `technical` or `interaction`",
    );
}

// ---------------------------------------------------------------------------------------------
// Kinds and values.

#[test]
fn unknown_kind() {
    assert_error(
        &after_good(
            "name = \"cwd\"\nkind = \"string\"\nsensitivity = \"technical\"\ndescription = \"Directory.\"\n",
        ),
        8,
        8,
        "unknown kind `string` for property `cwd`: expected one of bool, unsigned, signed, duration_ms, enum, bucketed, error_class, code_location",
    );
}

#[test]
fn build_constant_is_refused() {
    assert_error(
        &after_good(
            "name = \"release\"\nkind = \"build_constant\"\nsensitivity = \"technical\"\ndescription = \"Release.\"\n",
        ),
        8,
        8,
        "property `release`: kind `build_constant` is only for the runtime's own common properties",
    );
}

#[test]
fn enum_and_bucketed_without_values() {
    for kind in ["enum", "bucketed"] {
        assert_error(
            &after_good(&format!(
                "name = \"provider\"\nkind = \"{kind}\"\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n"
            )),
            8,
            8,
            &format!(
                "property `provider` of kind `{kind}` needs `values = [...]`, its closed list of values"
            ),
        );
    }
}

#[test]
fn empty_values() {
    assert_error(
        &after_good(
            "name = \"provider\"\nkind = \"enum\"\nvalues = []\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n",
        ),
        9,
        10,
        "property `provider` has an empty `values` list",
    );
}

#[test]
fn values_on_a_kind_without_values() {
    assert_error(
        &after_good(
            "name = \"node_count\"\nkind = \"unsigned\"\nvalues = [\"one\"]\nsensitivity = \"technical\"\ndescription = \"Nodes.\"\n",
        ),
        9,
        10,
        "property `node_count` of kind `unsigned` takes no `values` (only `enum` and `bucketed` do)",
    );
}

#[test]
fn value_that_is_not_a_value_word() {
    for value in [
        "Claude",
        "with space",
        "-lead",
        "_lead",
        "/lead",
        "a|b",
        "a:b",
        "",
        "é",
    ] {
        assert_error(
            &after_good(&format!(
                "name = \"provider\"\nkind = \"bucketed\"\nvalues = [\"codex\", \"{value}\"]\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n"
            )),
            9,
            20,
            &format!(
                "value `{value}` of property `provider` must be lowercase letters, digits, `_`, `-`, `.` or `/`, starting with a letter or digit"
            ),
        );
    }
    // names with a namespace (an MCP server's tools, a provider's models) are value words
    for value in [
        "github/create_issue",
        "anthropic/claude-3.5",
        "v1.2",
        "9-to-5",
    ] {
        let source = after_good(&format!(
            "name = \"provider\"\nkind = \"bucketed\"\nvalues = [\"codex\", \"{value}\"]\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n"
        ));
        let allowlist = parse(Path::new(PATH), &source).unwrap_or_else(|e| panic!("{value}: {e}"));
        let values = &allowlist.property("provider").unwrap().kind;
        assert!(format!("{values:?}").contains(value), "{values:?}");
    }
}

#[test]
fn enum_value_that_no_variant_can_produce() {
    for value in ["fix-issue", "v1.2", "Claude", "credit__exhausted"] {
        assert_error(
            &after_good(&format!(
                "name = \"provider\"\nkind = \"enum\"\nvalues = [\"codex\", \"{value}\"]\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n"
            )),
            9,
            20,
            &format!(
                "value `{value}` of enum property `provider` must be lower snake_case: it is sent as the snake_case name of a `#[telemetry_enum]` variant"
            ),
        );
    }
}

#[test]
fn user_defined_listed_as_a_value() {
    assert_error(
        &after_good(
            "name = \"workflow_name\"\nkind = \"bucketed\"\nvalues = [\"assist\", \"user-defined\"]\nsensitivity = \"interaction\"\ndescription = \"Workflow.\"\n",
        ),
        9,
        21,
        "value `user-defined` is what unknown names are sent as: it cannot be listed",
    );
}

#[test]
fn value_listed_twice() {
    assert_error(
        &after_good(
            "name = \"provider\"\nkind = \"enum\"\nvalues = [\"claude\", \"codex\", \"claude\"]\nsensitivity = \"technical\"\ndescription = \"Provider.\"\n",
        ),
        9,
        30,
        "value `claude` is listed twice for property `provider`",
    );
}

// ---------------------------------------------------------------------------------------------
// The never-sent table.

#[test]
fn never_sent_rows_need_every_field() {
    let source = format!(
        "{GOOD}\n[[never_sent]]\ncategory = \"File paths\"\nexamples = \" \"\nreason = \"Identifies the user's filesystem layout.\"\n"
    );
    assert_error(
        &source,
        9,
        12,
        "a [[never_sent]] row needs a non-empty category, examples and reason",
    );

    let source =
        format!("{GOOD}\n[[never_sent]]\ncategory = \"\"\nexamples = \"cwd\"\nreason = \"\"\n");
    let found: Vec<(usize, usize)> = errors(&source).iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(found, [(8, 12), (10, 10)]);
}

// ---------------------------------------------------------------------------------------------
// The product table.

/// A `[product]` table with every key, as lines 2 to 11 under its header.
const FULL_PRODUCT: &str = r#"[product]
name = "demo"
command = "demo.exe"
docs_url = "https://example.com/demo/telemetry"
docs_path = "site/privacy/telemetry.md"
contact = " privacy@example.com "
data_location = "https://eu.i.posthog.com (PostHog Cloud, EU region)"
retention = "1 year"
purpose = "which commands and workflows are used and which fail"
consent = "opt-out"
client_ip = "discarded"
"#;

/// A `[product]` table (line 1) with only the required keys, one a line from line 2 in this
/// order, without `skip`; [`GOOD`] follows it.
fn required_product_without(skip: &str) -> String {
    let lines: String = [
        ("name", "\"demo\""),
        ("contact", "\"privacy@example.com\""),
        ("data_location", "\"PostHog Cloud, EU region\""),
        ("retention", "\"1 year\""),
    ]
    .iter()
    .filter(|(key, _)| *key != skip)
    .map(|(key, value)| format!("{key} = {value}\n"))
    .collect();
    format!("[product]\n{lines}\n{GOOD}")
}

/// A `[product]` table (line 1) with the required keys, then `line` (line 6), then [`GOOD`].
fn product_with(line: &str) -> String {
    required_product_without("").replacen("\n\n", &format!("\n{line}\n\n"), 1)
}

fn product_of(source: &str) -> Product {
    let allowlist = parse(Path::new(PATH), source).unwrap_or_else(|errors| panic!("{errors}"));
    allowlist.product.expect("no product")
}

#[test]
fn full_product() {
    let product = product_of(&format!("# The product.\n{FULL_PRODUCT}\n{GOOD}"));
    assert_eq!(
        product,
        Product {
            name: "demo".into(),
            command: "demo.exe".into(),
            docs_url: Some("https://example.com/demo/telemetry".into()),
            docs_path: "site/privacy/telemetry.md".into(),
            contact: "privacy@example.com".into(),
            data_location: "https://eu.i.posthog.com (PostHog Cloud, EU region)".into(),
            retention: "1 year".into(),
            purpose: Some("which commands and workflows are used and which fail".into()),
            consent: ConsentPolicy::OptOut,
            client_ip: Some(ClientIp::Discarded),
            line: 2,
        }
    );
}

#[test]
fn product_defaults() {
    let product = product_of(&required_product_without(""));
    assert_eq!(product.command, "demo");
    assert_eq!(product.docs_path, "docs/telemetry.md");
    assert_eq!(product.docs_url, None);
    assert_eq!(product.purpose, None);
    assert_eq!(product.consent, ConsentPolicy::OptIn);
    assert_eq!(product.client_ip, None);
    assert_eq!(product.line, 1);
}

#[test]
fn product_consent() {
    for (value, consent) in [
        ("opt-in", ConsentPolicy::OptIn),
        ("opt-out", ConsentPolicy::OptOut),
    ] {
        let product = product_of(&product_with(&format!("consent = \"{value}\"")));
        assert_eq!(product.consent, consent);
        assert_eq!(consent.keyword(), value);
    }
    for value in ["", "Opt-Out", "opt_out", "off", "yes"] {
        assert_error(
            &product_with(&format!("consent = \"{value}\"")),
            6,
            11,
            &format!(
                "`consent` `{value}` must be `\"opt-in\"` (nothing is recorded until the user turns telemetry on; the default) or `\"opt-out\"` (recording starts on the run after the first-run notice, until the user turns it off)"
            ),
        );
    }
    // A value that is not text is refused by the file's reader, at the value.
    let wrong_type = errors(&product_with("consent = false"));
    assert_eq!((wrong_type[0].line, wrong_type[0].column), (6, 11));
}

#[test]
fn product_client_ip() {
    for (value, client_ip) in [("discarded", ClientIp::Discarded), ("kept", ClientIp::Kept)] {
        let product = product_of(&product_with(&format!("client_ip = \"{value}\"")));
        assert_eq!(product.client_ip, Some(client_ip));
        assert_eq!(client_ip.keyword(), value);
    }
    for value in ["", "Discarded", "discard", "yes", "stored"] {
        assert_error(
            &product_with(&format!("client_ip = \"{value}\"")),
            6,
            13,
            &format!(
                "`client_ip` `{value}` must be `\"discarded\"` (the PostHog project's \"Discard client IP data\" is on) or `\"kept\"` (PostHog stores the address requests come from with the events), or be left out (the page then says it may be stored)"
            ),
        );
    }
    // reported with the table's other problems, not instead of them
    let both = errors(&product_with("client_ip = \"no\"\nconsent = \"maybe\""));
    assert_eq!(both.len(), 2, "{both:#?}");
    let wrong_type = errors(&product_with("client_ip = true"));
    assert_eq!((wrong_type[0].line, wrong_type[0].column), (6, 13));
}

#[test]
fn product_missing_a_required_key() {
    for (key, what) in [
        (
            "name",
            "the program's short name, which names its environment variables, state directory and project opt-out file",
        ),
        (
            "contact",
            "where users send deletion requests (an email address or a web page)",
        ),
        (
            "data_location",
            "where the data is stored (e.g. `\"https://eu.i.posthog.com (PostHog Cloud, EU region)\"`)",
        ),
        ("retention", "how long events are kept (e.g. `\"1 year\"`)"),
    ] {
        assert_error(
            &required_product_without(key),
            1,
            1,
            &format!("the [product] table needs `{key}`: {what}"),
        );
    }
    // All of them at once, in the order of the table's keys.
    let messages: Vec<String> = errors("[product]\n")
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(messages[0].contains("`name`") && messages[3].contains("`retention`"));
}

#[test]
fn product_with_an_empty_text() {
    for (line, key, was, what) in [
        (
            3,
            "contact",
            "privacy@example.com",
            "where users send deletion requests (an email address or a web page)",
        ),
        (
            4,
            "data_location",
            "PostHog Cloud, EU region",
            "where the data is stored (e.g. `\"https://eu.i.posthog.com (PostHog Cloud, EU region)\"`)",
        ),
        (
            5,
            "retention",
            "1 year",
            "how long events are kept (e.g. `\"1 year\"`)",
        ),
    ] {
        // Blank counts as empty.
        let source = required_product_without("").replace(was, " \t");
        assert_error(
            &source,
            line,
            format!("{key} = ").len() + 1,
            &format!("`{key}` in the [product] table is empty: it must say {what}"),
        );
    }
    assert_error(
        &product_with("purpose = \"\""),
        6,
        11,
        "`purpose` in the [product] table is empty: it must say in one sentence what the data helps the authors learn (e.g. `\"which commands are used and which fail\"`), or be left out",
    );
}

#[test]
fn product_with_a_bad_name() {
    for name in [
        "",
        "Demo",
        "2demo",
        "-demo",
        "my.tool",
        "my tool",
        &"a".repeat(33),
    ] {
        assert_error(
            &required_product_without("name")
                .replace("[product]\n", &format!("[product]\nname = \"{name}\"\n")),
            2,
            8,
            &format!(
                "product name `{name}` must be 1 to 32 characters of a-z, 0-9, `-` and `_`, starting with a letter: it names the environment variables, the state directory and the project opt-out file"
            ),
        );
    }
    for name in ["d", "my-tool_2", &"a".repeat(32)] {
        let source = required_product_without("name")
            .replace("[product]\n", &format!("[product]\nname = \"{name}\"\n"));
        assert_eq!(product_of(&source).command, name);
    }
}

#[test]
fn product_with_a_bad_command() {
    for command in ["", ".demo", "Demo", "demo cli", "demo/cli", &"a".repeat(65)] {
        assert_error(
            &product_with(&format!("command = \"{command}\"")),
            6,
            11,
            &format!(
                "product command `{command}` must be 1 to 64 characters of a-z, 0-9, `-`, `_` and `.`, starting with a letter: it is what users type to run the program"
            ),
        );
    }
}

#[test]
fn product_with_a_bad_docs_url() {
    for url in [
        "",
        "example.com/telemetry",
        "ftp://example.com/telemetry",
        "https://",
        "https://example.com/tele metry",
    ] {
        assert_error(
            &product_with(&format!("docs_url = \"{url}\"")),
            6,
            12,
            &format!(
                "`docs_url` `{url}` must be an `https://` or `http://` address without whitespace"
            ),
        );
    }
    let source = product_with("docs_url = \"http://localhost:8080/telemetry\"");
    assert_eq!(
        product_of(&source).docs_url.as_deref(),
        Some("http://localhost:8080/telemetry")
    );
}

#[test]
fn product_with_a_bad_docs_path() {
    for (path, problem) in [
        (
            "/docs/telemetry.md",
            "must be relative to the workspace root",
        ),
        (
            "C:/docs/telemetry.md",
            "must be relative to the workspace root",
        ),
        (r"docs\\telemetry.md", "must separate folders with `/`"),
        (
            "../docs/telemetry.md",
            "must not contain `..`: the page is written inside the workspace",
        ),
        (
            "docs/../../telemetry.md",
            "must not contain `..`: the page is written inside the workspace",
        ),
        (
            "docs/telemetry.html",
            "must name a Markdown file, ending in `.md`",
        ),
        ("docs/.md", "must name a Markdown file, ending in `.md`"),
        ("docs/", "must name a Markdown file, ending in `.md`"),
    ] {
        let shown = path.replace(r"\\", r"\");
        assert_error(
            &product_with(&format!("docs_path = \"{path}\"")),
            6,
            13,
            &format!("`docs_path` `{shown}` {problem}"),
        );
    }
}

#[test]
fn product_with_an_unknown_key() {
    let (line, column, message) = only_error(&product_with("owner = \"me\""));
    assert_eq!((line, column), (6, 1));
    assert!(
        message.starts_with("invalid telemetry allowlist: unknown field `owner`"),
        "{message}"
    );
}

#[test]
fn product_problems_are_reported_together_in_file_order() {
    let source = r#"[product]
docs_path = "../telemetry.md"
name = "Demo"
retention = ""
docs_url = "www.example.com"
"#;
    let found: Vec<(usize, usize, String)> = errors(source)
        .into_iter()
        .map(|e| (e.line, e.column, e.message))
        .collect();
    assert_eq!(
        found,
        [
            (
                1,
                1,
                "the [product] table needs `contact`: where users send deletion requests (an email address or a web page)".to_owned()
            ),
            (
                1,
                1,
                "the [product] table needs `data_location`: where the data is stored (e.g. `\"https://eu.i.posthog.com (PostHog Cloud, EU region)\"`)".to_owned()
            ),
            (
                2,
                13,
                "`docs_path` `../telemetry.md` must not contain `..`: the page is written inside the workspace".to_owned()
            ),
            (
                3,
                8,
                "product name `Demo` must be 1 to 32 characters of a-z, 0-9, `-` and `_`, starting with a letter: it names the environment variables, the state directory and the project opt-out file".to_owned()
            ),
            (
                4,
                13,
                "`retention` in the [product] table is empty: it must say how long events are kept (e.g. `\"1 year\"`)".to_owned()
            ),
            (
                5,
                12,
                "`docs_url` `www.example.com` must be an `https://` or `http://` address without whitespace".to_owned()
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Every error of one file, together and in file order.

#[test]
fn all_errors_are_reported_together_in_file_order() {
    let source = r#"[[property]]
name = "$lib"
kind = "string"
sensitivity = "stored_content"
description = ""

[[common]]
name = "os"
kind = "build_constant"
sensitivity = "technical"
description = "OS."

[[never_sent]]
category = ""
examples = "cwd"
reason = "Paths."

[[property]]
name = "os"
kind = "enum"
values = ["linux", "Linux", "linux"]
sensitivity = "secret"
description = "OS again."

[product]
name = "Demo"
contact = ""

[[property]]
name = "token"
kind = "build_constant"
sensitivity = "technical"
description = "A secret."

[[property]]
name = "node_count"
kind = "unsigned"
sensitivity = "technical"
description = "Nodes."

[[property]]
name = "node_count"
kind = "unsigned"
sensitivity = "technical"
description = "Nodes again."
"#;
    let found: Vec<(usize, usize, String)> = errors(source)
        .into_iter()
        .map(|e| (e.line, e.column, e.message))
        .collect();
    let places: Vec<(usize, usize)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(
        places,
        [
            (2, 8),   // `$lib`
            (3, 8),   // kind `string`
            (4, 15),  // stored_content
            (5, 15),  // empty description
            (7, 1),   // the leftover [[common]] section
            (14, 12), // empty category
            (19, 8),  // `os` is common
            (21, 20), // `Linux`
            (21, 29), // `linux` twice
            (22, 15), // sensitivity `secret`
            (25, 1),  // [product] without data_location
            (25, 1),  // [product] without retention
            (26, 8),  // product name `Demo`
            (27, 11), // empty contact
            (30, 8),  // `token`
            (31, 8),  // kind `build_constant`
            (42, 8),  // `node_count` again
        ],
        "{found:#?}"
    );
    assert!(found[0].2.contains("`$lib` is reserved"));
    assert_eq!(found[4].2, NO_COMMON);
    assert!(found[6].2.contains("`os` is a common property"));
    assert!(found[10].2.contains("needs `data_location`"));
    assert!(found[11].2.contains("needs `retention`"));
    assert!(found[16].2.contains("already declared at line 36"));
}

#[test]
fn errors_display_with_path_line_and_column() {
    let errors = parse(
        Path::new(PATH),
        &after_good(
            "name = \"token\"\nkind = \"bool\"\nsensitivity = \"public\"\ndescription = \"x\"\n",
        ),
    )
    .unwrap_err();
    assert_eq!(
        errors.to_string(),
        format!(
            "{PATH}:7:8: `token` is reserved: PostHog uses it for the event itself or it names a secret\n\
             {PATH}:9:15: unknown sensitivity `public` for property `token`: expected `technical` or `interaction`"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Reading files.

/// A directory of the test's own, removed when it is dropped (tests run in parallel).
fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn missing_file_is_an_error_about_the_whole_file() {
    let dir = scratch_dir();
    let path = dir.path().join("allowlist.toml");
    let AllowlistErrors(errors) = read(&path).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (0, 0));
    assert_eq!(errors[0].path, path);
    assert!(
        errors[0]
            .message
            .starts_with("cannot read the telemetry allowlist: "),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with(&format!("{}: cannot read", path.display()))
    );
}

#[test]
fn directory_is_not_an_allowlist() {
    let dir = scratch_dir();
    let AllowlistErrors(errors) = read(dir.path()).unwrap_err();
    assert_eq!(
        errors[0].message,
        "the telemetry allowlist is not a regular file"
    );
}

#[test]
fn oversized_file_is_refused_unread() {
    let dir = scratch_dir();
    let path = dir.path().join("allowlist.toml");
    let line = "# padding padding padding padding padding padding padding padding\n";
    std::fs::write(&path, line.repeat(4 * 1024 * 1024 / line.len() + 1)).unwrap();
    let AllowlistErrors(errors) = read(&path).unwrap_err();
    assert_eq!(
        errors[0].message,
        "the telemetry allowlist is larger than 4194304 bytes"
    );
}

#[test]
fn a_good_file_is_read_and_checked() {
    let dir = scratch_dir();
    let path = dir.path().join("allowlist.toml");
    std::fs::write(&path, GOOD).unwrap();
    let allowlist = read(&path).unwrap();
    assert_eq!(allowlist.path, path);
    assert_eq!(allowlist.properties.len(), 1);
    std::fs::write(&path, after_good("name = \"x\"\n")).unwrap();
    assert!(read(&path).is_err());
}

// ---------------------------------------------------------------------------------------------
// What a good file gives.

#[test]
fn good_file_keeps_order_values_lines_and_trimmed_descriptions() {
    let source = r#"
[[property]]
name = "workflow_name"
kind = "bucketed"
values = ["assist", "fix-github-issue", "v2.beta"]
sensitivity = "interaction"
description = "  Bundled workflow.  "

[product]
name = "demo"
contact = "privacy@example.com"
data_location = "PostHog Cloud, EU region"
retention = "1 year"

[[property]]
name = "exit_code"
kind = "signed"
sensitivity = "technical"
description = "Exit code."

[[never_sent]]
category = " File paths "
examples = "cwd"
reason = "Layout."
"#;
    let allowlist = parse(Path::new(PATH), source).unwrap();
    let names: Vec<&str> = allowlist
        .properties
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["workflow_name", "exit_code"]);
    let workflow = allowlist.property("workflow_name").unwrap();
    assert_eq!(
        workflow.kind,
        Kind::Bucketed(vec![
            "assist".into(),
            "fix-github-issue".into(),
            "v2.beta".into()
        ])
    );
    assert_eq!(workflow.sensitivity, Sensitivity::Interaction);
    assert_eq!(workflow.description, "Bundled workflow.");
    assert_eq!(workflow.line, 3);
    assert_eq!(allowlist.property("exit_code").unwrap().line, 16);
    assert_eq!(allowlist.product.unwrap().line, 9);
    assert_eq!(allowlist.never_sent[0].category, "File paths");
}

#[test]
fn empty_file_is_an_empty_allowlist() {
    let allowlist = parse(Path::new(PATH), "").unwrap();
    assert!(allowlist.properties.is_empty());
    assert!(allowlist.product.is_none());
    assert!(allowlist.never_sent.is_empty());
}

#[test]
fn the_real_allowlist_parses() {
    let path = manifest_dir().join("../telemetry-schema/allowlist.toml");
    let allowlist = read(&path).unwrap_or_else(|errors| panic!("{errors}"));

    for name in [
        "command",
        "subcommand",
        "exit_code",
        "duration_ms",
        "workflow_name",
        "error_class",
        "error_classification",
        "install_method",
    ] {
        assert!(allowlist.property(name).is_some(), "no property `{name}`");
    }
    assert_eq!(allowlist.property("exit_code").unwrap().kind, Kind::Signed);
    assert_eq!(
        allowlist.property("error_classification").unwrap().kind,
        Kind::Enum(vec![
            "transient".into(),
            "fatal".into(),
            "credit_exhausted".into()
        ])
    );
    assert!(matches!(
        allowlist.property("workflow_name").unwrap().kind,
        Kind::Bucketed(_)
    ));
    assert_eq!(
        allowlist.property("error_class").unwrap().kind,
        Kind::ErrorClass
    );

    let product = allowlist.product.as_ref().expect("no [product] table");
    assert_eq!(product.name, "demo");
    assert_eq!(product.command, "demo");
    assert_eq!(product.docs_path, "docs/telemetry.md");
    for name in COMMON_PROPERTY_NAMES {
        assert!(allowlist.property(name).is_none(), "`{name}` declared");
    }
    let categories: Vec<&str> = allowlist
        .never_sent
        .iter()
        .map(|row| row.category.as_str())
        .collect();
    for category in ["File paths", "Branch names", "Tokens and keys"] {
        assert!(categories.contains(&category), "{categories:?}");
    }
    assert!(
        allowlist
            .properties
            .iter()
            .all(|p| !p.description.is_empty())
    );
}
