//! Forward value numbering: which locations hold the same value, a
//! constant, a frame address, or the caller's value at entry, at the start
//! of every basic block; where paths meet, values that differ become new
//! ones, related to each other where they can be.

use super::locations::SLOT;
use super::value::{Base, Val, EXT_NONE};
use super::{Function, Loc, Refusal, RefusalKind, Result, ValueMap};
use crate::machine::Reg;
use rustc_hash::FxHashMap;

/// Average evaluations per block of the forward value analysis before it
/// gives up on a function (its result is then unusable).
pub(super) const MAX_VISITS: usize = 64;
/// The same for the optimistic analysis, before falling back.
pub(super) const OPTIMISTIC_VISITS: usize = 16;

impl Function<'_> {
    /// Forward: the value in every location at the start of each basic
    /// block (states are kept per block, not per instruction: SQLite's
    /// interpreter loop has tens of thousands of instructions).
    pub(super) fn number_values(&mut self, optimistic: bool, max_visits: usize) -> Result<()> {
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

    /// The values before instruction `i`.
    pub(super) fn values_before(&self, i: usize) -> ValueMap {
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
        // The same, by their value's base on the first path: a relation
        // must hold on every path, the first among them when it is defined
        // there, so only these can relate to `k` (at SQLite's interpreter
        // loop hundreds of paths and locations meet; trying every earlier
        // location was most of its certification time).
        let mut representatives_by_base: FxHashMap<Base, Vec<Loc>> = FxHashMap::default();
        let mut related_by_base: FxHashMap<Base, Vec<(Loc, Val)>> = FxHashMap::default();
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
            // Only candidates whose base on the first path is k's there, if
            // the first path counts for k; all of them otherwise.
            let first_counts = std::ptr::eq(*reference, first);
            let base0 = get(first, k).base;
            let candidates: &[Loc] = if first_counts {
                representatives_by_base.get(&base0).map_or(&[], |v| &v[..])
            } else {
                &representatives
            };
            // Extended values relate too: to an equally extended one (the
            // same bytes throughout), or to the whole value they extend.
            let related = candidates.iter().find_map(|&r| {
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
                let candidates: &[(Loc, Val)] = if first_counts {
                    related_by_base.get(&base0).map_or(&[], |v| &v[..])
                } else {
                    &related_to
                };
                candidates.iter().find_map(|&(q, mq): &(Loc, Val)| {
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
                    related_by_base
                        .entry(get(first, k).base)
                        .or_default()
                        .push((k, v));
                }
                _ if let Some(v) = halves() => {
                    merged.insert(k, v);
                }
                _ => {
                    representatives.push(k);
                    representatives_by_base
                        .entry(get(first, k).base)
                        .or_default()
                        .push(k);
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
    pub(super) fn value(&self, state: &ValueMap, loc: Loc) -> Val {
        if let Some(v) = state.get(&loc) {
            return *v;
        }
        // A slot of a stack allocation not written since a call that may
        // have written it: that call's value for this slot.
        if let Loc::Slot { offset } = loc {
            for (k, range) in self.allocas.iter().enumerate() {
                let Some((start, size)) = *range else {
                    continue;
                };
                if offset >= start && offset < start + size as i64 {
                    if let Some(m) = state.get(&super::transfer::alloca_marker(k)) {
                        return Val::of(match m.base {
                            Base::Def(d, _) => Base::Def(d, loc),
                            Base::Phi(d, _) => Base::Phi(d, loc),
                            other => other,
                        });
                    }
                }
            }
        }
        self.entry_value(loc)
    }

    /// The value of register `r` before instruction `i` given `state`:
    /// the stack and frame pointers are frame addresses when known.
    pub(super) fn reg_value(&self, i: usize, state: &ValueMap, r: Reg) -> Val {
        if self.is_frame_base(r) {
            if let Some(off) = self.cfa_offset(i, r, 0, 0) {
                return Val::at(Base::Cfa, off);
            }
        }
        self.value(state, Loc::Reg { reg: r })
    }
}
