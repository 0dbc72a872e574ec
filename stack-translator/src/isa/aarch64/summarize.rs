//! One aarch64 instruction's summary ([`MInst`]): its control flow, the
//! registers it reads and writes, what it does to the stack and frame
//! pointers, and its value; loads and stores in `memory`, values in
//! `values`.

use super::opcodes::{is_load, is_store, is_store_exclusive, keeps_destination, writes_nothing};
use super::operands::{ops, reg, source_regs};
use super::{memory, tables, values, CALLER_SAVED, FP, SP};
use crate::isa::Memory;
use crate::machine::{Flow, MInst, Op};
use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

/// Summarizes the last instruction of `decoded` (earlier ones are there
/// for jump-table patterns), at `pc`.
pub(super) fn summarize(
    decoded: &[Instruction],
    pc: u64,
    range: (u64, u64),
    memory: &dyn Memory,
) -> MInst {
    let ins = decoded.last().unwrap();
    let mut m = MInst::new(pc, 4, ins.to_string());
    let operands = ops(ins);
    let op = ins.opcode;
    let pc_target = operands.iter().find_map(|o| match o {
        Operand::PCOffset(off) => Some(pc.wrapping_add(*off as u64)),
        _ => None,
    });
    m.flow = control_flow(decoded, op, pc, pc_target, range, memory);
    if let Flow::Call { .. } = m.flow {
        m.reads = operands.iter().flat_map(|o| source_regs(o)).collect();
        m.writes = CALLER_SAVED.to_vec();
        return m;
    }
    if matches!(m.flow, Flow::Return | Flow::Jump(_) | Flow::Stop) && op != Opcode::BR {
        return m;
    }
    if is_load(op) || is_store(op) || is_store_exclusive(op) {
        memory::load_or_store(&mut m, op, &operands, pc_target, memory);
        return m;
    }
    let dest = if writes_nothing(op) {
        None
    } else {
        operands.first().copied()
    };
    registers(&mut m, op, &operands, dest);
    if add_immediate(&mut m, op, &operands, dest) {
        return m;
    }
    if m.writes.contains(&SP) {
        m.sp_unknown = true;
    }
    m.op = values::value_op(op, dest.and_then(reg), &operands, pc, pc_target);
    m
}

/// Where control goes after `op`.
fn control_flow(
    decoded: &[Instruction],
    op: Opcode,
    pc: u64,
    pc_target: Option<u64>,
    range: (u64, u64),
    memory: &dyn Memory,
) -> Flow {
    match op {
        Opcode::B => Flow::Jump(pc_target.unwrap_or(pc)),
        Opcode::Bcc(_) | Opcode::CBZ | Opcode::CBNZ | Opcode::TBZ | Opcode::TBNZ => {
            Flow::Branch(pc_target.unwrap_or(pc))
        }
        Opcode::BL => Flow::Call { target: pc_target },
        Opcode::BLR => Flow::Call { target: None },
        Opcode::BR => match tables::jump_table(decoded, pc, range, memory) {
            Some(targets) => Flow::Switch(Some(targets)),
            // Resolved after the whole function is decoded, if it can be.
            None => Flow::Switch(None),
        },
        Opcode::RET => Flow::Return,
        Opcode::BRK | Opcode::HLT | Opcode::UDF => Flow::Stop,
        _ => Flow::Next,
    }
}

/// The registers an instruction other than a load or store reads and
/// writes: its first operand is the destination unless it
/// `writes_nothing`.
fn registers(m: &mut MInst, op: Opcode, operands: &[&Operand], dest: Option<&Operand>) {
    let sources = if dest.is_some() {
        &operands[1..]
    } else {
        operands
    };
    for o in sources {
        m.reads.extend(source_regs(o));
    }
    if let Some(d) = dest {
        let regs = source_regs(d);
        if keeps_destination(op) {
            m.reads.extend(regs.iter().copied());
        }
        m.writes.extend(regs);
    }
    m.reads.sort_unstable();
    m.reads.dedup();
    m.writes.sort_unstable();
    m.writes.dedup();
}

/// `add`/`sub`/`adds`/`subs` of an immediate: moves of the stack and frame
/// pointers, and sums the certifier follows. True if `op` is one (the
/// summary is then complete).
fn add_immediate(m: &mut MInst, op: Opcode, operands: &[&Operand], dest: Option<&Operand>) -> bool {
    let imm = |o: &Operand| match *o {
        Operand::Immediate(v) => Some(v as i64),
        Operand::ImmShift(v, s) => Some((v as i64) << s),
        _ => None,
    };
    let dst_reg = dest.and_then(|d| match d {
        Operand::RegisterOrSP(_, n) | Operand::Register(_, n) => Some(*n),
        _ => None,
    });
    if matches!(op, Opcode::ADD | Opcode::SUB) && operands.len() == 3 {
        let src = match operands[1] {
            Operand::RegisterOrSP(_, n) | Operand::Register(_, n) => Some(*n),
            _ => None,
        };
        if let (Some(d), Some(s), Some(k)) = (dst_reg, src, imm(operands[2])) {
            let k = if op == Opcode::SUB { -k } else { k };
            match (d, s) {
                (SP, SP) => m.sp_after = k,
                (FP, SP) => m.fp_from_sp = Some(k),
                (SP, FP) => m.sp_from_fp = Some(k),
                (SP, _) => m.sp_unknown = true,
                _ => {}
            }
            if d != SP && d != 31 || d == FP {
                m.op = Op::AddrOf {
                    dst: d,
                    base: s,
                    disp: k,
                };
            }
            if d == SP {
                m.writes.retain(|r| *r != SP);
            }
            return true;
        }
    }
    // adds/subs with an immediate: the same sum, and the flags (`subs x12,
    // x11, #1` keeps p - 1 for a later use); into xzr it is a compare.
    if matches!(op, Opcode::ADDS | Opcode::SUBS) && operands.len() == 3 {
        let src = match operands[1] {
            Operand::RegisterOrSP(_, n) | Operand::Register(_, n) => Some(*n),
            _ => None,
        };
        if let (Some(d), Some(s), Some(k)) = (dst_reg, src, imm(operands[2])) {
            if d != 31 {
                m.op = Op::AddrOf {
                    dst: d,
                    base: s,
                    disp: if op == Opcode::SUBS { -k } else { k },
                };
            }
            return true;
        }
    }
    false
}
