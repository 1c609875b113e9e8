//! Telemetry a command-line tool's users can trust.
//!
//! A program declares its events as structs with [`telemetry_event`], checked at compile time
//! against its privacy-reviewed `allowlist.toml`, and lists them once with
//! [`telemetry_schema!`]. This crate holds what that generated code builds on (the event model,
//! light, always compiled) and, behind the default `runtime` feature, the runtime that resolves
//! consent, keeps the anonymous identity, records events and delivers them to PostHog.
//!
//! ```no_run
//! # mod schema {
//! # use telemetry_core::{telemetry_event, telemetry_schema};
//! # /// Sent when the program starts.
//! # #[telemetry_event(name = "binary.startup")]
//! # pub struct BinaryStartup {}
//! # telemetry_schema! {
//! #     /// Every event.
//! #     pub static SCHEMA = [BinaryStartup];
//! # }
//! # }
//! # use schema::{BinaryStartup, SCHEMA};
//! use telemetry_core::TelemetryConfig;
//!
//! // First thing in `main`: see "Start telemetry first thing in `main`" on `Telemetry`.
//! let telemetry = TelemetryConfig::builder(&SCHEMA)
//!     .version(env!("CARGO_PKG_VERSION"))
//!     .project_key(option_env!("DEMO_POSTHOG_KEY").unwrap_or(""))
//!     .start();
//! telemetry.track(&BinaryStartup {});
//! ```
//!
//! The README's "Adding telemetry to your own tool" is the whole recipe: dependencies, the
//! allowlist, events, the schema, `main`, the `telemetry` subcommand and `gen-docs`.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `runtime` | yes | [`Telemetry`], [`TelemetryConfig`], the `telemetry` subcommand ([`cli`]) and delivery through posthog-rs |
//! | `diagnostics` | yes | the runtime's own [`tracing`] events (see [Diagnostics](#diagnostics)); without it they are compiled out, about 40 KB less in a host |
//! | `docs` | no | [`docs`]: the generated `docs/telemetry.md` and the `gen-docs` command |
//! | `testing` | no | [`testing`]: run your built tool in its own tests, in a home of its own with telemetry on (for dev-dependencies; turns on `runtime`) |
//!
//! A crate that only declares events depends on this crate with `default-features = false`
//! (adding `docs` for its `gen-docs`): it then compiles no network stack and no C code.
//!
//! # Diagnostics
//!
//! The library never prints on the host's behalf (but the first-run notice and debug mode, both
//! on stderr, and the `telemetry` subcommand's own output). What goes wrong (a damaged state
//! file, a refused configuration, a failed delivery) is reported through [`tracing`] events
//! whose targets start with `telemetry_core` (`telemetry_core::handle`,
//! `telemetry_core::delivery::sender`, ...). A host that wants to see them installs a
//! subscriber; with `tracing-subscriber` and its `env-filter` feature:
//!
//! ```ignore
//! tracing_subscriber::fmt()
//!     .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
//!     .with_writer(std::io::stderr)
//!     .init();
//! // then: RUST_LOG=telemetry_core=debug my-tool ...
//! ```
//!
//! A host that never installs a subscriber, or wants the smallest binary, can compile these
//! events out: `default-features = false, features = ["runtime", "clap"]` leaves out the
//! default `diagnostics` feature (`"clap"` for a host that mounts the `telemetry` subcommand in
//! a clap parser). Nothing else changes (`telemetry status` reports the same problems).
//! (With `lto = true` in the host's profile the saving is close to nothing: LTO already removes
//! every crate's call sites from a binary that installs no subscriber.)
//!
//! The detached sender is a process of its own with null stdio: its diagnostics go nowhere
//! unless the host's subscriber writes to a file. `telemetry status` reports what a user needs
//! (the last failure, what is queued, problems with a `fix:`).
//!
//! # What the types guarantee
//!
//! The only way to put a property into a record is a field of a struct declared with
//! [`telemetry_event`], named after a property of the allowlist and typed to fit that
//! property's kind. Without naming `telemetry_core::__private` (hidden, and not API), a host
//! **cannot**:
//!
//! - implement [`Event`], [`Listed`], [`kinds::PropertyValue`] or any [kind trait](kinds) for a
//!   type of its own: they are sealed, so no `String` newtype can be a property value;
//! - build a [`telemetry_bucket`] value from text other than through its `sanitize`, which keeps
//!   only the allowlist's names (its inner value is private to a module of its own, and derives
//!   that build values from outside data are refused);
//! - build a [`CodeLocation`] from anything but [`code_location!`]'s `module_path!()`;
//! - write a property by name, or append a record of its own making to the queue: the writer
//!   has no public constructor, and the queue and records are not public.
//!
//! None of these compile:
//!
//! ```compile_fail
//! // a free-text newtype as a property value
//! struct Path(String);
//! impl telemetry_core::kinds::PropertyValue for Path {
//!     fn write_json(&self, out: &mut String) { out.push_str(&self.0) }
//! }
//! ```
//!
//! ```compile_fail
//! // the records, the queue, and the handle's queue
//! use telemetry_core::record::Record;
//! ```
//!
//! ```compile_fail
//! use telemetry_core::queue::Queue;
//! ```
//!
//! ```compile_fail
//! fn append(telemetry: &telemetry_core::Telemetry) {
//!     let _ = telemetry.queue();
//! }
//! ```
//!
//! ```compile_fail
//! // a code location of the host's choosing
//! let _ = telemetry_core::CodeLocation::__from_module_path("/home/alice/secret-repo");
//! ```
//!
//! An [`ErrorClass`] is a type name (fixed at build time), never a message. What reaches a
//! record at run time is therefore a number, a boolean, a duration, one of an allowlisted
//! closed list of names, a type name or a module path.
//!
//! # Layers
//!
//! Modules import only from layers below their own (`tests/layers.rs` checks it):
//!
//! | layer | modules | job |
//! | --- | --- | --- |
//! | 1 | `event` | the event model: [`Event`], the sealed [kinds], values, the property writer |
//! | 1 | `diagnostics` | the runtime's own `tracing` events, compiled out without the `diagnostics` feature |
//! | 2 | `schema`, [`limits`] | the program's [`Schema`]; the constants delivery works within |
//! | 3 | `__private`, [`docs`] (feature `docs`) | what the macros' code names; the generated page |
//! | 3 | `fsutil`, `environment` | locked, atomic, link-refusing file access; the environment snapshot and CI detection |
//! | 4 | `config` | what the host says about itself |
//! | 5 | `paths`, `record` | the state directory and its files; the finished JSON record and the common properties' values |
//! | 6 | `queue` | the durable, bounded queue and the recently-sent log |
//! | 7 | `identity` | the anonymous id, aliasing on login, rotation on logout |
//! | 8 | `consent` | on or off, and which source decided |
//! | 9 | `notice`, `debug` | the first-run notice; debug mode |
//! | 10 | `delivery` | the detached sender, background delivery, outcomes, back-off |
//! | 11 | `handle` | the [`Telemetry`] handle and the command timer |
//! | 11 | `testing` (feature `testing`) | a home to run the built program in from its own tests |
//! | 12 | [`cli`] | the `telemetry` subcommand |
//! | 13 | `bench_support` | `__private::bench`, what the micro-benchmarks time (not API) |

