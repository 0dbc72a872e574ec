//! Running the external tools of the build (clang-19, llc-19, ld.lld-19).

use anyhow::{bail, Context, Result};
use std::process::{Command, Output};

/// Runs `cmd`, failing with its stderr if it fails. With `verbose`, prints it.
pub fn run(cmd: &mut Command, verbose: bool) -> Result<Output> {
    if verbose {
        eprintln!("+ {}", describe(cmd));
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().with_context(|| {
        format!("cannot run {program}: is it installed? (scripts/setup.sh installs every tool)")
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!("{program} failed:\n{}", stderr.trim_end());
    }
    Ok(out)
}

pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// clang's resource directory (its own headers: stdarg.h, stddef.h, ...),
/// asked of clang once per process rather than once per source file.
pub fn clang_resource_dir() -> Result<String> {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(dir) = DIR.get() {
        return Ok(dir.clone());
    }
    let out = run(Command::new("clang-19").arg("-print-resource-dir"), false)?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(DIR.get_or_init(|| dir).clone())
}
