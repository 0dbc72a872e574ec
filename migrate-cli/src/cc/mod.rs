//! `migrate cc`: a C compiler driver that builds one program into two
//! layout-identical static executables, `BASE.x86_64` and `BASE.aarch64`.

pub mod args;
mod compile;
pub mod link;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Runs `migrate cc` with a cc-style command line.
pub fn main(raw: &[String]) -> Result<()> {
    let args = args::parse(raw)?;
    if args.verbose && !args.ignored.is_empty() {
        eprintln!("migrate cc: ignoring {}", args.ignored.join(" "));
    }
    if args.preprocess_only {
        return compile::preprocess(&args);
    }
    if args.compile_only {
        for src in &args.sources {
            let out = args.output.clone().unwrap_or_else(|| object_name(src));
            compile::compile(&args, src, &out)?;
        }
        return Ok(());
    }
    let work = tempfile::Builder::new().prefix("migrate-cc-").tempdir()?;
    let mut bitcode: Vec<PathBuf> = Vec::new();
    for (i, src) in args.sources.iter().enumerate() {
        let out = work.path().join(format!("src{i}.o"));
        compile::compile(&args, src, &out)?;
        bitcode.push(out);
    }
    for obj in args.objects.iter().filter(|p| !p.extension().is_some_and(|e| e == "a")) {
        compile::check(obj).with_context(|| format!("{}", obj.display()))?;
        bitcode.push(obj.clone());
    }
    let base = args.output.clone().unwrap_or_else(|| PathBuf::from("a.out"));
    let result = link::link(&args, &bitcode, &base, work.path());
    if args.save_temps {
        let kept = work.keep();
        eprintln!("migrate cc: intermediate files kept in {}", kept.display());
    }
    result
}

/// `dir/name.c` -> `name.o` in the current directory, as cc does.
fn object_name(src: &Path) -> PathBuf {
    PathBuf::from(src.file_stem().unwrap_or_default()).with_extension("o")
}
