//! Reader for LLVM's `.llvm_stackmaps` section (format version 3, as
//! documented in LLVM's "Stack maps and patch points" page).
//!
//! Every malformed input gives an error naming the byte offset; nothing
//! here panics on bad bytes.

use crate::StackMapError;
use serde::Serialize;

/// Parsing fails with what is wrong in the section, and where.
type Result<T> = std::result::Result<T, StackMapError>;

/// Name of the section LLVM writes the records to.
pub const SECTION: &str = ".llvm_stackmaps";

/// A parsed `.llvm_stackmaps` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackMaps {
    pub functions: Vec<FunctionInfo>,
    pub records: Vec<Record>,
}

/// Per function with records: its address and fixed frame size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    pub address: u64,
    /// Frame size in bytes, `None` if not fixed (dynamic allocas).
    pub stack_size: Option<u64>,
    pub record_count: u64,
}

/// One stackmap record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    /// Address of the function the record belongs to.
    pub function: u64,
    /// Offset of the record's point from the function's start: right after
    /// the call, plus any instructions the backend placed in between.
    pub offset: u32,
    pub locations: Vec<Location>,
}

impl Record {
    /// Address of the record's point.
    pub fn address(&self) -> u64 {
        self.function + self.offset as u64
    }
}

/// Where a recorded value is at the record's point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// In a register (DWARF number).
    Register { reg: u16, size: u16 },
    /// The value *is* the address `reg + offset` (an alloca).
    Direct { reg: u16, offset: i32, size: u16 },
    /// In memory at `reg + offset` (a spill slot).
    Indirect { reg: u16, offset: i32, size: u16 },
    /// A constant.
    Constant { value: i64, size: u16 },
}

impl Location {
    /// Bytes the location holds.
    pub fn size(&self) -> u16 {
        match *self {
            Location::Register { size, .. }
            | Location::Direct { size, .. }
            | Location::Indirect { size, .. }
            | Location::Constant { size, .. } => size,
        }
    }
}

impl Location {
    /// As an assembly programmer would write it on `isa`: `rbx`,
    /// `[rbp-0x20]` (in memory there), `&[sp+0x10]` (that address), `=42`.
    pub fn render(&self, isa: &dyn crate::isa::Isa) -> String {
        let at = |reg: u16, offset: i32| {
            let sign = if offset < 0 { '-' } else { '+' };
            format!(
                "{}{sign}{:#x}",
                isa.register_name(reg),
                offset.unsigned_abs()
            )
        };
        match *self {
            Location::Register { reg, .. } => isa.register_name(reg),
            Location::Direct { reg, offset, .. } => format!("&[{}]", at(reg, offset)),
            Location::Indirect { reg, offset, .. } => format!("[{}]", at(reg, offset)),
            Location::Constant { value, .. } => format!("={value}"),
        }
    }
}

