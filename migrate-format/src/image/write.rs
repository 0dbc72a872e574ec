//! Writing images: the Rust twin of landmark-rt's `image.c`, byte for byte
//! (an image the runtime wrote, read and written again here, is the same
//! file), through `object`'s ELF writer. The translator builds its images
//! with it.

use super::notes::{NOTE_INTEGRITY, NOTE_NAME};
use super::{integrity, memory_offset, Image, Note, Segment};
use crate::error::{Error, Result};
use crate::window::IMAGE_ALIGN;
use crate::Arch;
use object::elf;
use object::write::elf::{FileHeader, ProgramHeader, Writer};
use object::Endianness;
use std::mem::size_of;
use std::path::Path;

/// What a segment's memory holds.
#[derive(Debug, Clone, Copy)]
pub enum Contents<'a> {
    /// Not saved: the restored pages are zero (`p_filesz` 0).
    NotSaved,
    /// These bytes (as many as the segment's size).
    Bytes(&'a [u8]),
    /// The same addresses' bytes in another image.
    From(&'a Image),
    /// The same addresses' bytes in another image, with these bytes (each
    /// at its address, inside the segment) written over them.
    Patched(&'a Image, &'a [(u64, Vec<u8>)]),
}

/// An image to write: its notes and segments, in file order.
pub struct ImageWriter<'a> {
    arch: Arch,
    notes: Vec<Note>,
    segments: Vec<(Segment, Contents<'a>)>,
    /// Laid out and written by [`ImageWriter::write_in_place`].
    in_place: bool,
}

impl<'a> ImageWriter<'a> {
    pub fn new(arch: Arch) -> ImageWriter<'a> {
        ImageWriter {
            arch,
            notes: Vec::new(),
            segments: Vec::new(),
            in_place: false,
        }
    }

    /// Everything `image` holds: its notes and memory, unchanged.
    pub fn copy_of(image: &'a Image) -> ImageWriter<'a> {
        let mut w = ImageWriter::new(image.arch);
        w.notes = image.notes.clone();
        for s in &image.segments {
            let contents = if s.saved {
                Contents::From(image)
            } else {
                Contents::NotSaved
            };
            w.segments.push((s.clone(), contents));
        }
        w
    }

    /// `image` written from what the reader made of it: every note it
    /// interprets (registers, runtime state, paths, open files, signals,
    /// frames) encoded again from the parsed values, the others (such as
    /// NT_PRPSINFO) copied, in the same order; the same memory. For an image
    /// the runtime wrote, the result is the same file: the check that both
    /// sides encode every note alike. The translator starts from this and
    /// changes the values.
    pub fn rebuilt(image: &'a Image) -> ImageWriter<'a> {
        use super::notes::*;
        let mut w = ImageWriter::copy_of(image);
        for note in &mut w.notes {
            let ours = note.name == NOTE_NAME.as_bytes();
            note.desc = match (note.name.as_slice(), note.kind) {
                (b"CORE", NT_PRSTATUS) => {
                    let mut desc = note.desc.clone();
                    for (i, (_, value)) in image.registers.iter().enumerate() {
                        let at = super::registers::PR_REG + i * 8;
                        desc[at..at + 8].copy_from_slice(&value.to_le_bytes());
                    }
                    desc
                }
                (b"CORE", NT_FPREGSET) => image.fp_registers.clone(),
                (b"GNU", NT_GNU_BUILD_ID) => image.build_id.clone(),
                (_, NOTE_STATE) if ours => crate::c_struct::CStruct::to_bytes(&image.state),
                (_, NOTE_EXE) if ours => c_string_bytes(&image.executable),
                (_, NOTE_CWD) if ours => c_string_bytes(&image.cwd),
                (_, NOTE_FILES) if ours => encode_files(&image.files),
                (_, NOTE_SIGNALS) if ours => encode_array(&image.signals),
                (_, NOTE_FRAMES) if ours => encode_array(&image.frames),
                _ => continue,
            };
        }
        w
    }

    /// Adds a note after the others.
    pub fn note(&mut self, note: Note) -> &mut Self {
        self.notes.push(note);
        self
    }

    /// The notes, to change before writing.
    pub fn notes_mut(&mut self) -> &mut Vec<Note> {
        &mut self.notes
    }

    /// Adds a segment after the others (its `offset` and `saved` are
    /// decided when writing, from `contents`).
    pub fn segment(&mut self, segment: Segment, contents: Contents<'a>) -> &mut Self {
        self.segments.push((segment, contents));
        self
    }

    /// The note segment's bytes: each note's header, name and descriptor,
    /// both padded to 4 bytes; last the integrity note for `memory`, its
    /// headers' checksum still 0.
    fn note_bytes(&self, memory: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        let integrity = Note::new(NOTE_NAME, NOTE_INTEGRITY, integrity::encode(memory));
        let ours = |n: &&Note| !(n.name == NOTE_NAME.as_bytes() && n.kind == NOTE_INTEGRITY);
        for n in self.notes.iter().filter(ours).chain([&integrity]) {
            let namesz = n.name.len() + 1;
            out.extend_from_slice(&(namesz as u32).to_le_bytes());
            out.extend_from_slice(&(n.desc.len() as u32).to_le_bytes());
            out.extend_from_slice(&n.kind.to_le_bytes());
            out.extend_from_slice(&n.name);
            out.resize(out.len() + namesz.next_multiple_of(4) - namesz + 1, 0);
            out.extend_from_slice(&n.desc);
            out.resize(out.len().next_multiple_of(4), 0);
        }
        out
    }

    /// Each segment's memory checksum: a copied segment keeps its source's
    /// recorded checksum, so corruption in the source is still caught in the
    /// copy rather than sealed in.
    fn memory_checksums(&self) -> Result<Vec<u64>> {
        self.segments
            .iter()
            .map(|(s, contents)| match contents {
                // In place, a sum would read the whole segment.
                Contents::Patched(..) if self.in_place => Ok(integrity::NOT_SUMMED),
                Contents::Patched(image, patches) => {
                    let mut sum = integrity::MemoryChecksum::new(s.address, s.size, s.flags());
                    for_each_chunk(image, s, patches, |bytes| {
                        sum.update(bytes);
                        Ok(())
                    })?;
                    Ok(sum.digest())
                }
                Contents::NotSaved => Ok(integrity::memory_checksum(
                    s.address,
                    s.size,
                    s.flags(),
                    &[],
                )),
                Contents::Bytes(b) => {
                    Ok(integrity::memory_checksum(s.address, s.size, s.flags(), b))
                }
                Contents::From(image) => {
                    let same = image.segments.iter().position(|o| {
                        o.saved
                            && o.address == s.address
                            && o.size == s.size
                            && o.flags() == s.flags()
                    });
                    if let Some(i) = same {
                        return Ok(image.memory_checksums[i]);
                    }
                    let mut sum = integrity::MemoryChecksum::new(s.address, s.size, s.flags());
                    for_each_chunk(image, s, &[], |bytes| {
                        sum.update(bytes);
                        Ok(())
                    })?;
                    Ok(sum.digest())
                }
            })
            .collect()
    }

    /// Writes the image to `path`: to a temporary file beside it first,
    /// renamed into place only once complete (mode 0600), so a failure
    /// never leaves a partial file where a good one was.
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".image-")
            .tempfile_in(dir)
            .map_err(Error::io(dir))?;
        self.write_file(tmp.as_file())
            .map_err(Error::io(tmp.path()))?;
        tmp.persist(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.error,
        })?;
        Ok(())
    }

    /// The whole image in memory.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }
}

