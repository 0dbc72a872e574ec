//! The image's checksums (NOTE_INTEGRITY, always the last note), so that a
//! corrupted image is refused by name instead of resumed.
//!
//! The note's descriptor is an [`IntegrityHead`], then one XXH64 (seed 0)
//! per PT_LOAD in program-header order, of the segment's identity (its
//! [`SegmentIdentity`]: address, size, flags) followed by its saved bytes
//! (none if it is not saved), so that memory moved, resized or re-flagged
//! fails as surely as memory changed; then the XXH64 of the headers: the ELF header (64 bytes),
//! the program headers, and the note segment up to these last 8 bytes (so
//! every note, the registers, and the memory checksums themselves). The
//! headers' checksum is cheap and every reader verifies it, the runtime
//! too before it maps anything; the memory's costs a read of every saved
//! byte and is verified on request (`--verify`), so restore time does not
//! grow with the heap.
//!
//! XXH64, not a cryptographic hash: this catches corruption (disk, a
//! truncated copy, a careless edit, a translator bug), not an attacker who
//! can rewrite the file, who could recompute any unkeyed checksum. What
//! keeps a rewritten image from doing harm beyond the program's own
//! computation is the structural check (`check.rs`).

use crate::c_struct::CStruct;
use xxhash_rust::xxh64::Xxh64;

/// [`IntegrityHead::algorithm`]: XXH64, seed 0.
pub const XXH64: u32 = 1;

/// A memory checksum of 0: the segment's bytes were not summed (written in
/// place, only the pages the program changed: landmark-rt's `image.c`,
/// `ImageWriter::write_in_place`); [`crate::image::Image::verify_memory`]
/// skips it. (A real XXH64 of 0 is then merely not checked.)
pub const NOT_SUMMED: u64 = 0;

c_struct! {
    /// The start of the integrity note; `segments` memory checksums and the
    /// headers' checksum follow (each a u64).
    pub struct IntegrityHead as "image_integrity" {
        /// XXH64.
        pub algorithm: u32,
        /// How many PT_LOADs the image has (and memory checksums follow).
        pub segments: u32,
    }
}

c_struct! {
    /// What a memory checksum starts with: the segment it belongs to.
    pub struct SegmentIdentity as "segment_identity" {
        /// p_vaddr.
        pub address: u64,
        /// p_memsz.
        pub size: u64,
        /// p_flags.
        pub flags: u32,
        /// 0.
        pub pad: u32,
    }
}

/// The integrity note's descriptor size for `segments` PT_LOADs.
pub fn note_size(segments: usize) -> usize {
    IntegrityHead::SIZE + 8 * segments + 8
}

/// The headers' checksum: `file_header` (the ELF header), `program_headers`,
/// and `notes`, the note segment without its last 8 bytes.
pub fn headers_checksum(file_header: &[u8], program_headers: &[u8], notes: &[u8]) -> u64 {
    let mut h = Xxh64::new(0);
    h.update(file_header);
    h.update(program_headers);
    h.update(notes);
    h.digest()
}

/// A segment's memory checksum, fed its bytes in pieces.
pub struct MemoryChecksum(Xxh64);

impl MemoryChecksum {
    /// For the segment at `address`, `size` bytes, with ELF `flags`.
    pub fn new(address: u64, size: u64, flags: u32) -> MemoryChecksum {
        let mut h = Xxh64::new(0);
        h.update(
            &SegmentIdentity {
                address,
                size,
                flags,
                pad: 0,
            }
            .to_bytes(),
        );
        MemoryChecksum(h)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes)
    }

    pub fn digest(&self) -> u64 {
        self.0.digest()
    }
}

/// The memory checksum of a segment whose saved bytes (empty if it is not
/// saved) are all in `bytes`.
pub fn memory_checksum(address: u64, size: u64, flags: u32, bytes: &[u8]) -> u64 {
    let mut h = MemoryChecksum::new(address, size, flags);
    h.update(bytes);
    h.digest()
}

/// The integrity note's descriptor, the headers' checksum left 0 (it is
/// the last 8 bytes; the writer fills them in once the headers are known).
pub fn encode(memory: &[u64]) -> Vec<u8> {
    let mut out = IntegrityHead {
        algorithm: XXH64,
        segments: memory.len() as u32,
    }
    .to_bytes();
    for m in memory {
        out.extend_from_slice(&m.to_le_bytes());
    }
    out.extend_from_slice(&0u64.to_le_bytes());
    out
}

