//! One pass over the memory a program may still use outside its machine
//! stack, looking for the two kinds of word the translator cares about:
//! a `setjmp` call site's return address (a `jmp_buf` may hold it) and an
//! address inside the frames being rebuilt (a pointer into the stack that
//! would have to move). Both used to be separate passes; for a program with
//! megabytes of heap, reading it once halves the translation's I/O.
//!
//! `migrate mtd` translates the same image file again and again, and between
//! two translations the program changes a little of its memory: a
//! [`ScanCache`] keeps the few words worth a second look of every page it
//! read, so that only pages written since are read again.

use super::TranslateError;
use migrate_format::image::{Image, MappedMemory};
use migrate_format::window::{MAX_STACK_SIZE, UNSAFE_STACK_TOP};
use rustc_hash::FxHashSet;
use std::collections::{BTreeMap, HashMap};
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

impl Found {
    /// The word at `at` holding `value`, in memory `place`: kept if it
    /// points into `stack` or is a setjmp return address.
    fn consider(
        &mut self,
        at: u64,
        value: u64,
        place: &'static str,
        stack: &Range<u64>,
        returns: &HashMap<u64, u32>,
    ) {
        if stack.contains(&value) {
            self.stack_addresses.push(StackAddress { at, value, place });
        }
        if let Some(&site) = returns.get(&value) {
            self.returns.push((at, site));
        }
    }
}

/// Where the keys of `returns` (setjmp return addresses) lie: a range
/// check spares most words a hash lookup.
pub fn text_range(returns: &HashMap<u64, u32>) -> Range<u64> {
    returns.keys().min().copied().unwrap_or(1)..returns.keys().max().map_or(0, |m| m + 1)
}

/// What the memory of a range starting at `start` is, for messages.
fn place_of(start: u64) -> &'static str {
    if in_unsafe_stack(start) {
        "the unsafe stack"
    } else {
        "data or heap"
    }
}

const PAGE: u64 = 4096;

/// The file (device, inode) and the stack window a [`ScanCache`]'s entries
/// were made for.
type MadeFor = ((u64, u64), Range<u64>);

/// What earlier scans found in an image file's pages, for a later scan of
/// the same file to read only the pages changed since. Its keeper must say
/// what changed ([`ScanCache::forget_changed`], [`ScanCache::forget`])
/// before each scan: what it knows, it trusts.
#[derive(Default)]
pub struct ScanCache {
    made_for: Option<MadeFor>,
    /// The text range its words were kept for: every scan's setjmp return
    /// addresses must lie in it (the sides sharing it, together).
    text: Range<u64>,
    /// The pages read (their addresses).
    known: FxHashSet<u64>,
    /// Their aligned words whose value lies in the stack window or the
    /// text range: address to value.
    words: BTreeMap<u64, u64>,
    /// The file mapped shared, by [`WINDOW`]-aligned address, where it is
    /// laid out at its addresses: mapped once, these see every later write
    /// to the file, and a page read again costs neither a system call nor
    /// a page fault.
    windows: HashMap<u64, MappedMemory>,
}

impl std::fmt::Debug for ScanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanCache")
            .field("made_for", &self.made_for)
            .field("pages", &self.known.len())
            .field("words", &self.words.len())
            .field("windows", &self.windows.len())
            .finish()
    }
}

/// The span of one of a [`ScanCache`]'s mappings of its file.
const WINDOW: u64 = 2 << 20;

impl ScanCache {
    /// An empty cache for scans whose setjmp return addresses lie in
    /// `text`.
    pub fn new(text: Range<u64>) -> ScanCache {
        ScanCache {
            text,
            ..ScanCache::default()
        }
    }

    /// Forgets what `image` says it changed since the image its program
    /// was restored from (its written-memory note), or everything if it
    /// does not say or is another file.
    pub fn forget_changed(&mut self, image: &Image) {
        let same_file = self
            .made_for
            .as_ref()
            .is_some_and(|(file, ..)| Some(*file) == image.file_id());
        match &image.written {
            Some(ranges) if same_file => self.forget(ranges),
            _ => *self = ScanCache::new(self.text.clone()),
        }
    }

