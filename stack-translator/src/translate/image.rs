//! The destination image: the source image's memory with its stack
//! rebuilt, and every note in the destination ISA's form.

use super::destination::{self, DestinationStack, StartFrame};
use super::live_memory::{self, StackAddress};
use super::{jmp_bufs, process, source, TranslateError};
use crate::isa;
use crate::records::Executable;
use migrate_format::image::notes::*;
use migrate_format::image::{Contents, Image, ImageWriter, Note, Segment, WalkedFrame};
use std::collections::HashMap;
use std::path::Path;

/// One executable of the pair: parsed, its bytes, its path, and what the
/// translator looks up in it (read once: a translation should not cost a
/// pass over the symbol table, and `migrate mtd` translates many times with
/// the same two executables).
pub struct Side<'a> {
    pub exe: &'a Executable,
    pub bytes: &'a [u8],
    pub path: &'a Path,
    symbols: HashMap<&'static str, u64>,
    frame_rules: Vec<migrate_format::frames::FrameRule>,
    initial_data: Vec<(u64, Vec<u8>)>,
    build_id: Vec<u8>,
    /// Where this executable's initial data differs from the source's
    /// (the source's path), once worked out.
    differences: std::sync::OnceLock<(std::path::PathBuf, Vec<Difference>)>,
    /// What scans of one image file found, if its keeper asked for it
    /// ([`Side::keep_scans`]); shared by the sides it was asked for.
    scans: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<live_memory::ScanCache>>>,
}

impl<'a> Side<'a> {
    /// Reads what the translator needs from `bytes`, the ELF file of `exe`.
    pub fn new(
        exe: &'a Executable,
        bytes: &'a [u8],
        path: &'a Path,
    ) -> Result<Self, TranslateError> {
        use object::{Object, ObjectSection};
        let bad = |why: String| TranslateError::Inconsistent(format!("{}: {why}", path.display()));
        let file = object::File::parse(bytes).map_err(|e| bad(e.to_string()))?;
        let table = file
            .section_by_name(migrate_format::frames::SECTION)
            .and_then(|s| s.data().ok())
            .ok_or_else(|| bad("no frame table".into()))?;
        let frame_rules = migrate_format::frames::decode(table).map_err(|e| bad(e.to_string()))?;
        let build_id =
            migrate_format::image::build_id_of(&file).ok_or_else(|| bad("no build-id".into()))?;
        Ok(Side {
            exe,
            bytes,
            path,
            symbols: symbols(&file, &SYMBOLS),
            frame_rules,
            initial_data: initial_data(&file),
            build_id,
            differences: std::sync::OnceLock::new(),
            scans: std::sync::OnceLock::new(),
        })
    }

    /// From now on, translations from any of `sides` keep what their scans
    /// of memory found ([`live_memory::ScanCache`], one for all of them: a
    /// file's bytes are the same whichever side reads them) and read again
    /// only pages not known. The caller takes on saying, before each
    /// translation, what changed in the image file since the last one
    /// ([`Side::forget_changed`], [`Side::forget`]) (`migrate mtd`). A side
    /// that keeps scans already keeps its own.
    pub fn keep_scans(sides: &[&Side]) {
        let text = sides
            .iter()
            .map(|s| live_memory::text_range(&jmp_bufs::setjmp_return_addresses(s.exe)))
            .reduce(|a, b| match (a.is_empty(), b.is_empty()) {
                (true, _) => b,
                (_, true) => a,
                _ => a.start.min(b.start)..a.end.max(b.end),
            })
            .unwrap_or(0..0);
        let cache = std::sync::Arc::new(std::sync::Mutex::new(live_memory::ScanCache::new(text)));
        for side in sides {
            let _ = side.scans.set(cache.clone());
        }
    }

    /// See [`live_memory::ScanCache::forget_changed`].
    pub fn forget_changed(&self, image: &Image) {
        if let Some(c) = self.scans.get() {
            c.lock()
                .unwrap_or_else(|e| e.into_inner())
                .forget_changed(image);
        }
    }

    /// See [`live_memory::ScanCache::forget`].
    pub fn forget(&self, ranges: &[(u64, u64)]) {
        if let Some(c) = self.scans.get() {
            c.lock().unwrap_or_else(|e| e.into_inner()).forget(ranges);
        }
    }

    /// The executable's frame table (sorted by return address).
    pub fn frame_rules(&self) -> &[migrate_format::frames::FrameRule] {
        &self.frame_rules
    }

