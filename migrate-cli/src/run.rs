//! `migrate run`: runs one ISA's executable of a build, passing stdin,
//! stdout, stderr and the exit status through; optionally asks it for a
//! checkpoint.

use crate::cc::link::output_path;
use crate::checkpoint::Request;
use crate::isa::Toolchain;
use crate::process;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Runs `BASE.<isa>` with `args`; returns the exit code to exit with
/// (128 + signal number if the program was killed, as shells report it).
/// With `stats`, landmark-rt writes its statistics there as JSON
/// (`landmark_hits`, `max_interval_us`, ...; see landmark-rt's `landmark.c`)
/// when the program exits. With `checkpoint`, landmark-rt writes an image
/// when asked and (unless told to keep running) the program ends there;
/// a run that ends without writing the image is an error.
pub fn run(
    t: &dyn Toolchain,
    base: &Path,
    args: &[String],
    stats: Option<&Path>,
    checkpoint: Option<&Request>,
) -> Result<i32> {
    // Absolute, so that a bare name is not looked up in PATH.
    let exe = std::path::absolute(output_path(base, t.arch()))?;
    if !exe.is_file() {
        bail!(
            "{}: no such executable (build it with `migrate cc -o {}`)",
            exe.display(),
            base.display()
        );
    }
    let mut cmd = process::command(t, &exe);
    cmd.args(args);
    let stats = stats.map(std::path::absolute).transpose()?;
    if let Some(path) = &stats {
        let _ = std::fs::remove_file(path);
        cmd.env(migrate_format::env::STATS, path);
    }
    let pending = checkpoint.map(|r| r.apply(&mut cmd)).transpose()?;
    process::migratable(&mut cmd);
    let (status, pid) = process::run_supervised(&mut cmd).with_context(|| {
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
    let code = process::exit_code(status);
    if let (Some(request), Some(pending)) = (checkpoint, pending) {
        request.report(pending, code, pid, base)?;
    }
    Ok(code)
}

/// `migrate run --migrate-at N --to ISA`: runs `BASE.<isa>` until its
/// checkpoint (`request`, whose image goes to a temporary directory), then
/// translates the image for `to` and continues the program there with the
/// same stdin, stdout and stderr; returns the program's exit code.
pub fn run_and_move(
    t: &dyn Toolchain,
    base: &Path,
    args: &[String],
    stats: Option<&Path>,
    mut request: Request,
    to: migrate_format::Arch,
) -> Result<i32> {
    if to == t.arch() {
        bail!("--to {to}: the program already runs on {to} (--arch)");
    }
    let dir = tempfile::Builder::new()
        .prefix("migrate-move-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    request.image = dir.path().join("checkpoint.core");
    let code = run(t, base, args, stats, Some(&request))?;
    if !request.image.exists() {
        return Ok(code); // report() has said why, or the program ended
    }
    let moved = dir.path().join(format!("moved.{}.core", to.name()));
    crate::translate::translate_file(&request.image, to, &moved)?;
    crate::restore::restore(&moved, None, false, None)
}
