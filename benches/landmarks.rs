//! Benchmark of landmarks: what the migration points cost and how often they
//! come.
//!
//! `cargo bench -p migrate-cli --bench landmarks [-- --runs N] [-- --only NAME]`
//!
//! For every example, Lua and SQLite, builds in the same run: plain
//! `clang-19 -O2` (baseline), `migrate cc -O2 --landmarks=none` (layout only)
//! and `migrate cc -O2` (default landmarks). Prints, for x86_64:
//! - runtime ratios against the baseline (median of N alternating runs) for
//!   the layout-only and the landmark build, and landmarks alone
//!   (landmark build / layout-only build);
//! - code-size ratio of the landmark build against the baseline (both ISAs);
//! - the live-value records: recorded call sites, and the size of x86_64's
//!   `.llvm_stackmaps` (loaded with the program) relative to its code;
//! - the response bound: landmark hits and the p50, p99 and maximum time
//!   between two hits, medians of 3 `migrate run --stats` runs (every
//!   landmark then calls into the runtime, so these are upper bounds; one
//!   run's maximum is often a preemption on a busy machine). The times
//!   before the first hit and after the last are not intervals between
//!   hits and are left out (landmark-rt reports them apart); and the
//!   machine's floor for that maximum: the longest gap between two clock
//!   reads in a loop that does nothing else, before and after;
//! - certification: the fraction of call sites certified migratable on
//!   both ISAs (`migr`), and of landmark hits at such call sites
//!   (`m.hits`, from the same run).

mod common;

use common::*;
use migrate_cli::cc::link::output_path;
use migrate_cli::isa;
use migrate_format::Arch;

fn main() {
    let bench = Bench::new();
    let (runs, cwd) = (bench.runs, &bench.cwd);
    let floor_before = machine_floor();
    let floor_after = machine_floor;
    println!(
        "landmarks benchmark: x86_64 medians of {runs} alternating runs; intervals between hits \
         from --stats (µs, medians of {STATS_RUNS} runs)"
    );
    println!(
        "{:<12} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6} {:>6} {:>11} {:>7} {:>7} {:>8} {:>6} {:>6}",
        "program",
        "layout",
        "lm",
        "lm alone",
        "x86 code",
        "a64 code",
        "sites",
        "maps",
        "hits",
        "p50",
        "p99",
        "max",
        "migr",
        "m.hits"
    );
    let mut cols: [Vec<f64>; 5] = Default::default();
    for p in selected() {
        let none = bench.path(&format!("{}.none", p.name));
        let all = bench.path(&p.name);
        migrate_cc(&p, &none, &["--landmarks=none"]);
        migrate_cc(&p, &all, &[]);
        let mut code = Vec::new();
        for t in isa::all() {
            let plain_exe = bench.path(&format!("{}.plain.{}", p.name, t.name()));
            plain(&p, t, &plain_exe);
            code.push(sizes(&output_path(&all, t.arch())).0 as f64 / sizes(&plain_exe).0 as f64);
        }
        let plain_exe = bench.path(&format!("{}.plain.x86_64", p.name));
        let (none_exe, all_exe) = (
            output_path(&none, Arch::X86_64),
            output_path(&all, Arch::X86_64),
        );
        assert_eq!(
            output_of(&plain_exe, &p, cwd),
            output_of(&all_exe, &p, cwd),
            "{}: outputs differ",
            p.name
        );
        let m = alternating_medians(&[&plain_exe, &none_exe, &all_exe], &p, cwd, runs);
        let stats = response(&p, &all, cwd);
        let (sites, migratable) = migratable_sites(&all);
        let maps = section(&all_exe, ".llvm_stackmaps").len() as f64 / sizes(&all_exe).0 as f64;
        let row = [m[1] / m[0], m[2] / m[0], m[2] / m[1], code[0], code[1]];
        println!(
            "{:<12} {:>8.3} {:>8.3} {:>9.3} {:>8.3} {:>8.3} {:>6} {:>6.2} {:>11} {:>7.2} {:>7.2} {:>8.1} {:>5.1}% {:>5.1}%",
            p.name,
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            sites,
            maps,
            stats.hits,
            stats.p50_us,
            stats.p99_us,
            stats.max_us,
            100.0 * migratable as f64 / sites.max(1) as f64,
            100.0 * stats.migratable_hits as f64 / stats.hits.max(1) as f64
        );
        for (c, r) in cols.iter_mut().zip(row) {
            c.push(r);
        }
    }
    println!(
        "{:<12} {:>8.3} {:>8.3} {:>9.3} {:>8.3} {:>8.3}",
        "geomean",
        geomean(&cols[0]),
        geomean(&cols[1]),
        geomean(&cols[2]),
        geomean(&cols[3]),
        geomean(&cols[4])
    );
    println!(
        "machine floor: longest gap between two clock reads in a {} s loop doing nothing else, \
         before and after the programs: {:.1} µs, {:.1} µs (medians of {STATS_RUNS})",
        FLOOR_SECONDS,
        floor_before,
        floor_after()
    );
}

/// The bytes of section `name` of the executable at `path`.
fn section(path: &std::path::Path, name: &str) -> Vec<u8> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let s = file.section_by_name(name).unwrap();
    s.data().unwrap().to_vec()
}
