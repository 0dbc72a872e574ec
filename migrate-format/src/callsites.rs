//! The call-site side table: what the landmark pass (llvm-pass) knows about every
//! live-value record that stock LLVM stackmaps cannot say.
//!
//! A stackmap record (`.llvm_stackmaps`) gives, per call site, an ID and one
//! location per recorded operand: a register, a stack slot, a frame address
//! or a constant. It does not say what the operand *is*. The landmark pass
//! writes this table next to the records, once for both ISAs (the same bytes
//! are added to both executables as [`SECTION`]):
//! - per function with records, a *frame record*: one stackmap record whose
//!   locations are the frame addresses of the function's fixed-size stack
//!   allocations (the same everywhere in the function), and their sizes;
//! - per call site its ID, the function, the kind of call and source line,
//!   which of the function's allocations are in use there, and per stackmap
//!   location the IR value it belongs to, that part's type and size, and
//!   whether it is a pointer (or a variable-sized allocation).
//!
//! The encoding is a small versioned little-endian format (not JSON: Lua's
//! table would be megabytes) read with bounds checks, so a corrupt section
//! gives an error, never a panic.

use crate::bytes::{put_u32, put_u64, Reader};
use crate::error::Result;
use std::collections::HashMap;

/// Non-loaded section holding the encoded table in both executables.
pub const SECTION: &str = ".migrate.callsites";

const MAGIC: &[u8; 6] = b"MIGCS\0";
const VERSION: u16 = 6;
const NONE: u32 = u32::MAX;
const WHAT: &str = "call-site table";

/// Stackmap IDs at or above this are frame records (below: call sites).
pub const FRAME_ID_BASE: u64 = 1 << 32;

/// All frame records and call sites of one build, each in ID order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSiteTable {
    pub frames: Vec<Frame>,
    pub sites: Vec<CallSite>,
    /// Functions (the program's and libc's) that never return, sorted. In
    /// machine code the bytes after a call to one belong to other code
    /// (LLVM emits nothing for the `unreachable` that follows), so the
    /// call has no fall-through successor.
    pub noreturn: Vec<String>,
    /// Functions that start a `va_list` (variadic functions calling
    /// `va_start`), sorted. Their lists point into their machine frames,
    /// whose layout differs between the ISAs, so a migration waits until
    /// no such frame is on the stack (their call sites are not migratable).
    pub va_list_functions: Vec<String>,
}

/// The fixed-size stack allocations of one function. Its stackmap record
/// (ID `id`) has one frame-address location per allocation, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// `FRAME_ID_BASE` + the frame's index.
    pub id: u64,
    pub function: String,
    /// Size in bytes of each allocation.
    pub allocas: Vec<u64>,
}

/// One recorded call site. Its stackmap record has the same ID and one
/// location per entry of `values`, in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The stackmap ID: sequential in module order, so deterministic.
    pub id: u64,
    /// The function containing the call.
    pub function: String,
    pub kind: CallKind,
    /// Source file and line of the call, when the build had debug lines.
    pub location: Option<(String, u32)>,
    pub values: Vec<RecordedPart>,
    /// The function's fixed-size allocations ([`Frame::allocas`] indices)
    /// whose memory may be in use after the call: their contents move with
    /// the frame. The others are dead here (outside their lifetime).
    pub allocas: Vec<u32>,
    /// Live values with no location of their own: a fixed offset from a
    /// fixed-size allocation (`&buf[4]`), from another recorded value
    /// (`&p->field`), or from a symbol, possibly as an integer; rebuilt from
    /// their base.
    pub derived: Vec<DerivedValue>,
}

/// A live value that is its base plus a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedValue {
    /// Its index among the call site's live values (numbered after the
    /// values of [`CallSite::values`]).
    pub value: u32,
    pub base: Base,
    /// Byte offset from the base.
    pub offset: i64,
}

/// What a [`DerivedValue`] is an offset from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The address of a fixed-size allocation ([`Frame::allocas`] index).
    Alloca(u32),
    /// A recorded value ([`RecordedPart::value`] index).
    Value(u32),
    /// The address of a symbol (the same in both executables).
    Symbol(String),
}

/// What a recorded call calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallKind {
    /// A function defined in the program.
    Direct(String),
    /// A call through a pointer.
    Indirect,
    /// The landmark with this ID (a call to `__landmark_hit`).
    Landmark(u32),
    /// A function that returns twice (`setjmp`): its return address is
    /// stored in a `jmp_buf`.
    ReturnsTwice(String),
}

/// One stackmap location: a whole IR value, or one part of a value the
/// backend cannot record whole (an `i128`, a struct, an odd-sized vector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPart {
    /// Which of the call site's live values this is part of (0-based).
    pub value: u32,
    /// Byte offset of this part within that value.
    pub offset: u32,
    /// Size of this part in bytes.
    pub size: u32,
    /// LLVM type of this part, as LLVM prints it (`i32`, `ptr`, `<4 x float>`).
    pub ty: String,
    /// Holds an address (its value may need rewriting when the stack moves).
    pub pointer: bool,
    /// The value is a variable-sized stack allocation (a VLA or `alloca(n)`):
    /// the location holds its address, its contents belong to the frame.
    pub dynamic_alloca: bool,
}

