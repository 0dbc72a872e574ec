//! The frame table: for every certified call site of one executable, how to
//! step from a frame suspended there to its caller's frame, precomputed
//! from the executable's CFI (`.eh_frame`, by stack-translator's `frames`)
//! so that landmark-rt can walk the stack at a landmark without a DWARF
//! interpreter (the runtime's `frames.c` reads it from the executable file
//! when a checkpoint is wanted).
//!
//! A frame whose return address is not in the table is not at a certified
//! call site, so the stack cannot migrate yet: the runtime waits for a later
//! landmark (DESIGN.md, the libc-frames trap).
//!
//! Section [`SECTION`] (not loaded; little-endian): a [`FrameTableHeader`],
//! then `count` [`FrameTableEntry`]s sorted by return address.

use crate::c_struct::CStruct;
use crate::error::{Error, Result};

/// Non-loaded section holding one executable's frame table.
pub const SECTION: &str = ".migrate.frames";
/// [`FrameTableHeader::magic`].
pub const MAGIC: [u8; 8] = *b"MIGFRAME";
/// [`FrameTableHeader::version`].
pub const VERSION: u32 = 1;
/// [`FrameTableEntry::cfa_base`]: the CFA is the stack pointer plus the offset.
pub const CFA_STACK_POINTER: u8 = 0;
/// [`FrameTableEntry::cfa_base`]: the CFA is the frame pointer plus the offset.
pub const CFA_FRAME_POINTER: u8 = 1;

c_struct! {
    /// The frame table's header.
    pub struct FrameTableHeader as "frame_table_header" {
        /// "MIGFRAME".
        pub magic: [u8; 8],
        /// VERSION.
        pub version: u32,
        /// Entries that follow.
        pub count: u32,
    }
}

c_struct! {
    /// One frame-table entry: how to find the caller of a frame suspended at
    /// one return address.
    pub struct FrameTableEntry as "frame_rule" {
        /// The return address the frame is suspended at.
        pub return_address: u64,
        /// Its call-site ID.
        pub call_site: u32,
        /// CFA = base register + this (the caller's stack pointer).
        pub cfa_offset: i32,
        /// CFA_STACK_POINTER or CFA_FRAME_POINTER.
        pub cfa_base: u8,
        /// 1 if the caller's frame pointer was saved (at fp_at).
        pub fp_saved: u8,
        /// The caller's return address is saved at CFA + this.
        pub ra_at: i16,
        /// The caller's frame pointer is saved at CFA + this, if fp_saved.
        pub fp_at: i16,
        /// 0.
        pub pad: u16,
    }
}

/// Where the canonical frame address is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfaBase {
    StackPointer,
    FramePointer,
}

/// How to find the caller of a frame suspended at one return address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRule {
    pub return_address: u64,
    pub call_site: u32,
    /// CFA = base register + offset (the caller's stack pointer).
    pub cfa_base: CfaBase,
    pub cfa_offset: i32,
    /// The caller's return address is saved at CFA + this.
    pub return_address_at: i16,
    /// The caller's frame pointer is saved at CFA + this, if it was saved
    /// (else the frame pointer is unchanged).
    pub frame_pointer_at: Option<i16>,
}

impl FrameRule {
    fn entry(&self) -> FrameTableEntry {
        FrameTableEntry {
            return_address: self.return_address,
            call_site: self.call_site,
            cfa_offset: self.cfa_offset,
            cfa_base: match self.cfa_base {
                CfaBase::StackPointer => CFA_STACK_POINTER,
                CfaBase::FramePointer => CFA_FRAME_POINTER,
            },
            fp_saved: u8::from(self.frame_pointer_at.is_some()),
            ra_at: self.return_address_at,
            fp_at: self.frame_pointer_at.unwrap_or(0),
            pad: 0,
        }
    }

    fn from_entry(e: &FrameTableEntry) -> Result<FrameRule> {
        Ok(FrameRule {
            return_address: e.return_address,
            call_site: e.call_site,
            cfa_offset: e.cfa_offset,
            cfa_base: match e.cfa_base {
                CFA_STACK_POINTER => CfaBase::StackPointer,
                CFA_FRAME_POINTER => CfaBase::FramePointer,
                b => return Err(Error::corrupt(WHAT, format!("CFA base {b}"))),
            },
            return_address_at: e.ra_at,
            frame_pointer_at: match e.fp_saved {
                0 => None,
                1 => Some(e.fp_at),
                f => return Err(Error::corrupt(WHAT, format!("frame-pointer flag {f}"))),
            },
        })
    }
}

const WHAT: &str = "frame table";

/// The section's bytes.
pub fn encode(rules: &[FrameRule]) -> Vec<u8> {
    let header = FrameTableHeader {
        magic: MAGIC,
        version: VERSION,
        count: rules.len() as u32,
    };
    let mut out = header.to_bytes();
    for r in rules {
        r.entry().encode(&mut out);
    }
    out
}

/// Reads a section written by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Vec<FrameRule>> {
    let header = FrameTableHeader::decode(bytes).ok_or(Error::Truncated {
        what: WHAT,
        at: bytes.len(),
        len: bytes.len(),
    })?;
    if header.magic != MAGIC {
        return Err(Error::NotThisFormat { what: WHAT });
    }
    if header.version != VERSION {
        return Err(Error::Version {
            what: WHAT,
            found: header.version,
            supported: VERSION,
            remedy: "rebuild the program",
        });
    }
    let body = &bytes[FrameTableHeader::SIZE..];
    if Some(body.len()) != (header.count as usize).checked_mul(FrameTableEntry::SIZE) {
        return Err(Error::corrupt(WHAT, "of the wrong size for its count"));
    }
    body.chunks_exact(FrameTableEntry::SIZE)
        .map(|c| FrameRule::from_entry(&FrameTableEntry::decode(c).expect("a whole entry")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let rules = vec![
            FrameRule {
                return_address: 0x1000_1234,
                call_site: 7,
                cfa_base: CfaBase::StackPointer,
                cfa_offset: 48,
                return_address_at: -8,
                frame_pointer_at: None,
            },
            FrameRule {
                return_address: 0x1000_2000,
                call_site: 9,
                cfa_base: CfaBase::FramePointer,
                cfa_offset: 16,
                return_address_at: -8,
                frame_pointer_at: Some(-16),
            },
        ];
        let bytes = encode(&rules);
        assert_eq!(bytes.len(), 16 + 2 * 24);
        assert_eq!(decode(&bytes).unwrap(), rules);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut bad = bytes.clone();
        bad[16 + 16] = 7;
        assert!(decode(&bad).is_err());
    }
}
