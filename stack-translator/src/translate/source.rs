//! The source side: every frame of an image, unwound with the source
//! executable's certificates, and the values its code will read.
//!
//! Frame 0's registers are the image's. Each outer frame's callee-saved
//! registers are where the inner frame's certificate says the caller's
//! value is (`CallersValue`: a save slot, or the register itself passed
//! through). A frame's CFA is its stack pointer minus the certificate's
//! stack-pointer offset, and must be the next frame's stack pointer. A
//! recorded value is read from any live location whose explanation is the
//! value itself (or its low bytes), byte by byte until all its bytes are
//! known.

use super::{low_bytes, TranslateError};
use crate::isa::Isa;
use crate::machine::Reg;
use crate::records::Executable;
use migrate_format::callsites::CallSite;
use migrate_format::certificates::{Certificate, Explanation, Loc};
use migrate_format::image::Image;
use std::collections::BTreeMap;

/// One source frame, unwound.
#[derive(Debug, Clone)]
pub struct SourceFrame {
    pub call_site: u32,
    /// The return address it is suspended at, and its stack pointer there.
    pub pc: u64,
    pub sp: u64,
    /// Its canonical frame address: the caller's stack pointer.
    pub cfa: u64,
    /// The registers as this frame sees them (those the unwinding could
    /// recover: callee-saved ones, the stack and frame pointers).
    pub registers: BTreeMap<Reg, u64>,
    /// Each recorded value (stackmap location index), zero-extended, if a
    /// live location holds all of it.
    pub values: Vec<Option<u64>>,
    /// For a value not wholly known: its low bytes that live locations
    /// hold, as (value, how many low bytes are known). Code on both ISAs
    /// often reads only the low half of an `i64` (it is truncated later):
    /// the destination then needs no more.
    pub low: Vec<Option<(u64, usize)>>,
    /// Bytes 8-15 of each recorded part wider than 8 bytes (a
    /// `<2 x double>`), if live stack slots hold them.
    pub upper: Vec<Option<u64>>,
    /// Whether each recorded value is a pointer.
    pub pointers: Vec<bool>,
    /// Whether each recorded value is what the call returns (an outer
    /// frame's call has not returned yet: the callee provides it).
    pub call_results: Vec<bool>,
    /// The contents of each stack allocation in use, by frame-record index.
    pub allocas: BTreeMap<usize, (u64, Vec<u8>)>,
}

/// Unwinds every frame of `image` (taken on `isa`, from `exe`).
pub fn frames(
    image: &Image,
    exe: &Executable,
    isa: &dyn Isa,
) -> Result<Vec<SourceFrame>, TranslateError> {
    let mut registers = image_registers(image, isa);
    let mut out: Vec<SourceFrame> = Vec::with_capacity(image.frames.len());
    for (k, walked) in image.frames.iter().enumerate() {
        let at = Suspended {
            call_site: walked.call_site,
            pc: walked.pc,
            sp: walked.sp,
        };
        let (frame, callers) = unwind(image, exe, isa, k, &at, registers, k > 0)?;
        if let Some(next) = image.frames.get(k + 1) {
            if next.sp != frame.cfa {
                return Err(TranslateError::Inconsistent(format!(
                    "frame #{k} at {:#x}: its CFA {:#x} is not the next frame's stack pointer \
                     {:#x}",
                    walked.pc, frame.cfa, next.sp
                )));
            }
        }
        out.push(frame);
        registers = callers;
    }
    Ok(out)
}

/// Where a frame is suspended: at call site `call_site`, whose return
/// address is `pc`, with stack pointer `sp`.
pub struct Suspended {
    pub call_site: u32,
    pub pc: u64,
    pub sp: u64,
}

