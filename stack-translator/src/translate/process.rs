//! What else in an image belongs to its ISA: the register notes' layouts
//! and the floating-point control state, open files' flag encodings,
//! signal handlers' restorer, and musl's cached vDSO entry point.

use super::TranslateError;
use crate::isa::Isa;
use crate::machine::Reg;
use migrate_format::image::registers;
use migrate_format::Arch;
use std::collections::BTreeMap;

/// NT_PRSTATUS for `isa`: the header (signal, process IDs, times) of
/// `source`, the registers from `regs` (DWARF numbers).
pub fn prstatus(isa: &dyn Isa, source: &[u8], regs: &BTreeMap<Reg, u64>) -> Vec<u8> {
    let arch = isa.arch();
    let names = registers::names(arch);
    let mut out = vec![0u8; registers::prstatus_size(arch)];
    let head = registers::PR_REG.min(source.len());
    out[..head].copy_from_slice(&source[..head]);
    let mut set = |name: &str, v: u64| {
        if let Some(i) = names.iter().position(|n| *n == name) {
            let at = registers::PR_REG + 8 * i;
            out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    };
    for (&reg, &v) in regs {
        if let Some(name) = isa.core_register(reg) {
            set(name, v);
        }
    }
    match arch {
        // What the kernel shows for a user process (the runtime ignores
        // them at restore; gdb reads them).
        Arch::X86_64 => {
            set("cs", 0x33);
            set("ss", 0x2b);
            set("eflags", 0x246);
            set("orig_rax", u64::MAX);
        }
        // The runtime's convention: x30 holds the resume address too.
        Arch::Aarch64 => {
            if let Some(&pc) = regs.get(&isa.return_address_column()) {
                set("pc", pc);
            }
        }
    }
    out
}

/// Rounding modes, in the order x86 encodes them (RC: nearest, down, up,
/// toward zero).
const X86_TO_ARM_ROUNDING: [u32; 4] = [0, 2, 1, 3];

/// Exception flags: (x86 MXCSR bit, aarch64 FPSR bit).
const FLAGS: [(u32, u32); 6] = [(0, 0), (2, 1), (3, 2), (4, 3), (5, 4), (1, 7)];

/// NT_FPREGSET for `isa`: the callee-saved floating-point registers from
/// `regs`, and `source`'s rounding mode and exception flags re-encoded
/// (x86_64 MXCSR and x87 control word, aarch64 FPCR and FPSR).
pub fn fpregset(isa: &dyn Isa, from: Arch, source: &[u8], regs: &BTreeMap<Reg, u64>) -> Vec<u8> {
    let u32_at = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map_or(0, |w| u32::from_le_bytes(w.try_into().unwrap()))
    };
    // (rounding mode in x86's encoding, x86 flag bits)
    let (rounding, flags) = match from {
        Arch::X86_64 => {
            let mxcsr = u32_at(source, 24);
            ((mxcsr >> 13) & 3, mxcsr & 0x3f)
        }
        Arch::Aarch64 => {
            let (fpsr, fpcr) = (u32_at(source, 512), u32_at(source, 516));
            let arm = (fpcr >> 22) & 3;
            let x86 = X86_TO_ARM_ROUNDING.iter().position(|&r| r == arm).unwrap() as u32;
            let flags = FLAGS
                .iter()
                .filter(|(_, a)| fpsr >> a & 1 == 1)
                .fold(0, |f, (x, _)| f | 1 << x);
            (x86, flags)
        }
    };
    let arch = isa.arch();
    let mut out = vec![0u8; registers::fpregset_size(arch)];
    let mut put32 = |at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    match arch {
        Arch::X86_64 => {
            // x87 control word: all exceptions masked, 64-bit precision.
            put32(0, 0x037f | rounding << 10);
            put32(24, 0x1f80 | rounding << 13 | flags);
            put32(28, 0xffff); // MXCSR_MASK
        }
        Arch::Aarch64 => {
            let fpsr = FLAGS
                .iter()
                .filter(|(x, _)| flags >> x & 1 == 1)
                .fold(0, |f, (_, a)| f | 1 << a);
            put32(512, fpsr);
            put32(516, X86_TO_ARM_ROUNDING[rounding as usize] << 22);
        }
    }
    for (&reg, &v) in regs {
        if let Some(at) = isa.fp_register_offset(reg) {
            out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// `open` flags whose bits differ between the ISAs' Linux ABIs: (x86_64,
/// aarch64) for O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE.
const OPEN_FLAGS: [(i32, i32); 4] = [
    (0o200000, 0o40000),
    (0o400000, 0o100000),
    (0o40000, 0o200000),
    (0o100000, 0o400000),
];

/// F_GETFL flags of `from`'s encoding in `to`'s.
pub fn open_flags(flags: i32, from: Arch, to: Arch) -> i32 {
    if from == to {
        return flags;
    }
    let pick = |pair: &(i32, i32), arch: Arch| match arch {
        Arch::X86_64 => pair.0,
        Arch::Aarch64 => pair.1,
    };
    let moved = OPEN_FLAGS.iter().fold(0, |m, p| m | pick(p, from));
    OPEN_FLAGS.iter().fold(flags & !moved, |out, p| {
        if flags & pick(p, from) != 0 {
            out | pick(p, to)
        } else {
            out
        }
    })
}

/// A signal handler's restorer (musl's `__restore_rt`, which differs
/// between the ISAs) in the destination.
pub fn restorer(value: u64, from: u64, to: u64, signo: u32) -> Result<u64, TranslateError> {
    match value {
        0 => Ok(0),
        v if v == from => Ok(to),
        v => Err(TranslateError::Inconsistent(format!(
            "signal {signo}'s handler returns through {v:#x}, not musl's __restore_rt"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_round_trip_and_move_only_their_bits() {
        let x86 = 0o2 | 0o200000 | 0o100000; // O_RDWR | O_DIRECTORY | O_LARGEFILE
        let arm = open_flags(x86, Arch::X86_64, Arch::Aarch64);
        assert_eq!(arm, 0o2 | 0o40000 | 0o400000);
        assert_eq!(open_flags(arm, Arch::Aarch64, Arch::X86_64), x86);
        assert_eq!(open_flags(0o2101, Arch::X86_64, Arch::Aarch64), 0o2101);
    }

    #[test]
    fn rounding_and_flags_cross_over() {
        let regs = BTreeMap::new();
        // x86 round-down (RC 01) with divide-by-zero (ZE, bit 2) raised.
        let mut x86 = vec![0u8; 512];
        x86[24..28].copy_from_slice(&(0x1f80u32 | 1 << 13 | 1 << 2).to_le_bytes());
        let arm = fpregset(crate::isa::AARCH64, Arch::X86_64, &x86, &regs);
        assert_eq!(
            u32::from_le_bytes(arm[516..520].try_into().unwrap()),
            2 << 22
        );
        assert_eq!(
            u32::from_le_bytes(arm[512..516].try_into().unwrap()),
            1 << 1
        );
        let back = fpregset(crate::isa::X86_64, Arch::Aarch64, &arm, &regs);
        assert_eq!(&back[24..28], &x86[24..28]);
    }
}