    fn symbol(&self, name: &str) -> Result<u64, TranslateError> {
        self.symbols.get(name).copied().ok_or_else(|| {
            TranslateError::Inconsistent(format!("{}: no symbol {name}", self.path.display()))
        })
    }
}

/// A translated image, ready to write.
pub struct Translated {
    notes: Vec<Note>,
    segments: Vec<(Segment, Data)>,
    /// The destination's frames, innermost first.
    pub frames: Vec<destination::DestinationFrame>,
    /// How many live `jmp_buf`s were translated.
    pub jmp_bufs: usize,
}

enum Data {
    NotSaved,
    Source,
    /// The source's bytes with these written over them (each inside the
    /// segment): a few words of a segment that may be most of the image.
    Patched(Vec<(u64, Vec<u8>)>),
    Owned(Vec<u8>),
}

impl Translated {
    /// The memory this translation changes (the rebuilt stack, the words
    /// patched), as [start, end) ranges.
    pub fn changed(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for (s, d) in &self.segments {
            match d {
                Data::Owned(_) => out.push((s.address, s.address + s.size)),
                Data::Patched(patches) => {
                    out.extend(patches.iter().map(|(a, b)| (*a, a + b.len() as u64)))
                }
                Data::NotSaved | Data::Source => {}
            }
        }
        out
    }

    /// The writer of the destination image (memory not rebuilt is copied
    /// from `source`, the image translated).
    pub fn writer<'a>(&'a self, source: &'a Image, arch: migrate_format::Arch) -> ImageWriter<'a> {
        let mut w = ImageWriter::new(arch);
        for n in &self.notes {
            w.note(n.clone());
        }
        for (s, d) in &self.segments {
            let contents = match d {
                Data::NotSaved => Contents::NotSaved,
                Data::Source => Contents::From(source),
                Data::Patched(patches) => Contents::Patched(source, patches),
                Data::Owned(bytes) => Contents::Bytes(bytes),
            };
            w.segment(s.clone(), contents);
        }
        w
    }
}

