//! The stack and frame pointers as offsets from the canonical frame
//! address (CFA), so that `[rbp-0x30]` and `[rsp+0x10]` name the same slot
//! wherever they are the same memory.

use super::{Function, Result};
use crate::machine::{Flow, Reg};

impl Function<'_> {
    /// Forward: the stack and frame pointers as CFA offsets.
    pub(super) fn track_frame(&mut self) -> Result<()> {
        let n = self.insts.len();
        let mut state: Vec<Option<(Option<i64>, Option<i64>)>> = vec![None; n];
        state[0] = Some((Some(self.isa.entry_sp()), None));
        let mut work = vec![0usize];
        let (sp, fp) = (self.isa.sp(), self.isa.fp());
        while let Some(i) = work.pop() {
            let (s, f) = state[i].unwrap();
            let m = &self.insts[i];
            let mut s2 = s.map(|v| v + m.sp_before + m.sp_after);
            let mut f2 = f;
            if m.sp_unknown {
                s2 = None;
            }
            if let Some(k) = m.sp_from_fp {
                s2 = f.map(|v| v + k);
            }
            if let Some(k) = m.fp_from_sp {
                f2 = s2.map(|v| v + k);
            } else if m.writes.contains(&fp) && !matches!(m.flow, Flow::Call { .. }) {
                // Restored from its save slot in the epilogue, or reused.
                f2 = None;
            }
            if m.writes.contains(&sp)
                && m.sp_before == 0
                && m.sp_after == 0
                && m.sp_from_fp.is_none()
                && !m.sp_unknown
                && !matches!(m.flow, Flow::Call { .. } | Flow::Return)
            {
                s2 = None;
            }
            for &t in &self.succs[i] {
                let new = (s2, f2);
                match state[t] {
                    None => {
                        state[t] = Some(new);
                        work.push(t);
                    }
                    Some(old) if old != new => {
                        let merged = (
                            if old.0 == new.0 { old.0 } else { None },
                            if old.1 == new.1 { old.1 } else { None },
                        );
                        if merged != old {
                            state[t] = Some(merged);
                            work.push(t);
                        }
                    }
                    _ => {}
                }
            }
        }
        self.reachable = state.iter().map(Option::is_some).collect();
        self.frame = state
            .into_iter()
            .map(|s| s.unwrap_or((None, None)))
            .collect();
        Ok(())
    }

    /// The CFA offset of `base + disp` before instruction `i`, if `base`
    /// is the stack or frame pointer and its offset is known there.
    pub(super) fn cfa_offset(&self, i: usize, base: Reg, disp: i64, sp_adjust: i64) -> Option<i64> {
        let (s, f) = self.frame[i];
        if base == self.isa.sp() {
            s.map(|v| v.wrapping_add(sp_adjust).wrapping_add(disp))
        } else if base == self.isa.fp() {
            f.map(|v| v.wrapping_add(disp))
        } else {
            None
        }
    }

    pub(super) fn is_frame_base(&self, r: Reg) -> bool {
        r == self.isa.sp() || r == self.isa.fp()
    }
}
