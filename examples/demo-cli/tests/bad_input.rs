//! End to end: damaged, hostile or missing state never changes the host's output or exit code;
//! telemetry falls back to off or repairs, touches nothing outside its directory, and the
//! `telemetry` subcommands say what is wrong and how to fix it.

mod common;

use std::path::PathBuf;

use common::{Demo, RUN_OUT, can_record, text};

/// `demo run assist` behaves exactly as with telemetry off.
fn host_unaffected(demo: &Demo) {
    let out = demo.run(&["run", "assist"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), RUN_OUT);
    assert_eq!(text(&out.stderr), "");
    let failing = demo.run(&["run", "assist", "--fail"]);
    assert_eq!(failing.status.code(), Some(1));
    assert_eq!(
        text(&failing.stderr),
        "error: workflow assist failed at node 2 of 3 (bash): simulated failure\n"
    );
}

/// `demo telemetry status` fails with a problem and a fix mentioning `needle`.
fn status_reports(demo: &Demo, needle: &str) -> String {
    let out = demo.run(&["telemetry", "status"]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).starts_with("Telemetry: "),
        "{}",
        text(&out.stdout)
    );
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert!(stderr.contains("  fix: "), "{stderr}");
    stderr
}

fn enabled() -> Option<Demo> {
    can_record().then(|| Demo::new().with("DEMO_TELEMETRY", "1"))
}

fn app_dir(demo: &Demo) -> PathBuf {
    let dir = demo.app_dir();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn damaged_identity_files_are_repaired() {
    let cases: [(&str, Vec<u8>); 6] = [
        ("empty", Vec::new()),
        ("truncated", b"{\"anon_id\":\"7f3b".to_vec()),
        ("wrong type", b"[1, 2, 3]".to_vec()),
        (
            "wrong field type",
            b"{\"anon_id\": 42, \"created_at\": \"x\"}".to_vec(),
        ),
        ("binary", vec![0, 159, 146, 150, 255]),
        ("oversized", vec![b' '; 1 << 20]),
    ];
    for (name, content) in cases {
        let Some(demo) = enabled() else { return };
        let path = app_dir(&demo).join("telemetry-id.json");
        std::fs::write(&path, &content).unwrap();
        // a telemetry subcommand run with telemetry off reports it ...
        let off = Demo {
            env: demo
                .env
                .iter()
                .filter(|(k, _)| k != "DEMO_TELEMETRY")
                .cloned()
                .collect(),
            home: demo.home.clone(),
            cwd: demo.cwd.clone(),
            home_dir: tempfile::tempdir().unwrap(),
        };
        let stderr = status_reports(&off, "telemetry-id.json");
        assert!(stderr.contains("telemetry clear"), "{name}: {stderr}");
        // ... and a run with telemetry on repairs it
        host_unaffected(&demo);
        let id = demo
            .anon_id()
            .unwrap_or_else(|| panic!("{name}: not repaired"));
        assert_eq!(id.len(), 36, "{name}");
        assert!(!demo.queue().is_empty(), "{name}");
        assert!(demo.ok(&["telemetry", "status"]).contains(&id), "{name}");
    }
}

#[test]
fn links_and_directories_where_files_should_be_are_refused() {
    for file in [
        "telemetry-id.json",
        "telemetry-queue.jsonl",
        "telemetry.lock",
    ] {
        // a symbolic link to a file outside: never followed, never written through
        let Some(demo) = enabled() else { return };
        let outside = demo.root().join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, app_dir(&demo).join(file)).unwrap();
        host_unaffected(&demo);
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "precious",
            "{file}"
        );
        if file != "telemetry-queue.jsonl" {
            assert!(!demo.queue_path().exists(), "{file}");
        }
        status_reports(&demo, "symbolic link");
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "precious",
            "{file}"
        );

        // a directory
        let Some(demo) = enabled() else { return };
        std::fs::create_dir_all(app_dir(&demo).join(file).join("inner")).unwrap();
        host_unaffected(&demo);
        status_reports(&demo, "is not a regular file");
        assert!(demo.app_dir().join(file).join("inner").is_dir());
    }
    // a FIFO where the queue should be: nothing blocks
    #[cfg(unix)]
    {
        let Some(demo) = enabled() else { return };
        let fifo = app_dir(&demo).join("telemetry-queue.jsonl");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            host_unaffected(&demo);
            status_reports(&demo, "FIFO");
        }
    }
}

