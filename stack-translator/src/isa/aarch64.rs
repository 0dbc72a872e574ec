//! aarch64 (AAPCS64 DWARF register numbering).

use super::{absolute_table, Isa, Memory, MAX_TABLE};
use crate::machine::{Flow, MInst, Mem, Op, Place, Reg};
use anyhow::{bail, Result};
use migrate_format::Arch;
use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{
    InstDecoder, Instruction, Opcode, Operand, SIMDSizeCode, ShiftStyle, SizeCode,
};

pub struct Aarch64;

/// x19-x28, x29 (frame pointer), d8-d15 (the low halves of v8-v15).
const CALLEE_SAVED: &[Reg] = &[
    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 72, 73, 74, 75, 76, 77, 78, 79,
];
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
                Err(e) => bail!("undecodable aarch64 instruction at {pc:#x}: {e}"),
            };
            decoded.push(ins);
            let m = summarize(&decoded, pc, range, memory);
            out.push(m);
        }
        for (i, m) in out.iter_mut().enumerate() {
            if m.flow == Flow::Switch(None) {
                m.table_base = table_register(&decoded, i);
            }
        }
        Ok(out)
    }
}

const SP: Reg = 31;
const FP: Reg = 29;

/// The DWARF register an operand names (the zero register names none).
fn reg(op: &Operand) -> Option<Reg> {
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
fn source_regs(op: &Operand) -> Vec<Reg> {
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
fn width(op: &Operand) -> u32 {
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

fn is_load(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        LDR | LDRB
            | LDRH
            | LDRSB
            | LDRSH
            | LDRSW
            | LDUR
            | LDURB
            | LDURH
            | LDURSB
            | LDURSH
            | LDURSW
            | LDP
            | LDPSW
            | LDNP
            | LDAR
            | LDARB
            | LDARH
            | LDAXR
            | LDAXRB
            | LDAXRH
            | LDXR
            | LDXRB
            | LDXRH
            | LDAXP
            | LDXP
            | LDAPR
            | LDAPRB
            | LDAPRH
            | LDAPUR
            | LDAPURB
            | LDAPURH
            | LDAPURSB
            | LDAPURSH
            | LDAPURSW
            | LD1
            | LD2
            | LD3
            | LD4
            | LD1R
            | LD2R
            | LD3R
            | LD4R
            | LDTR
            | LDTRB
            | LDTRH
            | LDTRSB
            | LDTRSH
            | LDTRSW
    )
}

fn is_store(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        STR | STRB
            | STRH
            | STRW
            | STUR
            | STURB
            | STURH
            | STP
            | STNP
            | STLR
            | STLRB
            | STLRH
            | STLUR
            | STLURB
            | STLURH
            | ST1
            | ST2
            | ST3
            | ST4
            | STTR
            | STTRB
            | STTRH
    )
}

fn is_store_exclusive(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        STXR | STXRB | STXRH | STLXR | STLXRB | STLXRH | STXP | STLXP
    )
}

/// Bytes each data register of a load or store moves, from the opcode
/// where it says (`ldrb`), else from the register.
fn access_size(op: Opcode, data: &Operand) -> u32 {
    use Opcode::*;
    match op {
        LDRB | LDRSB | LDURB | LDURSB | STRB | STURB | LDARB | STLRB | LDAXRB | LDXRB | LDAPRB
        | LDAPURB | LDAPURSB | STLURB | LDTRB | LDTRSB | STTRB => 1,
        LDRH | LDRSH | LDURH | LDURSH | STRH | STURH | LDARH | STLRH | LDAXRH | LDXRH | LDAPRH
        | LDAPURH | LDAPURSH | STLURH | LDTRH | LDTRSH | STTRH => 2,
        LDRSW | LDURSW | LDPSW | LDAPURSW | LDTRSW => 4,
        _ => width(data),
    }
}

/// Instructions without a destination register (their first operand is a
/// source).
fn writes_nothing(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        FCMP | FCMPE
            | FCCMP
            | FCCMPE
            | CCMP
            | CCMN
            | CBZ
            | CBNZ
            | TBZ
            | TBNZ
            | B
            | Bcc(..)
            | BR
            | BLR
            | BL
            | RET
            | HINT
            | DMB(..)
            | DSB(..)
            | ISB
            | CLREX
            | PRFM
            | PRFUM
            | MSR
            | SVC
            | BRK
            | HLT
            | SYS(..)
            | UDF
    )
}

