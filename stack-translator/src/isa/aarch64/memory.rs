//! aarch64 loads and stores: the stack slots they read and write, the
//! base registers they step (pre- and post-index), and the values of
//! spills, reloads and the register pairs of prologues and epilogues.

use super::opcodes::{access_size, is_load, is_store, is_store_exclusive};
use super::operands::{reg, source_regs};
use super::SP;
use crate::isa::Memory;
use crate::machine::{MInst, Mem, Op, Place, Reg};
use yaxpeax_arm::armv8::a64::{Opcode, Operand, SizeCode};

/// A load or store (`is_load`, `is_store` or `is_store_exclusive`):
/// its registers, memory, stack-pointer steps and value.
pub(super) fn load_or_store(
    m: &mut MInst,
    op: Opcode,
    operands: &[&Operand],
    pc_target: Option<u64>,
    memory: &dyn Memory,
) {
    let mem_op = operands.iter().position(|o| {
        matches!(
            o,
            Operand::RegPreIndex(..)
                | Operand::RegPostIndex(..)
                | Operand::RegRegOffset(..)
                | Operand::RegPostIndexReg(..)
        )
    });
    let Some(mi) = mem_op else {
        // A literal load: `ldr x0, =value` reads the image.
        if is_load(op) {
            literal_load(m, op, operands, pc_target, memory);
        }
        return;
    };
    let first_data = usize::from(is_store_exclusive(op));
    let data: Vec<&Operand> = operands[first_data..mi].to_vec();
    let size = data.first().map_or(8, |d| access_size(op, d));
    let (base, disp, before, after) = match *operands[mi] {
        Operand::RegPreIndex(b, off, true) => (Some(b), 0, off as i64, 0),
        Operand::RegPreIndex(b, off, false) => (Some(b), off as i64, 0, 0),
        Operand::RegPostIndex(b, off) => (Some(b), 0, 0, off as i64),
        _ => (None, 0, 0, 0),
    };
    m.reads.extend(source_regs(operands[mi]));
    if let Some(b) = base {
        if before != 0 || after != 0 {
            if b == SP {
                m.sp_before = before;
                m.sp_after = after;
            } else {
                m.writes.push(b);
                m.writeback = Some((b, before + after));
            }
        }
        for (k, _) in data.iter().enumerate() {
            let mem = Mem {
                base: b,
                disp: disp + k as i64 * size as i64,
                size,
            };
            if is_load(op) {
                m.loads.push(mem);
            } else {
                m.stores.push(mem);
            }
        }
    }
    if is_store_exclusive(op) {
        m.writes.extend(reg(operands[0]));
    }
    for d in &data {
        if is_load(op) {
            m.writes.extend(source_regs(d));
        } else {
            m.reads.extend(source_regs(d));
        }
    }
    m.op = access_value(op, &data, base, disp, size);
}

/// The value a load or store moves between the registers `data` and
/// `size` bytes each at `base + disp`: a zero stored, a copy of one
/// register (extended by the sign-extending loads), or of a pair.
fn access_value(op: Opcode, data: &[&Operand], base: Option<Reg>, disp: i64, size: u32) -> Op {
    // A store of the zero register: a constant (`stur xzr, [x29,
    // #-0x78]`, one arm of a phi kept in memory).
    if let (1, Some(b), Operand::Register(_, 31)) = (data.len(), base, data[0]) {
        if is_store(op) {
            return Op::Const {
                dst: Place::Mem(Mem {
                    base: b,
                    disp,
                    size,
                }),
                value: 0,
            };
        }
        return Op::Other;
    }
    // Spills and reloads of one register: a copy.
    if let (1, Some(b)) = (data.len(), base) {
        if let Some(r) = reg(data[0]) {
            let place = Place::Mem(Mem {
                base: b,
                disp,
                size,
            });
            // Narrow loads zero-extend, the sign-extending ones
            // (`ldrsw`) extend from the bytes loaded; narrow stores
            // keep the low bytes.
            let to32 = matches!(data[0], Operand::Register(SizeCode::W, _));
            let sign_extending = matches!(
                op,
                Opcode::LDRSW
                    | Opcode::LDURSW
                    | Opcode::LDRSB
                    | Opcode::LDRSH
                    | Opcode::LDURSB
                    | Opcode::LDURSH
            );
            return match is_load(op) {
                true if sign_extending => Op::Extend {
                    dst: r,
                    src: place,
                    size: size as u8,
                    signed: true,
                    to32,
                },
                true => Op::Copy {
                    dst: Place::Reg(r),
                    src: place,
                },
                false if is_store(op) => Op::Copy {
                    dst: place,
                    src: Place::Reg(r),
                },
                _ => Op::Other,
            };
        }
    } else if data.len() == 2
        && size >= 4
        && matches!(op, Opcode::STP | Opcode::LDP | Opcode::STNP | Opcode::LDNP)
    {
        // stp/ldp: how prologues save and epilogues restore registers.
        if let (Some(b), Some(r0), Some(r1)) = (base, reg(data[0]), reg(data[1])) {
            let mem = |k: i64| {
                Place::Mem(Mem {
                    base: b,
                    disp: disp + k * size as i64,
                    size,
                })
            };
            let (a, c) = (Place::Reg(r0), Place::Reg(r1));
            return if is_load(op) {
                Op::CopyPair {
                    first: (a, mem(0)),
                    second: (c, mem(1)),
                }
            } else {
                Op::CopyPair {
                    first: (mem(0), a),
                    second: (mem(1), c),
                }
            };
        }
    }
    Op::Other
}

/// `ldr x0, =value`: a constant, read from the image.
fn literal_load(
    m: &mut MInst,
    op: Opcode,
    operands: &[&Operand],
    pc_target: Option<u64>,
    memory: &dyn Memory,
) {
    if let (Some(dst), Some(t)) = (operands.first().and_then(|o| reg(o)), pc_target) {
        m.writes.push(dst);
        let size = access_size(op, operands[0]) as usize;
        if let Some(bytes) = memory.read(t, size) {
            let mut v = [0u8; 8];
            v[..size.min(8)].copy_from_slice(&bytes[..size.min(8)]);
            if size <= 8 {
                m.op = Op::Const {
                    dst: Place::Reg(dst),
                    value: i64::from_le_bytes(v),
                };
            }
        }
    }
}
