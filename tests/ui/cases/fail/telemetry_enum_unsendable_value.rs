use telemetry_core::telemetry_enum;

/// How many files a sync touched.
#[telemetry_enum(
    property = "file_count",
    allowlist = "allowlists/unsendable_enum_value.toml"
)]
pub enum FileCount {
    Zero,
    OneToNine,
    TenTo99,
}

fn main() {}