// One module closes descriptors by number, which no safe API does
// (`delivery/inherited.rs`, with `#![allow(unsafe_code)]`); everything else is safe code.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod event;
pub mod limits;
mod schema;

#[cfg(feature = "docs")]
pub mod docs;

#[cfg(feature = "runtime")]
pub mod cli;
#[cfg(feature = "runtime")]
mod config;
#[cfg(feature = "runtime")]
mod consent;
#[cfg(feature = "runtime")]
mod debug;
#[cfg(feature = "runtime")]
mod delivery;
#[cfg(feature = "runtime")]
mod diagnostics;
#[cfg(feature = "runtime")]
mod environment;
#[cfg(feature = "runtime")]
mod fsutil;
#[cfg(feature = "runtime")]
mod handle;
#[cfg(feature = "runtime")]
mod identity;
#[cfg(feature = "runtime")]
mod notice;
#[cfg(feature = "runtime")]
mod paths;
#[cfg(feature = "runtime")]
mod queue;
#[cfg(feature = "runtime")]
mod record;
#[cfg(all(test, feature = "runtime"))]
mod test_events;
#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
pub mod __private;

// The macros' code names `::telemetry_core`; the property tests declare a bucket and an event.
#[cfg(test)]
extern crate self as telemetry_core;
#[cfg(test)]
mod prop_tests;

