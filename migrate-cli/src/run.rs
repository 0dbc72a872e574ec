//! `migrate run`: runs one ISA's executable of a build, passing stdin,
//! stdout, stderr and the exit status through.

use crate::cc::link::output_path;
use crate::isa::Toolchain;
use anyhow::{bail, Context, Result};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

/// Runs `BASE.<isa>` with `args`; returns the exit code to exit with
/// (128 + signal number if the program was killed, as shells report it).
pub fn run(t: &dyn Toolchain, base: &Path, args: &[String]) -> Result<i32> {
    let exe = output_path(base, t);
    if !exe.is_file() {
        bail!(
            "{}: no such executable (build it with `migrate cc -o {}`)",
            exe.display(),
            base.display()
        );
    }
    let mut cmd = match t.runner() {
        Some(runner) => {
            let mut c = Command::new(runner);
            c.arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args(args);
    let status = cmd.status().with_context(|| {
        format!(
            "cannot start {} (scripts/setup.sh installs qemu-user)",
            crate::tools::describe(&cmd)
        )
    })?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}
