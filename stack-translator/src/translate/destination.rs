//! The destination side: the same frames, laid out and filled for the
//! other ISA.
//!
//! The stack above `main`'s frame (argv, envp, their strings) is the same
//! bytes at the same addresses on both ISAs, so `main`'s CFA stays where it
//! was; each frame inward starts at its caller's stack pointer and is as
//! large as the destination certificate says. The whole stack is sized
//! before anything is written, into memory filled with a poison pattern:
//! every location the destination code reads gets its value from the
//! destination certificate, so a location it reads that the certificate
//! does not list shows up as poison, loudly.
//!
//! Registers are placed as Popcorn did: a value the certificate of frame
//! `k` wants in callee-saved register `r` goes into the save slot of `r` in
//! the newest frame inward that saved it, or, if none did, into the
//! register itself at resume. Frames are filled outermost first, so each
//! frame's needs are known when the frame inside it is written.

use super::jmp_bufs::JmpBuf;
use super::source::SourceFrame;
use super::{low_bytes, TranslateError};
use crate::isa::Isa;
use crate::machine::Reg;
use crate::records::Executable;
use migrate_format::callsites::CallSite;
use migrate_format::certificates::{Certificate, Explanation, Loc};
use migrate_format::frames::FrameRule;
use std::collections::BTreeMap;

/// Bytes of memory nothing explains: distinctive and not a valid address.
pub const POISON: u64 = 0xdead_beef_dead_beef;

/// One destination frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationFrame {
    pub call_site: u32,
    pub pc: u64,
    pub sp: u64,
    pub cfa: u64,
}

/// The destination's stack and registers.
#[derive(Debug, Clone)]
pub struct DestinationStack {
    pub frames: Vec<DestinationFrame>,
    /// The registers to resume with (DWARF numbers): the callee-saved ones
    /// frame 0 needs, the stack and frame pointers, the program counter.
    pub registers: BTreeMap<Reg, u64>,
    /// The stack's bytes from `low` up to `main`'s CFA.
    pub low: u64,
    pub bytes: Vec<u8>,
    /// Each live `jmp_buf`'s address and its destination contents.
    pub jmp_bufs: Vec<(u64, Vec<u8>)>,
}

/// What the destination ISA's start-up frame (`__landmark_start_main`)
/// needs of `main`'s frame: `main` returns to `main_returned`, with the
/// frame pointer 0. And what every frame's copy of the stack-protector
/// guard must be: `canary`, the source process's (restore gives the
/// destination process the same guard).
pub struct StartFrame {
    pub main_returned: u64,
    pub canary: u64,
}