/// The memory checksums of an integrity descriptor of the right size for
/// `segments` PT_LOADs, or why it is not one.
pub fn decode(desc: &[u8], segments: usize) -> Result<Vec<u64>, String> {
    let head = IntegrityHead::decode(desc).ok_or("its integrity note is truncated")?;
    if head.algorithm != XXH64 {
        return Err(format!(
            "its checksums use an unknown algorithm ({})",
            head.algorithm
        ));
    }
    if head.segments as usize != segments || desc.len() != note_size(segments) {
        return Err(format!(
            "its integrity note covers {} memory segments, and it has {segments}",
            head.segments
        ));
    }
    Ok(desc[IntegrityHead::SIZE..desc.len() - 8]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

/// Recomputes the checksums of an image in memory: the headers', and with
/// `memory` every saved segment's too. For tests that change an image on
/// purpose (a corruption the checksum would otherwise catch first, to
/// reach the structural checks behind it) and for tools that edit images.
/// The image must already end its notes with an integrity note of the
/// right size.
pub fn seal(file: &mut [u8], memory: bool) -> Result<(), String> {
    use object::elf::{FileHeader64, PT_LOAD, PT_NOTE};
    use object::read::elf::{FileHeader, ProgramHeader};
    use object::LittleEndian as LE;
    let header = FileHeader64::<LE>::parse(&*file).map_err(|_| "not an ELF file")?;
    let phoff = header.e_phoff.get(LE) as usize;
    let phnum = header.e_phnum.get(LE) as usize;
    let ph_end = phnum
        .checked_mul(56)
        .and_then(|n| n.checked_add(phoff))
        .filter(|&e| e <= file.len())
        .ok_or("program headers past the end")?;
    let phdrs = header
        .program_headers(LE, &*file)
        .map_err(|_| "corrupt program headers")?;
    let mut notes = None;
    let mut loads = Vec::new();
    for ph in phdrs {
        let (off, size) = (ph.p_offset(LE) as usize, ph.p_filesz(LE) as usize);
        let range = off..off
            .checked_add(size)
            .filter(|&e| e <= file.len())
            .ok_or("past the end")?;
        match ph.p_type(LE) {
            PT_NOTE => notes = Some(range),
            PT_LOAD => loads.push((ph.p_vaddr(LE), ph.p_memsz(LE), ph.p_flags(LE), range)),
            _ => {}
        }
    }
    let notes = notes.ok_or("no notes")?;
    let desc_end = notes.end.checked_sub(8).ok_or("notes too short")?;
    let sums_at = desc_end
        .checked_sub(8 * loads.len())
        .filter(|&a| a >= notes.start)
        .ok_or("notes too short")?;
    if memory {
        for (i, (address, size, flags, r)) in loads.iter().enumerate() {
            let sum = memory_checksum(*address, *size, *flags, &file[r.clone()]);
            file[sums_at + 8 * i..sums_at + 8 * i + 8].copy_from_slice(&sum.to_le_bytes());
        }
    }
    let sum = headers_checksum(
        &file[..64],
        &file[phoff..ph_end],
        &file[notes.start..desc_end],
    );
    file[desc_end..notes.end].copy_from_slice(&sum.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference values from xxHash's own test suite (XXH64, seed 0),
    /// which landmark-rt's C implementation is checked against too
    /// (tests/e2e/format.rs reads the runtime's images).
    #[test]
    fn xxh64_reference_values() {
        use xxhash_rust::xxh64::xxh64;
        assert_eq!(xxh64(b"", 0), 0xef46_db37_51d8_e999);
        assert_eq!(xxh64(b"a", 0), 0xd24e_c4f1_a98c_6e5b);
        assert_eq!(xxh64(b"abc", 0), 0x44bc_2cf5_ad77_0999);
        // Past 32 bytes (the stripes): what landmark-rt's xxh64.c gives for
        // bytes i*7 mod 256, i < 1000, fed whole or 13 at a time.
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(xxh64(&bytes, 0), 0x2527_5608_a9cf_c168);
    }

    #[test]
    fn decode_refuses_the_wrong_shape() {
        let desc = encode(&[1, 2, 3]);
        assert_eq!(decode(&desc, 3).unwrap(), vec![1, 2, 3]);
        assert!(decode(&desc, 2).is_err());
        assert!(decode(&desc[..desc.len() - 1], 3).is_err());
        let mut other = desc.clone();
        other[0] = 9;
        assert!(decode(&other, 3).unwrap_err().contains("unknown algorithm"));
    }
}
