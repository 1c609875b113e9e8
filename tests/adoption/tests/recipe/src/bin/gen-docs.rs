fn main() -> std::process::ExitCode {
    telemetry_core::docs::main(&weather::SCHEMA)
}
