//! Certificates carried by the executables, for the runtime and the
//! translator.
//!
//! A build certifies every record of both executables
//! ([`crate::certify`]) and stores the results in two places:
//! - [`SECTION`], not loaded, in each executable: that ISA's certificate for
//!   every record (every live location at the return address and what it
//!   holds), or why there is none. The translator reads it to rebuild a
//!   frame: which registers and slots hold recorded values, constants or
//!   frame addresses on the destination ISA.
//! - [`SITES_SYMBOL`], loaded read-only data in both executables (the same
//!   bytes): one bit per call-site ID, set when every record of that call
//!   site is certified on *both* ISAs, so a frame suspended there can move
//!   either way. The runtime reads it (`__landmark_site_migratable`) to
//!   defer a migration past frames at other call sites. The landmark pass
//!   reserves it ([`sites_placeholder`]: every bit clear, so a build that
//!   never certified migrates nothing) and the build fills it in
//!   ([`sites_blob`]) after linking, without moving anything.

use crate::bytes::{put_str, put_u16, put_u32, put_u64, Reader};
use crate::certify::{Certificate, Explanation, Loc, RecordOutcome};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// Non-loaded section holding one ISA's certificates.
pub const SECTION: &str = ".migrate.certificates";

/// Program symbol holding the migratable-sites bitmap.
pub const SITES_SYMBOL: &str = "__migrate_migratable";

const MAGIC: &[u8; 8] = b"MIGCERT\0";
/// 2: explanation kinds 12, `Extended`, and 13, `Sum`; `Upper` (6) holds
/// the explanation of the whole value.
const VERSION: u16 = 2;
const SITES_MAGIC: &[u8; 8] = b"MIGSITES";
/// Bytes before the bitmap: magic, then the number of call sites (u32) and
/// 4 bytes of padding.
const SITES_HEADER: usize = 16;

/// Every record's certificate in one executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificates {
    /// The ISA the executable is for.
    pub isa: String,
    pub records: Vec<RecordOutcome>,
}

impl Certificates {
    /// The section's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_u16(&mut out, VERSION);
        put_str(&mut out, &self.isa);
        put_u32(&mut out, self.records.len() as u32);
        for r in &self.records {
            put_u64(&mut out, r.id);
            put_u64(&mut out, r.record_address);
            match &r.certificate {
                Ok(c) => {
                    out.push(0);
                    put_u64(&mut out, c.return_address);
                    put_u32(&mut out, c.live.len() as u32);
                    for (loc, e) in &c.live {
                        put_loc(&mut out, loc);
                        put_explanation(&mut out, e);
                    }
                }
                Err(why) => {
                    out.push(1);
                    put_str(&mut out, why);
                }
            }
        }
        out
    }

    /// Reads a section written by [`Certificates::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "certificate section");
        if r.take(MAGIC.len()).ok() != Some(&MAGIC[..]) {
            bail!("not a certificate section (bad magic)");
        }
        let version = r.u16()?;
        if version != VERSION {
            bail!("certificate section version {version}, this migrate reads version {VERSION}: rebuild the program");
        }
        let isa = r.str()?;
        let n = r.u32()? as usize;
        let mut records = Vec::with_capacity(n.min(bytes.len() / 17));
        for _ in 0..n {
            let id = r.u64()?;
            let record_address = r.u64()?;
            let certificate = match r.u8()? {
                0 => {
                    let return_address = r.u64()?;
                    let count = r.u32()? as usize;
                    let mut live = Vec::with_capacity(count.min(bytes.len() / 3));
                    for _ in 0..count {
                        let loc = read_loc(&mut r)?;
                        live.push((loc, read_explanation(&mut r)?));
                    }
                    Ok(Certificate {
                        id,
                        return_address,
                        record_address,
                        live,
                    })
                }
                1 => Err(r.str()?),
                _ => return Err(r.error("an unknown record status")),
            };
            records.push(RecordOutcome {
                id,
                record_address,
                certificate,
            });
        }
        if r.pos != bytes.len() {
            return Err(r.error("bytes after the last record"));
        }
        Ok(Certificates { isa, records })
    }

    /// Per call-site ID: true if every record of it is certified.
    pub fn by_site(&self) -> BTreeMap<u64, bool> {
        let mut sites: BTreeMap<u64, bool> = BTreeMap::new();
        for r in &self.records {
            let ok = matches!(&r.certificate, Ok(c) if c.migratable());
            *sites.entry(r.id).or_insert(true) &= ok;
        }
        sites
    }
}

