//! aarch64 (AAPCS64 DWARF register numbering).

mod memory;
mod opcodes;
mod operands;
mod summarize;
mod tables;
mod values;

use super::{Isa, Memory};
use crate::machine::{Flow, MInst, Reg};
use crate::{Error, Result};
use migrate_format::Arch;
use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction};

pub struct Aarch64;

/// x19-x28, x29 (frame pointer), d8-d15 (the low halves of v8-v15).
const CALLEE_SAVED: &[Reg] = &[
    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 72, 73, 74, 75, 76, 77, 78, 79,
];
/// musl's aarch64 setjmp: x19-x28, x29, x30 (the return address), sp,
/// d8-d15.
static JMP_BUF: super::JmpBufLayout = super::JmpBufLayout {
    registers: &[
        (19, 0),
        (20, 8),
        (21, 16),
        (22, 24),
        (23, 32),
        (24, 40),
        (25, 48),
        (26, 56),
        (27, 64),
        (28, 72),
        (29, 80),
        (72, 112),
        (73, 120),
        (74, 128),
        (75, 136),
        (76, 144),
        (77, 152),
        (78, 160),
        (79, 168),
    ],
    sp: 104,
    pc: 88,
    size: 176,
};
/// x0-x18, x30 (the link register), v0-v7, v16-v31.
const CALLER_SAVED: &[Reg] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 30, 64, 65, 66, 67, 68, 69,
    70, 71, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
];
/// x0, x1, v0-v3.
const RETURN: &[Reg] = &[0, 1, 64, 65, 66, 67];

impl Isa for Aarch64 {
    fn arch(&self) -> Arch {
        Arch::Aarch64
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

    fn link_register(&self) -> Option<Reg> {
        Some(30)
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
        // x0-x7, x8 (indirect result), v0-v7.
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 64, 65, 66, 67, 68, 69, 70, 71]
    }

    fn return_address_column(&self) -> Reg {
        30
    }

    fn jmp_buf(&self) -> &'static super::JmpBufLayout {
        &JMP_BUF
    }

    fn core_register(&self, reg: Reg) -> Option<&'static str> {
        let names = migrate_format::image::registers::names(Arch::Aarch64);
        match reg {
            0..=30 => Some(names[reg as usize]),
            31 => Some("sp"),
            _ => None,
        }
    }

    fn fp_register_offset(&self, reg: Reg) -> Option<usize> {
        // user_fpsimd_state: v0-v31, 16 bytes each.
        (64..=95).contains(&reg).then(|| 16 * (reg as usize - 64))
    }

    fn decode(&self, code: &[u8], address: u64, memory: &dyn Memory) -> Result<Vec<MInst>> {
        let decoder = InstDecoder::default();
        let mut out: Vec<MInst> = Vec::with_capacity(code.len() / 4);
        let mut decoded: Vec<Instruction> = Vec::with_capacity(code.len() / 4);
        let range = (address, address + code.len() as u64);
        for (k, word) in code.chunks(4).enumerate() {
            let pc = address + 4 * k as u64;
            let mut reader = U8Reader::new(word);
            let ins = match decoder.decode(&mut reader) {
                Ok(ins) => ins,
                Err(e) => {
                    return Err(Error::Undecodable {
                        isa: Arch::Aarch64,
                        address: pc,
                        reason: Some(e.to_string()),
                    })
                }
            };
            decoded.push(ins);
            let m = summarize::summarize(&decoded, pc, range, memory);
            out.push(m);
        }
        for (i, m) in out.iter_mut().enumerate() {
            if m.flow == Flow::Switch(None) {
                m.table_base = tables::table_register(&decoded, i);
            }
        }
        Ok(out)
    }
}

