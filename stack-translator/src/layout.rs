//! Compares the layout of the x86_64 and aarch64 executables of one build.
//!
//! Every symbol defined in both must have the same address, and the sections
//! that hold shared objects must start at the same address. Symbols only one
//! ISA has (compiler support routines, ABI shims, constant pools) are fine:
//! only that ISA's code refers to them.

use crate::{Error, Result};
use migrate_format::{Arch, PerArch};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Output sections whose start must agree.
const SHARED_SECTIONS: &[&str] = &[
    ".text",
    ".rodata",
    ".tdata",
    ".tbss",
    ".init_array",
    ".fini_array",
    ".data",
    ".bss",
];

/// Non-loaded section in which `migrate cc` records what the layout aligner
/// knows about the build (same contents in both executables).
pub const MANIFEST_SECTION: &str = ".migrate.layout";

/// What the aligner records in [`MANIFEST_SECTION`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Symbols that cannot be aligned, with the reason: they share one input
    /// section with another symbol (multi-entry assembly) at different
    /// offsets on the two ISAs. Reported by the check, not counted as failures.
    pub exempt: Vec<Exempt>,
}

/// One symbol the aligner could not place identically.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exempt {
    pub symbol: String,
    pub reason: String,
}

/// Outcome of a comparison.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Symbols defined in both executables (all compared).
    pub shared_symbols: usize,
    /// Symbols defined in only the first / only the second executable.
    pub only_in: [usize; 2],
    /// Their names (locals as `file:name`).
    pub only_in_names: [Vec<String>; 2],
    /// Every difference found, one line each.
    pub mismatches: Vec<String>,
    /// Differences the manifest explains, one line each with the reason.
    pub exempt: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sym {
    address: u64,
    size: u64,
    tls: bool,
}

/// Defined symbols by identity: by name where the name is unique in the
/// executable (globals, and hidden symbols the linker made local), else by
/// (preceding STT_FILE, name) (`static` objects of the same name).
fn symbols(file: &object::File) -> BTreeMap<String, Sym> {
    let mut defined = Vec::new();
    let mut current_file = String::new();
    for sym in file.symbols() {
        if sym.kind() == SymbolKind::File {
            current_file = sym.name().unwrap_or("").to_string();
            continue;
        }
        let Ok(name) = sym.name() else { continue };
        if name.is_empty()
            || name.starts_with('$')
            || name.starts_with(".L")
            || sym.is_undefined()
            || sym.kind() == SymbolKind::Section
        {
            continue;
        }
        let sym_info = Sym {
            address: sym.address(),
            size: sym.size(),
            tls: sym.kind() == SymbolKind::Tls,
        };
        defined.push((current_file.clone(), name.to_string(), sym_info));
    }
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, name, _) in &defined {
        *count.entry(name).or_default() += 1;
    }
    defined
        .iter()
        .map(|(file, name, s)| {
            let key = if count[name.as_str()] == 1 {
                name.clone()
            } else {
                format!("{file}:{name}")
            };
            (key, *s)
        })
        .collect()
}

fn section_starts(file: &object::File) -> BTreeMap<String, u64> {
    file.sections()
        .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
        .filter(|(n, _)| SHARED_SECTIONS.contains(&n.as_str()))
        .collect()
}

/// Compares the two executables at `paths`.
pub fn compare<P: AsRef<Path>>(paths: PerArch<P>) -> Result<Report> {
    let data = PerArch::try_new(|arch| {
        let p = paths[arch].as_ref();
        std::fs::read(p).map_err(Error::read(p))
    })?;
    compare_bytes(PerArch::new(|arch| (paths[arch].as_ref(), &data[arch][..])))
}

/// Compares two executables already read: (path for messages, bytes).
pub fn compare_bytes(exes: PerArch<(&Path, &[u8])>) -> Result<Report> {
    let names = Arch::ALL.map(Arch::name);
    let paths = exes.0.map(|(p, _)| p);
    let data = exes.0.map(|(_, d)| d);
    let files: Vec<object::File> = data
        .iter()
        .zip(paths)
        .map(|(d, p)| object::File::parse(*d).map_err(Error::elf(p, "not an ELF file")))
        .collect::<Result<_>>()?;
    let mut report = Report::default();
    let manifest = read_manifest(&files[0], paths[0])?;

    let secs = [section_starts(&files[0]), section_starts(&files[1])];
    for name in SHARED_SECTIONS {
        if let (Some(a), Some(b)) = (secs[0].get(*name), secs[1].get(*name)) {
            if a != b {
                report.mismatches.push(format!(
                    "section {name}: {a:#x} on {} but {b:#x} on {}",
                    names[0], names[1]
                ));
            }
        }
    }

    let tls = [
        tls_segment(data[0], paths[0])?,
        tls_segment(data[1], paths[1])?,
    ];
    if tls[0] != tls[1] {
        report.mismatches.push(format!(
            "TLS segment (address, size, alignment): {:x?} on {} but {:x?} on {}",
            tls[0], names[0], tls[1], names[1]
        ));
    }

    let syms = [symbols(&files[0]), symbols(&files[1])];
    for (key, a) in &syms[0] {
        match syms[1].get(key) {
            Some(b) => {
                report.shared_symbols += 1;
                if a.address != b.address || a.tls != b.tls {
                    let line = format!(
                        "symbol {key}: {:#x} on {} but {:#x} on {}",
                        a.address, names[0], b.address, names[1]
                    );
                    match manifest.exempt.iter().find(|e| &e.symbol == key) {
                        Some(e) => report.exempt.push(format!("{line} ({})", e.reason)),
                        None => report.mismatches.push(line),
                    }
                }
            }
            None => report.only_in_names[0].push(key.clone()),
        }
    }
    report.only_in_names[1] = syms[1]
        .keys()
        .filter(|k| !syms[0].contains_key(*k))
        .cloned()
        .collect();
    report.only_in = [report.only_in_names[0].len(), report.only_in_names[1].len()];
    Ok(report)
}

/// The manifest `migrate cc` embedded in `file` (read from `path`), or an
/// empty one.
fn read_manifest(file: &object::File, path: &Path) -> Result<Manifest> {
    match file.section_by_name(MANIFEST_SECTION) {
        Some(section) => {
            let data = section
                .data()
                .map_err(Error::elf(path, "unreadable layout manifest"))?;
            serde_json::from_slice(data).map_err(|source| Error::Manifest {
                path: path.to_path_buf(),
                source,
            })
        }
        None => Ok(Manifest::default()),
    }
}

/// The PT_TLS segment's (address, memory size, alignment), if any: thread-
/// local variables are addressed by offsets that depend on all three.
/// `data` is the file at `path`.
fn tls_segment(data: &[u8], path: &Path) -> Result<Option<(u64, u64, u64)>> {
    use object::read::elf::{FileHeader, ProgramHeader};
    let header = object::elf::FileHeader64::<object::Endianness>::parse(data)
        .map_err(Error::elf(path, "not a 64-bit ELF file"))?;
    let endian = header
        .endian()
        .map_err(Error::elf(path, "bad ELF byte order"))?;
    let phdrs = header
        .program_headers(endian, data)
        .map_err(Error::elf(path, "bad ELF program headers"))?;
    Ok(phdrs
        .iter()
        .find(|p| p.p_type(endian) == object::elf::PT_TLS)
        .map(|p| (p.p_vaddr(endian), p.p_memsz(endian), p.p_align(endian))))
}
