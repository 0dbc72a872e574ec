//! Checkpoint images (DESIGN.md decision 6): read by `migrate inspect`,
//! `migrate restore` and the translator, written by landmark-rt's `image.c`
//! and by [`ImageWriter`].
//!
//! An image is an ELF64 core file (`ET_CORE`) of the checkpointing ISA:
//! - program header 0: PT_NOTE, with, in this order,
//!   "CORE" NT_PRSTATUS (registers at the landmark, as if it returned),
//!   "CORE" NT_PRPSINFO (the program's name), "CORE" NT_FPREGSET
//!   (floating-point registers and control state), "GNU" NT_GNU_BUILD_ID
//!   (the executable's build-id), then landmark-rt's ([`notes`]): the
//!   runtime state, the executable's path, the working directory, open
//!   files, signal handlers, and the stack walk that found every frame at
//!   a migratable call site; last, the checksums ([`integrity`]) of the
//!   headers, notes and memory;
//! - then one PT_LOAD per mapping in the migration window (the
//!   executable's read-only segments excluded: they come from the
//!   executable), with `p_filesz` 0 for pages that are not saved
//!   (PROT_NONE, or the stack below the stack pointer), and `p_offset` =
//!   address mod [`IMAGE_ALIGN`] plus a multiple of it, so restore can map
//!   the file.
//!
//! Reading checks every size and offset and the headers' checksum: a
//! truncated or corrupted image is an error that says so, never a panic.
//! [`Image::verify_memory`] checks the memory's checksums too.

mod check;
pub mod integrity;
pub mod notes;
pub mod registers;
mod write;

pub use notes::{FileKind, ImageSignal, ImageState, ImageThread, OpenFile, WalkedFrame};
pub use write::{Contents, ImageWriter};

use crate::c_struct::CStruct;
use crate::error::{Error, Result};
use crate::window::IMAGE_ALIGN;
use crate::Arch;
use notes::*;
use object::elf::{FileHeader64, ProgramHeader64, ET_CORE, PT_LOAD, PT_NOTE};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian as LE;
use serde::Serialize;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Headers and notes are read whole; more than this is not an image of ours.
const MAX_HEADERS: u64 = 16 << 20;

/// A checkpoint image, its headers and notes read; memory is read on demand.
#[derive(Debug)]
pub struct Image {
    pub path: PathBuf,
    pub arch: Arch,
    pub segments: Vec<Segment>,
    /// Every note but the integrity note, in file order, as written (for
    /// re-writing; a writer adds its own integrity note).
    pub notes: Vec<Note>,
    /// Each segment's checksum (of its identity and saved bytes), from the
    /// integrity note; [`Image::verify_memory`] checks them.
    pub memory_checksums: Vec<u64>,
    /// The general registers of NT_PRSTATUS, in the kernel's order, named.
    pub registers: Vec<(&'static str, u64)>,
    /// NT_FPREGSET as written.
    pub fp_registers: Vec<u8>,
    pub build_id: Vec<u8>,
    pub state: ImageState,
    /// Where the executable was when the image was taken.
    pub executable: PathBuf,
    pub cwd: PathBuf,
    pub files: Vec<OpenFile>,
    pub signals: Vec<ImageSignal>,
    /// The runtime's stack walk, innermost frame first.
    pub frames: Vec<WalkedFrame>,
    /// The thread's state and the bytes of its TLS block.
    pub thread: (ImageThread, Vec<u8>),
    /// For a translated image: the ISA and path of the image it was
    /// translated from ([`notes::NOTE_TRANSLATED`]).
    pub translated_from: Option<(String, String)>,
    /// For an image landmark-rt updated in place: the memory it wrote,
    /// as [start, end) ranges; the rest is as the image the program was
    /// restored from had it ([`notes::NOTE_WRITTEN`]).
    pub written: Option<Vec<(u64, u64)>>,
    file: File,
    file_size: u64,
    /// Where the headers and notes end in the file: memory comes after.
    headers_end: u64,
    /// Saved segments of at most [`CACHED_SEGMENT`] bytes, read whole on
    /// their first use (by index in `segments`): the translator reads a
    /// stack word by word, and a system call per word cost more than the
    /// translation itself.
    cache: Vec<std::sync::OnceLock<Vec<u8>>>,
}

/// Memory of an image mapped from its file ([`Image::map_memory`],
/// [`Image::map_window`]); the mapping ends with it.
pub struct MappedMemory {
    at: *const u8,
    len: usize,
}

impl std::ops::Deref for MappedMemory {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes at `at`, mapped until drop.
        unsafe { std::slice::from_raw_parts(self.at, self.len) }
    }
}

// SAFETY: a read-only mapping owned by its MappedMemory: nothing ties it
// to the thread that made it.
unsafe impl Send for MappedMemory {}
unsafe impl Sync for MappedMemory {}

impl Drop for MappedMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made by map_memory, unmapped once.
        unsafe { libc::munmap(self.at as *mut libc::c_void, self.len) };
    }
}

/// The largest segment [`Image::read_memory`] keeps in memory.
const CACHED_SEGMENT: u64 = 1 << 20;

/// One note: its owner's name (without the NUL), type and descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub name: Vec<u8>,
    pub kind: u32,
    pub desc: Vec<u8>,
}

impl Note {
    pub fn new(name: &str, kind: u32, desc: Vec<u8>) -> Note {
        Note {
            name: name.as_bytes().to_vec(),
            kind,
            desc,
        }
    }
}

/// One PT_LOAD: `size` bytes of memory at `address`, saved in the file at
/// `offset` unless `saved` is false (then the restored pages are zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub address: u64,
    pub size: u64,
    pub offset: u64,
    pub saved: bool,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

impl Segment {
    /// Its ELF `p_flags`.
    pub fn flags(&self) -> u32 {
        use object::elf::{PF_R, PF_W, PF_X};
        [(self.read, PF_R), (self.write, PF_W), (self.execute, PF_X)]
            .into_iter()
            .filter(|(on, _)| *on)
            .fold(0, |f, (_, bit)| f | bit)
    }
}