impl CallSiteTable {
    /// The site with `id`, if any.
    pub fn get(&self, id: u64) -> Option<&CallSite> {
        self.sites
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.sites[i])
    }

    /// The frame record with `id`, if any.
    pub fn frame(&self, id: u64) -> Option<&Frame> {
        self.frames
            .binary_search_by_key(&id, |f| f.id)
            .ok()
            .map(|i| &self.frames[i])
    }

    /// The frame record of `function`, if it has one.
    pub fn frame_of(&self, function: &str) -> Option<&Frame> {
        self.frames.iter().find(|f| f.function == function)
    }

    /// Encodes the table for [`SECTION`].
    pub fn encode(&self) -> Vec<u8> {
        let mut strings = Strings::default();
        let mut body = Vec::new();
        put_u32(&mut body, self.frames.len() as u32);
        for f in &self.frames {
            put_u64(&mut body, f.id);
            put_u32(&mut body, strings.index(&f.function));
            put_u32(&mut body, f.allocas.len() as u32);
            for size in &f.allocas {
                put_u64(&mut body, *size);
            }
        }
        put_u32(&mut body, self.sites.len() as u32);
        for s in &self.sites {
            put_u64(&mut body, s.id);
            put_u32(&mut body, strings.index(&s.function));
            let (kind, arg) = match &s.kind {
                CallKind::Direct(f) => (0u8, strings.index(f)),
                CallKind::Indirect => (1, NONE),
                CallKind::Landmark(id) => (2, *id),
                CallKind::ReturnsTwice(f) => (3, strings.index(f)),
            };
            body.push(kind);
            put_u32(&mut body, arg);
            match &s.location {
                Some((file, line)) => {
                    put_u32(&mut body, strings.index(file));
                    put_u32(&mut body, *line);
                }
                None => {
                    put_u32(&mut body, NONE);
                    put_u32(&mut body, 0);
                }
            }
            put_u32(&mut body, s.values.len() as u32);
            for v in &s.values {
                put_u32(&mut body, v.value);
                put_u32(&mut body, v.offset);
                put_u32(&mut body, v.size);
                put_u32(&mut body, strings.index(&v.ty));
                body.push(u8::from(v.pointer) | u8::from(v.dynamic_alloca) << 1);
            }
            put_u32(&mut body, s.allocas.len() as u32);
            for a in &s.allocas {
                put_u32(&mut body, *a);
            }
            put_u32(&mut body, s.derived.len() as u32);
            for d in &s.derived {
                put_u32(&mut body, d.value);
                let (kind, arg) = match &d.base {
                    Base::Alloca(i) => (0u8, *i),
                    Base::Value(i) => (1, *i),
                    Base::Symbol(name) => (2, strings.index(name)),
                };
                body.push(kind);
                put_u32(&mut body, arg);
                put_u64(&mut body, d.offset as u64);
            }
        }
        for list in [&self.noreturn, &self.va_list_functions] {
            put_u32(&mut body, list.len() as u32);
            for f in list {
                put_u32(&mut body, strings.index(f));
            }
        }
        let mut out = Vec::with_capacity(body.len() + strings.bytes());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        put_u32(&mut out, strings.list.len() as u32);
        for s in &strings.list {
            put_u32(&mut out, s.len() as u32);
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(&body);
        out
    }

    /// Decodes a [`SECTION`]; every malformed input is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, WHAT);
        r.header(MAGIC, VERSION)?;
        let count = r.u32()?;
        let mut strings = Vec::new();
        for _ in 0..count {
            let len = r.u32()? as usize;
            let s = std::str::from_utf8(r.take(len)?)
                .map_err(|_| r.error("a string that is not UTF-8"))?;
            strings.push(s.to_string());
        }
        let string = |r: &Reader, i: u32| -> Result<String> {
            strings
                .get(i as usize)
                .cloned()
                .ok_or_else(|| r.error("a string index out of range"))
        };
        let mut table = CallSiteTable::default();
        let frames = r.u32()?;
        for _ in 0..frames {
            let id = r.u64()?;
            let function = r.u32()?;
            let function = string(&r, function)?;
            let n = r.u32()?;
            let mut allocas = Vec::new();
            for _ in 0..n {
                allocas.push(r.u64()?);
            }
            if table.frames.last().is_some_and(|f: &Frame| f.id >= id) || id < FRAME_ID_BASE {
                return Err(r.error("frame IDs out of order"));
            }
            table.frames.push(Frame {
                id,
                function,
                allocas,
            });
        }
        let sites = r.u32()?;
        for _ in 0..sites {
            let id = r.u64()?;
            let function = r.u32()?;
            let function = string(&r, function)?;
            let kind = r.take(1)?[0];
            let arg = r.u32()?;
            let kind = match kind {
                0 => CallKind::Direct(string(&r, arg)?),
                1 => CallKind::Indirect,
                2 => CallKind::Landmark(arg),
                3 => CallKind::ReturnsTwice(string(&r, arg)?),
                _ => return Err(r.error("an unknown call kind")),
            };
            let file = r.u32()?;
            let line = r.u32()?;
            let location = if file == NONE {
                None
            } else {
                Some((string(&r, file)?, line))
            };
            let n = r.u32()?;
            let mut values = Vec::new();
            for _ in 0..n {
                let value = r.u32()?;
                let offset = r.u32()?;
                let size = r.u32()?;
                let ty = r.u32()?;
                let ty = string(&r, ty)?;
                let flags = r.take(1)?[0];
                if flags & !3 != 0 {
                    return Err(r.error("unknown value flags"));
                }
                values.push(RecordedPart {
                    value,
                    offset,
                    size,
                    ty,
                    pointer: flags & 1 != 0,
                    dynamic_alloca: flags & 2 != 0,
                });
            }
            let n = r.u32()?;
            let mut allocas = Vec::new();
            for _ in 0..n {
                allocas.push(r.u32()?);
            }
            let n = r.u32()?;
            let mut derived = Vec::new();
            for _ in 0..n {
                let value = r.u32()?;
                let kind = r.take(1)?[0];
                let arg = r.u32()?;
                let base = match kind {
                    0 => Base::Alloca(arg),
                    1 => Base::Value(arg),
                    2 => Base::Symbol(string(&r, arg)?),
                    _ => return Err(r.error("an unknown derived-value base")),
                };
                derived.push(DerivedValue {
                    value,
                    base,
                    offset: r.u64()? as i64,
                });
            }
            if table.sites.last().is_some_and(|s: &CallSite| s.id >= id) || id >= FRAME_ID_BASE {
                return Err(r.error("call-site IDs out of order"));
            }
            table.sites.push(CallSite {
                id,
                function,
                kind,
                location,
                values,
                allocas,
                derived,
            });
        }
        for list in [&mut table.noreturn, &mut table.va_list_functions] {
            let n = r.u32()?;
            for _ in 0..n {
                let f = r.u32()?;
                list.push(string(&r, f)?);
            }
        }
        if r.pos != bytes.len() {
            return Err(r.error("trailing bytes"));
        }
        Ok(table)
    }
}