/// One frame suspended `at` a call site, with `registers` (the callee-saved
/// ones as it sees them), and the registers its caller sees. `k` numbers
/// the frame for messages; `returning` says the call has not returned yet
/// (what it returns comes later).
pub fn unwind(
    image: &Image,
    exe: &Executable,
    isa: &dyn Isa,
    k: usize,
    at: &Suspended,
    mut registers: BTreeMap<Reg, u64>,
    returning: bool,
) -> Result<(SourceFrame, BTreeMap<Reg, u64>), TranslateError> {
    let Suspended { call_site, pc, sp } = *at;
    let cert = exe.certificate_at(pc).ok_or(TranslateError::NotCertified {
        frame: k,
        pc,
        call_site,
    })?;
    let sp_offset = cert.sp_offset.ok_or(TranslateError::UnknownFrameSize {
        frame: k,
        call_site,
    })?;
    let cfa = sp.wrapping_sub(sp_offset as u64);
    registers.insert(isa.sp(), sp);
    if let Some(o) = cert.fp_offset {
        registers.insert(isa.fp(), cfa.wrapping_add(o as u64));
    }
    let site = exe
        .table
        .get(u64::from(call_site))
        .filter(|s| s.id == cert.id)
        .ok_or(TranslateError::Inconsistent(format!(
            "call site {call_site} is not in the call-site table, or not at {pc:#x}"
        )))?;
    let frame = Reader {
        image: Some(image),
        cert,
        site,
        cfa,
        registers: &registers,
        frame: match usize::try_from(-sp_offset) {
            Ok(size) => image.read_memory(sp, size).unwrap_or_default(),
            Err(_) => Vec::new(),
        },
    };
    let record = exe
        .records
        .get(&u64::from(call_site))
        .and_then(|rs| rs.iter().find(|r| r.address() == cert.record_address));
    let mut values = Vec::with_capacity(site.values.len());
    let mut low = Vec::with_capacity(site.values.len());
    for p in 0..site.values.len() {
        let size = site.values[p].size as usize;
        let (bytes, known) = frame.value(p, size)?;
        let v = match known >= size.min(8) {
            true => Some(bytes),
            false => match frame.kept(p, size)? {
                Some(v) => Some(v),
                None => record.and_then(|r| frame.at_record(r, p, size, isa)),
            },
        };
        low.push((v.is_none() && known > 0).then_some((bytes, known)));
        values.push(v);
    }
    let upper = (0..site.values.len())
        .map(|p| match site.values[p].size {
            0..=8 => Ok(None),
            _ => frame.upper(p),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let allocas = frame.allocas(site, k)?;
    let callers = frame.callers_registers(isa)?;
    let call_results = (0..site.values.len())
        .map(|p| returning && frame.in_return_register(p, isa))
        .collect();
    Ok((
        SourceFrame {
            call_site,
            pc,
            sp,
            cfa,
            registers: registers.clone(),
            values,
            low,
            upper,
            pointers: site.values.iter().map(|v| v.pointer).collect(),
            call_results,
            allocas,
        },
        callers,
    ))
}

/// Whether a frame suspended at `cert`'s call site keeps recorded part
/// `part` where [`unwind`] finds it, whatever the registers and the stack
/// hold: a check made at link time, so that a call site whose frame the
/// other ISA's code needs a value of that this one does not keep is not
/// migratable (the runtime waits for another) rather than refused by the
/// translator after the checkpoint. A part the call returns counts as kept
/// (the callee provides it). Only the low `bytes` bytes of it are asked
/// for. `record` is the source record `cert` certifies, if known.
pub fn keeps(
    record: Option<&crate::stackmaps::Record>,
    isa: &dyn Isa,
    cert: &Certificate,
    site: &CallSite,
    part: usize,
    bytes: usize,
) -> bool {
    let Some(size) = site.values.get(part).map(|v| v.size as usize) else {
        return false;
    };
    let registers: BTreeMap<Reg, u64> = isa
        .callee_saved()
        .iter()
        .chain([isa.sp(), isa.fp()].iter())
        .map(|&r| (r, 0))
        .collect();
    let frame = Reader {
        image: None,
        cert,
        site,
        cfa: 0,
        registers: &registers,
        frame: vec![0; cert.sp_offset.map_or(0, |o| o.unsigned_abs() as usize)],
    };
    matches!(frame.value(part, size), Ok((_, known)) if known >= bytes.min(size.min(8)))
        || matches!(frame.kept(part, size), Ok(Some(_)))
        || record.is_some_and(|r| frame.at_record(r, part, size, isa).is_some())
        || frame.in_return_register(part, isa)
}

/// The image's registers by DWARF number: the general ones and the
/// callee-saved floating-point ones.
fn image_registers(image: &Image, isa: &dyn Isa) -> BTreeMap<Reg, u64> {
    let mut out = BTreeMap::new();
    for reg in 0..128 {
        if let Some(v) = isa.core_register(reg).and_then(|n| image.register(n)) {
            out.insert(reg, v);
        } else if let Some(at) = isa.fp_register_offset(reg) {
            if let Some(b) = image.fp_registers.get(at..at + 8) {
                out.insert(reg, u64::from_le_bytes(b.try_into().unwrap()));
            }
        }
    }
    out
}

/// One frame's state, for reading values.
struct Reader<'a> {
    /// None for [`keeps`]: every byte reads as zero.
    image: Option<&'a Image>,
    cert: &'a Certificate,
    site: &'a CallSite,
    cfa: u64,
    registers: &'a BTreeMap<Reg, u64>,
    /// The frame's bytes, from its stack pointer to its CFA, read once
    /// (a frame's slots are read many times, a few bytes each).
    frame: Vec<u8>,
}

impl Reader<'_> {
    fn slot(&self, offset: i64, len: usize) -> Result<Vec<u8>, TranslateError> {
        // Slots lie below the CFA: `frame` ends there.
        let from_end = offset.checked_neg().and_then(|o| usize::try_from(o).ok());
        if let Some(bytes) = from_end
            .and_then(|o| self.frame.len().checked_sub(o))
            .and_then(|at| self.frame.get(at..at + len))
        {
            return Ok(bytes.to_vec());
        }
        let at = self.cfa.wrapping_add(offset as u64);
        let Some(image) = self.image else {
            return Ok(vec![0; len]);
        };
        image
            .read_memory(at, len)
            .map_err(|e| TranslateError::Inconsistent(format!("reading the stack: {e}")))
    }

    /// Recorded value `part` (`size` bytes) as far as live locations hold
    /// it: its low bytes, and how many of them are known (then all of
    /// `size`, or the first byte not held; the bytes above are zero).
    fn value(&self, part: usize, size: usize) -> Result<(u64, usize), TranslateError> {
        let size = size.min(8);
        let mut bytes: [Option<u8>; 8] = [None; 8];
        let mut put = |from: usize, data: &[u8]| {
            for (i, b) in data.iter().enumerate() {
                if from + i < size {
                    bytes[from + i] = Some(*b);
                }
            }
        };
        for (loc, e) in &self.cert.live {
            match (*loc, e) {
                (Loc::Reg { reg }, Explanation::Recorded { part: p, plus })
                | (
                    Loc::Reg { reg },
                    Explanation::Scaled {
                        part: p,
                        times: 1,
                        plus,
                        frame: false,
                    },
                ) if *p == part => {
                    if let Some(v) = self.registers.get(&reg) {
                        put(0, &v.wrapping_sub(*plus as u64).to_le_bytes());
                    }
                }
                (Loc::Reg { reg }, Explanation::Narrow { part: p, .. })
                | (
                    Loc::Reg { reg },
                    Explanation::Extended {
                        part: p,
                        times: 1,
                        plus: 0,
                        frame: false,
                        ..
                    },
                ) if *p == part => {
                    let n = match e {
                        Explanation::Narrow { size, .. } | Explanation::Extended { size, .. } => {
                            *size as usize
                        }
                        _ => unreachable!(),
                    };
                    if let Some(v) = self.registers.get(&reg) {
                        put(0, &v.to_le_bytes()[..n.min(8)]);
                    }
                }
                (Loc::Slot { offset }, Explanation::Recorded { part: p, plus: 0 })
                    if *p == part =>
                {
                    put(0, &self.slot(offset, 4)?);
                }
                (Loc::Slot { offset }, Explanation::Upper { of, part: half }) if matches!(**of, Explanation::Recorded { part: p, plus: 0 } if p == part) =>
                {
                    put(4 * *half as usize, &self.slot(offset, 4)?);
                }
                // A vector register spilled whole whose low bytes are
                // another part of the same IR value: the bytes of this
                // part that lie in it (the next lanes).
                (Loc::Slot { offset }, Explanation::Upper { of, part: chunk }) => {
                    let Explanation::Recorded { part: p, plus: 0 } = **of else {
                        continue;
                    };
                    let (Some(other), Some(me)) =
                        (self.site.values.get(p), self.site.values.get(part))
                    else {
                        continue;
                    };
                    let at = other.offset + 4 * u32::from(*chunk);
                    if other.value == me.value
                        && me.offset <= at
                        && at + 4 <= me.offset + me.size.min(8)
                    {
                        put((at - me.offset) as usize, &self.slot(offset, 4)?);
                    }
                }
                (
                    Loc::Slot { offset },
                    Explanation::Narrow {
                        part: p,
                        at,
                        size: n,
                    },
                ) if *p == part => {
                    put(0, &self.slot(offset + *at as i64, *n as usize)?);
                }
                _ => {}
            }
        }
        let known = bytes[..size].iter().take_while(|b| b.is_some()).count();
        let mut v = [0u8; 8];
        for (i, b) in bytes[..known].iter().enumerate() {
            v[i] = b.unwrap();
        }
        Ok((u64::from_le_bytes(v), known))
    }

    /// Bytes 8-15 of recorded value `part` (wider than 8 bytes), if live
    /// stack slots hold all of them. (A register cannot: no vector register keeps its
    /// upper half across a call.)
    fn upper(&self, part: usize) -> Result<Option<u64>, TranslateError> {
        let mut bytes: [Option<u8>; 8] = [None; 8];
        for (loc, e) in &self.cert.live {
            let (
                Loc::Slot { offset },
                Explanation::Upper {
                    of,
                    part: half @ 2..=3,
                },
            ) = (loc, e)
            else {
                continue;
            };
            if !matches!(**of, Explanation::Recorded { part: p, plus: 0 } if p == part) {
                continue;
            }
            let from = 4 * (*half as usize - 2);
            for (i, b) in self.slot(*offset, 4)?.into_iter().enumerate() {
                bytes[from + i] = Some(b);
            }
        }
        Ok(bytes
            .iter()
            .all(Option::is_some)
            .then(|| u64::from_le_bytes(bytes.map(|b| b.unwrap()))))
    }

    /// Recorded value `part` where the certificate says a location still
    /// holds it though the code does not read it there again.
    fn kept(&self, part: usize, size: usize) -> Result<Option<u64>, TranslateError> {
        let mask = |v: u64| low_bytes(v, size);
        for (p, loc) in &self.cert.kept {
            if *p != part {
                continue;
            }
            return Ok(match *loc {
                Loc::Reg { reg } => self.registers.get(&reg).map(|&v| mask(v)),
                Loc::Slot { offset } => Some(mask(u64::from_le_bytes(
                    self.slot(offset, 8)?.try_into().unwrap(),
                ))),
            });
        }
        Ok(None)
    }

    /// Recorded value `part` where the record says it is, when that place
    /// still holds it at the checkpoint: the record is at the return
    /// address itself, and the place is a callee-saved register (the
    /// callees preserved it) or this frame's stack. The source code may not
    /// read it there again (it recomputes the value; the destination's
    /// code keeps it), but it is there.
    fn at_record(
        &self,
        record: &crate::stackmaps::Record,
        part: usize,
        size: usize,
        isa: &dyn Isa,
    ) -> Option<u64> {
        use crate::stackmaps::Location;
        if record.address() != self.cert.return_address {
            return None;
        }
        let mask = |v: u64| low_bytes(v, size);
        let base = |reg: Reg| -> Option<u64> {
            if reg == isa.sp() {
                self.cert.sp_offset.map(|o| self.cfa.wrapping_add(o as u64))
            } else if reg == isa.fp() {
                self.cert.fp_offset.map(|o| self.cfa.wrapping_add(o as u64))
            } else {
                None
            }
        };
        match *record.locations.get(part)? {
            Location::Register { reg, .. } if isa.callee_saved().contains(&reg) => {
                self.registers.get(&reg).map(|&v| mask(v))
            }
            Location::Indirect { reg, offset, .. } => {
                let at = base(reg)?.wrapping_add(offset as i64 as u64);
                let bytes = match self.image {
                    Some(image) => image.read_memory(at, size.min(8)).ok()?,
                    None => vec![0; size.min(8)],
                };
                let mut v = [0u8; 8];
                v[..bytes.len()].copy_from_slice(&bytes);
                Some(u64::from_le_bytes(v))
            }
            Location::Direct { reg, offset, .. } => {
                Some(base(reg)?.wrapping_add(offset as i64 as u64))
            }
            Location::Constant { value, .. } => Some(mask(value as u64)),
            _ => None,
        }
    }

    /// Whether recorded value `part` is in a return register at the return
    /// address: the value the call returns.
    fn in_return_register(&self, part: usize, isa: &dyn Isa) -> bool {
        self.cert.live.iter().any(|(loc, e)| {
            matches!((loc, e), (Loc::Reg { reg }, Explanation::Recorded { part: p, .. })
                if *p == part && isa.return_registers().contains(reg))
        })
    }

    /// The contents of the stack allocations the call site has in use.
    fn allocas(
        &self,
        site: &CallSite,
        frame: usize,
    ) -> Result<BTreeMap<usize, (u64, Vec<u8>)>, TranslateError> {
        let mut out = BTreeMap::new();
        for &a in &site.allocas {
            let a = a as usize;
            let range = self.cert.allocas.get(a).copied().flatten().ok_or(
                TranslateError::UnknownAlloca {
                    frame,
                    call_site: site.id as u32,
                    alloca: a,
                },
            )?;
            let at = self.cfa.wrapping_add(range.offset as u64);
            out.insert(a, (at, self.slot(range.offset, range.size as usize)?));
        }
        Ok(out)
    }

    /// The caller's registers: where this frame's certificate says each
    /// callee-saved one is (its save slot, or the register passed through).
    fn callers_registers(&self, isa: &dyn Isa) -> Result<BTreeMap<Reg, u64>, TranslateError> {
        // Each caller's register's save slot (the lowest of its two
        // halves), or the register that passes it through; one pass over
        // the certificate.
        let mut slots: BTreeMap<Reg, i64> = BTreeMap::new();
        let mut through: BTreeMap<Reg, Reg> = BTreeMap::new();
        for (loc, e) in &self.cert.live {
            let Explanation::CallersValue {
                of: Loc::Reg { reg: r },
            } = e
            else {
                continue;
            };
            match *loc {
                Loc::Slot { offset } => {
                    let s = slots.entry(*r).or_insert(offset);
                    *s = (*s).min(offset);
                }
                Loc::Reg { reg } if self.registers.contains_key(&reg) => {
                    through.entry(*r).or_insert(reg);
                }
                Loc::Reg { .. } => {}
            }
        }
        let mut out = BTreeMap::new();
        for r in isa
            .callee_saved()
            .iter()
            .chain(isa.link_register().as_slice())
        {
            let value = match slots.get(r) {
                Some(&offset) => Some(u64::from_le_bytes(
                    self.slot(offset, 8)?.try_into().unwrap(),
                )),
                None => through
                    .get(r)
                    .and_then(|reg| self.registers.get(reg).copied()),
            };
            if let Some(v) = value {
                out.insert(*r, v);
            }
        }
        Ok(out)
    }
}
