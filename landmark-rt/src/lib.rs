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
