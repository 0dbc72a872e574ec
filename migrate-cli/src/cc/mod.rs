//! `migrate cc`: a C compiler driver that builds one program into two
//! layout-identical static executables, `BASE.x86_64` and `BASE.aarch64`.

pub mod args;
mod compile;
mod elf_edit;
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
        let outs: Vec<PathBuf> = args
            .sources
            .iter()
            .map(|src| args.output.clone().unwrap_or_else(|| object_name(src)))
            .collect();
        return compile_all(&args, &args.sources, &outs);
    }
    let work = tempfile::Builder::new().prefix("migrate-cc-").tempdir()?;
    let mut bitcode: Vec<PathBuf> = (0..args.sources.len())
        .map(|i| work.path().join(format!("src{i}.o")))
        .collect();
    compile_all(&args, &args.sources, &bitcode)?;
    for obj in args
        .objects
        .iter()
        .filter(|p| p.extension().is_none_or(|e| e != "a"))
    {
        compile::check(obj).with_context(|| format!("{}", obj.display()))?;
        bitcode.push(obj.clone());
    }
    let base = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("a.out"));
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

/// Compiles `sources[i]` to `outs[i]`, one source per core at a time.
/// Reports the first failure in source order.
fn compile_all(args: &args::CcArgs, sources: &[PathBuf], outs: &[PathBuf]) -> Result<()> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<()>>> = (0..sources.len()).map(|_| None).collect();
    let slots: Vec<std::sync::Mutex<&mut Option<Result<()>>>> =
        results.iter_mut().map(std::sync::Mutex::new).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= sources.len() {
                    break;
                }
                let r = compile::compile(args, &sources[i], &outs[i]);
                **slots[i].lock().unwrap() = Some(r);
            });
        }
    });
    drop(slots);
    results.into_iter().flatten().collect()
}
