//! The migratable-sites table: loaded read-only data in both executables
//! (the same bytes, at the same address), one bit per call-site ID, set
//! when every record of that call site is certified on *both* ISAs, so a
//! frame suspended there can move either way. The runtime reads it
//! (`__landmark_site_migratable` in `landmark.c`) to defer a migration past
//! frames at other call sites. The landmark pass reserves it
//! ([`placeholder`]: every bit clear, so a build that never certified
//! migrates nothing) and the build fills it in ([`encode`]) after linking,
//! without moving anything.
//!
//! Layout: a [`SitesHeader`], then `count.div_ceil(8)` bytes; call site `k`
//! is bit `k % 8` of byte `k / 8`.

use crate::bytes::Reader;
use crate::c_struct::CStruct;
use crate::error::{Error, Result};

/// The program symbol holding the table.
pub const SYMBOL: &str = "__migrate_migratable";
/// [`SitesHeader::magic`].
pub const MAGIC: [u8; 8] = *b"MIGSITES";

const WHAT: &str = "migratable-sites table";

c_struct! {
    /// The migratable-sites table's header; the bitmap follows.
    pub struct SitesHeader as "sites_header" {
        /// "MIGSITES".
        pub magic: [u8; 8],
        /// Call sites the bitmap covers.
        pub count: u32,
        /// 0.
        pub pad: u32,
    }
}

/// The table with every bit clear: what the landmark pass reserves.
pub fn placeholder(count: usize) -> Vec<u8> {
    encode(&vec![false; count])
}

/// The table for `sites` (one flag per call-site ID).
pub fn encode(sites: &[bool]) -> Vec<u8> {
    let header = SitesHeader {
        magic: MAGIC,
        count: sites.len() as u32,
        pad: 0,
    };
    let mut out = header.to_bytes();
    let mut bits = vec![0u8; sites.len().div_ceil(8)];
    for (k, _) in sites.iter().enumerate().filter(|(_, m)| **m) {
        bits[k / 8] |= 1 << (k % 8);
    }
    out.extend(bits);
    out
}

/// Reads the table: one flag per call-site ID.
pub fn decode(bytes: &[u8]) -> Result<Vec<bool>> {
    let mut r = Reader::new(bytes, WHAT);
    let header = SitesHeader::decode(r.take(SitesHeader::SIZE)?).expect("a whole header");
    if header.magic != MAGIC {
        return Err(Error::NotThisFormat { what: WHAT });
    }
    let count = header.count as usize;
    let bits = r.take(count.div_ceil(8))?;
    Ok((0..count)
        .map(|k| bits[k / 8] & (1 << (k % 8)) != 0)
        .collect())
}

/// Where [`SYMBOL`] is in an executable's bytes: (file offset, size), or
/// `None` if the executable has no such symbol (a build without landmarks:
/// the linker dropped the table nothing reads).
pub fn range_in(file: &object::File) -> Result<Option<(usize, usize)>> {
    use object::{Object, ObjectSection, ObjectSymbol};
    let Some(sym) = file.symbols().find(|s| s.name() == Ok(SYMBOL)) else {
        return Ok(None);
    };
    let bad = |why: &str| Error::corrupt("executable", format!("{SYMBOL} {why}"));
    let section = sym
        .section_index()
        .and_then(|i| file.section_by_index(i).ok())
        .ok_or_else(|| bad("is not in a section"))?;
    let (start, len) = section
        .file_range()
        .ok_or_else(|| bad("is in a section without file contents"))?;
    let offset = sym
        .address()
        .checked_sub(section.address())
        .filter(|o| o + sym.size() <= len)
        .ok_or_else(|| bad("lies outside its section"))?;
    Ok(Some(((start + offset) as usize, sym.size() as usize)))
}

/// The flags of an executable `data`, parsed as `file` (see [`range_in`]).
pub fn read_from(data: &[u8], file: &object::File) -> Result<Option<Vec<bool>>> {
    match range_in(file)? {
        Some((offset, size)) => {
            let bytes = data
                .get(offset..offset + size)
                .ok_or_else(|| Error::corrupt("executable", format!("{SYMBOL} past its end")))?;
            Ok(Some(decode(bytes)?))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let flags = [true, false, false, true, true, false, false, false, true];
        let bytes = encode(&flags);
        assert_eq!(bytes.len(), 16 + 2);
        assert_eq!(decode(&bytes).unwrap(), flags);
        assert_eq!(decode(&placeholder(3)).unwrap(), [false; 3]);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix {n}");
        }
    }
}
