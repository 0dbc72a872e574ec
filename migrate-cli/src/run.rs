//! `migrate run`: runs one ISA's executable of a build, passing stdin,
//! stdout, stderr and the exit status through; optionally asks it for a
//! checkpoint.

use crate::cc::link::output_path;
use crate::checkpoint::Request;
use crate::isa::Toolchain;
use crate::process;
use anyhow::{bail, Context, Result};
use std::io::Write;
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

/// What became of one move of [`run_and_move`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Move {
    pub from: migrate_format::Arch,
    pub to: migrate_format::Arch,
    /// The landmark hit the checkpoint was taken at, counted from the
    /// program's start (all legs).
    pub hit: u64,
    /// Why the move was refused (the program then went on where it was),
    /// or None if it moved.
    pub refused: Option<String>,
}

/// `migrate run --migrate-at N --to ISA [--to ISA ...]`: runs `BASE.<isa>`
/// until its checkpoint (`request`, whose image goes to a temporary
/// directory), translates the image for the first of `tos` and continues
/// the program there with the same stdin, stdout and stderr; each later
/// destination is one more leg, checkpointed by the same rule counted from
/// the leg's start. A move the translator refuses is not made: the program
/// continues from the same image where it was, and the reason is said
/// (with `moves`, only written there, one JSON line per move). Returns the
/// program's exit code.
pub fn run_and_move(
    t: &dyn Toolchain,
    base: &Path,
    args: &[String],
    stats: Option<&Path>,
    mut request: Request,
    tos: &[migrate_format::Arch],
    moves: Option<&Path>,
) -> Result<i32> {
    let mut here = t.arch();
    for &to in tos {
        if to == here {
            bail!("--to {to}: the program already runs on {to} at that point");
        }
        here = to;
    }
    let dir = tempfile::Builder::new()
        .prefix("migrate-move-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let leg = |k: usize| dir.path().join(format!("leg{k}.core"));
    request.image = leg(0);
    let mut log = moves
        .map(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {}", p.display()))
        })
        .transpose()?;
    let mut code = run(t, base, args, stats, Some(&request))?;
    let mut here = t.arch();
    for (k, &wanted) in tos.iter().enumerate() {
        // After a refused move the program is still where it was: the next
        // move goes to the other ISA from there.
        let to = if wanted == here { here.other() } else { wanted };
        let image = leg(k);
        if !image.exists() {
            return Ok(code); // report() has said why, or the program ended
        }
        let hit = migrate_format::image::Image::read(&image)
            .map(|i| i.state.hits)
            .unwrap_or(0);
        let moved = dir.path().join(format!("moved{k}.{}.core", to.name()));
        let refused = match crate::translate::translate_file(&image, to, &moved) {
            Ok(_) => None,
            Err(e) => Some(format!("{e:#}")),
        };
        let (next_image, next_arch) = match &refused {
            None => (moved, to),
            Some(why) => {
                if log.is_none() {
                    eprintln!(
                        "migrate: the move from {here} to {to} was refused, and the program \
                         continues on {here}: {why}"
                    );
                }
                (image.clone(), here)
            }
        };
        if let Some(log) = &mut log {
            let line = serde_json::to_string(&Move {
                from: here,
                to,
                hit,
                refused: refused.clone(),
            })?;
            writeln!(log, "{line}")?;
        }
        let next = (k + 1 < tos.len()).then(|| Request {
            image: leg(k + 1),
            ..request.clone()
        });
        code = crate::restore::restore(&next_image, None, false, next.as_ref())?;
        let _ = std::fs::remove_file(&image);
        here = next_arch;
    }
    Ok(code)
}
