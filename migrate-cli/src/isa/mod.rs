//! Per-ISA knowledge of the build and run steps (libraries, linker, runner).
//! One file per ISA behind [`Toolchain`]; the IR side lives in
//! `llvm_pass::isa`.

mod aarch64;
mod x64;

use llvm_pass::isa::IrIsa;
use migrate_format::Arch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a program is linked and run on one ISA.
pub trait Toolchain: Sync {
    /// Which ISA this is.
    fn arch(&self) -> Arch;
    /// The IR-stage description of the same ISA.
    fn ir(&self) -> &'static dyn IrIsa {
        llvm_pass::isa::of(self.arch())
    }
    /// Short name, also the executable suffix: `BASE.x86_64`.
    fn name(&self) -> &'static str {
        self.arch().name()
    }
    /// Directory with this ISA's musl `crt1.o`, `crti.o`, `crtn.o`, `libc.a`.
    fn musl_lib_dir(&self) -> PathBuf {
        Path::new("/usr/lib").join(self.arch().musl_multiarch())
    }
    /// The compiler support library (soft-float `long double`, ...).
    fn builtins_archive(&self) -> PathBuf;
    /// `-z max-page-size` the linker uses for this ISA.
    fn max_page_size(&self) -> u64 {
        self.arch().max_page_size()
    }
    /// Extra backend (`llc-19`) options this ISA needs for identical layouts.
    fn llc_flags(&self) -> &'static [&'static str] {
        &[]
    }
    /// Program that runs this ISA's executables here (`None`: run directly).
    fn runner(&self) -> Option<&'static str>;
}

pub const X86_64: &dyn Toolchain = &x64::X64;
pub const AARCH64: &dyn Toolchain = &aarch64::Aarch64;

/// How `arch` is built and run.
pub fn of(arch: Arch) -> &'static dyn Toolchain {
    match arch {
        Arch::X86_64 => X86_64,
        Arch::Aarch64 => AARCH64,
    }
}

/// Both ISAs, in [`Arch::ALL`] order.
pub fn all() -> [&'static dyn Toolchain; 2] {
    Arch::ALL.map(of)
}

/// The ld.lld-19 command that links `objects` into a static musl executable
/// for `t` at `out`, as cc would; callers add their own options. `crt1`
/// replaces musl's start file when given.
pub fn static_link(
    t: &dyn Toolchain,
    crt1: Option<&Path>,
    objects: &[PathBuf],
    out: &Path,
) -> Command {
    let musl = t.musl_lib_dir();
    let mut cmd = Command::new("ld.lld-19");
    cmd.args(["-static", "-nostdlib", "--gc-sections"])
        .arg(crt1.map_or_else(|| musl.join("crt1.o"), Path::to_path_buf))
        .arg(musl.join("crti.o"))
        .args(objects)
        .arg("--start-group")
        .arg(musl.join("libc.a"))
        .arg(t.builtins_archive())
        .arg("--end-group")
        .arg(musl.join("crtn.o"))
        .arg("-o")
        .arg(out);
    cmd
}
