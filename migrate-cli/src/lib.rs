//! The `migrate` command's implementation, as a library so that benchmarks
//! and tests can reuse its pieces (ISA toolchains, baseline builds).

pub mod baseline;
pub mod cc;
pub mod check;
pub mod checkpoint;
pub mod gadgets;
pub mod inspect;
pub mod inspect_image;
pub mod isa;
pub mod layout;
pub mod mtd;
pub mod process;
pub mod restore;
pub mod run;
pub mod tools;
pub mod translate;
pub mod verify;
