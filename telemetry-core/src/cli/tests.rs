use std::path::Path;
use std::time::Duration;

use super::*;
use crate::{Environment, TelemetryConfig};

use crate::test_events::Ping;

#[cfg(feature = "clap")]
#[derive(clap::Parser)]
struct Host {
    #[command(subcommand)]
    command: HostCommand,
}

#[cfg(feature = "clap")]
#[derive(clap::Subcommand)]
enum HostCommand {
    Telemetry(TelemetryArgs),
}

fn start(home: &Path, env: &[(&str, &str)]) -> Telemetry {
    let mut environment: Environment = env.iter().copied().collect();
    environment.set("HOME", home.to_string_lossy());
    Telemetry::start_with(
        TelemetryConfig::builder(&crate::schema::DEMO)
            .project_key("phc_test")
            .environment(environment)
            .working_dir(home)
            .on_terminal(false)
            .build()
            .unwrap(),
        &mut std::io::sink(),
    )
}

struct Output {
    code: i32,
    out: String,
    err: String,
}

/// Runs `telemetry <argv>`, read without clap (the clap impls read every command line as it
/// does: `parse_from_reads_what_clap_reads`).
fn run(telemetry: &Telemetry, argv: &[&str]) -> Output {
    let args = TelemetryArgs::parse_from(argv).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(telemetry, &args, &mut out, &mut err);
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

#[cfg(feature = "clap")]
#[test]
fn mounts_in_a_host_parser() {
    use clap::Parser;
    let Host {
        command: HostCommand::Telemetry(args),
    } = Host::try_parse_from(["demo", "telemetry", "inspect", "-n", "3", "--json"]).unwrap();
    assert_eq!(
        args.command(),
        TelemetryCommand::Inspect {
            number: 3,
            json: true
        }
    );
    let Host {
        command: HostCommand::Telemetry(args),
    } = Host::try_parse_from(["demo", "telemetry"]).unwrap();
    assert_eq!(args.subcommand_name(), "status");
}

#[cfg(feature = "clap")]
#[test]
fn the_help_names_the_programs_own_switches() {
    let home = tempfile::tempdir().unwrap();
    let _telemetry = start(home.path(), &[]);
    let mut host = <Host as clap::CommandFactory>::command();
    let help = host
        .find_subcommand_mut("telemetry")
        .unwrap()
        .render_long_help()
        .to_string();
    assert!(help.contains("DEMO_TELEMETRY=0"), "{help}");
    assert!(help.contains(".demo-telemetry.toml"), "{help}");
    assert!(!help.contains('<'), "no placeholders: {help}");
}

/// `parse_from` reads every command line as the clap impls do: the same command, or an
/// error from both (help included).
#[cfg(feature = "clap")]
#[test]
fn parse_from_reads_what_clap_reads() {
    use clap::Parser;
    let lines: &[&[&str]] = &[
        &[],
        &["on"],
        &["off"],
        &["status"],
        &["status", "--json"],
        &["inspect"],
        &["inspect", "-n", "3"],
        &["inspect", "-n3"],
        &["inspect", "-n=3"],
        &["inspect", "--number", "7", "--json"],
        &["inspect", "--json", "--number=0"],
        &["inspect", "-n"],
        &["inspect", "-n", "x"],
        &["inspect", "-n", "-1"],
        &["inspect", "-n", "1", "-n", "2"],
        &["catalog", "--json"],
        &["catalog", "-n", "2"],
        &["clear"],
        &["clear", "--json"],
        &["policy", "extra"],
        &["status", "--json", "--json"],
        &["--json"],
        &["nope"],
        &["-h"],
        &["--help"],
        &["help"],
        &["help", "inspect"],
        &["help", "nope"],
        &["help", "inspect", "extra"],
        &["help", "--json"],
        &["help", "help"],
        &["--"],
        &["--", "status"],
        &["status", "--"],
        &["inspect", "--json", "--", "x"],
        &["inspect", "--help"],
        &["on", "-h"],
    ];
    for line in lines {
        let mut full = vec!["demo", "telemetry"];
        full.extend_from_slice(line);
        let clap = Host::try_parse_from(full).map(|host| {
            let HostCommand::Telemetry(args) = host.command;
            args
        });
        let ours = TelemetryArgs::parse_from(*line);
        match (&clap, &ours) {
            (Ok(clap), Ok(ours)) => assert_eq!(clap, ours, "{line:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{line:?}: clap {clap:?}, parse_from {ours:?}"),
        }
        let help = matches!(ours, Err(ArgsError::HelpRequested { .. }));
        let clap_help = clap.as_ref().is_err_and(|e| {
            matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            )
        });
        assert_eq!(help, clap_help, "{line:?}");
    }
}

