//! x86_64: gadgets start at every byte; decoded with iced-x86, printed in
//! Intel syntax as ROPgadget (capstone) prints it: lowercase, `0x` hex,
//! `qword ptr [rax + 8]`, `[rip + 0x...]` for RIP-relative operands.

use super::{Class, Decoded, GadgetIsa, Kind};
use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, Instruction, IntelFormatter,
    MemorySizeOptions, Mnemonic,
};
use migrate_format::Arch;

/// The longest x86 instruction.
const MAX_LEN: usize = 15;

pub struct X64 {
    formatter: IntelFormatter,
    text: String,
}

impl X64 {
    pub fn new() -> X64 {
        let mut formatter = IntelFormatter::new();
        let o = formatter.options_mut();
        o.set_uppercase_hex(false);
        o.set_hex_prefix("0x");
        o.set_hex_suffix("");
        o.set_space_after_operand_separator(true);
        o.set_space_between_memory_add_operators(true);
        o.set_rip_relative_addresses(true);
        o.set_branch_leading_zeros(false);
        o.set_show_branch_size(false);
        o.set_memory_size_options(MemorySizeOptions::Always);
        X64 {
            formatter,
            text: String::new(),
        }
    }

    fn instruction(code: &[u8], vaddr: u64) -> Option<Instruction> {
        let code = &code[..code.len().min(MAX_LEN)];
        let mut decoder = Decoder::with_ip(64, code, vaddr, DecoderOptions::NONE);
        let ins = decoder.decode();
        (!ins.is_invalid()).then_some(ins)
    }
}

/// What `ins` does to a gadget: `ret`, `ret imm16` and the far forms
/// `retf`, `retf imm16` end a ROP gadget (as in ROPgadget); `jmp` and `call`
/// through a register or memory end a JOP gadget; `syscall`, `sysenter`
/// and `int 0x80` end a system-call gadget. Every other transfer of control
/// (direct and conditional branches, direct calls, `loop`, `iret`,
/// `sysret`, other interrupts, `int3`, `ud2`, `xbegin`) makes the start
/// unusable; everything else runs on.
fn classify(ins: &Instruction) -> Class {
    match ins.mnemonic() {
        Mnemonic::Ret | Mnemonic::Retf => return Class::End(Kind::Rop),
        Mnemonic::Syscall | Mnemonic::Sysenter => return Class::End(Kind::Sys),
        Mnemonic::Int if ins.immediate8() == 0x80 => return Class::End(Kind::Sys),
        _ => {}
    }
    match ins.flow_control() {
        FlowControl::Next => Class::Ordinary,
        FlowControl::IndirectBranch | FlowControl::IndirectCall => Class::End(Kind::Jop),
        _ => Class::Reject,
    }
}

impl GadgetIsa for X64 {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }

    fn alignment(&self) -> u64 {
        1
    }

    fn decode(&mut self, code: &[u8], vaddr: u64) -> Option<Decoded> {
        let ins = X64::instruction(code, vaddr)?;
        Some(Decoded {
            len: ins.len(),
            class: classify(&ins),
        })
    }

    fn text(&mut self, code: &[u8], vaddr: u64) -> String {
        match X64::instruction(code, vaddr) {
            Some(ins) => {
                self.text.clear();
                self.formatter.format(&ins, &mut self.text);
                match self.text.strip_prefix("ret far") {
                    // capstone's (ROPgadget's) name.
                    Some(rest) if ins.mnemonic() == Mnemonic::Retf => format!("retf{rest}"),
                    _ => self.text.clone(),
                }
            }
            None => "(bad)".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(bytes: &[u8]) -> Option<(usize, Class)> {
        X64::new().decode(bytes, 0x1000).map(|d| (d.len, d.class))
    }

    fn text(bytes: &[u8]) -> String {
        X64::new().text(bytes, 0x1000)
    }

    #[test]
    fn returns_are_rop() {
        assert_eq!(class(&[0xc3]), Some((1, Class::End(Kind::Rop))));
        assert_eq!(text(&[0xc3]), "ret");
        assert_eq!(class(&[0xc2, 0x08, 0x00]), Some((3, Class::End(Kind::Rop))));
        assert_eq!(text(&[0xc2, 0x08, 0x00]), "ret 8");
        assert_eq!(class(&[0xcb]), Some((1, Class::End(Kind::Rop))));
        assert_eq!(text(&[0xcb]), "retf");
        assert_eq!(text(&[0xca, 0xf4, 0x02]), "retf 0x2f4");
    }

    #[test]
    fn indirect_jumps_and_calls_are_jop() {
        assert_eq!(class(&[0xff, 0xe0]), Some((2, Class::End(Kind::Jop))));
        assert_eq!(text(&[0xff, 0xe0]), "jmp rax");
        assert_eq!(class(&[0xff, 0xd0]), Some((2, Class::End(Kind::Jop))));
        assert_eq!(text(&[0xff, 0xd0]), "call rax");
        // call qword ptr [rax + 8]
        assert_eq!(class(&[0xff, 0x50, 0x08]), Some((3, Class::End(Kind::Jop))));
        assert_eq!(text(&[0xff, 0x50, 0x08]), "call qword ptr [rax + 8]");
        // jmp qword ptr [rip + 0x10]
        let rip = [0xff, 0x25, 0x10, 0, 0, 0];
        assert_eq!(class(&rip), Some((6, Class::End(Kind::Jop))));
        assert_eq!(text(&rip), "jmp qword ptr [rip + 0x10]");
    }

    #[test]
    fn system_calls_are_sys() {
        assert_eq!(class(&[0x0f, 0x05]), Some((2, Class::End(Kind::Sys))));
        assert_eq!(text(&[0x0f, 0x05]), "syscall");
        assert_eq!(class(&[0xcd, 0x80]), Some((2, Class::End(Kind::Sys))));
        assert_eq!(text(&[0xcd, 0x80]), "int 0x80");
        assert_eq!(class(&[0x0f, 0x34]), Some((2, Class::End(Kind::Sys))));
    }

    #[test]
    fn other_control_transfers_reject() {
        // call rel32, jmp rel8, jmp rel32, je rel8, int3, ud2, int 3 (cd 03), iretq
        for bytes in [
            &[0xe8, 0, 0, 0, 0][..],
            &[0xeb, 0x00],
            &[0xe9, 0, 0, 0, 0],
            &[0x74, 0x00],
            &[0xcc],
            &[0x0f, 0x0b],
            &[0xcd, 0x03],
            &[0x48, 0xcf],
        ] {
            assert_eq!(class(bytes).map(|c| c.1), Some(Class::Reject), "{bytes:x?}");
        }
    }

    #[test]
    fn ordinary_instructions_run_on_and_bad_bytes_do_not_decode() {
        assert_eq!(class(&[0x5f]), Some((1, Class::Ordinary)));
        assert_eq!(text(&[0x5f]), "pop rdi");
        // mov rax, qword ptr [rdi + 0x10]
        assert_eq!(class(&[0x48, 0x8b, 0x47, 0x10]), Some((4, Class::Ordinary)));
        assert_eq!(
            text(&[0x48, 0x8b, 0x47, 0x10]),
            "mov rax, qword ptr [rdi + 0x10]"
        );
        // lea rax, [rip + 0x10]: no size.
        assert_eq!(
            text(&[0x48, 0x8d, 0x05, 0x10, 0, 0, 0]),
            "lea rax, [rip + 0x10]"
        );
        // 0x06 (push es) does not exist in 64-bit mode; a cut instruction.
        assert_eq!(class(&[0x06]), None);
        assert_eq!(class(&[0x48, 0x8b]), None);
    }
}
