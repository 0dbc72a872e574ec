//! Call-site certificates: for a call site's record, every register and
//! stack slot that the code after the return address reads before writing,
//! each with what it holds at the return address. A frame can only be
//! rebuilt at a call site whose every live location is explained.
//!
//! The analysis works on one function's decoded instructions ([`MInst`]):
//! 1. control flow between instructions (jump tables included);
//! 2. the stack and frame pointers as offsets from the canonical frame
//!    address (CFA), so that `[rbp-0x30]` and `[rsp+0x10]` name the same
//!    slot wherever they are the same memory;
//! 3. backward liveness of registers and 8-byte stack slots;
//! 4. forward value numbering: which locations hold the same value, a
//!    constant, a frame address, or the caller's value at entry;
//! 5. per record: follow the record's locations back across the
//!    instructions between the return address and the record's point, and
//!    explain each live location.

use crate::isa::{Isa, Memory};
use crate::machine::{Flow, MInst, Op, Place, Reg};
use crate::stackmaps::{Location, Record};
pub use migrate_format::certificates::{
    Certificate, Explanation, Loc, RecordOutcome, Refusal, RefusalKind,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The analysis fails with the reason the call site cannot migrate.
type Result<T, E = Refusal> = std::result::Result<T, E>;

/// Returns a [`Refusal`] of `kind` at `at` with `detail`.
macro_rules! refuse {
    ($kind:ident, $at:expr, $($detail:tt)*) => {
        return Err(Refusal::new(RefusalKind::$kind, $at, format!($($detail)*)))
    };
}

/// Location -> value maps, hashed cheaply: the analysis hashes millions
/// of small keys, and SipHash's flood resistance buys nothing here.
type ValueMap = HashMap<Loc, Val, BuildHasherDefault<FastHasher>>;

/// A multiply-rotate hasher (the FxHash scheme) for small trusted keys.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u16(&mut self, v: u16) {
        self.write_u64(v as u64);
    }

    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }

    fn write_isize(&mut self, v: isize) {
        self.write_u64(v as u64);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

/// Most entries read from one table of jump targets.
const MAX_TABLE: u64 = 4096;

/// Average evaluations per block of the forward value analysis before it
/// gives up on a function (its result is then unusable).
const MAX_VISITS: usize = 64;
/// The same for the optimistic analysis, before falling back.
const OPTIMISTIC_VISITS: usize = 16;

/// A value, as far as the analysis can tell: `base * scale + offset`
/// (64-bit, wrapping), plus the CFA if `frame` (`&buf[i]` for a stack
/// array), or its 4-byte `part` (1 to 3: the upper parts of an 8- or
/// 16-byte value stored to consecutive slots; 0: the value itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Val {
    base: Base,
    offset: i64,
    part: u8,
    scale: i64,
    frame: bool,
    /// 0 for the whole value; else only its low `size` bytes, at byte
    /// `at` of a stack slot or zero-extended in a register
    /// ([`narrow_bytes`]): a byte-sized value spilled with `movb`.
    bytes: u8,
    /// With `bytes`: how the bytes above the low `size` ones are known
    /// ([`EXT_ZERO`], ...), or [`EXT_NONE`] for a narrow store into a slot,
    /// which leaves the slot's other bytes as they were. An extended value
    /// is 64 bits wide: `ext(low bytes of base) * scale + offset` (the
    /// extension first, unlike a narrow one, which is the low bytes of the
    /// whole sum); in a slot, `part` k is its bytes 4k to 4k+3.
    ext: u8,
}

/// [`Val::ext`]: the other bytes of the slot are unknown.
const EXT_NONE: u8 = 0;
/// [`Val::ext`]: zero-extended to 64 bits.
const EXT_ZERO: u8 = 1;
/// [`Val::ext`]: sign-extended to 64 bits.
const EXT_SIGN: u8 = 2;
/// [`Val::ext`]: sign-extended to 32 bits, then zero-extended (`movsbl`
/// to a 32-bit register, `sxtb w0, w1`).
const EXT_SIGN32: u8 = 3;

/// The value `v` extended from its low `size` bytes (`Op::Extend`), if it
/// can be said: a whole value, or one already extended from at most
/// `size` bytes in a way that the new extension keeps.
fn extend(v: Val, size: u8, ext: u8) -> Option<Val> {
    if v.part != 0 || matches!(v.base, Base::Garbage | Base::Cfa) || v.frame {
        return None;
    }
    if v.base == Base::Absolute && v.bytes == 0 {
        let bits = 8 * size as u32;
        let low = (v.offset as u64) & (u64::MAX >> (64 - bits));
        let sign = low >> (bits - 1) & 1 == 1;
        let value = match ext {
            EXT_ZERO => low,
            _ if !sign => low,
            EXT_SIGN => low | (u64::MAX << bits),
            _ => low | ((u32::MAX as u64) << bits & 0xffff_ffff),
        };
        return Some(Val::at(Base::Absolute, value as i64));
    }
    // The extension applies to the base value itself (see `Val::ext`).
    if v.scale != 1 || v.offset != 0 {
        return None;
    }
    if v.bytes == 0 {
        return Some(Val {
            bytes: narrow_bytes(0, size as u32),
            ext,
            ..v
        });
    }
    let (at, had) = (v.bytes >> 4, v.bytes & 0xf);
    if at != 0 || v.ext == EXT_NONE {
        return None;
    }
    if had >= size {
        return Some(Val {
            bytes: narrow_bytes(0, size as u32),
            ext,
            ..v
        });
    }
    // Narrower than `size` already: a zero-extended value has zeros up to
    // bit 63, so extending it again changes nothing; a sign-extended one
    // stays so under sign extension to the same width or wider.
    match (v.ext, ext) {
        (EXT_ZERO, _) | (EXT_SIGN, EXT_SIGN) => Some(v),
        (EXT_SIGN, EXT_SIGN32) | (EXT_SIGN32, EXT_SIGN32) if size <= 4 => Some(Val {
            ext: EXT_SIGN32,
            ..v
        }),
        _ => None,
    }
}

/// [`Val::bytes`] for the low `size` bytes of a value at byte `at`.
fn narrow_bytes(at: i64, size: u32) -> u8 {
    ((at as u8) << 4) | size as u8
}

/// Bytes per stack slot.
const SLOT: i64 = 4;
/// All bytes of a location.
const WHOLE: u8 = 0xf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Base {
    /// An absolute number (the offset is the value).
    Absolute,
    /// The CFA (the offset is a frame address).
    Cfa,
    /// The location's content when the function was entered.
    Entry(Loc),
    /// Stack memory the function has not written yet (below the stack
    /// pointer at entry): no meaningful value. Where paths meet, it takes
    /// the value of the other paths (an IR `undef` may be any value).
    Garbage,
    /// Written by instruction `usize` into `Loc`.
    Def(usize, Loc),
    /// Different values meet at instruction `usize`.
    Phi(usize, Loc),
}

impl Val {
    fn of(base: Base) -> Self {
        Val {
            base,
            offset: 0,
            part: 0,
            scale: 1,
            frame: false,
            bytes: 0,
            ext: EXT_NONE,
        }
    }

    fn at(base: Base, offset: i64) -> Self {
        Val {
            base,
            offset,
            part: 0,
            scale: 1,
            frame: false,
            bytes: 0,
            ext: EXT_NONE,
        }
    }
}

/// One function prepared for certifying its call sites.
pub struct Function<'a> {
    isa: &'a dyn Isa,
    insts: Vec<MInst>,
    index: HashMap<u64, usize>,
    /// Targets of table jumps resolved from values (instruction indices).
    resolved: HashMap<usize, Vec<usize>>,
    succs: Vec<Vec<usize>>,
    /// (sp, fp) as CFA offsets before each instruction, where known.
    frame: Vec<(Option<i64>, Option<i64>)>,
    /// Whether each instruction is reachable from the entry (so far: table
    /// jumps may not be resolved yet).
    reachable: Vec<bool>,
    /// Per instruction: locations read and written, with the bytes
    /// (bit k = byte k of a slot; registers are always whole).
    uses: Vec<Vec<(Loc, u8)>>,
    defs: Vec<Vec<(Loc, u8)>>,
    /// Every location the function touches, and each one's index in the
    /// dense liveness vectors.
    loc_list: Vec<Loc>,
    loc_index: HashMap<Loc, usize, BuildHasherDefault<FastHasher>>,
    /// Live bytes of every location (by index) at the end of each block.
    live_out: Vec<Vec<u8>>,
    /// First instruction of each basic block, the one after its last, and
    /// each instruction's block.
    block_start: Vec<usize>,
    block_end: Vec<usize>,
    block_of: Vec<usize>,
    /// Values at the start of each block.
    block_in: Vec<ValueMap>,
}