impl Image {
    /// Reads and checks an image's headers and notes.
    pub fn read(path: &Path) -> Result<Image> {
        let file = File::open(path).map_err(|e| Error::Image {
            path: path.to_path_buf(),
            why: format!("cannot open it: {e}"),
        })?;
        let meta = file.metadata().map_err(Error::io(path))?;
        let err = |why: &str| Error::Image {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        if meta.is_dir() {
            return Err(err("is a directory, not a checkpoint image"));
        }
        if !meta.is_file() {
            return Err(err("not a regular file, so not a checkpoint image"));
        }
        let file_size = meta.len();
        let head = read_at(&file, 0, file_size.min(4096) as usize).map_err(|e| err(&e))?;
        let header = FileHeader64::<LE>::parse(&head[..])
            .map_err(|_| err("not an ELF file (truncated or not an image)"))?;
        if header.e_type.get(LE) != ET_CORE {
            return Err(err(
                "not a checkpoint image (an ELF file, but not a core file; is this the executable?)",
            ));
        }
        let machine = header.e_machine.get(LE);
        let arch = Arch::from_elf_machine(machine)
            .ok_or_else(|| err(&format!("an image of an unsupported machine ({machine})")))?;
        let phoff = header.e_phoff.get(LE);
        let phnum = u64::from(header.e_phnum.get(LE));
        let ph_end = phoff
            .checked_add(phnum * std::mem::size_of::<ProgramHeader64<LE>>() as u64)
            .filter(|&e| e <= file_size && e <= MAX_HEADERS)
            .ok_or_else(|| err("truncated (its program headers end past the file)"))?;
        let headers = read_at(&file, 0, ph_end as usize).map_err(|e| err(&e))?;
        let header = FileHeader64::<LE>::parse(&headers[..]).map_err(|_| err("corrupt header"))?;
        let phdrs = header
            .program_headers(LE, &headers[..])
            .map_err(|_| err("corrupt program headers"))?;
        let mut image = Image {
            path: path.to_path_buf(),
            arch,
            segments: Vec::new(),
            notes: Vec::new(),
            memory_checksums: Vec::new(),
            registers: Vec::new(),
            fp_registers: Vec::new(),
            build_id: Vec::new(),
            state: ImageState::default(),
            executable: PathBuf::new(),
            cwd: PathBuf::new(),
            files: Vec::new(),
            signals: Vec::new(),
            frames: Vec::new(),
            thread: Default::default(),
            translated_from: None,
            written: None,
            file,
            file_size,
            headers_end: ph_end,
            cache: Vec::new(),
        };
        let mut note_bytes = None;
        for ph in phdrs {
            match ph.p_type(LE) {
                PT_NOTE => {
                    if note_bytes.is_some() {
                        return Err(err("corrupt (more than one note segment)"));
                    }
                    let (off, size) = (ph.p_offset(LE), ph.p_filesz(LE));
                    if off.checked_add(size).is_none_or(|end| end > file_size) {
                        return Err(err("truncated (the notes end past the file)"));
                    }
                    if size > MAX_HEADERS {
                        return Err(err("corrupt (notes too large)"));
                    }
                    note_bytes =
                        Some(read_at(&image.file, off, size as usize).map_err(|e| err(&e))?);
                }
                PT_LOAD => {
                    let flags = ph.p_flags(LE);
                    let s = Segment {
                        address: ph.p_vaddr(LE),
                        size: ph.p_memsz(LE),
                        offset: ph.p_offset(LE),
                        saved: ph.p_filesz(LE) != 0,
                        read: flags & object::elf::PF_R != 0,
                        write: flags & object::elf::PF_W != 0,
                        execute: flags & object::elf::PF_X != 0,
                    };
                    if s.saved
                        && (ph.p_filesz(LE) != s.size
                            || s.offset.checked_add(s.size).is_none_or(|e| e > file_size))
                    {
                        return Err(err(&format!(
                            "truncated (the memory at {:#x} ends past the file)",
                            s.address
                        )));
                    }
                    image.segments.push(s);
                }
                _ => {}
            }
        }
        let note_bytes = note_bytes.ok_or_else(|| err("not a checkpoint image (no notes)"))?;
        // The checksum first: a corrupted image is called that, rather than
        // described by whichever check its corruption happens to fail.
        let program_headers = &headers[phoff as usize..ph_end as usize];
        image.memory_checksums = check_integrity(
            &headers[..FILE_HEADER_SIZE],
            program_headers,
            &note_bytes,
            image.segments.len(),
        )
        .map_err(|e| err(&e))?;
        let mut seen = Seen::default();
        image
            .read_notes(
                &note_bytes[..note_bytes.len() - integrity_note_len(image.segments.len())],
                &mut seen,
            )
            .map_err(|e| err(&e.to_string()))?;
        seen.complete().map_err(|e| err(&e))?;
        check::validate(&image).map_err(|e| err(&format!("cannot be resumed: {e}")))?;
        image.cache = image.segments.iter().map(|_| Default::default()).collect();
        Ok(image)
    }

    fn read_notes(&mut self, bytes: &[u8], seen: &mut Seen) -> Result<()> {
        const WHAT: &str = "notes";
        let corrupt = |why: &str| Error::corrupt(WHAT, why);
        let mut at = 0usize;
        while at + 12 <= bytes.len() {
            let word = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
            let (namesz, descsz, kind) = (word(0) as usize, word(4) as usize, word(8));
            let name_at = at + 12;
            let desc_at = name_at
                .checked_add(namesz.next_multiple_of(4))
                .ok_or_else(|| corrupt("a note name runs past its segment"))?;
            let end = desc_at
                .checked_add(descsz)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| corrupt("a note runs past its segment"))?;
            let name = bytes[name_at..name_at + namesz]
                .strip_suffix(b"\0")
                .unwrap_or(&[]);
            let desc = &bytes[desc_at..end];
            at = desc_at + descsz.next_multiple_of(4);
            seen.note(name, kind).map_err(|e| corrupt(&e))?;
            self.notes.push(Note {
                name: name.to_vec(),
                kind,
                desc: desc.to_vec(),
            });
            match (name, kind) {
                (b"CORE", NT_PRSTATUS) => {
                    let names = registers::names(self.arch);
                    if desc.len() != registers::prstatus_size(self.arch) {
                        let other = self.arch.other();
                        return Err(if desc.len() == registers::prstatus_size(other) {
                            corrupt(&format!(
                                "{other} registers in an {} image (is the ELF machine field \
                                 corrupt?)",
                                self.arch
                            ))
                        } else {
                            corrupt("a registers note of the wrong size")
                        });
                    }
                    self.registers = names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (*n, u64_at(desc, registers::PR_REG + i * 8)))
                        .collect();
                }
                (b"CORE", NT_FPREGSET) => self.fp_registers = desc.to_vec(),
                (b"GNU", NT_GNU_BUILD_ID) => self.build_id = desc.to_vec(),
                (n, NOTE_STATE) if n == NOTE_NAME.as_bytes() => {
                    let version = desc.get(..4).map_or(0, |v| u32_at(v, 0));
                    if version != IMAGE_VERSION {
                        return Err(Error::Version {
                            what: "landmark-rt image",
                            found: version,
                            supported: IMAGE_VERSION,
                            remedy: "written by another version of landmark-rt",
                        });
                    }
                    if desc.len() != ImageState::SIZE {
                        return Err(corrupt("a runtime state note of the wrong size"));
                    }
                    self.state = ImageState::decode(desc).expect("the size was checked");
                }
                (n, NOTE_EXE) if n == NOTE_NAME.as_bytes() => {
                    self.executable = PathBuf::from(c_string(desc, "executable note")?)
                }
                (n, NOTE_CWD) if n == NOTE_NAME.as_bytes() => {
                    self.cwd = PathBuf::from(c_string(desc, "working-directory note")?)
                }
                (n, NOTE_FILES) if n == NOTE_NAME.as_bytes() => self.files = decode_files(desc)?,
                (n, NOTE_FRAMES) if n == NOTE_NAME.as_bytes() => {
                    self.frames = decode_array(desc, "frames note")?
                }
                (n, NOTE_THREAD) if n == NOTE_NAME.as_bytes() => {
                    let t = ImageThread::decode(desc)
                        .filter(|t| desc.len() as u64 == ImageThread::SIZE as u64 + t.tls_size)
                        .ok_or_else(|| corrupt("a thread note of the wrong size"))?;
                    self.thread = (t, desc[ImageThread::SIZE..].to_vec());
                }
                (n, NOTE_SIGNALS) if n == NOTE_NAME.as_bytes() => {
                    self.signals = decode_array(desc, "signals note")?
                }
                (n, NOTE_TRANSLATED) if n == NOTE_NAME.as_bytes() => {
                    let mut fields = desc.split(|b| *b == 0);
                    let mut field = || {
                        fields
                            .next()
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .ok_or_else(|| corrupt("a translation note without its fields"))
                    };
                    self.translated_from = Some((field()?, field()?));
                }
                (n, NOTE_WRITTEN) if n == NOTE_NAME.as_bytes() => {
                    if !desc.len().is_multiple_of(16) {
                        return Err(corrupt("a written-memory note of a size not 16 n"));
                    }
                    let ranges: Vec<(u64, u64)> = desc
                        .chunks_exact(16)
                        .map(|r| (u64_at(r, 0), u64_at(r, 8)))
                        .collect();
                    if ranges.iter().any(|&(a, b)| a > b) {
                        return Err(corrupt("a written-memory range that ends before it starts"));
                    }
                    self.written = Some(ranges);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The value of the register named `name` (as in [`Image::registers`]).
    pub fn register(&self, name: &str) -> Option<u64> {
        self.registers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// The program counter: where the program resumes.
    pub fn pc(&self) -> Option<u64> {
        self.register(registers::pc_name(self.arch))
    }

    /// Reads `len` bytes of the program's memory at `address`, all inside one
    /// segment.
    pub fn read_memory(&self, address: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0; len];
        self.read_memory_into(address, &mut buf)?;
        Ok(buf)
    }

    /// Segment `k`'s saved bytes if it is small enough to keep in memory
    /// (read whole on first use), else None.
    fn cached(&self, k: usize) -> Result<Option<&[u8]>> {
        let s = &self.segments[k];
        let Some(cache) = self.cache.get(k).filter(|_| s.size <= CACHED_SEGMENT) else {
            return Ok(None);
        };
        if cache.get().is_none() {
            let bytes =
                read_at(&self.file, s.offset, s.size as usize).map_err(|why| Error::Image {
                    path: self.path.clone(),
                    why,
                })?;
            let _ = cache.set(bytes);
        }
        Ok(Some(cache.get().expect("just set")))
    }

    /// [`Image::read_memory`] into `buf` (as many bytes as it holds), for
    /// readers of much memory: one buffer reused, not one allocated (and its
    /// pages faulted in and zeroed) per read.
    pub fn read_memory_into(&self, address: u64, buf: &mut [u8]) -> Result<()> {
        let len = buf.len();
        let end = address.checked_add(len as u64);
        let (k, s) = self
            .segments
            .iter()
            .enumerate()
            .find(|(_, s)| address >= s.address && end.is_some_and(|e| e <= s.address + s.size))
            .ok_or_else(|| Error::Image {
                path: self.path.clone(),
                why: format!("{address:#x}: not in the image's memory"),
            })?;
        if !s.saved {
            buf.fill(0);
            return Ok(());
        }
        let at = (address - s.address) as usize;
        if let Some(bytes) = self.cached(k)? {
            buf.copy_from_slice(&bytes[at..at + len]);
            return Ok(());
        }
        self.file
            .read_exact_at(buf, s.offset + (address - s.address))
            .map_err(|e| Error::Image {
                path: self.path.clone(),
                why: format!("the image is truncated ({e})"),
            })
    }

    /// Checks every segment, its address, size, flags and saved bytes,
    /// against its checksum (reads all memory: `--verify`); returns how many
    /// bytes were checked.
    pub fn verify_memory(&self) -> Result<u64> {
        const CHUNK: u64 = 4 << 20;
        let mut checked = 0;
        for (s, &want) in self.segments.iter().zip(&self.memory_checksums) {
            if want == integrity::NOT_SUMMED {
                continue;
            }
            let mut sum = integrity::MemoryChecksum::new(s.address, s.size, s.flags());
            let mut done = 0;
            while s.saved && done < s.size {
                let n = CHUNK.min(s.size - done);
                let bytes = read_at(&self.file, s.offset + done, n as usize).map_err(|why| {
                    Error::Image {
                        path: self.path.clone(),
                        why,
                    }
                })?;
                sum.update(&bytes);
                done += n;
            }
            if sum.digest() != want {
                return Err(Error::Image {
                    path: self.path.clone(),
                    why: format!(
                        "corrupt: the memory at {:#x}-{:#x} does not match its checksum",
                        s.address,
                        s.address + s.size
                    ),
                });
            }
            checked += if s.saved { s.size } else { 0 };
        }
        Ok(checked)
    }

    /// `len` bytes of memory at `address`, page-aligned and inside one saved
    /// segment, mapped from the file read-only (no copy: the translator's
    /// scan of a large heap), or None where the image cannot map them.
    pub fn map_memory(&self, address: u64, len: usize) -> Option<MappedMemory> {
        let s = self.segments.iter().find(|s| {
            s.saved && address >= s.address && address + len as u64 <= s.address + s.size
        })?;
        let offset = s.offset + (address - s.address);
        if len == 0 || !offset.is_multiple_of(4096) || offset + len as u64 > self.file_size {
            return None;
        }
        self.map_file(offset, len, libc::MAP_PRIVATE | libc::MAP_POPULATE)
    }

    /// `len` bytes of the file at `offset`, mapped read-only with `flags`.
    fn map_file(&self, offset: u64, len: usize, flags: libc::c_int) -> Option<MappedMemory> {
        use std::os::fd::AsRawFd;
        // SAFETY: a new read-only mapping of this image's file (never
        // truncated while it is read: a run's image keeps its size); the
        // bytes are only read, through the slice MappedMemory gives.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                flags,
                self.file.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        (p != libc::MAP_FAILED).then_some(MappedMemory { at: p.cast(), len })
    }

    /// The file's bytes at [`address`, `address` + `len`) mapped shared and
    /// read-only, for an image laid out at its addresses
    /// ([`Image::at_addresses`]) and a page-aligned range inside the
    /// window: memory whatever it holds (holes read as zeros). The mapping
    /// sees what is written to the file later, so a keeper of a file that
    /// is rewritten in place (`migrate mtd`'s translator) maps it once and
    /// reads it again and again without mapping or copying it again.
    pub fn map_window(&self, address: u64, len: usize) -> Option<MappedMemory> {
        let end = address.checked_add(len as u64)?;
        if !self.at_addresses()
            || len == 0
            || !address.is_multiple_of(4096)
            || end > crate::window::WINDOW_END
            || end > self.file_size
        {
            return None;
        }
        self.map_file(address, len, libc::MAP_SHARED)
    }

    /// A little-endian 8-byte word of memory.
    pub fn read_u64(&self, address: u64) -> Result<u64> {
        Ok(u64_at(&self.read_memory(address, 8)?, 0))
    }

    /// Bytes of memory the image saves (the file holds these and headers).
    pub fn saved_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.saved)
            .map(|s| s.size)
            .sum()
    }

    /// True if every saved segment's bytes lie at the file offset equal to
    /// its address and the file reaches the window's end: an image
    /// `migrate mtd` keeps up to date in place (landmark-rt's `image.c`).
    pub fn at_addresses(&self) -> bool {
        self.file_size >= crate::window::WINDOW_END
            && self.segments.iter().any(|s| s.saved)
            && self
                .segments
                .iter()
                .all(|s| !s.saved || s.offset == s.address)
    }

    /// The file's device and inode, if it can say.
    pub fn file_id(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        self.file.metadata().ok().map(|m| (m.dev(), m.ino()))
    }

    /// The file's size.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The build-id as lowercase hex.
    pub fn build_id_hex(&self) -> String {
        hex(&self.build_id)
    }
}

/// The notes every image has, each exactly once: (owner, type, what).
const REQUIRED_NOTES: [(&str, u32, &str); 10] = [
    ("CORE", NT_PRSTATUS, "registers"),
    ("CORE", NT_FPREGSET, "floating-point registers"),
    ("GNU", NT_GNU_BUILD_ID, "build-id"),
    (NOTE_NAME, NOTE_STATE, "runtime state"),
    (NOTE_NAME, NOTE_EXE, "executable path"),
    (NOTE_NAME, NOTE_CWD, "working directory"),
    (NOTE_NAME, NOTE_FILES, "open files"),
    (NOTE_NAME, NOTE_SIGNALS, "signal handlers"),
    (NOTE_NAME, NOTE_FRAMES, "stack walk"),
    (NOTE_NAME, NOTE_THREAD, "thread"),
];

/// How often each of [`REQUIRED_NOTES`] was found.
#[derive(Default)]
struct Seen([u32; REQUIRED_NOTES.len()]);

impl Seen {
    fn note(&mut self, name: &[u8], kind: u32) -> std::result::Result<(), String> {
        let Some(i) = REQUIRED_NOTES
            .iter()
            .position(|&(n, k, _)| n.as_bytes() == name && k == kind)
        else {
            return Ok(());
        };
        self.0[i] += 1;
        if self.0[i] > 1 {
            return Err(format!("corrupt (two {} notes)", REQUIRED_NOTES[i].2));
        }
        Ok(())
    }

