//! x86_64: System V psABI DWARF register numbering, calling convention,
//! and decoding with iced-x86 into [`MInst`]s.

mod summarize;
mod tables;
mod values;

use super::{Isa, Memory};
use crate::machine::{MInst, Mem, Reg, BYTE0, BYTE1, BYTES2_3, BYTES4_UP};
use crate::{Error, Result};
use iced_x86::{
    Decoder, DecoderOptions, Formatter, GasFormatter, Instruction, InstructionInfoFactory, Register,
};
use migrate_format::Arch;

pub struct X64;

const RSP: Reg = 7;
const RBP: Reg = 6;
/// rbx, rbp, r12-r15.
const CALLEE_SAVED: &[Reg] = &[3, 6, 12, 13, 14, 15];
/// musl's x86_64 setjmp: rbx, rbp, r12-r15, then rsp (after the return)
/// and the return address.
static JMP_BUF: super::JmpBufLayout = super::JmpBufLayout {
    registers: &[(3, 0), (6, 8), (12, 16), (13, 24), (14, 32), (15, 40)],
    sp: 48,
    pc: 56,
    size: 64,
};
/// rax, rdx, rcx, rsi, rdi, r8-r11, xmm0-xmm15.
const CALLER_SAVED: &[Reg] = &[
    0, 1, 2, 4, 5, 8, 9, 10, 11, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
];
/// rax, rdx, xmm0, xmm1.
const RETURN: &[Reg] = &[0, 1, 17, 18];

/// DWARF number of an iced register (sub-registers map to the full one);
/// `None` for registers no value lives in across calls (flags, segments).
fn dwarf(r: Register) -> Option<Reg> {
    if r.is_gpr() {
        const ORDER: [Register; 16] = [
            Register::RAX,
            Register::RDX,
            Register::RCX,
            Register::RBX,
            Register::RSI,
            Register::RDI,
            Register::RBP,
            Register::RSP,
            Register::R8,
            Register::R9,
            Register::R10,
            Register::R11,
            Register::R12,
            Register::R13,
            Register::R14,
            Register::R15,
        ];
        let full = r.full_register();
        return ORDER.iter().position(|x| *x == full).map(|i| i as Reg);
    }
    if r.is_xmm() || r.is_ymm() || r.is_zmm() {
        let n = r.number() as Reg;
        return (n < 16).then_some(17 + n);
    }
    None
}

/// A memory operand that is a base register plus a constant (no index,
/// not RIP-relative): what stack slots look like.
fn based(base: Register, index: Register, disp: u64, size: usize) -> Option<Mem> {
    if index != Register::None || base == Register::RIP || base == Register::None {
        return None;
    }
    Some(Mem {
        base: dwarf(base)?,
        disp: disp as i64,
        size: size as u32,
    })
}

/// All byte groups of a register.
const WHOLE_REG: u8 = BYTE0 | BYTE1 | BYTES2_3 | BYTES4_UP;

/// The bytes of its full register that `r` names: `al` byte 0, `ah` byte
/// 1, `ax` bytes 0-1, `eax` bytes 0-3; 64-bit and vector registers whole.
fn gpr_bytes(r: Register) -> u8 {
    if !r.is_gpr() {
        return WHOLE_REG;
    }
    match r.size() {
        1 if matches!(r, Register::AH | Register::BH | Register::CH | Register::DH) => BYTE1,
        1 => BYTE0,
        2 => BYTE0 | BYTE1,
        4 => BYTE0 | BYTE1 | BYTES2_3,
        _ => WHOLE_REG,
    }
}

const GPRS: [&str; 17] = [
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15", "rip",
];

