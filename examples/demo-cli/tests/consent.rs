//! End to end: who decides whether telemetry is on, and what "off" leaves behind (nothing).

mod common;

use std::process::Command;

use common::{Demo, RUN_EVENTS, RUN_OUT, SpawnServer, can_record, text};

#[test]
fn by_default_nothing_is_recorded_and_no_file_is_created() {
    let demo = Demo::new();
    let out = demo.run(&["run", "assist"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), RUN_OUT);
    assert_eq!(text(&out.stderr), "");
    // not even ~/.demo
    assert_eq!(demo.files(), ["work", "work/project"]);

    let status = demo.ok(&["telemetry", "status"]);
    assert!(status.starts_with("Telemetry: DISABLED\n"), "{status}");
    assert!(
        status.contains("Source: default (opt-in policy)"),
        "{status}"
    );
    assert!(status.contains("Anonymous ID: none"), "{status}");
    for args in [
        &["login", "user-1"][..],
        &["run", "assist"],
        &["telemetry", "status"],
        &["telemetry", "inspect"],
        &["logout"],
        &["serve"],
        &["setup"],
    ] {
        demo.ok(args);
    }
    // only the demo's own login file was ever written, never a telemetry file
    assert!(
        demo.files().iter().all(|f| !f.contains("telemetry")),
        "{:?}",
        demo.files()
    );
}

