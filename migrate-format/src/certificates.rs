//! Certificates: for every live-value record of an executable, every
//! register and stack slot live at the return address and what it holds
//! there, or why there is no certificate (stack-translator's `certify`
//! computes them; a call site is migratable only where every record is
//! certified on both ISAs, see [`crate::sites`]).
//!
//! [`SECTION`], not loaded, holds one ISA's certificates in its executable:
//! the translator reads it to rebuild a frame (which registers and slots
//! hold recorded values, constants or frame addresses on the destination
//! ISA), `migrate check` and `migrate inspect` to report.

use crate::bytes::{put_str, put_u16, put_u32, put_u64, Reader};
use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Non-loaded section holding one ISA's certificates.
pub const SECTION: &str = ".migrate.certificates";

const MAGIC: &[u8; 8] = b"MIGCERT\0";
/// 2: explanation kinds 12, `Extended`, and 13, `Sum`; `Upper` (6) holds
/// the explanation of the whole value. 3: refusals are typed ([`Refusal`]).
/// 4: the frame's geometry (stack and frame pointer, stack allocations).
const VERSION: u16 = 5;
const WHAT: &str = "certificate section";

/// A register, by its DWARF number.
pub type Reg = u16;

/// A place a value can be in across a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loc {
    /// A register (DWARF number).
    Reg { reg: Reg },
    /// The 4 bytes at CFA + `offset` (offset a multiple of 4; an 8-byte
    /// spill is two slots, so a 4-byte store does not make the other half
    /// look live).
    Slot { offset: i64 },
}

/// What a live location holds at the return address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Explanation {
    /// Recorded part `part` (index into the record's locations), possibly
    /// plus a constant (`&p->field` kept in a register).
    Recorded { part: usize, plus: i64 },
    /// Recorded part `part` times `times` plus `plus`, wrapping at 64 bits
    /// (`i * 40`, the byte offset of element `i`, kept across a call), plus
    /// the frame's CFA if `frame` (`&buf[i]` for a stack array `buf`).
    Scaled {
        part: usize,
        times: i64,
        plus: i64,
        frame: bool,
    },
    /// The value the call returns (the callee provides it).
    CallResult,
    /// A register the call does not preserve and no return value: its
    /// content after the call is arbitrary, so any value will do.
    Clobbered,
    /// A constant (or a symbol's address: the same on both ISAs).
    Constant { value: i64 },
    /// A constant in every 64-bit lane of a vector register (aarch64
    /// `fmov v0.2d, #1.0`, a loop's splat kept across a call): in a
    /// register or an 8-byte slot it is `value`; a 16-byte spill's
    /// [`Explanation::Upper`] parts 2 and 3 repeat parts 0 and 1 (where a
    /// [`Explanation::Constant`]'s are zero).
    Splat { value: i64 },
    /// An address in this frame: CFA + `offset`.
    FrameAddress { offset: i64 },
    /// Part of a stack allocation (index into the frame record), which
    /// moves with the frame as a whole.
    AllocaContents { alloca: usize },
    /// Bytes `4 * part` to `4 * part + 3` of the value `of` explains
    /// (`part` 1: the upper half of an 8-byte value spilled to two
    /// slots): of a recorded value, one plus or times a constant, a sum, a
    /// constant or a frame address.
    Upper { of: Box<Explanation>, part: u8 },
    /// The caller's value of a register the function has not touched or
    /// has saved (restored on return), or the save slot holding it.
    CallersValue { of: Loc },
    /// The low `size` bytes of recorded part `part`: at byte `at` of a
    /// stack slot, or zero-extended in a register (`at` 0). A byte-sized
    /// value spilled with `movb`/`strb`.
    Narrow { part: usize, at: u8, size: u8 },
    /// Recorded part `part`'s low `size` bytes, extended to 64 bits: with
    /// zeros, or with copies of the sign bit (of bit `8 * size - 1`; with
    /// `to32`, only up to bit 31, zeros above); then times `times` plus
    /// `plus`, plus the CFA if `frame`, wrapping. A register holds all of
    /// it; a stack slot its 4 bytes `4 * half` to `4 * half + 3`
    /// (`movslq %edi,%rdx` spilled whole; `movzbl %r14b,%eax` stored in a
    /// slot; `movslq %edi,%rax; shl $4,%rax`, an array offset).
    Extended {
        part: usize,
        size: u8,
        signed: bool,
        to32: bool,
        times: i64,
        plus: i64,
        frame: bool,
        half: u8,
    },
    /// Recorded part `a` plus part `b` times `times` plus `plus`, wrapping
    /// at 64 bits (a pointer plus an index kept across a call).
    Sum {
        a: usize,
        b: usize,
        times: i64,
        plus: i64,
    },
    /// Stack memory below the stack pointer at entry that no path to here
    /// wrote: the code reads it only where the program's value is
    /// undefined (an IR `undef` the backend gave a slot), so any value
    /// will do.
    Undefined,
    /// The stack-protector guard (a frame's copy of the canary): the same
    /// value in the whole process, and after a move the source's.
    Canary,
    /// Nothing the certificate can name: the call site is not migratable.
    Unknown { why: String },
}

