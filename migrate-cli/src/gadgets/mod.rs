//! `migrate gadgets`: the code-reuse attack surface of a build, and how much
//! of it survives a switch of ISA.
//!
//! A gadget is a sequence of at most `depth` instructions (the last one
//! included) that ends in a return (ROP), an indirect jump or call (JOP) or
//! a system call (sys), decoded from some start address with nothing in
//! between that transfers control: the first such instruction within
//! `depth` ends the gadget if it is one of those, and makes the start
//! unusable otherwise (as does a byte sequence that is no instruction).
//! Starts are every byte of every executable section on x86_64, every
//! 4-byte-aligned address on aarch64.
//!
//! Each start is decoded once: walking each section backwards, the number
//! of instructions from a start to its terminator is one more than from the
//! next instruction's start, so the scan is linear in the size of the code
//! and `depth` only filters.
//!
//! Survival (HIPStR, Venkat et al., ASPLOS 2016): both executables of a
//! build have the same layout, so a chain of gadget addresses an attacker
//! built for one ISA still points at the same addresses after the program
//! moves to the other. An address survives if it starts a gadget in both
//! executables; what an attacker keeps is the fraction of an ISA's gadget
//! addresses that survive (the "locality" of gadget-set analyses, Brown &
//! Pande, CSET 2019, counted here across ISAs). Counted by address, every
//! gadget, duplicates not folded: addresses are what a chain holds.

mod aarch64;
mod x64;

use anyhow::{bail, Context, Result};
use migrate_format::{Arch, PerArch};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What ends a gadget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A return.
    Rop,
    /// An indirect jump or call.
    Jop,
    /// A system call.
    Sys,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Rop, Kind::Jop, Kind::Sys];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Rop => "rop",
            Kind::Jop => "jop",
            Kind::Sys => "sys",
        }
    }
}

/// `--type`: which gadgets to look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Types {
    Rop,
    Jop,
    Sys,
    All,
}

impl Types {
    pub fn kinds(self) -> Vec<Kind> {
        match self {
            Types::Rop => vec![Kind::Rop],
            Types::Jop => vec![Kind::Jop],
            Types::Sys => vec![Kind::Sys],
            Types::All => Kind::ALL.to_vec(),
        }
    }
}

/// What one instruction does to a gadget running through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Runs on to the next instruction.
    Ordinary,
    /// Ends the gadget, giving it its type.
    End(Kind),
    /// Transfers control elsewhere (or stops the program): no gadget runs
    /// through it.
    Reject,
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub len: usize,
    pub class: Class,
}

/// One ISA's decoder, behind one trait with one file per ISA.
pub trait GadgetIsa {
    fn arch(&self) -> Arch;
    /// Gadgets start at addresses that are multiples of this.
    fn alignment(&self) -> u64;
    /// The instruction at the start of `code` (which runs to the end of its
    /// section), at `vaddr`; `None` if the bytes are no instruction.
    fn decode(&mut self, code: &[u8], vaddr: u64) -> Option<Decoded>;
    /// Its text, as ROPgadget users read it.
    fn text(&mut self, code: &[u8], vaddr: u64) -> String;
}

/// A decoder for `arch`.
pub fn of(arch: Arch) -> Box<dyn GadgetIsa> {
    match arch {
        Arch::X86_64 => Box::new(x64::X64::new()),
        Arch::Aarch64 => Box::new(aarch64::Aarch64::new()),
    }
}

/// One executable section, scanned.
struct Code {
    vaddr: u64,
    data: Vec<u8>,
    /// Per byte: length of the instruction starting there (0: none).
    len: Vec<u8>,
    /// Per byte: instructions from here to the first terminator, that one
    /// included (0: no gadget starts here).
    count: Vec<u32>,
    /// Per byte with a gadget: its type.
    kind: Vec<Option<Kind>>,
}

