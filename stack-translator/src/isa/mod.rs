//! What the translator knows about each ISA, behind one trait, one file per
//! ISA (as Cranelift's `isa/x64` and `isa/aarch64`).

mod aarch64;
mod x64;

/// One ISA as the translator sees it.
pub trait Isa: Sync {
    /// Name, also the executable suffix (`BASE.x86_64`).
    fn name(&self) -> &'static str;
    /// Assembly name of the register with this DWARF number (stackmap
    /// locations use DWARF numbers).
    fn register_name(&self, dwarf: u16) -> String;
}

pub const X86_64: &dyn Isa = &x64::X64;
pub const AARCH64: &dyn Isa = &aarch64::Aarch64;

/// Both ISAs, x86_64 first (the order of every `[_; 2]` in this crate).
pub const ALL: [&dyn Isa; 2] = [X86_64, AARCH64];

/// Looks an ISA up by name.
pub fn by_name(name: &str) -> Option<&'static dyn Isa> {
    ALL.into_iter().find(|i| i.name() == name)
}
