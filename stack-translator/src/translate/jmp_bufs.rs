//! Live `jmp_buf`s: found in the image's memory and translated as their
//! frame suspended at the `setjmp` call.
//!
//! `setjmp` saves the callee-saved registers, the stack pointer and its
//! own return address; `longjmp` puts them back and returns there again.
//! So a `jmp_buf` is one more view of the frame that called `setjmp`: that
//! frame, suspended at the `setjmp` call site (which has a record and a
//! certificate like any other), with the saved registers as its registers
//! and its stack slots as they are now. The translator reads the source
//! view with the source certificate of that call site and writes the
//! destination's registers, stack pointer and return address into the same
//! buffer (at the same address on both ISAs: every stack object lives on
//! the unsafe stack, llvm-pass's `unsafe_stack`), and the slots the
//! destination code after `setjmp` reads into the frame, which must agree
//! with what the frame's current call needs there.
//!
//! Nothing says where a `jmp_buf` is, so live memory is searched for one:
//! a saved return address that is a `setjmp` call site's, and a saved
//! stack pointer that is exactly the stack pointer at that call site of a
//! frame now on the stack in the same function. A buffer whose frame has
//! returned cannot be jumped to (C says so); it keeps its bytes, and if it
//! points into the translated frames the translation is refused like any
//! other pointer into the stack.

use super::source::{self, SourceFrame, Suspended};
use super::{live_memory, TranslateError};
use crate::isa::Isa;
use crate::machine::Reg;
use crate::records::Executable;
use migrate_format::callsites::CallKind;
use migrate_format::image::Image;
use std::collections::{BTreeMap, HashMap};

/// A live `jmp_buf` on the source.
#[derive(Debug, Clone)]
pub struct JmpBuf {
    /// Its address (the same on both ISAs).
    pub address: u64,
    /// The frame (index into the source frames) that called `setjmp`.
    pub frame: usize,
    /// That frame as `longjmp` would resume it: at the `setjmp` call site.
    pub view: SourceFrame,
}

/// The `setjmp` functions whose buffers are translated: musl's, which
/// save exactly what [`crate::isa::JmpBufLayout`] says.
const SETJMP: [&str; 3] = ["setjmp", "_setjmp", "__setjmp"];

/// Every live `jmp_buf` in `ranges` (address, size) of the image's memory.
pub fn find(
    image: &Image,
    frames: &[SourceFrame],
    exe: &Executable,
    isa: &dyn Isa,
    ranges: &[(u64, u64)],
) -> Result<Vec<JmpBuf>, TranslateError> {
    let returns = setjmp_returns(frames, exe)?;
    if returns.is_empty() {
        return Ok(Vec::new());
    }
    let found = live_memory::scan(image, ranges, &returns, 0..0, None)?;
    at(image, frames, exe, isa, &found.returns)
}

/// The return address of every certified `setjmp` call site, and its call
/// site; refuses a frame in a function that calls another `returns_twice`
/// function, whose buffer's layout is not known.
pub fn setjmp_returns(
    frames: &[SourceFrame],
    exe: &Executable,
) -> Result<HashMap<u64, u32>, TranslateError> {
    for site in &exe.table.sites {
        let CallKind::ReturnsTwice(callee) = &site.kind else {
            continue;
        };
        let in_a_frame = frames.iter().any(|f| {
            exe.table
                .get(u64::from(f.call_site))
                .is_some_and(|s| s.function == site.function)
        });
        if in_a_frame && !SETJMP.contains(&callee.as_str()) {
            return Err(TranslateError::Inconsistent(format!(
                "a frame on the stack is in {}, which calls {callee}: only musl's setjmp \
                 buffers are translated",
                site.function
            )));
        }
    }
    Ok(setjmp_return_addresses(exe))
}

/// The return address of every certified `setjmp` call site of `exe` (the
/// keys [`setjmp_returns`] can give), and its call site.
pub fn setjmp_return_addresses(exe: &Executable) -> HashMap<u64, u32> {
    exe.table
        .sites
        .iter()
        .filter(|site| matches!(site.kind, CallKind::ReturnsTwice(_)))
        .filter_map(|site| {
            let cert = exe.certificate_of(site.id)?;
            Some((cert.return_address, site.id as u32))
        })
        .collect()
}

/// The live `jmp_buf`s among `candidates`: (address of a word holding a
/// `setjmp` call site's return address, that call site).
pub fn at(
    image: &Image,
    frames: &[SourceFrame],
    exe: &Executable,
    isa: &dyn Isa,
    candidates: &[(u64, u32)],
) -> Result<Vec<JmpBuf>, TranslateError> {
    let mut found = Vec::new();
    for &(pc_at, call_site) in candidates {
        if let Some(jb) = live(image, frames, exe, isa, pc_at, call_site)? {
            found.push(jb);
        }
    }
    Ok(found)
}

/// The `jmp_buf` whose saved return address is at `pc_at`, if a frame on
/// the stack is the one that saved it.
fn live(
    image: &Image,
    frames: &[SourceFrame],
    exe: &Executable,
    isa: &dyn Isa,
    pc_at: u64,
    call_site: u32,
) -> Result<Option<JmpBuf>, TranslateError> {
    let layout = isa.jmp_buf();
    let Some(address) = pc_at.checked_sub(layout.pc as u64) else {
        return Ok(None);
    };
    let Ok(buf) = image.read_memory(address, layout.size) else {
        return Ok(None);
    };
    let word = |offset: usize| u64::from_le_bytes(buf[offset..offset + 8].try_into().unwrap());
    let (pc, sp) = (word(layout.pc), word(layout.sp));
    let cert = exe
        .certificate_of(u64::from(call_site))
        .expect("only certified sites are searched for");
    let function = &exe
        .table
        .get(u64::from(call_site))
        .expect("a site")
        .function;
    let Some(sp_offset) = cert.sp_offset else {
        return Ok(None);
    };
    let frame = frames.iter().position(|f| {
        f.cfa.wrapping_add(sp_offset as u64) == sp
            && exe
                .table
                .get(u64::from(f.call_site))
                .is_some_and(|s| &s.function == function)
    });
    let Some(k) = frame else {
        return Ok(None);
    };
    let registers: BTreeMap<Reg, u64> = layout
        .registers
        .iter()
        .map(|&(reg, offset)| (reg, word(offset)))
        .collect();
    let at = Suspended { call_site, pc, sp };
    let (view, _) = source::unwind(image, exe, isa, k, &at, registers, true)?;
    if view.cfa != frames[k].cfa {
        return Err(TranslateError::Inconsistent(format!(
            "the jmp_buf at {address:#x} of frame #{k} gives it another CFA"
        )));
    }
    Ok(Some(JmpBuf {
        address,
        frame: k,
        view,
    }))
}