impl Isa for X64 {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }

    fn register_name(&self, dwarf: u16) -> String {
        match dwarf {
            0..=16 => GPRS[dwarf as usize].to_string(),
            17..=32 => format!("xmm{}", dwarf - 17),
            _ => format!("dwarf{dwarf}"),
        }
    }

    fn sp(&self) -> Reg {
        RSP
    }

    fn fp(&self) -> Reg {
        RBP
    }

    fn entry_sp(&self) -> i64 {
        -8 // the return address the call pushed
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

    fn argument_registers(&self) -> &'static [Reg] {
        // rdi, rsi, rdx, rcx, r8, r9, rax (vector-argument count), xmm0-7.
        &[5, 4, 1, 2, 8, 9, 0, 17, 18, 19, 20, 21, 22, 23, 24]
    }

    fn return_address_column(&self) -> Reg {
        16
    }

    fn jmp_buf(&self) -> &'static super::JmpBufLayout {
        &JMP_BUF
    }

    fn core_register(&self, reg: Reg) -> Option<&'static str> {
        const NAMES: [&str; 17] = [
            "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15", "rip",
        ];
        NAMES.get(reg as usize).copied()
    }

    fn fp_register_offset(&self, reg: Reg) -> Option<usize> {
        // FXSAVE: xmm0-xmm15 from byte 160.
        (17..=32)
            .contains(&reg)
            .then(|| 160 + 16 * (reg as usize - 17))
    }

    fn decode(&self, code: &[u8], address: u64, memory: &dyn Memory) -> Result<Vec<MInst>> {
        let range = (address, address + code.len() as u64);
        let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
        let mut factory = InstructionInfoFactory::new();
        let mut formatter = GasFormatter::new();
        let mut out = Vec::new();
        let mut decoded = Vec::new();
        let mut ins = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut ins);
            if ins.is_invalid() {
                return Err(Error::Undecodable {
                    isa: Arch::X86_64,
                    address: ins.ip(),
                    reason: None,
                });
            }
            let mut text = String::new();
            formatter.format(&ins, &mut text);
            out.push(summarize::summarize(
                &ins,
                &mut factory,
                text,
                range,
                memory,
            ));
            decoded.push(ins);
        }
        tables::bound_jump_tables(&decoded, &mut out, range, memory);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::NoMemory;
    use crate::machine::{Flow, Op, Place};

    fn one(bytes: &[u8]) -> MInst {
        X64.decode(bytes, 0x1000, &NoMemory).unwrap().remove(0)
    }

    /// Bytes at one address.
    struct Table(u64, Vec<u8>);

    impl Memory for Table {
        fn read(&self, address: u64, len: usize) -> Option<&[u8]> {
            let off = address.checked_sub(self.0)? as usize;
            self.1.get(off..off + len)
        }
    }

    #[test]
    fn jump_tables_end_at_the_range_check() {
        let code = [
            0x83, 0xf8, 0x02, // cmp $2,%eax
            0x77, 0x07, // ja 0x100c
            0xff, 0x24, 0xc5, 0x00, 0x20, 0, 0,    // jmp *0x2000(,%rax,8)
            0xc3, // ret (0x100c)
            0xc3, // ret (0x100d)
        ];
        // Three entries, then the next table's, which also point into the
        // function: reading on would add 0x100d as a false target.
        let entries: Vec<u8> = [0x100cu64, 0x100c, 0x100c, 0x100d, 0x100d]
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        let memory = Table(0x2000, entries);
        let insts = X64.decode(&code, 0x1000, &memory).unwrap();
        assert_eq!(insts[2].flow, Flow::Switch(Some(vec![0x100c; 3])));
        // Without the range check, the table is read while it points into
        // the function.
        let insts = X64.decode(&code[5..], 0x1005, &memory).unwrap();
        assert_eq!(insts[0].flow.clone(), {
            let mut t = vec![0x100c; 3];
            t.extend([0x100d, 0x100d]);
            Flow::Switch(Some(t))
        });
    }

    #[test]
    fn decodes_frame_and_values() {
        // push %rbp
        let push = one(&[0x55]);
        assert_eq!((push.sp_before, push.stores.len()), (-8, 1));
        // mov %rsp,%rbp
        assert_eq!(one(&[0x48, 0x89, 0xe5]).fp_from_sp, Some(0));
        // sub $0x28,%rsp
        assert_eq!(one(&[0x48, 0x83, 0xec, 0x28]).sp_after, -0x28);
        // mov %rbx,-0x30(%rbp)
        let spill = one(&[0x48, 0x89, 0x5d, 0xd0]);
        assert_eq!(
            spill.op,
            Op::Copy {
                dst: Place::Mem(Mem {
                    base: 6,
                    disp: -0x30,
                    size: 8
                }),
                src: Place::Reg(3)
            }
        );
        // lea -0x40(%rbp),%r12: a frame address
        assert_eq!(
            one(&[0x4c, 0x8d, 0x65, 0xc0]).op,
            Op::AddrOf {
                dst: 12,
                base: 6,
                disp: -0x40
            }
        );
        // movabs $0x7fefffffffffffff,%r13
        assert_eq!(
            one(&[0x49, 0xbd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f]).op,
            Op::Const {
                dst: Place::Reg(13),
                value: 0x7fef_ffff_ffff_ffff
            }
        );
        // xor %eax,%eax
        let zero = one(&[0x31, 0xc0]);
        assert_eq!(
            zero.op,
            Op::Const {
                dst: Place::Reg(0),
                value: 0
            }
        );
        assert!(zero.reads.is_empty());
        // call rel32: clobbers the caller-saved registers
        let call = one(&[0xe8, 0, 0, 0, 0]);
        assert_eq!(
            call.flow,
            Flow::Call {
                target: Some(0x1005)
            }
        );
        assert!(call.writes.contains(&0) && !call.writes.contains(&3));
        // call *-0x30(%rbp): reads its target from the slot (which must
        // stay live up to here); call *%r14 reads r14.
        let through_slot = one(&[0xff, 0x55, 0xd0]);
        assert!(matches!(through_slot.flow, Flow::Call { target: None }));
        assert_eq!(through_slot.reads, vec![6]);
        assert_eq!(through_slot.loads.len(), 1);
        assert_eq!(through_slot.loads[0].disp, -0x30);
        let through_reg = one(&[0x41, 0xff, 0xd6]);
        assert_eq!(through_reg.reads, vec![14]);
    }

    #[test]
    fn names() {
        assert_eq!(X64.register_name(3), "rbx");
        assert_eq!(X64.register_name(6), "rbp");
        assert_eq!(X64.register_name(15), "r15");
        assert_eq!(X64.register_name(17), "xmm0");
        assert_eq!(X64.register_name(99), "dwarf99");
    }
}
