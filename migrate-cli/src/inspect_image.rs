//! `migrate inspect IMAGE`: what a checkpoint image holds (memory regions,
//! registers, frames, open files, the landmark, the build-id), as text or
//! JSON. Frames and the landmark are named from the executable when it is
//! the image's build.

use anyhow::Result;
use migrate_format::image::{
    executable_build_id, FileKind, Image, ImageSignal, ImageState, OpenFile,
};
use serde::Serialize;
use stack_translator::records::{site_description, Executable};
use std::io::Write;
use std::path::Path;

use migrate_format::window::{ARENA_START, MAX_STACK_SIZE, UNSAFE_STACK_TOP};

#[derive(Serialize)]
struct ImageView {
    image: String,
    isa: &'static str,
    file_size: u64,
    saved_bytes: u64,
    /// Laid out at its addresses (a sparse file `migrate mtd` keeps up to
    /// date in place).
    at_addresses: bool,
    /// Saved bytes whose checksum was not computed (written in place).
    unsummed_bytes: u64,
    executable: String,
    build_id: String,
    /// Whether the executable at that path is still the same build (None:
    /// it is not there).
    executable_matches: Option<bool>,
    integrity: IntegrityView,
    landmark: LandmarkView,
    registers: Vec<RegisterView>,
    frames: Vec<FrameView>,
    regions: Vec<RegionView>,
    files: Vec<OpenFile>,
    signals: Vec<ImageSignal>,
    cwd: String,
    /// For a translated image: the ISA and path of the image it came from.
    translated_from: Option<(String, String)>,
    state: ImageState,
}

/// What was checked of the image's checksums: the headers' always (the
/// image is not shown otherwise), the memory's with `--verify`.
#[derive(Serialize)]
struct IntegrityView {
    headers_verified: bool,
    /// Bytes of memory checked against their checksums (None: not asked).
    memory_verified_bytes: Option<u64>,
}

#[derive(Serialize)]
struct LandmarkView {
    call_site: u32,
    description: Option<String>,
    hits: u64,
}

#[derive(Serialize)]
struct RegisterView {
    name: &'static str,
    value: u64,
}

#[derive(Serialize)]
struct FrameView {
    pc: u64,
    sp: u64,
    call_site: u32,
    function: Option<String>,
    description: Option<String>,
}

#[derive(Serialize)]
struct RegionView {
    start: u64,
    end: u64,
    permissions: String,
    saved: bool,
    kind: &'static str,
}

/// Shows the image at `path`; with `verify`, after checking its memory
/// against its checksums (an error if it does not match).
pub fn main(path: &Path, json: bool, verify: bool) -> Result<i32> {
    let image = Image::read(path)?;
    let verified = verify.then(|| image.verify_memory()).transpose()?;
    let view = view(&image, verified);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &view)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &view)?;
    }
    Ok(0)
}

fn view(image: &Image, memory_verified_bytes: Option<u64>) -> ImageView {
    let matches = executable_build_id(&image.executable)
        .ok()
        .map(|id| id == image.build_id);
    let exe = (matches == Some(true))
        .then(|| Executable::read(&image.executable, image.arch).ok())
        .flatten();
    let describe = |id: u32| {
        exe.as_ref()
            .and_then(|e| e.table.get(u64::from(id)))
            .map(site_description)
    };
    let s = &image.state;
    ImageView {
        image: image.path.display().to_string(),
        isa: image.arch.name(),
        file_size: image.file_size(),
        saved_bytes: image.saved_bytes(),
        at_addresses: image.at_addresses(),
        unsummed_bytes: image
            .segments
            .iter()
            .zip(&image.memory_checksums)
            .filter(|(s, &sum)| s.saved && sum == migrate_format::image::integrity::NOT_SUMMED)
            .map(|(s, _)| s.size)
            .sum(),
        executable: image.executable.display().to_string(),
        build_id: image.build_id_hex(),
        executable_matches: matches,
        integrity: IntegrityView {
            headers_verified: true,
            memory_verified_bytes,
        },
        landmark: LandmarkView {
            call_site: s.call_site,
            description: describe(s.call_site),
            hits: s.hits,
        },
        registers: image
            .registers
            .iter()
            .map(|&(name, value)| RegisterView { name, value })
            .collect(),
        frames: image
            .frames
            .iter()
            .map(|f| FrameView {
                pc: f.pc,
                sp: f.sp,
                call_site: f.call_site,
                function: exe
                    .as_ref()
                    .and_then(|e| e.function_at(f.pc))
                    .and_then(|(_, names, _)| names.first().cloned()),
                description: describe(f.call_site),
            })
            .collect(),
        regions: image
            .segments
            .iter()
            .map(|seg| RegionView {
                start: seg.address,
                end: seg.address + seg.size,
                permissions: format!(
                    "{}{}{}",
                    if seg.read { 'r' } else { '-' },
                    if seg.write { 'w' } else { '-' },
                    if seg.execute { 'x' } else { '-' }
                ),
                saved: seg.saved,
                kind: region_kind(seg.address, seg.address + seg.size, s),
            })
            .collect(),
        files: image.files.clone(),
        signals: image.signals.clone(),
        cwd: image.cwd.display().to_string(),
        translated_from: image.translated_from.clone(),
        state: *s,
    }
}

