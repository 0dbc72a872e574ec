//! The landmark runtime, prebuilt for both ISAs.
//!
//! The C sources (`src/` portable, `arch/<isa>/` per ISA, following musl's
//! layout) are compiled by `build.rs`; `migrate cc` writes the archive for
//! each ISA next to the program's objects and links it.

use migrate_format::Arch;

/// The runtime as a static archive for `arch`.
pub fn archive(arch: Arch) -> &'static [u8] {
    match arch {
        Arch::X86_64 => include_bytes!(concat!(env!("OUT_DIR"), "/liblandmark-x86_64.a")),
        Arch::Aarch64 => include_bytes!(concat!(env!("OUT_DIR"), "/liblandmark-aarch64.a")),
    }
}

/// The header of every format the runtime shares with the tools, as the
/// runtime was built with (generated from migrate-format by `build.rs`).
pub const FORMAT_H: &str = include_str!(concat!(env!("OUT_DIR"), "/include/migrate_format.h"));

/// The libc functions `migrate cc` compiles through the landmark pipeline
/// (`musl/SOURCES`): an archive of aarch64 bitcode members, linked by need
/// like a user library, before libc.a, whose copies it replaces. Built at
/// -O2, or at -O0 for `optimize == false` (llc -O0 cannot allocate
/// registers for optimized code with stackmaps).
pub fn instrumented_libc(optimize: bool) -> &'static [u8] {
    if optimize {
        include_bytes!(concat!(env!("OUT_DIR"), "/libc-instrumented-O2.a"))
    } else {
        include_bytes!(concat!(env!("OUT_DIR"), "/libc-instrumented-O0.a"))
    }
}

/// `migrate.h`, the header a program includes to ask for a checkpoint
/// itself (`landmark_request_checkpoint`); `migrate cc` puts it on the
/// include path.
pub const MIGRATE_H: &str = include_str!("../include/migrate.h");