#[test]
fn damaged_user_config_turns_telemetry_off_until_rewritten() {
    let cases: [(&str, &[u8]); 4] = [
        ("not toml", b"enabled = ["),
        ("wrong type", b"enabled = \"yes\"\n"),
        ("binary", &[0xff, 0xfe, 0x00]),
        ("oversized", &[b'#'; 200_000]),
    ];
    for (name, content) in cases {
        if !can_record() {
            return;
        }
        let demo = Demo::new();
        std::fs::write(app_dir(&demo).join("telemetry.toml"), content).unwrap();
        host_unaffected(&demo);
        assert!(demo.queue().is_empty(), "{name}");
        assert_eq!(demo.anon_id(), None, "{name}");
        let stderr = status_reports(&demo, "telemetry.toml");
        assert!(stderr.contains("demo telemetry on"), "{name}: {stderr}");
        // `on` rewrites it
        demo.ok(&["telemetry", "on"]);
        demo.ok(&["run", "assist"]);
        assert!(!demo.queue().is_empty(), "{name}");
    }
    // a link as the config: not followed, and `off` replaces the link, not its target
    #[cfg(unix)]
    {
        let demo = Demo::new();
        let outside = demo.root().join("outside.toml");
        std::fs::write(&outside, "enabled = true\n").unwrap();
        std::os::unix::fs::symlink(&outside, app_dir(&demo).join("telemetry.toml")).unwrap();
        host_unaffected(&demo);
        assert!(demo.queue().is_empty());
        status_reports(&demo, "symbolic link");
        demo.ok(&["telemetry", "off"]);
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "enabled = true\n"
        );
    }
}

#[test]
fn damaged_queue_records_are_skipped_not_fatal() {
    let Some(demo) = enabled() else { return };
    demo.ok(&["run", "assist"]);
    let path = demo.queue_path();
    let mut content = std::fs::read(&path).unwrap();
    content
        .extend_from_slice(b"T1 00000000 5 {bad}\nnot a record at all\nT1 deadbeef 9 {\"torn\":");
    std::fs::write(&path, content).unwrap();
    host_unaffected(&demo);
    let out = demo.run(&["telemetry", "inspect", "--json", "-n", "1000"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(doc["damaged"], 3);
    assert!(doc["events"].as_array().unwrap().len() >= 15);
    assert!(
        text(&out.stderr).contains("3 damaged record(s)"),
        "{}",
        text(&out.stderr)
    );
    let status = demo.run(&["telemetry", "status"]);
    assert!(status.status.success());
    assert!(text(&status.stdout).contains("3 damaged record(s) skipped"));
}

#[test]
fn a_file_where_the_directory_should_be() {
    let Some(demo) = enabled() else { return };
    std::fs::write(demo.app_dir(), "I am not a directory").unwrap();
    host_unaffected(&demo);
    assert_eq!(
        std::fs::read_to_string(demo.app_dir()).unwrap(),
        "I am not a directory"
    );
    status_reports(&demo, "is not a directory");
    let out = demo.run(&["telemetry", "on"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("could not save your choice"));
    assert!(text(&out.stderr).contains("DEMO_TELEMETRY=1"));
}

#[test]
fn a_missing_or_unset_home() {
    let Some(mut demo) = enabled() else { return };
    let missing = demo.root().join("no/such/home");
    demo.home = Some(missing.clone());
    host_unaffected(&demo);
    assert!(!missing.exists());
    assert!(!demo.root().join("no").exists());
    status_reports(&demo, "does not exist");

    // HOME under a regular file
    let file = demo.root().join("plain-file");
    std::fs::write(&file, "").unwrap();
    demo.home = Some(file.join("home"));
    host_unaffected(&demo);
    assert_eq!(std::fs::read(&file).unwrap(), b"");

    demo.home = None;
    host_unaffected(&demo);
    status_reports(&demo, "no home directory");
    assert_eq!(demo.files(), ["plain-file", "work", "work/project"]);
}

#[test]
fn a_read_only_home() {
    let Some(demo) = enabled() else { return };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let root = demo.root().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();
        let writable = std::fs::create_dir(root.join("probe")).is_ok();
        host_unaffected(&demo);
        if writable {
            // root ignores permissions: the home is not read-only for this process
            eprintln!(
                "note: running as root, a 0555 home is still writable; only the output is checked"
            );
        } else {
            assert_eq!(demo.files(), ["work", "work/project"]);
            let out = demo.run(&["telemetry", "on"]);
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert!(stderr.contains("could not save your choice"), "{stderr}");
            assert!(stderr.contains("fix: "), "{stderr}");
        }
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn state_dir_override_is_honoured_and_nothing_else_is_touched() {
    let Some(demo) = enabled() else { return };
    let elsewhere = demo.root().join("state");
    std::fs::create_dir(&elsewhere).unwrap();
    let demo = demo.with("DEMO_TELEMETRY_DIR", elsewhere.to_str().unwrap());
    host_unaffected(&demo);
    assert!(!demo.app_dir().exists());
    assert!(!common::read_framed(&elsewhere.join("telemetry-queue.jsonl")).is_empty());
    let status = demo.ok(&["telemetry", "status"]);
    assert!(status.contains("Directory: ~/state\n"), "{status}");
}
