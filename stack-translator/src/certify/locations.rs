//! The locations each instruction reads and writes: registers, and the
//! stack slots of the frame, with the bytes of each.

use super::{Function, Loc, Refusal, RefusalKind, Result};
use crate::machine::{Flow, MInst, Reg};

/// Bytes per stack slot.
pub(super) const SLOT: i64 = 4;
/// All bytes of a location.
pub(super) const WHOLE: u8 = 0xf;

impl Function<'_> {
    /// The slots `[offset, offset+size)` touches, with the bytes of each.
    fn slots(offset: i64, size: u32) -> impl Iterator<Item = (Loc, u8)> {
        let end = offset + size.max(1) as i64;
        let first = offset.div_euclid(SLOT) * SLOT;
        let last = (end - 1).div_euclid(SLOT) * SLOT;
        (first..=last).step_by(SLOT as usize).map(move |unit| {
            let mask = (0..SLOT)
                .filter(|b| unit + b >= offset && unit + b < end)
                .fold(0u8, |m, b| m | 1 << b);
            (Loc::Slot { offset: unit }, mask)
        })
    }

    /// Per instruction: locations read and written.
    pub(super) fn locations(&mut self) -> Result<()> {
        let exits: Vec<(Loc, u8)> = self
            .isa
            .callee_saved()
            .iter()
            .chain(self.isa.return_registers())
            .map(|&reg| (Loc::Reg { reg }, WHOLE))
            .collect();
        for i in 0..self.insts.len() {
            let m = &self.insts[i];
            // Registers' bytes in groups (machine::BYTE0 ...), 4 bits like
            // a slot's.
            let bytes = |narrow: &[(Reg, u8)], reg: Reg| {
                narrow
                    .iter()
                    .find(|(r, _)| *r == reg)
                    .map_or(WHOLE, |(_, b)| *b)
            };
            let mut uses: Vec<(Loc, u8)> = m
                .reads
                .iter()
                .filter(|r| !self.is_frame_base(**r) || **r == self.isa.fp())
                .map(|&reg| (Loc::Reg { reg }, bytes(&m.narrow_reads, reg)))
                .collect();
            let mut defs: Vec<(Loc, u8)> = m
                .writes
                .iter()
                .filter(|r| **r != self.isa.sp())
                .map(|&reg| (Loc::Reg { reg }, bytes(&m.narrow_writes, reg)))
                .collect();
            for mem in &m.loads {
                if self.is_frame_base(mem.base) && self.reachable[i] {
                    let off = self
                        .cfa_offset(i, mem.base, mem.disp, m.sp_before)
                        .ok_or_else(|| unknown_frame(m))?;
                    uses.extend(Self::slots(off, mem.size));
                }
            }
            for mem in &m.stores {
                if self.is_frame_base(mem.base) && self.reachable[i] {
                    let off = self
                        .cfa_offset(i, mem.base, mem.disp, m.sp_before)
                        .ok_or_else(|| unknown_frame(m))?;
                    defs.extend(Self::slots(off, mem.size));
                }
            }
            let tail_call = match &m.flow {
                Flow::Jump(t) => !self.index.contains_key(t),
                Flow::Switch(None) => !self.resolved.contains_key(&i),
                _ => false,
            };
            if tail_call || m.flow == Flow::Return {
                uses.extend(exits.iter().copied());
            }
            if tail_call {
                // The callee reads its arguments.
                uses.extend(
                    self.isa
                        .argument_registers()
                        .iter()
                        .map(|&reg| (Loc::Reg { reg }, WHOLE)),
                );
            }
            self.uses.push(uses);
            self.defs.push(defs);
        }
        Ok(())
    }
}

fn unknown_frame(m: &MInst) -> Refusal {
    Refusal::new(
        RefusalKind::UnknownStackPointer,
        Some(m.address),
        m.text.clone(),
    )
}