impl StackMaps {
    /// Parses the section's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8()?;
        if version != 3 {
            return Err(StackMapError::Version { found: version });
        }
        r.take(3)?;
        let num_functions = r.u32()?;
        let num_constants = r.u32()?;
        let num_records = r.u32()?;
        let mut functions = Vec::new();
        for _ in 0..num_functions {
            let address = r.u64()?;
            let stack_size = r.u64()?;
            let record_count = r.u64()?;
            functions.push(FunctionInfo {
                address,
                stack_size: (stack_size != u64::MAX).then_some(stack_size),
                record_count,
            });
        }
        let mut constants = Vec::new();
        for _ in 0..num_constants {
            constants.push(r.u64()? as i64);
        }
        let mut records = Vec::new();
        let mut owners = functions
            .iter()
            .flat_map(|f| std::iter::repeat_n(f.address, f.record_count as usize));
        for _ in 0..num_records {
            let Some(function) = owners.next() else {
                return Err(r.error("more records than the functions announce"));
            };
            let id = r.u64()?;
            let offset = r.u32()?;
            r.take(2)?;
            let count = r.u16()?;
            let mut locations = Vec::new();
            for _ in 0..count {
                let kind = r.u8()?;
                r.take(1)?;
                let size = r.u16()?;
                let reg = r.u16()?;
                r.take(2)?;
                let offset = r.i32()?;
                locations.push(match kind {
                    1 => Location::Register { reg, size },
                    2 => Location::Direct { reg, offset, size },
                    3 => Location::Indirect { reg, offset, size },
                    4 => Location::Constant {
                        value: offset as i64,
                        size,
                    },
                    5 => Location::Constant {
                        value: *constants
                            .get(offset as usize)
                            .ok_or_else(|| r.error("a constant index out of range"))?,
                        size,
                    },
                    _ => return Err(r.error("an unknown location kind")),
                });
            }
            r.align8()?;
            r.take(2)?;
            let live_outs = r.u16()?;
            r.take(4 * live_outs as usize)?;
            r.align8()?;
            records.push(Record {
                id,
                function,
                offset,
                locations,
            });
        }
        if owners.next().is_some() {
            return Err(r.error("fewer records than the functions announce"));
        }
        Ok(StackMaps { functions, records })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()) {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(StackMapError::Truncated {
                at: self.pos,
                len: self.bytes.len(),
            }),
        }
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn align8(&mut self) -> Result<()> {
        let pad = (8 - self.pos % 8) % 8;
        self.take(pad).map(|_| ())
    }
    fn error(&self, what: &'static str) -> StackMapError {
        StackMapError::Corrupt { what, at: self.pos }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One function at 0x1000 with two records: (id 7, offset 0x10, a
    /// register and a large constant) and (id 8, offset 0x20, a direct).
    fn sample() -> Vec<u8> {
        let mut b = vec![3, 0, 0, 0];
        for v in [1u32, 1, 2] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [0x1000u64, 48, 2, 0x1234_5678_9abc] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let loc = |kind: u8, size: u16, reg: u16, off: i32| {
            let mut l = vec![kind, 0];
            l.extend_from_slice(&size.to_le_bytes());
            l.extend_from_slice(&reg.to_le_bytes());
            l.extend_from_slice(&[0, 0]);
            l.extend_from_slice(&off.to_le_bytes());
            l
        };
        b.extend_from_slice(&7u64.to_le_bytes());
        b.extend_from_slice(&0x10u32.to_le_bytes());
        b.extend_from_slice(&[0, 0, 2, 0]);
        b.extend(loc(1, 8, 3, 0));
        b.extend(loc(5, 8, 0, 0)); // ends at byte 88: aligned
        b.extend_from_slice(&[0, 0, 0, 0]); // padding, no live-outs
        b.extend_from_slice(&[0; 4]); // align
        b.extend_from_slice(&8u64.to_le_bytes());
        b.extend_from_slice(&0x20u32.to_le_bytes());
        b.extend_from_slice(&[0, 0, 1, 0]);
        b.extend(loc(2, 8, 6, -16));
        b.extend_from_slice(&[0; 4]); // align
        b.extend_from_slice(&[0, 0, 0, 0]); // padding, no live-outs
        b.extend_from_slice(&[0; 4]); // align
        b
    }

    #[test]
    fn parses_records() {
        let m = StackMaps::parse(&sample()).unwrap();
        assert_eq!(m.functions[0].stack_size, Some(48));
        assert_eq!(m.records.len(), 2);
        assert_eq!(m.records[0].address(), 0x1010);
        assert_eq!(
            m.records[0].locations,
            [
                Location::Register { reg: 3, size: 8 },
                Location::Constant {
                    value: 0x1234_5678_9abc,
                    size: 8
                }
            ]
        );
        assert_eq!(
            m.records[1].locations,
            [Location::Direct {
                reg: 6,
                offset: -16,
                size: 8
            }]
        );
    }

    #[test]
    fn renders_locations() {
        let x64 = crate::isa::X86_64;
        let reg = Location::Register { reg: 3, size: 8 };
        let slot = Location::Indirect {
            reg: 6,
            offset: -0x20,
            size: 8,
        };
        let frame = Location::Direct {
            reg: 7,
            offset: 16,
            size: 8,
        };
        assert_eq!(reg.render(x64), "rbx");
        assert_eq!(slot.render(x64), "[rbp-0x20]");
        assert_eq!(frame.render(x64), "&[rsp+0x10]");
        assert_eq!(
            Location::Constant { value: -1, size: 8 }.render(crate::isa::AARCH64),
            "=-1"
        );
    }

    #[test]
    fn truncations_are_errors() {
        let b = sample();
        for n in 0..b.len() {
            assert!(StackMaps::parse(&b[..n]).is_err(), "prefix {n}");
        }
    }
}
