//! `migrate restore IMAGE`: continues a checkpointed program on the ISA the
//! image was taken on (aarch64 under qemu-aarch64).
//!
//! The image names the executable it was taken from; that file (or the one
//! given with `--exe`) must be the same build, which the build-id proves.
//! The executable is started with LANDMARK_RESTORE=IMAGE, and landmark-rt
//! maps the image back before the program's own code runs
//! (landmark-rt/src/restore.c). stdin, stdout and stderr are this
//! process's; if stdin is the regular file the program was reading, it
//! continues at the offset it had reached. The restored program can be
//! asked for its next checkpoint as `migrate run` asks (hits counted from
//! the restore).

use crate::checkpoint::Request;
use crate::{isa, process};
use anyhow::{anyhow, bail, Context, Result};
use migrate_format::image::{build_id_of, elf_arch, hex, FileKind, Image};
use std::path::Path;

/// Checks `image` (with `verify`, its memory against its checksums too)
/// against the executable and its open files, then runs the restore;
/// returns the program's exit code.
pub fn restore(
    image_path: &Path,
    exe: Option<&Path>,
    verify: bool,
    next: Option<&Request>,
) -> Result<i32> {
    let image = Image::read(image_path)?;
    if verify {
        image.verify_memory()?;
    }
    let exe = exe.unwrap_or(&image.executable);
    if !exe.is_file() {
        bail!(
            "{}: the executable it was taken from, {}, is not there (give it with --exe)",
            image_path.display(),
            exe.display()
        );
    }
    // Read once for every check below.
    let exe_bytes = std::fs::read(exe).with_context(|| format!("cannot read {}", exe.display()))?;
    // Before anything runs: an image whose ISA is not the executable's
    // would start the executable under the wrong runner.
    let exe_arch = elf_arch(&exe_bytes)
        .ok_or_else(|| anyhow!("{}: not an executable of a supported ISA", exe.display()))?;
    if exe_arch != image.arch {
        bail!(
            "{}: an {} image, but {} is an {exe_arch} executable (a corrupted image, or the wrong \
             executable)",
            image_path.display(),
            image.arch,
            exe.display()
        );
    }
    fits(&image, exe, &exe_bytes)?;
    for f in &image.files {
        if f.fd > 2 && f.kind != FileKind::Stream && !Path::new(&f.path).exists() {
            bail!(
                "{}: the program had {} open (file descriptor {}), and it is gone",
                image_path.display(),
                f.path,
                f.fd
            );
        }
    }
    let t = isa::of(image.arch);
    let exe = std::path::absolute(exe)?;
    let mut cmd = process::command(t, &exe);
    cmd.env(
        migrate_format::env::RESTORE,
        std::path::absolute(image_path)?,
    );
    let pending = next.map(|r| r.apply(&mut cmd)).transpose()?;
    process::migratable(&mut cmd);
    let (status, pid) = process::run_supervised(&mut cmd)
        .with_context(|| format!("cannot start {}", crate::tools::describe(&cmd)))?;
    let code = process::exit_code(status);
    if let (Some(request), Some(pending)) = (next, pending) {
        // The build's base name, for the hint at `migrate inspect`.
        request.report(pending, code, pid, &exe.with_extension(""))?;
    }
    Ok(code)
}

/// Checks that `exe` (its bytes `exe_bytes`) is the build `image` was
/// taken from (its build-id) and that the image fits it
/// ([`Image::check_against`]).
pub fn fits(image: &Image, exe: &Path, exe_bytes: &[u8]) -> Result<()> {
    let id = object::File::parse(exe_bytes)
        .ok()
        .and_then(|f| build_id_of(&f))
        .ok_or_else(|| anyhow!("{}: has no build-id", exe.display()))?;
    if id != image.build_id {
        bail!(
            "{}: {} is not the build the image was taken from (build-id {}, the image's {})",
            image.path.display(),
            exe.display(),
            hex(&id),
            image.build_id_hex()
        );
    }
    Ok(image.check_against(exe_bytes)?)
}