    fn complete(&self) -> std::result::Result<(), String> {
        let missing: Vec<&str> = REQUIRED_NOTES
            .iter()
            .zip(self.0)
            .filter(|(_, n)| *n == 0)
            .map(|((_, _, what), _)| *what)
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "not a landmark-rt checkpoint image (no {} note)",
                missing.join(", no ")
            ))
        }
    }
}

/// The ELF header's size: what the headers' checksum covers of it.
const FILE_HEADER_SIZE: usize = std::mem::size_of::<FileHeader64<LE>>();

/// Bytes of the integrity note (header, name, descriptor) for `segments`.
fn integrity_note_len(segments: usize) -> usize {
    12 + (NOTE_NAME.len() + 1).next_multiple_of(4) + integrity::note_size(segments)
}

/// Checks the integrity note, the last in `notes`, against the headers;
/// returns the memory checksums.
fn check_integrity(
    file_header: &[u8],
    program_headers: &[u8],
    notes: &[u8],
    segments: usize,
) -> std::result::Result<Vec<u64>, String> {
    let len = integrity_note_len(segments);
    let missing = "not resumable: its last note is not an integrity note of its size (written \
                   by an older landmark-rt, or cut short)";
    let name_len = NOTE_NAME.len() + 1;
    let is_integrity = |note: &[u8]| {
        let word = |i: usize| u32::from_le_bytes(note[i..i + 4].try_into().unwrap());
        note.len() >= 12 + name_len
            && word(0) as usize == name_len
            && word(8) == NOTE_INTEGRITY
            && &note[12..12 + NOTE_NAME.len()] == NOTE_NAME.as_bytes()
    };
    let at = notes.len().checked_sub(len);
    let Some(note) = at.map(|at| &notes[at..]).filter(|n| is_integrity(n)) else {
        // Say what is wrong if the last note is an integrity note of
        // another size: segments were added or removed.
        let last = last_note(notes).filter(|&at| is_integrity(&notes[at..]));
        return Err(match last {
            Some(at) => {
                let covers = notes
                    .get(at + 12 + 12 + 4..at + 12 + 12 + 8)
                    .map_or(0, |w| u32::from_le_bytes(w.try_into().unwrap()));
                format!(
                    "corrupt: its integrity note covers {covers} memory segments, and it has \
                     {segments}"
                )
            }
            None => missing.into(),
        });
    };
    let desc = &note[12 + name_len.next_multiple_of(4)..];
    let memory = integrity::decode(desc, segments).map_err(|e| format!("corrupt: {e}"))?;
    let stored = u64_at(notes, notes.len() - 8);
    let actual =
        integrity::headers_checksum(file_header, program_headers, &notes[..notes.len() - 8]);
    if stored != actual {
        return Err(format!(
            "corrupt: its headers, notes or registers do not match their checksum \
             ({actual:016x}, recorded {stored:016x})"
        ));
    }
    Ok(memory)
}

