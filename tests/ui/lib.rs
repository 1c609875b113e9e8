//! trybuild cases live in `cases/`; the harness is `tests/ui.rs`.
