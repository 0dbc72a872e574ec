//! What the translator knows about each ISA, behind one trait, one file per
//! ISA (as Cranelift's `isa/x64` and `isa/aarch64`).

mod aarch64;
mod x64;

use crate::machine::{MInst, Reg};
use anyhow::Result;

/// Read access to an executable's loaded bytes (jump tables live there).
pub trait Memory {
    /// `len` bytes at `address`, if the executable has them.
    fn read(&self, address: u64, len: usize) -> Option<&[u8]>;
}

/// An executable with no loaded bytes, for tests of code without tables.
#[cfg(test)]
pub(crate) struct NoMemory;

#[cfg(test)]
impl Memory for NoMemory {
    fn read(&self, _: u64, _: usize) -> Option<&[u8]> {
        None
    }
}

/// One ISA as the translator sees it.
pub trait Isa: Sync {
    /// Name, also the executable suffix (`BASE.x86_64`).
    fn name(&self) -> &'static str;
    /// Assembly name of the register with this DWARF number (stackmap
    /// locations use DWARF numbers).
    fn register_name(&self, dwarf: u16) -> String;
    /// DWARF numbers of the stack pointer and the frame pointer.
    fn sp(&self) -> Reg;
    fn fp(&self) -> Reg;
    /// The stack pointer at a function's first instruction, relative to the
    /// canonical frame address (the stack pointer before the call).
    fn entry_sp(&self) -> i64;
    /// The register a call leaves the return address in, if any (its value
    /// at entry, saved and restored, is frame geometry).
    fn link_register(&self) -> Option<Reg> {
        None
    }
    /// Registers a call preserves (the callee saves and restores them).
    fn callee_saved(&self) -> &'static [Reg];
    /// Registers a call may change.
    fn caller_saved(&self) -> &'static [Reg];
    /// Registers a function receives its arguments in.
    fn argument_registers(&self) -> &'static [Reg];
    /// Registers a function returns values in.
    fn return_registers(&self) -> &'static [Reg];
    /// ELF `e_machine` of this ISA's executables and core files.
    fn elf_machine(&self) -> u16;
    /// The general registers of a core file's NT_PRSTATUS, in the kernel's
    /// order: the name and, where it has one, the DWARF number.
    fn core_registers(&self) -> &'static [(&'static str, Option<Reg>)];
    /// The name of the program counter among [`Isa::core_registers`].
    fn pc_name(&self) -> &'static str;
    /// The CFI column of the return address.
    fn return_address_column(&self) -> Reg;
    /// Decodes the machine code of one function, `code` at `address`.
    fn decode(&self, code: &[u8], address: u64, memory: &dyn Memory) -> Result<Vec<MInst>>;
}

pub const X86_64: &dyn Isa = &x64::X64;
pub const AARCH64: &dyn Isa = &aarch64::Aarch64;

/// Both ISAs, x86_64 first (the order of every `[_; 2]` in this crate).
pub const ALL: [&dyn Isa; 2] = [X86_64, AARCH64];

/// Looks an ISA up by name.
pub fn by_name(name: &str) -> Option<&'static dyn Isa> {
    ALL.into_iter().find(|i| i.name() == name)
}
