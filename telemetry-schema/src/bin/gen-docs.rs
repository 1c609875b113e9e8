//! `cargo run --bin gen-docs [-- --check]`: writes (or checks) `docs/telemetry.md` from the
//! product's telemetry schema.

fn main() -> std::process::ExitCode {
    telemetry_core::docs::main(&telemetry_schema::SCHEMA)
}