/// The addresses of the named symbols (local ones too) in an ELF file.
fn symbols(file: &object::File, names: &[&'static str]) -> HashMap<&'static str, u64> {
    use object::{Object, ObjectSymbol};
    let mut out = HashMap::new();
    for s in file.symbols() {
        // Bytes, not `name()`: checking every symbol name as UTF-8 was most
        // of a small translation's time.
        let Ok(name) = s.name_bytes() else { continue };
        if let Some(n) = names.iter().find(|n| name == n.as_bytes()) {
            out.entry(*n).or_insert(s.address());
        }
    }
    out
}

const MAIN_RETURNED: &str = "__landmark_main_returned";
/// The unsafe stack pointer (landmark-rt's unsafe_stack.c).
const UNSAFE_SP: &str = "__landmark_unsafe_sp";
const RESTORE_RT: &str = "__restore_rt";
/// musl's cached clock_gettime entry point (src/time/clock_gettime.c) and
/// its initial value.
const VDSO_FUNC: &str = "vdso_func";
const CGT_INIT: &str = "cgt_init";
/// Every symbol the translator looks up.
const SYMBOLS: [&str; 5] = [MAIN_RETURNED, RESTORE_RT, VDSO_FUNC, CGT_INIT, UNSAFE_SP];

/// Translates `image`, taken from `from`, for `to`.
pub fn translate(image: &Image, from: &Side, to: &Side) -> Result<Translated, TranslateError> {
    let (src_isa, dst_isa) = (isa::of(from.exe.isa), isa::of(to.exe.isa));
    if from.exe.table.sites != to.exe.table.sites {
        return Err(TranslateError::Inconsistent(format!(
            "{} and {} are not the two executables of one build (their call sites differ)",
            from.path.display(),
            to.path.display()
        )));
    }
    let (src_syms, dst_syms) = (&from.symbols, &to.symbols);
    let frames = source::frames(image, from.exe, src_isa)?;
    let unsafe_sp = match src_syms.get(UNSAFE_SP) {
        Some(&at) => Some(
            image
                .read_u64(at)
                .map_err(|e| TranslateError::Inconsistent(e.to_string()))?,
        ),
        None => None,
    };
    let returns = jmp_bufs::setjmp_returns(&frames, from.exe)?;
    let stack = frames[0].sp..frames[frames.len() - 1].cfa;
    let found = live_memory::scan(
        image,
        &live_memory::ranges(image, unsafe_sp),
        &returns,
        stack,
        from.scans.get().map(|c| &**c),
    )?;
    let jmp_bufs = jmp_bufs::at(image, &frames, from.exe, src_isa, &found.returns)?;
    let buffers: Vec<(u64, u64)> = jmp_bufs
        .iter()
        .map(|j| (j.address, src_isa.jmp_buf().size as u64))
        .collect();
    no_stack_pointers_in_memory(&frames, &found.stack_addresses, &buffers)?;
    let start = StartFrame {
        main_returned: to.symbol(MAIN_RETURNED)?,
        canary: image.thread.0.canary,
    };
    let stack = destination::build(
        &frames,
        &jmp_bufs,
        &to.frame_rules,
        to.exe,
        dst_isa,
        &start,
        image.state.stack_lo,
    )?;
    let main_cfa = frames.last().expect("an image has frames").cfa;

    // Memory: the stack rebuilt, musl's cached vDSO entry point reset.
    let mut patches: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut vdso_reset = false;
    if let (Some(&at), Some(&init)) = (dst_syms.get(VDSO_FUNC), dst_syms.get(CGT_INIT)) {
        let src_init = src_syms.get(CGT_INIT).copied();
        let now = image
            .read_u64(at)
            .map_err(|e| TranslateError::Inconsistent(e.to_string()))?;
        if Some(now) != src_init || src_init != Some(init) {
            patches.push((at, init.to_le_bytes().to_vec()));
            vdso_reset = true;
        }
    }
    patches.extend(isa_specific_data(image, from, to)?);
    // Zeros where the source's setjmp wrote more than the destination's
    // (aarch64 saves 176 bytes, x86_64 64): a stack pointer left there would
    // look live to the next translation.
    let span = src_isa.jmp_buf().size.max(dst_isa.jmp_buf().size);
    patches.extend(stack.jmp_bufs.iter().map(|(at, bytes)| {
        let mut b = bytes.clone();
        b.resize(span, 0);
        (*at, b)
    }));
    let segments = segments(image, &stack, main_cfa, &patches)?;

    // Notes, in the runtime's order.
    let mut notes = Vec::new();
    let note = |name: &str, kind: u32, desc: Vec<u8>| Note::new(name, kind, desc);
    let src_note = |name: &str, kind: u32| {
        image
            .notes
            .iter()
            .find(|n| n.name == name.as_bytes() && n.kind == kind)
            .map(|n| n.desc.clone())
            .unwrap_or_default()
    };
    notes.push(note(
        "CORE",
        NT_PRSTATUS,
        process::prstatus(dst_isa, &src_note("CORE", NT_PRSTATUS), &stack.registers),
    ));
    notes.push(note("CORE", NT_PRPSINFO, src_note("CORE", NT_PRPSINFO)));
    notes.push(note(
        "CORE",
        NT_FPREGSET,
        process::fpregset(dst_isa, image.arch, &image.fp_registers, &stack.registers),
    ));
    notes.push(note("GNU", NT_GNU_BUILD_ID, to.build_id.clone()));
    let mut state = image.state;
    if vdso_reset {
        state.vdso = 0; // restore's "no vDSO pointer to keep"
    }
    notes.push(note(
        NOTE_NAME,
        NOTE_STATE,
        migrate_format::CStruct::to_bytes(&state),
    ));
    let mut exe = to.path.as_os_str().as_encoded_bytes().to_vec();
    exe.push(0);
    notes.push(note(NOTE_NAME, NOTE_EXE, exe));
    notes.push(note(NOTE_NAME, NOTE_CWD, src_note(NOTE_NAME, NOTE_CWD)));
    let files: Vec<OpenFile> = image
        .files
        .iter()
        .map(|f| OpenFile {
            flags: process::open_flags(f.flags, image.arch, to.exe.isa),
            ..f.clone()
        })
        .collect();
    notes.push(note(NOTE_NAME, NOTE_FILES, encode_files(&files)));
    let (src_rt, dst_rt) = (src_syms.get(RESTORE_RT), dst_syms.get(RESTORE_RT));
    let signals = image
        .signals
        .iter()
        .map(|s| {
            let restorer = match (src_rt, dst_rt) {
                (Some(&a), Some(&b)) => process::restorer(s.restorer, a, b, s.signo)?,
                _ if s.restorer == 0 => 0,
                _ => {
                    return Err(TranslateError::Inconsistent(
                        "a signal handler, and no __restore_rt in an executable".into(),
                    ))
                }
            };
            Ok(ImageSignal { restorer, ..*s })
        })
        .collect::<Result<Vec<_>, _>>()?;
    notes.push(note(NOTE_NAME, NOTE_SIGNALS, encode_array(&signals)));
    let walked: Vec<WalkedFrame> = stack
        .frames
        .iter()
        .map(|f| WalkedFrame {
            pc: f.pc,
            sp: f.sp,
            call_site: f.call_site,
            pad: 0,
        })
        .collect();
    notes.push(note(NOTE_NAME, NOTE_FRAMES, encode_array(&walked)));
    notes.push(note(
        NOTE_NAME,
        NOTE_THREAD,
        src_note(NOTE_NAME, NOTE_THREAD),
    ));
    let source = std::path::absolute(&image.path).unwrap_or_else(|_| image.path.clone());
    let mut from_note = format!("{}\0", image.arch.name()).into_bytes();
    from_note.extend_from_slice(source.as_os_str().as_encoded_bytes());
    from_note.push(0);
    notes.push(note(NOTE_NAME, NOTE_TRANSLATED, from_note));
    Ok(Translated {
        notes,
        segments,
        frames: stack.frames,
        jmp_bufs: stack.jmp_bufs.len(),
    })
}

/// Refuses an image whose memory outside the frames' explained locations
/// holds an address inside the frames being rebuilt: such a pointer would
/// have to move with its frame, and nothing says it is a pointer. Checked:
/// the stack allocations in use, and `in_live_memory` (what the scan of
/// live memory found) but for the translated `jmp_bufs` (address, size).
fn no_stack_pointers_in_memory(
    frames: &[source::SourceFrame],
    in_live_memory: &[StackAddress],
    jmp_bufs: &[(u64, u64)],
) -> Result<(), TranslateError> {
    let stack = frames[0].sp..frames[frames.len() - 1].cfa;
    let mut in_allocas = Vec::new();
    for f in frames {
        for (at, bytes) in f.allocas.values() {
            live_memory::words(*at, bytes, |word, value| {
                if stack.contains(&value) {
                    in_allocas.push(StackAddress {
                        at: word,
                        value,
                        place: "a stack allocation in use",
                    });
                }
            });
        }
    }
    let in_a_jmp_buf = |word: u64| jmp_bufs.iter().any(|&(a, n)| (a..a + n).contains(&word));
    match in_allocas
        .iter()
        .chain(in_live_memory)
        .find(|s| !in_a_jmp_buf(s.at))
    {
        Some(s) => Err(TranslateError::StackPointerInMemory {
            at: s.at,
            value: s.value,
            place: s.place,
        }),
        None => Ok(()),
    }
}

/// Each writable segment of an executable as it starts: its file bytes,
/// then zeros (bss).
fn initial_data(file: &object::File) -> Vec<(u64, Vec<u8>)> {
    use object::{Object, ObjectSegment, SegmentFlags};
    file.segments()
        .filter(|s| matches!(s.flags(), SegmentFlags::Elf { p_flags } if p_flags & object::elf::PF_W != 0))
        .map(|s| {
            let mut data = s.data().unwrap_or(&[]).to_vec();
            data.resize(s.size() as usize, 0);
            (s.address(), data)
        })
        .collect()
}

/// A range of initial data the two executables start differently.
#[derive(Debug, Clone)]
struct Difference {
    at: u64,
    /// The source executable's initial bytes there.
    theirs: Vec<u8>,
    /// The destination's.
    ours: Vec<u8>,
}

/// Where `to`'s initial data differs from `from`'s: fixed for a pair of
/// executables, so worked out once per destination [`Side`] (a long-running
/// translator moves one program many times; comparing a large program's
/// data segments, .bss included, took most of a translation).
fn differences<'s>(from: &Side, to: &'s Side) -> &'s [Difference] {
    let (path, diffs) = to
        .differences
        .get_or_init(|| (from.path.to_path_buf(), data_differences(from, to)));
    debug_assert_eq!(path, from.path, "one destination side, one source");
    diffs
}

