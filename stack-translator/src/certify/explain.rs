//! What a live location holds, in terms of the recorded values: an
//! [`Explanation`], or why there is none.

use super::locations::WHOLE;
use super::value::{Base, Val, EXT_NONE, EXT_SIGN32, EXT_ZERO};
use super::{Explanation, Function, Loc};
use crate::machine::Op;

impl Function<'_> {
    /// The explanation of a location holding only the low bytes of a value
    /// (`v.bytes`), if `v` is such: those bytes must be all that is live
    /// there, and the value recorded.
    pub(super) fn explain_narrow(
        &self,
        loc: Loc,
        v: Val,
        live_bytes: u8,
        recorded: &[(usize, Val)],
    ) -> Option<Explanation> {
        if v.bytes == 0 {
            return self.narrow_record_in_slot(loc, v, live_bytes, recorded);
        }
        let (at, size) = (v.bytes >> 4, v.bytes & 0xf);
        if let Some((k, _)) = recorded.iter().find(|(_, r)| *r == v) {
            // The recorded bytes themselves, at byte `at` of a slot (a
            // `movb` into a slot's fourth byte): where in the slot matters
            // (read as the whole slot, its low byte was taken: SQLite's
            // wrong row).
            return match loc {
                Loc::Slot { .. } if at != 0 && v.ext == EXT_NONE => {
                    Some(Explanation::Narrow { part: *k, at, size })
                }
                _ => None,
            };
        }
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

    /// A slot holding a whole value of which the record names some bytes
    /// (an i8 stored with `movb` into byte 3 of a slot whose other bytes
    /// are older), when the code reads only those bytes: a narrow value.
    fn narrow_record_in_slot(
        &self,
        loc: Loc,
        v: Val,
        live_bytes: u8,
        recorded: &[(usize, Val)],
    ) -> Option<Explanation> {
        if !matches!(loc, Loc::Slot { .. }) || v.part != 0 {
            return None;
        }
        recorded.iter().find_map(|(k, r)| {
            let (at, size) = (r.bytes >> 4, r.bytes & 0xf);
            let held = ((1u8 << size) - 1) << at;
            (r.bytes != 0
                && r.ext == EXT_NONE
                && r.base == v.base
                && r.offset == v.offset
                && r.scale == v.scale
                && r.frame == v.frame
                && r.part == 0
                && live_bytes & !held == 0)
                .then_some(Explanation::Narrow { part: *k, at, size })
        })
    }

    pub(super) fn explain(
        &self,
        loc: Loc,
        v: Val,
        call: usize,
        recorded: &[(usize, Val)],
    ) -> Explanation {
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
                    | Explanation::Splat { .. }
                    | Explanation::FrameAddress { .. }
                    | Explanation::Canary
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
            Base::Splat if v.part == 0 && v.bytes == 0 => Explanation::Splat { value: v.offset },
            Base::Garbage => Explanation::Undefined,
            Base::Canary if v.offset == 0 && v.scale == 1 && !v.frame => Explanation::Canary,
            Base::Cfa => Explanation::FrameAddress { offset: v.offset },
            Base::Entry(of) if v.offset == 0 && self.is_callee_saved_state(of) => {
                Explanation::CallersValue { of }
            }
            _ => {
                // Not upper halves: an upper half is not its lower half
                // plus a constant. (A recorded narrow value stands for the
                // whole register: only its low bytes are the IR value.)
                let whole = |r: &Val| r.part == 0;
                // Of the same bytes: a recorded byte of a slot (a `movb`
                // into its fourth byte) is not the slot's whole value (it
                // cost SQLite a wrong row: the slot's low byte was read).
                let same_bytes = |r: &Val| r.bytes == v.bytes && r.ext == v.ext;
                if let Some((k, r)) = recorded.iter().find(|(_, r)| {
                    r.base == v.base
                        && r.scale == v.scale
                        && r.frame == v.frame
                        && whole(r)
                        && whole(&v)
                        && same_bytes(r)
                }) {
                    return Explanation::Recorded {
                        part: *k,
                        plus: v.offset.wrapping_sub(r.offset),
                    };
                }
                // v = (r - r.offset) * v.scale + v.offset.
                if let Some((k, r)) = recorded.iter().find(|(_, r)| {
                    r.base == v.base
                        && r.scale == 1
                        && !r.frame
                        && whole(r)
                        && whole(&v)
                        && same_bytes(r)
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
            Base::Absolute | Base::Cfa | Base::Splat => "a known value".into(),
            Base::Canary => "the stack-protector guard".into(),
            Base::Garbage => "stack memory never written".into(),
        }
    }
}