/// A deduplicating string table.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, u32>,
}

impl Strings {
    fn index(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    fn bytes(&self) -> usize {
        self.list.iter().map(|s| s.len() + 4).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CallSiteTable {
        let part = |value, offset, ty: &str, pointer, dynamic_alloca| RecordedPart {
            value,
            offset,
            size: 8,
            ty: ty.into(),
            pointer,
            dynamic_alloca,
        };
        CallSiteTable {
            frames: vec![Frame {
                id: FRAME_ID_BASE,
                function: "main".into(),
                allocas: vec![100, 8],
            }],
            sites: vec![
                CallSite {
                    id: 0,
                    function: "main".into(),
                    kind: CallKind::Landmark(3),
                    location: Some(("main.c".into(), 12)),
                    values: vec![
                        part(0, 0, "ptr", true, false),
                        part(1, 8, "i64", false, false),
                    ],
                    allocas: vec![0, 1],
                    derived: vec![
                        DerivedValue {
                            value: 2,
                            base: Base::Alloca(0),
                            offset: -4,
                        },
                        DerivedValue {
                            value: 3,
                            base: Base::Value(0),
                            offset: 16,
                        },
                        DerivedValue {
                            value: 4,
                            base: Base::Symbol("table".into()),
                            offset: 8,
                        },
                    ],
                },
                CallSite {
                    id: 1,
                    function: "main".into(),
                    kind: CallKind::Indirect,
                    location: None,
                    values: vec![],
                    allocas: vec![1],
                    derived: vec![],
                },
                CallSite {
                    id: 5,
                    function: "f".into(),
                    kind: CallKind::ReturnsTwice("setjmp".into()),
                    location: None,
                    values: vec![part(0, 0, "ptr", true, true)],
                    allocas: vec![],
                    derived: vec![],
                },
            ],
            noreturn: vec!["abort".into(), "fatal".into()],
            va_list_functions: vec!["log_message".into()],
        }
    }

    #[test]
    fn round_trip() {
        let t = sample();
        let bytes = t.encode();
        assert_eq!(CallSiteTable::decode(&bytes).unwrap(), t);
        assert_eq!(t.get(5).unwrap().function, "f");
        assert_eq!(t.frame(FRAME_ID_BASE).unwrap().allocas, [100, 8]);
        assert_eq!(t.frame_of("main").unwrap().id, FRAME_ID_BASE);
        assert!(t.get(2).is_none());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(CallSiteTable::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(CallSiteTable::decode(&extra).is_err());
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            for v in [0u8, 0xff, 0x7f] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = CallSiteTable::decode(&b);
            }
        }
    }
}