/// Where everything goes in the file.
struct Layout {
    /// The ELF header and program headers.
    headers: Vec<u8>,
    notes: Vec<u8>,
    /// Each segment's file offset, if saved.
    placed: Vec<Option<u64>>,
    /// The file's size.
    end: u64,
}

impl<'a> ImageWriter<'a> {
    fn layout(&self) -> Result<Layout> {
        for (s, contents) in &self.segments {
            if let Contents::Bytes(b) = contents {
                if b.len() as u64 != s.size {
                    return Err(Error::corrupt(
                        "image to write",
                        format!(
                            "{} bytes for the {}-byte segment at {:#x}",
                            b.len(),
                            s.size,
                            s.address
                        ),
                    ));
                }
            }
        }
        let mut notes = self.note_bytes(&self.memory_checksums()?);
        // The layout: headers, notes, then each saved segment at an offset
        // restore can map.
        let headers_len = size_of::<elf::FileHeader64<Endianness>>()
            + (1 + self.segments.len()) * size_of::<elf::ProgramHeader64<Endianness>>();
        let notes_at = headers_len as u64;
        let mut end = notes_at + notes.len() as u64;
        let placed: Vec<Option<u64>> = self
            .segments
            .iter()
            .map(|(s, contents)| {
                if matches!(contents, Contents::NotSaved) {
                    return None;
                }
                if self.in_place {
                    return Some(s.address);
                }
                let at = memory_offset(end, s.address);
                end = at + s.size;
                Some(at)
            })
            .collect();
        let headers = self.headers(notes_at, notes.len() as u64, &placed)?;
        debug_assert_eq!(headers.len(), headers_len);
        let (file_header, program_headers) =
            headers.split_at(size_of::<elf::FileHeader64<Endianness>>());
        let n = notes.len();
        let sum = integrity::headers_checksum(file_header, program_headers, &notes[..n - 8]);
        notes[n - 8..].copy_from_slice(&sum.to_le_bytes());
        Ok(Layout {
            headers,
            notes,
            placed,
            end,
        })
    }

