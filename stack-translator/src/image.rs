//! Checkpoint images, the Rust side (the C writer is landmark-rt's
//! `image.c`; the format is specified in landmark-rt's `image.h`: change
//! both together).
//!
//! An image is an ELF64 core file: a PT_NOTE segment (registers as
//! NT_PRSTATUS and NT_FPREGSET, the executable's build-id, landmark-rt's own
//! notes) and one PT_LOAD per mapping of the program's memory. Reading
//! checks every size and offset: a truncated or corrupted image is an error
//! that says so, never a panic.

use crate::isa::{self, Isa};
use anyhow::{anyhow, bail, Context, Result};
use object::elf::{FileHeader64, ProgramHeader64, ET_CORE, PT_LOAD, PT_NOTE};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian as LE;
use serde::Serialize;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Version of landmark-rt's notes this reader understands (`IMAGE_VERSION`).
pub const VERSION: u32 = 1;

const NOTE_NAME: &[u8] = b"LANDMARK";
const NOTE_STATE: u32 = 1;
const NOTE_EXE: u32 = 2;
const NOTE_CWD: u32 = 3;
const NOTE_FILES: u32 = 4;
const NOTE_SIGNALS: u32 = 5;
const NOTE_FRAMES: u32 = 6;
const NT_PRSTATUS: u32 = 1;
const NT_FPREGSET: u32 = 2;
const NT_GNU_BUILD_ID: u32 = 3;
/// Offset of the general registers in the kernel's `struct elf_prstatus`.
const PR_REG: usize = 112;
/// Headers and notes are read whole; more than this is not an image of ours.
const MAX_HEADERS: u64 = 16 << 20;

/// A checkpoint image, its headers and notes read; memory is read on demand.
#[derive(Debug)]
pub struct Image {
    pub path: PathBuf,
    pub isa: &'static dyn Isa,
    pub segments: Vec<Segment>,
    /// The general registers of NT_PRSTATUS, in the kernel's order, named.
    pub registers: Vec<(&'static str, u64)>,
    /// NT_FPREGSET as written.
    pub fp_registers: Vec<u8>,
    pub build_id: Vec<u8>,
    pub state: State,
    /// Where the executable was when the image was taken.
    pub executable: PathBuf,
    pub cwd: PathBuf,
    pub files: Vec<OpenFile>,
    pub signals: Vec<SignalHandler>,
    /// The runtime's stack walk, innermost frame first.
    pub frames: Vec<WalkedFrame>,
    file: File,
    file_size: u64,
}

impl std::fmt::Debug for dyn Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One PT_LOAD: `size` bytes of memory at `address`, saved in the file at
/// `offset` unless `saved` is false (then the restored pages are zero).
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub address: u64,
    pub size: u64,
    pub offset: u64,
    pub saved: bool,
    pub read: bool,
    pub write: bool,
    pub execute: bool,
}

/// landmark-rt's runtime state note.
#[derive(Debug, Clone, Default, Serialize)]
pub struct State {
    /// The call-site ID of the landmark the image was taken at.
    pub call_site: u32,
    /// Landmark hits counted up to and including that one (counted only
    /// while the runtime was watching: in statistics mode or for a
    /// checkpoint at a given hit).
    pub hits: u64,
    pub brk_start: u64,
    pub brk: u64,
    pub stack_low: u64,
    pub stack_high: u64,
    pub thread_pointer: u64,
    pub signal_mask: u64,
    pub umask: u32,
    pub pid: u32,
    /// Where the kernel's vDSO was (musl keeps a pointer into it).
    pub vdso: u64,
}

/// An open file descriptor as recorded (landmark-rt's `files.c`).
#[derive(Debug, Clone, Serialize)]
pub struct OpenFile {
    pub fd: i32,
    /// Status flags (F_GETFL) in the checkpointing ISA's encoding.
    pub flags: i32,
    pub close_on_exec: bool,
    pub kind: FileKind,
    pub offset: i64,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Regular,
    Directory,
    Device,
    /// stdin, stdout or stderr when it is not a regular file (a terminal, a
    /// pipe): the restored program uses the restorer's.
    Stream,
}

