//! x86_64 (System V psABI DWARF register numbering).

use super::Isa;

pub struct X64;

const GPRS: [&str; 17] = [
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "rip",
];

impl Isa for X64 {
    fn name(&self) -> &'static str {
        "x86_64"
    }

    fn register_name(&self, dwarf: u16) -> String {
        match dwarf {
            0..=16 => GPRS[dwarf as usize].to_string(),
            17..=32 => format!("xmm{}", dwarf - 17),
            _ => format!("dwarf{dwarf}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(X64.register_name(3), "rbx");
        assert_eq!(X64.register_name(6), "rbp");
        assert_eq!(X64.register_name(15), "r15");
        assert_eq!(X64.register_name(17), "xmm0");
        assert_eq!(X64.register_name(99), "dwarf99");
    }
}