/// Lays out and fills the destination frames of `source`, and the
/// destination contents of its live `jmp_bufs`; `frame_rules` is the
/// destination executable's frame table (sorted by return address).
pub fn build(
    source: &[SourceFrame],
    jmp_bufs: &[JmpBuf],
    frame_rules: &[FrameRule],
    exe: &Executable,
    isa: &dyn Isa,
    start: &StartFrame,
    stack_lo: u64,
) -> Result<DestinationStack, TranslateError> {
    let n = source.len();
    // Layout, outermost first: each frame's CFA is its caller's stack
    // pointer.
    let mut certs: Vec<&Certificate> = Vec::with_capacity(n);
    let mut frames = vec![
        DestinationFrame {
            call_site: 0,
            pc: 0,
            sp: 0,
            cfa: 0
        };
        n
    ];
    let mut cfa = source[n - 1].cfa;
    for k in (0..n).rev() {
        let cert = exe.certificate_of(u64::from(source[k].call_site)).ok_or(
            TranslateError::NotCertified {
                frame: k,
                pc: source[k].pc,
                call_site: source[k].call_site,
            },
        )?;
        let sp_offset = cert.sp_offset.ok_or(TranslateError::UnknownFrameSize {
            frame: k,
            call_site: source[k].call_site,
        })?;
        let sp = cfa.wrapping_add(sp_offset as u64);
        if sp < stack_lo || sp > cfa {
            return Err(TranslateError::Inconsistent(format!(
                "frame #{k}: its stack pointer {sp:#x} on the destination is outside the stack"
            )));
        }
        frames[k] = DestinationFrame {
            call_site: source[k].call_site,
            pc: cert.return_address,
            sp,
            cfa,
        };
        certs.push(cert);
        cfa = sp;
    }
    certs.reverse();
    let low = frames[0].sp;
    let top = source[n - 1].cfa;
    let mut stack = Stack {
        low,
        bytes: POISON
            .to_le_bytes()
            .iter()
            .copied()
            .cycle()
            .take((top - low) as usize)
            .collect(),
    };

    // Filled outermost first: what each frame needs of its caller's
    // registers is then known.
    let mut callers = BTreeMap::new(); // the start frame needs none
    let mut registers = BTreeMap::new();
    let mut buffers = Vec::new();
    for k in (0..n).rev() {
        let (frame, cert, src) = (&frames[k], certs[k], &source[k]);
        let caller_pc = if k + 1 < n {
            frames[k + 1].pc
        } else {
            start.main_returned
        };
        let caller_fp = if k + 1 < n {
            certs[k + 1]
                .fp_offset
                .map(|o| frames[k + 1].cfa.wrapping_add(o as u64))
                .or_else(|| callers.get(&isa.fp()).copied())
        } else {
            Some(0)
        };
        let fill = Fill {
            exe,
            canary: start.canary,
            isa,
            frames: &frames,
            certs: &certs,
            source,
        };
        let mine = fill.frame(
            &mut stack,
            k,
            frame,
            cert,
            src,
            (&callers, caller_pc, caller_fp),
            false,
        )?;
        // The frame chain, where the certificate lists no save slot for it
        // (a function that never returns, such as a `main` that loops
        // forever, never reads its saved return address again): what the
        // CFI says, so the stack still walks to the start frame.
        if let Some(rule) = frame_rules
            .binary_search_by_key(&frame.pc, |r| r.return_address)
            .ok()
            .map(|i| &frame_rules[i])
        {
            let at = |o: i16| frame.cfa.wrapping_add(o as i64 as u64);
            stack.fill_poison(at(rule.return_address_at), &caller_pc.to_le_bytes())?;
            if let (Some(o), Some(fp)) = (rule.frame_pointer_at, caller_fp) {
                stack.fill_poison(at(o), &fp.to_le_bytes())?;
            }
        }
        // The jmp_bufs this frame's setjmp calls filled: the same frame,
        // suspended at the setjmp call site.
        for jb in jmp_bufs.iter().filter(|j| j.frame == k) {
            let site = jb.view.call_site;
            let at = exe
                .certificate_of(u64::from(site))
                .ok_or(TranslateError::NotCertified {
                    frame: k,
                    pc: jb.view.pc,
                    call_site: site,
                })?;
            let sp_offset = at.sp_offset.ok_or(TranslateError::UnknownFrameSize {
                frame: k,
                call_site: site,
            })?;
            let view = DestinationFrame {
                call_site: site,
                pc: at.return_address,
                sp: frame.cfa.wrapping_add(sp_offset as u64),
                cfa: frame.cfa,
            };
            let mut regs = fill.frame(
                &mut stack,
                k,
                &view,
                at,
                &jb.view,
                (&callers, caller_pc, caller_fp),
                true,
            )?;
            if let Some(o) = at.fp_offset {
                regs.insert(isa.fp(), frame.cfa.wrapping_add(o as u64));
            }
            let layout = isa.jmp_buf();
            let mut bytes: Vec<u8> = POISON
                .to_le_bytes()
                .iter()
                .copied()
                .cycle()
                .take(layout.size)
                .collect();
            let mut put = |offset: usize, v: u64| {
                bytes[offset..offset + 8].copy_from_slice(&v.to_le_bytes());
            };
            for &(reg, offset) in layout.registers {
                if let Some(&v) = regs.get(&reg) {
                    put(offset, v);
                }
            }
            put(layout.sp, view.sp);
            put(layout.pc, view.pc);
            buffers.push((jb.address, bytes));
        }
        if k == 0 {
            registers = mine.clone();
            registers.insert(isa.return_address_column(), frame.pc);
        }
        // What the frame inside must give back: this frame's registers.
        callers = mine;
    }
    Ok(DestinationStack {
        frames,
        registers,
        low,
        bytes: stack.bytes,
        jmp_bufs: buffers,
    })
}

