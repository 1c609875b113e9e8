//! End to end: what is recorded once telemetry is on, the identity's life, and inspect.

mod common;

use std::collections::HashSet;

use common::{Demo, RUN_EVENTS, assert_no_sender_survives, can_record, events, on, text};
use serde_json::Value;

/// The id events of `account` are sent under: its keyed hash (never the account id), keyed by
/// the project key this build sends with (the sandbox's development key in a debug build).
fn linked_id(account: &str) -> String {
    let key = if cfg!(debug_assertions) {
        "phc_e2e_test"
    } else {
        option_env!("DEMO_POSTHOG_KEY").unwrap_or("")
    };
    telemetry_core::PrincipalId::derive(key, account)
        .unwrap()
        .to_string()
}

const COMMON: &[&str] = &[
    "app_version",
    "app_git_commit",
    "build_kind",
    "os",
    "arch",
    "is_ci",
];

#[test]
fn on_then_a_command_records_what_inspect_shows() {
    let Some(demo) = on() else { return };
    // `on` itself records nothing (this run started with telemetry off) and makes no id
    assert_eq!(demo.anon_id(), None);
    assert!(demo.queue().is_empty());

    let out = demo.run(&["run", "assist", "--nodes", "4"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "Running workflow assist (4 nodes on claude)...\nWorkflow assist completed: 4 of 4 nodes.\n"
    );
    assert_eq!(text(&out.stderr), "");
    let records = demo.queue();
    assert_eq!(events(&records), RUN_EVENTS);
    let id = demo.anon_id().expect("an id once something is recorded");
    let mut uuids = HashSet::new();
    for record in &records {
        let keys: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5, "{record}");
        for key in ["uuid", "event", "distinct_id", "properties", "timestamp"] {
            assert!(keys.contains(&key), "{record}");
        }
        assert_eq!(record["distinct_id"], id.as_str());
        let props = record["properties"].as_object().unwrap();
        for name in COMMON {
            assert!(props.contains_key(*name), "{name} missing in {record}");
        }
        assert_eq!(props["$process_person_profile"], false);
        assert_eq!(props["app_version"], env!("CARGO_PKG_VERSION"));
        let uuid = record["uuid"].as_str().unwrap();
        assert_eq!(&uuid[14..15], "7", "uuid v7: {uuid}");
        assert!(uuids.insert(uuid.to_string()));
    }
    assert_eq!(records[2]["properties"]["workflow_name"], "assist");
    assert_eq!(records[2]["properties"]["node_count"], 4);
    assert_eq!(records[4]["properties"]["command"], "run");
    assert_eq!(records[4]["properties"]["exit_code"], 0);
    assert!(records[4]["properties"]["duration_ms"].is_u64());
    assert!(records[4]["properties"].get("error_class").is_none());

    // inspect --json shows the same records, byte for byte
    let json = demo.ok(&["telemetry", "inspect", "--json", "-n", "100"]);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let shown: Vec<&Value> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["state"], "queued");
            &e["record"]
        })
        .collect();
    // (inspect's own run recorded its start-up and invocation before reading)
    assert_eq!(shown.len(), records.len() + 2);
    for (a, b) in records.iter().zip(&shown) {
        assert_eq!(a, *b);
    }
    let raw = std::fs::read_to_string(demo.queue_path()).unwrap();
    // (after the segment's header line)
    for line in raw.lines().skip(1).take(records.len()) {
        let record_json = line.splitn(4, ' ').nth(3).unwrap();
        assert!(
            json.contains(record_json),
            "inspect --json must embed {record_json}"
        );
    }

    // the human form is the same JSON, indented
    let human = demo.ok(&["telemetry", "inspect", "-n", "3"]);
    assert!(human.contains("The last 3 of"), "{human}");
    assert!(
        human.contains("\"event\": \"cli.command_completed\""),
        "{human}"
    );
    assert!(
        human.contains("\"$process_person_profile\": false"),
        "{human}"
    );

    // files are private
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&demo.app_dir()), 0o700);
        for file in [
            "telemetry-id.json",
            "telemetry-queue.jsonl",
            "telemetry.toml",
        ] {
            assert_eq!(mode(&demo.app_dir().join(file)), 0o600, "{file}");
        }
    }

    let status = demo.ok(&["telemetry", "status"]);
    assert!(status.starts_with("Telemetry: ENABLED\n"), "{status}");
    assert!(
        status.contains(&format!("Anonymous ID: {id} (created ")),
        "{status}"
    );
    assert!(
        !status.contains("phc_e2e_test"),
        "the key is never shown: {status}"
    );
}

