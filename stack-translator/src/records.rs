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

use crate::callsites::{self, CallKind, CallSiteTable};
use crate::stackmaps::{self, Location, Record, StackMaps};
use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One executable's records, read and indexed.
pub struct Executable {
    /// Its ISA's name, for messages.
    pub isa: String,
    pub table: CallSiteTable,
    /// Records by ID.
    pub records: BTreeMap<u64, Record>,
    /// Function symbols: start address → (name, size).
    pub functions: BTreeMap<u64, (String, u64)>,
    /// Raw side-table bytes (the two executables must carry the same).
    table_bytes: Vec<u8>,
}

impl Executable {
    /// Reads the records of the executable at `path`.
    pub fn read(path: &Path, isa: &str) -> Result<Self> {
        let data =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = object::File::parse(&data[..])
            .with_context(|| format!("{}: not an ELF file", path.display()))?;
        let what = |s: &str| format!("{}: {s}", path.display());
        let table_bytes = file
            .section_by_name(callsites::SECTION)
            .with_context(|| {
                what(&format!(
                    "no {} section: not built by `migrate cc`",
                    callsites::SECTION
                ))
            })?
            .data()
            .with_context(|| what("unreadable call-site table"))?
            .to_vec();
        let table = CallSiteTable::decode(&table_bytes).with_context(|| what("call-site table"))?;
        let maps = match file.section_by_name(stackmaps::SECTION) {
            Some(s) => StackMaps::parse(s.data().with_context(|| what("unreadable records"))?)
                .with_context(|| what("records"))?,
            None => StackMaps {
                functions: vec![],
                records: vec![],
            },
        };
        let mut records = BTreeMap::new();
        for r in maps.records {
            let id = r.id;
            if records.insert(id, r).is_some() {
                bail!("{}: two stackmap records with ID {id}", path.display());
            }
        }
        let functions = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
            .filter_map(|s| Some((s.address(), (s.name().ok()?.to_string(), s.size()))))
            .collect();
        Ok(Executable {
            isa: isa.to_string(),
            table,
            records,
            functions,
            table_bytes,
        })
    }

    /// The function containing `address`: (start, name, size).
    pub fn function_at(&self, address: u64) -> Option<(u64, &str, u64)> {
        let (start, (name, size)) = self.functions.range(..=address).next_back()?;
        (address < start + size).then_some((*start, name.as_str(), *size))
    }
}

/// Outcome of the correspondence check.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Call sites in the side table.
    pub call_sites: usize,
    /// Of those, landmark calls.
    pub landmark_sites: usize,
    /// Recorded locations per ISA (all call sites).
    pub locations: usize,
    /// Every disagreement, one line each (the build fails on any).
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Reads both executables and checks them (see [`check`]).
pub fn check_files(paths: [&Path; 2], isas: [&str; 2]) -> Result<Report> {
    let exes = [
        Executable::read(paths[0], isas[0])?,
        Executable::read(paths[1], isas[1])?,
    ];
    Ok(check(&exes))
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
            if table.get(*id).is_none() {
                bad(format!(
                    "{}: stackmap record {id} has no call site in the table",
                    exe.isa
                ));
            }
        }
    }
    let mut function_address: HashMap<&str, [Option<u64>; 2]> = HashMap::new();
    for site in &table.sites {
        let at = site_description(site);
        for (i, exe) in exes.iter().enumerate() {
            let Some(record) = exe.records.get(&site.id) else {
                bad(format!("{}: no record for {at}", exe.isa));
                continue;
            };
            match exe.function_at(record.address()) {
                Some((start, name, _)) if name == site.function => {
                    function_address.entry(name).or_default()[i] = Some(start);
                }
                Some((_, name, _)) => bad(format!(
                    "{}: the record of {at} is in {name}, not {}",
                    exe.isa, site.function
                )),
                None => bad(format!(
                    "{}: the record of {at} ({:#x}) is outside every function",
                    exe.isa,
                    record.address()
                )),
            }
            if i == 0 {
                for d in &site.derived {
                    let base_is_alloca = site
                        .values
                        .iter()
                        .any(|p| p.value == d.base && p.alloca.is_some());
                    if !base_is_alloca {
                        bad(format!(
                            "{at}: derived value {} is based on value {}, which is not a recorded stack allocation",
                            d.value, d.base
                        ));
                    }
                }
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
                if matches!(loc, Location::Direct { .. }) && part.alloca.is_none() {
                    bad(format!(
                        "{}: {at}, location {k}: a frame address for a value that is not a stack allocation",
                        exe.isa
                    ));
                }
            }
        }
    }
    for (name, [a, b]) in function_address {
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
    report.locations = table.sites.iter().map(|s| s.values.len()).sum();
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