impl Code {
    fn scan(isa: &mut dyn GadgetIsa, vaddr: u64, data: Vec<u8>) -> Code {
        let n = data.len();
        let (mut len, mut count, mut kind) = (vec![0u8; n], vec![0u32; n], vec![None; n]);
        let align = isa.alignment();
        for off in (0..n).rev() {
            let at = vaddr + off as u64;
            if !at.is_multiple_of(align) {
                continue;
            }
            let Some(d) = isa.decode(&data[off..], at) else {
                continue;
            };
            len[off] = d.len as u8;
            match d.class {
                Class::Reject => {}
                Class::End(k) => {
                    count[off] = 1;
                    kind[off] = Some(k);
                }
                Class::Ordinary => {
                    let next = off + d.len;
                    if next < n && count[next] > 0 {
                        count[off] = count[next].saturating_add(1);
                        kind[off] = kind[next];
                    }
                }
            }
        }
        Code {
            vaddr,
            data,
            len,
            count,
            kind,
        }
    }
}

/// One gadget.
#[derive(Clone, Debug)]
pub struct Gadget {
    pub vaddr: u64,
    pub kind: Kind,
    pub bytes: Vec<u8>,
    pub insns: Vec<Rc<str>>,
    /// The first (lowest-addressed) gadget with its instruction text.
    pub unique: bool,
}

impl Gadget {
    /// `insn ; insn ; ret`.
    pub fn text(&self) -> String {
        self.insns
            .iter()
            .map(|s| &**s)
            .collect::<Vec<_>>()
            .join(" ; ")
    }
}

/// What to look for.
#[derive(Clone, Debug)]
pub struct Options {
    /// Instructions per gadget at most, the last one included.
    pub depth: u32,
    pub kinds: Vec<Kind>,
    /// Only gadgets wholly inside this function (symbol).
    pub function: Option<String>,
}

/// One executable's gadgets, in address order.
pub struct Scan {
    pub arch: Arch,
    pub path: PathBuf,
    pub gadgets: Vec<Gadget>,
}

/// Every gadget of the ELF executable at `path`, which must be `arch`'s.
pub fn scan_file(arch: Arch, path: &Path, opts: &Options) -> Result<Scan> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file =
        object::File::parse(&*data).with_context(|| format!("{}: not an ELF", path.display()))?;
    let machine = file.architecture();
    let expected = match arch {
        Arch::X86_64 => object::Architecture::X86_64,
        Arch::Aarch64 => object::Architecture::Aarch64,
    };
    if machine != expected {
        bail!(
            "{}: a {machine:?} executable, expected {}",
            path.display(),
            arch.name()
        );
    }
    let ranges = match &opts.function {
        None => None,
        Some(name) => {
            let ranges: Vec<(u64, u64)> = file
                .symbols()
                .filter(|s| s.name() == Ok(name.as_str()) && s.kind() == object::SymbolKind::Text)
                .map(|s| (s.address(), s.address() + s.size()))
                .collect();
            if ranges.is_empty() {
                bail!("{}: no function named {name}", path.display());
            }
            Some(ranges)
        }
    };
    let mut isa = of(arch);
    let mut gadgets = Vec::new();
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else {
            continue;
        };
        if sh_flags & u64::from(object::elf::SHF_EXECINSTR) == 0
            || section.kind() == object::SectionKind::UninitializedData
        {
            continue;
        }
        let bytes = section
            .data()
            .with_context(|| format!("{}: reading its code", path.display()))?;
        let code = Code::scan(&mut *isa, section.address(), bytes.to_vec());
        collect(&mut *isa, &code, opts, ranges.as_deref(), &mut gadgets);
    }
    fold(&mut gadgets);
    Ok(Scan {
        arch,
        path: path.to_path_buf(),
        gadgets,
    })
}

/// Sorts `gadgets` by address and marks the first of each instruction text
/// unique.
fn fold(gadgets: &mut [Gadget]) {
    gadgets.sort_by_key(|g| g.vaddr);
    let mut seen: HashSet<Vec<Rc<str>>> = HashSet::new();
    for g in gadgets {
        g.unique = seen.insert(g.insns.clone());
    }
}

