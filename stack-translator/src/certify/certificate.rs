//! Certifies one record: follows the record's locations back across the
//! instructions between the return address and the record's point, and
//! explains each location live at the return address.

use super::locations::SLOT;
use super::value::{Base, Val};
use super::{Certificate, Explanation, Function, Loc, Refusal, RefusalKind, Result};
use crate::machine::Flow;
use crate::stackmaps::{Location, Record};
use migrate_format::certificates::AllocaRange;

impl Function<'_> {
    /// The CFA ranges of the function's fixed-size allocations, from its
    /// frame record (`sizes` from the side table), in frame-record order
    /// (None where the offset is not known).
    pub fn alloca_ranges(&self, frame_record: &Record, sizes: &[u64]) -> Vec<Option<(i64, u64)>> {
        let p = self.index.get(&frame_record.address()).copied();
        frame_record
            .locations
            .iter()
            .zip(sizes)
            .map(|(loc, size)| match (*loc, p) {
                (Location::Direct { reg, offset, .. }, Some(p)) => {
                    Some((self.cfa_offset(p, reg, offset as i64, 0)?, *size))
                }
                _ => None,
            })
            .collect()
    }

    /// Certifies one stackmap record of this function; `allocas` are the
    /// CFA ranges of its stack allocations ([`Function::alloca_ranges`]).
    pub fn certify(&self, record: &Record, allocas: &[Option<(i64, u64)>]) -> Result<Certificate> {
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
                let inside = allocas.iter().position(|a| {
                    a.is_some_and(|(start, size)| {
                        offset + SLOT > start && offset < start + size as i64
                    })
                });
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
        // Recorded values the code does not read again at the return
        // address but that a location still holds there (the other ISA's
        // code may keep them): where, so the translator can read them.
        let mut kept = Vec::new();
        for &(k, v) in &recorded {
            let size = record.locations[k].size();
            if whole_in(&live, k, size) || v.part != 0 || v.bytes != 0 {
                continue;
            }
            let upper = Val { part: 1, ..v };
            let place = self
                .isa
                .callee_saved()
                .iter()
                .map(|&reg| Loc::Reg { reg })
                .find(|&l| self.value(at_ra, l) == v)
                .or_else(|| {
                    let mut slots: Vec<Loc> = at_ra
                        .keys()
                        .copied()
                        .filter(|l| {
                            matches!(l, Loc::Slot { .. })
                                && !super::transfer::is_marker(*l)
                                && self.value(at_ra, *l) == v
                        })
                        .collect();
                    slots.sort();
                    slots.into_iter().find(|l| match *l {
                        Loc::Slot { offset } => {
                            self.value(
                                at_ra,
                                Loc::Slot {
                                    offset: offset + SLOT,
                                },
                            ) == upper
                        }
                        _ => false,
                    })
                });
            if let Some(loc) = place {
                kept.push((k, loc));
            }
        }
        Ok(Certificate {
            id: record.id,
            kept,
            return_address: self.insts[c].next(),
            record_address: point,
            live,
            sp_offset: self.frame[ra].0,
            fp_offset: self.frame[ra].1,
            allocas: allocas
                .iter()
                .map(|a| a.map(|(offset, size)| AllocaRange { offset, size }))
                .collect(),
        })
    }
}

/// Whether the `live` locations explained hold all `size` bytes of
/// recorded part `k` where the translator reads it (`Reader::value`): a
/// register, or a slot and, past 4 bytes, its upper half. A slot whose
/// code after the call reads only its low half explains only those bytes:
/// the part is then looked for among the places that keep it (SQLite's
/// `sqlite3VdbeExec`: a pointer spilled whole, read back as 32 bits).
fn whole_in(live: &[(Loc, Explanation)], k: usize, size: u16) -> bool {
    let recorded =
        |e: &Explanation| matches!(e, Explanation::Recorded { part, plus: 0 } if *part == k);
    live.iter().any(|(loc, e)| match *loc {
        Loc::Reg { .. } => recorded(e),
        Loc::Slot { offset } => {
            recorded(e)
                && (size <= 4
                    || live.iter().any(|(l, u)| {
                        *l == Loc::Slot {
                            offset: offset + SLOT,
                        } && matches!(u, Explanation::Upper { of, part: 1 } if recorded(of))
                    }))
        }
    })
}
