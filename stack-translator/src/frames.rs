//! The frame table: for every certified call site of one executable, how to
//! step from a frame suspended there to its caller's frame, precomputed from
//! the executable's CFI (`.eh_frame`) so that landmark-rt can walk the stack
//! at a landmark without a DWARF interpreter (landmark-rt's `frames.c`
//! reads it from the executable file when a checkpoint is wanted).
//!
//! A frame whose return address is not in the table is not at a certified
//! call site, so the stack cannot migrate yet: the runtime waits for a later
//! landmark (DESIGN.md, the libc-frames trap).
//!
//! Section `.migrate.frames` (not loaded; little-endian): "MIGFRAME", u32
//! version, u32 count, then `count` 24-byte entries sorted by return address:
//! u64 return address, u32 call-site ID, i32 CFA offset, u8 CFA base (0: the
//! stack pointer, 1: the frame pointer), u8 1 if the caller's frame pointer
//! was saved, i16 where the return address is saved (from the CFA), i16
//! where the frame pointer is saved (from the CFA), u16 0.

use crate::isa::Isa;
use anyhow::{anyhow, bail, Result};
use gimli::{BaseAddresses, CfaRule, EhFrame, RegisterRule, UnwindContext, UnwindSection};
use object::{Object, ObjectSection};

/// Non-loaded section holding one executable's frame table.
pub const SECTION: &str = ".migrate.frames";
const MAGIC: &[u8; 8] = b"MIGFRAME";
const VERSION: u32 = 1;
const ENTRY: usize = 24;

/// Where the canonical frame address is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfaBase {
    StackPointer,
    FramePointer,
}

/// How to find the caller of a frame suspended at one return address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRule {
    pub return_address: u64,
    pub call_site: u32,
    /// CFA = base register + offset (the caller's stack pointer).
    pub cfa_base: CfaBase,
    pub cfa_offset: i32,
    /// The caller's return address is saved at CFA + this.
    pub return_address_at: i16,
    /// The caller's frame pointer is saved at CFA + this, if it was saved
    /// (else the frame pointer is unchanged).
    pub frame_pointer_at: Option<i16>,
}

/// Builds the table for the executable `data` from its certified call
/// sites, `(return address, call-site ID)`. A site whose CFI is not of the
/// simple kinds above is left out (and so never migrates), with its reason
/// in the second list.
pub fn build(
    data: &[u8],
    isa: &dyn Isa,
    sites: impl IntoIterator<Item = (u64, u64)>,
) -> Result<(Vec<FrameRule>, Vec<String>)> {
    let file = object::File::parse(data)?;
    let section = file
        .section_by_name(".eh_frame")
        .ok_or_else(|| anyhow!("the executable has no .eh_frame"))?;
    let eh_frame = EhFrame::new(section.data()?, gimli::LittleEndian);
    let mut bases = BaseAddresses::default().set_eh_frame(section.address());
    if let Some(text) = file.section_by_name(".text") {
        bases = bases.set_text(text.address());
    }
    let mut ctx = UnwindContext::new();
    let (sp, fp) = (isa.sp(), isa.fp());
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for (ra, id) in sites {
        // The row of the call instruction: a call can be a function's last.
        let row = match eh_frame.unwind_info_for_address(
            &bases,
            &mut ctx,
            ra - 1,
            EhFrame::cie_from_offset,
        ) {
            Ok(row) => row,
            Err(e) => {
                skipped.push(format!("call site {id} at {ra:#x}: no CFI ({e})"));
                continue;
            }
        };
        let (cfa_base, cfa_offset) = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } if register.0 == sp => {
                (CfaBase::StackPointer, *offset)
            }
            CfaRule::RegisterAndOffset { register, offset } if register.0 == fp => {
                (CfaBase::FramePointer, *offset)
            }
            other => {
                skipped.push(format!("call site {id} at {ra:#x}: CFA rule {other:?}"));
                continue;
            }
        };
        let saved_at = |reg: u16| match row.register(gimli::Register(reg)) {
            RegisterRule::Offset(o) => Ok(Some(o)),
            RegisterRule::SameValue | RegisterRule::Undefined => Ok(None),
            other => Err(format!("{other:?}")),
        };
        let ra_at = match saved_at(isa.return_address_column()) {
            Ok(Some(o)) => o,
            other => {
                skipped.push(format!(
                    "call site {id} at {ra:#x}: return address rule {other:?}"
                ));
                continue;
            }
        };
        let fp_at = match saved_at(fp) {
            Ok(o) => o,
            Err(rule) => {
                skipped.push(format!(
                    "call site {id} at {ra:#x}: frame pointer rule {rule}"
                ));
                continue;
            }
        };
        let (Ok(cfa_offset), Ok(ra_at), Ok(fp_at)) = (
            i32::try_from(cfa_offset),
            i16::try_from(ra_at),
            fp_at.map(i16::try_from).transpose(),
        ) else {
            skipped.push(format!("call site {id} at {ra:#x}: frame too large"));
            continue;
        };
        rules.push(FrameRule {
            return_address: ra,
            call_site: id as u32,
            cfa_base,
            cfa_offset,
            return_address_at: ra_at,
            frame_pointer_at: fp_at,
        });
    }
    rules.sort_by_key(|r| r.return_address);
    rules.dedup_by_key(|r| r.return_address);
    Ok((rules, skipped))
}