/// Bytes `4 * chunk` to `4 * chunk + 3` of a vector register spilled whole
/// (16 bytes) whose low bytes are recorded part `p` (`site`'s): where
/// another part of the same IR value lies (the next lanes of a `<4 x i64>`
/// recorded as four parts), its bytes; where no part of the value lies (a
/// double in the low lane of a register), zeros: those bytes are nobody's.
/// None if the source frame lacks the part that lies there.
fn container_bytes(p: usize, chunk: u8, src: &SourceFrame, site: &CallSite) -> Option<[u8; 4]> {
    let me = site.values.get(p)?;
    let at = me.offset + 4 * u32::from(chunk);
    let mut overlapped = false;
    for (q, part) in site.values.iter().enumerate() {
        if part.value != me.value || at + 4 <= part.offset || at >= part.offset + part.size {
            continue;
        }
        overlapped = true;
        if part.offset <= at && at + 4 <= part.offset + part.size {
            let mut bytes = src.values.get(q).copied().flatten()?.to_le_bytes().to_vec();
            let rel = (at - part.offset) as usize;
            if rel + 4 > 8 {
                bytes.extend_from_slice(&src.upper.get(q).copied().flatten()?.to_le_bytes());
            }
            return bytes.get(rel..rel + 4).map(|b| b.try_into().unwrap());
        }
    }
    (!overlapped).then_some([0; 4])
}

/// What filling a frame needs besides the frame itself.
struct Fill<'a> {
    exe: &'a Executable,
    canary: u64,
    isa: &'a dyn Isa,
    frames: &'a [DestinationFrame],
    certs: &'a [&'a Certificate],
    source: &'a [SourceFrame],
}

