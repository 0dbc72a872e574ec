//! Why the IR stage failed: the program uses something the toolchain
//! refuses (with each use's place), its input is not what `migrate cc`
//! makes, or LLVM did not do what was asked (an internal error).

use crate::unsupported::Diagnostic;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Constructs that cannot behave the same on both ISAs, one per line
    /// as a compiler prints them.
    #[error("{}", crate::render(.0))]
    Unsupported(Vec<Diagnostic>),
    /// A live value of a type no record can hold.
    #[error(
        "{at}: in {function}: a value of type {ty} is live across this call; live-value \
         records cannot hold it"
    )]
    Unrecordable {
        at: String,
        function: String,
        ty: String,
    },
    #[error("{name}: not LLVM bitcode: {why}")]
    NotBitcode { name: String, why: String },
    #[error("no input files")]
    NoInput,
    #[error("linking {name}: {why}")]
    Link { name: String, why: String },
    #[error("unknown landmark policy {0:?}: use entry, loops, all or none")]
    UnknownPolicy(String),
    #[error("internal error: {what} does not verify: {why}")]
    DoesNotVerify { what: String, why: String },
    #[error("internal error: {what}: {why}")]
    Llvm { what: String, why: String },
    #[error("cannot write {}", .0.display())]
    Write(PathBuf),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