    fn write(&self, out: &mut dyn object::write::WritableBuffer) -> Result<()> {
        let Layout {
            headers,
            notes,
            placed,
            end,
        } = self.layout()?;
        out.reserve(end as usize)
            .map_err(|()| Error::corrupt("image to write", "too large for memory"))?;
        out.write_bytes(&headers);
        out.write_bytes(&notes);
        for ((s, contents), at) in self.segments.iter().zip(&placed) {
            let Some(at) = at else { continue };
            out.resize(*at as usize);
            let (image, patches) = match contents {
                Contents::NotSaved => unreachable!("placed only when saved"),
                Contents::Bytes(b) => {
                    out.write_bytes(b);
                    continue;
                }
                Contents::From(image) => (image, &[][..]),
                Contents::Patched(image, patches) => (image, &patches[..]),
            };
            for_each_chunk(image, s, patches, |bytes| {
                out.write_bytes(bytes);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Writes the image into the empty file `file` at its offsets. Memory
    /// copied from another image is copied file to file by the kernel
    /// (`std::io::copy` uses copy_file_range), not through this process: a
    /// translation rewrites the stacks and a few words and copies the
    /// rest, which is most of the image.
    fn write_file(&self, file: &std::fs::File) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::FileExt;
        let layout = self.layout().map_err(std::io::Error::other)?;
        file.write_all_at(&layout.headers, 0)?;
        file.write_all_at(&layout.notes, layout.headers.len() as u64)?;
        for ((s, contents), at) in self.segments.iter().zip(&layout.placed) {
            let Some(at) = *at else { continue };
            let (image, patches) = match contents {
                Contents::NotSaved => unreachable!("placed only when saved"),
                Contents::Bytes(b) => {
                    file.write_all_at(b, at)?;
                    continue;
                }
                Contents::From(image) => (image, &[][..]),
                Contents::Patched(image, patches) => (image, &patches[..]),
            };
            let source = image
                .segments
                .iter()
                .find(|o| o.address <= s.address && s.address + s.size <= o.address + o.size);
            match source {
                // Zeros: the file is sparse there until written.
                Some(o) if !o.saved => {}
                Some(o) => {
                    let mut from = &image.file;
                    from.seek(SeekFrom::Start(o.offset + (s.address - o.address)))?;
                    let mut to = file;
                    to.seek(SeekFrom::Start(at))?;
                    let copied = std::io::copy(&mut from.take(s.size), &mut to)?;
                    if copied != s.size {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!("{}: the image is truncated", image.path.display()),
                        ));
                    }
                }
                None => {
                    let mut done = at;
                    for_each_chunk(image, s, &[], |bytes| {
                        file.write_all_at(bytes, done)
                            .map_err(|e| Error::corrupt("image to write", e.to_string()))?;
                        done += bytes.len() as u64;
                        Ok(())
                    })
                    .map_err(std::io::Error::other)?;
                }
            }
            for (address, bytes) in patches {
                file.write_all_at(bytes, at + (address - s.address))?;
            }
        }
        file.set_len(layout.end)?;
        Ok(())
    }

    /// Writes the image into the file of `source`, an image laid out at its
    /// addresses ([`Image::at_addresses`]) whose memory every segment copied
    /// comes from: only the new bytes (a rebuilt stack, patched words), then
    /// the headers and notes over the old. Nothing of the old image is
    /// usable if this fails part way: for `migrate mtd`'s private images,
    /// whose program has ended. Memory patched in place is not summed.
    pub fn write_in_place(mut self, source: &Image) -> Result<()> {
        use std::os::unix::fs::FileExt;
        if !source.at_addresses() {
            return Err(Error::corrupt(
                "image to write",
                "in place only into an image laid out at its addresses",
            ));
        }
        let other = |image: &Image| !std::ptr::eq(image, source);
        let covering = |s: &Segment| {
            source
                .segments
                .iter()
                .find(|o| o.address <= s.address && s.address + s.size <= o.address + o.size)
        };
        for (s, contents) in &self.segments {
            if let Contents::From(image) | Contents::Patched(image, _) = contents {
                if other(image) || !covering(s).is_some_and(|o| o.saved) {
                    return Err(Error::corrupt(
                        "image to write",
                        format!(
                            "the memory at {:#x} is not in the image written over",
                            s.address
                        ),
                    ));
                }
            }
        }
        self.in_place = true;
        let layout = self.layout()?;
        let lowest = self
            .segments
            .iter()
            .zip(&layout.placed)
            .filter_map(|(_, at)| *at)
            .min()
            .unwrap_or(u64::MAX);
        if (layout.headers.len() + layout.notes.len()) as u64 > lowest {
            return Err(Error::corrupt(
                "image to write",
                "its headers and notes do not fit below its memory",
            ));
        }
        let path = &source.path;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(Error::io(path))?;
        for ((s, contents), at) in self.segments.iter().zip(&layout.placed) {
            let Some(at) = *at else { continue };
            match contents {
                Contents::NotSaved | Contents::From(_) => {}
                Contents::Bytes(b) => file.write_all_at(b, at).map_err(Error::io(path))?,
                Contents::Patched(_, patches) => {
                    for (address, bytes) in patches.iter() {
                        file.write_all_at(bytes, at + (address - s.address))
                            .map_err(Error::io(path))?;
                    }
                }
            }
        }
        file.write_all_at(&layout.headers, 0)
            .map_err(Error::io(path))?;
        file.write_all_at(&layout.notes, layout.headers.len() as u64)
            .map_err(Error::io(path))?;
        Ok(())
    }

    /// The ELF header and program headers, encoded by `object`.
    fn headers(&self, notes_at: u64, notes_len: u64, placed: &[Option<u64>]) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut w = Writer::new(Endianness::Little, true, &mut bytes);
        w.reserve_file_header();
        w.reserve_program_headers(1 + self.segments.len() as u32);
        let header = FileHeader {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_type: elf::ET_CORE,
            e_machine: self.arch.elf_machine(),
            e_entry: 0,
            e_flags: 0,
        };
        w.write_file_header(&header)
            .map_err(|e| Error::corrupt("image to write", e.to_string()))?;
        w.write_align_program_headers();
        w.write_program_header(&ProgramHeader {
            p_type: elf::PT_NOTE,
            p_flags: 0,
            p_offset: notes_at,
            p_vaddr: 0,
            p_paddr: 0,
            p_filesz: notes_len,
            p_memsz: 0,
            p_align: 4,
        });
        for ((s, _), at) in self.segments.iter().zip(placed) {
            w.write_program_header(&ProgramHeader {
                p_type: elf::PT_LOAD,
                p_flags: flags(s),
                p_offset: at.unwrap_or(0),
                p_vaddr: s.address,
                p_paddr: 0,
                p_filesz: if at.is_some() { s.size } else { 0 },
                p_memsz: s.size,
                p_align: IMAGE_ALIGN,
            });
        }
        Ok(bytes)
    }
}

/// `image`'s bytes for segment `s`, in chunks (segments can be hundreds of
/// megabytes), with `patches` (each inside the segment) written over them.
fn for_each_chunk(
    image: &Image,
    s: &Segment,
    patches: &[(u64, Vec<u8>)],
    mut f: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    let mut done = 0;
    let mut buf = Vec::new();
    while done < s.size {
        let n = CHUNK.min(s.size - done);
        let at = s.address + done;
        buf.resize(n as usize, 0);
        image.read_memory_into(at, &mut buf)?;
        for (address, bytes) in patches {
            // The part of the patch inside this chunk.
            let lo = (*address).max(at);
            let hi = (address + bytes.len() as u64).min(at + n);
            if lo < hi {
                buf[(lo - at) as usize..(hi - at) as usize]
                    .copy_from_slice(&bytes[(lo - address) as usize..(hi - address) as usize]);
            }
        }
        f(&buf)?;
        done += n;
    }
    Ok(())
}

/// A segment's `p_flags`.
fn flags(s: &Segment) -> u32 {
    s.flags()
}

/// A path as a NUL-terminated note descriptor.
fn c_string_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut v = path.as_os_str().as_bytes().to_vec();
    v.push(0);
    v
}