    /// Forgets the pages of `ranges` ([start, end) pairs).
    pub fn forget(&mut self, ranges: &[(u64, u64)]) {
        for &(start, end) in ranges {
            let (first, last) = (start - start % PAGE, end.next_multiple_of(PAGE));
            if (last - first) / PAGE > self.known.len() as u64 {
                self.known.retain(|&p| p < first || p >= last);
            } else {
                for p in (first..last).step_by(PAGE as usize) {
                    self.known.remove(&p);
                }
            }
            let gone: Vec<u64> = self.words.range(first..last).map(|(&a, _)| a).collect();
            for a in gone {
                self.words.remove(&a);
            }
        }
    }

    /// Reads the pages of [first, last) it does not know, and keeps their
    /// words whose value lies in one of `interesting`.
    fn learn(
        &mut self,
        image: &Image,
        (first, last): (u64, u64),
        interesting: [&Range<u64>; 2],
    ) -> Result<(), TranslateError> {
        const RUN: u64 = 1 << 20;
        // Only for memory the image cannot map (rare): read into this.
        let mut buffer = Vec::new();
        let mut page = first;
        while page < last {
            if self.known.contains(&page) {
                page += PAGE;
                continue;
            }
            // A run of pages not known, inside one window: read at once.
            let window = page - page % WINDOW;
            let run_end = last.min(page + RUN).min(window + WINDOW);
            let mut end = page + PAGE;
            while end < run_end && !self.known.contains(&end) {
                end += PAGE;
            }
            let len = (end - page) as usize;
            let once;
            let bytes: &[u8] = if let Some(w) = mapped_window(&mut self.windows, image, window) {
                let at = (page - window) as usize;
                &w[at..at + len]
            } else if let Some(m) = image.map_memory(page, len) {
                once = m;
                &once
            } else {
                buffer.resize(len, 0);
                image
                    .read_memory_into(page, &mut buffer)
                    .map_err(|e| TranslateError::Inconsistent(e.to_string()))?;
                &buffer
            };
            let words = &mut self.words;
            words_in(page, bytes, interesting, |word, value| {
                words.insert(word, value);
            });
            self.known.extend((page..end).step_by(PAGE as usize));
            page = end;
        }
        Ok(())
    }
}

/// The file's mapping of the window at `at` in `windows`, made on first
/// use; None if `image` is not laid out at its addresses.
fn mapped_window<'a>(
    windows: &'a mut HashMap<u64, MappedMemory>,
    image: &Image,
    at: u64,
) -> Option<&'a MappedMemory> {
    use std::collections::hash_map::Entry;
    match windows.entry(at) {
        Entry::Occupied(e) => Some(e.into_mut()),
        Entry::Vacant(e) => Some(e.insert(image.map_window(at, WINDOW as usize)?)),
    }
}

/// Calls `each(address, value)` for every aligned 8-byte word of `bytes`
/// (which lie at `at`) whose value lies in one of `ranges`. Words are
/// tested eight at a time without branches first: nearly none are wanted,
/// and this is the translator's hot loop when a program's heap is large.
fn words_in(at: u64, bytes: &[u8], ranges: [&Range<u64>; 2], mut each: impl FnMut(u64, u64)) {
    let bounds = ranges.map(|r| (r.start, r.end.saturating_sub(r.start)));
    let wanted = |v: u64| bounds.iter().any(|&(lo, len)| v.wrapping_sub(lo) < len);
    let skip = (at.wrapping_neg() % 8) as usize;
    let aligned = bytes.get(skip..).unwrap_or(&[]);
    let mut blocks = aligned.chunks_exact(64);
    for (b, block) in blocks.by_ref().enumerate() {
        let value = |i: usize| u64::from_le_bytes(block[8 * i..8 * i + 8].try_into().unwrap());
        let any = (0..8).fold(false, |any, i| {
            let v = value(i);
            any | bounds
                .iter()
                .fold(false, |hit, &(lo, len)| hit | (v.wrapping_sub(lo) < len))
        });
        if any {
            for i in (0..8).filter(|&i| wanted(value(i))) {
                each(at + (skip + 64 * b + 8 * i) as u64, value(i));
            }
        }
    }
    let tail_at = at + (skip + aligned.len() / 64 * 64) as u64;
    words(tail_at, blocks.remainder(), |word, value| {
        if wanted(value) {
            each(word, value)
        }
    });
}

