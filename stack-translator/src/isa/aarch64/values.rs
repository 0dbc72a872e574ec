//! What an aarch64 instruction other than a load or store computes, where
//! the certifier can follow it ([`Op`]): sums of registers, constants,
//! register moves, low bits set, extensions.

use super::operands::{logical_immediate, reg};
use super::SP;
use crate::machine::{Op, Place, Reg};
use yaxpeax_arm::armv8::a64::{Opcode, Operand, SIMDSizeCode, ShiftStyle, SizeCode};

/// The value `op` writes to its destination register `d` (none for the
/// zero register), at `pc`; `pc_target` is its PC-relative operand.
pub(super) fn value_op(
    op: Opcode,
    d: Option<Reg>,
    operands: &[&Operand],
    pc: u64,
    pc_target: Option<u64>,
) -> Op {
    let Some(d) = d else {
        return Op::Other;
    };
    match op {
        Opcode::ADD | Opcode::SUB => register_sum(op, d, operands),
        Opcode::ADRP | Opcode::ADR | Opcode::MOVZ | Opcode::MOVN | Opcode::MOVK => {
            constant(op, d, operands, pc, pc_target)
        }
        Opcode::ORR => orr(d, operands),
        Opcode::SBFM | Opcode::UBFM | Opcode::AND => extension(op, d, operands),
        Opcode::FMOV => fmov(d, operands),
        _ => Op::Other,
    }
}

/// `add x8, x9, x10 {, lsl #k}`, `sub x8, x9, x10 {, lsl #k}`.
fn register_sum(op: Opcode, d: Reg, operands: &[&Operand]) -> Op {
    match operands {
        [Operand::Register(SizeCode::X, _) | Operand::RegisterOrSP(SizeCode::X, _), a, b]
            if d != SP =>
        {
            // Register 31 is sp in the first source of an add, the zero
            // register elsewhere.
            let a = match a {
                Operand::RegisterOrSP(SizeCode::X, n) => Some(*n),
                Operand::Register(SizeCode::X, n) if *n != 31 => Some(*n),
                _ => None,
            };
            let b = match b {
                Operand::Register(SizeCode::X, n) => Some((*n, 0)),
                Operand::RegShift(ShiftStyle::LSL, k, SizeCode::X, n) if *k < 63 => Some((*n, *k)),
                _ => None,
            };
            match (a, b) {
                (Some(a), Some((b, k))) if b != 31 => Op::AddRegs {
                    dst: d,
                    base: a,
                    index: b,
                    times: if op == Opcode::SUB {
                        -(1i64 << k)
                    } else {
                        1i64 << k
                    },
                    disp: 0,
                },
                _ => Op::Other,
            }
        }
        _ => Op::Other,
    }
}

/// Addresses (`adrp`, `adr`) and constants built 16 bits at a time
/// (`movz`, `movn`, then `movk`).
fn constant(op: Opcode, d: Reg, operands: &[&Operand], pc: u64, pc_target: Option<u64>) -> Op {
    match (op, operands) {
        (Opcode::ADRP, _) => Op::Const {
            dst: Place::Reg(d),
            value: ((pc & !0xfff).wrapping_add(pc_target.unwrap_or(pc).wrapping_sub(pc))) as i64,
        },
        (Opcode::ADR, _) => Op::Const {
            dst: Place::Reg(d),
            value: pc_target.unwrap_or(pc) as i64,
        },
        (Opcode::MOVZ, [_, Operand::ImmShift(v, s)]) => Op::Const {
            dst: Place::Reg(d),
            value: (*v as i64) << s,
        },
        (Opcode::MOVN, [Operand::Register(size, _), Operand::ImmShift(v, s)]) => {
            let v = !((*v as i64) << s);
            Op::Const {
                dst: Place::Reg(d),
                value: if *size == SizeCode::W {
                    v & 0xffff_ffff
                } else {
                    v
                },
            }
        }
        (Opcode::MOVK, [_, Operand::ImmShift(v, s)]) => Op::SetBits {
            dst: d,
            value: *v,
            shift: *s,
        },
        _ => Op::Other,
    }
}

