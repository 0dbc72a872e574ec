//! aarch64: gadgets start at every 4-byte-aligned address; decoded with
//! yaxpeax-arm, printed as its `Display` writes them.

use super::{Class, Decoded, GadgetIsa, Kind};
use migrate_format::Arch;
use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction, Opcode};

pub struct Aarch64 {
    decoder: InstDecoder,
}

impl Aarch64 {
    pub fn new() -> Aarch64 {
        Aarch64 {
            decoder: InstDecoder::default(),
        }
    }

    fn instruction(&self, code: &[u8]) -> Option<Instruction> {
        let word = code.get(..4)?;
        self.decoder.decode(&mut U8Reader::new(word)).ok()
    }
}

/// What an instruction does to a gadget: `ret`, `ret xN` and the
/// pointer-authenticating returns end a ROP gadget; `br`, `blr` and their
/// pointer-authenticating forms a JOP gadget; `svc` a system-call gadget.
/// Direct and conditional branches (`b`, `bl`, `b.cond`, `cbz`, `cbnz`,
/// `tbz`, `tbnz`), exception returns and the other exception-generating
/// instructions (`hvc`, `smc`, `brk`, `hlt`, `dcps*`, `udf`) make the start
/// unusable; everything else runs on.
fn classify(opcode: Opcode) -> Class {
    use Opcode::*;
    match opcode {
        RET | RETAA | RETAB | RETAASPPC | RETABSPPC | RETAASPPCR | RETABSPPCR => {
            Class::End(Kind::Rop)
        }
        BR | BLR | BRAA | BRAAZ | BRAB | BRABZ | BLRAA | BLRAAZ | BLRAB | BLRABZ => {
            Class::End(Kind::Jop)
        }
        SVC => Class::End(Kind::Sys),
        B | BL | Bcc(_) | CBZ | CBNZ | TBZ | TBNZ | HVC | SMC | BRK | HLT | DCPS1 | DCPS2
        | DCPS3 | ERET | ERETAA | ERETAB | DRPS | UDF => Class::Reject,
        _ => Class::Ordinary,
    }
}

impl GadgetIsa for Aarch64 {
    fn arch(&self) -> Arch {
        Arch::Aarch64
    }

    fn alignment(&self) -> u64 {
        4
    }

    fn decode(&mut self, code: &[u8], _vaddr: u64) -> Option<Decoded> {
        let ins = self.instruction(code)?;
        Some(Decoded {
            len: 4,
            class: classify(ins.opcode),
        })
    }

    fn text(&mut self, code: &[u8], _vaddr: u64) -> String {
        match self.instruction(code) {
            Some(ins) => ins.to_string(),
            None => "(bad)".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(word: u32) -> Option<Class> {
        Aarch64::new()
            .decode(&word.to_le_bytes(), 0x1000)
            .map(|d| d.class)
    }

    fn text(word: u32) -> String {
        Aarch64::new().text(&word.to_le_bytes(), 0x1000)
    }

    #[test]
    fn returns_are_rop() {
        assert_eq!(class(0xd65f03c0), Some(Class::End(Kind::Rop)));
        assert_eq!(text(0xd65f03c0), "ret");
        // ret x1
        assert_eq!(class(0xd65f0020), Some(Class::End(Kind::Rop)));
        assert_eq!(text(0xd65f0020), "ret x1");
        // retaa
        assert_eq!(class(0xd65f0bff), Some(Class::End(Kind::Rop)));
    }

    #[test]
    fn indirect_branches_are_jop() {
        assert_eq!(class(0xd61f0200), Some(Class::End(Kind::Jop)));
        assert_eq!(text(0xd61f0200), "br x16");
        assert_eq!(class(0xd63f0200), Some(Class::End(Kind::Jop)));
        assert_eq!(text(0xd63f0200), "blr x16");
        // braaz x16, blraaz x16
        assert_eq!(class(0xd61f0a1f), Some(Class::End(Kind::Jop)));
        assert_eq!(class(0xd63f0a1f), Some(Class::End(Kind::Jop)));
    }

    #[test]
    fn svc_is_sys() {
        assert_eq!(class(0xd4000001), Some(Class::End(Kind::Sys)));
        assert_eq!(text(0xd4000001), "svc #0x0");
    }

    #[test]
    fn other_control_transfers_reject() {
        // b, bl, b.eq, cbz x0, tbz w0 #0, brk #0, hvc #0, eret, udf #0
        for word in [
            0x14000000, 0x94000000, 0x54000000, 0xb4000000, 0x36000000, 0xd4200000, 0xd4000002,
            0xd69f03e0, 0x00000000,
        ] {
            assert_eq!(class(word), Some(Class::Reject), "{word:#010x}");
        }
    }

    #[test]
    fn ordinary_instructions_run_on() {
        // ldp x29, x30, [sp], #0x10
        assert_eq!(class(0xa8c17bfd), Some(Class::Ordinary));
        assert_eq!(text(0xa8c17bfd), "ldp x29, x30, [sp], #0x10");
        // mov x0, x1
        assert_eq!(class(0xaa0103e0), Some(Class::Ordinary));
        assert_eq!(Aarch64::new().decode(&[0xc0, 0x03], 0), None);
    }
}