/// What a region holds. qemu-user reports the executable's bss and the brk
/// heap after it as one mapping: "data + heap (brk)".
fn region_kind(start: u64, end: u64, s: &ImageState) -> &'static str {
    let in_brk = start < s.brk && end > s.brk_start;
    if start >= s.stack_lo && start < s.stack_hi {
        "stack"
    } else if in_brk && start < s.brk_start {
        "data + heap (brk)"
    } else if in_brk {
        "heap (brk)"
    } else if (UNSAFE_STACK_TOP - MAX_STACK_SIZE..UNSAFE_STACK_TOP).contains(&start) {
        "unsafe stack (stack objects)"
    } else if start >= ARENA_START {
        "heap (mmap)"
    } else {
        "data"
    }
}

fn print_text(out: &mut impl Write, v: &ImageView) -> Result<()> {
    use crate::checkpoint::human_bytes;
    let file = if v.at_addresses {
        "laid out at its addresses (sparse)".to_string()
    } else {
        format!("{} file", human_bytes(v.file_size))
    };
    writeln!(
        out,
        "image:      {} ({} image, {file}, {} of memory saved)",
        v.image,
        v.isa,
        human_bytes(v.saved_bytes)
    )?;
    let status = match v.executable_matches {
        Some(true) => "same build",
        Some(false) => "ANOTHER BUILD now",
        None => "not there now",
    };
    writeln!(out, "executable: {} ({status})", v.executable)?;
    writeln!(out, "build-id:   {}", v.build_id)?;
    let memory = match v.integrity.memory_verified_bytes {
        Some(n) => format!("memory verified ({})", human_bytes(n)),
        None => "memory not verified (--verify reads it all)".to_string(),
    };
    let memory = if v.unsummed_bytes > 0 {
        format!(
            "{memory}; {} written in place has no checksum",
            human_bytes(v.unsummed_bytes)
        )
    } else {
        memory
    };
    writeln!(
        out,
        "checksums:  headers, notes and registers verified; {memory}"
    )?;
    writeln!(
        out,
        "landmark:   {}, landmark hit {}",
        v.landmark
            .description
            .clone()
            .unwrap_or_else(|| format!("call site {}", v.landmark.call_site)),
        v.landmark.hits
    )?;
    writeln!(out, "cwd:        {}", v.cwd)?;
    if let Some((isa, path)) = &v.translated_from {
        writeln!(out, "translated: from an {isa} image, {path}")?;
    }
    writeln!(out, "frames (innermost first):")?;
    for (i, f) in v.frames.iter().enumerate() {
        writeln!(
            out,
            "  #{i:<3} pc {:#x} sp {:#x}  {}  {}",
            f.pc,
            f.sp,
            f.function.as_deref().unwrap_or("?"),
            f.description
                .clone()
                .unwrap_or_else(|| format!("call site {}", f.call_site))
        )?;
    }
    writeln!(out, "registers:")?;
    for chunk in v.registers.chunks(4) {
        let line: Vec<String> = chunk
            .iter()
            .map(|r| format!("{:>8} {:#018x}", r.name, r.value))
            .collect();
        writeln!(out, " {}", line.join(" "))?;
    }
    writeln!(out, "memory:")?;
    for r in &v.regions {
        writeln!(
            out,
            "  {:#014x}-{:#014x} {} {:>10} {}{}",
            r.start,
            r.end,
            r.permissions,
            human_bytes(r.end - r.start),
            r.kind,
            if r.saved { "" } else { " (not saved: zero)" }
        )?;
    }
    writeln!(
        out,
        "  heap break {:#x} (started at {:#x}); stack {:#x}-{:#x}",
        v.state.brk, v.state.brk_start, v.state.stack_lo, v.state.stack_hi
    )?;
    writeln!(out, "files:")?;
    for f in &v.files {
        match f.kind {
            FileKind::Stream => writeln!(out, "  fd {:<3} {} (the restorer's own)", f.fd, f.path)?,
            _ => writeln!(
                out,
                "  fd {:<3} {} ({:?}, flags {:#o}, offset {})",
                f.fd, f.path, f.kind, f.flags, f.offset
            )?,
        }
    }
    if !v.signals.is_empty() {
        let list: Vec<String> = v
            .signals
            .iter()
            .map(|s| format!("{} -> {:#x}", s.signo, s.handler))
            .collect();
        writeln!(out, "signal handlers: {}", list.join(", "))?;
    }
    Ok(())
}
