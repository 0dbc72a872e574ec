//! The errors of reading and writing the formats. Every malformed input is
//! one of these, never a panic.

use std::path::PathBuf;

/// A format could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes that are not a well-formed `what` (a section, a note, a table).
    #[error("corrupt {what}: {why}")]
    Corrupt { what: &'static str, why: String },
    /// The bytes end before `what` does.
    #[error("{what} truncated at byte {at} of {len}")]
    Truncated {
        what: &'static str,
        at: usize,
        len: usize,
    },
    /// Not this format at all (wrong magic).
    #[error("not a {what} (bad magic)")]
    NotThisFormat { what: &'static str },
    /// Written by another version of the tools.
    #[error("{what} version {found}, this migrate reads version {supported}: {remedy}")]
    Version {
        what: &'static str,
        found: u32,
        supported: u32,
        remedy: &'static str,
    },
    /// A checkpoint image that cannot be used, and why.
    #[error("{}: {why}", path.display())]
    Image { path: PathBuf, why: String },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn corrupt(what: &'static str, why: impl Into<String>) -> Error {
        Error::Corrupt {
            what,
            why: why.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