#[test]
fn do_not_track_turns_everything_off_with_no_other_config() {
    if !can_record() {
        return;
    }
    for value in ["1", "true", "yes"] {
        // it wins over the app's variable ...
        let demo = Demo::new()
            .with("DO_NOT_TRACK", value)
            .with("DEMO_TELEMETRY", "1");
        assert_eq!(demo.ok(&["run", "assist"]), RUN_OUT);
        assert_eq!(
            demo.files(),
            ["work", "work/project"],
            "DO_NOT_TRACK={value}"
        );
    }

    // ... and over `telemetry on`
    let demo = Demo::new();
    demo.ok(&["telemetry", "on"]);
    let dnt = demo.with("DO_NOT_TRACK", "1");
    let out = dnt.run(&["telemetry", "on"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("DO_NOT_TRACK=1 takes precedence"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(dnt.ok(&["run", "assist"]), RUN_OUT);
    assert!(dnt.queue().is_empty());
    assert_eq!(dnt.anon_id(), None);
    let status = dnt.ok(&["telemetry", "status"]);
    assert!(status.contains("Source: DO_NOT_TRACK=1"), "{status}");
    assert!(status.contains("To enable: unset DO_NOT_TRACK"), "{status}");

    // DO_NOT_TRACK=0 / empty does not opt out
    let demo = Demo::new()
        .with("DO_NOT_TRACK", "0")
        .with("DEMO_TELEMETRY", "1");
    demo.ok(&["run", "assist"]);
    assert!(!demo.queue().is_empty());
}

#[test]
fn the_apps_own_variables() {
    if !can_record() {
        return;
    }
    let demo = Demo::new();
    demo.ok(&["telemetry", "on"]);
    for (name, value) in [
        ("DEMO_TELEMETRY", "0"),
        ("DEMO_NO_TELEMETRY", "1"),
        ("DEMO_TELEMETRY", "maybe"),
    ] {
        let mut cmd = demo.command(&["run", "assist"]);
        cmd.env(name, value);
        assert!(cmd.output().unwrap().status.success());
        assert!(demo.queue().is_empty(), "{name}={value}");
        let mut status = demo.command(&["telemetry", "status"]);
        status.env(name, value);
        let status = text(&status.output().unwrap().stdout);
        assert!(
            status.contains(&format!("Source: {name}={value}")),
            "{status}"
        );
    }
    demo.ok(&["run", "assist"]);
    assert!(!demo.queue().is_empty());
}

#[test]
fn a_project_file_opts_the_repository_out_and_never_in() {
    if !can_record() {
        return;
    }
    let demo = Demo::new();
    demo.ok(&["telemetry", "on"]);
    let file = demo.root().join("work/.demo-telemetry.toml");
    std::fs::write(
        &file,
        "# this team does not send telemetry\nenabled = false\n",
    )
    .unwrap();
    assert_eq!(demo.ok(&["run", "assist"]), RUN_OUT);
    assert!(demo.queue().is_empty());
    assert_eq!(demo.anon_id(), None);
    let status = demo.ok(&["telemetry", "status"]);
    assert!(
        status.contains(&format!("Source: project file {}", file.display()))
            || status.contains("Source: project file ~/work/.demo-telemetry.toml"),
        "{status}"
    );

    // the variable still overrides it for one command
    let mut cmd = demo.command(&["run", "assist"]);
    cmd.env("DEMO_TELEMETRY", "1");
    assert!(cmd.output().unwrap().status.success());
    assert!(!demo.queue().is_empty());

    // a project cannot opt anyone in
    let fresh = Demo::new();
    std::fs::write(
        fresh.root().join("work/.demo-telemetry.toml"),
        "enabled = true\n",
    )
    .unwrap();
    fresh.ok(&["run", "assist"]);
    assert!(fresh.queue().is_empty());
    assert!(!fresh.app_dir().exists());
    let out = fresh.run(&["telemetry", "status"]);
    assert!(
        text(&out.stderr).contains("a project cannot do"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ci_is_off_unless_enabled_by_variable() {
    if !can_record() {
        return;
    }
    for (var, value) in [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITLAB_CI", "true"),
        ("JENKINS_URL", "http://ci"),
        ("BUILDKITE", "true"),
        ("TF_BUILD", "True"),
    ] {
        let demo = Demo::new().with(var, value);
        assert_eq!(demo.ok(&["run", "assist"]), RUN_OUT);
        assert_eq!(demo.files(), ["work", "work/project"], "{var}");
        let status = demo.ok(&["telemetry", "status"]);
        assert!(
            status.contains(&format!("Source: CI detected ({var}={value})")),
            "{status}"
        );
    }
    let demo = Demo::new().with("CI", "true").with("DEMO_TELEMETRY", "1");
    demo.ok(&["run", "assist"]);
    let records = demo.queue();
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r["properties"]["is_ci"] == true));
}

#[test]
fn debug_mode_prints_events_and_records_nothing() {
    // no key at all: debug mode works in a development build without one
    let demo = Demo::without_key().with("DEMO_TELEMETRY_DEBUG", "1");
    let out = demo.run(&["run", "my-secret-flow"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "Running workflow my-secret-flow (3 nodes on claude)...\nWorkflow my-secret-flow completed: 3 of 3 nodes.\n"
    );
    let stderr = text(&out.stderr);
    let printed: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| {
            let json = line
                .strip_prefix("[demo telemetry debug: not sent] ")
                .unwrap_or_else(|| panic!("unexpected stderr line: {line}"));
            serde_json::from_str(json).unwrap()
        })
        .collect();
    assert_eq!(common::events(&printed), RUN_EVENTS);
    assert_eq!(printed[2]["properties"]["workflow_name"], "user-defined");
    assert!(!stderr.contains("my-secret-flow"));
    assert_eq!(demo.files(), ["work", "work/project"]);
}

#[test]
fn the_dev_endpoint_must_be_loopback() {
    let demo = Demo::without_key()
        .with("DEMO_TELEMETRY", "1")
        .with("DEMO_TELEMETRY_DEV_ENDPOINT", "https://eu.i.posthog.com")
        .with("DEMO_TELEMETRY_DEV_KEY", "phc_stolen");
    demo.ok(&["run", "assist"]);
    if option_env!("DEMO_POSTHOG_KEY").is_none_or(str::is_empty) {
        assert_eq!(demo.files(), ["work", "work/project"]);
        let out = demo.run(&["telemetry", "status"]);
        let stdout = text(&out.stdout);
        assert!(stdout.contains("no PostHog key"), "{stdout}");
        assert!(!stdout.contains("phc_stolen"));
        if cfg!(debug_assertions) {
            assert!(text(&out.stderr).contains("DEMO_TELEMETRY_DEV_ENDPOINT is ignored"));
        }
    }
}

#[cfg(not(debug_assertions))]
#[test]
fn release_builds_ignore_the_dev_variables() {
    let demo = Demo::new().with("DEMO_TELEMETRY", "1");
    demo.ok(&["run", "assist"]);
    if option_env!("DEMO_POSTHOG_KEY").is_none_or(str::is_empty) {
        assert_eq!(demo.files(), ["work", "work/project"]);
    }
    let status = demo.ok(&["telemetry", "status"]);
    assert!(!status.contains("127.0.0.1"), "{status}");
}

#[test]
fn a_keyless_build_says_nothing_can_be_sent() {
    if option_env!("DEMO_POSTHOG_KEY").is_some_and(|k| !k.is_empty()) {
        return;
    }
    let demo = Demo::without_key();
    let out = demo.run(&["telemetry", "on"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("no PostHog key embedded"),
        "{}",
        text(&out.stderr)
    );
    demo.ok(&["run", "assist"]);
    assert_eq!(demo.anon_id(), None);
    assert!(demo.queue().is_empty());
    let status = demo.ok(&["telemetry", "status"]);
    assert!(status.contains("this build has no PostHog key"), "{status}");
}

#[test]
fn the_first_run_notice_is_shown_once_on_a_terminal() {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(script) = script else {
        eprintln!("skipped: no `script` (util-linux) to give demo a terminal");
        return;
    };
    if !can_record() {
        return;
    }
    let demo = Demo::new();
    // never when stderr is not a terminal
    let out = demo.run(&["run", "assist"]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(demo.files(), ["work", "work/project"]);
    // nor when stderr is one but the output goes into a pipe (`source <(demo completions
    // bash)` in a shell's start-up file, `demo ... | jq`): the notice is not spent there
    let piped = on_a_terminal(script, &demo, "run assist | cat")
        .output()
        .expect("script runs");
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let piped = text(&piped.stdout);
    assert!(piped.contains("Workflow assist completed"), "{piped}");
    assert!(!piped.contains("collects no usage data"), "{piped}");
    assert_eq!(demo.files(), ["work", "work/project"]);

    let on_tty = |args: &str| {
        let out = on_a_terminal(script, &demo, args)
            .output()
            .expect("script runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let first = on_tty("run assist");
    assert!(
        first.contains("demo collects no usage data by default."),
        "{first}"
    );
    assert!(first.contains("demo telemetry on"), "{first}");
    assert!(first.contains("Workflow assist completed"), "{first}");
    assert!(demo.app_dir().join("telemetry-notice-shown").exists());
    // the notice is informational: nothing was recorded
    assert!(demo.queue().is_empty());
    assert_eq!(demo.anon_id(), None);

    let second = on_tty("run assist");
    assert!(!second.contains("collects no usage data"), "{second}");
    assert!(second.contains("Workflow assist completed"), "{second}");

    // not when the user has decided, even on a fresh machine
    let decided = Demo::new().with("DO_NOT_TRACK", "1");
    let out = text(
        &on_a_terminal(script, &decided, "run assist")
            .output()
            .unwrap()
            .stdout,
    );
    assert!(!out.contains("collects no usage data"), "{out}");
    assert_eq!(decided.files(), ["work", "work/project"]);
}

/// `demo args` in `demo`'s sandbox, run by `script` (util-linux) so that it has a terminal;
/// `args` may end in a shell pipeline.
fn on_a_terminal(script: &str, demo: &Demo, args: &str) -> Command {
    let mut cmd = Command::new(script);
    demo.prepare(&mut cmd);
    cmd.args(["-qec", &format!("'{}' {args}", common::DEMO), "/dev/null"]);
    cmd
}

/// A server that runs on while the user turns telemetry off in another terminal stops
/// recording: what it would record after (its completion) is never queued, so turning
/// telemetry on again later sends nothing from the time it was off.
#[test]
fn a_running_server_stops_recording_when_telemetry_is_turned_off_elsewhere() {
    use std::time::Duration;

    if !can_record() {
        return;
    }
    let patience = Duration::from_secs(60);
    let server = common::server(telemetry_devserver::Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let mut serve = demo.command(&["serve"]).spawn_server();
    // startup, invocation and the server's start, delivered while it runs
    assert!(server.wait_for_events(3, patience));

    let off = demo.ok(&["telemetry", "off"]);
    assert!(off.contains("Telemetry is off"), "{off}");
    // the server looks again when it records, once it has run for the recheck interval
    std::thread::sleep(telemetry_core::limits::SHARED_STATE_RECHECK + Duration::from_millis(200));
    drop(serve.stdin.take());
    assert!(serve.wait().unwrap().success());
    let queued: Vec<String> = demo
        .queue()
        .iter()
        .map(|r| r["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !queued.iter().any(|e| e == "cli.command_completed"),
        "the server's completion was recorded after the opt-out: {queued:?}"
    );

    // on again, and a command that sends: nothing from the server's time off arrives
    demo.ok(&["telemetry", "on"]);
    common::expire_flush_interval(&demo);
    demo.ok(&["run", "assist"]);
    assert!(server.wait_for_events(3 + RUN_EVENTS.len(), patience));
    assert!(common::wait_until(patience, || demo.processes().is_empty()));
    let completed: Vec<String> = server
        .events()
        .iter()
        .filter(|e| e.event == "cli.command_completed")
        .map(|e| e.properties["command"].to_string())
        .collect();
    assert_eq!(completed, ["\"run\""], "only the run's completion");
}
