//! Builds the frame table (format: `migrate_format::frames`) from an
//! executable's CFI (`.eh_frame`): for every certified call site, how to
//! step from a frame suspended there to its caller's frame, so that
//! landmark-rt can walk the stack at a landmark without a DWARF
//! interpreter.

use crate::isa::Isa;
use crate::{Error, Result};
use gimli::{BaseAddresses, CfaRule, EhFrame, RegisterRule, UnwindContext, UnwindSection};
use object::{Object, ObjectSection};

use migrate_format::frames::{CfaBase, FrameRule};

/// Builds the table for the executable `data` from its certified call
/// sites, `(return address, call-site ID)`. A site whose CFI is not of the
/// simple kinds above is left out (and so never migrates), with its reason
/// in the second list.
pub fn build(
    data: &[u8],
    isa: &dyn Isa,
    sites: impl IntoIterator<Item = (u64, u64)>,
) -> Result<(Vec<FrameRule>, Vec<String>)> {
    let cfi_error = |what| {
        move |source| Error::FrameTable {
            what,
            source: Some(source),
        }
    };
    let file = object::File::parse(data).map_err(cfi_error("not an ELF file"))?;
    let section = file.section_by_name(".eh_frame").ok_or(Error::FrameTable {
        what: "the executable has no .eh_frame",
        source: None,
    })?;
    let data = section.data().map_err(cfi_error("unreadable .eh_frame"))?;
    let eh_frame = EhFrame::new(data, gimli::LittleEndian);
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
