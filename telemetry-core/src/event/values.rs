//! Value types for the kinds that are not plain numbers or booleans.

use std::borrow::Cow;

/// What a bucketed property sends for every name the allowlist does not know.
pub const USER_DEFINED: &str = "user-defined";

/// The type name of an error, never its message: the value of an `error_class` property.
///
/// Messages carry paths, host names and user input; a type name is fixed when the program is
/// built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorClass(Cow<'static, str>);

impl ErrorClass {
    /// The class of `error`: its type's name without module path or generic parameters.
    ///
    /// For an `std::io::Error`, the name is followed by its kind (`Error(NotFound)`), a closed
    /// list chosen by the standard library.
    pub fn of<E: 'static>(error: &E) -> Self {
        let any: Option<&std::io::Error> = (error as &dyn std::any::Any).downcast_ref();
        if let Some(io) = any {
            return Self(Cow::Owned(format!("io::Error({:?})", io.kind())));
        }
        Self::of_type::<E>()
    }

    /// The class of errors of type `E`.
    pub fn of_type<E: ?Sized>() -> Self {
        Self(Cow::Borrowed(short_type_name(std::any::type_name::<E>())))
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `alloc::boxed::Box<dyn core::error::Error>` → `Box`; `my_cli::errors::ConfigError` →
/// `ConfigError`.
fn short_type_name(full: &'static str) -> &'static str {
    let full = full.strip_prefix("dyn ").unwrap_or(full);
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics
        .rsplit("::")
        .next()
        .unwrap_or(without_generics)
}

/// A module path inside the program (`my_cli::commands::run`): the value of a `code_location`
/// property. Made only by [`code_location!`](crate::code_location), from `module_path!()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeLocation(&'static str);

impl CodeLocation {
    /// `code_location!`'s constructor, reached through `__private`: a host that names it
    /// chooses its own text.
    pub(crate) const fn from_module_path(path: &'static str) -> Self {
        Self(path)
    }

    /// The module path as sent.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct ConfigError<T>(T);

    #[test]
    fn error_class_is_the_type_name_only() {
        assert_eq!(ErrorClass::of(&ConfigError(3)).as_str(), "ConfigError");
        assert_eq!(ErrorClass::of_type::<std::fmt::Error>().as_str(), "Error");
        let boxed: Box<dyn std::error::Error> = Box::new(std::fmt::Error);
        assert_eq!(ErrorClass::of(&boxed).as_str(), "Box");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "/home/me/secret");
        assert_eq!(ErrorClass::of(&io).as_str(), "io::Error(NotFound)");
    }

    #[test]
    fn code_location_is_the_module_path() {
        assert_eq!(
            crate::code_location!().as_str(),
            "telemetry_core::event::values::tests"
        );
    }
}