impl<'a> Function<'a> {
    /// Analyses the decoded instructions of one function.
    pub fn new(isa: &'a dyn Isa, insts: Vec<MInst>, memory: &dyn Memory) -> Result<Self> {
        if insts.is_empty() {
            refuse!(EmptyFunction, None, "");
        }
        let index: HashMap<u64, usize> = insts
            .iter()
            .enumerate()
            .map(|(i, m)| (m.address, i))
            .collect();
        let mut f = Function {
            isa,
            insts,
            index,
            resolved: HashMap::new(),
            succs: Vec::new(),
            frame: Vec::new(),
            reachable: Vec::new(),
            uses: Vec::new(),
            defs: Vec::new(),
            loc_list: Vec::new(),
            loc_index: HashMap::default(),
            live_out: Vec::new(),
            block_start: Vec::new(),
            block_end: Vec::new(),
            block_of: Vec::new(),
            block_in: Vec::new(),
        };
        // Indirect jumps through a table whose address is in a register are
        // resolved from the value analysis, which needs the control flow:
        // repeat until the targets stop changing.
        for _ in 0..4 {
            f.succs = f.successors()?;
            f.track_frame()?;
            f.uses.clear();
            f.defs.clear();
            f.locations()?;
            f.find_blocks();
            f.liveness();
            // Optimistic first (loops that leave a location alone keep its
            // value); that can fail to settle where relations between
            // locations keep changing, and then the plain analysis runs.
            if f.number_values(true, OPTIMISTIC_VISITS).is_err() {
                f.number_values(false, MAX_VISITS)?;
            }
            if !f.resolve_tables(memory)? {
                break;
            }
        }
        for (i, m) in f.insts.iter().enumerate() {
            if m.flow == Flow::Switch(None)
                && !f.resolved.contains_key(&i)
                && f.frame[i].0 != Some(isa.entry_sp())
            {
                refuse!(UnknownJumpTargets, Some(m.address), "{}", m.text);
            }
        }
        Ok(f)
    }

    /// Successors of every instruction.
    fn successors(&self) -> Result<Vec<Vec<usize>>> {
        let insts = &self.insts;
        let start = insts[0].address;
        let end = insts.last().unwrap().next();
        let inside = |t: u64| t >= start && t < end;
        let at = |t: u64| -> Result<usize> {
            self.index
                .get(&t)
                .copied()
                .ok_or_else(|| Refusal::new(RefusalKind::JumpIntoInstruction, Some(t), ""))
        };
        let mut succs = Vec::with_capacity(insts.len());
        for (i, m) in insts.iter().enumerate() {
            let next = (i + 1 < insts.len()).then_some(i + 1);
            let s: Vec<usize> = match &m.flow {
                Flow::Next | Flow::Call { .. } => next.into_iter().collect(),
                Flow::Jump(t) if inside(*t) => vec![at(*t)?],
                Flow::Jump(_) | Flow::Return | Flow::Stop => vec![],
                Flow::Branch(t) => {
                    let mut v: Vec<usize> = next.into_iter().collect();
                    if inside(*t) {
                        v.push(at(*t)?);
                    }
                    v
                }
                Flow::Switch(Some(ts)) => ts.iter().map(|t| at(*t)).collect::<Result<_>>()?,
                // Resolved from values, or an indirect tail call if the
                // frame is gone there, or unknown targets (checked later).
                Flow::Switch(None) => self.resolved.get(&i).cloned().unwrap_or_default(),
            };
            succs.push(s);
        }
        Ok(succs)
    }

    /// Reads the targets of indirect jumps through a table whose address
    /// the value analysis knows. True if any target set changed.
    fn resolve_tables(&mut self, memory: &dyn Memory) -> Result<bool> {
        let start = self.insts[0].address;
        let end = self.insts.last().unwrap().next();
        let mut changed = false;
        for i in 0..self.insts.len() {
            let Some(base) = self.insts[i].table_base else {
                continue;
            };
            let v = self.reg_value(i, &self.values_before(i), base);
            if v.base != Base::Absolute || v.part != 0 {
                continue;
            }
            let mut targets = Vec::new();
            for k in 0..MAX_TABLE {
                let Some(bytes) = memory.read(v.offset as u64 + 8 * k, 8) else {
                    break;
                };
                let t = u64::from_le_bytes(bytes.try_into().unwrap());
                if t < start || t >= end {
                    break;
                }
                match self.index.get(&t) {
                    Some(&ti) => targets.push(ti),
                    None => break,
                }
            }
            if !targets.is_empty() && self.resolved.get(&i) != Some(&targets) {
                self.resolved.insert(i, targets);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Forward: the stack and frame pointers as CFA offsets.
    fn track_frame(&mut self) -> Result<()> {
        let n = self.insts.len();
        let mut state: Vec<Option<(Option<i64>, Option<i64>)>> = vec![None; n];
        state[0] = Some((Some(self.isa.entry_sp()), None));
        let mut work = vec![0usize];
        let (sp, fp) = (self.isa.sp(), self.isa.fp());
        while let Some(i) = work.pop() {
            let (s, f) = state[i].unwrap();
            let m = &self.insts[i];
            let mut s2 = s.map(|v| v + m.sp_before + m.sp_after);
            let mut f2 = f;
            if m.sp_unknown {
                s2 = None;
            }
            if let Some(k) = m.sp_from_fp {
                s2 = f.map(|v| v + k);
            }
            if let Some(k) = m.fp_from_sp {
                f2 = s2.map(|v| v + k);
            } else if m.writes.contains(&fp) && !matches!(m.flow, Flow::Call { .. }) {
                // Restored from its save slot in the epilogue, or reused.
                f2 = None;
            }
            if m.writes.contains(&sp)
                && m.sp_before == 0
                && m.sp_after == 0
                && m.sp_from_fp.is_none()
                && !m.sp_unknown
                && !matches!(m.flow, Flow::Call { .. } | Flow::Return)
            {
                s2 = None;
            }
            for &t in &self.succs[i] {
                let new = (s2, f2);
                match state[t] {
                    None => {
                        state[t] = Some(new);
                        work.push(t);
                    }
                    Some(old) if old != new => {
                        let merged = (
                            if old.0 == new.0 { old.0 } else { None },
                            if old.1 == new.1 { old.1 } else { None },
                        );
                        if merged != old {
                            state[t] = Some(merged);
                            work.push(t);
                        }
                    }
                    _ => {}
                }
            }
        }
        self.reachable = state.iter().map(Option::is_some).collect();
        self.frame = state
            .into_iter()
            .map(|s| s.unwrap_or((None, None)))
            .collect();
        Ok(())
    }

    /// The CFA offset of `base + disp` before instruction `i`, if `base`
    /// is the stack or frame pointer and its offset is known there.
    fn cfa_offset(&self, i: usize, base: Reg, disp: i64, sp_adjust: i64) -> Option<i64> {
        let (s, f) = self.frame[i];
        if base == self.isa.sp() {
            s.map(|v| v.wrapping_add(sp_adjust).wrapping_add(disp))
        } else if base == self.isa.fp() {
            f.map(|v| v.wrapping_add(disp))
        } else {
            None
        }
    }

    fn is_frame_base(&self, r: Reg) -> bool {
        r == self.isa.sp() || r == self.isa.fp()
    }

    /// The slots `[offset, offset+size)` touches, with the bytes of each.
    fn slots(offset: i64, size: u32) -> impl Iterator<Item = (Loc, u8)> {
        let end = offset + size.max(1) as i64;
        let first = offset.div_euclid(SLOT) * SLOT;
        let last = (end - 1).div_euclid(SLOT) * SLOT;
        (first..=last).step_by(SLOT as usize).map(move |unit| {
            let mask = (0..SLOT)
                .filter(|b| unit + b >= offset && unit + b < end)
                .fold(0u8, |m, b| m | 1 << b);
            (Loc::Slot { offset: unit }, mask)
        })
    }

    /// Per instruction: locations read and written.
    fn locations(&mut self) -> Result<()> {
        let exits: Vec<(Loc, u8)> = self
            .isa
            .callee_saved()
            .iter()
            .chain(self.isa.return_registers())
            .map(|&reg| (Loc::Reg { reg }, WHOLE))
            .collect();
        for i in 0..self.insts.len() {
            let m = &self.insts[i];
            // Registers' bytes in groups (machine::BYTE0 ...), 4 bits like
            // a slot's.
            let bytes = |narrow: &[(Reg, u8)], reg: Reg| {
                narrow
                    .iter()
                    .find(|(r, _)| *r == reg)
                    .map_or(WHOLE, |(_, b)| *b)
            };
            let mut uses: Vec<(Loc, u8)> = m
                .reads
                .iter()
                .filter(|r| !self.is_frame_base(**r) || **r == self.isa.fp())
                .map(|&reg| (Loc::Reg { reg }, bytes(&m.narrow_reads, reg)))
                .collect();
            let mut defs: Vec<(Loc, u8)> = m
                .writes
                .iter()
                .filter(|r| **r != self.isa.sp())
                .map(|&reg| (Loc::Reg { reg }, bytes(&m.narrow_writes, reg)))
                .collect();
            for mem in &m.loads {
                if self.is_frame_base(mem.base) && self.reachable[i] {
                    let off = self
                        .cfa_offset(i, mem.base, mem.disp, m.sp_before)
                        .ok_or_else(|| unknown_frame(m))?;
                    uses.extend(Self::slots(off, mem.size));
                }
            }
            for mem in &m.stores {
                if self.is_frame_base(mem.base) && self.reachable[i] {
                    let off = self
                        .cfa_offset(i, mem.base, mem.disp, m.sp_before)
                        .ok_or_else(|| unknown_frame(m))?;
                    defs.extend(Self::slots(off, mem.size));
                }
            }
            let tail_call = match &m.flow {
                Flow::Jump(t) => !self.index.contains_key(t),
                Flow::Switch(None) => !self.resolved.contains_key(&i),
                _ => false,
            };
            if tail_call || m.flow == Flow::Return {
                uses.extend(exits.iter().copied());
            }
            if tail_call {
                // The callee reads its arguments.
                uses.extend(
                    self.isa
                        .argument_registers()
                        .iter()
                        .map(|&reg| (Loc::Reg { reg }, WHOLE)),
                );
            }
            self.uses.push(uses);
            self.defs.push(defs);
        }
        Ok(())
    }

    /// Splits the instructions into basic blocks.
    fn find_blocks(&mut self) {
        let n = self.insts.len();
        let mut leader = vec![false; n];
        leader[0] = true;
        for (i, m) in self.insts.iter().enumerate() {
            let straight = matches!(m.flow, Flow::Next | Flow::Call { .. });
            for &s in &self.succs[i] {
                if !straight || s != i + 1 {
                    leader[s] = true;
                }
            }
            if !straight && i + 1 < n {
                leader[i + 1] = true;
            }
        }
        self.block_start = (0..n).filter(|i| leader[*i]).collect();
        self.block_end = (0..self.block_start.len())
            .map(|b| self.block_start.get(b + 1).copied().unwrap_or(n))
            .collect();
        self.block_of = vec![0usize; n];
        for (b, (&s, &e)) in self.block_start.iter().zip(&self.block_end).enumerate() {
            self.block_of[s..e].fill(b);
        }
    }

    /// The blocks following block `b`.
    fn block_succs(&self, b: usize) -> impl Iterator<Item = usize> + '_ {
        self.succs[self.block_end[b] - 1]
            .iter()
            .map(|&s| self.block_of[s])
    }

    /// Instruction `i`'s effect, backwards, on dense live bytes.
    fn live_step(&self, i: usize, live: &mut [u8]) {
        for (d, m) in &self.defs[i] {
            live[self.loc_index[d]] &= !m;
        }
        for (u, m) in &self.uses[i] {
            live[self.loc_index[u]] |= m;
        }
    }

    /// Backward: live bytes of every location at each block's end (a
    /// worklist over blocks with dense vectors: functions such as SQLite's
    /// interpreter have tens of thousands of instructions).
    fn liveness(&mut self) {
        self.loc_index.clear();
        self.loc_list.clear();
        for (l, _) in self.uses.iter().chain(&self.defs).flatten() {
            if !self.loc_index.contains_key(l) {
                self.loc_index.insert(*l, self.loc_list.len());
                self.loc_list.push(*l);
            }
        }
        let (nb, nl) = (self.block_start.len(), self.loc_list.len());
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); nb];
        for b in 0..nb {
            for s in self.block_succs(b) {
                preds[s].push(b);
            }
        }
        let mut live_out = vec![vec![0u8; nl]; nb];
        let mut live_in = vec![vec![0u8; nl]; nb];
        let mut queued = vec![true; nb];
        let mut work: Vec<usize> = (0..nb).collect();
        while let Some(b) = work.pop() {
            queued[b] = false;
            let mut live = vec![0u8; nl];
            for s in self.block_succs(b) {
                for (x, y) in live.iter_mut().zip(&live_in[s]) {
                    *x |= y;
                }
            }
            live_out[b].copy_from_slice(&live);
            for i in (self.block_start[b]..self.block_end[b]).rev() {
                self.live_step(i, &mut live);
            }
            if live != live_in[b] {
                live_in[b] = live;
                for &p in &preds[b] {
                    if !queued[p] {
                        queued[p] = true;
                        work.push(p);
                    }
                }
            }
        }
        self.live_out = live_out;
    }