/// The certificate of one record (one copy of a call site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub id: u64,
    /// Address the call returns to.
    pub return_address: u64,
    /// Address of the record's point (after the instructions, if any,
    /// between the return address and the record).
    pub record_address: u64,
    /// Every location live at the return address, explained.
    pub live: Vec<(Loc, Explanation)>,
    /// Recorded values (by part) that no live location explains but that a
    /// location still holds at the return address (a callee-saved register,
    /// or a slot with its upper half at `offset + 4`): the code here does
    /// not read them again, the other ISA's code may.
    pub kept: Vec<(usize, Loc)>,
    /// The stack pointer at the return address, as an offset from the CFA
    /// (None: not known, such as after a dynamic allocation).
    pub sp_offset: Option<i64>,
    /// The frame pointer at the return address as an offset from the CFA,
    /// if the function keeps one there (then the certificate does not list
    /// the frame-pointer register: its value follows from the CFA).
    pub fp_offset: Option<i64>,
    /// The function's fixed-size stack allocations: CFA offset and size,
    /// in frame-record order ([`Explanation::AllocaContents`] indexes it;
    /// None where the offset is not known).
    pub allocas: Vec<Option<AllocaRange>>,
}

/// One stack allocation of a frame: `size` bytes at CFA + `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AllocaRange {
    pub offset: i64,
    pub size: u64,
}

impl Certificate {
    /// True if every live location is explained.
    pub fn migratable(&self) -> bool {
        self.live
            .iter()
            .all(|(_, e)| !matches!(e, Explanation::Unknown { .. }))
    }
}

/// The outcome for one record of an executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub id: u64,
    pub record_address: u64,
    /// The certificate, or why none could be computed (the call site is
    /// then not migratable).
    pub certificate: std::result::Result<Certificate, Refusal>,
}

impl RecordOutcome {
    /// True if the record is certified: it has a certificate and every live
    /// location is explained.
    pub fn migratable(&self) -> bool {
        matches!(&self.certificate, Ok(c) if c.migratable())
    }

    /// Why the record is not certified, as a kind that groups equal causes
    /// (`None` if it is certified).
    pub fn refusal_kind(&self) -> Option<RefusalKind> {
        match &self.certificate {
            Ok(c) if c.migratable() => None,
            Ok(_) => Some(RefusalKind::UnexplainedValue),
            Err(r) => Some(r.kind),
        }
    }
}

/// Why a record has no certificate: its function could not be analysed,
/// or the record is not where a certificate can be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The instruction or record concerned, if one.
    pub at: Option<u64>,
    /// The instruction's text, the decoder's message, or other detail.
    pub detail: String,
}

/// The kinds of [`Refusal`] (and, for certificates with a live location
/// nothing explains, [`RefusalKind::UnexplainedValue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// A live register or slot whose value the certificate cannot name.
    UnexplainedValue,
    /// The function has no instructions.
    EmptyFunction,
    /// The machine code could not be decoded.
    Undecodable,
    /// An indirect jump whose targets are not a recognised jump table.
    UnknownJumpTargets,
    /// A jump into the middle of an instruction.
    JumpIntoInstruction,
    /// The value analysis did not settle within its budget.
    AnalysisDiverged,
    /// A stack access where the stack pointer is not known.
    UnknownStackPointer,
    /// The record's point is not at an instruction.
    RecordNotAtInstruction,
    /// No call comes before the record.
    RecordFollowsNoCall,
    /// Control flow between the call and the record.
    ControlFlowBeforeRecord,
    /// No function symbol covers the record.
    NoFunctionSymbol,
    /// The function's code is not in the executable's loaded sections.
    FunctionNotLoaded,
    /// The executable, or its stackmap section, could not be read.
    UnreadableExecutable,
    /// The function has started a `va_list`, which points into its frame.
    VaListInFrame,
}

