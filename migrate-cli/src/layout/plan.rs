//! Computes one address for every program and libc object in both executables.
//!
//! Input: each ISA's link map from a first, unconstrained link (which input
//! sections the linker keeps, their sizes and alignments). Output: a list of
//! regions (one output section each, fixed start address), each holding
//! *units* placed at fixed addresses, identical for both ISAs. A unit is what
//! one ISA's input section(s) for one object became: `main`'s code, libc's
//! `printf`, a string literal. It is sized and aligned for the larger of the
//! two ISAs, so the same symbol lands at the same address in both.
//!
//! Sections with no symbol (constant pools, merged libc strings, `.eh_frame`,
//! linker-made `.got`) are ISA-private: they are only ever reached from code of
//! their own ISA, so they go after the units of their region, where the two
//! executables may differ.

use super::map::InputSection;
use anyhow::{bail, Result};
use migrate_format::PerArch;
use std::collections::HashMap;

/// Start of the migratable image: everything the program's code and data
/// occupy lies above it, in both executables. Below 2 GiB so that x86_64's
/// small code model (and musl's libc.a, built for it) can reach everything.
pub const IMAGE_BASE: u64 = migrate_format::window::WINDOW_START;
/// First unit address: leaves the first page for ELF headers and build-id.
const TEXT_START: u64 = IMAGE_BASE + 0x1000;
/// Alignment where access permissions change (the largest page size).
const SEGMENT_ALIGN: u64 = migrate_format::arch::MAX_PAGE_SIZE;
/// Slack added to each region's private part for linker-made padding.
const PRIVATE_SLACK: u64 = 256;

/// How one output section of the aligned executables is filled.
#[derive(Debug)]
pub struct RegionSpec {
    /// Output section name.
    pub output: &'static str,
    /// Output sections of the unconstrained link whose inputs come here.
    pub sources: &'static [&'static str],
    /// Of those, the ones kept whole, in link order, as one unit
    /// (`.init` prologue and epilogue, constructor arrays).
    pub ordered: &'static [(&'static str, &'static str)],
    /// Input-section patterns for the ISA-private rest.
    pub private: &'static str,
    /// Starts a new segment (permissions change): align to [`SEGMENT_ALIGN`].
    pub new_segment: bool,
}

/// The regions, in address order.
pub const REGIONS: &[RegionSpec] = &[
    RegionSpec {
        output: ".text",
        sources: &[".text", ".init", ".fini"],
        ordered: &[(".init", "KEEP(*(.init))"), (".fini", "KEEP(*(.fini))")],
        private: "*(.text .text.*)",
        new_segment: false,
    },
    RegionSpec {
        output: ".rodata",
        sources: &[".rodata"],
        ordered: &[],
        private: "*(.rodata .rodata.*)",
        new_segment: true,
    },
    RegionSpec {
        output: ".eh_frame",
        sources: &[".eh_frame"],
        ordered: &[],
        private: "KEEP(*(.eh_frame))",
        new_segment: false,
    },
    RegionSpec {
        output: ".gcc_except_table",
        sources: &[".gcc_except_table"],
        ordered: &[],
        private: "*(.gcc_except_table .gcc_except_table.*)",
        new_segment: false,
    },
    RegionSpec {
        // Live-value records (stock LLVM stackmaps): read by the runtime and
        // the translator, never referenced by code, different per ISA.
        output: ".llvm_stackmaps",
        sources: &[".llvm_stackmaps"],
        ordered: &[],
        private: "KEEP(*(.llvm_stackmaps))",
        new_segment: false,
    },
    RegionSpec {
        output: ".tdata",
        sources: &[".tdata"],
        ordered: &[],
        private: "*(.tdata .tdata.*)",
        new_segment: true,
    },
    RegionSpec {
        output: ".tbss",
        sources: &[".tbss"],
        ordered: &[],
        private: "*(.tbss .tbss.*)",
        new_segment: false,
    },
    RegionSpec {
        output: ".preinit_array",
        sources: &[".preinit_array"],
        ordered: &[(".preinit_array", "KEEP(*(.preinit_array))")],
        private: "",
        new_segment: false,
    },
    RegionSpec {
        output: ".init_array",
        sources: &[".init_array"],
        ordered: &[(
            ".init_array",
            "KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*) SORT_BY_INIT_PRIORITY(.ctors.*))) KEEP(*(.init_array .ctors))",
        )],
        private: "",
        new_segment: false,
    },
    RegionSpec {
        output: ".fini_array",
        sources: &[".fini_array"],
        ordered: &[(
            ".fini_array",
            "KEEP(*(SORT_BY_INIT_PRIORITY(.fini_array.*) SORT_BY_INIT_PRIORITY(.dtors.*))) KEEP(*(.fini_array .dtors))",
        )],
        private: "",
        new_segment: false,
    },
    RegionSpec {
        output: ".data",
        sources: &[".data", ".data.rel.ro", ".got", ".got.plt"],
        ordered: &[],
        private: "*(.data .data.* .data.rel.ro .data.rel.ro.*) *(.got) *(.got.plt)",
        new_segment: false,
    },
    RegionSpec {
        output: ".bss",
        sources: &[".bss"],
        ordered: &[],
        private: "*(.bss .bss.* COMMON)",
        new_segment: false,
    },
];

