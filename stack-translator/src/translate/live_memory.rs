//! One pass over the memory a program may still use outside its machine
//! stack, looking for the two kinds of word the translator cares about:
//! a `setjmp` call site's return address (a `jmp_buf` may hold it) and an
//! address inside the frames being rebuilt (a pointer into the stack that
//! would have to move). Both used to be separate passes; for a program with
//! megabytes of heap, reading it once halves the translation's I/O.

use super::TranslateError;
use migrate_format::image::Image;
use migrate_format::window::{MAX_STACK_SIZE, UNSAFE_STACK_TOP};
use std::collections::HashMap;
use std::ops::Range;

/// The saved memory outside the machine stack that the program may still
/// use: every saved segment but the stack's, and of the unsafe stack only
/// what lies above `unsafe_sp` (the program's unsafe stack pointer; below
/// it is dead, like the machine stack below the stack pointer). As
/// (address, size) ranges.
pub fn ranges(image: &Image, unsafe_sp: Option<u64>) -> Vec<(u64, u64)> {
    let (lo, hi) = (image.state.stack_lo, image.state.stack_hi);
    let mut out = Vec::new();
    for s in image.segments.iter().filter(|s| s.saved) {
        if s.address >= lo && s.address < hi {
            continue;
        }
        let start = match unsafe_sp {
            Some(usp) if in_unsafe_stack(s.address) => usp.clamp(s.address, s.address + s.size),
            _ => s.address,
        };
        if start < s.address + s.size {
            out.push((start, s.address + s.size - start));
        }
    }
    out
}

fn in_unsafe_stack(address: u64) -> bool {
    (UNSAFE_STACK_TOP - MAX_STACK_SIZE..UNSAFE_STACK_TOP).contains(&address)
}

/// A word of memory holding an address inside the frames being rebuilt.
#[derive(Debug, Clone, Copy)]
pub struct StackAddress {
    /// Where the word is.
    pub at: u64,
    /// What it holds.
    pub value: u64,
    /// What the memory there is, for messages.
    pub place: &'static str,
}

/// What one pass found, in address order.
#[derive(Debug, Default)]
pub struct Found {
    /// (address of the word, call site) for each word equal to a key of
    /// the `returns` map given to [`scan`].
    pub returns: Vec<(u64, u32)>,
    /// Each word holding an address in the `stack` range given to [`scan`].
    pub stack_addresses: Vec<StackAddress>,
}

/// Reads the aligned words of `ranges` once.
pub fn scan(
    image: &Image,
    ranges: &[(u64, u64)],
    returns: &HashMap<u64, u32>,
    stack: Range<u64>,
) -> Result<Found, TranslateError> {
    const CHUNK: u64 = 1 << 20;
    let mut found = Found::default();
    let mut buffer = vec![0u8; CHUNK as usize];
    // Return addresses lie in the text, which most words of data and heap
    // do not point into: a range check spares the hash lookup (most of a
    // large heap's scan time).
    let text =
        returns.keys().min().copied().unwrap_or(1)..=returns.keys().max().copied().unwrap_or(0);
    for &(start, size) in ranges {
        let place = if in_unsafe_stack(start) {
            "the unsafe stack"
        } else {
            "data or heap"
        };
        let mut done = 0;
        while done < size {
            let n = CHUNK.min(size - done);
            let at = start + done;
            let bytes = &mut buffer[..n as usize];
            image
                .read_memory_into(at, bytes)
                .map_err(|e| TranslateError::Inconsistent(e.to_string()))?;
            words(at, bytes, |word, value| {
                if stack.contains(&value) {
                    found.stack_addresses.push(StackAddress {
                        at: word,
                        value,
                        place,
                    });
                }
                if text.contains(&value) {
                    if let Some(&site) = returns.get(&value) {
                        found.returns.push((word, site));
                    }
                }
            });
            done += n;
        }
    }
    Ok(found)
}

/// Calls `each(address, value)` for every aligned 8-byte word of `bytes`,
/// which lie at `at`.
pub fn words(at: u64, bytes: &[u8], mut each: impl FnMut(u64, u64)) {
    let skip = (at.wrapping_neg() % 8) as usize; // to the first aligned word
    for (i, w) in bytes.get(skip..).unwrap_or(&[]).chunks_exact(8).enumerate() {
        each(
            at + (skip + 8 * i) as u64,
            u64::from_le_bytes(w.try_into().unwrap()),
        );
    }
}
