//! What the translator knows about each ISA, behind one trait, one file per
//! ISA (as Cranelift's `isa/x64` and `isa/aarch64`).

mod aarch64;
mod x64;

use crate::machine::{MInst, Reg};
use crate::Result;
use migrate_format::Arch;

/// Read access to an executable's loaded bytes (jump tables live there).
pub trait Memory {
    /// `len` bytes at `address`, if the executable has them.
    fn read(&self, address: u64, len: usize) -> Option<&[u8]>;
    /// The address of the stack-protector guard aarch64 code loads
    /// (`__stack_chk_guard`), if the executable has one.
    fn stack_guard(&self) -> Option<u64> {
        None
    }
}

/// Most entries read from one jump table.
pub(crate) const MAX_TABLE: usize = 4096;

/// The targets in a table of 8-byte absolute addresses at `table`: at
/// most `max` (and [`MAX_TABLE`]) entries, read while they point into the
/// function, `[start, end)`.
pub(crate) fn absolute_table(
    memory: &dyn Memory,
    table: u64,
    max: usize,
    (start, end): (u64, u64),
) -> Vec<u64> {
    let mut targets = Vec::new();
    for k in 0..max.min(MAX_TABLE) as u64 {
        let Some(bytes) = table.checked_add(8 * k).and_then(|at| memory.read(at, 8)) else {
            break;
        };
        let t = u64::from_le_bytes(bytes.try_into().unwrap());
        if t < start || t >= end {
            break;
        }
        targets.push(t);
    }
    targets
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
    /// Which ISA this is.
    fn arch(&self) -> Arch;
    /// Its name, also the executable suffix (`BASE.x86_64`).
    fn name(&self) -> &'static str {
        self.arch().name()
    }
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
    /// The CFI column of the return address.
    fn return_address_column(&self) -> Reg;
    /// The name of general register `reg` (DWARF) among a core file's
    /// NT_PRSTATUS registers ([`migrate_format::image::registers::names`]).
    fn core_register(&self, reg: Reg) -> Option<&'static str>;
    /// Where in NT_FPREGSET the low 8 bytes of floating-point or vector
    /// register `reg` (DWARF) are.
    fn fp_register_offset(&self, reg: Reg) -> Option<usize>;
    /// Decodes the machine code of one function, `code` at `address`.
    fn decode(&self, code: &[u8], address: u64, memory: &dyn Memory) -> Result<Vec<MInst>>;
    /// Where musl's `setjmp` on this ISA stores what `longjmp` restores.
    fn jmp_buf(&self) -> &'static JmpBufLayout;
}

/// musl's `__jmp_buf` (src/setjmp/<isa>/setjmp.s): byte offsets of the
/// registers `setjmp` saves. The `pc` is the return address of the
/// `setjmp` call, the `sp` the caller's stack pointer after it returns.
#[derive(Debug)]
pub struct JmpBufLayout {
    /// Callee-saved registers (DWARF numbers) and their offsets; on
    /// aarch64 the floating-point ones keep their low 64 bits.
    pub registers: &'static [(Reg, usize)],
    pub sp: usize,
    pub pc: usize,
    /// Bytes `setjmp` writes.
    pub size: usize,
}

pub const X86_64: &dyn Isa = &x64::X64;
pub const AARCH64: &dyn Isa = &aarch64::Aarch64;

/// The translator's view of `arch`.
pub fn of(arch: Arch) -> &'static dyn Isa {
    match arch {
        Arch::X86_64 => X86_64,
        Arch::Aarch64 => AARCH64,
    }
}
