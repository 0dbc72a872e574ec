//! One instruction's effect on the values of the locations it writes.

use super::locations::SLOT;
use super::value::{
    extend, narrow_bytes, sum, Base, Val, EXT_NONE, EXT_SIGN, EXT_SIGN32, EXT_ZERO,
};
use super::{Function, Loc, ValueMap};
use crate::machine::{Op, Place};

/// A location no instruction names: where the value analysis notes the
/// last call that may have written stack allocation `k` (see
/// [`Function::value`]).
pub(super) fn alloca_marker(k: usize) -> Loc {
    Loc::Slot {
        offset: i64::MIN / 2 + 8 * k as i64,
    }
}

/// Whether `loc` is an [`alloca_marker`].
pub(super) fn is_marker(loc: Loc) -> bool {
    matches!(loc, Loc::Slot { offset } if offset < i64::MIN / 4)
}

impl Function<'_> {
    /// A call may write every stack allocation (its address may have been
    /// passed on, as an out-parameter): what the analysis knew of their
    /// slots is forgotten, and their marker names the call, so that a slot
    /// read later without having been written since is a value of its own
    /// (not garbage, and not equal to any other slot's).
    fn call_writes_allocas(&self, i: usize, state: &mut ValueMap) {
        for (k, range) in self.allocas.iter().enumerate() {
            let Some((start, size)) = *range else {
                continue;
            };
            let inside: Vec<Loc> = state
                .keys()
                .copied()
                .filter(|l| matches!(*l, Loc::Slot { offset } if offset >= start && offset < start + size as i64))
                .collect();
            for l in inside {
                state.insert(l, Val::of(Base::Def(i, l)));
            }
            let marker = alloca_marker(k);
            state.insert(marker, Val::of(Base::Def(i, marker)));
        }
    }

    /// Updates `state` to the values after instruction `i`.
    pub(super) fn transfer(&self, i: usize, state: &mut ValueMap) {
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
            // A load from the stack-protector guard's address (aarch64:
            // `adrp x8, page; ldr x8, [x8, #off]`).
            Op::Copy {
                dst,
                src: Place::Mem(mem),
            } if mem.size == 8
                && self.stack_guard.is_some_and(|g| {
                    let base = self.reg_value(i, state, mem.base);
                    base.base == Base::Absolute
                        && base.part == 0
                        && base.bytes == 0
                        && base.offset.wrapping_add(mem.disp) as u64 == g
                }) =>
            {
                results[0] = Some((dst, Val::of(Base::Canary)))
            }
            Op::Copy { dst, src } => {
                results[0] = read(&src)
                    .and_then(|v| moved_splat(dst, src, v))
                    .map(|v| (dst, v))
            }
            Op::Canary { dst } => results[0] = Some((Place::Reg(dst), Val::of(Base::Canary))),
            Op::CopyPair { first, second } => {
                let moved = |(dst, src): (Place, Place)| {
                    read(&src)
                        .and_then(|v| moved_splat(dst, src, v))
                        .map(|v| (dst, v))
                };
                results[0] = moved(first);
                results[1] = moved(second);
            }
            Op::Const { dst, value } => results[0] = Some((dst, Val::at(Base::Absolute, value))),
            Op::Splat { dst, lane } => {
                results[0] = Some((Place::Reg(dst), Val::at(Base::Splat, lane)))
            }
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
        // Arithmetic is on general registers, which never hold a splat
        // (`moved_splat`): one there would be a misreading, so unknown.
        if !matches!(
            m.op,
            Op::Splat { .. } | Op::Copy { .. } | Op::CopyPair { .. }
        ) {
            for r in &mut results {
                if r.is_some_and(|(_, v)| v.base == Base::Splat) {
                    *r = None;
                }
            }
        }
        for (d, _) in &self.defs[i] {
            state.insert(*d, Val::of(Base::Def(i, *d)));
        }
        if matches!(m.flow, crate::machine::Flow::Call { .. }) {
            self.call_writes_allocas(i, state);
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
}

/// What a move of the splat `v` (every 64-bit lane the same) from `src` to
/// `dst` leaves there: a store writes the register's bytes as they are
/// (its size decides how many slots hold parts of it); a 16-byte load
/// brings all of it back, a narrower one the low bytes of a lane, zero
/// above. A copy between registers is unknown: the decoders do not say
/// whether it moves 8 bytes or 16. Any other value moves unchanged.
fn moved_splat(dst: Place, src: Place, v: Val) -> Option<Val> {
    if v.base != Base::Splat {
        return Some(v);
    }
    match (dst, src) {
        (Place::Mem(_), Place::Reg(_)) => Some(v),
        (Place::Reg(_), Place::Mem(m)) => match m.size {
            16 => Some(v),
            8 => Some(Val::at(Base::Absolute, v.offset)),
            4 => Some(Val::at(Base::Absolute, v.offset & 0xffff_ffff)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Mem;

    #[test]
    fn a_splat_keeps_its_lanes_only_when_moved_whole() {
        let lane = 0x3ff0_0000_0000_0000;
        let splat = Val::at(Base::Splat, lane);
        let slot = |size| {
            Place::Mem(Mem {
                base: 31,
                disp: 16,
                size,
            })
        };
        let v5 = Place::Reg(69);
        // Stored: the slots hold what the register holds.
        assert_eq!(moved_splat(slot(16), v5, splat), Some(splat));
        assert_eq!(moved_splat(slot(8), v5, splat), Some(splat));
        // Loaded whole: still a splat; loaded narrow: one lane, zeros above.
        assert_eq!(moved_splat(v5, slot(16), splat), Some(splat));
        assert_eq!(
            moved_splat(v5, slot(8), splat),
            Some(Val::at(Base::Absolute, lane))
        );
        assert_eq!(
            moved_splat(v5, slot(4), Val::at(Base::Splat, 0x3f80_0000_3f80_0000)),
            Some(Val::at(Base::Absolute, 0x3f80_0000))
        );
        // Between registers: 8 or 16 bytes, the decoders do not say.
        assert_eq!(moved_splat(Place::Reg(64), v5, splat), None);
        // Anything else moves unchanged.
        let other = Val::at(Base::Absolute, 7);
        assert_eq!(moved_splat(Place::Reg(64), v5, other), Some(other));
    }
}