impl Fill<'_> {
    /// The call-site table's entry for `src`'s call site.
    fn site(&self, src: &SourceFrame) -> Result<&CallSite, TranslateError> {
        self.exe
            .table
            .get(u64::from(src.call_site))
            .ok_or(TranslateError::Inconsistent(format!(
                "call site {} is not in the call-site table",
                src.call_site
            )))
    }

    /// Writes frame `k` (`frame`, with certificate `cert`, its values from
    /// `src`) into `stack` and returns the registers it needs at resume.
    /// `caller` is what the caller needs back: its registers, return
    /// address and frame pointer. With `checked`, the frame has already
    /// been written for another call site, and a slot both need must get
    /// the same value from both.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        &self,
        stack: &mut Stack,
        k: usize,
        frame: &DestinationFrame,
        cert: &Certificate,
        src: &SourceFrame,
        caller: (&BTreeMap<Reg, u64>, u64, Option<u64>),
        checked: bool,
    ) -> Result<BTreeMap<Reg, u64>, TranslateError> {
        let (callers, caller_pc, caller_fp) = caller;
        let fp = cert.fp_offset.map(|o| frame.cfa.wrapping_add(o as u64));
        let values = Values {
            src,
            canary: self.canary,
            cfa: frame.cfa,
            frames: self.frames,
            certs: self.certs,
            source: self.source,
        };
        // The lowest save slot of each register this frame saved.
        let mut save_slot: BTreeMap<Reg, i64> = BTreeMap::new();
        for (loc, e) in &cert.live {
            if let (
                Loc::Slot { offset },
                Explanation::CallersValue {
                    of: Loc::Reg { reg },
                },
            ) = (loc, e)
            {
                let s = save_slot.entry(*reg).or_insert(*offset);
                *s = (*s).min(*offset);
            }
        }
        let mut mine: BTreeMap<Reg, u64> = BTreeMap::new();
        for (loc, e) in &cert.live {
            let value = match e {
                Explanation::CallersValue {
                    of: Loc::Reg { reg },
                } => {
                    if Some(*reg) == self.isa.link_register() {
                        Some(caller_pc)
                    } else if *reg == self.isa.fp() {
                        caller_fp
                    } else {
                        callers.get(reg).copied()
                    }
                }
                _ => values.of(e, bytes_written(*loc, e), k)?,
            };
            let Some(value) = value else { continue };
            match *loc {
                Loc::Reg { reg } => {
                    mine.insert(reg, value);
                }
                Loc::Slot { offset } => {
                    // A save slot's upper half holds the upper bytes.
                    let half = match e {
                        // (A register saved in two places: each an 8-byte pair.)
                        Explanation::CallersValue {
                            of: Loc::Reg { reg },
                        } => ((offset - save_slot[reg]) / 4 % 2) as usize,
                        Explanation::Upper { part, .. } => *part as usize,
                        Explanation::Extended { half, .. } => *half as usize,
                        _ => 0,
                    };
                    match e {
                        Explanation::Narrow { at, size, .. } => stack.write(
                            checked,
                            frame.cfa.wrapping_add((offset + *at as i64) as u64),
                            &value.to_le_bytes()[..*size as usize],
                        )?,
                        _ => {
                            // A slot of a vector register spilled whole: its
                            // bytes are the recorded parts that lie there
                            // (container_bytes); any other value is known
                            // to 8 bytes, and more is refused.
                            let contained = match e {
                                Explanation::Upper { of, part: chunk } => match **of {
                                    Explanation::Recorded { part: p, plus: 0 } => {
                                        container_bytes(p, *chunk, src, self.site(src)?)
                                    }
                                    // A splat's upper lane is its lower.
                                    Explanation::Splat { value } if *chunk >= 2 => {
                                        let lane = (value as u64).to_le_bytes();
                                        let at = 4 * (*chunk as usize - 2);
                                        lane[at..at + 4].try_into().ok()
                                    }
                                    // Any other value in a vector register
                                    // was written by a scalar instruction
                                    // (a constant, an address from a
                                    // general register), which zeroes bytes
                                    // 8-15.
                                    _ if *chunk >= 2 => Some([0; 4]),
                                    _ => None,
                                },
                                _ => None,
                            };
                            let low = value.to_le_bytes();
                            let Some(four) = contained
                                .or_else(|| low.get(4 * half..4 * half + 4)?.try_into().ok())
                            else {
                                return Err(TranslateError::WideValue {
                                    frame: k,
                                    call_site: src.call_site,
                                    offset,
                                });
                            };
                            stack.write(checked, frame.cfa.wrapping_add(offset as u64), &four)?
                        }
                    }
                }
            }
        }
        // Where the code that returns finds its return address, if the
        // certificate does not list it (x86_64: at CFA - 8, pushed by the
        // call, not a slot the function's code reads).
        if self.isa.link_register().is_none() {
            stack.write(
                checked,
                frame.cfa.wrapping_add(self.isa.entry_sp() as u64),
                &caller_pc.to_le_bytes(),
            )?;
        }
        // The stack allocations in use, copied.
        for (&a, (_, bytes)) in &src.allocas {
            let range =
                cert.allocas
                    .get(a)
                    .copied()
                    .flatten()
                    .ok_or(TranslateError::UnknownAlloca {
                        frame: k,
                        call_site: src.call_site,
                        alloca: a,
                    })?;
            if range.size as usize != bytes.len() {
                return Err(TranslateError::Inconsistent(format!(
                    "frame #{k}: stack allocation {a} is {} bytes on the source and {} on the \
                 destination",
                    bytes.len(),
                    range.size
                )));
            }
            stack.write(checked, frame.cfa.wrapping_add(range.offset as u64), bytes)?;
        }
        if let Some(fp) = fp {
            mine.insert(self.isa.fp(), fp);
        }
        mine.insert(self.isa.sp(), frame.sp);
        Ok(mine)
    }
}

struct Stack {
    low: u64,
    bytes: Vec<u8>,
}