impl RefusalKind {
    const ALL: [RefusalKind; 14] = [
        RefusalKind::UnexplainedValue,
        RefusalKind::EmptyFunction,
        RefusalKind::Undecodable,
        RefusalKind::UnknownJumpTargets,
        RefusalKind::JumpIntoInstruction,
        RefusalKind::AnalysisDiverged,
        RefusalKind::UnknownStackPointer,
        RefusalKind::RecordNotAtInstruction,
        RefusalKind::RecordFollowsNoCall,
        RefusalKind::ControlFlowBeforeRecord,
        RefusalKind::NoFunctionSymbol,
        RefusalKind::FunctionNotLoaded,
        RefusalKind::UnreadableExecutable,
        RefusalKind::VaListInFrame,
    ];
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefusalKind::UnexplainedValue => "a live value nothing explains",
            RefusalKind::EmptyFunction => "an empty function",
            RefusalKind::Undecodable => "machine code that does not decode",
            RefusalKind::UnknownJumpTargets => "an indirect jump with unknown targets",
            RefusalKind::JumpIntoInstruction => "a jump into the middle of an instruction",
            RefusalKind::AnalysisDiverged => "the value analysis did not settle",
            RefusalKind::UnknownStackPointer => {
                "a stack access where the stack pointer is not known"
            }
            RefusalKind::RecordNotAtInstruction => "a record not at an instruction",
            RefusalKind::RecordFollowsNoCall => "a record that follows no call",
            RefusalKind::ControlFlowBeforeRecord => "control flow between the call and the record",
            RefusalKind::NoFunctionSymbol => "no function symbol",
            RefusalKind::FunctionNotLoaded => "a function not in the executable's loaded sections",
            RefusalKind::UnreadableExecutable => "an executable that cannot be read",
            RefusalKind::VaListInFrame => "a va_list pointing into the frame",
        })
    }
}

impl Refusal {
    pub fn new(kind: RefusalKind, at: Option<u64>, detail: impl Into<String>) -> Refusal {
        Refusal {
            kind,
            at,
            detail: detail.into(),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind as u8);
        out.push(u8::from(self.at.is_some()));
        put_u64(out, self.at.unwrap_or(0));
        put_str(out, &self.detail);
    }

