//! The IR stage of a migratable build.
//!
//! `migrate cc` compiles every translation unit once, for aarch64, into
//! optimized bitcode (DESIGN.md decision 3). This crate then
//! 1. refuses constructs that cannot behave the same on both ISAs
//!    ([`unsupported`]),
//! 2. links the program's modules, redirects ABI-sensitive libc calls to
//!    shims ([`shims`]) and normalises symbols so that each one can be placed
//!    at the same address in both executables ([`normalize`]),
//! 3. writes one copy of that single module per ISA, retargeted and with the
//!    ABI bridges that ISA needs ([`isa`]), for the backends to lower.
//!
//! Escaping stack objects move to the unsafe stack ([`unsafe_stack`]), and
//! landmarks ([`landmarks`]) and live-value records ([`records`]) are
//! inserted between 1 and 2, once, so that landmark *k* and call site *k*
//! mean the same point in both executables.

// Raw LLVM C-API calls live in `ir` alone, behind safe functions whose
// every unchecked block says why it is sound.
#![deny(unsafe_code)]

mod call_cycles;
mod dominators;
pub mod errno;
mod error;
#[allow(unsafe_code)]
mod ir;
pub mod isa;
pub mod landmarks;
pub mod liveness;
pub mod normalize;
pub mod records;
pub mod shims;
mod short_loops;
pub mod unsafe_stack;
pub mod unsupported;

pub use error::{Error, Result};
use inkwell::attributes::AttributeLoc;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::targets::{CodeModel, RelocMode, Target, TargetMachine, TargetTriple};
use inkwell::OptimizationLevel;
use isa::IrIsa;
use migrate_format::callsites::CallSiteTable;
use std::path::Path;

pub use unsupported::{find_unsupported, Diagnostic};

/// Parses one bitcode file.
pub fn load_bitcode<'ctx>(ctx: &'ctx Context, path: &Path) -> Result<Module<'ctx>> {
    Module::parse_bitcode_from_path(path, ctx).map_err(|e| Error::NotBitcode {
        name: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Parses bitcode held in memory (an archive member); `name` is for messages.
pub fn load_bitcode_bytes<'ctx>(
    ctx: &'ctx Context,
    bytes: &[u8],
    name: &str,
) -> Result<Module<'ctx>> {
    let buf = MemoryBuffer::create_from_memory_range_copy(bytes, name);
    Module::parse_bitcode_from_buffer(&buf, ctx).map_err(|e| Error::NotBitcode {
        name: name.to_string(),
        why: e.to_string(),
    })
}

/// True if `bytes` start like LLVM bitcode (raw or wrapped).
pub fn is_bitcode(bytes: &[u8]) -> bool {
    bytes.starts_with(b"BC\xc0\xde") || bytes.starts_with(&[0xde, 0xc0, 0x17, 0x0b])
}

/// Links `modules` into the first one.
pub fn link<'ctx>(mut modules: Vec<Module<'ctx>>) -> Result<Module<'ctx>> {
    if modules.is_empty() {
        return Err(Error::NoInput);
    }
    let main = modules.remove(0);
    for m in modules {
        let name = m.get_source_file_name().to_string_lossy().into_owned();
        main.link_in_module(m).map_err(|e| Error::Link {
            name: name.clone(),
            why: e.to_string(),
        })?;
    }
    Ok(main)
}

/// What [`prepare`] added to the program.
pub struct Prepared {
    /// Number of landmarks inserted.
    pub landmarks: u32,
    /// The side table of the live-value records (one per recorded call site).
    pub callsites: CallSiteTable,
    /// What moved to the unsafe stack.
    pub unsafe_stack: unsafe_stack::Moved,
}

/// Refuses unsupported constructs, moves stack objects to the unsafe stack
/// (unless `unsafe_stack` is false: for measuring its cost), inserts
/// landmarks and the live-value records after the call sites that need
/// them, then normalises the linked program.
pub fn prepare(module: &Module, policy: landmarks::Policy, unsafe_stack: bool) -> Result<Prepared> {
    let diags = find_unsupported(module);
    if !diags.is_empty() {
        return Err(Error::Unsupported(diags));
    }
    // The IR is the IR ISA's: its data layout sizes what records hold.
    let machine = target_machine(isa::of(migrate_format::arch::IR_ARCH))?;
    // First, so that landmarks and records see the unsafe frames' pointers
    // as the ordinary IR values they are.
    let moved = if unsafe_stack {
        unsafe_stack::move_stack_objects(module, &machine.get_target_data())
    } else {
        unsafe_stack::Moved::default()
    };
    errno::one_call_per_use(module);
    let count = landmarks::instrument(module, policy, &machine)?;
    shims::redirect(module);
    normalize::normalize_for_layout(module);
    // Last, so that the symbol names the side table uses are final.
    let callsites = records::insert(module, &machine.get_target_data())?;
    records::reserve_sites_table(module, callsites.sites.len());
    module.verify().map_err(|e| Error::DoesNotVerify {
        what: "the prepared module".into(),
        why: e.to_string(),
    })?;
    Ok(Prepared {
        landmarks: count,
        callsites,
        unsafe_stack: moved,
    })
}

/// Renders diagnostics one per line, as a compiler would.
pub fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes `module` retargeted to `isa`, with that ISA's ABI bridges, as
/// bitcode at `out`. `module` itself is left as it was.
pub fn write_for_isa(module: &Module, isa: &dyn IrIsa, out: &Path) -> Result<()> {
    let copy = module.clone();
    retarget(&copy, isa)?;
    isa.bridge_abi(&copy)?;
    copy.verify().map_err(|e| Error::DoesNotVerify {
        what: format!("the {} module", isa.name()),
        why: e.to_string(),
    })?;
    if !copy.write_bitcode_to_path(out) {
        return Err(Error::Write(out.to_path_buf()));
    }
    Ok(())
}

/// LLVM's target machine for `isa`.
fn target_machine(isa: &dyn IrIsa) -> Result<TargetMachine> {
    isa.initialize();
    let triple = TargetTriple::create(isa.triple());
    let no_machine = |why: String| Error::Llvm {
        what: format!("no LLVM target machine for {}", isa.triple()),
        why,
    };
    let target = Target::from_triple(&triple).map_err(|e| no_machine(e.to_string()))?;
    target
        .create_target_machine(
            &triple,
            isa.cpu(),
            isa.features(),
            OptimizationLevel::Default,
            RelocMode::Static,
            CodeModel::Default,
        )
        .ok_or_else(|| no_machine("LLVM returned none".into()))
}

/// Replaces triple, data layout and per-function CPU attributes.
fn retarget(module: &Module, isa: &dyn IrIsa) -> Result<()> {
    let machine = target_machine(isa)?;
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let ctx = module.get_context();
    for f in module.get_functions() {
        for key in ["target-cpu", "target-features", "tune-cpu"] {
            f.remove_string_attribute(AttributeLoc::Function, key);
        }
        f.add_attribute(
            AttributeLoc::Function,
            ctx.create_string_attribute("target-cpu", isa.cpu()),
        );
        f.add_attribute(
            AttributeLoc::Function,
            ctx.create_string_attribute("target-features", isa.features()),
        );
    }
    Ok(())
}