/// The section's bytes.
pub fn encode(rules: &[FrameRule]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(rules.len() as u32).to_le_bytes());
    for r in rules {
        out.extend_from_slice(&r.return_address.to_le_bytes());
        out.extend_from_slice(&r.call_site.to_le_bytes());
        out.extend_from_slice(&r.cfa_offset.to_le_bytes());
        out.push(match r.cfa_base {
            CfaBase::StackPointer => 0,
            CfaBase::FramePointer => 1,
        });
        out.push(r.frame_pointer_at.is_some() as u8);
        out.extend_from_slice(&r.return_address_at.to_le_bytes());
        out.extend_from_slice(&r.frame_pointer_at.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
    }
    out
}

/// Reads a section written by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Vec<FrameRule>> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        bail!("not a frame table (bad magic)");
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into()?);
    if version != VERSION {
        bail!("frame table version {version}, this migrate reads {VERSION}: rebuild the program");
    }
    let count = u32::from_le_bytes(bytes[12..16].try_into()?) as usize;
    if bytes.len() != 16 + count * ENTRY {
        bail!("frame table of the wrong size");
    }
    Ok(bytes[16..]
        .chunks_exact(ENTRY)
        .map(|e| FrameRule {
            return_address: u64::from_le_bytes(e[0..8].try_into().unwrap()),
            call_site: u32::from_le_bytes(e[8..12].try_into().unwrap()),
            cfa_offset: i32::from_le_bytes(e[12..16].try_into().unwrap()),
            cfa_base: if e[16] == 1 {
                CfaBase::FramePointer
            } else {
                CfaBase::StackPointer
            },
            return_address_at: i16::from_le_bytes(e[18..20].try_into().unwrap()),
            frame_pointer_at: (e[17] == 1)
                .then(|| i16::from_le_bytes(e[20..22].try_into().unwrap())),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let rules = vec![
            FrameRule {
                return_address: 0x1000_1234,
                call_site: 7,
                cfa_base: CfaBase::StackPointer,
                cfa_offset: 48,
                return_address_at: -8,
                frame_pointer_at: None,
            },
            FrameRule {
                return_address: 0x1000_2000,
                call_site: 9,
                cfa_base: CfaBase::FramePointer,
                cfa_offset: 16,
                return_address_at: -8,
                frame_pointer_at: Some(-16),
            },
        ];
        assert_eq!(decode(&encode(&rules)).unwrap(), rules);
        assert!(decode(&encode(&rules)[..40]).is_err());
    }
}
