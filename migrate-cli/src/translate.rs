//! `migrate translate IMG --to ISA [-o OUT]`: an image taken on one ISA,
//! rewritten for the other (stack-translator's `translate`), for `migrate
//! restore` to continue under the other executable of the same build.
//!
//! The executables are the image's (BASE.x86_64 or BASE.aarch64, its
//! build-id checked) and the other of the pair, BASE.<ISA>. The output is
//! written through a temporary file and renamed into place (mode 0600): an
//! error leaves no file.

use anyhow::{anyhow, bail, Context, Result};
use migrate_format::image::Image;
use migrate_format::{Arch, PerArch};
use stack_translator::records::Executable;
use stack_translator::translate::image::{translate, Side};
use std::path::{Path, PathBuf};

/// The other executable of `exe`'s pair: BASE.<to>.
pub fn partner(exe: &Path, from: Arch, to: Arch) -> Result<PathBuf> {
    let name = exe.to_string_lossy();
    let base = name
        .strip_suffix(&format!(".{}", from.name()))
        .ok_or_else(|| {
            anyhow!(
                "{}: not named BASE.{} as `migrate cc` names it",
                exe.display(),
                from.name()
            )
        })?;
    Ok(PathBuf::from(format!("{base}.{}", to.name())))
}

/// Where `translate` writes by default: IMG's name with the ISA before the
/// extension (`ckpt.core` → `ckpt.aarch64.core`).
pub fn default_output(image: &Path, to: Arch) -> PathBuf {
    let stem = image.file_stem().unwrap_or_default().to_string_lossy();
    let ext = image
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    image.with_file_name(format!("{stem}.{}{ext}", to.name()))
}

/// Both executables of a build, read and parsed once: what a translator
/// needs of them, for translating many images (`migrate mtd` bounces one
/// program many times; reading and parsing SQLite's executables again for
/// every move would cost more than its translation).
pub struct Build {
    files: PerArch<(PathBuf, Vec<u8>, Executable)>,
}

impl Build {
    /// Reads and parses `BASE.x86_64` and `BASE.aarch64`.
    pub fn load(base: &Path) -> Result<Build> {
        let files = PerArch::try_new(|arch| -> Result<_> {
            let path = std::path::absolute(crate::cc::link::output_path(base, arch))?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let exe = Executable::parse(&path, &bytes, arch)?;
            Ok((path, bytes, exe))
        })?;
        Ok(Build { files })
    }

    /// The executable of `arch`.
    pub fn path(&self, arch: Arch) -> &Path {
        &self.files[arch].0
    }

    /// True if the executable of `arch` defines symbol `name`.
    pub fn defines(&self, arch: Arch, name: &str) -> bool {
        use object::{Object, ObjectSymbol};
        object::File::parse(&self.files[arch].1[..])
            .is_ok_and(|f| f.symbols().any(|s| s.name() == Ok(name)))
    }

    /// What the translator keeps of each executable (symbols, frame table,
    /// initial data), built once.
    pub fn sides(&self) -> Result<PerArch<Side<'_>>> {
        Ok(PerArch::try_new(|arch| {
            let (path, bytes, exe) = &self.files[arch];
            Side::new(exe, bytes, path)
        })?)
    }
}

/// What [`translate_with`] wrote.
pub struct Written {
    pub frames: usize,
    pub jmp_bufs: usize,
}

/// Translates `image` (read from `input`) from `from` to `to` and writes
/// it to `output` (atomically, mode 0600), then reads it back and checks it
/// against the destination executable: a translator bug is an error here,
/// not a wrong result later. The image must have been taken under `from`'s
/// executable ([`crate::restore::fits`]).
pub fn translate_with(
    image: &Image,
    input: &Path,
    from: &Side,
    to: &Side,
    output: &Path,
) -> Result<Written> {
    let translated = translate(image, from, to).with_context(|| cannot(input, to))?;
    translated.writer(image, to.exe.isa).write_to(output)?;
    checked(output, to, translated.jmp_bufs).inspect_err(|_| {
        let _ = std::fs::remove_file(output);
    })
}