pub use event::common::COMMON_PROPERTIES;
pub use event::kinds;
pub use event::meta::{EventMeta, PropertyKind, PropertyMeta, Sensitivity};
pub use event::values::{CodeLocation, ErrorClass, USER_DEFINED};
pub use event::{Event, Listed, properties_json};
pub use schema::{AllowlistSource, ConsentPolicy, Product, Schema};
/// Declares a telemetry event, checked against the allowlist when the crate compiles.
///
/// `#[telemetry_event(name = "area.what_happened")]` on a struct with named fields: its doc
/// comment says when the event is sent; each field is named after an allowlisted property and
/// typed to fit that property's kind (an `Option` field is left out when `None`).
///
/// ```
/// use std::time::Duration;
/// use telemetry_core::{ErrorClass, properties_json, telemetry_event};
///
/// /// Sent when a command finishes, successfully or not.
/// #[telemetry_event(name = "cli.command_completed")]
/// pub struct CommandCompleted {
///     /// The exit code it finished with.
///     pub exit_code: i32,
///     /// How long it ran.
///     pub duration_ms: Duration,
///     /// The class of the error it failed with, if it failed.
///     pub error_class: Option<ErrorClass>,
/// }
///
/// let done = CommandCompleted {
///     exit_code: 0,
///     duration_ms: Duration::from_micros(1_500_300),
///     error_class: None,
/// };
/// assert_eq!(properties_json(&done), r#""exit_code":0,"duration_ms":1500"#);
/// ```
///
/// A field the allowlist does not list, or a type that could carry free text, does not compile:
///
/// ```compile_fail
/// /// Sent when a command finishes.
/// #[telemetry_core::telemetry_event(name = "cli.command_completed")]
/// pub struct CommandCompleted {
///     /// Where it ran.
///     pub cwd: String,
/// }
/// ```
///
/// The allowlist is found at `allowlist = "path"` (relative to the source file), else
/// `allowlist.toml` beside the crate's `Cargo.toml`, else the file the `TELEMETRY_ALLOWLIST`
/// environment variable names (for the crates of a workspace that share one allowlist and have
/// none of their own: cargo's `[env]` reaches dependencies too, and one that ships its own
/// allowlist is checked against it). Record the event with [`Telemetry::track`] once it is listed in
/// [`telemetry_schema!`], whose allowlist must be the same file (the same text): the page
/// documents the schema's allowlist, so a schema that lists an event checked against another
/// fails to compile.
///
/// The generated code names this crate `::telemetry_core`. A crate that reaches it through
/// another crate's re-export (a company's shared crate) says where with `crate = "path"`, as
/// serde's `#[serde(crate = "...")]`: `#[telemetry_event(name = "...", crate =
/// "kit::telemetry_core")]`. `#[telemetry_enum]`, `#[telemetry_bucket]` and
/// [`telemetry_schema!`] (a line `crate = "path";`) take the same argument.
pub use telemetry_macros::telemetry_event;