/// The input sections of one ISA that one linker-script pattern selects.
#[derive(Debug, Clone)]
pub struct Piece {
    /// `file(section)` pattern, exact for this ISA's link.
    pub pattern: String,
    pub size: u64,
    pub align: u64,
    /// Symbols and their offsets in the piece.
    pub symbols: Vec<(String, u64)>,
    /// Its symbols whose names are unique in this ISA's link.
    pub unique_names: Vec<String>,
}

impl Piece {
    /// Adds another input section after this piece's (same pattern).
    fn append(&mut self, input: &InputSection) {
        self.size = align_up(self.size, input.align) + input.size;
        self.align = self.align.max(input.align);
    }
}

/// One object at one address in both executables.
#[derive(Debug, Clone)]
pub struct Unit {
    /// What identifies it across ISAs: its first symbol, or the ordered
    /// section's name.
    pub key: String,
    pub address: u64,
    /// Size reserved: the larger of the two ISAs'.
    pub size: u64,
    /// Per ISA (index: `Arch::index`), absent if that ISA has no such object.
    pub pieces: [Option<Piece>; 2],
}

/// One output section of the plan.
#[derive(Debug, Clone)]
pub struct Region {
    pub spec: &'static RegionSpec,
    pub start: u64,
    /// End of the units, where the ISA-private part starts.
    pub shared_end: u64,
    /// Upper bound of the end of the private part over both ISAs.
    pub end: u64,
    pub units: Vec<Unit>,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub regions: Vec<Region>,
    /// Symbols both ISAs define in the same unit but at different offsets in
    /// it (hand-written multi-entry assembly such as musl's `fenv.s`), with
    /// the reason. Section-level placement cannot align these.
    pub exempt: Vec<(String, String)>,
}

fn align_up(x: u64, a: u64) -> u64 {
    let a = a.max(1);
    x.div_ceil(a) * a
}

/// Linker-script file pattern for a map file name: `lib.a(member.o)` becomes
/// `lib.a:member.o`.
fn file_pattern(file: &str) -> String {
    match file.strip_suffix(')').and_then(|f| f.split_once('(')) {
        Some((archive, member)) => format!("{archive}:{member}"),
        None => file.to_string(),
    }
}

/// Name of a file as it identifies an object on both ISAs: the basename
/// (archives keep their member: `libc.a(printf.lo)`).
fn file_identity(file: &str) -> &str {
    let (path, member) = match file.find('(') {
        Some(i) => (&file[..i], &file[i..]),
        None => (file, ""),
    };
    let base = path.rsplit('/').next().unwrap_or(path);
    &file[file.len() - member.len() - base.len()..]
}

fn is_real_symbol(s: &str) -> bool {
    !s.starts_with('$') && !s.starts_with(".L")
}

/// Groups of one ISA's input sections by pattern, keyed for cross-ISA matching.
struct IsaPieces {
    /// (region index, key) -> piece, in link order.
    keyed: Vec<(usize, String, Piece)>,
    /// Per region: upper bound of the private part's size.
    private_size: Vec<u64>,
}

fn region_of(output: &str) -> Option<usize> {
    REGIONS.iter().position(|r| r.sources.contains(&output))
}

