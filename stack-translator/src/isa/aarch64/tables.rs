//! aarch64 jump tables: LLVM's `adrp/add/ldr{b,h}/adr/add/br` sequence
//! with entries relative to a base, and computed gotos (`ldr xT, [xB, xI,
//! lsl #3]; br xT`) through absolute ones.

use super::operands::{ops, reg};
use crate::isa::{absolute_table, Memory, MAX_TABLE};
use crate::machine::Reg;
use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SizeCode};

/// For `ldr xT, [xB, xI, lsl #3]; br xT` (computed goto): xB, the
/// register holding the table's address.
pub(super) fn table_register(decoded: &[Instruction], br: usize) -> Option<Reg> {
    let target = reg(&decoded[br].operands[0])?;
    let load = (br.saturating_sub(4)..br).rev().find(|&k| {
        decoded[k].opcode == Opcode::LDR
            && reg(&decoded[k].operands[0]) == Some(target)
            && matches!(decoded[k].operands[1], Operand::RegRegOffset(_, _, _, _, 3))
    })?;
    match decoded[load].operands[1] {
        Operand::RegRegOffset(base, ..) => Some(base),
        _ => None,
    }
}

/// The targets of LLVM's aarch64 jump-table sequence ending at the `br`
/// of `decoded`: `adrp/add` of the table, `ldrb/ldrh/ldr w` of an entry,
/// `adr` of the base, `add xT, xBase, xEntry, lsl #2`, `br xT`. Entries are
/// read while they land inside the function (bounded by the `cmp` before
/// the range check when there is one).
pub(super) fn jump_table(
    decoded: &[Instruction],
    pc: u64,
    (start, end): (u64, u64),
    memory: &dyn Memory,
) -> Option<Vec<u64>> {
    let n = decoded.len();
    let br = decoded.last()?;
    let target = reg(&br.operands[0])?;
    let window = &decoded[n.saturating_sub(12)..n - 1];
    let pc_of = |k: usize| pc - 4 * (window.len() - k) as u64;
    // Constants set by adrp/add/adr in the window.
    let mut consts: std::collections::HashMap<Reg, u64> = Default::default();
    let mut base_reg = None;
    let mut entry = None; // (register loaded, table register, entry size)
    let mut bound = None;
    let mut absolute = None;
    for (k, ins) in window.iter().enumerate() {
        let o = ops(ins);
        let ipc = pc_of(k);
        match (ins.opcode, o.as_slice()) {
            (Opcode::ADRP, [d, Operand::PCOffset(off)]) => {
                if let Some(d) = reg(d) {
                    consts.insert(d, (ipc & !0xfff).wrapping_add(*off as u64));
                }
            }
            (Opcode::ADR, [d, Operand::PCOffset(off)]) => {
                if let Some(d) = reg(d) {
                    consts.insert(d, ipc.wrapping_add(*off as u64));
                }
            }
            (Opcode::ADD, [d, s, Operand::Immediate(v)]) => {
                if let (Some(d), Some(s)) = (reg(d), reg(s)) {
                    if let Some(c) = consts.get(&s).copied() {
                        consts.insert(d, c + *v as u64);
                    }
                }
            }
            // `goto *table[i]` (computed goto): absolute 8-byte entries.
            (
                Opcode::LDR,
                [d @ Operand::Register(SizeCode::X, _), Operand::RegRegOffset(t, _, _, _, _)],
            ) if reg(d) == Some(target) => {
                absolute = Some(*t);
            }
            (
                Opcode::LDRB | Opcode::LDRH | Opcode::LDR,
                [d, Operand::RegRegOffset(t, _, _, _, _)],
            ) => {
                let size = match ins.opcode {
                    Opcode::LDRB => 1,
                    Opcode::LDRH => 2,
                    _ => 4,
                };
                entry = Some((reg(d)?, *t, size));
            }
            (Opcode::ADD, [d, b, Operand::RegShift(_, 2, _, e)])
                if reg(d) == Some(target) && entry.is_some_and(|(r, _, _)| r == *e) =>
            {
                base_reg = reg(b);
            }
            (Opcode::SUBS, [Operand::Register(_, 31), _, Operand::Immediate(v)]) => {
                bound = Some(*v as usize + 1)
            }
            _ => {}
        }
    }
    if let Some(table) = absolute.and_then(|t| consts.get(&t).copied()) {
        let targets = absolute_table(memory, table, bound.unwrap_or(MAX_TABLE), (start, end));
        return (!targets.is_empty()).then_some(targets);
    }
    let (_, table_reg, size) = entry?;
    let table = *consts.get(&table_reg)?;
    let base = *consts.get(&base_reg?)?;
    let mut targets = Vec::new();
    for k in 0..bound.unwrap_or(MAX_TABLE).min(MAX_TABLE) {
        let Some(bytes) = memory.read(table + (k * size) as u64, size) else {
            break;
        };
        let mut v = [0u8; 4];
        v[..size].copy_from_slice(bytes);
        let e = if size == 4 {
            i32::from_le_bytes(v) as i64
        } else {
            u32::from_le_bytes(v) as i64
        };
        let t = base.wrapping_add((e << 2) as u64);
        if t < start || t >= end {
            if bound.is_some() {
                return None;
            }
            break;
        }
        targets.push(t);
    }
    (!targets.is_empty()).then_some(targets)
}
