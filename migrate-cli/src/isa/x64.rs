//! x86_64: runs natively here.

use super::Toolchain;
use llvm_pass::isa::IrIsa;
use std::path::PathBuf;

pub struct X64;

impl Toolchain for X64 {
    fn ir(&self) -> &'static dyn IrIsa {
        &llvm_pass::isa::X64
    }
    fn musl_lib_dir(&self) -> PathBuf {
        PathBuf::from("/usr/lib/x86_64-linux-musl")
    }
    fn builtins_archive(&self) -> PathBuf {
        // compiler-rt, from libclang-rt-19-dev.
        PathBuf::from("/usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.builtins-x86_64.a")
    }
    fn max_page_size(&self) -> u64 {
        0x1000
    }
    fn runner(&self) -> Option<&'static str> {
        None
    }
}