impl Stack {
    /// Writes `data` at `at` where nothing has been written yet (the bytes
    /// are still poison); leaves written bytes as they are.
    fn fill_poison(&mut self, at: u64, data: &[u8]) -> Result<(), TranslateError> {
        let start = at.wrapping_sub(self.low) as usize;
        if at < self.low || start + data.len() > self.bytes.len() {
            return Err(TranslateError::Inconsistent(format!(
                "the frame chain at {at:#x} lies outside the translated frames"
            )));
        }
        let poison = POISON.to_le_bytes();
        let untouched = self.bytes[start..start + data.len()]
            .iter()
            .enumerate()
            .all(|(i, b)| *b == poison[(start + i) % 8]);
        if untouched {
            self.bytes[start..start + data.len()].copy_from_slice(data);
        }
        Ok(())
    }

    /// Writes `data` at `at`. With `checked`, bytes already written (not
    /// poison any more) must already be `data`.
    fn write(&mut self, checked: bool, at: u64, data: &[u8]) -> Result<(), TranslateError> {
        let start = at.wrapping_sub(self.low) as usize;
        if at < self.low || start + data.len() > self.bytes.len() {
            return Err(TranslateError::Inconsistent(format!(
                "a write to {at:#x} outside the translated frames"
            )));
        }
        let old = &mut self.bytes[start..start + data.len()];
        if checked {
            let poison = POISON.to_le_bytes();
            let written = old
                .iter()
                .enumerate()
                .any(|(i, b)| *b != poison[(start + i) % 8]);
            if written && old != data {
                return Err(TranslateError::JmpBufConflict { at });
            }
        }
        old.copy_from_slice(data);
        Ok(())
    }
}

/// Evaluates explanations on the destination, from the source frame's
/// values.
struct Values<'a> {
    src: &'a SourceFrame,
    canary: u64,
    cfa: u64,
    frames: &'a [DestinationFrame],
    certs: &'a [&'a Certificate],
    source: &'a [SourceFrame],
}

