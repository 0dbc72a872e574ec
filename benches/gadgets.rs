//! The code-reuse attack surface of every example, Lua and SQLite, and
//! how much of it survives a switch of ISA (`migrate gadgets`).
//!
//! `cargo bench -p migrate-cli --bench gadgets [-- --only NAME --depth N]`
//!
//! Builds each program with `migrate cc -O2` and prints, per ISA, the
//! gadgets of at most N instructions (default 6) ending in a return,
//! indirect jump or call, or system call: total (by address) and unique (by
//! instruction text); then the addresses that start a gadget in both
//! executables and the fraction of each ISA's gadget addresses an attacker
//! keeps after a switch (the layouts are identical, so a chain of
//! addresses built for one ISA still points there). Counts are
//! deterministic: no repetitions.

mod common;

use common::*;
use std::process::Command;

const MIGRATE: &str = env!("CARGO_BIN_EXE_migrate");

fn main() {
    let bench = Bench::new();
    let depth = option("--depth").unwrap_or_else(|| "6".into());
    println!(
        "gadgets of at most {depth} instructions, migrate cc -O2 builds: total (unique by text)"
    );
    println!(
        "{:<12} {:>16} {:>16} {:>9} {:>11} {:>11}",
        "program", "x86_64", "aarch64", "in both", "x86 keeps", "a64 keeps"
    );
    let mut kept = [Vec::new(), Vec::new()];
    for p in selected() {
        let base = bench.path(&p.name);
        migrate_cc(&p, &base, &[]);
        let out = Command::new(MIGRATE)
            .args(["gadgets", "--summary", "--json", "--depth", &depth])
            .arg(&base)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let summary: serde_json::Value =
            serde_json::from_str(text.lines().last().unwrap()).unwrap();
        let s = &summary["summary"];
        let isas = s["isas"].as_array().unwrap();
        let cell = |i: usize| {
            let all = &isas[i]["counts"]["all"];
            format!("{} ({})", all["total"], all["unique"])
        };
        let frac = |i: usize| isas[i]["kept_fraction"].as_f64().unwrap();
        kept[0].push(frac(0));
        kept[1].push(frac(1));
        println!(
            "{:<12} {:>16} {:>16} {:>9} {:>10.2}% {:>10.2}%",
            p.name,
            cell(0),
            cell(1),
            s["in_both"].as_u64().unwrap(),
            100.0 * frac(0),
            100.0 * frac(1)
        );
    }
    println!(
        "{:<12} {:>16} {:>16} {:>9} {:>10.2}% {:>10.2}%",
        "median",
        "",
        "",
        "",
        100.0 * median(kept[0].clone()),
        100.0 * median(kept[1].clone())
    );
}