/// The context of a translation's refusal.
fn cannot(image: &Path, to: &Side) -> String {
    format!("{}: cannot translate it to {}", image.display(), to.exe.isa)
}

/// The translated image at `path`, read back and checked against `to`'s
/// executable: what was written.
fn checked(path: &Path, to: &Side, jmp_bufs: usize) -> Result<Written> {
    let written = Image::read(path)
        .and_then(|w| w.check_against(to.bytes).map(|()| w))
        .map_err(|e| anyhow!("the translated image does not check out (a translator bug): {e}"))?;
    Ok(Written {
        frames: written.frames.len(),
        jmp_bufs,
    })
}

/// What became of a move whose image is translated in its own file.
pub enum Moved {
    /// The file holds the translated image now.
    Written(Written),
    /// The translator refused the move; the file is as it was.
    Refused(anyhow::Error),
}

/// Translates the image at `path` (read as `image`) for `to`, into the same
/// file: in place if it is laid out at its addresses (only the rebuilt
/// stack, the words changed, the headers and notes are written: what
/// `migrate mtd` moves is what the program changed), else as a new file
/// renamed over it. An error once writing has begun is an error, not a
/// refusal: the image is then not to be used.
///
/// Sides that keep their scans ([`Side::keep_scans`]) are told here what
/// changed: what the image says its program wrote, and what this
/// translation writes.
pub fn translate_in_place(image: &Image, path: &Path, from: &Side, to: &Side) -> Result<Moved> {
    for side in [from, to] {
        side.forget_changed(image);
    }
    let translated = match translate(image, from, to) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Moved::Refused(
                anyhow::Error::from(e).context(cannot(path, to)),
            ))
        }
    };
    let writer = translated.writer(image, to.exe.isa);
    let changed = translated.changed();
    for side in [from, to] {
        side.forget(&changed);
    }
    if image.at_addresses() {
        writer.write_in_place(image)?;
    } else {
        writer.write_to(path)?;
    }
    Ok(Moved::Written(checked(path, to, translated.jmp_bufs)?))
}

/// Translates the image at `input` for `to`, written to `output`; returns a
/// line describing what was written.
pub fn translate_file(input: &Path, to: Arch, output: &Path) -> Result<String> {
    let image = Image::read(input)?;
    if image.arch == to {
        bail!(
            "{}: already an {to} image (--to names the ISA to move to: {})",
            input.display(),
            image.arch.other()
        );
    }
    let from_path = image.executable.clone();
    let to_path = partner(&from_path, image.arch, to)?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (from_bytes, to_bytes) = (read(&from_path)?, read(&to_path)?);
    crate::restore::fits(&image, &from_path, &from_bytes)?;
    let from_exe = Executable::parse(&from_path, &from_bytes, image.arch)?;
    let to_exe = Executable::parse(&to_path, &to_bytes, to)?;
    let to_abs = std::path::absolute(&to_path)?;
    let from = Side::new(&from_exe, &from_bytes, &from_path)
        .with_context(|| format!("{}: cannot translate it to {to}", input.display()))?;
    let to_side = Side::new(&to_exe, &to_bytes, &to_abs)
        .with_context(|| format!("{}: cannot translate it to {to}", input.display()))?;
    let written = translate_with(&image, input, &from, &to_side, output)?;
    let buffers = match written.jmp_bufs {
        0 => String::new(),
        1 => ", 1 jmp_buf".to_string(),
        n => format!(", {n} jmp_bufs"),
    };
    Ok(format!(
        "migrate: {} ({}, {} frames{buffers}) translated to {} ({})",
        input.display(),
        image.arch,
        written.frames,
        output.display(),
        to
    ))
}
