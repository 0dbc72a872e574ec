//! aarch64 operands as the decoder gives them: the registers they name
//! and read, and the bytes they move.

use crate::machine::Reg;
use yaxpeax_arm::armv8::a64::{Instruction, Operand, SIMDSizeCode, SizeCode};

/// The operands of `ins`, without the empty ones after the last.
pub(super) fn ops(ins: &Instruction) -> Vec<&Operand> {
    ins.operands
        .iter()
        .take_while(|o| !matches!(o, Operand::Nothing))
        .collect()
}

/// The DWARF register an operand names (the zero register names none).
pub(super) fn reg(op: &Operand) -> Option<Reg> {
    match *op {
        Operand::Register(_, 31) => None,
        Operand::Register(_, n) | Operand::RegisterOrSP(_, n) => Some(n),
        Operand::RegisterPair(_, n) => Some(n),
        Operand::SIMDRegister(_, n)
        | Operand::SIMDRegisterElements(_, n, _)
        | Operand::SIMDRegisterElementsLane(_, n, _, _)
        | Operand::SIMDRegisterElementsMultipleLane(_, n, _, _, _)
        | Operand::SIMDRegisterGroup(_, n, _, _)
        | Operand::SIMDRegisterGroupLane(n, _, _, _) => Some(64 + n),
        Operand::RegShift(_, _, _, n) if n != 31 => Some(n),
        _ => None,
    }
}

/// Every register an operand reads when used as a source (including the
/// registers of an address).
pub(super) fn source_regs(op: &Operand) -> Vec<Reg> {
    match *op {
        Operand::RegRegOffset(b, i, _, _, _) => {
            [b, i].into_iter().filter(|r| *r != 31 || *r == b).collect()
        }
        Operand::RegPreIndex(b, _, _) | Operand::RegPostIndex(b, _) => vec![b],
        Operand::RegPostIndexReg(b, i) => vec![b, i],
        Operand::RegisterPair(_, n) => vec![n, n + 1],
        Operand::SIMDRegisterGroup(_, n, _, k) => {
            (0..k as u16).map(|j| 64 + (n + j) % 32).collect()
        }
        _ => reg(op).into_iter().collect(),
    }
}

/// Bytes a data register operand moves.
pub(super) fn width(op: &Operand) -> u32 {
    match op {
        Operand::Register(SizeCode::X, _) => 8,
        Operand::Register(SizeCode::W, _) => 4,
        Operand::SIMDRegister(SIMDSizeCode::B, _) => 1,
        Operand::SIMDRegister(SIMDSizeCode::H, _) => 2,
        Operand::SIMDRegister(SIMDSizeCode::S, _) => 4,
        Operand::SIMDRegister(SIMDSizeCode::D, _) => 8,
        Operand::SIMDRegister(SIMDSizeCode::Q, _) => 16,
        Operand::SIMDRegisterElements(SIMDSizeCode::Q, _, _) => 16,
        Operand::SIMDRegisterElements(SIMDSizeCode::D, _, _) => 8,
        _ => 8,
    }
}

/// The value of a logical instruction's immediate operand.
pub(super) fn logical_immediate(op: &Operand) -> Option<u64> {
    match *op {
        Operand::Imm64(v) => Some(v),
        Operand::Immediate(v) => Some(v as u64),
        _ => None,
    }
}
