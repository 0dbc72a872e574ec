//! x86_64: runs natively here.

use super::Toolchain;
use migrate_format::Arch;
use std::path::PathBuf;

pub struct X64;

impl Toolchain for X64 {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }
    fn builtins_archive(&self) -> PathBuf {
        // compiler-rt, from libclang-rt-19-dev.
        PathBuf::from("/usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.builtins-x86_64.a")
    }
    fn runner(&self) -> Option<&'static str> {
        None
    }
}