/// The help a host without clap prints lists every subcommand and the program's own ways to
/// opt out, and each subcommand's its arguments.
#[test]
fn the_help_without_clap() {
    let home = tempfile::tempdir().unwrap();
    let _telemetry = start(home.path(), &[]);
    let help = TelemetryArgs::help(None);
    for (name, about, _) in SUBCOMMANDS {
        assert!(help.contains(&format!("  {name:<9}{about}\n")), "{help}");
    }
    assert!(help.contains("Usage: demo telemetry [COMMAND]"), "{help}");
    assert!(help.contains("DEMO_TELEMETRY=0"), "{help}");
    assert!(help.contains(".demo-telemetry.toml"), "{help}");
    let inspect = TelemetryArgs::help(Some("inspect"));
    assert!(
        inspect.starts_with("Show the last recorded events"),
        "{inspect}"
    );
    assert!(
        inspect.contains("Usage: demo telemetry inspect [-n NUMBER] [--json]"),
        "{inspect}"
    );
    assert!(inspect.contains("-n, --number <NUMBER>"), "{inspect}");
    let on = TelemetryArgs::help(Some("on"));
    assert!(on.contains("Usage: demo telemetry on\n"), "{on}");
    assert!(!on.contains("--json"), "{on}");
}

#[test]
fn status_of_a_fresh_install() {
    let home = tempfile::tempdir().unwrap();
    let telemetry = start(home.path(), &[]);
    let o = run(&telemetry, &["status"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(o.out.starts_with("Telemetry: DISABLED\n"), "{}", o.out);
    assert!(o.out.contains("Source: default (opt-in policy)"));
    assert!(o.out.contains("Anonymous ID: none"));
    assert!(o.out.contains("To enable: demo telemetry on"));
    assert!(o.out.contains("Full policy: https://example.com/policy"));
    assert!(!o.out.contains("phc_test"), "the key is never shown");
    // status creates nothing
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn on_then_record_then_inspect_and_clear() {
    let home = tempfile::tempdir().unwrap();
    let first = start(home.path(), &[]);
    let o = run(&first, &["on"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(o.out.contains("Telemetry is on"));
    assert_eq!(o.err, "");
    // every line starts at the margin (the source's indentation is not part of the text)
    assert!(o.out.lines().all(|l| !l.starts_with(' ')), "{}", o.out);
    assert!(o.out.contains("\nSee what is recorded: "), "{}", o.out);
    // this process stays as it started; the next one records
    assert!(!first.is_recording());
    let second = start(home.path(), &[]);
    assert!(second.is_recording());
    second.track(&Ping);
    second.track(&Ping);

    let o = run(&second, &["status"]);
    assert!(o.out.starts_with("Telemetry: ENABLED\n"), "{}", o.out);
    assert!(
        o.out
            .contains("Source: user config ~/.demo/telemetry.toml (enabled = true)")
    );
    assert!(
        o.out
            .contains("Queue: 2 waiting to be sent, 0 sent recently")
    );
    assert!(o.out.contains("Last event: test.ping (just now)"));

    let o = run(&second, &["inspect", "--json"]);
    assert_eq!(o.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&o.out).unwrap();
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["state"], "queued");
    assert_eq!(events[0]["record"]["event"], "test.ping");
    assert_eq!(events[0]["record"]["properties"]["duration_ms"], 5);
    // the record inside is byte for byte the queued JSON
    let queued = second.queue().unwrap().read_all().unwrap().records;
    assert!(o.out.contains(&queued[0].json));

    let o = run(&second, &["inspect", "-n", "1"]);
    assert!(o.out.contains("The last 1 of 2 recorded events"));
    assert!(o.out.contains("\"event\": \"test.ping\""));

    // a sent record shows as sent
    let queue = second.queue().unwrap();
    let mut batch = queue.read_batch(1, usize::MAX).unwrap();
    assert_eq!(batch.records[0].uuid, queued[0].uuid);
    queue
        .settle(&mut batch, &[crate::queue::Settled::Sent])
        .unwrap();
    let o = run(&second, &["inspect", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&o.out).unwrap();
    assert_eq!(doc["events"][0]["state"], "sent");
    assert_eq!(doc["events"][1]["state"], "queued");

    let old_id = second
        .identity_store()
        .unwrap()
        .read()
        .unwrap()
        .unwrap()
        .anon_id;
    let o = run(&second, &["clear"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(
        o.out
            .contains(&format!("Deleted the anonymous ID {old_id}"))
    );
    assert!(o.out.contains("Deleted 2 recorded event(s)"));
    assert!(!second.is_recording());
    second.track(&Ping);
    assert!(second.identity_store().unwrap().read().unwrap().is_none());

    let third = start(home.path(), &[]);
    third.track(&Ping);
    let new_id = third
        .identity_store()
        .unwrap()
        .read()
        .unwrap()
        .unwrap()
        .anon_id;
    assert_ne!(new_id, old_id);
}

#[test]
fn on_warns_when_overridden_and_off_keeps_the_id() {
    let home = tempfile::tempdir().unwrap();
    let telemetry = start(home.path(), &[("DO_NOT_TRACK", "1")]);
    let o = run(&telemetry, &["on"]);
    assert_eq!(o.code, 0);
    assert!(
        o.err.contains("DO_NOT_TRACK=1 takes precedence"),
        "{}",
        o.err
    );
    // stdout does not promise what stderr takes back
    assert!(!o.out.contains("recorded and sent"), "{}", o.out);
    assert!(
        o.out.contains("\nNothing is recorded or sent for now"),
        "{}",
        o.out
    );
    assert!(o.out.lines().all(|l| !l.starts_with(' ')), "{}", o.out);
    let o = run(&telemetry, &["status"]);
    assert!(o.out.contains("Source: DO_NOT_TRACK=1"));
    assert!(o.out.contains("To enable: unset DO_NOT_TRACK"));

    let on = start(home.path(), &[]);
    on.track(&Ping);
    let o = run(&on, &["off"]);
    assert_eq!(o.code, 0);
    assert!(o.out.contains("Telemetry is off"));
    assert!(o.out.contains("telemetry clear"));
    assert!(!on.is_recording());
    assert!(on.identity_store().unwrap().read().unwrap().is_some());
}

#[test]
fn problems_are_reported_with_a_fix() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".demo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("telemetry.toml"), "enabled = [").unwrap();
    std::fs::write(dir.join("telemetry-id.json"), "{").unwrap();
    let telemetry = start(home.path(), &[]);
    let o = run(&telemetry, &["status"]);
    assert_eq!(o.code, 1);
    assert!(o.out.starts_with("Telemetry: DISABLED"));
    assert!(o.err.contains("error:"), "{}", o.err);
    assert!(o.err.contains("telemetry.toml is damaged"), "{}", o.err);
    assert!(o.err.contains("telemetry-id.json is damaged"), "{}", o.err);
    assert!(o.err.contains("fix: run `demo telemetry on`"), "{}", o.err);
    // `on` repairs the config
    assert_eq!(run(&telemetry, &["on"]).code, 0);
    let o = run(&start(home.path(), &[]), &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&o.out).unwrap();
    assert_eq!(doc["enabled"], true);
    assert_eq!(doc["problems"].as_array().unwrap().len(), 1);
    // for scripts: the directory itself, not `~/.demo`
    assert_eq!(doc["state_dir"], dir.to_string_lossy().as_ref());
}

#[test]
fn a_crashed_sender_is_a_problem_until_a_sender_reports_again() {
    use crate::delivery::backoff::SenderState;
    use crate::delivery::outcome::{Failure, FailureClass};
    use crate::paths::{StateDir, StateDirSource};

    let home = tempfile::tempdir().unwrap();
    let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")]);
    telemetry.track(&Ping);
    assert_eq!(run(&telemetry, &["status"]).code, 0);

    let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Home);
    let crashed = Failure {
        class: FailureClass::Crashed,
        status: None,
    };
    SenderState::record_failure(&dir, &crashed, chrono::Utc::now()).unwrap();
    let o = run(&telemetry, &["status"]);
    assert_eq!(o.code, 1, "{}", o.out);
    assert!(
        o.err
            .contains("the last telemetry sender crashed before it finished"),
        "{}",
        o.err
    );
    assert!(
        o.out
            .contains("Last failure: the sender crashed before it finished"),
        "{}",
        o.out
    );
    let doc: serde_json::Value =
        serde_json::from_str(&run(&telemetry, &["status", "--json"]).out).unwrap();
    assert_eq!(doc["delivery"]["last_failure"]["class"], "crashed", "{doc}");

    // another failure, from the server this time: no longer the crash
    let network = Failure {
        class: FailureClass::Network,
        status: None,
    };
    SenderState::record_failure(&dir, &network, chrono::Utc::now()).unwrap();
    assert_eq!(run(&telemetry, &["status"]).code, 0);
    // nor after a crash that a success followed
    SenderState::record_failure(&dir, &crashed, chrono::Utc::now()).unwrap();
    SenderState::record_success(&dir, chrono::Utc::now()).unwrap();
    assert_eq!(run(&telemetry, &["status"]).code, 0);
}

#[test]
fn an_interrupted_sender_is_a_problem_only_after_another_failure() {
    use crate::delivery::backoff::SenderState;
    use crate::delivery::outcome::{Failure, FailureClass};
    use crate::paths::{StateDir, StateDirSource};

    let home = tempfile::tempdir().unwrap();
    let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")]);
    telemetry.track(&Ping);
    let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Home);
    let interrupted = Failure {
        class: FailureClass::Interrupted,
        status: None,
    };
    let status_json = || -> serde_json::Value {
        serde_json::from_str(&run(&telemetry, &["status", "--json"]).out).unwrap()
    };

    // one alone (a shutdown, a `kill`): shown, no problem, no back-off
    SenderState::record_failure(&dir, &interrupted, chrono::Utc::now()).unwrap();
    let o = run(&telemetry, &["status"]);
    assert_eq!(o.code, 0, "{}{}", o.out, o.err);
    assert!(
        o.out.contains(
            "Last failure: the sender was stopped before it finished (killed, aborted or past its deadline)"
        ),
        "{}",
        o.out
    );
    let doc = status_json();
    assert_eq!(
        doc["delivery"]["last_failure"]["class"], "interrupted",
        "{doc}"
    );
    assert_eq!(doc["delivery"]["backing_off"], false, "{doc}");

    // a second in a row: a problem, and a back-off
    SenderState::record_failure(&dir, &interrupted, chrono::Utc::now()).unwrap();
    let o = run(&telemetry, &["status"]);
    assert_eq!(o.code, 1, "{}", o.out);
    assert!(
        o.err
            .contains("the last telemetry sender was stopped before it finished"),
        "{}",
        o.err
    );
    assert_eq!(status_json()["delivery"]["backing_off"], true);

    // a server's answer ends it
    SenderState::record_success(&dir, chrono::Utc::now()).unwrap();
    assert_eq!(run(&telemetry, &["status"]).code, 0);
    // after a failure from the server, an interruption is one too
    let network = Failure {
        class: FailureClass::Network,
        status: None,
    };
    SenderState::record_failure(&dir, &network, chrono::Utc::now()).unwrap();
    SenderState::record_failure(&dir, &interrupted, chrono::Utc::now()).unwrap();
    assert_eq!(run(&telemetry, &["status"]).code, 1);
}

#[test]
fn catalog_lists_common_properties() {
    let home = tempfile::tempdir().unwrap();
    let o = run(&start(home.path(), &[]), &["catalog"]);
    assert_eq!(o.code, 0);
    for p in crate::COMMON_PROPERTIES {
        assert!(o.out.contains(p.name));
    }
    assert!(o.out.contains("$process_person_profile"));
    let o = run(&start(home.path(), &[]), &["catalog", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&o.out).unwrap();
    assert_eq!(doc["common_properties"].as_array().unwrap().len(), 6);
}

#[test]
fn policy_points_to_the_docs() {
    let home = tempfile::tempdir().unwrap();
    let o = run(&start(home.path(), &[]), &["policy"]);
    assert!(o.out.contains("https://example.com/policy"));
    // An end user has the program, not its repository: the local list is `catalog`.
    assert!(o.out.contains("`demo telemetry catalog`"), "{}", o.out);
    assert!(!o.out.contains("docs/telemetry.md"), "{}", o.out);
    assert!(
        o.out.contains(
            "It is opt-in: nothing is recorded until you turn it on (demo telemetry on)."
        ),
        "{}",
        o.out
    );
}

#[test]
fn inspect_in_a_keyless_build_names_the_missing_key_not_the_consent() {
    let home = tempfile::tempdir().unwrap();
    let mut environment: Environment = [("DEMO_TELEMETRY", "1")].into_iter().collect();
    environment.set("HOME", home.path().to_string_lossy());
    let telemetry = Telemetry::start_with(
        TelemetryConfig::builder(&crate::schema::DEMO)
            .environment(environment)
            .working_dir(home.path())
            .on_terminal(false)
            .build()
            .unwrap(),
        &mut std::io::sink(),
    );
    let o = run(&telemetry, &["inspect"]);
    assert_eq!(o.code, 0, "{}", o.err);
    assert!(
        o.out
            .contains("Telemetry is off (this build has no PostHog key)"),
        "{}",
        o.out
    );
}

/// Under opt-out, `status` and `clear` on the run that shows the first-run notice (or on runs
/// that cannot show it) say when recording starts and how to keep it off, not "To enable";
/// `policy` says the program is opt-out.
#[test]
fn status_under_opt_out_says_when_recording_starts() {
    let home = tempfile::tempdir().unwrap();
    let config = |on_a_terminal: bool| {
        let mut environment = Environment::default();
        environment.set("HOME", home.path().to_string_lossy());
        TelemetryConfig::builder(&crate::schema::DEMO_OPT_OUT)
            .project_key("phc_test")
            .environment(environment)
            .working_dir(home.path())
            .on_terminal(on_a_terminal)
            .build()
            .unwrap()
    };
    let opt_out =
        |on_a_terminal: bool| Telemetry::start_with(config(on_a_terminal), &mut std::io::sink());
    let status = |telemetry: &Telemetry| run(telemetry, &["status"]).out;

    let piped = status(&opt_out(false));
    assert!(piped.contains("Telemetry: DISABLED"), "{piped}");
    assert!(
        piped.contains("Recording starts once the first-run notice has been shown on a terminal. To keep it off: demo telemetry off"),
        "{piped}"
    );
    assert!(!piped.contains("To enable"), "{piped}");
    let cleared = run(&opt_out(false), &["clear"]).out;
    assert!(
        cleared.contains("Telemetry is off for now. Recording starts once the first-run notice has been shown on a terminal; a new anonymous ID is created then. To keep it off: demo telemetry off"),
        "{cleared}"
    );
    let policy = run(&opt_out(false), &["policy"]).out;
    assert!(
        policy.contains("It is opt-out: recording starts on the run after the first-run notice, unless you turn it off (demo telemetry off)."),
        "{policy}"
    );

    // a run started with the one that shows the notice (its configuration built first)
    let sibling = config(false);
    let noticed = opt_out(true);
    assert!(noticed.notice_shown());
    let sibling = status(&Telemetry::start_with(sibling, &mut std::io::sink()));
    assert!(
        sibling
            .contains("Recording starts with the next run (the first-run notice was just shown)"),
        "{sibling}"
    );
    let first = status(&noticed);
    assert!(
        first.contains("Recording starts with the next run (the first-run notice was just shown). To keep it off: demo telemetry off"),
        "{first}"
    );
    assert!(!first.contains("To enable"), "{first}");

    // the next run, once the user has had the time to read the notice
    let marker = home.path().join(".demo/telemetry-notice-shown");
    crate::fsutil::written_ago(&marker, Duration::from_secs(10));
    let next = status(&opt_out(true));
    assert!(next.contains("Telemetry: ENABLED"), "{next}");
    assert!(next.contains("To disable: demo telemetry off"), "{next}");
}

/// Telemetry on, a key, but no home directory: `status` says what blocks recording, not how to
/// turn on what is already on, and `on` does not suggest a variable that cannot help.
#[test]
fn without_a_home_status_and_on_name_the_missing_directory() {
    let home = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::start_with(
        TelemetryConfig::builder(&crate::schema::DEMO)
            .project_key("phc_test")
            .environment([("DEMO_TELEMETRY", "1")].into_iter().collect())
            .working_dir(home.path())
            .on_terminal(false)
            .build()
            .unwrap(),
        &mut std::io::sink(),
    );
    let status = run(&telemetry, &["status"]);
    assert!(
        status.out.starts_with(
            "Telemetry: DISABLED (telemetry is on, but nothing can be recorded: see the problem below)\n"
        ),
        "{}",
        status.out
    );
    assert!(
        status.out.contains("To record: fix the problem below"),
        "{}",
        status.out
    );
    assert!(!status.out.contains("To enable"), "{}", status.out);
    assert!(
        status.err.contains("there is no home directory"),
        "{}",
        status.err
    );

    let on = run(&telemetry, &["on"]);
    assert!(
        on.err
            .contains("fix: set HOME, or DEMO_TELEMETRY_DIR to a directory telemetry may use"),
        "{}",
        on.err
    );
    assert!(!on.err.contains("DEMO_TELEMETRY=1"), "{}", on.err);
}