/// The migratable-sites bitmap for `count` call sites: bit `k` (byte
/// `k / 8`, bit `k % 8`) is set when call site `k` has records in both
/// executables and all of them are certified.
pub fn migratable_sites(count: usize, both: [&Certificates; 2]) -> Vec<bool> {
    let [a, b] = both.map(Certificates::by_site);
    (0..count as u64)
        .map(|k| a.get(&k) == Some(&true) && b.get(&k) == Some(&true))
        .collect()
}

/// The bytes of [`SITES_SYMBOL`] with every bit clear: what the landmark
/// pass reserves.
pub fn sites_placeholder(count: usize) -> Vec<u8> {
    sites_blob(&vec![false; count])
}

/// The bytes of [`SITES_SYMBOL`] for `sites` (one flag per call-site ID).
pub fn sites_blob(sites: &[bool]) -> Vec<u8> {
    let mut out = SITES_MAGIC.to_vec();
    put_u32(&mut out, sites.len() as u32);
    put_u32(&mut out, 0);
    let mut bits = vec![0u8; sites.len().div_ceil(8)];
    for (k, _) in sites.iter().enumerate().filter(|(_, m)| **m) {
        bits[k / 8] |= 1 << (k % 8);
    }
    out.extend(bits);
    out
}

/// Reads [`SITES_SYMBOL`]'s bytes: one flag per call-site ID.
pub fn read_sites(bytes: &[u8]) -> Result<Vec<bool>> {
    let mut r = Reader::new(bytes, "migratable-sites table");
    if r.take(SITES_MAGIC.len()).ok() != Some(&SITES_MAGIC[..]) {
        bail!("not a migratable-sites table (bad magic)");
    }
    let count = r.u32()? as usize;
    r.u32()?;
    debug_assert_eq!(r.pos, SITES_HEADER);
    let bits = r.take(count.div_ceil(8))?;
    Ok((0..count)
        .map(|k| bits[k / 8] & (1 << (k % 8)) != 0)
        .collect())
}

/// Where [`SITES_SYMBOL`] is in an executable's bytes: (file offset,
/// size), or `None` if the executable has no such symbol (a build without
/// landmarks: the linker dropped the table nothing reads).
pub fn sites_range(file: &object::File) -> Result<Option<(usize, usize)>> {
    use object::{Object, ObjectSection, ObjectSymbol};
    let Some(sym) = file.symbols().find(|s| s.name() == Ok(SITES_SYMBOL)) else {
        return Ok(None);
    };
    let section = sym
        .section_index()
        .and_then(|i| file.section_by_index(i).ok())
        .ok_or_else(|| anyhow::anyhow!("{SITES_SYMBOL} is not in a section"))?;
    let (start, len) = section
        .file_range()
        .ok_or_else(|| anyhow::anyhow!("{SITES_SYMBOL} is in a section without file contents"))?;
    let offset = sym
        .address()
        .checked_sub(section.address())
        .filter(|o| o + sym.size() <= len)
        .ok_or_else(|| anyhow::anyhow!("{SITES_SYMBOL} lies outside its section"))?;
    Ok(Some(((start + offset) as usize, sym.size() as usize)))
}

/// The migratable-sites flags of an executable (see [`sites_range`]).
pub fn sites_in(data: &[u8], file: &object::File) -> Result<Option<Vec<bool>>> {
    match sites_range(file)? {
        Some((offset, size)) => Ok(Some(read_sites(&data[offset..offset + size])?)),
        None => Ok(None),
    }
}

fn put_loc(out: &mut Vec<u8>, loc: &Loc) {
    match *loc {
        Loc::Reg { reg } => {
            out.push(0);
            put_u16(out, reg);
        }
        Loc::Slot { offset } => {
            out.push(1);
            put_u64(out, offset as u64);
        }
    }
}