    /// The live locations before instruction `i`, with their live bytes.
    fn live_before(&self, i: usize) -> Vec<(Loc, u8)> {
        let b = self.block_of[i];
        let mut live = self.live_out[b].clone();
        for k in (i..self.block_end[b]).rev() {
            self.live_step(k, &mut live);
        }
        let mut out: Vec<(Loc, u8)> = live
            .iter()
            .enumerate()
            .filter(|(_, m)| **m != 0)
            .map(|(x, m)| (self.loc_list[x], *m))
            .collect();
        out.sort();
        out
    }

    /// Forward: the value in every location at the start of each basic
    /// block (states are kept per block, not per instruction: SQLite's
    /// interpreter loop has tens of thousands of instructions).
    fn number_values(&mut self, optimistic: bool, max_visits: usize) -> Result<()> {
        let nb = self.block_start.len();
        let (starts, ends) = (&self.block_start, &self.block_end);
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); nb];
        for b in 0..nb {
            for s in self.block_succs(b) {
                preds[s].push(b);
            }
        }
        let mut ins: Vec<Option<ValueMap>> = vec![None; nb];
        let mut outs: Vec<Option<ValueMap>> = vec![None; nb];
        // A worklist, lowest block first (near reverse postorder for
        // compiled code), so a block is re-evaluated only when a
        // predecessor's values changed.
        let rank = self.reverse_postorder_ranks();
        let mut queued = vec![false; nb];
        let mut work = std::collections::BinaryHeap::from([std::cmp::Reverse((rank[0], 0usize))]);
        queued[0] = true;
        let mut evaluations = 0;
        while let Some(std::cmp::Reverse((_, b))) = work.pop() {
            queued[b] = false;
            evaluations += 1;
            if evaluations > max_visits * nb {
                refuse!(
                    AnalysisDiverged,
                    Some(self.insts[0].address),
                    "{max_visits} visits per block of the function"
                );
            }
            let input = if b == 0 {
                ValueMap::default()
            } else {
                let incoming: Vec<&ValueMap> =
                    preds[b].iter().filter_map(|p| outs[*p].as_ref()).collect();
                if incoming.is_empty() {
                    continue;
                }
                self.merge(starts[b], &incoming, ins[b].as_ref().filter(|_| optimistic))
            };
            if ins[b].as_ref() == Some(&input) && outs[b].is_some() {
                continue;
            }
            let mut state = input.clone();
            for k in starts[b]..ends[b] {
                self.transfer(k, &mut state);
            }
            ins[b] = Some(input);
            if outs[b].as_ref() != Some(&state) {
                outs[b] = Some(state);
                for s in self.block_succs(b) {
                    if !queued[s] {
                        queued[s] = true;
                        work.push(std::cmp::Reverse((rank[s], s)));
                    }
                }
            }
        }
        self.block_in = ins.into_iter().map(|v| v.unwrap_or_default()).collect();
        Ok(())
    }

    /// Each block's position in a reverse postorder of the blocks reachable
    /// from the entry (unreachable blocks last): visiting blocks in this
    /// order sees a block's predecessors first, except along loops.
    fn reverse_postorder_ranks(&self) -> Vec<usize> {
        let nb = self.block_start.len();
        let mut seen = vec![false; nb];
        let mut post = Vec::with_capacity(nb);
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(0, self.block_succs(0).collect())];
        seen[0] = true;
        while let Some((b, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(s) if !seen[s] => {
                    seen[s] = true;
                    let next = self.block_succs(s).collect();
                    stack.push((s, next));
                }
                Some(_) => {}
                None => {
                    post.push(*b);
                    stack.pop();
                }
            }
        }
        let mut rank = vec![nb; nb];
        for (r, b) in post.iter().rev().enumerate() {
            rank[*b] = r;
        }
        rank
    }

    /// The values before instruction `i`.
    fn values_before(&self, i: usize) -> ValueMap {
        let b = self.block_of[i];
        let mut state = self.block_in[b].clone();
        for k in self.block_start[b]..i {
            self.transfer(k, &mut state);
        }
        state
    }

    /// Merges the states arriving at instruction `i` from several paths.
    fn merge(&self, i: usize, outs: &[&ValueMap], prev: Option<&ValueMap>) -> ValueMap {
        let first = outs[0];
        if outs.len() == 1 {
            return first.clone();
        }
        let get = |o: &ValueMap, k: Loc| o.get(&k).copied().unwrap_or(self.entry_value(k));
        // Most locations agree on every path: start from the first path's
        // values and revisit only the locations that differ somewhere.
        let mut keys: Vec<Loc> = Vec::new();
        for o in &outs[1..] {
            keys.extend(
                o.iter()
                    .filter(|(k, v)| get(first, **k) != **v)
                    .map(|(k, _)| *k),
            );
            keys.extend(
                first
                    .iter()
                    .filter(|(k, v)| get(o, **k) != **v)
                    .map(|(k, _)| *k),
            );
        }
        keys.sort_unstable();
        keys.dedup();
        // Whole values first, so that an extended copy finds the value it
        // extends among the earlier locations.
        keys.sort_by_key(|k| get(first, *k).bytes != 0);
        let mut merged = first.clone();
        // Locations whose values differ between the incoming paths, in
        // order; each becomes a new value at this point unless, on every
        // path, it equals an earlier such location plus one constant (a
        // spill of a loop-carried register, `p + 32` next to `p`): then it
        // is that location's new value plus the constant.
        //
        // Paths on which a location is garbage (stack memory not written
        // yet) do not count: there the program's value is undefined, so
        // the value of the other paths serves.
        let mut representatives: Vec<Loc> = Vec::new();
        // Locations merged as a representative's value plus a constant.
        let mut related_to: Vec<(Loc, Val)> = Vec::new();
        for k in keys {
            // A path that brings back this merge's own value for `k` (a
            // loop that leaves `k` alone) says nothing new: a phi of V and
            // itself is V. If that value is named after another location
            // (`r + 8`), the path must bring back r's own value too, or
            // the relation would not hold on it.
            let own = prev
                .map(|p| get(p, k))
                .filter(|v| matches!(v.base, Base::Phi(j, _) if j == i));
            let returns_own = |o: &ValueMap| match own {
                Some(v) if get(o, k) == v => match v.base {
                    Base::Phi(_, r) if r != k => prev.is_some_and(|p| get(o, r) == get(p, r)),
                    _ => true,
                },
                _ => false,
            };
            let defined: Vec<&ValueMap> = outs
                .iter()
                .copied()
                .filter(|o| get(o, k).base != Base::Garbage && !returns_own(o))
                .collect();
            let Some(reference) = defined.first() else {
                let all_garbage = outs.iter().all(|o| get(o, k).base == Base::Garbage);
                merged.insert(
                    k,
                    match own {
                        Some(v) if !all_garbage => v,
                        _ => Val::of(Base::Garbage),
                    },
                );
                continue;
            };
            let v = get(reference, k);
            if defined.iter().all(|o| get(o, k) == v) {
                merged.insert(k, v);
                continue;
            }
            // Extended values relate too: to an equally extended one (the
            // same bytes throughout), or to the whole value they extend.
            let related = representatives.iter().find_map(|&r| {
                let (a0, b0) = (get(reference, k), get(reference, r));
                let part = a0.part.checked_sub(b0.part)?;
                let same_shape = |a: Val, b: Val| {
                    a.bytes == a0.bytes && a.ext == a0.ext && b.bytes == b0.bytes && b.ext == b0.ext
                };
                let on_every_path = |holds: &dyn Fn(Val, Val) -> bool| {
                    defined.iter().all(|o| {
                        let (a, b) = (get(o, k), get(o, r));
                        a.base == b.base
                            && b.base != Base::Garbage
                            && a.frame == b.frame
                            && a.part.checked_sub(b.part) == Some(part)
                            && holds(a, b)
                    })
                };
                let narrow_slot = |v: Val| v.bytes != 0 && v.ext == EXT_NONE;
                if narrow_slot(a0) || narrow_slot(b0) {
                    return None;
                }
                if a0.bytes == b0.bytes && a0.ext == b0.ext {
                    // k = r + delta on every path: both whole, or both
                    // extended alike, on each path (a whole value on one
                    // path and an extended one on another is fine).
                    let delta = a0.offset.wrapping_sub(b0.offset);
                    let holds = |a: Val, b: Val| {
                        a.scale == b.scale
                            && a.bytes == b.bytes
                            && a.ext == b.ext
                            && !narrow_slot(a)
                            && a.offset.wrapping_sub(b.offset) == delta
                    };
                    return (on_every_path(&holds) && (part == 0 || delta == 0))
                        .then_some((r, delta, part, 1, 0, EXT_NONE));
                }
                if b0.bytes == 0 && part == 0 {
                    // k = ext(r) * scale + offset on every path, r whole.
                    let holds = |a: Val, b: Val| {
                        same_shape(a, b)
                            && b.scale == 1
                            && b.offset == 0
                            && !a.frame
                            && !b.frame
                            && a.scale == a0.scale
                            && a.offset == a0.offset
                    };
                    return on_every_path(&holds)
                        .then_some((r, a0.offset, 0, a0.scale, a0.bytes, a0.ext));
                }
                None
            });
            // Or the upper half of a value an earlier location holds whole
            // and that is itself related to a representative (`r10 + 72`
            // spilled to an 8-byte slot: its upper half cannot be named
            // from r10, but it is the upper half of the slot's value).
            let halves = || {
                related_to.iter().find_map(|&(q, mq): &(Loc, Val)| {
                    let ok = mq.part == 0
                        && mq.bytes == 0
                        && defined.iter().all(|o| {
                            let (a, b) = (get(o, k), get(o, q));
                            b.part == 0
                                && b.bytes == 0
                                && b.base != Base::Garbage
                                && a == Val { part: 1, ..b }
                        });
                    ok.then_some(Val { part: 1, ..mq })
                })
            };
            match related {
                Some((r, offset, part, scale, bytes, ext)) => {
                    let v = Val {
                        base: Base::Phi(i, r),
                        offset,
                        part,
                        scale,
                        frame: false,
                        bytes,
                        ext,
                    };
                    merged.insert(k, v);
                    related_to.push((k, v));
                }
                _ if let Some(v) = halves() => {
                    merged.insert(k, v);
                }
                _ => {
                    representatives.push(k);
                    merged.insert(k, Val::of(Base::Phi(i, k)));
                }
            }
        }
        merged
    }

    /// What `loc` holds when the function is entered. Slots are named in
    /// 8-byte units, the upper 4 bytes as part 1 of the unit: the incoming
    /// stack arguments (`[cfa+0]`, `[cfa+8]`, ...) are 8-byte values, and
    /// an 8-byte load of one must see one whole value.
    fn entry_value(&self, loc: Loc) -> Val {
        match loc {
            Loc::Slot { offset } if offset < self.isa.entry_sp() => Val::of(Base::Garbage),
            Loc::Slot { offset } if offset.rem_euclid(8) == SLOT => Val {
                base: Base::Entry(Loc::Slot {
                    offset: offset - SLOT,
                }),
                offset: 0,
                part: 1,
                scale: 1,
                frame: false,
                bytes: 0,
                ext: EXT_NONE,
            },
            _ => Val::of(Base::Entry(loc)),
        }
    }

    /// The value in `loc` given `state`.
    fn value(&self, state: &ValueMap, loc: Loc) -> Val {
        state.get(&loc).copied().unwrap_or(self.entry_value(loc))
    }

    /// The value of register `r` before instruction `i` given `state`:
    /// the stack and frame pointers are frame addresses when known.
    fn reg_value(&self, i: usize, state: &ValueMap, r: Reg) -> Val {
        if self.is_frame_base(r) {
            if let Some(off) = self.cfa_offset(i, r, 0, 0) {
                return Val::at(Base::Cfa, off);
            }
        }
        self.value(state, Loc::Reg { reg: r })
    }

    /// Updates `state` to the values after instruction `i`.
    fn transfer(&self, i: usize, state: &mut ValueMap) {
        let m = &self.insts[i];
        // A memory place of one or two bytes as (its slot, byte in it).
        let narrow_slot = |mem: &crate::machine::Mem| -> Option<(i64, i64)> {
            let off = self.cfa_offset(i, mem.base, mem.disp, m.sp_before)?;
            let slot = off.div_euclid(SLOT) * SLOT;
            (matches!(mem.size, 1 | 2) && off - slot + mem.size as i64 <= SLOT)
                .then_some((slot, off - slot))
        };
        // A memory place as (first slot, number of slots), if it is whole
        // slots of this frame.
        let slots_of = |mem: &crate::machine::Mem| -> Option<(i64, i64)> {
            let off = self.cfa_offset(i, mem.base, mem.disp, m.sp_before)?;
            let n = mem.size as i64 / SLOT;
            (off % SLOT == 0 && mem.size as i64 % SLOT == 0 && (1..=4).contains(&n))
                .then_some((off, n))
        };
        // The value a place holds before the instruction.
        let read = |src: &Place| -> Option<Val> {
            match *src {
                Place::Reg(r) => Some(self.reg_value(i, state, r)),
                // One or two bytes spilled with `movb`/`movw`: the value
                // stored there, zero-extended (decoders give only
                // zero-extending loads this way).
                Place::Mem(mem) if mem.size < 4 => {
                    let (slot, at) = narrow_slot(&mem)?;
                    let v = self.value(state, Loc::Slot { offset: slot });
                    (v.bytes == narrow_bytes(at, mem.size) && v.scale == 1 && v.offset == 0)
                        .then_some(Val {
                            bytes: narrow_bytes(0, mem.size),
                            ext: EXT_ZERO,
                            ..v
                        })
                }
                Place::Mem(mem) => slots_of(&mem).and_then(|(off, n)| {
                    let v = self.value(state, Loc::Slot { offset: off });
                    let garbage = |k: i64| {
                        self.value(
                            state,
                            Loc::Slot {
                                offset: off + SLOT * k,
                            },
                        )
                        .base
                            == Base::Garbage
                    };
                    if (0..n).all(garbage) {
                        return Some(Val::of(Base::Garbage));
                    }
                    // A 4-byte load of an extended value: its low 4 bytes,
                    // zero-extended (32-bit loads clear the upper half).
                    // Said only of the extension itself: of `ext(x) - 100`
                    // the upper half may be ones.
                    if n == 1 && v.part == 0 && v.bytes != 0 && v.ext != EXT_NONE {
                        if v.scale != 1 || v.offset != 0 || v.frame {
                            return None;
                        }
                        let size = v.bytes & 0xf;
                        return match v.ext {
                            _ if size >= 4 => extend(
                                Val {
                                    bytes: 0,
                                    ext: EXT_NONE,
                                    ..v
                                },
                                4,
                                EXT_ZERO,
                            ),
                            EXT_ZERO | EXT_SIGN32 => Some(v),
                            _ => Some(Val {
                                ext: EXT_SIGN32,
                                ..v
                            }),
                        };
                    }
                    // Whole only if its parts are one value's, in order (an
                    // extended value: all 8 bytes of it).
                    let whole = v.bytes == 0 || (v.ext != EXT_NONE && n == 2);
                    (v.part == 0
                        && whole
                        && (1..n).all(|k| {
                            self.value(
                                state,
                                Loc::Slot {
                                    offset: off + SLOT * k,
                                },
                            ) == Val { part: k as u8, ..v }
                        }))
                    .then_some(v)
                }),
            }
        };
        // What the instruction writes, computed from the state before it.
        let mut results: [Option<(Place, Val)>; 3] = [None, None, None];
        if let Some((b, step)) = m.writeback {
            let v = self.reg_value(i, state, b);
            if v.part == 0 && v.bytes == 0 && v.base != Base::Garbage {
                results[2] = Some((
                    Place::Reg(b),
                    Val {
                        offset: v.offset.wrapping_add(step),
                        ..v
                    },
                ));
            }
        }
        match m.op {
            Op::Copy { dst, src } => results[0] = read(&src).map(|v| (dst, v)),
            Op::CopyPair { first, second } => {
                results[0] = read(&first.1).map(|v| (first.0, v));
                results[1] = read(&second.1).map(|v| (second.0, v));
            }
            Op::Const { dst, value } => results[0] = Some((dst, Val::at(Base::Absolute, value))),
            Op::SetBits { dst, value, shift } => {
                let old = self.value(state, Loc::Reg { reg: dst });
                if old.base == Base::Absolute && old.part == 0 {
                    let mask = !(0xffffi64 << shift);
                    let v = (old.offset & mask) | ((value as i64) << shift);
                    results[0] = Some((Place::Reg(dst), Val::at(Base::Absolute, v)));
                }
            }
            Op::AddrOf { dst, base, disp } => {
                let b = self.reg_value(i, state, base);
                let v = if b.part == 0 && (b.bytes == 0 || b.ext != EXT_NONE) {
                    Val {
                        offset: b.offset.wrapping_add(disp),
                        ..b
                    }
                } else {
                    Val::of(Base::Def(i, Loc::Reg { reg: dst }))
                };
                results[0] = Some((Place::Reg(dst), v));
            }
            Op::Scale {
                dst,
                src,
                times,
                plus,
            } => {
                let v = self.reg_value(i, state, src);
                let scaled = match v.base {
                    _ if v.part != 0 || v.frame => None,
                    _ if v.bytes != 0 && v.ext == EXT_NONE => None,
                    Base::Absolute => Some(Val::at(
                        Base::Absolute,
                        v.offset.wrapping_mul(times).wrapping_add(plus),
                    )),
                    Base::Cfa | Base::Garbage => None,
                    base => Some(Val {
                        base,
                        offset: v.offset.wrapping_mul(times).wrapping_add(plus),
                        part: 0,
                        scale: v.scale.wrapping_mul(times),
                        frame: false,
                        bytes: v.bytes,
                        ext: v.ext,
                    }),
                };
                results[0] = scaled.map(|v| (Place::Reg(dst), v));
            }
            Op::AddRegs {
                dst,
                base,
                index,
                times,
                disp,
            } => {
                let (a, b) = (
                    self.reg_value(i, state, base),
                    self.reg_value(i, state, index),
                );
                results[0] = sum(a, b, times, disp).map(|v| (Place::Reg(dst), v));
            }
            Op::Extend {
                dst,
                src,
                size,
                signed,
                to32,
            } => {
                let v = match src {
                    Place::Reg(r) => Some(self.reg_value(i, state, r)),
                    // A narrow slot, read whole: the bytes stored there.
                    Place::Mem(mem) if mem.size < 4 => narrow_slot(&mem).and_then(|(slot, at)| {
                        let v = self.value(state, Loc::Slot { offset: slot });
                        (v.bytes == narrow_bytes(at, mem.size)).then_some(Val {
                            bytes: 0,
                            ext: EXT_NONE,
                            ..v
                        })
                    }),
                    Place::Mem(_) => read(&src),
                };
                let ext = match (signed, to32) {
                    (false, _) => EXT_ZERO,
                    (true, false) => EXT_SIGN,
                    (true, true) => EXT_SIGN32,
                };
                results[0] = v
                    .and_then(|v| extend(v, size, ext))
                    .map(|v| (Place::Reg(dst), v));
            }
            Op::OrBits { dst, src, bits } => {
                let v = self.reg_value(i, state, src);
                let or = match v.base {
                    _ if v.part != 0 || v.bytes != 0 => None,
                    Base::Absolute => Some(Val::at(Base::Absolute, v.offset | bits as i64)),
                    // The CFA is 16-byte aligned on both ISAs: its low four
                    // bits are the offset's.
                    Base::Cfa if bits < 16 => {
                        let low = v.offset.rem_euclid(16);
                        Some(Val::at(
                            Base::Cfa,
                            v.offset.wrapping_sub(low).wrapping_add(low | bits as i64),
                        ))
                    }
                    _ => None,
                };
                results[0] = or.map(|v| (Place::Reg(dst), v));
            }
            Op::Other => {}
        }
        for (d, _) in &self.defs[i] {
            state.insert(*d, Val::of(Base::Def(i, *d)));
        }
        // A value of 8 or 16 bytes stored by an instruction not followed
        // (`incq -0x68(%rbp)`) is still one value: its slots are its parts,
        // so a later 8-byte load reads it whole.
        for mem in &m.stores {
            if let Some((off, n)) = slots_of(mem).filter(|(_, n)| *n > 1) {
                let first = Loc::Slot { offset: off };
                for k in 0..n {
                    state.insert(
                        Loc::Slot {
                            offset: off + SLOT * k,
                        },
                        Val {
                            part: k as u8,
                            ..Val::of(Base::Def(i, first))
                        },
                    );
                }
            }
        }
        for (dst, v) in results.into_iter().flatten() {
            match dst {
                Place::Reg(r) => {
                    state.insert(Loc::Reg { reg: r }, v);
                }
                Place::Mem(mem) if mem.size < 4 => {
                    // The low bytes of a value stored narrow.
                    let whole =
                        v.bytes == 0 || v.bytes & 0xf >= mem.size as u8 && v.bytes >> 4 == 0;
                    if let (Some((slot, at)), true, 0) = (narrow_slot(&mem), whole, v.part) {
                        state.insert(
                            Loc::Slot { offset: slot },
                            Val {
                                bytes: narrow_bytes(at, mem.size),
                                ext: EXT_NONE,
                                ..v
                            },
                        );
                    }
                }
                Place::Mem(mem) => {
                    if let Some((off, n)) = slots_of(&mem) {
                        for k in 0..n {
                            state.insert(
                                Loc::Slot {
                                    offset: off + SLOT * k,
                                },
                                Val { part: k as u8, ..v },
                            );
                        }
                    }
                }
            }
        }
    }

    /// The CFA ranges of the function's fixed-size allocations, from its
    /// frame record (`sizes` from the side table).
    pub fn alloca_ranges(&self, frame_record: &Record, sizes: &[u64]) -> Vec<(i64, u64)> {
        let p = self.index.get(&frame_record.address()).copied();
        frame_record
            .locations
            .iter()
            .zip(sizes)
            .filter_map(|(loc, size)| match (*loc, p) {
                (Location::Direct { reg, offset, .. }, Some(p)) => {
                    Some((self.cfa_offset(p, reg, offset as i64, 0)?, *size))
                }
                _ => None,
            })
            .collect()
    }

    /// Certifies one stackmap record of this function; `allocas` are the
    /// CFA ranges of its stack allocations ([`Function::alloca_ranges`]).
    pub fn certify(&self, record: &Record, allocas: &[(i64, u64)]) -> Result<Certificate> {
        let point = record.address();
        let p = match self.index.get(&point) {
            Some(&p) => p,
            None => refuse!(RecordNotAtInstruction, Some(point), "record {}", record.id),
        };
        // The call: the nearest one before the record, with only straight-
        // line instructions in between.
        let mut c = p;
        loop {
            if c == 0 {
                refuse!(RecordFollowsNoCall, Some(point), "record {}", record.id);
            }
            c -= 1;
            match self.insts[c].flow {
                Flow::Call { .. } => break,
                Flow::Next => {}
                _ => refuse!(ControlFlowBeforeRecord, Some(point), "record {}", record.id),
            }
        }
        let ra = c + 1;
        // Along the path through the call (the return address may also be
        // reached from elsewhere, where values differ).
        let mut at_ra = self.values_before(c);
        self.transfer(c, &mut at_ra);
        let at_ra = &at_ra;
        let mut at_record = at_ra.clone();
        for k in ra..p {
            self.transfer(k, &mut at_record);
        }
        let at_record = &at_record;
        // The recorded parts' values, in terms of the state at the return address.
        let mut recorded: Vec<(usize, Val)> = Vec::new();
        for (k, loc) in record.locations.iter().enumerate() {
            let v = match *loc {
                Location::Register { reg, .. } => Some(self.reg_value(p, at_record, reg)),
                Location::Indirect { reg, offset, .. } => {
                    self.cfa_offset(p, reg, offset as i64, 0).and_then(|o| {
                        let slot = o.div_euclid(SLOT) * SLOT;
                        let v = self.value(at_record, Loc::Slot { offset: slot });
                        // The value must start where the record says (a
                        // byte spilled at byte 3 of its slot is recorded at
                        // that byte).
                        let at = if v.bytes == 0 {
                            0
                        } else {
                            (v.bytes >> 4) as i64
                        };
                        (o - slot == at).then_some(v)
                    })
                }
                Location::Direct { .. } | Location::Constant { .. } => None,
            };
            if let Some(v) = v {
                // A value defined between the return address and the record
                // is recomputed on resume: only values already present at
                // the return address can explain a location there.
                if !matches!(v.base, Base::Def(d, _) if d >= ra && d < p) {
                    recorded.push((k, v));
                }
            }
        }
        let mut live = Vec::new();
        for (loc, live_bytes) in self.live_before(ra) {
            if loc == (Loc::Reg { reg: self.isa.fp() }) && self.frame[ra].1.is_some() {
                continue; // the frame pointer: frame geometry
            }
            if let Loc::Slot { offset } = loc {
                let inside = allocas
                    .iter()
                    .position(|(start, size)| offset + 8 > *start && offset < start + *size as i64);
                if let Some(alloca) = inside {
                    live.push((loc, Explanation::AllocaContents { alloca }));
                    continue;
                }
            }
            let v = self.value(at_ra, loc);
            let mut e = match self.explain_narrow(loc, v, live_bytes, &recorded) {
                Some(e) => e,
                None => self.explain(loc, v, c, &recorded),
            };
            if let Explanation::Unknown { why } = &mut e {
                if let Some(r) = self.first_read(ra, loc) {
                    let m = &self.insts[r];
                    why.push_str(&format!(", read at {:#x} ({})", m.address, m.text));
                }
            }
            live.push((loc, e));
        }
        Ok(Certificate {
            id: record.id,
            return_address: self.insts[c].next(),
            record_address: point,
            live,
        })
    }

    /// An instruction reachable from `from` that reads `loc` before
    /// anything writes it (why `loc` is live there), nearest first.
    fn first_read(&self, from: usize, loc: Loc) -> Option<usize> {
        let mut seen = vec![false; self.insts.len()];
        let mut queue = std::collections::VecDeque::from([from]);
        seen[from] = true;
        while let Some(i) = queue.pop_front() {
            if self.uses[i].iter().any(|(l, _)| *l == loc) {
                return Some(i);
            }
            if self.defs[i].iter().any(|(l, m)| *l == loc && *m == WHOLE) {
                continue;
            }
            for &s in &self.succs[i] {
                if !seen[s] {
                    seen[s] = true;
                    queue.push_back(s);
                }
            }
        }
        None
    }

    /// The explanation of a location holding only the low bytes of a value
    /// (`v.bytes`), if `v` is such: those bytes must be all that is live
    /// there, and the value recorded.
    fn explain_narrow(
        &self,
        loc: Loc,
        v: Val,
        live_bytes: u8,
        recorded: &[(usize, Val)],
    ) -> Option<Explanation> {
        if v.bytes == 0 || recorded.iter().any(|(_, r)| *r == v) {
            return None;
        }
        let (at, size) = (v.bytes >> 4, v.bytes & 0xf);
        if v.ext != EXT_NONE {
            // A record of the base value itself (the extension applies to
            // it, `v`'s scale and offset after).
            let extends = |r: &Val| {
                r.base == v.base
                    && r.offset == 0
                    && r.scale == 1
                    && !r.frame
                    && r.part == 0
                    && (r.bytes == 0 || r.bytes >> 4 == 0 && r.bytes & 0xf >= size)
            };
            let in_register_whole = matches!(loc, Loc::Reg { .. }) && v.part != 0;
            return Some(match recorded.iter().find(|(_, r)| extends(r)) {
                Some((k, _)) if !in_register_whole => Explanation::Extended {
                    part: *k,
                    size,
                    signed: v.ext != EXT_ZERO,
                    to32: v.ext == EXT_SIGN32,
                    times: v.scale,
                    plus: v.offset,
                    frame: v.frame,
                    half: v.part,
                },
                _ => Explanation::Unknown {
                    why: format!(
                        "{} holds {} bytes of {}, extended",
                        self.loc_name(loc),
                        size,
                        self.describe(Val {
                            bytes: 0,
                            ext: EXT_NONE,
                            ..v
                        })
                    ),
                },
            });
        }
        let held = match loc {
            Loc::Slot { .. } => ((1u8 << size) - 1) << at,
            Loc::Reg { .. } => WHOLE, // zero-extended: all bytes known
        };
        let same = |r: &Val| {
            r.base == v.base
                && r.offset == v.offset
                && r.scale == v.scale
                && r.frame == v.frame
                && r.part == 0
                && v.part == 0
                && (r.bytes == 0 || r.bytes & 0xf >= size)
        };
        Some(match recorded.iter().find(|(_, r)| same(r)) {
            Some((k, _)) if live_bytes & !held == 0 => Explanation::Narrow { part: *k, at, size },
            _ => Explanation::Unknown {
                why: format!(
                    "{} holds {} bytes of {}",
                    self.loc_name(loc),
                    size,
                    self.describe(Val { bytes: 0, ..v })
                ),
            },
        })
    }

    fn explain(&self, loc: Loc, v: Val, call: usize, recorded: &[(usize, Val)]) -> Explanation {
        if let Some((k, _)) = recorded.iter().find(|(_, r)| *r == v) {
            return Explanation::Recorded { part: *k, plus: 0 };
        }
        if v.part != 0 && v.bytes == 0 {
            // The upper half of a spilled value: explained by the value.
            let whole = Val { part: 0, ..v };
            let of = self.explain(loc, whole, call, recorded);
            if matches!(
                of,
                Explanation::Recorded { .. }
                    | Explanation::Scaled { .. }
                    | Explanation::Sum { .. }
                    | Explanation::Constant { .. }
                    | Explanation::FrameAddress { .. }
            ) {
                return Explanation::Upper {
                    of: Box::new(of),
                    part: v.part,
                };
            }
        }
        match v.base {
            Base::Def(d, Loc::Reg { reg }) if d == call => {
                if self.isa.return_registers().contains(&reg) {
                    Explanation::CallResult
                } else {
                    // The call may leave anything there, so the code cannot
                    // depend on it (an undefined operand, as in `punpcklwd`
                    // followed by a shift that discards it).
                    Explanation::Clobbered
                }
            }
            Base::Absolute => Explanation::Constant { value: v.offset },
            Base::Garbage => Explanation::Undefined,
            Base::Cfa => Explanation::FrameAddress { offset: v.offset },
            Base::Entry(of) if v.offset == 0 && self.is_callee_saved_state(of) => {
                Explanation::CallersValue { of }
            }
            _ => {
                // Not upper halves: an upper half is not its lower half
                // plus a constant. (A recorded narrow value stands for the
                // whole register: only its low bytes are the IR value.)
                let whole = |r: &Val| r.part == 0;
                if let Some((k, r)) = recorded.iter().find(|(_, r)| {
                    r.base == v.base
                        && r.scale == v.scale
                        && r.frame == v.frame
                        && whole(r)
                        && whole(&v)
                }) {
                    return Explanation::Recorded {
                        part: *k,
                        plus: v.offset.wrapping_sub(r.offset),
                    };
                }
                // v = (r - r.offset) * v.scale + v.offset.
                if let Some((k, r)) = recorded.iter().find(|(_, r)| {
                    r.base == v.base && r.scale == 1 && !r.frame && whole(r) && whole(&v)
                }) {
                    return Explanation::Scaled {
                        part: *k,
                        times: v.scale,
                        plus: v.offset.wrapping_sub(r.offset.wrapping_mul(v.scale)),
                        frame: v.frame,
                    };
                }
                if let Some(e) = self.explain_sum(v, recorded) {
                    return e;
                }
                Explanation::Unknown {
                    why: format!("{} holds {}", self.loc_name(loc), self.describe(v)),
                }
            }
        }
    }

    /// `v`, the result of adding two registers (`lea (%rsi,%r13),%r14`,
    /// `add x24, x22, x27`), as the sum of the recorded values the two held
    /// then: the names of values are those of their definitions, so a
    /// recorded value with the same name is the same value.
    fn explain_sum(&self, v: Val, recorded: &[(usize, Val)]) -> Option<Explanation> {
        let Base::Def(d, Loc::Reg { reg }) = v.base else {
            return None;
        };
        let Op::AddRegs {
            dst,
            base,
            index,
            times,
            disp,
        } = self.insts[d].op
        else {
            return None;
        };
        if dst != reg || v.part != 0 || v.bytes != 0 || v.scale != 1 || v.frame {
            return None;
        }
        let state = self.values_before(d);
        let find = |x: Val| {
            recorded.iter().find(|(_, r)| {
                r.base == x.base
                    && r.scale == x.scale
                    && r.scale == 1
                    && !r.frame
                    && !x.frame
                    && r.part == 0
                    && x.part == 0
                    && r.bytes == 0
                    && x.bytes == 0
            })
        };
        let (a, b) = (
            self.reg_value(d, &state, base),
            self.reg_value(d, &state, index),
        );
        let ((ka, ra), (kb, rb)) = (find(a)?, find(b)?);
        // v = a + b * times + disp + v.offset, a = ra + (a - ra), ...
        let plus = v
            .offset
            .wrapping_add(disp)
            .wrapping_add(a.offset.wrapping_sub(ra.offset))
            .wrapping_add(b.offset.wrapping_sub(rb.offset).wrapping_mul(times));
        Some(Explanation::Sum {
            a: *ka,
            b: *kb,
            times,
            plus,
        })
    }

    /// Callee-saved registers (and the link register) hold the caller's
    /// values at entry.
    fn is_callee_saved_state(&self, of: Loc) -> bool {
        matches!(of, Loc::Reg { reg } if self.isa.callee_saved().contains(&reg)
            || self.isa.link_register() == Some(reg))
    }

    fn loc_name(&self, loc: Loc) -> String {
        match loc {
            Loc::Reg { reg } => self.isa.register_name(reg),
            Loc::Slot { offset } => format!("[cfa{offset:+}]"),
        }
    }

    fn describe(&self, v: Val) -> String {
        let plus = if v.offset != 0 {
            format!(" {:+}", v.offset)
        } else {
            String::new()
        };
        match v.base {
            Base::Def(d, _) => format!(
                "a value computed at {:#x} ({}){plus}",
                self.insts[d].address, self.insts[d].text
            ),
            Base::Phi(d, _) => format!(
                "different values on the paths meeting at {:#x}{plus}",
                self.insts[d].address
            ),
            Base::Entry(of) => {
                format!("its value at function entry of {}{plus}", self.loc_name(of))
            }
            Base::Absolute | Base::Cfa => "a known value".into(),
            Base::Garbage => "stack memory never written".into(),
        }
    }
}

