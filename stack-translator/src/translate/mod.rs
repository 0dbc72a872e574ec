//! The stack translator: the frames of an image taken on one ISA, rebuilt
//! for the other (DESIGN.md; issue 13).
//!
//! [`source::frames`] unwinds the source image with the source
//! executable's certificates (every frame's CFA, callee-saved registers and
//! recorded values); [`destination::build`] lays the same call sites out on
//! the destination stack and fills every register and slot the destination
//! certificates list. Both executables come from one IR, so call site `k`
//! and recorded value `i` mean the same on both.

pub mod destination;
pub mod feasible;
pub mod image;
pub mod jmp_bufs;
pub mod live_memory;
pub mod process;
pub mod source;

pub use destination::{DestinationFrame, DestinationStack, StartFrame, POISON};
pub use source::SourceFrame;

/// Why an image's stack cannot be translated.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// A frame's return address has no certificate (the runtime only
    /// checkpoints where every frame is at a migratable call site).
    #[error(
        "frame #{frame} (call site {call_site}, return address {pc:#x}) is not at a certified call site"
    )]
    NotCertified {
        frame: usize,
        pc: u64,
        call_site: u32,
    },
    /// The certificate does not know the frame's size at the call site.
    #[error("frame #{frame} (call site {call_site}): its frame size is not known at the call")]
    UnknownFrameSize { frame: usize, call_site: u32 },
    /// A stack allocation in use whose place in the frame is not known.
    #[error(
        "frame #{frame} (call site {call_site}): stack allocation {alloca} is in use and its place in the frame is not known"
    )]
    UnknownAlloca {
        frame: usize,
        call_site: u32,
        alloca: usize,
    },
    /// The destination needs a value the source frame does not keep.
    #[error(
        "frame #{frame} (call site {call_site}): recorded value {part} is needed on the destination and not kept on the source"
    )]
    ValueNotLive {
        frame: usize,
        call_site: u32,
        part: usize,
    },
    /// A recorded pointer into the stack that no stack allocation in use
    /// contains: it cannot be mapped exactly.
    #[error(
        "frame #{frame} (call site {call_site}): recorded value {part} points into the stack ({value:#x}) but into no stack allocation in use, so it cannot be mapped"
    )]
    PointerIntoStack {
        frame: usize,
        call_site: u32,
        part: usize,
        value: u64,
    },
    /// A 16-byte value in a stack slot whose upper 8 bytes the certificate
    /// does not describe (certificates hold 64-bit values).
    #[error(
        "frame #{frame} (call site {call_site}): the slot at CFA{offset:+} holds bytes 8-15 of a 16-byte value the certificate does not describe"
    )]
    WideValue {
        frame: usize,
        call_site: u32,
        offset: i64,
    },
    /// A live jmp_buf's frame, resumed at the setjmp call, needs another
    /// value in a stack slot than the frame's current call does.
    #[error(
        "a live jmp_buf and its frame's current call need different values in the stack slot at {at:#x}"
    )]
    JmpBufConflict { at: u64 },
    /// Memory (a stack allocation, the heap, a global) holding what looks
    /// like a pointer into the translated frames: it would need rewriting,
    /// and memory has no types to say it is a pointer.
    #[error(
        "the word at {at:#x} ({place}) holds {value:#x}, an address in the frames being translated: pointers into the stack kept in memory cannot be mapped exactly"
    )]
    StackPointerInMemory {
        at: u64,
        value: u64,
        place: &'static str,
    },
    /// The image and the executables disagree.
    #[error("{0}")]
    Inconsistent(String),
}

/// The low `size` bytes of `v` (all of it from 8 bytes up).
pub(crate) fn low_bytes(v: u64, size: usize) -> u64 {
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (8 * size)) - 1)
    }
}
