//! Benchmark of moving-target defense: what bouncing a program between
//! the ISAs costs, as a function of the period.
//!
//! `cargo bench -p migrate-cli --bench mtd [-- --periods 10,30,100,300,1000
//! --sizes 1,10 --moves 20]`
//!
//! Target (issue 14): at most 2% of the wall time spent migrating at a
//! 100 ms period, for programs with up to 10 MiB of state. Reference:
//! DeVuyst et al. (ASPLOS'12) kept 95% of performance with a migration every
//! 100 ms.
//!
//! Builds `benches/programs/churn.c` (N MiB of heap state, a small hot
//! part rewritten, the rest read) with `migrate cc -O2`, and for each state
//! size and period runs `migrate mtd --period P --jitter 0` long enough for
//! about `--moves` migrations; its output must equal a run that never moved
//! (asserted). From mtd's report: migrations, the fraction of wall time
//! migrating, and the medians of each latency part per direction.
//!
//! The aarch64 side runs under qemu-user, so its checkpoint, hand-over and
//! restore are emulation times; they are shown in their own columns and
//! never compared with native ones. "measured" is the fraction with them;
//! "native est." replaces each aarch64-side part by the median of the same
//! part on x86_64 in the same run (what a real aarch64 machine would cost
//! if its checkpoint and restore cost what x86_64's do), and keeps the
//! translation, which always runs natively. Time on each ISA is set by the
//! period, not by emulation speed, so it is not adjusted. "steady" is the
//! native estimate without the first move (and the leg before it): the
//! first checkpoint writes the whole state, the later ones only what the
//! program wrote in its leg.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const MIGRATE: &str = env!("CARGO_BIN_EXE_migrate");
const DEFAULT_PERIODS: &[u64] = &[10, 30, 100, 300, 1000];
const DEFAULT_SIZES: &[u64] = &[1, 10];

fn list(name: &str, default: &[u64]) -> Vec<u64> {
    option(name).map_or(default.to_vec(), |s| {
        s.split(',').map(|n| n.trim().parse().unwrap()).collect()
    })
}

/// The x86_64 executable's stdout and wall seconds for `args`.
fn reference(exe: &Path, args: &[String], cwd: &Path) -> (Vec<u8>, f64) {
    let start = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{} failed", exe.display());
    (out.stdout, start.elapsed().as_secs_f64())
}

/// One row of the table.
struct Row {
    size: u64,
    period: u64,
    migrations: u64,
    wall: f64,
    measured: f64,
    estimate: f64,
    /// The estimate without the first move and leg: the first checkpoint
    /// writes all the state (later ones write what changed).
    steady: f64,
    /// Medians, ms: x86_64 checkpoint, hand-over, start-up, restore; translation
    /// both ways; aarch64 checkpoint, hand-over, start-up, restore (qemu).
    x86: [f64; 4],
    translate: [f64; 2],
    a64: [f64; 4],
    image_mib: f64,
}

const PARTS: [&str; 4] = ["checkpoint_ms", "handover_ms", "startup_ms", "restore_ms"];

fn med(v: Vec<f64>) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        median(v)
    }
}

/// Reads mtd's report into a row.
fn row(size: u64, period: u64, r: &serde_json::Value) -> Row {
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let moves: Vec<&serde_json::Value> = r["moves"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["refused"].is_null())
        .collect();
    // Checkpoint and hand-over happen on the source, start-up and restore on
    // the destination.
    let side = |isa: &str, part: &str| -> f64 {
        let end = if part == "checkpoint_ms" || part == "handover_ms" {
            "from"
        } else {
            "to"
        };
        med(moves
            .iter()
            .filter(|m| m[end] == isa)
            .map(|m| f(&m[part]))
            .collect())
    };
    let x86 = PARTS.map(|p| side("x86_64", p));
    let a64 = PARTS.map(|p| side("aarch64", p));
    let translate = ["x86_64", "aarch64"].map(|isa| {
        med(moves
            .iter()
            .filter(|m| m["from"] == isa)
            .map(|m| f(&m["translate_ms"]))
            .collect())
    });
    // Each move with its aarch64-side parts replaced by x86_64's medians.
    let estimates: Vec<f64> = moves
        .iter()
        .map(|m| {
            let own = |p: &str| f(&m[p]);
            let native = |i: usize| x86[i];
            let translate = own("translate_ms");
            if m["from"] == "x86_64" {
                own("checkpoint_ms") + own("handover_ms") + translate + native(2) + native(3)
            } else {
                native(0) + native(1) + translate + own("startup_ms") + own("restore_ms")
            }
        })
        .collect();
    let estimate_ms: f64 = estimates.iter().sum();
    let legs = f(&r["time_on"]["x86_64"]) + f(&r["time_on"]["aarch64"]);
    let first_leg =
        r["legs"][0]["end_s"].as_f64().unwrap() - r["legs"][0]["start_s"].as_f64().unwrap();
    let steady_ms: f64 = estimates.iter().skip(1).sum();
    let images: Vec<f64> = moves
        .iter()
        .map(|m| f(&m["image_bytes"]) / 1048576.0)
        .collect();
    Row {
        size,
        period,
        migrations: r["migrations"].as_u64().unwrap(),
        wall: f(&r["wall_s"]),
        measured: f(&r["migrating_fraction"]),
        estimate: estimate_ms / 1e3 / (legs + estimate_ms / 1e3),
        steady: steady_ms / 1e3 / (legs - first_leg + steady_ms / 1e3),
        x86,
        translate,
        a64,
        image_mib: med(images),
    }
}