/// `a + b * times + disp`, where the analysis can say: at most one of
/// them a frame address, the other a value of the function, or either a
/// constant.
fn sum(a: Val, b: Val, times: i64, disp: i64) -> Option<Val> {
    let narrow = |v: Val| v.bytes != 0 && v.ext == EXT_NONE;
    if a.part != 0 || b.part != 0 || narrow(a) || narrow(b) {
        return None;
    }
    let b = match b.base {
        Base::Cfa if times != 1 => return None,
        Base::Garbage => return None,
        _ if b.frame && times != 1 => return None,
        _ => Val {
            offset: b.offset.wrapping_mul(times),
            scale: b.scale.wrapping_mul(times),
            ..b
        },
    };
    let plus = |v: Val, k: i64| Val {
        offset: v.offset.wrapping_add(k).wrapping_add(disp),
        ..v
    };
    match (a.base, b.base) {
        (Base::Garbage, _) => None,
        (Base::Absolute, _) => Some(plus(b, a.offset)),
        (_, Base::Absolute) => Some(plus(a, b.offset)),
        (Base::Cfa, Base::Cfa) => None,
        (Base::Cfa, _) if !b.frame => Some(Val {
            frame: true,
            ..plus(b, a.offset)
        }),
        (_, Base::Cfa) if !a.frame => Some(Val {
            frame: true,
            ..plus(a, b.offset)
        }),
        _ => None,
    }
}