/// The gadgets `opts` asks for in `arch` code `data` at `vaddr`, folded.
pub fn gadgets_in(arch: Arch, vaddr: u64, data: &[u8], opts: &Options) -> Vec<Gadget> {
    let mut isa = of(arch);
    let code = Code::scan(&mut *isa, vaddr, data.to_vec());
    let mut gadgets = Vec::new();
    collect(&mut *isa, &code, opts, None, &mut gadgets);
    fold(&mut gadgets);
    gadgets
}

/// The gadgets of one scanned section that `opts` asks for.
fn collect(
    isa: &mut dyn GadgetIsa,
    code: &Code,
    opts: &Options,
    ranges: Option<&[(u64, u64)]>,
    out: &mut Vec<Gadget>,
) {
    // Each instruction's text, once, shared by the gadgets through it.
    let mut texts: HashMap<usize, Rc<str>> = HashMap::new();
    for start in 0..code.data.len() {
        let count = code.count[start];
        if count == 0 || count > opts.depth {
            continue;
        }
        let kind = code.kind[start].expect("a gadget has a type");
        if !opts.kinds.contains(&kind) {
            continue;
        }
        let mut end = start;
        for _ in 0..count {
            end += usize::from(code.len[end]);
        }
        let (begin, stop) = (code.vaddr + start as u64, code.vaddr + end as u64);
        if let Some(ranges) = ranges {
            if !ranges.iter().any(|&(lo, hi)| lo <= begin && stop <= hi) {
                continue;
            }
        }
        let mut insns = Vec::with_capacity(count as usize);
        let mut off = start;
        while off < end {
            let text = texts
                .entry(off)
                .or_insert_with(|| isa.text(&code.data[off..], code.vaddr + off as u64).into());
            insns.push(text.clone());
            off += usize::from(code.len[off]);
        }
        out.push(Gadget {
            vaddr: begin,
            kind,
            bytes: code.data[start..end].to_vec(),
            insns,
            unique: false,
        });
    }
}

/// Unique (distinct instruction text) and total (every address) counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub unique: usize,
    pub total: usize,
}

/// Counts per type; a type not looked for is left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rop: Option<Count>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jop: Option<Count>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sys: Option<Count>,
    pub all: Count,
}

impl Counts {
    fn of(scan: &Scan, kinds: &[Kind]) -> Counts {
        let mut c = Counts::default();
        for &k in kinds {
            let mut n = Count::default();
            for g in scan.gadgets.iter().filter(|g| g.kind == k) {
                n.total += 1;
                n.unique += usize::from(g.unique);
            }
            c.all.total += n.total;
            c.all.unique += n.unique;
            *c.slot(k) = Some(n);
        }
        c
    }

    fn slot(&mut self, k: Kind) -> &mut Option<Count> {
        match k {
            Kind::Rop => &mut self.rop,
            Kind::Jop => &mut self.jop,
            Kind::Sys => &mut self.sys,
        }
    }

    pub fn get(&self, k: Kind) -> Option<Count> {
        match k {
            Kind::Rop => self.rop,
            Kind::Jop => self.jop,
            Kind::Sys => self.sys,
        }
    }
}

/// One ISA's line of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct IsaSummary {
    pub isa: Arch,
    pub executable: String,
    pub counts: Counts,
    /// Its gadget addresses that start a gadget in the other executable.
    pub kept: usize,
    /// ... a gadget of the same type.
    pub kept_same_type: usize,
    /// `kept / counts.all.total` (0 without gadgets).
    pub kept_fraction: f64,
    pub kept_same_type_fraction: f64,
}

/// The figures: counts per ISA and type, and what survives a switch.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub depth: u32,
    pub types: Vec<Kind>,
    pub function: Option<String>,
    /// Addresses that start a gadget in both executables.
    pub in_both: usize,
    /// ... gadgets of the same type.
    pub in_both_same_type: usize,
    pub isas: Vec<IsaSummary>,
}

