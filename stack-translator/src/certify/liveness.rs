//! Backward liveness of registers and stack slots, byte by byte.

use super::locations::WHOLE;
use super::{Function, Loc};

impl Function<'_> {
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
    pub(super) fn liveness(&mut self) {
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
    pub(super) fn live_before(&self, i: usize) -> Vec<(Loc, u8)> {
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

    /// An instruction reachable from `from` that reads `loc` before
    /// anything writes it (why `loc` is live there), nearest first.
    pub(super) fn first_read(&self, from: usize, loc: Loc) -> Option<usize> {
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
}
