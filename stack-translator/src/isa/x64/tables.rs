//! x86_64 jump tables: `jmp *table(,%reg,8)` reads 8-byte absolute
//! targets, as many as the range check before it allows.

use crate::isa::{absolute_table, Memory, MAX_TABLE};
use crate::machine::{Flow, MInst};
use iced_x86::{FlowControl, Instruction, Mnemonic, OpKind, Register};

/// The targets of `jmp *table(,%reg,8)`: the table's 8-byte entries, read
/// while they point into the function. `None` for other indirect jumps.
pub(super) fn jump_table(
    ins: &Instruction,
    range: (u64, u64),
    memory: &dyn Memory,
) -> Option<Vec<u64>> {
    read_table(ins, range, memory, MAX_TABLE)
}

/// The table address of `jmp *table(,%reg,8)`.
fn table_address(ins: &Instruction) -> Option<u64> {
    (ins.flow_control() == FlowControl::IndirectBranch
        && ins.op0_kind() == OpKind::Memory
        && ins.memory_base() == Register::None
        && ins.memory_index() != Register::None
        && ins.memory_index_scale() == 8)
        .then(|| ins.memory_displacement64())
}

/// Up to `max` entries of the table of `ins`, while they point into the
/// function.
fn read_table(
    ins: &Instruction,
    range: (u64, u64),
    memory: &dyn Memory,
    max: usize,
) -> Option<Vec<u64>> {
    let targets = absolute_table(memory, table_address(ins)?, max, range);
    (!targets.is_empty()).then_some(targets)
}

/// Reading a table until an entry leaves the function runs into the
/// tables after it (LLVM puts a function's tables one after another), and
/// their targets become false successors that make registers look live.
/// Each table ends where the next one of the function starts, and after
/// the entries the range check before the jump allows
/// (`cmp $N,%idx; ja default`: N + 1).
pub(super) fn bound_jump_tables(
    decoded: &[Instruction],
    out: &mut [MInst],
    range: (u64, u64),
    memory: &dyn Memory,
) {
    let mut bases: Vec<u64> = decoded.iter().filter_map(table_address).collect();
    bases.sort_unstable();
    bases.dedup();
    for (i, ins) in decoded.iter().enumerate() {
        let Some(base) = table_address(ins) else {
            continue;
        };
        let mut max = MAX_TABLE;
        if let Some(next) = bases.iter().find(|b| **b > base) {
            max = max.min(((next - base) / 8) as usize);
        }
        if let Some(n) = range_check(&decoded[..i], ins.memory_index().full_register()) {
            max = max.min(n);
        }
        out[i].flow = Flow::Switch(read_table(ins, range, memory, max));
    }
}

/// The number of table entries the range check just before a table jump
/// allows: `cmp $N,%idx` then `ja` (N + 1 entries) or `jae` (N), with
/// only 32-bit register copies into the index in between.
fn range_check(before: &[Instruction], index: Register) -> Option<usize> {
    let mut index = index;
    let mut inclusive = None;
    for ins in before.iter().rev().take(8) {
        match ins.mnemonic() {
            Mnemonic::Ja if inclusive.is_none() => inclusive = Some(true),
            Mnemonic::Jae if inclusive.is_none() => inclusive = Some(false),
            Mnemonic::Cmp if inclusive.is_some() => {
                let imm = matches!(
                    ins.op1_kind(),
                    OpKind::Immediate8
                        | OpKind::Immediate8to32
                        | OpKind::Immediate8to64
                        | OpKind::Immediate32
                        | OpKind::Immediate32to64
                );
                if ins.op0_kind() != OpKind::Register
                    || !imm
                    || ins.op0_register().full_register() != index
                {
                    return None;
                }
                let n = ins.immediate(1) as usize;
                return Some(if inclusive == Some(true) { n + 1 } else { n });
            }
            Mnemonic::Mov
                if ins.op0_kind() == OpKind::Register
                    && ins.op0_register().full_register() == index =>
            {
                if ins.op1_kind() != OpKind::Register {
                    return None;
                }
                index = ins.op1_register().full_register();
            }
            // Anything else that writes the index, or leaves the block.
            Mnemonic::Cmp | Mnemonic::Test => {}
            _ if ins.op_count() > 0
                && ins.op0_kind() == OpKind::Register
                && ins.op0_register().full_register() == index =>
            {
                return None
            }
            _ if ins.flow_control() != FlowControl::Next => return None,
            _ => {}
        }
    }
    None
}