fn unknown_frame(m: &MInst) -> Refusal {
    Refusal::new(
        RefusalKind::UnknownStackPointer,
        Some(m.address),
        m.text.clone(),
    )
}

/// The loaded sections of an ELF file, for reading jump tables.
struct Image<'d> {
    sections: Vec<(u64, &'d [u8])>,
}

impl crate::isa::Memory for Image<'_> {
    fn read(&self, address: u64, len: usize) -> Option<&[u8]> {
        self.sections.iter().find_map(|(start, data)| {
            let off = address.checked_sub(*start)? as usize;
            data.get(off..off.checked_add(len)?)
        })
    }
}

/// Calls to functions that never return get no successor: the bytes after
/// them are other code (LLVM emits nothing for the `unreachable` after
/// such a call), whose registers must not look live at the call.
fn mark_noreturn_calls(insts: &mut [MInst], noreturn: &HashSet<u64>) {
    for m in insts {
        if matches!(m.flow, Flow::Call { target: Some(t) } if noreturn.contains(&t)) {
            m.flow = Flow::Stop;
        }
    }
}

/// Certifies every record (frame records excepted) of the executable at
/// `path`, built for `isa`.
pub fn certify_file(
    path: &std::path::Path,
    isa: &dyn Isa,
    table: &migrate_format::callsites::CallSiteTable,
) -> anyhow::Result<Vec<RecordOutcome>> {
    use anyhow::Context as _;
    use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = object::File::parse(&data[..])
        .with_context(|| format!("{}: not an ELF file", path.display()))?;
    let image = Image {
        sections: file
            .sections()
            .filter(|s| s.address() != 0)
            .filter_map(|s| Some((s.address(), s.data().ok()?)))
            .collect(),
    };
    let maps = match file.section_by_name(crate::stackmaps::SECTION) {
        Some(s) => crate::stackmaps::StackMaps::parse(s.data()?)?,
        None => return Ok(Vec::new()),
    };
    let functions: BTreeMap<u64, u64> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.size() > 0)
        .map(|s| (s.address(), s.size()))
        .collect();
    let noreturn: HashSet<u64> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter(|s| {
            s.name().is_ok_and(|n| {
                table
                    .noreturn
                    .binary_search_by(|f| f.as_str().cmp(n))
                    .is_ok()
            })
        })
        .map(|s| s.address())
        .collect();
    let mut by_function: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
    let mut frame_records: HashMap<u64, &Record> = HashMap::new();
    for r in &maps.records {
        if r.id < migrate_format::callsites::FRAME_ID_BASE {
            by_function.entry(r.function).or_default().push(r);
        } else {
            frame_records.insert(r.function, r);
        }
    }
    let mut out = Vec::new();
    for (start, records) in by_function {
        let analysed = functions
            .get(&start)
            .ok_or_else(|| Refusal::new(RefusalKind::NoFunctionSymbol, Some(start), ""))
            .and_then(|&size| {
                let code = image
                    .read(start, size as usize)
                    .ok_or_else(|| Refusal::new(RefusalKind::FunctionNotLoaded, Some(start), ""))?;
                let mut insts = isa.decode(code, start, &image).map_err(|e| {
                    Refusal::new(RefusalKind::Undecodable, Some(start), format!("{e:#}"))
                })?;
                mark_noreturn_calls(&mut insts, &noreturn);
                Function::new(isa, insts, &image)
            });
        let allocas = match (&analysed, frame_records.get(&start)) {
            (Ok(f), Some(fr)) => match table.frame(fr.id) {
                Some(frame) => f.alloca_ranges(fr, &frame.allocas),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        for r in records {
            let certificate = match &analysed {
                Ok(f) => f.certify(r, &allocas),
                Err(e) => Err(e.clone()),
            };
            out.push(RecordOutcome {
                id: r.id,
                record_address: r.address(),
                certificate,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{NoMemory, X86_64};

    /// A function that keeps its argument in rbx across a call (recorded)
    /// and a constant hoisted into r12 (not recorded).
    const CODE: &[u8] = &[
        0x55, // push %rbp
        0x48, 0x89, 0xe5, // mov %rsp,%rbp
        0x41, 0x54, // push %r12
        0x53, // push %rbx
        0x48, 0x89, 0xfb, // mov %rdi,%rbx
        0x41, 0xbc, 0x2a, 0, 0, 0, // mov $42,%r12d
        0xe8, 0, 0, 0, 0, // call 0x1015
        0x4c, 0x01, 0xe3, // add %r12,%rbx   <- the record's point
        0x48, 0x89, 0xd8, // mov %rbx,%rax
        0x5b, // pop %rbx
        0x41, 0x5c, // pop %r12
        0x5d, // pop %rbp
        0xc3, // ret
    ];

    fn function() -> Function<'static> {
        analysed(CODE)
    }

    /// x86_64 machine code at 0x1000, analysed.
    fn analysed(code: &[u8]) -> Function<'static> {
        Function::new(
            X86_64,
            X86_64.decode(code, 0x1000, &NoMemory).unwrap(),
            &NoMemory,
        )
        .unwrap()
    }

    fn record(locations: Vec<Location>) -> Record {
        Record {
            id: 1,
            function: 0x1000,
            offset: 0x15,
            locations,
        }
    }

    #[test]
    fn explains_recorded_values_constants_and_saved_registers() {
        let cert = function()
            .certify(&record(vec![Location::Register { reg: 3, size: 8 }]), &[])
            .unwrap();
        assert_eq!(cert.return_address, 0x1015);
        let find = |loc: Loc| {
            cert.live
                .iter()
                .find(|(l, _)| *l == loc)
                .map(|(_, e)| e.clone())
        };
        assert_eq!(
            find(Loc::Reg { reg: 3 }),
            Some(Explanation::Recorded { part: 0, plus: 0 })
        );
        assert_eq!(
            find(Loc::Reg { reg: 12 }),
            Some(Explanation::Constant { value: 42 })
        );
        // The saved rbx and r12 (read by the pops) are the caller's values.
        assert_eq!(
            find(Loc::Slot { offset: -32 }),
            Some(Explanation::CallersValue {
                of: Loc::Reg { reg: 3 }
            })
        );
        assert_eq!(
            find(Loc::Slot { offset: -24 }),
            Some(Explanation::CallersValue {
                of: Loc::Reg { reg: 12 }
            })
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn explains_a_spilled_duplicate_of_a_recorded_value() {
        // The argument is kept in rbx (recorded) and also spilled to
        // [rbp-0x18] (not recorded), and both are read after the call.
        let code: &[u8] = &[
            0x55, // push %rbp
            0x48, 0x89, 0xe5, // mov %rsp,%rbp
            0x53, // push %rbx
            0x48, 0x83, 0xec, 0x18, // sub $0x18,%rsp
            0x48, 0x89, 0xfb, // mov %rdi,%rbx
            0x48, 0x89, 0x7d, 0xe8, // mov %rdi,-0x18(%rbp)
            0xe8, 0, 0, 0, 0, // call 0x1015
            0x48, 0x8b, 0x45, 0xe8, // mov -0x18(%rbp),%rax  <- the record's point
            0x48, 0x01, 0xd8, // add %rbx,%rax
            0x48, 0x83, 0xc4, 0x18, // add $0x18,%rsp
            0x5b, // pop %rbx
            0x5d, // pop %rbp
            0xc3, // ret
        ];
        let f = analysed(code);
        let cert = f
            .certify(&record(vec![Location::Register { reg: 3, size: 8 }]), &[])
            .unwrap();
        let find = |loc: Loc| cert.live.iter().find(|(l, _)| *l == loc).map(|(_, e)| e);
        // rbp = cfa-16, so the spill slot is cfa-40 (and its upper half).
        assert_eq!(
            find(Loc::Slot { offset: -40 }),
            Some(&Explanation::Recorded { part: 0, plus: 0 })
        );
        assert_eq!(
            find(Loc::Slot { offset: -36 }),
            Some(&Explanation::Upper {
                of: Box::new(Explanation::Recorded { part: 0, plus: 0 }),
                part: 1
            })
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn explains_a_multiple_of_a_recorded_value() {
        // i * 40 (an element's byte offset) kept in r12 across the call,
        // i itself recorded in rbx.
        let code: &[u8] = &[
            0x55, // push %rbp
            0x48, 0x89, 0xe5, // mov %rsp,%rbp
            0x41, 0x54, // push %r12
            0x53, // push %rbx
            0x48, 0x89, 0xfb, // mov %rdi,%rbx
            0x4c, 0x6b, 0xe3, 0x28, // imul $40,%rbx,%r12
            0xe8, 0, 0, 0, 0, // call 0x1013
            0x4c, 0x01, 0xe3, // add %r12,%rbx   <- the record's point
            0x48, 0x89, 0xd8, // mov %rbx,%rax
            0x5b, // pop %rbx
            0x41, 0x5c, // pop %r12
            0x5d, // pop %rbp
            0xc3, // ret
        ];
        let f = analysed(code);
        let mut r = record(vec![Location::Register { reg: 3, size: 8 }]);
        r.offset = 0x13;
        let cert = f.certify(&r, &[]).unwrap();
        let r12 = cert.live.iter().find(|(l, _)| *l == Loc::Reg { reg: 12 });
        assert_eq!(
            r12.map(|(_, e)| e),
            Some(&Explanation::Scaled {
                part: 0,
                times: 40,
                plus: 0,
                frame: false
            }),
            "{:?}",
            cert.live
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn explains_a_sign_extended_scaled_spill() {
        // An int index i recorded in ebx; (long)i * 16 (a byte offset)
        // spilled whole to [rbp-0x18] and read after the call.
        let code: &[u8] = &[
            0x55, // push %rbp
            0x48, 0x89, 0xe5, // mov %rsp,%rbp
            0x53, // push %rbx
            0x48, 0x83, 0xec, 0x18, // sub $0x18,%rsp
            0x89, 0xfb, // mov %edi,%ebx
            0x48, 0x63, 0xc7, // movslq %edi,%rax
            0x48, 0xc1, 0xe0, 0x04, // shl $4,%rax
            0x48, 0x89, 0x45, 0xe8, // mov %rax,-0x18(%rbp)
            0xe8, 0, 0, 0, 0, // call 0x101b
            0x48, 0x8b, 0x45, 0xe8, // mov -0x18(%rbp),%rax  <- the record's point
            0x48, 0x01, 0xd8, // add %rbx,%rax
            0x48, 0x83, 0xc4, 0x18, // add $0x18,%rsp
            0x5b, // pop %rbx
            0x5d, // pop %rbp
            0xc3, // ret
        ];
        let f = analysed(code);
        let mut r = record(vec![Location::Register { reg: 3, size: 4 }]);
        r.offset = 0x1b;
        let cert = f.certify(&r, &[]).unwrap();
        let find = |loc: Loc| cert.live.iter().find(|(l, _)| *l == loc).map(|(_, e)| e);
        let half = |half| Explanation::Extended {
            part: 0,
            size: 4,
            signed: true,
            to32: false,
            times: 16,
            plus: 0,
            frame: false,
            half,
        };
        assert_eq!(
            find(Loc::Slot { offset: -40 }),
            Some(&half(0)),
            "{:?}",
            cert.live
        );
        assert_eq!(
            find(Loc::Slot { offset: -36 }),
            Some(&half(1)),
            "{:?}",
            cert.live
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn explains_a_sum_of_two_recorded_values() {
        // base + index * 8 + 16 kept in rbx across the call; base and
        // index recorded in r12 and r13.
        let code: &[u8] = &[
            0x55, // push %rbp
            0x48, 0x89, 0xe5, // mov %rsp,%rbp
            0x53, // push %rbx
            0x41, 0x54, // push %r12
            0x41, 0x55, // push %r13
            0x48, 0x83, 0xec, 0x08, // sub $8,%rsp
            0x49, 0x89, 0xfc, // mov %rdi,%r12
            0x49, 0x89, 0xf5, // mov %rsi,%r13
            0x4b, 0x8d, 0x5c, 0xec, 0x10, // lea 0x10(%r12,%r13,8),%rbx
            0xe8, 0, 0, 0, 0, // call 0x101d
            0x48, 0x89, 0xd8, // mov %rbx,%rax  <- the record's point
            0x4c, 0x01, 0xe0, // add %r12,%rax
            0x4c, 0x01, 0xe8, // add %r13,%rax
            0x48, 0x83, 0xc4, 0x08, // add $8,%rsp
            0x41, 0x5d, // pop %r13
            0x41, 0x5c, // pop %r12
            0x5b, // pop %rbx
            0x5d, // pop %rbp
            0xc3, // ret
        ];
        let f = analysed(code);
        let mut r = record(vec![
            Location::Register { reg: 12, size: 8 },
            Location::Register { reg: 13, size: 8 },
        ]);
        r.offset = 0x1d;
        let cert = f.certify(&r, &[]).unwrap();
        let rbx = cert.live.iter().find(|(l, _)| *l == Loc::Reg { reg: 3 });
        assert_eq!(
            rbx.map(|(_, e)| e),
            Some(&Explanation::Sum {
                a: 0,
                b: 1,
                times: 8,
                plus: 16
            }),
            "{:?}",
            cert.live
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn explains_a_byte_spilled_inside_a_slot() {
        // An i8 argument spilled with movb to byte 3 of a 4-byte slot and
        // reloaded with movzbl into the recorded register.
        let code: &[u8] = &[
            0x55, // push %rbp
            0x48, 0x89, 0xe5, // mov %rsp,%rbp
            0x48, 0x83, 0xec, 0x10, // sub $0x10,%rsp
            0x40, 0x88, 0x7d, 0xf7, // mov %dil,-0x9(%rbp)
            0xe8, 0, 0, 0, 0, // call 0x1011
            0x0f, 0xb6, 0x45, 0xf7, // movzbl -0x9(%rbp),%eax
            0x48, 0x83, 0xc4, 0x10, // add $0x10,%rsp  <- the record's point
            0x5d, // pop %rbp
            0xc3, // ret
        ];
        let f = analysed(code);
        let mut r = record(vec![Location::Register { reg: 0, size: 1 }]);
        r.offset = 0x15;
        let cert = f.certify(&r, &[]).unwrap();
        // rbp = cfa-16: -0x9(%rbp) is byte 3 of the slot at cfa-28.
        let slot = cert
            .live
            .iter()
            .find(|(l, _)| *l == Loc::Slot { offset: -28 });
        assert_eq!(
            slot.map(|(_, e)| e),
            Some(&Explanation::Narrow {
                part: 0,
                at: 3,
                size: 1
            }),
            "{:?}",
            cert.live
        );
        assert!(cert.migratable(), "{:?}", cert.live);
    }

    #[test]
    fn an_unrecorded_value_makes_the_site_not_migratable() {
        // The same code with nothing recorded: rbx holds the argument, which
        // no record names.
        let cert = function().certify(&record(vec![]), &[]).unwrap();
        assert!(!cert.migratable());
        let unknown: Vec<&Loc> = cert
            .live
            .iter()
            .filter(|(_, e)| matches!(e, Explanation::Unknown { .. }))
            .map(|(l, _)| l)
            .collect();
        assert_eq!(unknown, [&Loc::Reg { reg: 3 }]);
    }
}
