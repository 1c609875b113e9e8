//! The crate root cannot build a bucket declared in one of its modules from text.

mod values {
    use telemetry_core::telemetry_bucket;

    /// A top-level command of the program.
    #[telemetry_bucket(property = "command")]
    pub struct CommandName;
}

fn main() {
    let leaked: &'static str = Box::leak(String::from("/home/me/secret").into_boxed_str());
    let _ = values::CommandName(leaked);
}
