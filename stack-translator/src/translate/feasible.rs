//! Which call sites' frames can be translated, decided at link time from
//! the two executables' certificates: a frame at a call site where the
//! destination's code reads a recorded value that the source's frame does
//! not keep (one ISA's code recomputes a value after the call, the other's
//! keeps it) would be refused by the translator after the checkpoint. Such
//! a call site is marked not migratable instead, so that the runtime waits
//! for another landmark (or for the frame to return), which counts as
//! migrating.

use super::destination::{bytes_written, parts_needed};
use super::source;
use crate::isa::Isa;
use crate::records::Executable;
use migrate_format::callsites::CallSite;
use migrate_format::certificates::{Certificate, Certificates};
use std::collections::BTreeMap;

/// The recorded parts the destination code reads at `cert`'s call site,
/// each with how many of its low bytes ([`super::destination`] writes
/// every live location from them).
pub fn needed_parts(cert: &Certificate) -> BTreeMap<usize, usize> {
    let mut out: BTreeMap<usize, usize> = BTreeMap::new();
    for (loc, e) in &cert.live {
        parts_needed(e, bytes_written(*loc, e), &mut |part, bytes| {
            let n = out.entry(part).or_default();
            *n = (*n).max(bytes);
        });
    }
    out
}

/// One executable of the pair, its certificates and ISA.
pub struct Certified<'a> {
    pub exe: &'a Executable,
    pub certificates: &'a Certificates,
    pub isa: &'a dyn Isa,
}

/// Why a frame at a call site cannot be translated, known at link time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obstacle {
    /// The destination code reads recorded part `part` (some of its low
    /// bytes), and the source frame does not keep them.
    ValueNotKept { part: usize },
}

/// What stops a frame at call site `site` from being translated from
/// `from` to `to`, if anything (the first obstacle found). Every certified
/// record copy of the site on `from` is checked against the first on `to`
/// (the one the translator writes).
pub fn obstacle(from: &Certified, to: &Certified, site: &CallSite) -> Option<Obstacle> {
    // (A frame whose size is not known at the call, after a dynamic
    // allocation, is refused by the translator, not here: the same flags
    // say where a same-ISA checkpoint may be taken, and one can be there.)
    let dst = certified(to, site.id).next()?;
    let needed = needed_parts(dst);
    for src in certified(from, site.id) {
        let record = from
            .exe
            .records
            .get(&site.id)
            .and_then(|rs| rs.iter().find(|r| r.address() == src.record_address));
        if let Some((&part, _)) = needed
            .iter()
            .find(|(&p, &n)| !source::keeps(record, from.isa, src, site, p, n))
        {
            return Some(Obstacle::ValueNotKept { part });
        }
    }
    None
}

/// The certified record copies of call site `id`.
fn certified<'c>(c: &Certified<'c>, id: u64) -> impl Iterator<Item = &'c Certificate> {
    c.certificates
        .records
        .iter()
        .filter(move |r| r.id == id)
        .filter_map(|r| r.certificate.as_ref().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::source::keeps;
    use migrate_format::callsites::{CallKind, RecordedPart};
    use migrate_format::certificates::{Explanation, Loc};

    fn site() -> CallSite {
        let part = |value, size: u32, ty: &str| RecordedPart {
            value,
            offset: 0,
            size,
            ty: ty.into(),
            pointer: ty == "ptr",
            dynamic_alloca: false,
        };
        CallSite {
            id: 7,
            function: "f".into(),
            kind: CallKind::Landmark(1),
            location: None,
            values: vec![part(0, 8, "ptr"), part(1, 4, "i32")],
            allocas: vec![],
            derived: vec![],
        }
    }

    fn cert(live: Vec<(Loc, Explanation)>, kept: Vec<(usize, Loc)>) -> Certificate {
        Certificate {
            id: 7,
            return_address: 0x1000,
            record_address: 0x1000,
            live,
            kept,
            sp_offset: Some(-64),
            fp_offset: Some(-16),
            allocas: vec![],
        }
    }

    fn recorded(part: usize) -> Explanation {
        Explanation::Recorded { part, plus: 0 }
    }

    #[test]
    fn a_value_whose_slot_is_read_as_32_bits_is_kept_to_4_bytes() {
        let (isa, site) = (crate::isa::of(migrate_format::Arch::X86_64), site());
        let low_only = cert(vec![(Loc::Slot { offset: -32 }, recorded(0))], vec![]);
        assert!(!keeps(None, isa, &low_only, &site, 0, 8));
        assert!(keeps(None, isa, &low_only, &site, 0, 4));
        // Its upper half live too, or a place that keeps it: kept whole.
        let both = cert(
            vec![
                (Loc::Slot { offset: -32 }, recorded(0)),
                (
                    Loc::Slot { offset: -28 },
                    Explanation::Upper {
                        of: Box::new(recorded(0)),
                        part: 1,
                    },
                ),
            ],
            vec![],
        );
        assert!(keeps(None, isa, &both, &site, 0, 8));
        let kept = cert(
            vec![(Loc::Slot { offset: -32 }, recorded(0))],
            vec![(0, Loc::Slot { offset: -40 })],
        );
        assert!(keeps(None, isa, &kept, &site, 0, 8));
        // A 4-byte part: its slot's low half is all of it.
        let narrow = cert(vec![(Loc::Slot { offset: -48 }, recorded(1))], vec![]);
        assert!(keeps(None, isa, &narrow, &site, 1, 8));
        // In a callee-saved register (rbx, DWARF 3): kept.
        let reg = cert(vec![(Loc::Reg { reg: 3 }, recorded(0))], vec![]);
        assert!(keeps(None, isa, &reg, &site, 0, 8));
        // Nowhere: not kept.
        assert!(!keeps(None, isa, &cert(vec![], vec![]), &site, 0, 1));
    }

    #[test]
    fn needed_parts_are_those_the_explanations_use() {
        let c = cert(
            vec![
                (Loc::Reg { reg: 3 }, recorded(1)),
                (
                    Loc::Slot { offset: -28 },
                    Explanation::Upper {
                        of: Box::new(recorded(4)),
                        part: 1,
                    },
                ),
                (
                    Loc::Reg { reg: 12 },
                    Explanation::Sum {
                        a: 2,
                        b: 3,
                        times: 1,
                        plus: 0,
                    },
                ),
                (Loc::Reg { reg: 13 }, Explanation::Constant { value: 5 }),
            ],
            vec![],
        );
        // A register takes 8 bytes; a slot's upper half needs bytes 4-7.
        assert_eq!(
            needed_parts(&c).into_iter().collect::<Vec<_>>(),
            vec![(1, 8), (2, 8), (3, 8), (4, 8)]
        );
        let low = cert(
            vec![
                (Loc::Slot { offset: -32 }, recorded(1)),
                (
                    Loc::Slot { offset: -24 },
                    Explanation::Narrow {
                        part: 2,
                        at: 0,
                        size: 1,
                    },
                ),
            ],
            vec![],
        );
        assert_eq!(
            needed_parts(&low).into_iter().collect::<Vec<_>>(),
            vec![(1, 4), (2, 1)]
        );
    }
}
