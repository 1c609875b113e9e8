//! `docs/telemetry.md`, generated from the compiled catalog and the allowlist.
//!
//! The page is the trust artifact of the feature: it lists every event and every property the
//! program can send, exactly as the compiler checked them, so it cannot drift from the code.

mod command;
mod guard;
mod render;
mod tables;

pub use command::{GenDocsError, Options, Outcome, run};
pub use guard::KindChange;
pub use render::Product;

/// The product these docs describe: the example host CLI of this workspace.
pub const PRODUCT: Product = Product {
    display_name: "demo",
    binary: "demo",
    env_prefix: "DEMO",
    state_dir: "~/.demo",
    project_file: ".demo-telemetry.toml",
    docs_path: "docs/telemetry.md",
    contact: "privacy@example.com",
    host: "https://eu.i.posthog.com (PostHog Cloud, EU region)",
    retention: "1 year",
};