/// DWARF numbers of the stack pointer and the frame pointer.
const SP: Reg = 31;
const FP: Reg = 29;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::NoMemory;
    use crate::machine::{Mem, Op, Place};

    fn decode(words: &[u32]) -> Vec<MInst> {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        Aarch64.decode(&bytes, 0x1000, &NoMemory).unwrap()
    }

    #[test]
    fn fmov_constants_are_in_the_registers_format_and_splats_fill_every_lane() {
        let m = decode(&[
            0x1e6e1000, // fmov d0, #1.0
            0x1e2e1000, // fmov s0, #1.0
            0x6f03f600, // fmov v0.2d, #1.0 (both lanes)
            0x4f03f600, // fmov v0.4s, #1.0 (four lanes)
            0x9eaf0100, // fmov v0.d[1], x8 (the upper lane only: unknown)
            0x9e670100, // fmov d0, x8
        ]);
        let ops: Vec<Op> = m.iter().map(|i| i.op).collect();
        let konst = |value: u64| Op::Const {
            dst: Place::Reg(64),
            value: value as i64,
        };
        assert_eq!(
            ops,
            vec![
                konst(0x3ff0_0000_0000_0000),
                konst(0x3f80_0000),
                Op::Splat {
                    dst: 64,
                    lane: 0x3ff0_0000_0000_0000
                },
                Op::Splat {
                    dst: 64,
                    lane: 0x3f80_0000_3f80_0000
                },
                Op::Other,
                Op::Copy {
                    dst: Place::Reg(64),
                    src: Place::Reg(8)
                },
            ],
            "{:?}",
            m.iter().map(|i| &i.text).collect::<Vec<_>>()
        );
    }

    #[test]
    fn post_index_steps_the_base() {
        let m = decode(&[0xb8404528]); // ldr w8, [x9], #4
        assert_eq!(m[0].writeback, Some((9, 4)), "{}", m[0].text);
        assert!(m[0].writes.contains(&8) && m[0].writes.contains(&9));
    }

    #[test]
    fn orr_of_low_bits_is_known() {
        let m = decode(&[0xb27e0108]); // orr x8, x8, #0x4
        assert_eq!(
            m[0].op,
            Op::OrBits {
                dst: 8,
                src: 8,
                bits: 4
            },
            "{}",
            m[0].text
        );
    }

    #[test]
    fn zero_register_stores_and_extensions() {
        let m = decode(&[
            0xf81883bf, // stur xzr, [x29, #-0x78]
            0x93407d28, // sxtw x8, w9
            0x13001d6a, // sxtb w10, w11
            0x53001dac, // uxtb w12, w13
            0x12001dee, // and w14, w15, #0xff
            0xb89f83b0, // ldursw x16, [x29, #-0x8]
        ]);
        let ext = |dst, src, size, signed, to32| Op::Extend {
            dst,
            src,
            size,
            signed,
            to32,
        };
        let frame = |disp, size| {
            Place::Mem(Mem {
                base: 29,
                disp,
                size,
            })
        };
        let ops: Vec<Op> = m.iter().map(|i| i.op).collect();
        assert_eq!(
            ops,
            vec![
                Op::Const {
                    dst: frame(-0x78, 8),
                    value: 0
                },
                ext(8, Place::Reg(9), 4, true, false),
                ext(10, Place::Reg(11), 1, true, true),
                ext(12, Place::Reg(13), 1, false, true),
                ext(14, Place::Reg(15), 1, false, true),
                ext(16, frame(-8, 4), 4, true, false),
            ]
        );
    }

    #[test]
    fn decodes_frames_copies_and_constants() {
        let m = decode(&[
            0xa9bf7bfd, // stp x29, x30, [sp, #-16]!
            0x910003fd, // mov x29, sp
            0xaa0003f3, // mov x19, x0
            0xd2824680, // mov x0, #0x1234
            0xf2a00020, // movk x0, #0x1, lsl #16
            0x94000000, // bl .
            0xa8c17bfd, // ldp x29, x30, [sp], #16
            0xd65f03c0, // ret
        ]);
        assert_eq!(m[0].sp_before, -16);
        assert_eq!(m[0].stores.len(), 2);
        assert!(matches!(m[0].op, Op::CopyPair { .. }));
        assert_eq!(m[1].fp_from_sp, Some(0));
        assert_eq!(
            m[2].op,
            Op::Copy {
                dst: Place::Reg(19),
                src: Place::Reg(0)
            }
        );
        assert_eq!(
            m[3].op,
            Op::Const {
                dst: Place::Reg(0),
                value: 0x1234
            }
        );
        assert_eq!(
            m[4].op,
            Op::SetBits {
                dst: 0,
                value: 1,
                shift: 16
            }
        );
        assert_eq!(
            m[5].flow,
            Flow::Call {
                target: Some(0x1014)
            }
        );
        assert!(m[5].writes.contains(&30) && !m[5].writes.contains(&19));
        assert_eq!((m[6].sp_after, m[6].loads.len()), (16, 2));
        assert_eq!(m[7].flow, Flow::Return);
    }

    #[test]
    fn names() {
        assert_eq!(Aarch64.register_name(19), "x19");
        assert_eq!(Aarch64.register_name(29), "fp");
        assert_eq!(Aarch64.register_name(31), "sp");
        assert_eq!(Aarch64.register_name(72), "v8");
    }
}
