//! One x86_64 instruction's summary ([`MInst`]): what it reads and
//! writes, its control flow, its effect on the stack pointer, and its
//! value (`values`).

use super::values::value_op;
use super::{based, dwarf, gpr_bytes, tables, CALLER_SAVED, RSP, WHOLE_REG};
use crate::isa::Memory;
use crate::machine::{Flow, MInst, Mem, Op, Place, Reg, BYTES2_3};
use iced_x86::{
    FlowControl, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register,
};

/// One instruction's summary.
pub(super) fn summarize(
    ins: &Instruction,
    factory: &mut InstructionInfoFactory,
    text: String,
    range: (u64, u64),
    memory: &dyn Memory,
) -> MInst {
    let mut m = MInst::new(ins.ip(), ins.len() as u32, text);
    if push_or_pop(ins, &mut m) {
        return m;
    }
    registers_and_memory(ins, factory, &mut m);
    m.flow = control_flow(ins, range, memory);
    if m.flow == Flow::Return {
        // Reading the return address is frame geometry, not a value.
        m.loads.clear();
        return m;
    }
    if matches!(m.flow, Flow::Call { .. }) {
        // The call pushes and pops its return address: no net change, and
        // the callee's reads and writes are the calling convention's. An
        // indirect call also reads its target: a register, or memory (`call
        // *-0x30(%rbp)`, the slot must stay live up to it).
        if ins.flow_control() == FlowControl::IndirectCall {
            m.reads.retain(|&r| r != RSP);
        } else {
            m.reads.clear();
            m.loads.clear();
        }
        m.writes = CALLER_SAVED.to_vec();
        m.stores.clear();
        return m;
    }
    stack_pointer(ins, &mut m);
    m.op = value_op(ins, &mut m.reads);
    m
}

/// `push` and `pop`: a copy between a register and the top of the stack,
/// which moves. True if `ins` is one (its summary is then complete).
fn push_or_pop(ins: &Instruction, m: &mut MInst) -> bool {
    match ins.mnemonic() {
        Mnemonic::Push => {
            m.sp_before = -8;
            m.stores.push(Mem {
                base: RSP,
                disp: 0,
                size: 8,
            });
            if ins.op0_kind() == OpKind::Register {
                m.reads.extend(dwarf(ins.op0_register()));
                if let Some(r) = dwarf(ins.op0_register()) {
                    m.op = Op::Copy {
                        dst: Place::Mem(Mem {
                            base: RSP,
                            disp: 0,
                            size: 8,
                        }),
                        src: Place::Reg(r),
                    };
                }
            }
            true
        }
        Mnemonic::Pop => {
            m.sp_after = 8;
            m.loads.push(Mem {
                base: RSP,
                disp: 0,
                size: 8,
            });
            if ins.op0_kind() == OpKind::Register {
                if let Some(r) = dwarf(ins.op0_register()) {
                    m.writes.push(r);
                    m.op = Op::Copy {
                        dst: Place::Reg(r),
                        src: Place::Mem(Mem {
                            base: RSP,
                            disp: 0,
                            size: 8,
                        }),
                    };
                }
            }
            true
        }
        _ => false,
    }
}

