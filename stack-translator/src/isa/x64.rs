//! x86_64: System V psABI DWARF register numbering, calling convention,
//! and decoding with iced-x86 into [`MInst`]s.

use super::{absolute_table, Isa, Memory, MAX_TABLE};
use crate::machine::{Flow, MInst, Mem, Op, Place, Reg, BYTE0, BYTE1, BYTES2_3, BYTES4_UP};
use anyhow::{bail, Result};
use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, GasFormatter, Instruction,
    InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register,
};
use migrate_format::Arch;

pub struct X64;

const RSP: Reg = 7;
const RBP: Reg = 6;
/// rbx, rbp, r12-r15.
const CALLEE_SAVED: &[Reg] = &[3, 6, 12, 13, 14, 15];
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

/// One instruction's summary.
fn summarize(
    ins: &Instruction,
    factory: &mut InstructionInfoFactory,
    text: String,
    range: (u64, u64),
    memory: &dyn Memory,
) -> MInst {
    let mut m = MInst::new(ins.ip(), ins.len() as u32, text);
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
            return m;
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
            return m;
        }
        _ => {}
    }
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

    m.flow = match ins.flow_control() {
        FlowControl::Next | FlowControl::XbeginXabortXend => Flow::Next,
        FlowControl::Call | FlowControl::IndirectCall => Flow::Call {
            target: (ins.flow_control() == FlowControl::Call).then(|| ins.near_branch_target()),
        },
        FlowControl::UnconditionalBranch => Flow::Jump(ins.near_branch_target()),
        FlowControl::ConditionalBranch => Flow::Branch(ins.near_branch_target()),
        FlowControl::IndirectBranch => Flow::Switch(jump_table(ins, range, memory)),
        FlowControl::Return => Flow::Return,
        FlowControl::Interrupt | FlowControl::Exception => Flow::Stop,
    };
    if m.flow == Flow::Return {
        // Reading the return address is frame geometry, not a value.
        m.loads.clear();
        return m;
    }
    if matches!(m.flow, Flow::Call { .. }) {
        // The call pushes and pops its return address: no net change, and
        // the callee's reads and writes are the calling convention's.
        m.reads.clear();
        m.writes = CALLER_SAVED.to_vec();
        m.loads.clear();
        m.stores.clear();
        return m;
    }

    // The stack pointer.
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

    // What the result is, where it can be followed.
    let reg0 = (ins.op_count() >= 1 && ins.op0_kind() == OpKind::Register)
        .then(|| dwarf(ins.op0_register()))
        .flatten();
    let full64 =
        ins.op_count() >= 1 && ins.op0_kind() == OpKind::Register && ins.op0_register().is_gpr64();
    m.op = match ins.mnemonic() {
        Mnemonic::Mov
        | Mnemonic::Movaps
        | Mnemonic::Movapd
        | Mnemonic::Movups
        | Mnemonic::Movdqa
        | Mnemonic::Movq
        | Mnemonic::Movsd
        | Mnemonic::Movss
            if ins.op_count() == 2 =>
        {
            let place = |k: u32| match ins.op_kind(k) {
                OpKind::Register => dwarf(ins.op_register(k)).map(Place::Reg),
                OpKind::Memory => based(
                    ins.memory_base(),
                    ins.memory_index(),
                    ins.memory_displacement64(),
                    ins.memory_size().size(),
                )
                .map(Place::Mem),
                _ => None,
            };
            // 32-bit writes zero the upper half: a 32-bit value moved
            // through `movl` keeps its value. 8- and 16-bit ones merge.
            let width_ok = ins.op0_kind() != OpKind::Register
                || !ins.op0_register().is_gpr()
                || ins.op0_register().size() >= 4;
            match (place(0), place(1), ins.op1_kind()) {
                (Some(dst), _, OpKind::Immediate32to64 | OpKind::Immediate64) => Op::Const {
                    dst,
                    value: ins.immediate(1) as i64,
                },
                // A 32-bit write zero-extends. An 8- or 16-bit one keeps
                // the upper bits, but only the low ones are the IR value
                // (an i8 or i16): the constant is what matters.
                (Some(dst), _, OpKind::Immediate32 | OpKind::Immediate16 | OpKind::Immediate8) => {
                    Op::Const {
                        dst,
                        value: ins.immediate(1) as i64,
                    }
                }
                (Some(dst), Some(src), _) if width_ok => Op::Copy { dst, src },
                _ => Op::Other,
            }
        }
        Mnemonic::Lea if full64 => match (reg0, ins.memory_base(), ins.memory_index()) {
            (Some(dst), Register::RIP, Register::None) => Op::Const {
                dst: Place::Reg(dst),
                value: ins.ip_rel_memory_address() as i64,
            },
            (Some(dst), Register::None, Register::None) => Op::Const {
                dst: Place::Reg(dst),
                value: ins.memory_displacement64() as i64,
            },
            (Some(dst), base, Register::None) => match dwarf(base) {
                Some(b) => Op::AddrOf {
                    dst,
                    base: b,
                    disp: ins.memory_displacement64() as i64,
                },
                None => Op::Other,
            },
            // One register scaled: `lea 0(,%rax,8)`, `lea (%rax,%rax,8)`.
            (Some(dst), base, index) if base == Register::None || base == index => {
                match dwarf(index) {
                    Some(src) if index.is_gpr64() => Op::Scale {
                        dst,
                        src,
                        times: ins.memory_index_scale() as i64 + i64::from(base != Register::None),
                        plus: ins.memory_displacement64() as i64,
                    },
                    _ => Op::Other,
                }
            }
            // Two registers: `lea -0x60(%rbp,%rax,8),%rbx`.
            (Some(dst), base, index) if base.is_gpr64() && index.is_gpr64() => {
                match (dwarf(base), dwarf(index)) {
                    (Some(b), Some(x)) => Op::AddRegs {
                        dst,
                        base: b,
                        index: x,
                        times: ins.memory_index_scale() as i64,
                        disp: ins.memory_displacement64() as i64,
                    },
                    _ => Op::Other,
                }
            }
            _ => Op::Other,
        },
        // Extensions of a register (`movslq %edi,%rdx`, `movzbl %r14b,%eax`),
        // and sign-extending loads (`movslq -0x10(%rbp),%rax`).
        Mnemonic::Movsx | Mnemonic::Movsxd | Mnemonic::Movzx
            if ins.op_count() == 2
                && ins.op0_kind() == OpKind::Register
                && ins.op0_register().size() >= 4
                && (ins.op1_kind() == OpKind::Register || ins.mnemonic() != Mnemonic::Movzx) =>
        {
            let signed = ins.mnemonic() != Mnemonic::Movzx;
            let (src, size) = match ins.op1_kind() {
                OpKind::Register => (
                    dwarf(ins.op1_register()).map(Place::Reg),
                    ins.op1_register().size(),
                ),
                _ => (
                    based(
                        ins.memory_base(),
                        ins.memory_index(),
                        ins.memory_displacement64(),
                        ins.memory_size().size(),
                    )
                    .map(Place::Mem),
                    ins.memory_size().size(),
                ),
            };
            // `movslq %edi,%rdi` has no high-byte register (ah) source;
            // those are not dwarf registers and give None here.
            let high_byte = ins.op1_kind() == OpKind::Register
                && matches!(
                    ins.op1_register(),
                    Register::AH | Register::BH | Register::CH | Register::DH
                );
            match (reg0, src) {
                (Some(dst), Some(src)) if !high_byte && size < 8 => Op::Extend {
                    dst,
                    src,
                    size: size as u8,
                    signed,
                    to32: ins.op0_register().size() == 4,
                },
                _ => Op::Other,
            }
        }
        // A zero-extending load of one or two bytes (a spilled i8 or i16).
        Mnemonic::Movzx
            if ins.op_count() == 2
                && ins.op1_kind() == OpKind::Memory
                && ins.op0_register().size() >= 4 =>
        {
            match (
                reg0,
                based(
                    ins.memory_base(),
                    ins.memory_index(),
                    ins.memory_displacement64(),
                    ins.memory_size().size(),
                ),
            ) {
                (Some(dst), Some(mem)) => Op::Copy {
                    dst: Place::Reg(dst),
                    src: Place::Mem(mem),
                },
                _ => Op::Other,
            }
        }
        // `imul $k,%src,%dst` and `shl $k,%reg`, 64-bit.
        Mnemonic::Imul
            if full64
                && ins.op_count() == 3
                && ins.op1_kind() == OpKind::Register
                && ins.op1_register().is_gpr64() =>
        {
            match (reg0, dwarf(ins.op1_register())) {
                (Some(dst), Some(src)) => Op::Scale {
                    dst,
                    src,
                    times: ins.immediate(2) as i64,
                    plus: 0,
                },
                _ => Op::Other,
            }
        }
        Mnemonic::Shl if full64 && ins.op_count() == 2 && ins.op1_kind() == OpKind::Immediate8 => {
            match reg0 {
                Some(dst) if ins.immediate(1) < 63 => Op::Scale {
                    dst,
                    src: dst,
                    times: 1i64 << ins.immediate(1),
                    plus: 0,
                },
                _ => Op::Other,
            }
        }
        // A 64-bit register plus or minus another.
        Mnemonic::Add | Mnemonic::Sub
            if full64 && ins.op1_kind() == OpKind::Register && ins.op1_register().is_gpr64() =>
        {
            match (reg0, dwarf(ins.op1_register())) {
                (Some(dst), Some(other)) if dst != RSP => Op::AddRegs {
                    dst,
                    base: dst,
                    index: other,
                    times: if ins.mnemonic() == Mnemonic::Add {
                        1
                    } else {
                        -1
                    },
                    disp: 0,
                },
                _ => Op::Other,
            }
        }
        // A 64-bit register plus or minus a constant (`add $8,%rax`: the
        // next element's address, kept across a call).
        Mnemonic::Add | Mnemonic::Sub
            if full64
                && ins.op0_kind() == OpKind::Register
                && matches!(
                    ins.op1_kind(),
                    OpKind::Immediate8to64 | OpKind::Immediate32to64
                ) =>
        {
            match reg0 {
                Some(dst) if dst != RSP => {
                    let k = ins.immediate(1) as i64;
                    Op::AddrOf {
                        dst,
                        base: dst,
                        disp: if ins.mnemonic() == Mnemonic::Add {
                            k
                        } else {
                            -k
                        },
                    }
                }
                _ => Op::Other,
            }
        }
        // xor r, r is how x86 writes zero (pxor/xorps/xorpd for vectors).
        Mnemonic::Xor | Mnemonic::Pxor | Mnemonic::Xorps | Mnemonic::Xorpd
            if ins.op_count() == 2
                && ins.op0_kind() == OpKind::Register
                && ins.op1_kind() == OpKind::Register
                && ins.op0_register() == ins.op1_register() =>
        {
            m.reads.retain(|r| Some(*r) != reg0);
            match reg0 {
                Some(dst) => Op::Const {
                    dst: Place::Reg(dst),
                    value: 0,
                },
                None => Op::Other,
            }
        }
        _ => Op::Other,
    };
    m
}

/// True if `r` is also a source operand of `ins` (`addsd %xmm0,%xmm0`).
fn reads_operand(ins: &Instruction, r: Register) -> bool {
    (1..ins.op_count()).any(|k| ins.op_kind(k) == OpKind::Register && ins.op_register(k) == r)
}

/// The targets of `jmp *table(,%reg,8)`: the table's 8-byte entries, read
/// while they point into the function. `None` for other indirect jumps.
fn jump_table(ins: &Instruction, range: (u64, u64), memory: &dyn Memory) -> Option<Vec<u64>> {
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
fn bound_jump_tables(
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
                bail!("undecodable x86_64 instruction at {:#x}", ins.ip());
            }
            let mut text = String::new();
            formatter.format(&ins, &mut text);
            out.push(summarize(&ins, &mut factory, text, range, memory));
            decoded.push(ins);
        }
        bound_jump_tables(&decoded, &mut out, range, memory);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::NoMemory;

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
