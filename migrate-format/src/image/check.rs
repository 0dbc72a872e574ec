//! What makes an image safe to resume, checked by every reader (`inspect`,
//! `restore`, the translator) before anything is done with it: the memory
//! layout is one the runtime can map, and the registers and the stack walk
//! agree with each other and point into saved memory. A corrupted image is
//! refused by name, never resumed.
//!
//! [`Image::check_against`] adds what needs the executable: no segment over
//! its code, its writable data saved, every frame at a call site its frame
//! table knows.

use super::{registers, Image, Segment};
use crate::frames::{CfaBase, FrameRule};
use crate::window::{IMAGE_ALIGN, WINDOW_END, WINDOW_START};
use crate::Arch;

/// The smallest page: segments are multiples of it.
const PAGE: u64 = 4096;

/// Why the image cannot be resumed, if it cannot.
pub(super) fn validate(image: &Image) -> Result<(), String> {
    segments(&image.segments)?;
    file_layout(image)?;
    state(image)?;
    registers_and_frames(image)
}

fn segments(segments: &[Segment]) -> Result<(), String> {
    let mut sorted: Vec<&Segment> = segments.iter().collect();
    sorted.sort_by_key(|s| s.address);
    // Overlap first: memory laid over other memory is the most telling
    // thing to say about such an image.
    for pair in sorted.windows(2) {
        if pair[0].address.saturating_add(pair[0].size) > pair[1].address {
            return Err(format!(
                "memory at {:#x} and at {:#x} overlap",
                pair[0].address, pair[1].address
            ));
        }
    }
    for s in &sorted {
        let end = s.address.checked_add(s.size);
        if s.size == 0 || !s.address.is_multiple_of(PAGE) || !s.size.is_multiple_of(PAGE) {
            return Err(format!(
                "memory at {:#x} ({:#x} bytes) is not whole pages",
                s.address, s.size
            ));
        }
        if s.address < WINDOW_START || end.is_none_or(|e| e > WINDOW_END) {
            return Err(format!(
                "memory at {:#x} lies outside the migration window [{WINDOW_START:#x}, \
                 {WINDOW_END:#x})",
                s.address
            ));
        }
        if s.saved && !s.read {
            return Err(format!(
                "memory at {:#x} is saved but not readable",
                s.address
            ));
        }
        if s.saved && s.offset % IMAGE_ALIGN != s.address % IMAGE_ALIGN {
            return Err(format!(
                "memory at {:#x} is at a file offset that cannot be mapped",
                s.address
            ));
        }
        if s.execute {
            return Err(format!(
                "memory at {:#x} is executable (code comes from the executable, never the image)",
                s.address
            ));
        }
    }
    Ok(())
}

/// Saved memory lies after the headers and notes, each segment's bytes
/// apart from every other's: a segment whose offset was changed would map
/// other bytes than its own.
fn file_layout(image: &Image) -> Result<(), String> {
    let mut saved: Vec<&Segment> = image.segments.iter().filter(|s| s.saved).collect();
    saved.sort_by_key(|s| s.offset);
    if let Some(first) = saved.first() {
        if first.offset < image.headers_end {
            return Err(format!(
                "the memory at {:#x} is stored over the image's headers or notes",
                first.address
            ));
        }
    }
    for pair in saved.windows(2) {
        if pair[0].offset + pair[0].size > pair[1].offset {
            return Err(format!(
                "the memory at {:#x} and at {:#x} are stored over each other in the file",
                pair[0].address, pair[1].address
            ));
        }
    }
    Ok(())
}

fn in_window(a: u64) -> bool {
    (WINDOW_START..WINDOW_END).contains(&a)
}

fn state(image: &Image) -> Result<(), String> {
    let s = &image.state;
    if !(s.stack_lo < s.stack_hi
        && in_window(s.stack_lo)
        && s.stack_hi <= WINDOW_END
        && s.stack_lo.is_multiple_of(PAGE)
        && s.stack_hi.is_multiple_of(PAGE))
    {
        return Err(format!(
            "the stack's bounds {:#x}-{:#x} are not a mapping in the window",
            s.stack_lo, s.stack_hi
        ));
    }
    if !(s.brk_start <= s.brk && in_window(s.brk_start) && in_window(s.brk)) {
        return Err(format!(
            "the heap break {:#x} (started at {:#x}) is not in the window",
            s.brk, s.brk_start
        ));
    }
    if !in_window(s.thread_pointer) {
        return Err(format!(
            "the thread pointer {:#x} is outside the window",
            s.thread_pointer
        ));
    }
    Ok(())
}

