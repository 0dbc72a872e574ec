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
/// With `stats`, landmark-rt writes its statistics there as JSON
/// (`landmark_hits`, `max_interval_us`, ...; see landmark-rt's `landmark.c`)
/// when the program exits.
pub fn run(t: &dyn Toolchain, base: &Path, args: &[String], stats: Option<&Path>) -> Result<i32> {
    // Absolute, so that a bare name is not looked up in PATH.
    let exe = std::path::absolute(output_path(base, t))?;
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
    let stats = stats.map(std::path::absolute).transpose()?;
    if let Some(path) = &stats {
        let _ = std::fs::remove_file(path);
        cmd.env(STATS_ENV, path);
    }
    let status = cmd.status().with_context(|| {
        let hint = if t.runner().is_some() {
            " (scripts/setup.sh installs qemu-user)"
        } else {
            ""
        };
        format!("cannot start {}{hint}", crate::tools::describe(&cmd))
    })?;
    if let Some(path) = &stats {
        if !path.exists() {
            eprintln!(
                "migrate: warning: the program wrote no landmark statistics to {} (it ended without \
                 running exit handlers, or was built without landmarks)",
                path.display()
            );
        }
    }
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Environment variable through which landmark-rt learns where to write
/// statistics (landmark-rt/src/landmark.c).
pub const STATS_ENV: &str = "LANDMARK_STATS";