/// Declares the values of an `enum` property: a fieldless enum whose variants, in snake_case,
/// are exactly the values the allowlist lists for the property.
///
/// ```
/// use telemetry_core::telemetry_enum;
///
/// /// An AI provider.
/// #[telemetry_enum(property = "provider")]
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum Provider {
///     /// Anthropic's Claude.
///     Claude,
///     /// OpenAI's Codex.
///     Codex,
///     /// A model on the user's machine.
///     Local,
/// }
///
/// assert_eq!(Provider::Local.as_str(), "local");
/// assert_eq!(Provider::ALL.len(), 3);
/// ```
pub use telemetry_macros::telemetry_enum;

/// Declares a bucketed name: a unit struct that becomes a name the allowlist knows, sent as
/// itself, or `user-defined`. [`sanitize`](#example) is the only way to make one.
///
/// # Example
///
/// ```
/// use telemetry_core::telemetry_bucket;
///
/// /// A workflow: bundled ones by name, the user's own as `user-defined`.
/// #[telemetry_bucket(property = "workflow_name")]
/// pub struct WorkflowName;
///
/// assert_eq!(WorkflowName::sanitize("assist").as_str(), "assist");
/// assert_eq!(WorkflowName::sanitize("acme-deploy-to-prod").as_str(), "user-defined");
/// assert_eq!(WorkflowName::sanitize("/home/me/flow.yaml"), WorkflowName::USER_DEFINED);
/// ```
///
/// It derives `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq` and `Hash`, and takes `PartialOrd`,
/// `Ord` and `Serialize` besides; each is applied by its full path (`::core::cmp::Ord`,
/// serde's `::serde::Serialize`), so a derive imported under one of those names
/// (`use serde::Deserialize as Serialize;`) cannot build a value. Any other derive, and any
/// attribute that could expand to code, is a compile error.
pub use telemetry_macros::telemetry_bucket;

/// Declares the program's telemetry [`Schema`]: the `[product]` of its allowlist and every
/// event it can send, listed once.
///
/// ```
/// use telemetry_core::{telemetry_event, telemetry_schema};
///
/// /// Sent when the program starts.
/// #[telemetry_event(name = "binary.startup")]
/// pub struct BinaryStartup {}
///
/// telemetry_schema! {
///     /// Every event the program can send.
///     pub static SCHEMA = [BinaryStartup];
/// }
///
/// assert_eq!(SCHEMA.product().name(), "demo");
/// assert_eq!(SCHEMA.events()[0].name, "binary.startup");
/// ```
///
/// The runtime takes it ([`TelemetryConfig::builder`]), and so does `gen-docs`
/// ([`docs::main`]). Optional first lines `allowlist = "path";` and `crate = "path";` name the
/// allowlist and the path to this crate as the event attribute's arguments do. Listing is explicit, so an event of another crate linked
/// into the same binary never appears in this program's page or catalog, and the linker cannot
/// drop one. Only the crate that declares an event can list it. Recording an event that no
/// schema lists does not compile (and one listed only by another crate's schema is not
/// recorded: [`Telemetry::track`]):
///
/// ```compile_fail
/// # use telemetry_core::{Telemetry, telemetry_event};
/// /// Sent when the program starts.
/// #[telemetry_event(name = "binary.startup")]
/// pub struct BinaryStartup {}
///
/// Telemetry::disabled().track(&BinaryStartup {}); // not in any `telemetry_schema!`
/// ```
pub use telemetry_macros::telemetry_schema;

#[cfg(feature = "runtime")]
pub use config::{BuildKind, ConfigError, PostHogHost, TelemetryConfig, TelemetryConfigBuilder};
#[cfg(feature = "runtime")]
pub use environment::Environment;
#[cfg(feature = "runtime")]
pub use handle::{CommandOutcome, CommandTimer, Mode, Telemetry};
#[cfg(feature = "runtime")]
pub use identity::{MAX_PRINCIPAL_LEN, PrincipalError, PrincipalId};

/// Names the place in the program where it is used, as a module path (never a file path):
/// the value of a `code_location` property.
///
/// ```
/// let here = telemetry_core::code_location!();
/// assert_eq!(here.as_str(), module_path!());
/// ```
#[macro_export]
macro_rules! code_location {
    () => {
        $crate::__private::code_location(::core::module_path!())
    };
}