/// Whether segments that satisfy `ok` cover [lo, hi) (they are disjoint:
/// checked first).
fn covered(image: &Image, lo: u64, hi: u64, ok: impl Fn(&Segment) -> bool) -> bool {
    let mut at = lo;
    while at < hi {
        match image
            .segments
            .iter()
            .find(|s| ok(s) && s.address <= at && at < s.address + s.size)
        {
            Some(s) => at = s.address + s.size,
            None => return false,
        }
    }
    true
}

/// The saved, writable segment holding `len` bytes at `a`, if one does.
fn saved_rw(image: &Image, a: u64, len: u64) -> bool {
    image.segments.iter().any(|s| {
        s.saved
            && s.read
            && s.write
            && a >= s.address
            && a.saturating_add(len) <= s.address + s.size
    })
}

fn registers_and_frames(image: &Image) -> Result<(), String> {
    let arch = image.arch;
    let pc = image.pc().ok_or("no program counter")?;
    let sp = image
        .register(registers::sp_name(arch))
        .ok_or("no stack pointer")?;
    let s = &image.state;
    if !(s.stack_lo..s.stack_hi).contains(&sp) || !saved_rw(image, sp, 8) {
        return Err(format!(
            "the stack pointer {sp:#x} is not in the saved, writable stack"
        ));
    }
    // The program finds its whole stack and heap where they were.
    if !covered(image, s.stack_lo, s.stack_hi, |g| g.read && g.write) {
        return Err(format!(
            "its stack {:#x}-{:#x} is not all writable memory in the image",
            s.stack_lo, s.stack_hi
        ));
    }
    // (Not all of it need be writable: musl's allocator keeps guard pages.)
    let heap_end = s.brk.next_multiple_of(PAGE);
    if !covered(image, s.brk_start, heap_end, |_| true) {
        return Err(format!(
            "its heap {:#x}-{:#x} is not all memory in the image",
            s.brk_start, s.brk
        ));
    }
    let f0 = image
        .frames
        .first()
        .ok_or("no frames (the stack walk is missing)")?;
    if f0.pc != pc || f0.sp != sp || f0.call_site != s.call_site {
        return Err(format!(
            "the registers (pc {pc:#x}, sp {sp:#x}, call site {}) disagree with the innermost \
             frame (pc {:#x}, sp {:#x}, call site {})",
            s.call_site, f0.pc, f0.sp, f0.call_site
        ));
    }
    for pair in image.frames.windows(2) {
        if pair[1].sp <= pair[0].sp {
            return Err(format!(
                "the frames' stack pointers do not grow toward the stack's top ({:#x} after {:#x})",
                pair[1].sp, pair[0].sp
            ));
        }
    }
    for f in &image.frames {
        if !(sp..s.stack_hi).contains(&f.sp) || !saved_rw(image, f.sp, 8) {
            return Err(format!(
                "a frame's stack pointer {:#x} is not in the saved stack",
                f.sp
            ));
        }
        if !in_window(f.pc) {
            return Err(format!(
                "a frame's return address {:#x} is outside the window",
                f.pc
            ));
        }
    }
    // The frame pointer holds a stack address whenever the innermost frame
    // keeps one, so check only that it is not wild when it looks like one.
    let fp = image.register(frame_pointer_name(arch));
    if let Some(fp) = fp.filter(|fp| (s.stack_lo..s.stack_hi).contains(fp)) {
        if !saved_rw(image, fp, 8) {
            return Err(format!(
                "the frame pointer {fp:#x} points into unsaved stack"
            ));
        }
    }
    Ok(())
}