fn collect(inputs: &[InputSection], isa_name: &str) -> Result<IsaPieces> {
    // How many times each symbol name occurs: a symbol that occurs once in
    // this link identifies its section; others need the file name too.
    let mut occurrences: HashMap<&str, usize> = HashMap::new();
    for (s, _) in inputs.iter().flat_map(|i| &i.symbols) {
        *occurrences.entry(s.as_str()).or_default() += 1;
    }
    let mut keyed: Vec<(usize, String, Piece)> = Vec::new();
    let mut by_pattern: HashMap<String, usize> = HashMap::new();
    let mut private_size = vec![0u64; REGIONS.len()];
    let mut ordered_seen: HashMap<&str, usize> = HashMap::new();
    let mut keys_seen: HashMap<String, usize> = HashMap::new();
    for input in inputs {
        if input.output_vma == 0 || input.output.starts_with(".note") {
            continue; // not loaded (debug info), or placed with the headers (build-id)
        }
        let Some(region) = region_of(&input.output) else {
            bail!(
                "{isa_name}: the linker placed {}:({}) in output section {}, which the layout \
                 aligner does not know",
                input.file,
                input.section,
                input.output
            );
        };
        let spec = &REGIONS[region];
        if let Some((name, pattern)) = spec.ordered.iter().find(|(n, _)| *n == input.output) {
            let idx = *ordered_seen.entry(name).or_insert_with(|| {
                keyed.push((
                    region,
                    format!("@{name}"),
                    Piece {
                        pattern: pattern.to_string(),
                        size: 0,
                        align: 1,
                        symbols: Vec::new(),
                        unique_names: Vec::new(),
                    },
                ));
                keyed.len() - 1
            });
            keyed[idx].2.append(input);
            continue;
        }
        // The key symbol: the smallest name that identifies the section on its
        // own, so that multi-entry assembly sections whose entries come in a
        // different order on each ISA still match.
        let real = || {
            input
                .symbols
                .iter()
                .map(|(s, _)| s)
                .filter(|s| is_real_symbol(s))
        };
        let key_symbol = real()
            .filter(|s| occurrences[s.as_str()] == 1)
            .min()
            .or_else(|| real().next());
        let (Some(symbol), false) = (key_symbol, input.file == "<internal>") else {
            private_size[region] += input.size + input.align;
            continue;
        };
        let pattern = format!("{}({})", file_pattern(&input.file), input.section);
        if let Some(&idx) = by_pattern.get(&pattern) {
            // Same pattern twice (duplicate archive member names): one piece.
            keyed[idx].2.append(input);
            continue;
        }
        let mut key = if occurrences[symbol.as_str()] == 1 {
            symbol.clone()
        } else {
            format!(
                "{}:{}:{}",
                file_identity(&input.file),
                input.section,
                symbol
            )
        };
        // Still ambiguous (same member name twice): number them in link order.
        let seen = keys_seen.entry(key.clone()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            key = format!("{key}#{seen}");
        }
        by_pattern.insert(pattern.clone(), keyed.len());
        let symbols = input
            .symbols
            .iter()
            .filter(|(s, _)| is_real_symbol(s))
            .map(|(s, at)| (s.clone(), at - input.vma))
            .collect();
        let unique_names = real()
            .filter(|s| occurrences[s.as_str()] == 1)
            .cloned()
            .collect();
        keyed.push((
            region,
            key,
            Piece {
                pattern,
                size: input.size,
                align: input.align,
                symbols,
                unique_names,
            },
        ));
    }
    Ok(IsaPieces {
        keyed,
        private_size,
    })
}

