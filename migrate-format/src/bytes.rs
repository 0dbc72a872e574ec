//! Little-endian encoding helpers shared by the formats this crate reads
//! and writes: every read is bounds-checked, so a corrupt section is an
//! error, never a panic.

use crate::error::{Error, Result};

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A length-prefixed UTF-8 string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over an encoded section; `what` names the section in errors.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
    pub what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader {
            bytes,
            pos: 0,
            what,
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::Truncated {
                what: self.what,
                at: self.pos,
                len: self.bytes.len(),
            }),
        }
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    pub fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }

    pub fn str(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("a string that is not UTF-8"))
    }

    /// Reads a section's header, `magic` then a u16 version, and checks
    /// both: another magic is not this format, another version was written
    /// by another build of the tools.
    pub fn header(&mut self, magic: &[u8], version: u16) -> Result<()> {
        if self.take(magic.len()).ok() != Some(magic) {
            return Err(Error::NotThisFormat { what: self.what });
        }
        let found = self.u16()?;
        if found != version {
            return Err(Error::Version {
                what: self.what,
                found: found.into(),
                supported: version.into(),
                remedy: "rebuild the program",
            });
        }
        Ok(())
    }

    /// `why` the bytes are not a well-formed section, at the cursor.
    pub fn error(&self, why: &str) -> Error {
        Error::corrupt(self.what, format!("{why} at byte {}", self.pos))
    }

    /// True once every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}