/// The summary of both ISAs' scans.
pub fn summarize(scans: &PerArch<Scan>, opts: &Options) -> Summary {
    let addresses: PerArch<HashMap<u64, Kind>> = scans
        .each_ref()
        .map(|_, s| s.gadgets.iter().map(|g| (g.vaddr, g.kind)).collect());
    let (mut in_both, mut in_both_same_type) = (0, 0);
    for (a, k) in &addresses[Arch::X86_64] {
        if let Some(other) = addresses[Arch::Aarch64].get(a) {
            in_both += 1;
            in_both_same_type += usize::from(other == k);
        }
    }
    let fraction = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let isas = scans
        .iter()
        .map(|(arch, scan)| {
            let counts = Counts::of(scan, &opts.kinds);
            let total = counts.all.total;
            IsaSummary {
                isa: arch,
                executable: scan.path.display().to_string(),
                counts,
                kept: in_both,
                kept_same_type: in_both_same_type,
                kept_fraction: fraction(in_both, total),
                kept_same_type_fraction: fraction(in_both_same_type, total),
            }
        })
        .collect();
    Summary {
        depth: opts.depth,
        types: opts.kinds.clone(),
        function: opts.function.clone(),
        in_both,
        in_both_same_type,
        isas,
    }
}

/// What `migrate gadgets` prints.
#[derive(Clone, Debug)]
pub struct Output {
    /// List only this ISA's gadgets (the summary covers both).
    pub arch: Option<Arch>,
    /// List every gadget, not only the first of each instruction text.
    pub all: bool,
    pub json: bool,
    /// Only the summary.
    pub summary_only: bool,
}

/// `migrate gadgets BASE ...`.
pub fn main(base: &Path, opts: &Options, out: &Output) -> Result<i32> {
    if opts.depth == 0 {
        bail!("--depth must be at least 1 (it counts instructions, the last one included)");
    }
    let paths = PerArch::new(|arch| crate::cc::link::output_path(base, arch));
    for (arch, path) in paths.iter() {
        if !path.exists() {
            bail!(
                "{}: no such executable (BASE is a build's base name: `migrate cc -o BASE` \
                 writes BASE.x86_64 and BASE.aarch64; no {} build here)",
                path.display(),
                arch.name()
            );
        }
    }
    let scans = PerArch::try_new(|arch| scan_file(arch, &paths[arch], opts))?;
    let summary = summarize(&scans, opts);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let listed = |arch: Arch| !out.summary_only && out.arch.is_none_or(|a| a == arch);
    if out.json {
        for (arch, scan) in scans.iter().filter(|(a, _)| listed(*a)) {
            for g in scan.gadgets.iter().filter(|g| out.all || g.unique) {
                serde_json::to_writer(&mut w, &json_gadget(arch, g))?;
                writeln!(w)?;
            }
        }
        #[derive(Serialize)]
        struct Last<'a> {
            summary: &'a Summary,
        }
        serde_json::to_writer(&mut w, &Last { summary: &summary })?;
        writeln!(w)?;
    } else {
        for (arch, scan) in scans.iter().filter(|(a, _)| listed(*a)) {
            write_list(&mut w, arch, scan, out.all)?;
        }
        write!(w, "{}", render_summary(&summary))?;
    }
    w.flush()?;
    Ok(0)
}

/// One line of `--json`.
#[derive(Serialize)]
struct JsonGadget<'a> {
    isa: Arch,
    vaddr: u64,
    bytes: String,
    insns: Vec<&'a str>,
    #[serde(rename = "type")]
    kind: Kind,
}

fn json_gadget(arch: Arch, g: &Gadget) -> JsonGadget<'_> {
    JsonGadget {
        isa: arch,
        vaddr: g.vaddr,
        bytes: g.bytes.iter().map(|b| format!("{b:02x}")).collect(),
        insns: g.insns.iter().map(|s| &**s).collect(),
        kind: g.kind,
    }
}

