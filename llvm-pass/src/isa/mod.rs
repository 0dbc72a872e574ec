//! What each ISA needs from the shared IR: target description and ABI bridges.

mod aarch64;
mod x64;

pub use aarch64::Aarch64;
pub use x64::X64;

use crate::Result;
use inkwell::module::Module;
use migrate_format::Arch;

/// Per-ISA knowledge the IR stage needs. The IR is produced for aarch64 (see
/// DESIGN.md decision 3) and lowered for every `IrIsa`.
pub trait IrIsa {
    /// Which ISA this is.
    fn arch(&self) -> Arch;
    /// Short name used in file names and messages: `x86_64`, `aarch64`.
    fn name(&self) -> &'static str {
        self.arch().name()
    }
    /// LLVM target triple.
    fn triple(&self) -> &'static str {
        self.arch().triple()
    }
    /// `target-cpu` given to every function.
    fn cpu(&self) -> &'static str;
    /// `target-features` given to every function.
    fn features(&self) -> &'static str;
    /// Registers this ISA's LLVM target.
    fn initialize(&self);
    /// Rewrites calls whose ABI differs from aarch64's so the shared IR
    /// behaves the same on this ISA (variadic lists, libc struct layouts).
    fn bridge_abi(&self, module: &Module) -> Result<()>;
}

/// The IR stage's view of `arch`.
pub fn of(arch: Arch) -> &'static dyn IrIsa {
    match arch {
        Arch::X86_64 => &X64,
        Arch::Aarch64 => &Aarch64,
    }
}
