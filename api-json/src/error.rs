//! Errors: every one names the file, the place in it and what is wrong.

use std::fmt;
use std::path::PathBuf;

/// Where in a file an error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (I/O, missing import, a conflict between files).
    File,
    /// A JSON path such as `$.messages[3][2]` (JSON input).
    JsonPath(String),
    /// 1-based line and column (IDL input, or JSON syntax errors).
    LineCol { line: u32, column: u32 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::JsonPath(p) => write!(f, "{p}"),
            Location::LineCol { line, column } => write!(f, "{line}:{column}"),
        }
    }
}

/// An error in API definitions. `Display` renders `file:place: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
}

impl Error {
    pub fn new(file: impl Into<PathBuf>, location: Location, message: impl Into<String>) -> Self {
        Error {
            file: file.into(),
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file.display(), self.message),
            loc => write!(f, "{}:{}: {}", self.file.display(), loc, self.message),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
