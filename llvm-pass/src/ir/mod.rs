//! The crate's only door to the LLVM C API.
//!
//! inkwell covers modules, targets and bitcode well but not instruction-level
//! inspection and editing (operands, PHIs, callees that are inline asm,
//! debug locations, constant strings, the data layout of raw types, calls
//! built before an arbitrary instruction), so those operations go through
//! `llvm_sys` here, in small safe functions, by topic:
//! - [`values`]: what a value is (its kind, opcode, operands, callee and
//!   attributes, name, debug location, constant value);
//! - [`blocks`]: a module's instructions, a function's blocks, their
//!   instructions and successors, the loops of the control-flow graph;
//! - [`types`]: types, their parts, and their sizes and offsets under a
//!   data layout;
//! - [`build`]: the IR builder and in-place edits (setting an operand,
//!   erasing an instruction, deleting a function).
//!
//! No other module of the crate uses `unsafe`: the crate root denies
//! `unsafe_code` and allows it here alone, and every `unsafe` block here
//! carries a `SAFETY:` comment (clippy's `undocumented_unsafe_blocks`).
//!
//! # Why the wrappers are safe
//!
//! [`Value`], [`Block`] and [`Type`] are raw LLVM handles, as the C API has
//! them. The crate obtains every handle it passes here from a module (or its
//! context) that it borrows for the whole pass, and keeps none beyond it, so
//! a handle given to these functions is non-null and refers to a live object
//! of a live module: the *handle invariant* the `SAFETY:` comments call
//! "live". (A [`Builder`]'s insertion point counts as a handle too: erasing
//! goes through [`Builder::erase_unused`], which forgets it.)
//!
//! The C API casts values to the class a function expects without checking
//! (`unwrap<CallInst>`, `cast<StructType>`); each wrapper checks what its
//! call requires beyond liveness (that a value is an instruction, a call, a
//! PHI; that an index is in range; that a type is sized) before calling
//! LLVM, and returns `None` or panics instead of reading the wrong object.
//! Handles that can be absent (the instruction after a terminator, a block
//! without one) come back as `Option`s, never as null.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod blocks;
mod build;
mod types;
mod values;

pub use blocks::*;
pub use build::*;
pub use inkwell::llvm_sys::{LLVMIntPredicate, LLVMOpcode, LLVMTypeKind};
pub use types::*;
pub use values::*;

use inkwell::llvm_sys::prelude::{LLVMBasicBlockRef, LLVMTypeRef, LLVMValueRef};
use std::os::raw::c_char;

/// A raw LLVM value (instruction, argument, constant, function, global).
pub type Value = LLVMValueRef;
/// A raw LLVM basic block.
pub type Block = LLVMBasicBlockRef;
/// A raw LLVM type.
pub type Type = LLVMTypeRef;

/// The `len` bytes at `p` as text (invalid UTF-8 replaced), or `None` if
/// `p` is null.
///
/// # Safety
///
/// `p` is null or points to `len` bytes that stay readable for the call.
unsafe fn text(p: *const c_char, len: usize) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is not null, and the caller guarantees it points to `len`
    // readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    Some(String::from_utf8_lossy(bytes).into_owned())
}