impl Values<'_> {
    /// Recorded value `p`, or None if the call returns it (the callee,
    /// still running, will provide it). Only its low `need` bytes are
    /// asked for: the others may be zeros.
    fn part(&self, p: usize, need: usize, frame: usize) -> Result<Option<u64>, TranslateError> {
        let pointer = self.src.pointers.get(p).copied().unwrap_or(false);
        match self.src.values.get(p).copied().flatten() {
            Some(v) => self.relocate(v, frame, p).map(Some),
            None if self.src.call_results.get(p) == Some(&true) => Ok(None),
            // A pointer is relocated whole, so it is needed whole.
            None => match self.src.low.get(p).copied().flatten() {
                Some((v, known)) if known >= need && !pointer => Ok(Some(v)),
                _ => Err(TranslateError::ValueNotLive {
                    frame,
                    call_site: self.src.call_site,
                    part: p,
                }),
            },
        }
    }

    /// A recorded pointer into a translated frame's stack allocation
    /// points at the same byte of it on the destination; one into the
    /// translated frames anywhere else cannot be mapped exactly.
    fn relocate(&self, v: u64, frame: usize, part: usize) -> Result<u64, TranslateError> {
        let (low, top) = (self.source[0].sp, self.source[self.source.len() - 1].cfa);
        if !self.src.pointers.get(part).copied().unwrap_or(false) || v < low || v >= top {
            return Ok(v);
        }
        for (j, src) in self.source.iter().enumerate() {
            for (&a, (at, bytes)) in &src.allocas {
                if v >= *at && v <= at + bytes.len() as u64 {
                    let range = self.certs[j].allocas.get(a).copied().flatten();
                    if let Some(range) = range {
                        let start = self.frames[j].cfa.wrapping_add(range.offset as u64);
                        return Ok(start + (v - at));
                    }
                }
            }
        }
        Err(TranslateError::PointerIntoStack {
            frame,
            call_site: self.src.call_site,
            part,
            value: v,
        })
    }

    /// The value `e` names (its low `need` bytes are what is written), or
    /// None for a location any value will do for. Which bytes of which
    /// parts it reads: [`parts_needed`], which follows this function.
    fn of(
        &self,
        e: &Explanation,
        need: usize,
        frame: usize,
    ) -> Result<Option<u64>, TranslateError> {
        macro_rules! part {
            ($p:expr) => {
                part!($p, need)
            };
            ($p:expr, $n:expr) => {
                match self.part($p, $n, frame)? {
                    Some(v) => v,
                    None => return Ok(None),
                }
            };
        }
        Ok(Some(match *e {
            Explanation::Recorded { part, plus } => part!(part).wrapping_add(plus as u64),
            Explanation::Scaled {
                part,
                times,
                plus,
                frame: f,
            } => part!(part)
                .wrapping_mul(times as u64)
                .wrapping_add(plus as u64)
                .wrapping_add(if f { self.cfa } else { 0 }),
            Explanation::Constant { value } | Explanation::Splat { value } => value as u64,
            Explanation::Canary => self.canary,
            Explanation::FrameAddress { offset } => self.cfa.wrapping_add(offset as u64),
            Explanation::Upper { ref of, .. } => match self.of(of, need, frame)? {
                Some(v) => v,
                None => return Ok(None),
            },
            Explanation::Narrow { part, size, .. } => {
                low_bytes(part!(part, need.min(size as usize)), size as usize)
            }
            Explanation::Extended {
                part,
                size,
                signed,
                to32,
                times,
                plus,
                frame: f,
                ..
            } => {
                // Bytes above `need` may be wrong, never the low ones.
                let v = part!(part, need.min(size as usize));
                let bits = 8 * size as u32;
                let mut x = if bits >= 64 {
                    v
                } else if signed {
                    let shift = 64 - bits;
                    (((v << shift) as i64) >> shift) as u64
                } else {
                    v & ((1u64 << bits) - 1)
                };
                if to32 {
                    x &= 0xffff_ffff;
                }
                x.wrapping_mul(times as u64)
                    .wrapping_add(plus as u64)
                    .wrapping_add(if f { self.cfa } else { 0 })
            }
            Explanation::Sum { a, b, times, plus } => part!(a)
                .wrapping_add(part!(b).wrapping_mul(times as u64))
                .wrapping_add(plus as u64),
            Explanation::CallResult
            | Explanation::Clobbered
            | Explanation::Undefined
            | Explanation::AllocaContents { .. }
            | Explanation::CallersValue { .. } => return Ok(None),
            Explanation::Unknown { ref why } => {
                return Err(TranslateError::Inconsistent(format!(
                    "frame #{frame}: the destination certificate has an unexplained value ({why})"
                )))
            }
        }))
    }
}

/// How many low bytes of the value `e` names are written at `loc`: all 8
/// into a register; into a slot, up to the end of the 4-byte half it holds
/// (half 1: the upper half of the value), or a narrow value's size.
pub(crate) fn bytes_written(loc: Loc, e: &Explanation) -> usize {
    match (loc, e) {
        (Loc::Reg { .. }, _) => 8,
        (Loc::Slot { .. }, Explanation::Narrow { size, .. }) => *size as usize,
        (Loc::Slot { .. }, Explanation::Upper { part, .. }) => (4 * *part as usize + 4).min(8),
        (Loc::Slot { .. }, Explanation::Extended { half, .. }) => 4 * *half as usize + 4,
        (Loc::Slot { .. }, _) => 4,
    }
}

/// Calls `each(part, bytes)` for each recorded part the low `need` bytes
/// of `e`'s value are computed from, with how many of its low bytes they
/// need (as [`Values::of`] reads them: sums and products carry upwards
/// only, so the low bytes of a result need only the low bytes of its
/// operands).
pub(crate) fn parts_needed(e: &Explanation, need: usize, each: &mut impl FnMut(usize, usize)) {
    match *e {
        Explanation::Recorded { part, .. } | Explanation::Scaled { part, .. } => each(part, need),
        Explanation::Narrow { part, size, .. } | Explanation::Extended { part, size, .. } => {
            each(part, need.min(size as usize))
        }
        Explanation::Sum { a, b, .. } => {
            each(a, need);
            each(b, need);
        }
        Explanation::Upper { ref of, .. } => parts_needed(of, need, each),
        _ => {}
    }
}
