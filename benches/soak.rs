//! The long correctness run of the translator, started by hand: `migrate
//! verify` over every example, Lua and SQLite, with many more points than
//! the test suite, and one table of what happened to every move.
//!
//! `cargo bench -p migrate-cli --bench soak [-- --points N --ping-pong K --seed S --only NAME]`
//!
//! Each program is built with `migrate cc -O2` and verified with `--points
//! N` (default 80: N random landmark hits, each moved in both directions)
//! and `--ping-pong K` (default 6: a K-move run from each ISA), so one
//! program makes 2N + 2K moves; the whole run (default) about 2,000. The
//! table gives per program the runs, the moves asked for, the runs
//! identical, refused (the program went on where it was, output still
//! identical) and differing, and the moves refused; then every refusal
//! reason with its count, and the share of moves made. Differing runs are a
//! bug: their `migrate run` command line is printed to repeat them, and the
//! benchmark exits 1. Issue 13's target: at least 99% of moves made.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

fn main() {
    let bench = Bench::new();
    let points: u32 = option("--points").map_or(80, |v| v.parse().unwrap());
    let ping_pong: u32 = option("--ping-pong").map_or(6, |v| v.parse().unwrap());
    let seed: u64 = option("--seed").map_or(1, |v| v.parse().unwrap());
    println!("soak: migrate verify --points {points} --ping-pong {ping_pong} --seed {seed}");
    println!(
        "{:<14} {:>6} {:>6} {:>10} {:>8} {:>10} {:>14}",
        "program", "runs", "moves", "identical", "refused", "differing", "moves refused"
    );
    let (mut runs, mut moves, mut identical, mut refused, mut differing, mut moves_refused) =
        (0, 0, 0, 0, 0, 0);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut repeat: Vec<String> = Vec::new();
    for p in selected() {
        let base = bench.path(&p.name);
        migrate_cc(&p, &base, &[]);
        let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(["verify", "--json", "--points"])
            .arg(points.to_string())
            .arg("--ping-pong")
            .arg(ping_pong.to_string())
            .arg("--seed")
            .arg(seed.to_string())
            .arg(&base)
            .arg("--")
            .args(&p.args)
            .current_dir(&bench.cwd)
            .stdin(stdin_for(&p))
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: verify printed no report ({e})", p.name));
        let trials = report["trials"].as_array().expect("trials");
        let count = |verdict: &str| trials.iter().filter(|t| t["verdict"] == verdict).count();
        let asked: u64 = trials.iter().map(|t| t["moves"].as_u64().unwrap()).sum();
        let mut not_made = 0;
        for t in trials {
            for r in t["refused"].as_array().unwrap() {
                *reasons.entry(r.as_str().unwrap().to_string()).or_default() += 1;
                not_made += 1;
            }
            if t["verdict"] == "differing" {
                repeat.push(format!(
                    "{}: {} ({})",
                    p.name,
                    t["command"].as_str().unwrap(),
                    t["difference"].as_str().unwrap_or("")
                ));
            }
        }
        let row = (trials.len(), asked, count("identical"), count("refused"));
        let d = count("differing");
        println!(
            "{:<14} {:>6} {:>6} {:>10} {:>8} {:>10} {:>14}",
            p.name, row.0, row.1, row.2, row.3, d, not_made
        );
        runs += row.0;
        moves += row.1;
        identical += row.2;
        refused += row.3;
        differing += d;
        moves_refused += not_made;
    }
    println!(
        "{:<14} {:>6} {:>6} {:>10} {:>8} {:>10} {:>14}",
        "total", runs, moves, identical, refused, differing, moves_refused
    );
    println!(
        "moves made: {:.2}% ({} of {moves})",
        100.0 * (moves - moves_refused) as f64 / moves.max(1) as f64,
        moves - moves_refused
    );
    for (why, n) in &reasons {
        println!("  refused {n}x: {why}");
    }
    for r in &repeat {
        println!("differing: {r}");
    }
    if differing > 0 {
        std::process::exit(1);
    }
}
