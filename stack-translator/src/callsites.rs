//! The call-site side table: what the landmark pass knows about every
//! live-value record that stock LLVM stackmaps cannot say.
//!
//! A stackmap record (`.llvm_stackmaps`) gives, per call site, an ID and one
//! location per recorded operand: a register, a stack slot, a frame address
//! or a constant. It does not say what the operand *is*. The landmark pass
//! writes this table next to the records, once for both ISAs (the same bytes
//! are added to both executables as [`SECTION`]): per call site its ID, the
//! function, the kind of call and source line, and per stackmap location the
//! IR value it belongs to, that part's type and size, and whether it is a
//! pointer or a stack allocation (and how big).
//!
//! The encoding is a small versioned little-endian format (not JSON: Lua's
//! table would be megabytes) read with bounds checks, so a corrupt section
//! gives an error, never a panic.

use anyhow::{bail, Result};
use std::collections::HashMap;

/// Non-loaded section holding the encoded table in both executables.
pub const SECTION: &str = ".migrate.callsites";

const MAGIC: &[u8; 6] = b"MIGCS\0";
const VERSION: u16 = 2;
const NONE: u32 = u32::MAX;

/// All call sites of one build, in ID order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSiteTable {
    pub sites: Vec<CallSite>,
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
    /// Live values with no location of their own: fixed offsets from a
    /// recorded stack allocation (`&buf[4]`), rebuilt from it.
    pub derived: Vec<DerivedValue>,
}

/// A live pointer that is a recorded stack allocation plus a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedValue {
    /// Its index among the call site's live values (shared with
    /// [`RecordedPart::value`]).
    pub value: u32,
    /// The value index of the allocation it points into.
    pub base: u32,
    /// Byte offset from the allocation's address.
    pub offset: i64,
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
    /// The value is a stack allocation of the frame: the location is its
    /// address, and its contents must move with the frame.
    pub alloca: Option<AllocaSize>,
}

/// Size of a stack allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocaSize {
    /// Known at build time, in bytes.
    Fixed(u64),
    /// Decided at run time (a variable-length array or `alloca(n)`).
    Dynamic,
}

impl CallSiteTable {
    /// The site with `id`, if any.
    pub fn get(&self, id: u64) -> Option<&CallSite> {
        self.sites
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.sites[i])
    }

    /// Encodes the table for [`SECTION`].
    pub fn encode(&self) -> Vec<u8> {
        let mut strings = Strings::default();
        let mut body = Vec::new();
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
                let (flags, size) = match v.alloca {
                    None => (0u8, 0u64),
                    Some(AllocaSize::Fixed(n)) => (2, n),
                    Some(AllocaSize::Dynamic) => (4, 0),
                };
                body.push(flags | u8::from(v.pointer));
                put_u64(&mut body, size);
            }
            put_u32(&mut body, s.derived.len() as u32);
            for d in &s.derived {
                put_u32(&mut body, d.value);
                put_u32(&mut body, d.base);
                put_u64(&mut body, d.offset as u64);
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
        let mut r = Reader { bytes, pos: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            bail!("not a call-site table (bad magic)");
        }
        let version = u16::from_le_bytes(r.take(2)?.try_into().unwrap());
        if version != VERSION {
            bail!("call-site table version {version}, this tool reads version {VERSION}");
        }
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
        let sites = r.u32()?;
        let mut table = CallSiteTable::default();
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
                let alloca_size = r.u64()?;
                if flags & !7 != 0 {
                    return Err(r.error("unknown value flags"));
                }
                let alloca = match (flags & 2 != 0, flags & 4 != 0) {
                    (false, false) => None,
                    (true, false) => Some(AllocaSize::Fixed(alloca_size)),
                    (false, true) => Some(AllocaSize::Dynamic),
                    (true, true) => return Err(r.error("contradictory alloca flags")),
                };
                values.push(RecordedPart {
                    value,
                    offset,
                    size,
                    ty,
                    pointer: flags & 1 != 0,
                    alloca,
                });
            }
            let n = r.u32()?;
            let mut derived = Vec::new();
            for _ in 0..n {
                derived.push(DerivedValue {
                    value: r.u32()?,
                    base: r.u32()?,
                    offset: r.u64()? as i64,
                });
            }
            if table.sites.last().is_some_and(|s: &CallSite| s.id >= id) {
                return Err(r.error("call-site IDs out of order"));
            }
            table.sites.push(CallSite {
                id,
                function,
                kind,
                location,
                values,
                derived,
            });
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

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => bail!(
                "call-site table truncated at byte {} of {}",
                self.pos,
                self.bytes.len()
            ),
        }
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    fn error(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!("corrupt call-site table: {what} at byte {}", self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CallSiteTable {
        CallSiteTable {
            sites: vec![
                CallSite {
                    id: 0,
                    function: "main".into(),
                    kind: CallKind::Landmark(3),
                    location: Some(("main.c".into(), 12)),
                    values: vec![
                        RecordedPart {
                            value: 0,
                            offset: 0,
                            size: 8,
                            ty: "ptr".into(),
                            pointer: true,
                            alloca: Some(AllocaSize::Fixed(100)),
                        },
                        RecordedPart {
                            value: 1,
                            offset: 8,
                            size: 8,
                            ty: "i64".into(),
                            pointer: false,
                            alloca: None,
                        },
                    ],
                    derived: vec![DerivedValue {
                        value: 2,
                        base: 0,
                        offset: -4,
                    }],
                },
                CallSite {
                    id: 1,
                    function: "main".into(),
                    kind: CallKind::Indirect,
                    location: None,
                    values: vec![],
                    derived: vec![],
                },
                CallSite {
                    id: 5,
                    function: "f".into(),
                    kind: CallKind::ReturnsTwice("setjmp".into()),
                    location: None,
                    values: vec![RecordedPart {
                        value: 0,
                        offset: 0,
                        size: 8,
                        ty: "ptr".into(),
                        pointer: true,
                        alloca: Some(AllocaSize::Dynamic),
                    }],
                    derived: vec![],
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let t = sample();
        let bytes = t.encode();
        assert_eq!(CallSiteTable::decode(&bytes).unwrap(), t);
        assert_eq!(t.get(5).unwrap().function, "f");
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