fn read_loc(r: &mut Reader) -> Result<Loc> {
    Ok(match r.u8()? {
        0 => Loc::Reg { reg: r.u16()? },
        1 => Loc::Slot { offset: r.i64()? },
        _ => return Err(r.error("an unknown location kind")),
    })
}

fn put_explanation(out: &mut Vec<u8>, e: &Explanation) {
    match e {
        Explanation::Recorded { part, plus } => {
            out.push(0);
            put_u64(out, *part as u64);
            put_u64(out, *plus as u64);
        }
        Explanation::CallResult => out.push(1),
        Explanation::Clobbered => out.push(2),
        Explanation::Constant { value } => {
            out.push(3);
            put_u64(out, *value as u64);
        }
        Explanation::FrameAddress { offset } => {
            out.push(4);
            put_u64(out, *offset as u64);
        }
        Explanation::AllocaContents { alloca } => {
            out.push(5);
            put_u64(out, *alloca as u64);
        }
        Explanation::Upper { of, part } => {
            out.push(6);
            out.push(*part);
            put_explanation(out, of);
        }
        Explanation::CallersValue { of } => {
            out.push(7);
            put_loc(out, of);
        }
        Explanation::Unknown { why } => {
            out.push(8);
            put_str(out, why);
        }
        Explanation::Undefined => out.push(9),
        Explanation::Narrow { part, at, size } => {
            out.push(11);
            put_u64(out, *part as u64);
            out.push(*at);
            out.push(*size);
        }
        Explanation::Extended {
            part,
            size,
            signed,
            to32,
            times,
            plus,
            frame,
            half,
        } => {
            out.push(12);
            put_u64(out, *part as u64);
            out.push(*size);
            out.push(u8::from(*signed) | u8::from(*to32) << 1 | u8::from(*frame) << 2);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
            out.push(*half);
        }
        Explanation::Sum { a, b, times, plus } => {
            out.push(13);
            put_u64(out, *a as u64);
            put_u64(out, *b as u64);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
        }
        Explanation::Scaled {
            part,
            times,
            plus,
            frame,
        } => {
            out.push(10);
            put_u64(out, *part as u64);
            put_u64(out, *times as u64);
            put_u64(out, *plus as u64);
            out.push(u8::from(*frame));
        }
    }
}