#[test]
fn a_failing_command_records_its_error_class_never_its_message() {
    let Some(demo) = on() else { return };
    let out = demo.run(&["run", "customer-x-deploy", "--fail"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: workflow customer-x-deploy failed at node 2 of 3 (bash): simulated failure\n"
    );
    let records = demo.queue();
    assert_eq!(
        events(&records),
        [
            "binary.startup",
            "cli.command_invoked",
            "workflow.run_started",
            "workflow.node_failed",
            "workflow.run_failed",
            "cli.command_completed"
        ]
    );
    assert_eq!(records[4]["properties"]["error_class"], "WorkflowError");
    assert_eq!(records[4]["properties"]["workflow_name"], "user-defined");
    assert_eq!(records[5]["properties"]["exit_code"], 1);
    assert_eq!(records[5]["properties"]["error_class"], "DemoError");
    let raw = std::fs::read_to_string(demo.queue_path()).unwrap();
    assert!(!raw.contains("customer-x"));
    assert!(!raw.contains("simulated failure"));
}

#[test]
fn clear_rotates_the_id() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let first = demo.anon_id().unwrap();
    let out = demo.ok(&["telemetry", "clear"]);
    assert!(
        out.contains(&format!("Deleted the anonymous ID {first}")),
        "{out}"
    );
    assert!(out.contains("a new anonymous ID will be created"), "{out}");
    // clear deleted everything, and its own run recorded nothing afterwards
    assert_eq!(demo.anon_id(), None);
    assert!(demo.queue().is_empty());
    demo.ok(&["run", "assist"]);
    let second = demo.anon_id().unwrap();
    assert_ne!(first, second);
    assert!(
        demo.queue()
            .iter()
            .all(|r| r["distinct_id"] == second.as_str())
    );
}

#[test]
fn off_keeps_the_id_and_stops_recording() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let id = demo.anon_id().unwrap();
    let before = demo.queue().len();
    let out = demo.ok(&["telemetry", "off"]);
    assert!(out.contains("Telemetry is off"), "{out}");
    assert!(out.contains("telemetry clear"), "{out}");
    // the `off` run left nothing of its own to send: its start-up and invocation events,
    // recorded before `off` ran, were withdrawn, and its completion was not recorded
    assert_eq!(demo.queue().len(), before);
    assert!(
        !demo
            .queue()
            .iter()
            .any(|r| r["properties"]["subcommand"] == "off"),
        "{:?}",
        demo.queue()
    );
    demo.ok(&["run", "assist"]);
    assert_eq!(demo.queue().len(), before);
    assert_eq!(demo.anon_id(), Some(id));
    // turning it on again sends nothing of the `off` run
    demo.ok(&["telemetry", "on"]);
    assert_eq!(demo.queue().len(), before);
}

#[test]
fn concurrent_first_runs_create_exactly_one_id() {
    if !can_record() {
        return;
    }
    const PROCESSES: usize = 32;
    let demo = Demo::new().with("DEMO_TELEMETRY", "1");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            demo.command(&["run", "assist"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn demo")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    // a sender they started (its server is down) may still be checking the directory with a
    // temporary file of its own: list the files once it is gone
    assert_no_sender_survives(&demo);
    let files = demo.files();
    assert_eq!(
        files
            .iter()
            .filter(|f| f.contains("telemetry-id"))
            .collect::<Vec<_>>(),
        [".demo/telemetry-id.json"],
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.contains(".tmp-")), "{files:?}");
    let id = demo.anon_id().unwrap();
    // every event of every process, none damaged (queue() checks each line's framing)
    let records = demo.queue();
    assert_eq!(records.len(), PROCESSES * 5);
    assert!(records.iter().all(|r| r["distinct_id"] == id.as_str()));
    let uuids: HashSet<&str> = records
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids.len(), records.len());
    let starts = events(&records)
        .iter()
        .filter(|e| *e == "binary.startup")
        .count();
    assert_eq!(starts, PROCESSES);
}