/// One frame of the program's stack as landmark-rt walked it.
#[derive(Debug, Clone, Serialize)]
pub struct WalkedFrame {
    /// The return address the frame is suspended at.
    pub pc: u64,
    /// Its stack pointer.
    pub sp: u64,
    pub call_site: u32,
}

/// A signal with a handler (or ignored), as the kernel held it.
#[derive(Debug, Clone, Serialize)]
pub struct SignalHandler {
    pub signal: u32,
    pub handler: u64,
    pub flags: u64,
}

impl Image {
    /// Reads and checks an image's headers and notes.
    pub fn read(path: &Path) -> Result<Image> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let file_size = file.metadata()?.len();
        let err = |why: &str| anyhow!("{}: {why}", path.display());
        let head = read_at(&file, 0, file_size.min(4096) as usize)?;
        let header = FileHeader64::<LE>::parse(&head[..])
            .map_err(|_| err("not an ELF file (truncated or not an image)"))?;
        if header.e_type.get(LE) != ET_CORE {
            bail!(err(
                "not a checkpoint image (an ELF file, but not a core file; is this the executable?)"
            ));
        }
        let machine = header.e_machine.get(LE);
        let isa = isa::ALL
            .into_iter()
            .find(|i| i.elf_machine() == machine)
            .ok_or_else(|| err(&format!("an image of an unsupported machine ({machine})")))?;
        let phoff = header.e_phoff.get(LE);
        let phnum = u64::from(header.e_phnum.get(LE));
        let ph_end = phoff + phnum * std::mem::size_of::<ProgramHeader64<LE>>() as u64;
        if ph_end > file_size || ph_end > MAX_HEADERS {
            bail!(err("truncated (its program headers end past the file)"));
        }
        let headers = read_at(&file, 0, ph_end as usize)?;
        let header = FileHeader64::<LE>::parse(&headers[..]).map_err(|_| err("corrupt header"))?;
        let phdrs = header
            .program_headers(LE, &headers[..])
            .map_err(|_| err("corrupt program headers"))?;
        let mut image = Image {
            path: path.to_path_buf(),
            isa,
            segments: Vec::new(),
            registers: Vec::new(),
            fp_registers: Vec::new(),
            build_id: Vec::new(),
            state: State::default(),
            executable: PathBuf::new(),
            cwd: PathBuf::new(),
            files: Vec::new(),
            signals: Vec::new(),
            frames: Vec::new(),
            file,
            file_size,
        };
        let mut seen = Notes::default();
        for ph in phdrs {
            match ph.p_type(LE) {
                PT_NOTE => {
                    let (off, size) = (ph.p_offset(LE), ph.p_filesz(LE));
                    if off.checked_add(size).is_none_or(|end| end > file_size) {
                        bail!(err("truncated (the notes end past the file)"));
                    }
                    if size > MAX_HEADERS {
                        bail!(err("corrupt (notes too large)"));
                    }
                    let bytes = read_at(&image.file, off, size as usize)?;
                    image
                        .read_notes(&bytes, &mut seen)
                        .map_err(|e| err(&e.to_string()))?;
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
                        bail!(err(&format!(
                            "truncated (the memory at {:#x} ends past the file)",
                            s.address
                        )));
                    }
                    image.segments.push(s);
                }
                _ => {}
            }
        }
        seen.complete().map_err(|e| err(&e))?;
        Ok(image)
    }

    fn read_notes(&mut self, bytes: &[u8], seen: &mut Notes) -> Result<()> {
        let mut at = 0usize;
        while at + 12 <= bytes.len() {
            let word = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
            let (namesz, descsz, kind) = (word(0) as usize, word(4) as usize, word(8));
            let name_at = at + 12;
            let desc_at = name_at + namesz.next_multiple_of(4);
            let end = desc_at
                .checked_add(descsz)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| anyhow!("corrupt notes (a note runs past its segment)"))?;
            let name = bytes[name_at..name_at + namesz]
                .strip_suffix(b"\0")
                .unwrap_or(&[]);
            let desc = &bytes[desc_at..end];
            at = desc_at + descsz.next_multiple_of(4);
            match (name, kind) {
                (b"CORE", NT_PRSTATUS) => {
                    let names = self.isa.core_registers();
                    if desc.len() < PR_REG + names.len() * 8 {
                        bail!("corrupt registers note");
                    }
                    self.registers = names
                        .iter()
                        .enumerate()
                        .map(|(i, (n, _))| (*n, u64_at(desc, PR_REG + i * 8)))
                        .collect();
                    seen.registers = true;
                }
                (b"CORE", NT_FPREGSET) => self.fp_registers = desc.to_vec(),
                (b"GNU", NT_GNU_BUILD_ID) => self.build_id = desc.to_vec(),
                (NOTE_NAME, NOTE_STATE) => {
                    if desc.len() < 4 || u32_at(desc, 0) != VERSION {
                        bail!(
                            "written by another version of landmark-rt (image version {}, this \
                             migrate reads {VERSION})",
                            if desc.len() >= 4 { u32_at(desc, 0) } else { 0 }
                        );
                    }
                    if desc.len() != 80 {
                        bail!("corrupt runtime state note");
                    }
                    self.state = State {
                        call_site: u32_at(desc, 4),
                        hits: u64_at(desc, 8),
                        brk_start: u64_at(desc, 16),
                        brk: u64_at(desc, 24),
                        stack_low: u64_at(desc, 32),
                        stack_high: u64_at(desc, 40),
                        thread_pointer: u64_at(desc, 48),
                        signal_mask: u64_at(desc, 56),
                        umask: u32_at(desc, 64),
                        pid: u32_at(desc, 68),
                        vdso: u64_at(desc, 72),
                    };
                    seen.state = true;
                }
                (NOTE_NAME, NOTE_EXE) => self.executable = PathBuf::from(c_string(desc)?),
                (NOTE_NAME, NOTE_CWD) => self.cwd = PathBuf::from(c_string(desc)?),
                (NOTE_NAME, NOTE_FILES) => self.files = parse_files(desc)?,
                (NOTE_NAME, NOTE_FRAMES) => {
                    self.frames = desc
                        .chunks_exact(24)
                        .map(|c| WalkedFrame {
                            pc: u64_at(c, 0),
                            sp: u64_at(c, 8),
                            call_site: u32_at(c, 16),
                        })
                        .collect()
                }
                (NOTE_NAME, NOTE_SIGNALS) => {
                    self.signals = desc
                        .chunks_exact(40)
                        .map(|c| SignalHandler {
                            signal: u32_at(c, 0),
                            handler: u64_at(c, 8),
                            flags: u64_at(c, 16),
                        })
                        .collect()
                }
                _ => {}
            }
        }
        seen.build_id |= !self.build_id.is_empty();
        seen.executable |= !self.executable.as_os_str().is_empty();
        Ok(())
    }

    /// The value of the register named `name` (as in [`Image::registers`]).
    pub fn register(&self, name: &str) -> Option<u64> {
        self.registers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// Reads `len` bytes of the program's memory at `address`, all inside one
    /// segment.
    pub fn read_memory(&self, address: u64, len: usize) -> Result<Vec<u8>> {
        let s = self
            .segments
            .iter()
            .find(|s| address >= s.address && address + len as u64 <= s.address + s.size)
            .ok_or_else(|| anyhow!("{address:#x}: not in the image's memory"))?;
        if !s.saved {
            return Ok(vec![0; len]);
        }
        read_at(&self.file, s.offset + (address - s.address), len)
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

    /// The file's size.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The build-id as lowercase hex.
    pub fn build_id_hex(&self) -> String {
        hex(&self.build_id)
    }
}

/// Which required notes were found.
#[derive(Default)]
struct Notes {
    registers: bool,
    state: bool,
    build_id: bool,
    executable: bool,
}

impl Notes {
    fn complete(&self) -> std::result::Result<(), String> {
        let missing: Vec<&str> = [
            (self.registers, "registers"),
            (self.state, "runtime state"),
            (self.build_id, "build-id"),
            (self.executable, "executable path"),
        ]
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, n)| n)
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

/// The build-id of an executable file (its NT_GNU_BUILD_ID note).
pub fn executable_build_id(path: &Path) -> Result<Vec<u8>> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = object::File::parse(&data[..])
        .with_context(|| format!("{}: not an executable", path.display()))?;
    let section = file
        .section_by_name(".note.gnu.build-id")
        .ok_or_else(|| anyhow!("{}: has no build-id", path.display()))?;
    let note = section.data()?;
    if note.len() < 16 {
        bail!("{}: corrupt build-id note", path.display());
    }
    let (namesz, descsz) = (u32_at(note, 0) as usize, u32_at(note, 4) as usize);
    let desc_at = 12 + namesz.next_multiple_of(4);
    note.get(desc_at..desc_at + descsz)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| anyhow!("{}: corrupt build-id note", path.display()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_at(file: &File, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset)
        .context("the image is truncated")?;
    Ok(buf)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn c_string(desc: &[u8]) -> Result<String> {
    let s = desc
        .strip_suffix(b"\0")
        .ok_or_else(|| anyhow!("corrupt path note"))?;
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// landmark-rt's open-files note: 48-byte records (fd, status flags, fd
/// flags, kind, offset, dev, inode, path length, padding), each followed by
/// its NUL-terminated path padded to 8 bytes.
fn parse_files(desc: &[u8]) -> Result<Vec<OpenFile>> {
    const RECORD: usize = 48;
    let mut out = Vec::new();
    let mut at = 0;
    while at + RECORD <= desc.len() {
        let r = &desc[at..];
        let path_len = u32_at(r, 40) as usize;
        let path = desc
            .get(at + RECORD..at + RECORD + path_len)
            .ok_or_else(|| anyhow!("corrupt open-files note"))?;
        let kind = match u32_at(r, 12) {
            1 => FileKind::Regular,
            2 => FileKind::Directory,
            3 => FileKind::Device,
            4 => FileKind::Stream,
            k => bail!("corrupt open-files note (kind {k})"),
        };
        out.push(OpenFile {
            fd: u32_at(r, 0) as i32,
            flags: u32_at(r, 4) as i32,
            close_on_exec: u32_at(r, 8) & 1 != 0,
            kind,
            offset: u64_at(r, 16) as i64,
            path: c_string(path)?,
        });
        at += RECORD + path_len.next_multiple_of(8);
    }
    Ok(out)
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

    /// A minimal x86_64 image: the notes a landmark-rt image has, and one
    /// saved page of memory at 0x1000_0000 filled with 0xab.
    fn synthetic() -> Vec<u8> {
        let mut notes = Vec::new();
        let mut prstatus = vec![0u8; 336];
        prstatus[PR_REG + 16 * 8..PR_REG + 17 * 8].copy_from_slice(&0x1000_1234u64.to_le_bytes());
        note(&mut notes, b"CORE", NT_PRSTATUS, &prstatus);
        note(&mut notes, b"CORE", NT_FPREGSET, &[0; 512]);
        note(&mut notes, b"GNU", NT_GNU_BUILD_ID, &[1, 2, 3, 4]);
        let mut state = vec![0u8; 80];
        state[..4].copy_from_slice(&VERSION.to_le_bytes());
        state[4..8].copy_from_slice(&7u32.to_le_bytes());
        note(&mut notes, NOTE_NAME, NOTE_STATE, &state);
        note(&mut notes, NOTE_NAME, NOTE_EXE, b"/nowhere/prog.x86_64\0");
        let mut file = vec![0u8; 64 + 2 * 56];
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
        file[56..58].copy_from_slice(&2u16.to_le_bytes());
        let notes_at = file.len() as u64;
        let memory_at = 0x1000u64;
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
        file[120..176].copy_from_slice(&ph(PT_LOAD, memory_at, 0x1000_0000, 0x1000));
        file.extend_from_slice(&notes);
        file.resize(memory_at as usize, 0);
        file.extend_from_slice(&[0xab; 0x1000]);
        file
    }

    fn read_bytes(bytes: &[u8]) -> Result<Image> {
        let dir = std::env::temp_dir().join(format!("image-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.core",
            bytes.len() ^ bytes.iter().map(|&b| b as usize).sum::<usize>()
        ));
        std::fs::write(&path, bytes).unwrap();
        let r = Image::read(&path);
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn reads_a_synthetic_image() {
        let image = read_bytes(&synthetic()).unwrap();
        assert_eq!(image.isa.name(), "x86_64");
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
}