fn read_explanation(r: &mut Reader) -> Result<Explanation> {
    let index = |r: &mut Reader| -> Result<usize> {
        usize::try_from(r.u64()?).map_err(|_| r.error("an index out of range"))
    };
    Ok(match r.u8()? {
        0 => Explanation::Recorded {
            part: index(r)?,
            plus: r.i64()?,
        },
        1 => Explanation::CallResult,
        2 => Explanation::Clobbered,
        3 => Explanation::Constant { value: r.i64()? },
        4 => Explanation::FrameAddress { offset: r.i64()? },
        5 => Explanation::AllocaContents { alloca: index(r)? },
        6 => {
            let part = r.u8()?;
            // One level: the value whose bytes these are is not itself a
            // part of something (which also bounds the recursion).
            let of = read_explanation(r)?;
            if matches!(of, Explanation::Upper { .. } | Explanation::Unknown { .. }) || part == 0 {
                return Err(r.error("a bad upper part"));
            }
            Explanation::Upper {
                of: Box::new(of),
                part,
            }
        }
        7 => Explanation::CallersValue { of: read_loc(r)? },
        8 => Explanation::Unknown { why: r.str()? },
        9 => Explanation::Undefined,
        11 => Explanation::Narrow {
            part: index(r)?,
            at: r.u8()?,
            size: r.u8()?,
        },
        10 => Explanation::Scaled {
            part: index(r)?,
            times: r.i64()?,
            plus: r.i64()?,
            frame: match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(r.error("a bad flag")),
            },
        },
        12 => {
            let part = index(r)?;
            let size = r.u8()?;
            let flags = r.u8()?;
            if !matches!(size, 1 | 2 | 4) || flags > 7 {
                return Err(r.error("a bad extension"));
            }
            Explanation::Extended {
                part,
                size,
                signed: flags & 1 != 0,
                to32: flags & 2 != 0,
                frame: flags & 4 != 0,
                times: r.i64()?,
                plus: r.i64()?,
                half: r.u8()?,
            }
        }
        13 => Explanation::Sum {
            a: index(r)?,
            b: index(r)?,
            times: r.i64()?,
            plus: r.i64()?,
        },
        _ => return Err(r.error("an unknown explanation kind")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Certificates {
        let cert = |id: u64, live: Vec<(Loc, Explanation)>| RecordOutcome {
            id,
            record_address: 0x1000 + id,
            certificate: Ok(Certificate {
                id,
                return_address: 0x0fff + id,
                record_address: 0x1000 + id,
                live,
            }),
        };
        Certificates {
            isa: "x86_64".into(),
            records: vec![
                cert(
                    0,
                    vec![
                        (
                            Loc::Reg { reg: 3 },
                            Explanation::Recorded { part: 1, plus: -8 },
                        ),
                        (Loc::Reg { reg: 0 }, Explanation::CallResult),
                        (Loc::Reg { reg: 1 }, Explanation::Clobbered),
                        (Loc::Slot { offset: -96 }, Explanation::Undefined),
                        (
                            Loc::Slot { offset: -60 },
                            Explanation::Narrow {
                                part: 0,
                                at: 3,
                                size: 1,
                            },
                        ),
                        (
                            Loc::Slot { offset: -76 },
                            Explanation::Extended {
                                part: 1,
                                size: 4,
                                signed: true,
                                to32: false,
                                times: 16,
                                plus: -8,
                                frame: true,
                                half: 1,
                            },
                        ),
                        (
                            Loc::Reg { reg: 13 },
                            Explanation::Scaled {
                                part: 0,
                                times: 40,
                                plus: -8,
                                frame: true,
                            },
                        ),
                        (Loc::Reg { reg: 12 }, Explanation::Constant { value: -42 }),
                        (
                            Loc::Reg { reg: 14 },
                            Explanation::Sum {
                                a: 0,
                                b: 1,
                                times: -8,
                                plus: 16,
                            },
                        ),
                        (
                            Loc::Slot { offset: -16 },
                            Explanation::FrameAddress { offset: -64 },
                        ),
                        (
                            Loc::Slot { offset: -64 },
                            Explanation::AllocaContents { alloca: 2 },
                        ),
                        (
                            Loc::Slot { offset: -20 },
                            Explanation::Upper {
                                of: Box::new(Explanation::Constant { value: 7 }),
                                part: 1,
                            },
                        ),
                        (
                            Loc::Slot { offset: -24 },
                            Explanation::CallersValue {
                                of: Loc::Reg { reg: 15 },
                            },
                        ),
                    ],
                ),
                cert(
                    1,
                    vec![(
                        Loc::Reg { reg: 14 },
                        Explanation::Unknown {
                            why: "r14 holds a value computed".into(),
                        },
                    )],
                ),
                cert(1, vec![]),
                RecordOutcome {
                    id: 2,
                    record_address: 0x2000,
                    certificate: Err("no function symbol".into()),
                },
                cert(3, vec![]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let c = sample();
        assert_eq!(Certificates::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(Certificates::decode(&bytes[..n]).is_err(), "{n} bytes");
        }
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = Certificates::decode(&b);
            }
        }
    }

    #[test]
    fn a_site_is_migratable_only_if_every_record_on_both_isas_is() {
        let a = sample();
        let mut b = sample();
        b.isa = "aarch64".into();
        // Site 3 is certified on x86_64 only.
        b.records[4].certificate = Err("refused".into());
        // Site 0 certified everywhere; site 1 has one refused copy; site 2
        // has no certificate; site 3 differs; site 4 has no record at all.
        let sites = migratable_sites(5, [&a, &b]);
        assert_eq!(sites, [true, false, false, false, false]);
        let blob = sites_blob(&sites);
        assert_eq!(blob.len(), SITES_HEADER + 1);
        assert_eq!(read_sites(&blob).unwrap(), sites);
        assert_eq!(read_sites(&sites_placeholder(12)).unwrap(), vec![false; 12]);
        assert!(read_sites(&blob[..SITES_HEADER]).is_err());
        assert!(read_sites(b"MIGSITEZ\0\0\0\0\0\0\0\0").is_err());
    }
}