/// Where the last note of a note segment starts, if its headers hold
/// together.
fn last_note(notes: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    let mut last = None;
    while at + 12 <= notes.len() {
        let word = |i: usize| u32::from_le_bytes(notes[at + i..at + i + 4].try_into().unwrap());
        let end = (at + 12)
            .checked_add((word(0) as usize).next_multiple_of(4))?
            .checked_add((word(4) as usize).next_multiple_of(4))?;
        if end > notes.len() {
            return None;
        }
        last = Some(at);
        at = end;
    }
    last
}

/// The build-id of an executable file (its NT_GNU_BUILD_ID note).
pub fn executable_build_id(path: &Path) -> Result<Vec<u8>> {
    let data = std::fs::read(path).map_err(Error::io(path))?;
    let file = object::File::parse(&data[..]).map_err(|_| Error::Image {
        path: path.to_path_buf(),
        why: "not an executable".into(),
    })?;
    build_id_of(&file).ok_or_else(|| Error::Image {
        path: path.to_path_buf(),
        why: "has no build-id".into(),
    })
}

/// The ISA of an ELF file's bytes (its `e_machine`), if it is one of ours.
pub fn elf_arch(data: &[u8]) -> Option<Arch> {
    let header = FileHeader64::<LE>::parse(data).ok()?;
    Arch::from_elf_machine(header.e_machine.get(LE))
}

