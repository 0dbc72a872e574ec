//! x86_64: lowers IR that clang produced for aarch64.
//!
//! The front end lowered `va_arg` for the AAPCS64 `va_list` and compiled
//! against aarch64 musl headers, so on x86_64:
//! - after `llvm.va_start` (which the x86 backend lowers to its own 24-byte
//!   `va_list`) the list is converted in place to the AAPCS64 layout that the
//!   inlined `va_arg` code reads (`__mig_va_start_x86` in landmark-rt);
//! - `llvm.va_copy` copies the 32-byte AAPCS64 list, not x86's 24 bytes;
//! - the `__mig_*` shims that [`crate::shims`] redirected libc calls to
//!   convert `va_list`s, `struct stat`, `O_*` and `FE_*` values; they live in
//!   `landmark-rt/arch/x86_64/`.

use super::IrIsa;
use crate::ir;
use crate::Result;
use inkwell::module::Module;
use inkwell::targets::{InitializationConfig, Target};
use inkwell::values::AsValueRef;
use inkwell::AddressSpace;
use migrate_format::Arch;

pub struct X64;

/// Size of the AAPCS64 `va_list` the IR allocates and reads.
const AAPCS64_VA_LIST_SIZE: u64 = 32;

impl IrIsa for X64 {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }
    fn cpu(&self) -> &'static str {
        "x86-64"
    }
    fn features(&self) -> &'static str {
        "+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87"
    }
    fn initialize(&self) {
        Target::initialize_x86(&InitializationConfig::default());
    }
    fn bridge_abi(&self, module: &Module) -> Result<()> {
        bridge_va_lists(module);
        Ok(())
    }
}

fn bridge_va_lists(module: &Module) {
    let ctx = module.get_context();
    let ptr = ctx.ptr_type(AddressSpace::default());
    let fixup = module
        .get_function("__mig_va_start_x86")
        .unwrap_or_else(|| {
            module.add_function(
                "__mig_va_start_x86",
                ctx.void_type().fn_type(&[ptr.into()], false),
                None,
            )
        });
    let size = ctx.i64_type().const_int(AAPCS64_VA_LIST_SIZE, false);
    let builder = ir::Builder::new(module);
    for inst in ir::instructions(module) {
        if !ir::is_call(inst) {
            continue;
        }
        let Some(callee) = ir::direct_callee(inst) else {
            continue;
        };
        let callee = ir::name(callee);
        let args = ir::call_args(inst);
        if callee.starts_with("llvm.va_start") {
            let next = ir::next_instruction(inst).expect("a call is no terminator");
            builder.position_before(next);
            builder.call(fixup, &[args[0]]);
        } else if callee.starts_with("llvm.va_copy") {
            builder.position_before(inst);
            builder.memcpy(args[0], 8, args[1], 8, size.as_value_ref());
            builder.erase_unused(inst);
        }
    }
}
