//! What the unsafe stack costs (issue 13: every stack object at the same
//! address on both ISAs; target at most 1% geomean instructions).
//!
//! `cargo bench -p migrate-cli --bench unsafe_stack [-- --runs N] [-- --only NAME]`
//!
//! For every example, Lua and SQLite, builds in the same run `migrate cc
//! -O2` (stack objects on the unsafe stack, the default) and `migrate cc -O2
//! --no-unsafe-stack` (on the machine stack), and prints for x86_64 the
//! ratio default / without of instructions executed (callgrind, on copies
//! stripped of debug information; deterministic) and of wall time (median
//! of N alternating runs), with their geomeans.

mod common;

use common::*;
use migrate_cli::cc::link::output_path;
use migrate_format::Arch;

fn main() {
    let bench = Bench::new();
    let (runs, cwd) = (bench.runs, &bench.cwd);
    println!(
        "unsafe stack: x86_64 default build / --no-unsafe-stack build; instructions (callgrind) \
         and wall time (median of {runs} alternating runs)"
    );
    println!(
        "{:<12} {:>14} {:>14} {:>10} {:>10}",
        "program", "instr default", "instr without", "instr", "time"
    );
    let (mut instr, mut time) = (Vec::new(), Vec::new());
    for p in selected() {
        let with = bench.path(&format!("{}-with", p.name));
        let without = bench.path(&format!("{}-without", p.name));
        migrate_cc(&p, &with, &[]);
        migrate_cc(&p, &without, &["--no-unsafe-stack"]);
        let exes = [
            output_path(&with, Arch::X86_64),
            output_path(&without, Arch::X86_64),
        ];
        assert_eq!(
            output_of(&exes[0], &p, cwd),
            output_of(&exes[1], &p, cwd),
            "{}: the builds print different output",
            p.name
        );
        let counts: Vec<u64> = exes.iter().map(|e| instructions(&bench, e, &p)).collect();
        let t = alternating_medians(&[&exes[0], &exes[1]], &p, cwd, runs);
        let (ri, rt) = (counts[0] as f64 / counts[1] as f64, t[0] / t[1]);
        instr.push(ri);
        time.push(rt);
        println!(
            "{:<12} {:>14} {:>14} {:>10.4} {:>10.3}",
            p.name, counts[0], counts[1], ri, rt
        );
    }
    println!(
        "{:<12} {:>14} {:>14} {:>10.4} {:>10.3}",
        "geomean",
        "",
        "",
        geomean(&instr),
        geomean(&time)
    );
}
