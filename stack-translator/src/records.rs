//! Do the two executables' live-value records correspond?
//!
//! The landmark pass runs once on the shared module, so call site *k* and
//! its *i*-th recorded value mean the same thing in both executables, *if*
//! both backends kept every record and every value. This check makes sure
//! they did: the same side table in both, one stackmap record per call site
//! on each ISA with one location per recorded part, each location big
//! enough for its part, frame addresses only for stack allocations, and
//! each record inside the function the table names, at the same function
//! address on both ISAs. `migrate cc` fails the build when it does not hold.

use crate::stackmaps::{self, Location, Record, StackMaps};
use crate::{Error, Result};
use migrate_format::callsites::{self, Base, CallKind, CallSiteTable, FRAME_ID_BASE};
use migrate_format::certificates::{self, Certificate, Certificates};
use migrate_format::{sites, Arch};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One executable's records, read and indexed.
pub struct Executable {
    /// Its ISA.
    pub isa: Arch,
    pub table: CallSiteTable,
    /// Records by ID. Usually one per ID; more when the backend duplicated
    /// the call (tail duplication): each copy describes the same IR values
    /// at its own address, and any copy is a valid place to resume.
    pub records: BTreeMap<u64, Vec<Record>>,
    /// Function symbols: start address → (names, size). More than one name
    /// when aliases share the code (musl's `weak_alias(__qsort_r, qsort_r)`):
    /// strong symbols first, then by name.
    pub functions: BTreeMap<u64, (Vec<String>, u64)>,
    /// Raw side-table bytes (the two executables must carry the same).
    table_bytes: Vec<u8>,
    /// The certificates the build stored, if it stored any.
    pub certificates: Option<Certificates>,
    /// The migratable-sites flags by call-site ID, if the executable
    /// carries the table.
    pub sites: Option<Vec<bool>>,
    /// Certified records (indexes into `certificates.records`) by return
    /// address, and the first of each call site: the translator looks one
    /// up per frame.
    certified_at: HashMap<u64, usize>,
    certified_site: HashMap<u64, usize>,
}

impl Executable {
    /// Reads the records of the executable at `path`.
    pub fn read(path: &Path, isa: Arch) -> Result<Self> {
        let data = std::fs::read(path).map_err(Error::read(path))?;
        Self::parse(path, &data, isa)
    }

    /// The records of an executable already read (`path` for messages).
    pub fn parse(path: &Path, data: &[u8], isa: Arch) -> Result<Self> {
        let file = object::File::parse(data).map_err(Error::elf(path, "not an ELF file"))?;
        let table_bytes = file
            .section_by_name(callsites::SECTION)
            .ok_or_else(|| Error::NotBuiltByMigrate {
                path: path.to_path_buf(),
                section: callsites::SECTION,
            })?
            .data()
            .map_err(Error::elf(path, "unreadable call-site table"))?
            .to_vec();
        let table =
            CallSiteTable::decode(&table_bytes).map_err(Error::format(path, "call-site table"))?;
        let maps = match file.section_by_name(stackmaps::SECTION) {
            Some(s) => StackMaps::parse(s.data().map_err(Error::elf(path, "unreadable records"))?)
                .map_err(Error::stack_maps(path))?,
            None => StackMaps {
                functions: vec![],
                records: vec![],
            },
        };
        let mut records: BTreeMap<u64, Vec<Record>> = BTreeMap::new();
        for r in maps.records {
            records.entry(r.id).or_default().push(r);
        }
        let mut functions: BTreeMap<u64, (Vec<(bool, String)>, u64)> = BTreeMap::new();
        for s in file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        {
            let Ok(name) = s.name() else { continue };
            let entry = functions.entry(s.address()).or_default();
            entry.0.push((s.is_weak(), name.to_string()));
            entry.1 = entry.1.max(s.size());
        }
        let functions = functions
            .into_iter()
            .map(|(start, (mut names, size))| {
                names.sort();
                (start, (names.into_iter().map(|(_, n)| n).collect(), size))
            })
            .collect();
        let certificates = match file.section_by_name(certificates::SECTION) {
            Some(s) => Some(
                Certificates::decode(
                    s.data()
                        .map_err(Error::elf(path, "unreadable certificates"))?,
                )
                .map_err(Error::format(path, "certificates"))?,
            ),
            None => None,
        };
        let sites =
            sites::read_from(data, &file).map_err(Error::format(path, "migratable sites"))?;
        let mut certified_at = HashMap::new();
        let mut certified_site = HashMap::new();
        for (i, r) in certificates
            .iter()
            .flat_map(|c| c.records.iter())
            .enumerate()
        {
            if let Some(c) = r.certificate.as_ref().ok().filter(|c| c.migratable()) {
                certified_at.entry(c.return_address).or_insert(i);
                certified_site.entry(c.id).or_insert(i);
            }
        }
        Ok(Executable {
            isa,
            table,
            records,
            functions,
            table_bytes,
            certificates,
            sites,
            certified_at,
            certified_site,
        })
    }