/// The build-id of a parsed executable, if it has one.
pub fn build_id_of(file: &object::File) -> Option<Vec<u8>> {
    use object::Object;
    file.build_id().ok().flatten().map(<[u8]>::to_vec)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_at(file: &File, offset: u64, len: usize) -> std::result::Result<Vec<u8>, String> {
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| format!("the image is truncated ({e})"))?;
    Ok(buf)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Where a saved segment's bytes go in a file whose previous contents end
/// at `end`: the next multiple of [`IMAGE_ALIGN`], plus the address's
/// remainder.
pub fn memory_offset(end: u64, address: u64) -> u64 {
    end.next_multiple_of(IMAGE_ALIGN) + address % IMAGE_ALIGN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(out: &mut Vec<u8>, name: &[u8], kind: u32, desc: &[u8]) {
        out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
        out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(name);
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(desc);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    /// Where the synthetic image's stack page is, and its stack pointer.
    const STACK_PAGE: u64 = 0x3e_ffff_f000;
    const SP: u64 = 0x3e_ffff_f800;

    /// A minimal x86_64 image that can be resumed: the notes a landmark-rt
    /// image has, consistent with each other (registers, state, one frame),
    /// a saved page of data at 0x1000_0000 filled with 0xab and a saved
    /// stack page filled with 0xcd, each at a file offset congruent to its
    /// address modulo 64 KiB.
    fn synthetic() -> Vec<u8> {
        let mut notes = Vec::new();
        let mut prstatus = vec![0u8; 336];
        let mut reg = |i: usize, v: u64| {
            let at = registers::PR_REG + i * 8;
            prstatus[at..at + 8].copy_from_slice(&v.to_le_bytes());
        };
        reg(16, 0x1000_1234); // rip
        reg(19, SP); // rsp
        note(&mut notes, b"CORE", NT_PRSTATUS, &prstatus);
        note(&mut notes, b"CORE", NT_FPREGSET, &[0; 512]);
        note(&mut notes, b"GNU", NT_GNU_BUILD_ID, &[1, 2, 3, 4]);
        let mut state = vec![0u8; 80];
        let mut put = |at: usize, v: &[u8]| state[at..at + v.len()].copy_from_slice(v);
        put(0, &IMAGE_VERSION.to_le_bytes());
        put(4, &7u32.to_le_bytes()); // call site
        put(16, &0x1000_1000u64.to_le_bytes()); // brk_start
        put(24, &0x1000_1000u64.to_le_bytes()); // brk
        put(32, &STACK_PAGE.to_le_bytes()); // stack_lo
        put(40, &0x3f_0000_0000u64.to_le_bytes()); // stack_hi
        put(48, &0x1000_0100u64.to_le_bytes()); // thread pointer
        note(&mut notes, NOTE_NAME.as_bytes(), NOTE_STATE, &state);
        note(
            &mut notes,
            NOTE_NAME.as_bytes(),
            NOTE_EXE,
            b"/nowhere/prog.x86_64\0",
        );
        let mut frame = Vec::new();
        frame.extend_from_slice(&0x1000_1234u64.to_le_bytes());
        frame.extend_from_slice(&SP.to_le_bytes());
        frame.extend_from_slice(&7u32.to_le_bytes());
        frame.extend_from_slice(&0u32.to_le_bytes());
        note(&mut notes, NOTE_NAME.as_bytes(), NOTE_FRAMES, &frame);
        note(&mut notes, NOTE_NAME.as_bytes(), NOTE_CWD, b"/nowhere\0");
        note(&mut notes, NOTE_NAME.as_bytes(), NOTE_FILES, &[]);
        note(&mut notes, NOTE_NAME.as_bytes(), NOTE_SIGNALS, &[]);
        note(
            &mut notes,
            NOTE_NAME.as_bytes(),
            NOTE_THREAD,
            &ImageThread::default().to_bytes(),
        );
        note(
            &mut notes,
            NOTE_NAME.as_bytes(),
            NOTE_INTEGRITY,
            &integrity::encode(&[0, 0]),
        );
        let mut file = vec![0u8; 64 + 3 * 56];
        file[..4].copy_from_slice(b"\x7fELF");
        file[4] = 2; // 64-bit
        file[5] = 1; // little-endian
        file[6] = 1;
        file[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
        file[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86_64
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        file[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        file[52..54].copy_from_slice(&64u16.to_le_bytes());
        file[54..56].copy_from_slice(&56u16.to_le_bytes());
        file[56..58].copy_from_slice(&3u16.to_le_bytes());
        let notes_at = file.len() as u64;
        let (data_at, stack_at) = (0x1_0000u64, 0x2_0000 + STACK_PAGE % 0x1_0000);
        let ph = |kind: u32, off: u64, vaddr: u64, size: u64| {
            let mut p = vec![0u8; 56];
            p[..4].copy_from_slice(&kind.to_le_bytes());
            p[4..8].copy_from_slice(&6u32.to_le_bytes()); // rw
            p[8..16].copy_from_slice(&off.to_le_bytes());
            p[16..24].copy_from_slice(&vaddr.to_le_bytes());
            p[32..40].copy_from_slice(&size.to_le_bytes());
            p[40..48].copy_from_slice(&size.to_le_bytes());
            p
        };
        file[64..120].copy_from_slice(&ph(PT_NOTE, notes_at, 0, notes.len() as u64));
        file[120..176].copy_from_slice(&ph(PT_LOAD, data_at, 0x1000_0000, 0x1000));
        file[176..232].copy_from_slice(&ph(PT_LOAD, stack_at, STACK_PAGE, 0x1000));
        file.extend_from_slice(&notes);
        file.resize(data_at as usize, 0);
        file.extend_from_slice(&[0xab; 0x1000]);
        file.resize(stack_at as usize, 0);
        file.extend_from_slice(&[0xcd; 0x1000]);
        integrity::seal(&mut file, true).unwrap();
        file
    }

    fn read_bytes(bytes: &[u8]) -> Result<Image> {
        let dir = std::env::temp_dir().join(format!("image-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A file of its own: tests run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("{n}.core"));
        std::fs::write(&path, bytes).unwrap();
        let r = Image::read(&path);
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn reads_a_synthetic_image() {
        let image = read_bytes(&synthetic()).unwrap();
        assert_eq!(image.arch, Arch::X86_64);
        assert_eq!(image.pc(), Some(0x1000_1234));
        assert_eq!(image.register("rip"), Some(0x1000_1234));
        assert_eq!(image.state.call_site, 7);
        assert_eq!(image.build_id_hex(), "01020304");
        assert_eq!(image.executable, PathBuf::from("/nowhere/prog.x86_64"));
        assert_eq!(image.read_u64(0x1000_0008).unwrap(), 0xabab_abab_abab_abab);
        assert!(image.read_memory(0x1000_0ff9, 8).is_err());
    }

    #[test]
    fn truncated_or_corrupted_images_are_errors_not_panics() {
        let good = synthetic();
        // Every truncation of the headers and notes, then coarser steps.
        for len in (0..1200).chain((1200..good.len()).step_by(97)) {
            assert!(read_bytes(&good[..len]).is_err(), "length {len} accepted");
        }
        // Each byte of the headers and notes set to extreme values.
        for at in 0..1200 {
            for value in [0u8, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[at] = value;
                let _ = read_bytes(&bad); // Ok or Err, never a panic
            }
        }
    }

    #[test]
    fn the_writer_round_trips_an_image_byte_for_byte() {
        let image = read_bytes(&synthetic()).unwrap();
        // Written from the parts read: the runtime's layout (memory at a
        // 64 KiB boundary plus the address's remainder).
        let first = ImageWriter::copy_of(&image).to_bytes().unwrap();
        let again = read_bytes(&first).unwrap();
        assert_eq!(again.notes, image.notes);
        assert_eq!(again.state, image.state);
        assert_eq!(
            again.segments[0].offset % IMAGE_ALIGN,
            0x1000_0000 % IMAGE_ALIGN
        );
        assert_eq!(again.read_u64(0x1000_0ff0).unwrap(), 0xabab_abab_abab_abab);
        // Read and written once more: the same bytes, also with every
        // note encoded again from the parsed values.
        assert_eq!(ImageWriter::copy_of(&again).to_bytes().unwrap(), first);
        assert_eq!(ImageWriter::rebuilt(&again).to_bytes().unwrap(), first);
        // And to a file, through a temporary one.
        let dir = std::env::temp_dir().join(format!("image-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("copy.core");
        ImageWriter::copy_of(&again).write_to(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_image_from_typed_notes() {
        let mut w = ImageWriter::new(Arch::Aarch64);
        let mut prstatus = vec![0u8; 392];
        let pc_at = registers::PR_REG + 32 * 8;
        prstatus[pc_at..pc_at + 8].copy_from_slice(&0x1000_2000u64.to_le_bytes());
        let sp_at = registers::PR_REG + 31 * 8;
        prstatus[sp_at..sp_at + 8].copy_from_slice(&0x3e_ffff_f000u64.to_le_bytes());
        let state = ImageState {
            version: IMAGE_VERSION,
            call_site: 3,
            stack_lo: 0x3e_ffff_e000,
            stack_hi: 0x3f_0000_0000,
            brk_start: 0x1000_4000,
            brk: 0x1000_4000,
            thread_pointer: 0x1000_3000,
            ..Default::default()
        };
        let frames = [WalkedFrame {
            pc: 0x1000_2000,
            sp: 0x3e_ffff_f000,
            call_site: 3,
            pad: 0,
        }];
        w.note(Note::new("CORE", NT_PRSTATUS, prstatus))
            .note(Note::new("GNU", NT_GNU_BUILD_ID, vec![9; 20]))
            .note(Note::new(NOTE_NAME, NOTE_STATE, state.to_bytes()))
            .note(Note::new(
                NOTE_NAME,
                NOTE_EXE,
                b"/x/prog.aarch64\0".to_vec(),
            ))
            .note(Note::new(NOTE_NAME, NOTE_FRAMES, encode_array(&frames)))
            .note(Note::new(
                "CORE",
                NT_FPREGSET,
                vec![0; registers::fpregset_size(Arch::Aarch64)],
            ))
            .note(Note::new(NOTE_NAME, NOTE_CWD, b"/x\0".to_vec()))
            .note(Note::new(NOTE_NAME, NOTE_FILES, Vec::new()))
            .note(Note::new(NOTE_NAME, NOTE_SIGNALS, Vec::new()))
            .note(Note::new(
                NOTE_NAME,
                NOTE_THREAD,
                ImageThread::default().to_bytes(),
            ));
        let page = vec![7u8; 0x2000];
        let seg = |address, size| Segment {
            address,
            size,
            offset: 0,
            saved: true,
            read: true,
            write: true,
            execute: false,
        };
        w.segment(seg(0x3e_ffff_e000, 0x2000), Contents::Bytes(&page))
            .segment(seg(0x3e_ff00_0000, 0x1000), Contents::NotSaved);
        let image = read_bytes(&w.to_bytes().unwrap()).unwrap();
        assert_eq!(image.arch, Arch::Aarch64);
        assert_eq!(image.pc(), Some(0x1000_2000));
        assert_eq!(image.state, state);
        assert_eq!(image.frames.to_vec(), frames);
        assert_eq!(
            image.read_u64(0x3e_ffff_fff8).unwrap(),
            0x0707_0707_0707_0707
        );
        assert!(!image.segments[1].saved);
        assert_eq!(image.read_u64(0x3e_ff00_0000).unwrap(), 0);
        // A segment whose bytes do not fit is refused, not written.
        let mut bad = ImageWriter::new(Arch::Aarch64);
        bad.segment(seg(0x1000_0000, 0x1000), Contents::Bytes(&page));
        assert!(bad.to_bytes().is_err());
    }

    /// The synthetic image with the program header of its `k`-th segment
    /// (0: data, 1: stack) changed by `f`.
    fn with_segment(k: usize, f: impl Fn(&mut [u8])) -> Vec<u8> {
        let mut bytes = synthetic();
        let at = 64 + (1 + k) * 56;
        f(&mut bytes[at..at + 56]);
        integrity::seal(&mut bytes, false).unwrap();
        bytes
    }

    /// `bytes`, its checksums made to match, is refused with `why`.
    fn refused_because(bytes: &[u8], why: &str) {
        let mut bytes = bytes.to_vec();
        integrity::seal(&mut bytes, false).unwrap();
        let err = read_bytes(&bytes).expect_err(why).to_string();
        assert!(err.contains("cannot be resumed"), "{err}");
        assert!(err.contains(why), "want {why:?} in {err}");
    }

    #[test]
    fn images_that_cannot_be_resumed_are_refused_by_name() {
        let vaddr = |v: u64| move |p: &mut [u8]| p[16..24].copy_from_slice(&v.to_le_bytes());
        let flags = |f: u32| move |p: &mut [u8]| p[4..8].copy_from_slice(&f.to_le_bytes());
        // The stack page moved into the data (made 64 KiB, not saved).
        let mut bad = with_segment(1, vaddr(0x1000_f000));
        let data = 64 + 56;
        bad[data + 32..data + 40].copy_from_slice(&0u64.to_le_bytes());
        bad[data + 40..data + 48].copy_from_slice(&0x1_0000u64.to_le_bytes());
        refused_because(&bad, "overlap");
        refused_because(
            &with_segment(0, vaddr(0x1000)),
            "outside the migration window",
        );
        refused_because(&with_segment(0, vaddr(0x1000_0800)), "not whole pages");
        refused_because(&with_segment(0, flags(7)), "is executable");
        refused_because(&with_segment(0, flags(2)), "saved but not readable");
        // The stack read-only: the stack pointer is not in writable memory.
        refused_because(&with_segment(1, flags(4)), "stack pointer");
        // The stack moved away: the registers point at nothing saved.
        refused_because(&with_segment(1, vaddr(0x3e_fff0_f000)), "stack pointer");
        // A file offset restore could not map.
        refused_because(
            &with_segment(0, |p| p[8..16].copy_from_slice(&0x1_0800u64.to_le_bytes())),
            "cannot be mapped",
        );
        // The stack pointer register changed (rsp, register 19).
        let mut bad = synthetic();
        let rsp = find(&bad, &SP.to_le_bytes());
        bad[rsp..rsp + 8].copy_from_slice(&(SP + 0x10).to_le_bytes());
        refused_because(&bad, "disagree with the innermost frame");
        // The program counter changed.
        let mut bad = synthetic();
        let rip = find(&bad, &0x1000_1234u64.to_le_bytes());
        bad[rip..rip + 8].copy_from_slice(&0x1000_1238u64.to_le_bytes());
        refused_because(&bad, "disagree with the innermost frame");
        // Good as it is.
        read_bytes(&synthetic()).unwrap();
    }

    #[test]
    fn corruption_is_refused_by_its_checksum() {
        let good = synthetic();
        read_bytes(&good).unwrap().verify_memory().unwrap();
        // A register changed (rsp).
        let mut bad = good.clone();
        let rsp = find(&bad, &SP.to_le_bytes());
        bad[rsp] ^= 0x10;
        let err = read_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("do not match their checksum"), "{err}");
        // A segment's flags.
        let mut bad = good.clone();
        bad[64 + 56 + 4] = 7;
        let err = read_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("do not match their checksum"), "{err}");
        // A byte of memory: read (restore does not read memory), but caught
        // by verify_memory.
        let mut bad = good.clone();
        bad[0x1_0000 + 100] ^= 1;
        let image = read_bytes(&bad).unwrap();
        let err = image.verify_memory().unwrap_err().to_string();
        assert!(err.contains("memory at 0x10000000-0x10001000"), "{err}");
        // A memory checksum itself.
        let mut bad = good.clone();
        let notes_end = 64 + 3 * 56 + u64_at(&good, 64 + 32) as usize;
        bad[notes_end - 9] ^= 1;
        let err = read_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("do not match their checksum"), "{err}");
        // No integrity note: the notes end earlier.
        let mut bad = good.clone();
        let filesz = u64_at(&good, 64 + 32) - 12 - 12 - integrity::note_size(2) as u64;
        bad[64 + 32..64 + 40].copy_from_slice(&filesz.to_le_bytes());
        let err = read_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("not an integrity note"), "{err}");
    }

    /// A segment written as its source with patches over it is the same
    /// image as one written from the patched bytes, in memory and in a
    /// file, and its checksum is of the patched bytes.
    #[test]
    fn a_patched_segment_is_its_source_with_the_patches() {
        use super::write::{Contents, ImageWriter};
        let image = read_bytes(&synthetic()).unwrap();
        let patches = vec![
            (0x1000_0010u64, vec![1, 2, 3, 4, 5, 6, 7, 8]),
            (0x1000_0ff8, vec![9; 8]),
        ];
        let mut patched = image.read_memory(0x1000_0000, 0x1000).unwrap();
        for (at, bytes) in &patches {
            let i = (at - 0x1000_0000) as usize;
            patched[i..i + bytes.len()].copy_from_slice(bytes);
        }
        fn writer<'a>(image: &'a Image, data: Contents<'a>) -> ImageWriter<'a> {
            let mut w = ImageWriter::new(image.arch);
            for n in &image.notes {
                w.note(n.clone());
            }
            for s in &image.segments {
                let contents = if s.address == 0x1000_0000 {
                    data
                } else {
                    Contents::From(image)
                };
                w.segment(s.clone(), contents);
            }
            w
        }
        let by_patches = writer(&image, Contents::Patched(&image, &patches))
            .to_bytes()
            .unwrap();
        let by_bytes = writer(&image, Contents::Bytes(&patched))
            .to_bytes()
            .unwrap();
        assert!(by_patches == by_bytes, "the two images differ");
        let written = read_bytes(&by_patches).unwrap();
        assert_eq!(written.read_memory(0x1000_0000, 0x1000).unwrap(), patched);
        written.verify_memory().unwrap();
        let dir = std::env::temp_dir().join(format!("patched-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.core");
        writer(&image, Contents::Patched(&image, &patches))
            .write_to(&path)
            .unwrap();
        let from_file = Image::read(&path).unwrap();
        assert_eq!(from_file.read_memory(0x1000_0000, 0x1000).unwrap(), patched);
        from_file.verify_memory().unwrap();
        assert!(!from_file.at_addresses());
        // Only an image laid out at its addresses is written in place.
        let err = writer(&image, Contents::Patched(&image, &patches))
            .write_in_place(&image)
            .unwrap_err();
        assert!(
            err.to_string().contains("laid out at its addresses"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The written-memory note: ranges read, a size not of whole ranges
    /// refused.
    #[test]
    fn reads_the_written_memory_note() {
        let mut image = read_bytes(&synthetic()).unwrap();
        let mut desc = Vec::new();
        for v in [0x1000_0000u64, 0x1000_1000, 0x2000_0000, 0x2000_3000] {
            desc.extend_from_slice(&v.to_le_bytes());
        }
        let parse = |image: &mut Image, desc: &[u8]| {
            let mut bytes = Vec::new();
            note(&mut bytes, NOTE_NAME.as_bytes(), NOTE_WRITTEN, desc);
            image.read_notes(&bytes, &mut Seen([0; REQUIRED_NOTES.len()]))
        };
        parse(&mut image, &desc).unwrap();
        assert_eq!(
            image.written,
            Some(vec![(0x1000_0000, 0x1000_1000), (0x2000_0000, 0x2000_3000)])
        );
        assert!(parse(&mut image, &desc[..20]).is_err());
        let backwards: Vec<u8> = [0x2000u64, 0x1000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert!(parse(&mut image, &backwards).is_err());
    }

    /// The first place `needle` is in `hay`.
    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }
}