fn main() {
    let bench = Bench::new();
    let periods = list("--periods", DEFAULT_PERIODS);
    let sizes = list("--sizes", DEFAULT_SIZES);
    let moves: u64 = option("--moves").map_or(20, |m| m.parse().unwrap());
    let base = bench.path("churn");
    let program = Program {
        name: "churn".into(),
        sources: vec![repo().join("benches/programs/churn.c")],
        flags: Vec::new(),
        args: Vec::new(),
        stdin: None,
    };
    migrate_cc(&program, &base, &[]);
    let exe = base.with_extension("x86_64");
    // Seconds per round natively, from one run of 2M rounds over 1 MiB.
    let calibrate = ["1".to_string(), "2000000".to_string()];
    let (_, t) = reference(&exe, &calibrate, &bench.cwd);
    let per_round = t / 2e6;
    let mut rows = Vec::new();
    for &size in &sizes {
        for &period in &periods {
            // The x86_64 legs do most of the work (aarch64 runs emulated):
            // about moves/2 of them, each a period long.
            let rounds = ((moves as f64 / 2.0) * (period as f64 / 1e3) / per_round).max(1e5) as u64;
            let args = vec![size.to_string(), rounds.to_string()];
            let (want, _) = reference(&exe, &args, &bench.cwd);
            let report = bench.path("r.json");
            let out = Command::new(MIGRATE)
                .args(["mtd", "--quiet", "--jitter", "0", "--seed", "1", "--period"])
                .arg(format!("{period}ms"))
                .arg("--report")
                .arg(&report)
                .arg(&base)
                .arg("--")
                .args(&args)
                .current_dir(&bench.cwd)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&want),
                "bounced output differs ({size} MiB, {period} ms)"
            );
            let r: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            let row = row(size, period, &r);
            eprintln!(
                "{size} MiB, {period} ms: {} migrations, {:.1}% migrating ({:.1}% native est., \
                 {:.1}% after the first move)",
                row.migrations,
                100.0 * row.measured,
                100.0 * row.estimate,
                100.0 * row.steady
            );
            rows.push(row);
        }
    }
    println!(
        "migrate mtd, churn.c (N MiB of state), --jitter 0; latency medians in ms; [qemu]: \
         emulated, never compared with native"
    );
    println!(
        "{:>6} {:>7} {:>5} {:>7} {:>9} {:>10} {:>7} | {:>6} {:>5} {:>6} {:>6} {:>7} {:>7} {:>6} | {:>7} {:>7} {:>7} {:>7}",
        "state",
        "period",
        "moves",
        "wall s",
        "measured",
        "native est",
        "steady",
        "ckpt",
        "hand",
        "tr x>a",
        "tr a>x",
        "start",
        "restore",
        "image",
        "ckpt",
        "hand",
        "start",
        "restore"
    );
    println!(
        "{:>58} | {:^54} | {:^31}",
        "fraction of wall time migrating", "x86_64 (native); MiB written", "aarch64 [qemu]"
    );
    for r in &rows {
        println!(
            "{:>4}Mi {:>5}ms {:>5} {:>7.2} {:>8.2}% {:>9.2}% {:>6.2}% | {:>6.2} {:>5.2} {:>6.2} {:>6.2} {:>7.2} {:>7.2} {:>6.2} | {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
            r.size,
            r.period,
            r.migrations,
            r.wall,
            100.0 * r.measured,
            100.0 * r.estimate,
            100.0 * r.steady,
            r.x86[0],
            r.x86[1],
            r.translate[0],
            r.translate[1],
            r.x86[2],
            r.x86[3],
            r.image_mib,
            r.a64[0],
            r.a64[1],
            r.a64[2],
            r.a64[3],
        );
    }
}
