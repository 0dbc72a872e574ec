//! The landmark runtime, prebuilt for both ISAs.
//!
//! The C sources (`src/` portable, `arch/<isa>/` per ISA, following musl's
//! layout) are compiled by `build.rs`; `migrate cc` writes the archive for
//! each ISA next to the program's objects and links it.

/// The runtime as a static archive for `isa` (`"x86_64"` or `"aarch64"`).
pub fn archive(isa: &str) -> Option<&'static [u8]> {
    match isa {
        "x86_64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/liblandmark-x86_64.a"
        ))),
        "aarch64" => Some(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/liblandmark-aarch64.a"
        ))),
        _ => None,
    }
}

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