fn data_differences(from: &Side, to: &Side) -> Vec<Difference> {
    const BLOCK: usize = 4096;
    let source = &from.initial_data;
    // The source's initial byte at `a` (0 where it has no data).
    let source_at = |a: u64| -> u8 {
        source
            .iter()
            .find(|(at, d)| a >= *at && a < at + d.len() as u64)
            .map_or(0, |(at, d)| d[(a - at) as usize])
    };
    let mut out = Vec::new();
    for (at, data) in &to.initial_data {
        let at = *at;
        // The source's bytes over the same range.
        let copied: Vec<u8>;
        let theirs: &[u8] = match source
            .iter()
            .find(|(s, d)| *s <= at && at + data.len() as u64 <= s + d.len() as u64)
        {
            Some((s, d)) => &d[(at - s) as usize..(at - s) as usize + data.len()],
            None => {
                copied = (0..data.len() as u64).map(|k| source_at(at + k)).collect();
                &copied
            }
        };
        // Block by block (a memcmp), byte by byte only where a block differs.
        let mut i = 0;
        while i < data.len() {
            let block = BLOCK.min(data.len() - i);
            if theirs[i..i + block] == data[i..i + block] {
                i += block;
                continue;
            }
            let end = i + block;
            while i < end {
                if theirs[i] == data[i] {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j < data.len() && theirs[j] != data[j] {
                    j += 1;
                }
                out.push(Difference {
                    at: at + i as u64,
                    theirs: theirs[i..j].to_vec(),
                    ours: data[i..j].to_vec(),
                });
                i = j;
            }
        }
    }
    out
}

/// The bytes of the data segments that differ between the two executables
/// from the start: what the linker made for one ISA (GOT entries for the
/// addresses aarch64 code loads, objects only one ISA's libc has). Where the
/// program left them as they started, the destination's are put in; where
/// it changed them, nothing can say what they should be: refused.
fn isa_specific_data(
    image: &Image,
    from: &Side,
    to: &Side,
) -> Result<Vec<(u64, Vec<u8>)>, TranslateError> {
    let mut out = Vec::new();
    for d in differences(from, to) {
        let now = image
            .read_memory(d.at, d.theirs.len())
            .map_err(|e| TranslateError::Inconsistent(e.to_string()))?;
        if now != d.theirs {
            return Err(TranslateError::Inconsistent(format!(
                "the data at {:#x} ({} bytes) starts differently on each ISA and the program \
                 changed it",
                d.at,
                d.theirs.len()
            )));
        }
        out.push((d.at, d.ours.clone()));
    }
    Ok(out)
}

const PAGE: u64 = 4096;

/// The source's segments with the stack's replaced (the rebuilt frames
/// below `main`'s CFA, the source's bytes above) and `patches` applied.
fn segments(
    image: &Image,
    stack: &DestinationStack,
    main_cfa: u64,
    patches: &[(u64, Vec<u8>)],
) -> Result<Vec<(Segment, Data)>, TranslateError> {
    let (lo, hi) = (image.state.stack_lo, image.state.stack_hi);
    let err = |e: migrate_format::Error| TranslateError::Inconsistent(e.to_string());
    let saved_from = image
        .segments
        .iter()
        .filter(|s| s.saved && s.address >= lo && s.address < hi)
        .map(|s| s.address)
        .min()
        .unwrap_or(hi);
    let start = (stack.low.min(saved_from)) & !(PAGE - 1);
    let mut bytes = vec![0u8; (hi - start) as usize];
    let above = (main_cfa - start) as usize;
    bytes[above..].copy_from_slice(
        &image
            .read_memory(main_cfa, (hi - main_cfa) as usize)
            .map_err(err)?,
    );
    let low = (stack.low - start) as usize;
    bytes[low..above].copy_from_slice(&stack.bytes);
    let stack_segment = |address: u64, size: u64, saved: bool| Segment {
        address,
        size,
        offset: 0,
        saved,
        read: true,
        write: true,
        execute: false,
    };
    let mut out = Vec::new();
    let mut placed_stack = false;
    for s in &image.segments {
        if s.address >= lo && s.address < hi {
            if !placed_stack {
                if start > lo {
                    out.push((stack_segment(lo, start - lo, false), Data::NotSaved));
                }
                out.push((
                    stack_segment(start, hi - start, true),
                    Data::Owned(std::mem::take(&mut bytes)),
                ));
                placed_stack = true;
            }
            continue;
        }
        let mine: Vec<&(u64, Vec<u8>)> = patches
            .iter()
            .filter(|(at, b)| *at >= s.address && at + b.len() as u64 <= s.address + s.size)
            .collect();
        if mine.is_empty() || !s.saved {
            let data = if s.saved {
                Data::Source
            } else {
                Data::NotSaved
            };
            out.push((s.clone(), data));
            continue;
        }
        out.push((
            s.clone(),
            Data::Patched(mine.into_iter().cloned().collect()),
        ));
    }
    Ok(out)
}