    /// The certificate of the record returning to `pc`, if certified.
    pub fn certificate_at(&self, pc: u64) -> Option<&Certificate> {
        let i = *self.certified_at.get(&pc)?;
        self.certificates.as_ref()?.records[i]
            .certificate
            .as_ref()
            .ok()
    }

    /// A certified record of call site `id`.
    pub fn certificate_of(&self, id: u64) -> Option<&Certificate> {
        let i = *self.certified_site.get(&id)?;
        self.certificates.as_ref()?.records[i]
            .certificate
            .as_ref()
            .ok()
    }

    /// The function containing `address`: (start, its names, size).
    pub fn function_at(&self, address: u64) -> Option<(u64, &[String], u64)> {
        let (start, (names, size)) = self.functions.range(..=address).next_back()?;
        (address < start + size).then_some((*start, names.as_slice(), *size))
    }
}

/// Outcome of the correspondence check.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Call sites in the side table.
    pub call_sites: usize,
    /// Of those, landmark calls.
    pub landmark_sites: usize,
    /// Functions with a frame record (their fixed-size allocations).
    pub frames: usize,
    /// Recorded locations per ISA (call sites and frame records).
    pub locations: usize,
    /// Every disagreement, one line each (the build fails on any).
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Checks that `exes` (x86_64 first, aarch64 second) have corresponding records.
pub fn check(exes: &[Executable; 2]) -> Report {
    let mut report = Report::default();
    let mut bad = |s: String| report.mismatches.push(s);
    if exes[0].table_bytes != exes[1].table_bytes {
        bad(format!(
            "the call-site tables of {} and {} differ: not one build",
            exes[0].isa, exes[1].isa
        ));
    }
    let table = &exes[0].table;
    for exe in exes {
        for id in exe.records.keys() {
            let known = if *id >= FRAME_ID_BASE {
                table.frame(*id).is_some()
            } else {
                table.get(*id).is_some()
            };
            if !known {
                bad(format!(
                    "{}: stackmap record {id} has no call site or frame in the table",
                    exe.isa
                ));
            }
        }
    }
    let mut function_address: HashMap<String, [Option<u64>; 2]> = HashMap::new();
    let mut in_function =
        |i: usize, exe: &Executable, record: &Record, function: &str, at: &str| match exe
            .function_at(record.address())
        {
            Some((start, names, _)) if names.iter().any(|n| n == function) => {
                let slot = &mut function_address.entry(function.to_string()).or_default()[i];
                *slot = Some(start);
                None
            }
            Some((_, names, _)) => Some(format!(
                "{}: the record of {at} is in {}, not {function}",
                exe.isa,
                names.join(" = ")
            )),
            None => Some(format!(
                "{}: the record of {at} ({:#x}) is outside every function",
                exe.isa,
                record.address()
            )),
        };
    for frame in &table.frames {
        let at = format!("the frame record of {}", frame.function);
        for (i, exe) in exes.iter().enumerate() {
            let Some(copies) = exe.records.get(&frame.id) else {
                bad(format!("{}: no record for {at}", exe.isa));
                continue;
            };
            if copies.iter().any(|c| c.locations != copies[0].locations) {
                bad(format!(
                    "{}: the copies of {at} disagree on the frame addresses",
                    exe.isa
                ));
            }
            let record = &copies[0];
            if let Some(m) = in_function(i, exe, record, &frame.function, &at) {
                bad(m);
            }
            if record.locations.len() != frame.allocas.len() {
                bad(format!(
                    "{}: {at} records {} locations, the table describes {} allocations",
                    exe.isa,
                    record.locations.len(),
                    frame.allocas.len()
                ));
                continue;
            }
            for (k, loc) in record.locations.iter().enumerate() {
                if !matches!(loc, Location::Direct { .. }) {
                    bad(format!(
                        "{}: {at}: allocation {k} is not at a fixed frame address ({loc:?})",
                        exe.isa
                    ));
                }
            }
        }
    }
    for site in &table.sites {
        let at = site_description(site);
        let frame_size = table
            .frame_of(&site.function)
            .map_or(0, |f| f.allocas.len());
        let derived_allocas = site.derived.iter().filter_map(|d| match &d.base {
            Base::Alloca(a) => Some(a),
            _ => None,
        });
        let bad_alloca = site
            .allocas
            .iter()
            .chain(derived_allocas)
            .find(|a| **a as usize >= frame_size);
        if let Some(a) = bad_alloca {
            bad(format!(
                "{at}: allocation {a} is not in the frame record of {} ({frame_size} allocations)",
                site.function
            ));
        }
        for d in &site.derived {
            if let Base::Value(v) = d.base {
                if !site.values.iter().any(|p| p.value == v) {
                    bad(format!(
                        "{at}: derived value {} is based on value {v}, which is not recorded",
                        d.value
                    ));
                }
            }
        }
        for (i, exe) in exes.iter().enumerate() {
            let Some(copies) = exe.records.get(&site.id) else {
                bad(format!("{}: no record for {at}", exe.isa));
                continue;
            };
            for record in copies {
                if let Some(m) = in_function(i, exe, record, &site.function, &at) {
                    bad(m);
                }
                if record.locations.len() != site.values.len() {
                    bad(format!(
                        "{}: {at} records {} locations, the table describes {}",
                        exe.isa,
                        record.locations.len(),
                        site.values.len()
                    ));
                    continue;
                }
                for (k, (loc, part)) in record.locations.iter().zip(&site.values).enumerate() {
                    let fits = match loc {
                        Location::Constant { .. } => true,
                        _ => loc.size() as u32 >= part.size,
                    };
                    if !fits {
                        bad(format!(
                            "{}: {at}, location {k}: {} bytes hold a {}-byte {}",
                            exe.isa,
                            loc.size(),
                            part.size,
                            part.ty
                        ));
                    }
                    if matches!(loc, Location::Direct { .. }) {
                        bad(format!(
                        "{}: {at}, location {k}: a frame address for a value that is not a fixed-size allocation",
                        exe.isa
                    ));
                    }
                }
            }
        }
    }
    for (name, [a, b]) in &function_address {
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                bad(format!(
                    "function {name} is at {a:#x} on {} but {b:#x} on {}",
                    exes[0].isa, exes[1].isa
                ));
            }
        }
    }
    report.call_sites = table.sites.len();
    report.landmark_sites = table
        .sites
        .iter()
        .filter(|s| matches!(s.kind, CallKind::Landmark(_)))
        .count();
    report.frames = table.frames.len();
    report.locations = table.sites.iter().map(|s| s.values.len()).sum::<usize>()
        + table.frames.iter().map(|f| f.allocas.len()).sum::<usize>();
    report
}

/// "call site 12 (landmark 3 in main, main.c:40)", for messages.
pub fn site_description(site: &callsites::CallSite) -> String {
    let what = match &site.kind {
        CallKind::Direct(f) => format!("call to {f}"),
        CallKind::Indirect => "indirect call".to_string(),
        CallKind::Landmark(id) => format!("landmark {id}"),
        CallKind::ReturnsTwice(f) => format!("call to {f}"),
    };
    let line = match &site.location {
        Some((file, line)) => format!(", {file}:{line}"),
        None => String::new(),
    };
    format!("call site {} ({what} in {}{line})", site.id, site.function)
}