/// The registers (with the bytes of each) and the stack slots `ins` reads
/// and writes.
fn registers_and_memory(ins: &Instruction, factory: &mut InstructionInfoFactory, m: &mut MInst) {
    // Scalar SSE operations that keep the destination's upper lanes.
    let merges_upper_lanes = matches!(
        ins.mnemonic(),
        Mnemonic::Cvtsi2sd
            | Mnemonic::Cvtsi2ss
            | Mnemonic::Cvtss2sd
            | Mnemonic::Cvtsd2ss
            | Mnemonic::Sqrtsd
            | Mnemonic::Sqrtss
            | Mnemonic::Roundsd
            | Mnemonic::Roundss
    ) || (matches!(ins.mnemonic(), Mnemonic::Movsd | Mnemonic::Movss)
        && ins.op1_kind() == OpKind::Register);
    let info = factory.info(ins);
    // Bytes read and written per register (see `machine::BYTE0`).
    let mut read: Vec<(Reg, u8)> = Vec::new();
    let mut written: Vec<(Reg, u8)> = Vec::new();
    let add =
        |list: &mut Vec<(Reg, u8)>, r: Reg, bytes: u8| match list.iter_mut().find(|e| e.0 == r) {
            Some(e) => e.1 |= bytes,
            None => list.push((r, bytes)),
        };
    for u in info.used_registers() {
        let Some(r) = dwarf(u.register()) else {
            continue;
        };
        let bytes = gpr_bytes(u.register());
        // Writing 8 or 16 bits of a general register leaves the rest: only
        // those bytes are written (32-bit writes clear the upper half).
        let write_bytes = if bytes & BYTES2_3 == 0 {
            bytes
        } else {
            WHOLE_REG
        };
        // Scalar SSE operations keep the destination's upper lanes: a read
        // too. Not for registers a call clobbers, though: only the low lane
        // is the IR value (a double), and anything older in the rest is
        // garbage after a call.
        let keeps_lanes = merges_upper_lanes
            && ins.op0_kind() == OpKind::Register
            && ins.op0_register() == u.register();
        let partial = keeps_lanes && !CALLER_SAVED.contains(&r);
        let as_write = keeps_lanes && CALLER_SAVED.contains(&r);
        match u.access() {
            OpAccess::Read | OpAccess::CondRead => add(&mut read, r, bytes),
            OpAccess::Write if !partial => add(&mut written, r, write_bytes),
            OpAccess::ReadWrite if as_write && !reads_operand(ins, u.register()) => {
                add(&mut written, r, write_bytes)
            }
            OpAccess::Write | OpAccess::ReadWrite | OpAccess::ReadCondWrite => {
                add(&mut read, r, bytes);
                add(&mut written, r, write_bytes);
            }
            // Written on some paths only: the old value may survive.
            OpAccess::CondWrite => {
                add(&mut read, r, bytes);
                add(&mut written, r, write_bytes);
            }
            _ => {}
        }
    }
    for (r, bytes) in read {
        m.reads.push(r);
        if bytes != WHOLE_REG {
            m.narrow_reads.push((r, bytes));
        }
    }
    for (r, bytes) in written {
        m.writes.push(r);
        if bytes != WHOLE_REG {
            m.narrow_writes.push((r, bytes));
        }
    }
    for u in info.used_memory() {
        let size = u.memory_size().size();
        if let Some(mem) = based(u.base(), u.index(), u.displacement(), size) {
            match u.access() {
                OpAccess::Read | OpAccess::CondRead => m.loads.push(mem),
                OpAccess::Write | OpAccess::CondWrite => m.stores.push(mem),
                OpAccess::ReadWrite | OpAccess::ReadCondWrite => {
                    m.loads.push(mem);
                    m.stores.push(mem);
                }
                _ => {}
            }
        }
    }
    m.reads.sort_unstable();
    m.reads.dedup();
    m.writes.sort_unstable();
    m.writes.dedup();
}

/// True if `r` is also a source operand of `ins` (`addsd %xmm0,%xmm0`).
fn reads_operand(ins: &Instruction, r: Register) -> bool {
    (1..ins.op_count()).any(|k| ins.op_kind(k) == OpKind::Register && ins.op_register(k) == r)
}

/// Where control goes after `ins`.
fn control_flow(ins: &Instruction, range: (u64, u64), memory: &dyn Memory) -> Flow {
    match ins.flow_control() {
        FlowControl::Next | FlowControl::XbeginXabortXend => Flow::Next,
        FlowControl::Call | FlowControl::IndirectCall => Flow::Call {
            target: (ins.flow_control() == FlowControl::Call).then(|| ins.near_branch_target()),
        },
        FlowControl::UnconditionalBranch => Flow::Jump(ins.near_branch_target()),
        FlowControl::ConditionalBranch => Flow::Branch(ins.near_branch_target()),
        FlowControl::IndirectBranch => Flow::Switch(tables::jump_table(ins, range, memory)),
        FlowControl::Return => Flow::Return,
        FlowControl::Interrupt | FlowControl::Exception => Flow::Stop,
    }
}

/// How `ins` moves the stack pointer, or sets it from the frame pointer
/// (or the other way round).
fn stack_pointer(ins: &Instruction, m: &mut MInst) {
    let writes_sp = m.writes.contains(&RSP);
    let imm = |i: u32| ins.immediate(i) as i64;
    match (ins.mnemonic(), ins.op0_kind(), ins.op0_register()) {
        (Mnemonic::Sub, OpKind::Register, Register::RSP) if ins.op1_kind() != OpKind::Register => {
            m.sp_after = -imm(1)
        }
        (Mnemonic::Add, OpKind::Register, Register::RSP) if ins.op1_kind() != OpKind::Register => {
            m.sp_after = imm(1)
        }
        (Mnemonic::Lea, OpKind::Register, Register::RSP)
            if ins.memory_base() == Register::RBP && ins.memory_index() == Register::None =>
        {
            m.sp_from_fp = Some(ins.memory_displacement64() as i64)
        }
        (Mnemonic::Mov, OpKind::Register, Register::RSP)
            if ins.op1_kind() == OpKind::Register && ins.op1_register() == Register::RBP =>
        {
            m.sp_from_fp = Some(0)
        }
        (Mnemonic::Mov, OpKind::Register, Register::RBP)
            if ins.op1_kind() == OpKind::Register && ins.op1_register() == Register::RSP =>
        {
            m.fp_from_sp = Some(0)
        }
        _ if writes_sp => m.sp_unknown = true,
        _ => {}
    }
}
