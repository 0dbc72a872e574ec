//! The general registers of a core file's NT_PRSTATUS note: the kernel's
//! `struct elf_prstatus`, whose `pr_reg` is `struct user_regs_struct`
//! (x86_64) or `struct user_pt_regs` (aarch64).

use crate::Arch;

/// Offset of `pr_reg` in the kernel's `struct elf_prstatus` (both ISAs).
pub const PR_REG: usize = 112;
/// Offset of `pr_pid`.
pub const PR_PID: usize = 32;

/// Bytes of NT_PRSTATUS: the registers, then `pr_fpvalid` and padding.
pub fn prstatus_size(arch: Arch) -> usize {
    PR_REG + names(arch).len() * 8 + 8
}

/// Bytes of NT_FPREGSET: `struct user_i387_struct` (x86_64, FXSAVE
/// layout) or `struct user_fpsimd_state` (aarch64: 32 16-byte registers,
/// fpsr, fpcr, padding).
pub fn fpregset_size(arch: Arch) -> usize {
    match arch {
        Arch::X86_64 => 512,
        Arch::Aarch64 => 32 * 16 + 16,
    }
}

/// The registers of `pr_reg`, in the kernel's order.
pub fn names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &[
            "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
            "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
            "gs_base", "ds", "es", "fs", "gs",
        ],
        Arch::Aarch64 => &[
            "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
            "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25",
            "x26", "x27", "x28", "x29", "x30", "sp", "pc", "pstate",
        ],
    }
}

/// The program counter's name among [`names`].
pub fn pc_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "rip",
        Arch::Aarch64 => "pc",
    }
}

/// The stack pointer's name among [`names`].
pub fn sp_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "rsp",
        Arch::Aarch64 => "sp",
    }
}