#[test]
fn login_then_logout_follows_the_arcade_state_machine() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let anon = demo.anon_id().unwrap();
    let account = linked_id("user-42");
    assert_eq!(demo.ok(&["login", "user-42"]), "Logged in as user-42.\n");
    demo.ok(&["run", "assist"]);
    assert_eq!(demo.ok(&["logout"]), "Logged out.\n");
    demo.ok(&["run", "assist"]);
    let fresh = demo.anon_id().unwrap();
    assert_ne!(fresh, anon);

    let records = demo.queue();
    let alias_at = records
        .iter()
        .position(|r| r["event"] == "$create_alias")
        .expect("an alias");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["event"] == "$create_alias")
            .count(),
        1,
        "aliased once"
    );
    let alias = &records[alias_at];
    assert_eq!(alias["distinct_id"], anon.as_str());
    assert_eq!(
        alias["properties"],
        serde_json::json!({"distinct_id": anon, "alias": account, "$geoip_disable": true})
    );
    // the account id itself is in no record and no telemetry file
    for r in &records {
        assert!(!r.to_string().contains("user-42"), "{r}");
    }
    for file in ["telemetry-id.json", "telemetry-queue.jsonl"] {
        let text = std::fs::read_to_string(demo.app_dir().join(file)).unwrap_or_default();
        assert!(!text.contains("user-42"), "{file}: {text}");
    }
    let first_linked = records
        .iter()
        .position(|r| r["distinct_id"] == account.as_str())
        .unwrap();
    assert!(
        alias_at < first_linked,
        "the alias precedes every event under the principal"
    );

    // before the alias: anonymous and personless
    for r in &records[..alias_at] {
        assert_eq!(r["distinct_id"], anon.as_str());
        assert_eq!(r["properties"]["$process_person_profile"], false);
    }
    // login's own completion, the next run, and logout's own events: under the principal,
    // with person processing
    let linked: Vec<&Value> = records
        .iter()
        .filter(|r| r["distinct_id"] == account.as_str())
        .collect();
    assert!(
        linked
            .iter()
            .all(|r| r["properties"].get("$process_person_profile").is_none())
    );
    let linked_commands: Vec<&str> = linked
        .iter()
        .filter(|r| r["event"] == "cli.command_completed")
        .map(|r| r["properties"]["command"].as_str().unwrap())
        .collect();
    assert_eq!(linked_commands, ["login", "run", "logout"]);
    // after logout: a fresh anonymous id, personless again
    let after: Vec<&Value> = records
        .iter()
        .filter(|r| r["distinct_id"] == fresh.as_str())
        .collect();
    assert_eq!(after.len(), 5);
    assert!(
        after
            .iter()
            .all(|r| r["properties"]["$process_person_profile"] == false)
    );
    let last_linked = records
        .iter()
        .rposition(|r| r["distinct_id"] == account.as_str())
        .unwrap();
    let first_fresh = records
        .iter()
        .position(|r| r["distinct_id"] == fresh.as_str())
        .unwrap();
    assert!(last_linked < first_fresh);
}

#[test]
fn a_login_found_at_start_up_is_aliased_lazily_once() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let anon = demo.anon_id().unwrap();
    // another tool logged the user in
    std::fs::write(demo.app_dir().join("credentials"), "user-7\n").unwrap();
    demo.ok(&["run", "assist"]);
    demo.ok(&["run", "assist"]);
    let records = demo.queue();
    let aliases: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "$create_alias")
        .collect();
    assert_eq!(aliases.len(), 1);
    assert_eq!(aliases[0]["distinct_id"], anon.as_str());
    assert_eq!(aliases[0]["properties"]["alias"], linked_id("user-7"));
    assert_eq!(
        records
            .iter()
            .filter(|r| r["distinct_id"] == linked_id("user-7").as_str())
            .count(),
        10
    );
}

#[test]
fn catalog_lists_every_event_and_property() {
    let demo = Demo::without_key();
    let out = demo.ok(&["telemetry", "catalog", "--json"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for expected in [
        "binary.startup",
        "cli.command_invoked",
        "cli.command_completed",
        "workflow.run_started",
        "workflow.run_completed",
        "workflow.run_failed",
        "workflow.node_failed",
        "error.uncaught",
        "setup.completed",
        "mcp.server_started",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let common: Vec<&str> = doc["common_properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(common, COMMON);
    let text = demo.ok(&["telemetry", "catalog"]);
    assert!(text.contains("workflow.run_failed"));
    assert!(
        text.contains("error_class  [error_class, technical]"),
        "{text}"
    );
    assert!(text.contains("$create_alias"));
    assert_eq!(demo.files(), ["work", "work/project"]);
}

#[test]
fn server_and_setup_events() {
    let Some(demo) = on() else { return };
    demo.ok(&["serve", "--once"]);
    demo.ok(&[
        "setup",
        "--install-method",
        "homebrew",
        "--assistant",
        "codex",
    ]);
    let records = demo.queue();
    let server = records
        .iter()
        .find(|r| r["event"] == "mcp.server_started")
        .unwrap();
    assert_eq!(server["properties"]["transport"], "stdio");
    assert_eq!(server["properties"]["tool_count"], 3);
    let setup = records
        .iter()
        .find(|r| r["event"] == "setup.completed")
        .unwrap();
    assert_eq!(setup["properties"]["install_method"], "homebrew");
    assert_eq!(setup["properties"]["default_assistant"], "codex");
}

#[test]
fn usage_errors_keep_clap_behaviour() {
    let demo = Demo::new();
    let out = demo.run(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage"), "{}", text(&out.stderr));
    let out = demo.run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("demo {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(demo.files(), ["work", "work/project"]);
}
