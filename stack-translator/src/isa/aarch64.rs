//! aarch64 (AAPCS64 DWARF register numbering).

use super::Isa;

pub struct Aarch64;

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