/// Computes the plan from both ISAs' link maps.
pub fn plan(maps: PerArch<&Vec<InputSection>>) -> Result<Plan> {
    let pieces = PerArch::try_new(|arch| collect(maps[arch], arch.name()))?.0;
    // Units per region, in x86_64 link order, then aarch64-only ones.
    let mut units: Vec<Vec<Unit>> = vec![Vec::new(); REGIONS.len()];
    // Every name a piece is known by (its key, and each symbol that is unique
    // in its link) points to its unit, so pieces match across ISAs when they
    // share any such name: musl's x86_64 memcpy.s also defines __memcpy_fwd.
    let mut index: HashMap<(usize, String), usize> = HashMap::new();
    for (isa, p) in pieces.iter().enumerate() {
        for (region, key, piece) in &p.keyed {
            let names = std::iter::once(key).chain(&piece.unique_names);
            let existing = names
                .clone()
                .filter_map(|n| index.get(&(*region, n.clone())))
                .find(|&&i| units[*region][i].pieces[isa].is_none())
                .copied();
            let i = existing.unwrap_or_else(|| {
                units[*region].push(Unit {
                    key: key.clone(),
                    address: 0,
                    size: 0,
                    pieces: [None, None],
                });
                units[*region].len() - 1
            });
            for n in names {
                index.entry((*region, n.clone())).or_insert(i);
            }
            units[*region][i].pieces[isa] = Some(piece.clone());
        }
    }
    let exempt = exemptions(&units)?;
    let mut regions = Vec::new();
    let mut cursor = TEXT_START;
    for (r, spec) in REGIONS.iter().enumerate() {
        if spec.new_segment {
            cursor = align_up(cursor, SEGMENT_ALIGN);
        }
        let mut region_units = std::mem::take(&mut units[r]);
        let first_align = region_units
            .iter()
            .flat_map(|u| u.pieces.iter().flatten())
            .map(|p| p.align)
            .max()
            .unwrap_or(1);
        let start = align_up(cursor, first_align.max(8));
        let mut at = start;
        for u in &mut region_units {
            let align = u
                .pieces
                .iter()
                .flatten()
                .map(|p| p.align)
                .max()
                .unwrap_or(1);
            u.address = align_up(at, align);
            u.size = u.pieces.iter().flatten().map(|p| p.size).max().unwrap_or(0);
            at = u.address + u.size;
        }
        let shared_end = align_up(at, 16);
        let private = pieces.iter().map(|p| p.private_size[r]).max().unwrap_or(0);
        let end = shared_end
            + if private > 0 {
                private + PRIVATE_SLACK
            } else {
                0
            };
        regions.push(Region {
            spec,
            start,
            shared_end,
            end,
            units: region_units,
        });
        // .tbss takes no address space in the image: what follows overlaps it.
        if spec.output != ".tbss" {
            cursor = end;
        }
    }
    Ok(Plan { regions, exempt })
}

/// The symbols section-level placement cannot put at one address on both
/// ISAs, with the reason. Only code may be among them (a return address into
/// such a routine is translated by the frame tables): a variable or a
/// constant at two addresses would lose its value, or leave a pointer to it
/// dangling, at every migration, so one is an error naming the cause.
fn exemptions(units: &[Vec<Unit>]) -> Result<Vec<(String, String)>> {
    let misplaced = units.iter().enumerate().flat_map(|(r, region)| {
        region
            .iter()
            .flat_map(misplaced_symbols)
            .map(move |e| (r, e))
    });
    let (code, data): (Vec<_>, Vec<_>) = misplaced
        .chain(split_differently(units))
        .partition(|(r, _)| REGIONS[*r].output == ".text");
    if let Some((r, (symbol, reason))) = data.first() {
        bail!(
            "`{symbol}` (in {}) cannot be placed at one address on both ISAs: it is {reason}; \
             its value would not survive a migration ({} such symbols; was an object built \
             with global merging, which AArch64 does at -O3 and for size, or without \
             -fdata-sections?)",
            REGIONS[*r].output,
            data.len()
        );
    }
    Ok(code.into_iter().map(|(_, e)| e).collect())
}

/// Symbols of a unit that sit at different offsets in the two ISAs' pieces.
fn misplaced_symbols(unit: &Unit) -> Vec<(String, String)> {
    let [Some(a), Some(b)] = &unit.pieces else {
        return Vec::new();
    };
    a.symbols
        .iter()
        .filter(|(name, off)| b.symbols.iter().any(|(n, o)| n == name && o != off))
        .map(|(name, _)| {
            (
                name.clone(),
                format!(
                    "shares a section with `{}`, at a different offset on each ISA",
                    unit.key
                ),
            )
        })
        .collect()
}

