//! aarch64 (AAPCS64 DWARF register numbering).

use super::{Isa, Memory};
use crate::machine::{MInst, Reg};
use anyhow::{bail, Result};

pub struct Aarch64;

/// x19-x28, x29 (frame pointer), d8-d15 (the low halves of v8-v15).
const CALLEE_SAVED: &[Reg] = &[
    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 72, 73, 74, 75, 76, 77, 78, 79,
];
/// x0-x18, x30 (the link register), v0-v7, v16-v31.
const CALLER_SAVED: &[Reg] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 30, 64, 65, 66, 67, 68, 69,
    70, 71, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
];
/// x0, x1, v0-v3.
const RETURN: &[Reg] = &[0, 1, 64, 65, 66, 67];

impl Isa for Aarch64 {
    fn name(&self) -> &'static str {
        "aarch64"
    }

    fn register_name(&self, dwarf: u16) -> String {
        match dwarf {
            29 => "fp".to_string(),
            30 => "lr".to_string(),
            0..=28 => format!("x{dwarf}"),
            31 => "sp".to_string(),
            64..=95 => format!("v{}", dwarf - 64),
            _ => format!("dwarf{dwarf}"),
        }
    }

    fn sp(&self) -> Reg {
        31
    }

    fn fp(&self) -> Reg {
        29
    }

    fn entry_sp(&self) -> i64 {
        0 // a call does not touch the stack
    }

    fn callee_saved(&self) -> &'static [Reg] {
        CALLEE_SAVED
    }

    fn caller_saved(&self) -> &'static [Reg] {
        CALLER_SAVED
    }

    fn return_registers(&self) -> &'static [Reg] {
        RETURN
    }

    fn decoder_available(&self) -> bool {
        false
    }

    fn decode(&self, _code: &[u8], address: u64, _memory: &dyn Memory) -> Result<Vec<MInst>> {
        bail!("decoding aarch64 code (function at {address:#x}) is not implemented yet")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Aarch64.register_name(19), "x19");
        assert_eq!(Aarch64.register_name(29), "fp");
        assert_eq!(Aarch64.register_name(31), "sp");
        assert_eq!(Aarch64.register_name(72), "v8");
    }
}
