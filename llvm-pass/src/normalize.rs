//! Makes every program symbol individually placeable by the layout aligner.
//!
//! The linker gives each function and global its own section (llc
//! `-function-sections -data-sections`), and the aligner puts each section at
//! the same address in both executables. Two things in clang's IR defeat that:
//! private symbols have no name in the object's symbol table, and
//! `unnamed_addr` constants (string literals) are pooled into shared
//! mergeable sections whose contents differ per ISA (libc's strings are
//! merged in too). Both are undone here, once, before the module is lowered.
//!
//! Declarations (libc's functions and variables, the landmark runtime's
//! flag) get hidden visibility: the executable is static, nothing can be
//! preempted, and without it aarch64 reaches external variables through a
//! GOT load (`adrp; ldr`), an address the certificate cannot explain and
//! an extra load on every landmark check.
//!
//! Declarations of constant variables (musl's `FILE *const stdout`) lose
//! `constant`: a load from constant memory may be redone after a call
//! instead of kept across it, and the two backends choose differently (seen
//! in Lua's `luaB_print`: x86_64 reloads `stdout` after the call, aarch64
//! keeps it in a register), so one ISA's frame would lack a value the
//! other's code reads. Without it, both keep the value the IR keeps.

use inkwell::module::{Linkage, Module};
use inkwell::values::UnnamedAddress;
use inkwell::GlobalVisibility;

/// Alignment given to globals that carry none, so both ISAs agree on it.
const DEFAULT_GLOBAL_ALIGN: u32 = 8;

pub fn normalize_for_layout(module: &Module) {
    for g in module.get_globals() {
        if g.get_linkage() == Linkage::Private {
            g.set_linkage(Linkage::Internal);
        }
        g.set_unnamed_address(UnnamedAddress::None);
        if g.get_alignment() == 0 {
            g.set_alignment(DEFAULT_GLOBAL_ALIGN);
        }
        if g.is_declaration() {
            g.set_visibility(GlobalVisibility::Hidden);
            g.set_constant(false);
        }
    }
    for f in module.get_functions() {
        if f.get_linkage() == Linkage::Private {
            f.set_linkage(Linkage::Internal);
        }
        let intrinsic = f.get_name().to_bytes().starts_with(b"llvm.");
        if f.count_basic_blocks() == 0 && !intrinsic {
            f.as_global_value().set_visibility(GlobalVisibility::Hidden);
        }
    }
}