/// Symbols that one ISA's library groups into one multi-symbol section and
/// the other splits across several (compiler-rt's `comparetf2.c` against
/// libgcc's `getf2.o`, `letf2.o`, ...): they land in different units.
/// Each comes with the region it is in (a data region if either ISA puts it
/// in one).
fn split_differently(units: &[Vec<Unit>]) -> Vec<(usize, (String, String))> {
    let mut home: [HashMap<&str, (usize, usize, usize)>; 2] = Default::default();
    for (r, region) in units.iter().enumerate() {
        for (u, unit) in region.iter().enumerate() {
            for (isa, piece) in unit.pieces.iter().enumerate() {
                for (name, _) in piece.iter().flat_map(|p| &p.symbols) {
                    let count = piece.as_ref().map_or(0, |p| p.symbols.len());
                    home[isa].insert(name, (r, u, count));
                }
            }
        }
    }
    let mut out: Vec<(usize, (String, String))> = home[0]
        .iter()
        .filter_map(|(name, &(r0, u0, n0))| {
            let &(r1, u1, n1) = home[1].get(name)?;
            ((r0, u0) != (r1, u1) && (n0 > 1 || n1 > 1)).then(|| {
                (
                    r0.max(r1),
                    (
                        name.to_string(),
                        "grouped with other symbols in one section on one ISA and not on the \
                         other (compiler support routines)"
                            .to_string(),
                    ),
                )
            })
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        output: &str,
        file: &str,
        section: &str,
        size: u64,
        align: u64,
        syms: &[&str],
    ) -> InputSection {
        InputSection {
            output: output.into(),
            output_vma: 0x1000,
            file: file.into(),
            section: section.into(),
            size,
            align,
            vma: 0x1000,
            symbols: syms.iter().map(|s| (s.to_string(), 0x1000)).collect(),
        }
    }

    #[test]
    fn same_symbol_same_address_larger_size_wins() {
        let x86 = vec![
            input(
                ".text",
                "/w/x86_64/prog.o",
                ".text.main",
                0x40,
                16,
                &["main"],
            ),
            input(".text", "/w/x86_64/prog.o", ".text.f", 0x10, 16, &["f"]),
            input(".rodata", "<internal>", ".rodata.cst8", 8, 8, &[]),
        ];
        let arm = vec![
            input(".text", "/w/aarch64/prog.o", ".text.f", 0x30, 4, &["f"]),
            input(
                ".text",
                "/w/aarch64/prog.o",
                ".text.main",
                0x20,
                4,
                &["main"],
            ),
        ];
        let p = plan(PerArch([&x86, &arm])).unwrap();
        let text = &p.regions[0];
        assert_eq!(text.units.len(), 2);
        assert_eq!(text.units[0].key, "main");
        assert_eq!(text.units[0].size, 0x40);
        assert_eq!(text.units[1].address, text.units[0].address + 0x40);
        assert_eq!(text.units[1].size, 0x30);
        assert_eq!(p.regions[1].units.len(), 0, "constant pools stay private");
        assert!(p.regions[1].end > p.regions[1].start);
    }

    #[test]
    fn duplicate_symbol_names_keyed_by_file() {
        let x86 = vec![
            input(".text", "/l/libc.a(a.lo)", ".text.dummy", 4, 16, &["dummy"]),
            input(".text", "/l/libc.a(b.lo)", ".text.dummy", 4, 16, &["dummy"]),
        ];
        let p = plan(PerArch([&x86, &x86])).unwrap();
        let keys: Vec<_> = p.regions[0].units.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "libc.a(a.lo):.text.dummy:dummy",
                "libc.a(b.lo):.text.dummy:dummy"
            ]
        );
        assert_eq!(file_pattern("/l/libc.a(a.lo)"), "/l/libc.a:a.lo");
    }

    /// What AArch64's global merging does to a file's statics: one section
    /// on one ISA, one section each on the other.
    fn merged_on_aarch64(output: &str, section: &str) -> PerArch<Vec<InputSection>> {
        let x86 = vec![
            input(output, "/w/rt.o", &format!("{section}.lo"), 8, 8, &["lo"]),
            input(output, "/w/rt.o", &format!("{section}.hi"), 8, 8, &["hi"]),
        ];
        let mut merged = input(output, "/w/rt.o", section, 16, 8, &["lo", "hi"]);
        merged.symbols[1].1 += 8;
        PerArch([x86, vec![merged]])
    }

    #[test]
    fn data_grouped_differently_is_refused() {
        let maps = merged_on_aarch64(".bss", ".bss._MergedGlobals");
        let err = plan(PerArch([&maps.0[0], &maps.0[1]])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("(in .bss)"), "{msg}");
        assert!(msg.contains("global merging"), "{msg}");
    }

    #[test]
    fn code_grouped_differently_is_exempt() {
        let maps = merged_on_aarch64(".text", ".text.support");
        let p = plan(PerArch([&maps.0[0], &maps.0[1]])).unwrap();
        let names: Vec<_> = p.exempt.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["hi", "lo"]);
    }
}
