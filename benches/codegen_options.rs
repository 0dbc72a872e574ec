//! What the backend options that shrink machine-level hidden state cost
//! (../shared/research/call-site-hidden-state.md lists them): each option is
//! passed with `migrate cc -O2 -mllvm OPT` and the x86_64 build is timed
//! against the default landmark build, median of N alternating runs.
//!
//! `cargo bench -p migrate-cli --bench codegen_options [-- --runs N] [-- --only NAME]`

mod common;

use common::*;
use migrate_cli::cc::link::output_path;

const OPTIONS: &[&[&str]] = &[
    &["-disable-lsr"],
    &["-disable-machine-licm"],
    &["-disable-constant-hoisting"],
    &["-disable-cgp"],
    &[
        "-disable-lsr",
        "-disable-machine-licm",
        "-disable-constant-hoisting",
        "-disable-cgp",
    ],
];

fn main() {
    let bench = Bench::new();
    let (runs, cwd) = (bench.runs, &bench.cwd);
    println!("codegen options: x86_64 time with the option / default build, median of {runs} alternating runs");
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "program", "lsr", "mlicm", "consthoi", "cgp", "all four"
    );
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); OPTIONS.len()];
    for p in selected() {
        let default = bench.path(&p.name);
        migrate_cc(&p, &default, &[]);
        let default_exe = output_path(&default, migrate_format::Arch::X86_64);
        let expected = output_of(&default_exe, &p, cwd);
        let mut row = Vec::new();
        for (i, opts) in OPTIONS.iter().enumerate() {
            let base = bench.path(&format!("{}.opt{i}", p.name));
            let extra: Vec<&str> = opts.iter().flat_map(|o| ["-mllvm", o]).collect();
            migrate_cc(&p, &base, &extra);
            let exe = output_path(&base, migrate_format::Arch::X86_64);
            assert_eq!(
                output_of(&exe, &p, cwd),
                expected,
                "{} with {opts:?}: output differs",
                p.name
            );
            let m = alternating_medians(&[&default_exe, &exe], &p, cwd, runs);
            row.push(m[1] / m[0]);
        }
        println!(
            "{:<12} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            p.name, row[0], row[1], row[2], row[3], row[4]
        );
        for (c, r) in cols.iter_mut().zip(row) {
            c.push(r);
        }
    }
    let g: Vec<f64> = cols.iter().map(|c| geomean(c)).collect();
    println!(
        "{:<12} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
        "geomean", g[0], g[1], g[2], g[3], g[4]
    );
}
