//! Dominance between basic blocks (Cooper, Harvey and Kennedy, "A Simple,
//! Fast Dominance Algorithm"): LLVM's C API has no dominator tree, and a
//! record may name a value only where its definition dominates the record.

/// The immediate dominator of every block reachable from the entry.
pub struct Dominators {
    /// Per block (indices as given to [`Dominators::new`]), its immediate
    /// dominator; the entry's is itself; `None` if unreachable.
    idom: Vec<Option<usize>>,
}

impl Dominators {
    /// `succ[b]`: the successors of block `b`; block 0 is the entry.
    pub fn new(succ: &[Vec<usize>]) -> Dominators {
        let n = succ.len();
        let order = reverse_postorder(succ);
        let mut rank = vec![usize::MAX; n];
        for (i, b) in order.iter().enumerate() {
            rank[*b] = i;
        }
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (b, ss) in succ.iter().enumerate() {
            for s in ss {
                preds[*s].push(b);
            }
        }
        let mut idom: Vec<Option<usize>> = vec![None; n];
        if n == 0 {
            return Dominators { idom };
        }
        idom[0] = Some(0);
        let mut changed = true;
        while changed {
            changed = false;
            for &b in order.iter().skip(1) {
                let mut new: Option<usize> = None;
                for &p in &preds[b] {
                    if idom[p].is_none() {
                        continue; // unreachable, or not processed yet
                    }
                    new = Some(match new {
                        None => p,
                        Some(q) => intersect(&idom, &rank, p, q),
                    });
                }
                if new.is_some() && idom[b] != new {
                    idom[b] = new;
                    changed = true;
                }
            }
        }
        Dominators { idom }
    }

    /// True if every path from the entry to `b` passes through `a` (a block
    /// dominates itself). False if either is unreachable.
    pub fn dominates(&self, a: usize, mut b: usize) -> bool {
        if self.idom[a].is_none() {
            return false;
        }
        loop {
            if a == b {
                return true;
            }
            match self.idom[b] {
                Some(d) if d != b => b = d,
                _ => return false,
            }
        }
    }
}

/// Walks up from `a` and `b` to their nearest common dominator.
fn intersect(idom: &[Option<usize>], rank: &[usize], mut a: usize, mut b: usize) -> usize {
    while a != b {
        while rank[a] > rank[b] {
            a = idom[a].expect("processed blocks have a dominator");
        }
        while rank[b] > rank[a] {
            b = idom[b].expect("processed blocks have a dominator");
        }
    }
    a
}

/// The blocks reachable from block 0, in reverse postorder.
fn reverse_postorder(succ: &[Vec<usize>]) -> Vec<usize> {
    let mut order = Vec::new();
    if succ.is_empty() {
        return order;
    }
    let mut seen = vec![false; succ.len()];
    let mut stack = vec![(0usize, 0usize)];
    seen[0] = true;
    while let Some((b, next)) = stack.last_mut() {
        let b = *b;
        if let Some(&s) = succ[b].get(*next) {
            *next += 1;
            if !seen[s] {
                seen[s] = true;
                stack.push((s, 0));
            }
        } else {
            order.push(b);
            stack.pop();
        }
    }
    order.reverse();
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diamond_loop_and_unreachable() {
        // 0 -> 1, 2; 1 -> 3; 2 -> 3; 3 -> 4, 1 (a loop back to 1); 5 unreachable.
        let succ = vec![vec![1, 2], vec![3], vec![3], vec![4, 1], vec![], vec![4]];
        let d = Dominators::new(&succ);
        assert!(d.dominates(0, 4));
        assert!(d.dominates(3, 4));
        assert!(d.dominates(1, 1));
        assert!(!d.dominates(1, 3), "3 is reached through 2 as well");
        assert!(!d.dominates(2, 3));
        assert!(!d.dominates(5, 4), "an unreachable block dominates nothing");
        assert!(!d.dominates(0, 5), "nothing dominates an unreachable block");
    }
}