/// `orr`: register moves and constants (from the zero register), or low
/// bits set in a register.
fn orr(d: Reg, operands: &[&Operand]) -> Op {
    match operands {
        // mov xd, xs is orr xd, xzr, xs; mov xd, #imm is orr xd, xzr, #imm.
        [_, Operand::Register(_, 31), Operand::Register(_, s)]
        | [_, Operand::Register(_, 31), Operand::RegShift(_, 0, _, s)]
            if *s != 31 =>
        {
            Op::Copy {
                dst: Place::Reg(d),
                src: Place::Reg(*s),
            }
        }
        // mov between a register and sp (add xd, sp, #0) is an add of an
        // immediate (`summarize::add_immediate`).
        [_, Operand::Register(_, 31), Operand::Imm64(v)] => Op::Const {
            dst: Place::Reg(d),
            value: *v as i64,
        },
        [_, Operand::Register(_, 31), Operand::Immediate(v)] => Op::Const {
            dst: Place::Reg(d),
            value: *v as i64,
        },
        [Operand::RegisterOrSP(SizeCode::X, _), Operand::Register(SizeCode::X, s), Operand::Imm64(v)]
            if *s != 31 =>
        {
            Op::OrBits {
                dst: d,
                src: *s,
                bits: *v,
            }
        }
        _ => Op::Other,
    }
}

/// Sign and zero extensions of a register's low bytes.
fn extension(op: Opcode, d: Reg, operands: &[&Operand]) -> Op {
    match (op, operands) {
        // sxtb/sxth/sxtw and uxtb/uxth: the low bytes, extended.
        (
            Opcode::SBFM | Opcode::UBFM,
            [Operand::Register(dsize, _), Operand::Register(_, s), Operand::Immediate(0), Operand::Immediate(top @ (7 | 15 | 31))],
        ) if *s != 31 && (op == Opcode::SBFM || *top != 31) => Op::Extend {
            dst: d,
            src: Place::Reg(*s),
            size: ((*top + 1) / 8) as u8,
            signed: op == Opcode::SBFM,
            to32: *dsize == SizeCode::W,
        },
        // `and w8, w0, #0xff`: zero extension of a byte, half or word.
        (Opcode::AND, [Operand::RegisterOrSP(_, _), Operand::Register(_, s), mask])
            if *s != 31 && matches!(logical_immediate(mask), Some(0xff | 0xffff | 0xffff_ffff)) =>
        {
            Op::Extend {
                dst: d,
                src: Place::Reg(*s),
                size: match logical_immediate(mask) {
                    Some(0xff) => 1,
                    Some(0xffff) => 2,
                    _ => 4,
                },
                signed: false,
                to32: true,
            }
        }
        _ => Op::Other,
    }
}

/// `fmov`: a copy between registers, or a floating-point constant. Whole
/// registers: a scalar write zeroes the rest of the vector register;
/// `fmov v0.2d, #1.0` fills every lane of a 16-byte register (a splat);
/// `fmov v0.d[1], x8` writes only the upper lane (unknown).
fn fmov(d: Reg, operands: &[&Operand]) -> Op {
    if let [Operand::SIMDRegisterElements(SIMDSizeCode::Q, _, lanes), Operand::ImmediateDouble(f)] =
        operands
    {
        let single = u64::from((*f as f32).to_bits());
        return match lanes {
            SIMDSizeCode::D => Op::Splat {
                dst: d,
                lane: f.to_bits() as i64,
            },
            SIMDSizeCode::S => Op::Splat {
                dst: d,
                lane: (single | single << 32) as i64,
            },
            _ => Op::Other,
        };
    }
    let scalar = |o: &Operand| {
        matches!(
            o,
            Operand::Register(_, _) | Operand::SIMDRegister(SIMDSizeCode::S | SIMDSizeCode::D, _)
        )
    };
    match operands {
        [dst, src] if scalar(dst) => match (reg(src), src) {
            (Some(s), _) if scalar(src) => Op::Copy {
                dst: Place::Reg(d),
                src: Place::Reg(s),
            },
            // The immediate's bits in the register's format.
            (None, Operand::ImmediateDouble(f)) => Op::Const {
                dst: Place::Reg(d),
                value: match dst {
                    Operand::SIMDRegister(SIMDSizeCode::S, _) => i64::from((*f as f32).to_bits()),
                    _ => f.to_bits() as i64,
                },
            },
            _ => Op::Other,
        },
        _ => Op::Other,
    }
}