    fn decode(r: &mut Reader) -> Result<Refusal> {
        let kind = r.u8()?;
        let kind = *RefusalKind::ALL
            .get(kind as usize)
            .ok_or_else(|| r.error("an unknown refusal kind"))?;
        let has_at = r.u8()?;
        let at = r.u64()?;
        Ok(Refusal {
            kind,
            at: match has_at {
                0 => None,
                1 => Some(at),
                _ => return Err(r.error("a bad flag")),
            },
            detail: r.str()?,
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(at) = self.at {
            write!(f, " at {at:#x}")?;
        }
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// Every record's certificate in one executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificates {
    /// The ISA the executable is for.
    pub isa: crate::Arch,
    pub records: Vec<RecordOutcome>,
}

impl Certificates {
    /// The section's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_u16(&mut out, VERSION);
        put_str(&mut out, self.isa.name());
        put_u32(&mut out, self.records.len() as u32);
        for r in &self.records {
            put_u64(&mut out, r.id);
            put_u64(&mut out, r.record_address);
            match &r.certificate {
                Ok(c) => {
                    out.push(0);
                    put_u64(&mut out, c.return_address);
                    put_u32(&mut out, c.live.len() as u32);
                    for (loc, e) in &c.live {
                        put_loc(&mut out, loc);
                        put_explanation(&mut out, e);
                    }
                    put_u32(&mut out, c.kept.len() as u32);
                    for (part, loc) in &c.kept {
                        put_u32(&mut out, *part as u32);
                        put_loc(&mut out, loc);
                    }
                    for o in [c.sp_offset, c.fp_offset] {
                        out.push(u8::from(o.is_some()));
                        put_u64(&mut out, o.unwrap_or(0) as u64);
                    }
                    put_u32(&mut out, c.allocas.len() as u32);
                    for a in &c.allocas {
                        out.push(u8::from(a.is_some()));
                        put_u64(&mut out, a.map_or(0, |a| a.offset as u64));
                        put_u64(&mut out, a.map_or(0, |a| a.size));
                    }
                }
                Err(why) => {
                    out.push(1);
                    why.encode(&mut out);
                }
            }
        }
        out
    }

    /// Reads a section written by [`Certificates::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, WHAT);
        r.header(MAGIC, VERSION)?;
        let isa = r
            .str()?
            .parse()
            .map_err(|e: crate::arch::UnknownArch| r.error(&e.to_string()))?;
        let n = r.u32()? as usize;
        let mut records = Vec::with_capacity(n.min(bytes.len() / 17));
        for _ in 0..n {
            let id = r.u64()?;
            let record_address = r.u64()?;
            let certificate = match r.u8()? {
                0 => {
                    let return_address = r.u64()?;
                    let count = r.u32()? as usize;
                    let mut live = Vec::with_capacity(count.min(bytes.len() / 3));
                    for _ in 0..count {
                        let loc = read_loc(&mut r)?;
                        live.push((loc, read_explanation(&mut r)?));
                    }
                    let n = r.u32()? as usize;
                    let mut kept = Vec::with_capacity(n.min(bytes.len() / 5));
                    for _ in 0..n {
                        let part = r.u32()? as usize;
                        kept.push((part, read_loc(&mut r)?));
                    }
                    let mut offsets = [None; 2];
                    for o in &mut offsets {
                        let known = r.u8()?;
                        let value = r.i64()?;
                        *o = match known {
                            0 => None,
                            1 => Some(value),
                            _ => return Err(r.error("a bad flag")),
                        };
                    }
                    let n = r.u32()? as usize;
                    let mut allocas = Vec::with_capacity(n.min(bytes.len() / 16));
                    for _ in 0..n {
                        let known = r.u8()?;
                        let offset = r.i64()?;
                        let size = r.u64()?;
                        allocas.push(match known {
                            0 => None,
                            1 => Some(AllocaRange { offset, size }),
                            _ => return Err(r.error("a bad flag")),
                        });
                    }
                    Ok(Certificate {
                        id,
                        return_address,
                        record_address,
                        live,
                        kept,
                        sp_offset: offsets[0],
                        fp_offset: offsets[1],
                        allocas,
                    })
                }
                1 => Err(Refusal::decode(&mut r)?),
                _ => return Err(r.error("an unknown record status")),
            };
            records.push(RecordOutcome {
                id,
                record_address,
                certificate,
            });
        }
        if r.pos != bytes.len() {
            return Err(r.error("bytes after the last record"));
        }
        Ok(Certificates { isa, records })
    }

    /// Per call-site ID: true if every record of it is certified.
    pub fn by_site(&self) -> BTreeMap<u64, bool> {
        let mut sites: BTreeMap<u64, bool> = BTreeMap::new();
        for r in &self.records {
            *sites.entry(r.id).or_insert(true) &= r.migratable();
        }
        sites
    }
}

/// Per call-site ID: true if every record of it is certified in both
/// executables' certificates: the migratable-sites flags for `count` call
/// sites ([`crate::sites`]).
pub fn migratable_sites(count: usize, both: [&Certificates; 2]) -> Vec<bool> {
    let [a, b] = both.map(Certificates::by_site);
    (0..count as u64)
        .map(|k| a.get(&k) == Some(&true) && b.get(&k) == Some(&true))
        .collect()
}

fn put_loc(out: &mut Vec<u8>, loc: &Loc) {
    match *loc {
        Loc::Reg { reg } => {
            out.push(0);
            put_u16(out, reg);
        }
        Loc::Slot { offset } => {
            out.push(1);
            put_u64(out, offset as u64);
        }
    }
}

fn read_loc(r: &mut Reader) -> Result<Loc> {
    Ok(match r.u8()? {
        0 => Loc::Reg { reg: r.u16()? },
        1 => Loc::Slot { offset: r.i64()? },
        _ => return Err(r.error("an unknown location kind")),
    })
}

fn put_explanation(out: &mut Vec<u8>, e: &Explanation) {
    match e {
        Explanation::Recorded { part, plus } => {
            out.push(0);
            put_u64(out, *part as u64);
            put_u64(out, *plus as u64);
        }
        Explanation::CallResult => out.push(1),
        Explanation::Clobbered => out.push(2),
        Explanation::Constant { value } => {
            out.push(3);
            put_u64(out, *value as u64);
        }
        Explanation::Splat { value } => {
            out.push(15);
            put_u64(out, *value as u64);
        }
        Explanation::FrameAddress { offset } => {
            out.push(4);
            put_u64(out, *offset as u64);
        }
        Explanation::AllocaContents { alloca } => {
            out.push(5);
            put_u64(out, *alloca as u64);
        }
        Explanation::Upper { of, part } => {
            out.push(6);
            out.push(*part);
            put_explanation(out, of);
        }
        Explanation::CallersValue { of } => {
            out.push(7);
            put_loc(out, of);
        }
        Explanation::Unknown { why } => {
            out.push(8);
            put_str(out, why);
        }
        Explanation::Undefined => out.push(9),
        Explanation::Canary => out.push(14),
        Explanation::Narrow { part, at, size } => {
            out.push(11);
            put_u64(out, *part as u64);
            out.push(*at);
            out.push(*size);
        }
        Explanation::Extended {
            part,
            size,
            signed,
            to32,
            times,
            plus,
            frame,
            half,
        } => {
            out.push(12);
            put_u64(out, *part as u64);
            out.push(*size);
            out.push(u8::from(*signed) | u8::from(*to32) << 1 | u8::from(*frame) << 2);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
            out.push(*half);
        }
        Explanation::Sum { a, b, times, plus } => {
            out.push(13);
            put_u64(out, *a as u64);
            put_u64(out, *b as u64);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
        }
        Explanation::Scaled {
            part,
            times,
            plus,
            frame,
        } => {
            out.push(10);
            put_u64(out, *part as u64);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
            out.push(u8::from(*frame));
        }
    }
}

fn read_explanation(r: &mut Reader) -> Result<Explanation> {
    let index = |r: &mut Reader| -> Result<usize> {
        usize::try_from(r.u64()?).map_err(|_| r.error("an index out of range"))
    };
    Ok(match r.u8()? {
        0 => Explanation::Recorded {
            part: index(r)?,
            plus: r.i64()?,
        },
        1 => Explanation::CallResult,
        2 => Explanation::Clobbered,
        3 => Explanation::Constant { value: r.i64()? },
        15 => Explanation::Splat { value: r.i64()? },
        4 => Explanation::FrameAddress { offset: r.i64()? },
        5 => Explanation::AllocaContents { alloca: index(r)? },
        6 => {
            let part = r.u8()?;
            // One level: the value whose bytes these are is not itself a
            // part of something (which also bounds the recursion).
            let of = read_explanation(r)?;
            if matches!(of, Explanation::Upper { .. } | Explanation::Unknown { .. }) || part == 0 {
                return Err(r.error("a bad upper part"));
            }
            Explanation::Upper {
                of: Box::new(of),
                part,
            }
        }
        7 => Explanation::CallersValue { of: read_loc(r)? },
        8 => Explanation::Unknown { why: r.str()? },
        9 => Explanation::Undefined,
        11 => Explanation::Narrow {
            part: index(r)?,
            at: r.u8()?,
            size: r.u8()?,
        },
        10 => Explanation::Scaled {
            part: index(r)?,
            times: r.i64()?,
            plus: r.i64()?,
            frame: match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(r.error("a bad flag")),
            },
        },
        12 => {
            let part = index(r)?;
            let size = r.u8()?;
            let flags = r.u8()?;
            if !matches!(size, 1 | 2 | 4) || flags > 7 {
                return Err(r.error("a bad extension"));
            }
            Explanation::Extended {
                part,
                size,
                signed: flags & 1 != 0,
                to32: flags & 2 != 0,
                frame: flags & 4 != 0,
                times: r.i64()?,
                plus: r.i64()?,
                half: r.u8()?,
            }
        }
        14 => Explanation::Canary,
        13 => Explanation::Sum {
            a: index(r)?,
            b: index(r)?,
            times: r.i64()?,
            plus: r.i64()?,
        },
        _ => return Err(r.error("an unknown explanation kind")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Certificates {
        let cert = |id: u64, live: Vec<(Loc, Explanation)>| RecordOutcome {
            id,
            record_address: 0x1000 + id,
            certificate: Ok(Certificate {
                id,
                return_address: 0x0fff + id,
                record_address: 0x1000 + id,
                live,
                kept: vec![(2, Loc::Reg { reg: 12 })],
                sp_offset: Some(-48),
                fp_offset: id.is_multiple_of(2).then_some(-16),
                allocas: vec![
                    Some(AllocaRange {
                        offset: -40,
                        size: 24,
                    }),
                    None,
                ],
            }),
        };
        Certificates {
            isa: crate::Arch::X86_64,
            records: vec![
                cert(
                    0,
                    vec![
                        (
                            Loc::Reg { reg: 3 },
                            Explanation::Recorded { part: 1, plus: -8 },
                        ),
                        (Loc::Reg { reg: 0 }, Explanation::CallResult),
                        (Loc::Reg { reg: 1 }, Explanation::Clobbered),
                        (Loc::Slot { offset: -96 }, Explanation::Undefined),
                        (
                            Loc::Slot { offset: -60 },
                            Explanation::Narrow {
                                part: 0,
                                at: 3,
                                size: 1,
                            },
                        ),
                        (
                            Loc::Slot { offset: -76 },
                            Explanation::Extended {
                                part: 1,
                                size: 4,
                                signed: true,
                                to32: false,
                                times: 16,
                                plus: -8,
                                frame: true,
                                half: 1,
                            },
                        ),
                        (
                            Loc::Reg { reg: 13 },
                            Explanation::Scaled {
                                part: 0,
                                times: 40,
                                plus: -8,
                                frame: true,
                            },
                        ),
                        (Loc::Reg { reg: 12 }, Explanation::Constant { value: -42 }),
                        (
                            Loc::Slot { offset: -160 },
                            Explanation::Upper {
                                of: Box::new(Explanation::Splat {
                                    value: 0x3ff0_0000_0000_0000,
                                }),
                                part: 3,
                            },
                        ),
                        (
                            Loc::Reg { reg: 14 },
                            Explanation::Sum {
                                a: 0,
                                b: 1,
                                times: -8,
                                plus: 16,
                            },
                        ),
                        (
                            Loc::Slot { offset: -16 },
                            Explanation::FrameAddress { offset: -64 },
                        ),
                        (
                            Loc::Slot { offset: -64 },
                            Explanation::AllocaContents { alloca: 2 },
                        ),
                        (
                            Loc::Slot { offset: -20 },
                            Explanation::Upper {
                                of: Box::new(Explanation::Constant { value: 7 }),
                                part: 1,
                            },
                        ),
                        (
                            Loc::Slot { offset: -24 },
                            Explanation::CallersValue {
                                of: Loc::Reg { reg: 15 },
                            },
                        ),
                    ],
                ),
                cert(
                    1,
                    vec![(
                        Loc::Reg { reg: 14 },
                        Explanation::Unknown {
                            why: "r14 holds a value computed".into(),
                        },
                    )],
                ),
                cert(1, vec![]),
                RecordOutcome {
                    id: 2,
                    record_address: 0x2000,
                    certificate: Err(Refusal::new(
                        RefusalKind::NoFunctionSymbol,
                        Some(0x2000),
                        "",
                    )),
                },
                cert(3, vec![]),
            ],
        }
    }

    #[test]
    fn refusal_kinds_encode_as_their_position() {
        // The encoding writes `kind as u8` and reads `ALL[byte]`.
        for (i, k) in RefusalKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }

    #[test]
    fn round_trip() {
        let c = sample();
        assert_eq!(Certificates::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(Certificates::decode(&bytes[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = Certificates::decode(&b);
            }
        }
    }

    #[test]
    fn a_site_is_migratable_only_if_every_record_on_both_isas_is() {
        let a = sample();
        let mut b = sample();
        b.isa = crate::Arch::Aarch64;
        // Site 3 is certified on x86_64 only.
        b.records[4].certificate = Err(Refusal::new(RefusalKind::EmptyFunction, None, ""));
        // Site 0 certified everywhere; site 1 has one refused copy; site 2
        // has no certificate; site 3 differs; site 4 has no record at all.
        let sites = migratable_sites(5, [&a, &b]);
        assert_eq!(sites, [true, false, false, false, false]);
        assert_eq!(
            a.records[1].refusal_kind(),
            Some(RefusalKind::UnexplainedValue)
        );
        assert_eq!(
            a.records[3].refusal_kind(),
            Some(RefusalKind::NoFunctionSymbol)
        );
        assert_eq!(a.records[0].refusal_kind(), None);
        assert_eq!(
            a.records[3].certificate.as_ref().unwrap_err().to_string(),
            "no function symbol at 0x2000"
        );
    }
}