impl Image {
    /// Checks the image against `exe`, the bytes of the executable it
    /// names: the same ISA, no memory over the executable's read-only
    /// segments, its writable segments saved, and every frame's return
    /// address a call site of its frame table (so the program resumes at a
    /// place whose frames the build described).
    pub fn check_against(&self, exe: &[u8]) -> crate::Result<()> {
        use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};
        let bad = |why: String| crate::Error::Image {
            path: self.path.clone(),
            why,
        };
        let file = object::File::parse(exe)
            .map_err(|_| bad("its executable is not an ELF file".into()))?;
        let exe_arch = super::elf_arch(exe)
            .ok_or_else(|| bad("its executable is for an unsupported machine".into()))?;
        if exe_arch != self.arch {
            return Err(bad(format!(
                "an {} image, but its executable is an {exe_arch} executable",
                self.arch
            )));
        }
        for seg in file.segments() {
            let (start, end) = (seg.address(), seg.address() + seg.size());
            let writable = matches!(
                seg.flags(),
                object::SegmentFlags::Elf { p_flags } if p_flags & object::elf::PF_W != 0
            );
            let page_start = start - start % PAGE;
            let page_end = end.next_multiple_of(PAGE);
            if writable {
                if !(page_start..page_end)
                    .step_by(PAGE as usize)
                    .all(|p| saved_rw(self, p, PAGE))
                {
                    return Err(bad(format!(
                        "the executable's data at {start:#x}-{end:#x} is not saved, writable memory \
                         in the image"
                    )));
                }
            } else if let Some(s) = self
                .segments
                .iter()
                .find(|s| s.address < page_end && page_start < s.address + s.size)
            {
                return Err(bad(format!(
                    "memory at {:#x} lies over the executable's code or constants at \
                     {start:#x}-{end:#x}",
                    s.address
                )));
            }
        }
        let table = file
            .section_by_name(crate::frames::SECTION)
            .and_then(|s| s.data().ok())
            .ok_or_else(|| bad("its executable has no frame table".into()))?;
        let rules = crate::frames::decode(table).map_err(|e| bad(e.to_string()))?;
        for f in &self.frames {
            let known = rules
                .binary_search_by_key(&f.pc, |r| r.return_address)
                .is_ok_and(|i| rules[i].call_site == f.call_site);
            if !known {
                return Err(bad(format!(
                    "a frame at {:#x} (call site {}) is not at a call site of its executable",
                    f.pc, f.call_site
                )));
            }
        }
        // Without symbols (a stripped executable) the walk's end is not known
        // by address: then the recorded frames must match as far as they go.
        let main_returned = file
            .symbols()
            .find(|s| s.name() == Ok(MAIN_RETURNED))
            .map(|s| s.address());
        self.rewalk(&rules, main_returned).map_err(|why| {
            bad(format!(
                "its stack does not walk to its recorded frames: {why} (a return address, saved \
                 frame pointer or the frame pointer register is wrong)"
            ))
        })
    }

    /// Walks the saved stack from the registers by the frame table, as the
    /// runtime walked it when it wrote the image: the walk must find the
    /// recorded frames, each at its recorded stack pointer, and end in
    /// main's caller.
    fn rewalk(&self, rules: &[FrameRule], main_returned: Option<u64>) -> Result<(), String> {
        let s = &self.state;
        let word = |at: u64| -> Result<u64, String> {
            let in_stack = at.is_multiple_of(8)
                && at >= s.stack_lo
                && at.checked_add(8).is_some_and(|e| e <= s.stack_hi)
                && saved_rw(self, at, 8);
            if !in_stack {
                return Err(format!("it reads {at:#x}, outside the saved stack"));
            }
            self.read_u64(at).map_err(|e| e.to_string())
        };
        let mut pc = self.pc().ok_or("no program counter")?;
        let mut sp = self
            .register(registers::sp_name(self.arch))
            .ok_or("no stack pointer")?;
        let mut fp = self
            .register(frame_pointer_name(self.arch))
            .ok_or("no frame pointer")?;
        for (i, f) in self.frames.iter().enumerate() {
            if (f.pc, f.sp) != (pc, sp) {
                return Err(format!(
                    "frame #{i} is recorded at pc {:#x} sp {:#x}, the walk finds pc {pc:#x} sp \
                     {sp:#x}",
                    f.pc, f.sp
                ));
            }
            let rule = rules
                .binary_search_by_key(&pc, |r| r.return_address)
                .map(|k| &rules[k])
                .map_err(|_| format!("frame #{i} at {pc:#x} has no frame rule"))?;
            let base = match rule.cfa_base {
                CfaBase::StackPointer => sp,
                CfaBase::FramePointer => fp,
            };
            let cfa = base.wrapping_add_signed(i64::from(rule.cfa_offset));
            let ra = word(cfa.wrapping_add_signed(i64::from(rule.return_address_at)))?;
            if let Some(at) = rule.frame_pointer_at {
                fp = word(cfa.wrapping_add_signed(i64::from(at)))?;
            }
            let last = i + 1 == self.frames.len();
            let ends = main_returned.map_or(last, |end| ra == end);
            match (ends, last) {
                (true, true) => return Ok(()),
                (true, false) => return Err(format!("it reaches main's caller after frame #{i}")),
                (false, true) => return Err("it goes on past the last recorded frame".into()),
                (false, false) => {}
            }
            pc = ra;
            sp = cfa;
        }
        Err("no frames".into())
    }
}

/// The runtime's symbol that `main` returns to: where a stack walk ends.
const MAIN_RETURNED: &str = "__landmark_main_returned";

fn frame_pointer_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "rbp",
        Arch::Aarch64 => "x29",
    }
}
