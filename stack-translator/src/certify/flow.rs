//! Control flow between the instructions of a function: successors
//! (jump tables included, also those resolved from the value analysis),
//! basic blocks, and an order to visit them in.

use super::value::Base;
use super::{Function, Refusal, RefusalKind, Result};
use crate::isa::{self, Memory};
use crate::machine::Flow;

impl Function<'_> {
    /// Successors of every instruction.
    pub(super) fn successors(&self) -> Result<Vec<Vec<usize>>> {
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
    pub(super) fn resolve_tables(&mut self, memory: &dyn Memory) -> Result<bool> {
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
            let targets: Vec<usize> =
                isa::absolute_table(memory, v.offset as u64, isa::MAX_TABLE, (start, end))
                    .iter()
                    .map_while(|t| self.index.get(t).copied())
                    .collect();
            if !targets.is_empty() && self.resolved.get(&i) != Some(&targets) {
                self.resolved.insert(i, targets);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Splits the instructions into basic blocks.
    pub(super) fn find_blocks(&mut self) {
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
    pub(super) fn block_succs(&self, b: usize) -> impl Iterator<Item = usize> + '_ {
        self.succs[self.block_end[b] - 1]
            .iter()
            .map(|&s| self.block_of[s])
    }

    /// Each block's position in a reverse postorder of the blocks reachable
    /// from the entry (unreachable blocks last): visiting blocks in this
    /// order sees a block's predecessors first, except along loops.
    pub(super) fn reverse_postorder_ranks(&self) -> Vec<usize> {
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
}
