//! The front end: one C source to optimized aarch64 bitcode, checked.

use super::args::CcArgs;
use crate::tools;
use anyhow::{bail, Result};
use inkwell::context::Context;
use std::path::Path;
use std::process::Command;

use migrate_format::arch::IR_ARCH;

/// The clang-19 command line shared by compiling and preprocessing: for
/// the IR's ISA, against its musl headers.
fn frontend(args: &CcArgs, resource_dir: &str) -> Command {
    let mut cmd = Command::new("clang-19");
    cmd.arg(format!("--target={}", IR_ARCH.triple()))
        .args(["-nostdinc", "-isystem"])
        .arg(format!("{resource_dir}/include"))
        .arg("-isystem")
        .arg(format!("/usr/include/{}", IR_ARCH.musl_multiarch()));
    match installed_headers() {
        Ok(dir) => {
            cmd.arg("-isystem").arg(dir);
        }
        Err(e) => eprintln!("migrate cc: warning: <migrate.h> is not available: {e}"),
    }
    cmd.args(&args.frontend)
        // After the user's flags, so they win: the same floating-point results
        // on both ISAs need no FMA contraction and no fast-math.
        .args([
            "-fno-pic",
            "-fno-pie",
            "-ffp-contract=off",
            "-fno-fast-math",
        ]);
    cmd
}

/// A directory holding the runtime's installed header (`migrate.h`),
/// written once per header version under the system's temporary directory
/// (the `migrate` binary carries the header; no install step).
fn installed_headers() -> std::io::Result<std::path::PathBuf> {
    let text = landmark_rt::MIGRATE_H;
    // FNV-1a: a name that changes when the header does.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = std::env::temp_dir().join(format!("migrate-include-{hash:016x}"));
    let header = dir.join("migrate.h");
    if std::fs::read_to_string(&header).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!("migrate.h.{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &header)?;
    }
    Ok(dir)
}

/// Compiles `source` to bitcode at `out` and refuses what cannot run on both
/// ISAs. On error nothing is left at `out`.
pub fn compile(args: &CcArgs, source: &Path, out: &Path) -> Result<()> {
    let resource = tools::clang_resource_dir()?;
    let tmp = out.with_extension("o.tmp");
    let mut cmd = frontend(args, &resource);
    cmd.arg(format!("-O{}", args.opt_level))
        .arg(if args.debug {
            "-g"
        } else {
            "-gline-tables-only"
        })
        .args(["-emit-llvm", "-c"])
        .args(dependency_file_flags(args, out))
        .arg(source)
        .arg("-o")
        .arg(&tmp);
    let result = tools::run(&mut cmd, args.verbose).and_then(|out| {
        eprint!("{}", String::from_utf8_lossy(&out.stderr)); // warnings
        check(&tmp)
    });
    match result {
        Ok(()) => Ok(std::fs::rename(&tmp, out)?),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// With -MD/-MMD, clang names the dependency file and its target after the
/// output it writes, which here is a temporary file: name them after `out`.
fn dependency_file_flags(args: &CcArgs, out: &Path) -> Vec<String> {
    let has = |f: &str| args.frontend.iter().any(|a| a.starts_with(f));
    let mut flags = Vec::new();
    if has("-MD") || has("-MMD") {
        if !has("-MF") {
            flags.push(format!("-MF{}", out.with_extension("d").display()));
        }
        if !has("-MT") && !has("-MQ") {
            flags.push(format!("-MT{}", out.display()));
        }
    }
    flags
}

/// Refuses a bitcode file with constructs that cannot run on both ISAs.
pub fn check(bitcode: &Path) -> Result<()> {
    let ctx = Context::create();
    let module = llvm_pass::load_bitcode(&ctx, bitcode)?;
    let diags = llvm_pass::find_unsupported(&module);
    if !diags.is_empty() {
        bail!("{}", llvm_pass::render(&diags));
    }
    Ok(())
}

/// `-E`: preprocess as the compile step would, to stdout or `-o`.
pub fn preprocess(args: &CcArgs) -> Result<()> {
    let resource = tools::clang_resource_dir()?;
    for source in &args.sources {
        let mut cmd = frontend(args, &resource);
        cmd.arg("-E").arg(source);
        if let Some(o) = &args.output {
            cmd.arg("-o").arg(o);
        }
        let out = tools::run(&mut cmd, args.verbose)?;
        use std::io::Write;
        std::io::stdout().write_all(&out.stdout)?;
    }
    Ok(())
}
