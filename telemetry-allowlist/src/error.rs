//! Errors that point at a place in the allowlist file.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in the allowlist, at a line and column of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistError {
    /// The allowlist file.
    pub path: PathBuf,
    /// 1-based line, or 0 when the problem concerns the whole file (it could not be read).
    pub line: usize,
    /// 1-based column, or 0 with `line` 0.
    pub column: usize,
    /// What is wrong and what to do instead.
    pub message: String,
}

impl AllowlistError {
    /// A problem at a byte offset of `source`.
    pub(crate) fn at(path: &Path, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_and_column(source, offset);
        Self {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A problem with the file as a whole.
    pub(crate) fn whole_file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for AllowlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for AllowlistError {}

/// Every problem found in one allowlist file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistErrors(pub Vec<AllowlistError>);

impl fmt::Display for AllowlistErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AllowlistErrors {}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(line_and_column(text, 9), (2, 4));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }
}
