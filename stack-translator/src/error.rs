//! The errors of reading an executable: each says what was being read (the
//! file, the section, the instruction) and keeps what went wrong beneath
//! as its [`source`](std::error::Error::source), so that `{:#}` on an
//! `anyhow::Error` made from one prints the whole chain.

use migrate_format::Arch;
use std::path::{Path, PathBuf};

/// An executable, or a part of one, that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not an ELF file, or a part of it does not parse: `what`
    /// says which (`not an ELF file`, `unreadable records`).
    #[error("{}: {what}", path.display())]
    Elf {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: object::Error,
    },
    /// A section `migrate cc` adds is missing: the file was built otherwise.
    #[error("{}: no {section} section: not built by `migrate cc`", path.display())]
    NotBuiltByMigrate {
        path: PathBuf,
        section: &'static str,
    },
    /// A section in one of the formats of `migrate_format` (`what`: the
    /// call-site table, the certificates, ...) does not decode.
    #[error("{}: {what}", path.display())]
    Format {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: migrate_format::Error,
    },
    /// The records (the `.llvm_stackmaps` section) do not parse.
    #[error("{}: records", path.display())]
    StackMaps {
        path: PathBuf,
        #[source]
        source: StackMapError,
    },
    /// The layout manifest is not the JSON the aligner writes.
    #[error("{}: corrupt layout manifest", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The frame table cannot be built: the executable's CFI is missing
    /// or does not read (`what` says which).
    #[error("frame table: {what}")]
    FrameTable {
        what: &'static str,
        #[source]
        source: Option<object::Error>,
    },
    /// Machine code that does not decode, with the decoder's reason when it
    /// gives one.
    #[error("undecodable {isa} instruction at {address:#x}{}", because(.reason))]
    Undecodable {
        isa: Arch,
        address: u64,
        reason: Option<String>,
    },
}

/// The results of this crate's fallible functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A malformed `.llvm_stackmaps` section: what is wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum StackMapError {
    /// Written in a format version this reader does not know.
    #[error("stackmap format version {found}, expected 3")]
    Version { found: u8 },
    /// The section ends inside a field.
    #[error("stackmap section truncated at byte {at} of {len}")]
    Truncated { at: usize, len: usize },
    /// A field's value makes no sense (`what`), at byte `at`.
    #[error("corrupt stackmap section: {what} at byte {at}")]
    Corrupt { what: &'static str, at: usize },
}

impl Error {
    /// [`Error::Read`] of `path`, for `map_err`.
    pub(crate) fn read(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// [`Error::Elf`] of `path` for `what`, for `map_err`.
    pub(crate) fn elf<'p>(
        path: &'p Path,
        what: &'static str,
    ) -> impl FnOnce(object::Error) -> Error + 'p {
        move |source| Error::Elf {
            path: path.to_path_buf(),
            what,
            source,
        }
    }

    /// [`Error::Format`] of `path` for `what`, for `map_err`.
    pub(crate) fn format<'p>(
        path: &'p Path,
        what: &'static str,
    ) -> impl FnOnce(migrate_format::Error) -> Error + 'p {
        move |source| Error::Format {
            path: path.to_path_buf(),
            what,
            source,
        }
    }

    /// [`Error::StackMaps`] of `path`, for `map_err`.
    pub(crate) fn stack_maps(path: &Path) -> impl FnOnce(StackMapError) -> Error + '_ {
        move |source| Error::StackMaps {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `: reason`, or nothing.
fn because(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map_or_else(String::new, |r| format!(": {r}"))
}

#[cfg(test)]
mod tests {
    use crate::isa::{NoMemory, AARCH64, X86_64};
    use migrate_format::Arch;
    use std::error::Error as _;

    #[test]
    fn undecodable_code_names_the_isa_and_the_address() {
        // `push %es` does not exist in 64-bit mode.
        let e = X86_64.decode(&[0x90, 0x06], 0x1000, &NoMemory).unwrap_err();
        assert_eq!(e.to_string(), "undecodable x86_64 instruction at 0x1001");
        let e = AARCH64
            .decode(&0xffff_ffffu32.to_le_bytes(), 0x2000, &NoMemory)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("undecodable aarch64 instruction at 0x2000: "),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_file_names_its_path_and_keeps_the_cause() {
        let path = std::path::Path::new("/nonexistent/prog.x86_64");
        let e = crate::records::Executable::read(path, Arch::X86_64)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "cannot read /nonexistent/prog.x86_64");
        let cause = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            cause.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn a_truncated_record_section_says_where() {
        let e = crate::stackmaps::StackMaps::parse(&[3, 0, 0]).unwrap_err();
        assert_eq!(e.to_string(), "stackmap section truncated at byte 1 of 3");
    }
}