/// ROPgadget's listing: a header, `0x... : insn ; insn ; ret` lines, a
/// blank line and the count.
fn write_list(w: &mut impl Write, arch: Arch, scan: &Scan, all: bool) -> Result<()> {
    writeln!(w, "Gadgets information ({arch}: {})", scan.path.display())?;
    writeln!(w, "{}", "=".repeat(60))?;
    let mut n = 0;
    for g in scan.gadgets.iter().filter(|g| all || g.unique) {
        writeln!(w, "0x{:016x} : {}", g.vaddr, g.text())?;
        n += 1;
    }
    writeln!(w)?;
    if all {
        writeln!(w, "Gadgets found: {n}")?;
    } else {
        writeln!(w, "Unique gadgets found: {n}")?;
    }
    writeln!(w)?;
    Ok(())
}

/// The closing table.
pub fn render_summary(s: &Summary) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Summary: gadgets of at most {} instructions (the last one included){}",
        s.depth,
        match &s.function {
            Some(f) => format!(", wholly inside {f}"),
            None => String::new(),
        }
    );
    let _ = writeln!(
        t,
        "{:<9} {:<5} {:>10} {:>10}",
        "isa", "type", "unique", "total"
    );
    for i in &s.isas {
        for k in &s.types {
            if let Some(c) = i.counts.get(*k) {
                let _ = writeln!(
                    t,
                    "{:<9} {:<5} {:>10} {:>10}",
                    i.isa.name(),
                    k.name(),
                    c.unique,
                    c.total
                );
            }
        }
        let c = i.counts.all;
        let _ = writeln!(
            t,
            "{:<9} {:<5} {:>10} {:>10}",
            i.isa.name(),
            "all",
            c.unique,
            c.total
        );
    }
    let _ = writeln!(
        t,
        "Surviving a switch of ISA (by address: every gadget, duplicates not folded):"
    );
    let _ = writeln!(
        t,
        "  addresses that start a gadget in both executables: {} (of the same type in both: {})",
        s.in_both, s.in_both_same_type
    );
    for i in &s.isas {
        let _ = writeln!(
            t,
            "  {}: {} of {} gadget addresses kept after a switch to {} ({:.2}%; same type {:.2}%)",
            i.isa.name(),
            i.kept,
            i.counts.all.total,
            i.isa.other().name(),
            100.0 * i.kept_fraction,
            100.0 * i.kept_same_type_fraction
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(depth: u32, types: Types) -> Options {
        Options {
            depth,
            kinds: types.kinds(),
            function: None,
        }
    }

    /// (address, text, type, unique) of every gadget.
    fn list(arch: Arch, data: &[u8], o: &Options) -> Vec<(u64, String, Kind, bool)> {
        gadgets_in(arch, 0x1000, data, o)
            .iter()
            .map(|g| (g.vaddr, g.text(), g.kind, g.unique))
            .collect()
    }

    /// pop rdi; pop rsi; ret; call rel32; mov rdi, rax; jmp rax; syscall
    const X64: &[u8] = &[
        0x5f, 0x5e, 0xc3, 0xe8, 0x10, 0x20, 0x30, 0x40, 0x48, 0x89, 0xc7, 0xff, 0xe0, 0x0f, 0x05,
    ];

    fn at(l: &[(u64, String, Kind, bool)], a: u64) -> Option<(&str, Kind)> {
        l.iter().find(|g| g.0 == a).map(|g| (g.1.as_str(), g.2))
    }

    #[test]
    fn x86_64_gadgets_start_at_every_byte_and_end_at_the_first_terminator() {
        let l = list(Arch::X86_64, X64, &opts(6, Types::All));
        assert_eq!(at(&l, 0x1000), Some(("pop rdi ; pop rsi ; ret", Kind::Rop)));
        assert_eq!(at(&l, 0x1001), Some(("pop rsi ; ret", Kind::Rop)));
        assert_eq!(at(&l, 0x1002), Some(("ret", Kind::Rop)));
        // The direct call rejects its start.
        assert_eq!(at(&l, 0x1003), None);
        assert_eq!(at(&l, 0x1008), Some(("mov rdi, rax ; jmp rax", Kind::Jop)));
        assert_eq!(at(&l, 0x100b), Some(("jmp rax", Kind::Jop)));
        assert_eq!(at(&l, 0x100d), Some(("syscall", Kind::Sys)));
        // Sorted by address; each ends where its last instruction ends.
        assert!(l.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn depth_counts_instructions_with_the_last_one() {
        let l = list(Arch::X86_64, X64, &opts(2, Types::All));
        assert_eq!(at(&l, 0x1000), None);
        assert_eq!(at(&l, 0x1001), Some(("pop rsi ; ret", Kind::Rop)));
        let l = list(Arch::X86_64, X64, &opts(1, Types::All));
        let starts: Vec<u64> = l.iter().map(|g| g.0).collect();
        assert!(starts.contains(&0x1002) && starts.contains(&0x100b) && starts.contains(&0x100d));
        assert!(l.iter().all(|g| !g.1.contains(" ; ")), "{l:?}");
    }

    #[test]
    fn types_select_by_terminator() {
        let all = list(Arch::X86_64, X64, &opts(6, Types::All));
        let mut by_type = 0;
        for t in [Types::Rop, Types::Jop, Types::Sys] {
            let l = list(Arch::X86_64, X64, &opts(6, t));
            assert!(!l.is_empty());
            assert!(l.iter().all(|g| t.kinds() == [g.2]), "{t:?}: {l:?}");
            by_type += l.len();
        }
        assert_eq!(by_type, all.len());
    }

    #[test]
    fn duplicates_fold_on_text_and_cut_instructions_do_not_count() {
        // pop rdi; ret; pop rdi; ret; then half of a mov.
        let l = list(
            Arch::X86_64,
            &[0x5f, 0xc3, 0x5f, 0xc3, 0x48, 0x8b],
            &opts(6, Types::All),
        );
        let want = [
            (0x1000, "pop rdi ; ret", true),
            (0x1001, "ret", true),
            (0x1002, "pop rdi ; ret", false),
            (0x1003, "ret", false),
        ];
        let got: Vec<_> = l.iter().map(|g| (g.0, g.1.as_str(), g.3)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn aarch64_gadgets_start_at_aligned_words() {
        // ldp x29, x30, [sp], #0x10; ret; b .; br x16; mov x0, x1 (no terminator after)
        let words: [u32; 5] = [0xa8c17bfd, 0xd65f03c0, 0x14000000, 0xd61f0200, 0xaa0103e0];
        let data: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let l = list(Arch::Aarch64, &data, &opts(6, Types::All));
        let got: Vec<_> = l.iter().map(|g| (g.0, g.1.as_str(), g.2)).collect();
        assert_eq!(
            got,
            [
                (0x1000, "ldp x29, x30, [sp], #0x10 ; ret", Kind::Rop),
                (0x1004, "ret", Kind::Rop),
                (0x100c, "br x16", Kind::Jop),
            ]
        );
    }

    #[test]
    fn survival_counts_addresses_in_both() {
        let scan = |arch, data: &[u8]| Scan {
            arch,
            path: PathBuf::from(arch.name()),
            gadgets: gadgets_in(arch, 0x1000, data, &opts(6, Types::All)),
        };
        // x86_64: gadgets at 0x1000..=0x1003 (as above); aarch64: at 0x1000 (ret)
        // and 0x1004 (br x16).
        let x = scan(Arch::X86_64, &[0x5f, 0xc3, 0x5f, 0xc3]);
        let a: Vec<u8> = [0xd65f03c0u32, 0xd61f0200]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let a = scan(Arch::Aarch64, &a);
        let s = summarize(&PerArch([x, a]), &opts(6, Types::All));
        assert_eq!((s.in_both, s.in_both_same_type), (1, 1));
        assert_eq!(
            s.isas[0].counts.all,
            Count {
                unique: 2,
                total: 4
            }
        );
        assert_eq!(
            s.isas[1].counts.all,
            Count {
                unique: 2,
                total: 2
            }
        );
        assert_eq!(s.isas[0].kept_fraction, 0.25);
        assert_eq!(s.isas[1].kept_fraction, 0.5);
        assert!(render_summary(&s).contains("x86_64: 1 of 4 gadget addresses kept"));
    }
}
