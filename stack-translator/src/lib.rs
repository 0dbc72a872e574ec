//! Reads the two executables of a migratable build.
//!
//! Today: [`layout`], the check that every object both executables share sits
//! at the same address (what makes pointers in memory valid on either ISA).
//! Frame translation builds on the same symbol view.

mod bytes;
pub mod callsites;
pub mod certificates;
pub mod certify;
pub mod frames;
pub mod image;
pub mod isa;
pub mod layout;
pub mod machine;
pub mod records;
pub mod stackmaps;