/// Instructions that keep part of their destination (a read too).
fn keeps_destination(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        MOVK | BFM
            | INS
            | FMLA
            | FMLS
            | MLA
            | MLS
            | BSL
            | BIT
            | BIF
            | SMLAL
            | SMLAL2
            | UMLAL
            | UMLAL2
            | SMLSL
            | SMLSL2
            | UMLSL
            | UMLSL2
            | XTN2
            | SQXTN2
            | UQXTN2
            | FCVTN2
            | SHRN2
            | RSHRN2
            | SSRA
            | USRA
            | SRI
            | SLI
            | SDOT
            | UDOT
            | TBX
            | SADALP
            | UADALP
            | SABA
            | UABA
            | SABAL
            | SABAL2
            | UABAL
            | UABAL2
            | FCVTL2
    )
}

fn ops(ins: &Instruction) -> Vec<&Operand> {
    ins.operands
        .iter()
        .take_while(|o| !matches!(o, Operand::Nothing))
        .collect()
}

/// Summarizes the last instruction of `decoded` (earlier ones are there
/// for jump-table patterns), at `pc`.
fn summarize(decoded: &[Instruction], pc: u64, range: (u64, u64), memory: &dyn Memory) -> MInst {
    let ins = decoded.last().unwrap();
    let mut m = MInst::new(pc, 4, ins.to_string());
    let operands = ops(ins);
    let op = ins.opcode;
    let pc_target = operands.iter().find_map(|o| match o {
        Operand::PCOffset(off) => Some(pc.wrapping_add(*off as u64)),
        _ => None,
    });
    // Control flow.
    m.flow = match op {
        Opcode::B => Flow::Jump(pc_target.unwrap_or(pc)),
        Opcode::Bcc(_) | Opcode::CBZ | Opcode::CBNZ | Opcode::TBZ | Opcode::TBNZ => {
            Flow::Branch(pc_target.unwrap_or(pc))
        }
        Opcode::BL => Flow::Call { target: pc_target },
        Opcode::BLR => Flow::Call { target: None },
        Opcode::BR => match jump_table(decoded, pc, range, memory) {
            Some(targets) => Flow::Switch(Some(targets)),
            // Resolved after the whole function is decoded, if it can be.
            None => Flow::Switch(None),
        },
        Opcode::RET => Flow::Return,
        Opcode::BRK | Opcode::HLT | Opcode::UDF => Flow::Stop,
        _ => Flow::Next,
    };
    if let Flow::Call { .. } = m.flow {
        m.reads = operands.iter().flat_map(|o| source_regs(o)).collect();
        m.writes = CALLER_SAVED.to_vec();
        return m;
    }
    if matches!(m.flow, Flow::Return | Flow::Jump(_) | Flow::Stop) && op != Opcode::BR {
        return m;
    }

    // Registers and memory.
    let mem_op = operands.iter().position(|o| {
        matches!(
            o,
            Operand::RegPreIndex(..)
                | Operand::RegPostIndex(..)
                | Operand::RegRegOffset(..)
                | Operand::RegPostIndexReg(..)
        )
    });
    if is_load(op) || is_store(op) || is_store_exclusive(op) {
        let Some(mi) = mem_op else {
            // A literal load: `ldr x0, =value` reads the image.
            if is_load(op) {
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
            return m;
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
        // A store of the zero register: a constant (`stur xzr, [x29,
        // #-0x78]`, one arm of a phi kept in memory).
        if let (1, Some(b), Operand::Register(_, 31)) = (data.len(), base, data[0]) {
            if is_store(op) {
                m.op = Op::Const {
                    dst: Place::Mem(Mem {
                        base: b,
                        disp,
                        size,
                    }),
                    value: 0,
                };
            }
            return m;
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
                m.op = match is_load(op) {
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
                m.op = if is_load(op) {
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
        return m;
    }

    let dest = if writes_nothing(op) {
        None
    } else {
        operands.first().copied()
    };
    let sources = if dest.is_some() {
        &operands[1..]
    } else {
        &operands[..]
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

    // The stack and frame pointers.
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
            return m;
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
            return m;
        }
    }
    if m.writes.contains(&SP) {
        m.sp_unknown = true;
    }

    // Values the certificate can follow.
    let d = dest.and_then(reg);
    m.op = match (op, d, operands.as_slice()) {
        // `add x8, x9, x10 {, lsl #k}`, `sub x8, x9, x10 {, lsl #k}`.
        (
            Opcode::ADD | Opcode::SUB,
            Some(d),
            [Operand::Register(SizeCode::X, _) | Operand::RegisterOrSP(SizeCode::X, _), a, b],
        ) if d != SP => {
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
        (Opcode::ADRP, Some(d), _) => Op::Const {
            dst: Place::Reg(d),
            value: ((pc & !0xfff).wrapping_add(pc_target.unwrap_or(pc).wrapping_sub(pc))) as i64,
        },
        (Opcode::ADR, Some(d), _) => Op::Const {
            dst: Place::Reg(d),
            value: pc_target.unwrap_or(pc) as i64,
        },
        (Opcode::MOVZ, Some(d), [_, Operand::ImmShift(v, s)]) => Op::Const {
            dst: Place::Reg(d),
            value: (*v as i64) << s,
        },
        (Opcode::MOVN, Some(d), [Operand::Register(size, _), Operand::ImmShift(v, s)]) => {
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
        // mov xd, xs is orr xd, xzr, xs; mov xd, #imm is orr xd, xzr, #imm.
        (Opcode::ORR, Some(d), [_, Operand::Register(_, 31), Operand::Register(_, s)])
        | (Opcode::ORR, Some(d), [_, Operand::Register(_, 31), Operand::RegShift(_, 0, _, s)])
            if *s != 31 =>
        {
            Op::Copy {
                dst: Place::Reg(d),
                src: Place::Reg(*s),
            }
        }
        // mov between a register and sp (add xd, sp, #0) is handled above.
        (Opcode::MOVK, Some(d), [_, Operand::ImmShift(v, s)]) => Op::SetBits {
            dst: d,
            value: *v,
            shift: *s,
        },
        (Opcode::ORR, Some(d), [_, Operand::Register(_, 31), Operand::Imm64(v)]) => Op::Const {
            dst: Place::Reg(d),
            value: *v as i64,
        },
        (Opcode::ORR, Some(d), [_, Operand::Register(_, 31), Operand::Immediate(v)]) => Op::Const {
            dst: Place::Reg(d),
            value: *v as i64,
        },
        (
            Opcode::ORR,
            Some(d),
            [Operand::RegisterOrSP(SizeCode::X, _), Operand::Register(SizeCode::X, s), Operand::Imm64(v)],
        ) if *s != 31 => Op::OrBits {
            dst: d,
            src: *s,
            bits: *v,
        },
        // sxtb/sxth/sxtw and uxtb/uxth: the low bytes, extended.
        (
            Opcode::SBFM | Opcode::UBFM,
            Some(d),
            [Operand::Register(dsize, _), Operand::Register(_, s), Operand::Immediate(0), Operand::Immediate(top @ (7 | 15 | 31))],
        ) if *s != 31 && (op == Opcode::SBFM || *top != 31) => Op::Extend {
            dst: d,
            src: Place::Reg(*s),
            size: ((*top + 1) / 8) as u8,
            signed: op == Opcode::SBFM,
            to32: *dsize == SizeCode::W,
        },
        // `and w8, w0, #0xff`: zero extension of a byte, half or word.
        (Opcode::AND, Some(d), [Operand::RegisterOrSP(_, _), Operand::Register(_, s), mask])
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
        (Opcode::FMOV, Some(d), [_, src]) => match (reg(src), src) {
            (Some(s), _) => Op::Copy {
                dst: Place::Reg(d),
                src: Place::Reg(s),
            },
            (None, Operand::ImmediateDouble(f)) => Op::Const {
                dst: Place::Reg(d),
                value: f.to_bits() as i64,
            },
            _ => Op::Other,
        },
        _ => Op::Other,
    };
    m
}

/// The value of a logical instruction's immediate operand.
fn logical_immediate(op: &Operand) -> Option<u64> {
    match *op {
        Operand::Imm64(v) => Some(v),
        Operand::Immediate(v) => Some(v as u64),
        _ => None,
    }
}

/// For `ldr xT, [xB, xI, lsl #3]; br xT` (computed goto): xB, the
/// register holding the table's address.
fn table_register(decoded: &[Instruction], br: usize) -> Option<Reg> {
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
fn jump_table(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::NoMemory;

    fn decode(words: &[u32]) -> Vec<MInst> {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        Aarch64.decode(&bytes, 0x1000, &NoMemory).unwrap()
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
