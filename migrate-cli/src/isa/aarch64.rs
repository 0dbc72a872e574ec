//! aarch64: runs under qemu-user here (binfmt is not mounted, so qemu is
//! called explicitly).

use super::Toolchain;
use migrate_format::Arch;
use std::path::PathBuf;

pub struct Aarch64;

impl Toolchain for Aarch64 {
    fn arch(&self) -> Arch {
        Arch::Aarch64
    }
    fn builtins_archive(&self) -> PathBuf {
        // libgcc from libgcc-12-dev-arm64-cross: Debian has no aarch64 compiler-rt here.
        PathBuf::from("/usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a")
    }
    fn llc_flags(&self) -> &'static [&'static str] {
        // GlobalMerge packs internal globals into one `_MergedGlobals` blob
        // on aarch64 only, so `static` variables would move relative to x86_64.
        &["-aarch64-enable-global-merge=false"]
    }
    fn runner(&self) -> Option<&'static str> {
        Some("qemu-aarch64")
    }
}
