//! Benchmark of the foundation: what identical layouts cost.
//!
//! `cargo bench -p migrate-cli --bench foundation [-- --runs N] [-- --only NAME]`
//!
//! For every example, Lua 5.4 (running tests/fixtures/lua/workload.lua) and
//! SQLite (tests/fixtures/sqlite/sqlite_driver.c),
//! builds the migratable pair with `migrate cc -O2 --landmarks=none` (layout
//! alone; `--bench landmarks` measures landmarks) and, in the same run, the
//! baseline: plain `clang-19 -O2` static musl builds per ISA. Prints
//! - code-size ratios (executable sections) and image-size ratios (all
//!   loaded segments) against the baseline, per ISA;
//! - the x86_64 runtime ratio: median of N alternating runs of each build.
//!
//! Never compares qemu times with native ones: only x86_64 runs are timed.

mod common;

use common::*;
use migrate_cli::cc::link::output_path;
use migrate_cli::isa;

fn main() {
    let bench = Bench::new();
    let (runs, cwd) = (bench.runs, &bench.cwd);

    println!(
        "foundation benchmark: aligned (migrate cc -O2 --landmarks=none) vs plain clang-19 -O2 musl static; \
         x86_64 time: median of {runs} alternating runs"
    );
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "program",
        "x86 code",
        "x86 image",
        "a64 code",
        "a64 image",
        "x86 time",
        "plain ms",
        "aligned ms"
    );
    let mut cols: [Vec<f64>; 5] = Default::default();
    for p in selected() {
        let base = bench.path(&p.name);
        migrate_cc(&p, &base, &["--landmarks=none"]);
        let mut ratios = Vec::new();
        for t in isa::all() {
            let plain_exe = bench.path(&format!("{}.plain.{}", p.name, t.name()));
            plain(&p, t, &plain_exe);
            let (pc, pi) = sizes(&plain_exe);
            let (ac, ai) = sizes(&output_path(&base, t.arch()));
            ratios.push(ac as f64 / pc as f64);
            ratios.push(ai as f64 / pi as f64);
        }
        let plain_exe = bench.path(&format!("{}.plain.x86_64", p.name));
        let aligned = output_path(&base, migrate_format::Arch::X86_64);
        assert_eq!(
            output_of(&plain_exe, &p, cwd),
            output_of(&aligned, &p, cwd),
            "{}: outputs differ",
            p.name
        );
        let m = alternating_medians(&[&plain_exe, &aligned], &p, cwd, runs);
        ratios.push(m[1] / m[0]);
        println!(
            "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.1} {:>10.1}",
            p.name,
            ratios[0],
            ratios[1],
            ratios[2],
            ratios[3],
            ratios[4],
            m[0] * 1e3,
            m[1] * 1e3
        );
        for (c, r) in cols.iter_mut().zip(&ratios) {
            c.push(*r);
        }
    }
    println!(
        "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        "geomean",
        geomean(&cols[0]),
        geomean(&cols[1]),
        geomean(&cols[2]),
        geomean(&cols[3]),
        geomean(&cols[4])
    );
}