/// Reads the aligned words of `ranges` once; with a cache, only the pages
/// it does not know.
pub fn scan(
    image: &Image,
    ranges: &[(u64, u64)],
    returns: &HashMap<u64, u32>,
    stack: Range<u64>,
    cache: Option<&std::sync::Mutex<ScanCache>>,
) -> Result<Found, TranslateError> {
    if let Some(cache) = cache {
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        return scan_cached(image, ranges, returns, stack, &mut cache);
    }
    const CHUNK: u64 = 1 << 20;
    let mut found = Found::default();
    let mut buffer = vec![0u8; CHUNK as usize];
    let text = text_range(returns);
    for &(start, size) in ranges {
        let place = place_of(start);
        let mut done = 0;
        while done < size {
            let n = CHUNK.min(size - done);
            let at = start + done;
            let bytes = &mut buffer[..n as usize];
            image
                .read_memory_into(at, bytes)
                .map_err(|e| TranslateError::Inconsistent(e.to_string()))?;
            words_in(at, bytes, [&stack, &text], |word, value| {
                found.consider(word, value, place, &stack, returns);
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

/// [`scan`] through `cache`.
fn scan_cached(
    image: &Image,
    ranges: &[(u64, u64)],
    returns: &HashMap<u64, u32>,
    stack: Range<u64>,
    cache: &mut ScanCache,
) -> Result<Found, TranslateError> {
    let Some(file) = image.file_id() else {
        return scan(image, ranges, returns, stack, None);
    };
    let text = text_range(returns);
    if !text.is_empty() && (text.start < cache.text.start || text.end > cache.text.end) {
        // Not a side the cache was made for: its words would be missed.
        return scan(image, ranges, returns, stack, None);
    }
    let text = cache.text.clone();
    let window = image.state.stack_lo..image.state.stack_hi;
    let made_for = (file, window.clone());
    if cache.made_for.as_ref() != Some(&made_for) {
        *cache = ScanCache {
            made_for: Some(made_for),
            ..ScanCache::new(text.clone())
        };
    }
    let mut found = Found::default();
    for &(start, size) in ranges {
        let end = start + size;
        // Whole pages (segments are page-aligned; a range may start inside
        // one, at the unsafe stack's pointer).
        let pages = (start - start % PAGE, end.next_multiple_of(PAGE));
        cache.learn(image, pages, [&window, &text])?;
        let place = place_of(start);
        for (&word, &value) in cache.words.range(start..end) {
            found.consider(word, value, place, &stack, returns);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `words_in` finds exactly the words a word-by-word test finds, at any
    /// alignment and length (blocks of eight, the tail, a misaligned start).
    #[test]
    fn words_in_matches_a_plain_scan() {
        let (stack, text) = (0x7000_0000..0x7000_1000u64, 0x40_1000..0x40_2000u64);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut bytes = Vec::new();
        for _ in 0..2000 {
            let v = match next() % 8 {
                0 => stack.start + next() % 0x1001, // may be the end: outside
                1 => text.start - 1 + next() % 0x1002,
                _ => next(),
            };
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for (at, skip, len) in [(0x1000, 0, 16000), (0x1003, 3, 15000), (0x2000, 8, 61)] {
            let slice = &bytes[skip..skip + len];
            let (mut fast, mut plain) = (Vec::new(), Vec::new());
            words_in(at, slice, [&stack, &text], |w, v| fast.push((w, v)));
            words(at, slice, |w, v| {
                if stack.contains(&v) || text.contains(&v) {
                    plain.push((w, v));
                }
            });
            assert!(plain.len() > 10 || len < 100);
            assert_eq!(fast, plain, "at {at:#x}, {len} bytes");
        }
    }
}
