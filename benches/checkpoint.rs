//! Benchmark of checkpoint and restore as the heap grows.
//!
//! `cargo bench -p migrate-cli --bench checkpoint [-- --runs N] [-- --sizes 1,16,256]`
//!
//! Builds `benches/programs/heapfill.c` with `migrate cc -O2`. For each heap
//! size (default 1, 4, 16, 64, 256 and 1024 MiB) the program fills its heap
//! and asks for a checkpoint (`landmark_request_checkpoint`), which
//! landmark-rt writes at the next landmark. Per size, medians of N runs
//! (default 5):
//! - image size, and the time landmark-rt took to write it (its own
//!   measurement, `LANDMARK_TIMING`), against `cp` of the image on the same
//!   file system right after: throughput ratio = cp time / checkpoint time
//!   (target: at least 0.5). x86_64 only: the aarch64 checkpoint runs under
//!   qemu and is not compared with a native cp;
//! - default restore: from the runtime's first restore instruction to the
//!   jump into the program (`LANDMARK_TIMING` again), and the wall time of
//!   the whole `migrate restore IMAGE` (start-up, the header, note and
//!   register checksum, restore, the program's last few instructions, exit)
//!   as a ratio to the smallest heap's, for both ISAs (qemu against qemu).
//!   The image is mapped, not read, so this should stay near 1 whatever the
//!   heap;
//! - `--verify` restore: the wall time of the whole `migrate restore --verify
//!   IMAGE`, which before restoring reads every saved memory byte and checks
//!   it against the segment's XXH64, as a ratio to the smallest heap's too.
//!   This should grow with the heap, roughly at read + hash bandwidth (the
//!   image was just written, so normally read from the page cache). The
//!   check runs natively in `migrate` on both ISAs; only what follows it
//!   runs under qemu for aarch64. The two restores of each run use the same
//!   image, in alternating order from run to run.

mod common;

use common::*;
use migrate_format::reports::TimingEvent;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const DEFAULT_SIZES: &[u64] = &[1, 4, 16, 64, 256, 1024];

struct Row {
    mib: u64,
    image_bytes: u64,
    checkpoint_s: f64,
    cp_s: f64,
    restore_s: f64,
    restore_wall_s: f64,
    verify_wall_s: f64,
}

fn main() {
    let bench = Bench::new();
    let runs = option("--runs").map_or(5, |r| r.parse().unwrap());
    let sizes: Vec<u64> = option("--sizes").map_or(DEFAULT_SIZES.to_vec(), |s| {
        s.split(',').map(|n| n.trim().parse().unwrap()).collect()
    });
    let base = bench.path("heapfill");
    let program = Program {
        name: "heapfill".into(),
        sources: vec![repo().join("benches/programs/heapfill.c")],
        flags: Vec::new(),
        args: Vec::new(),
        stdin: None,
    };
    migrate_cc(&program, &base, &[]);
    println!("checkpoint benchmark: medians of {runs} runs per heap size");
    for isa in ["x86_64", "aarch64"] {
        let rows: Vec<Row> = sizes
            .iter()
            .map(|&mib| measure(&bench, &base, isa, mib, runs))
            .collect();
        print_table(isa, &rows);
    }
}

fn measure(bench: &Bench, base: &Path, isa: &str, mib: u64, runs: usize) -> Row {
    let exe = std::path::absolute(format!("{}.{isa}", base.display())).unwrap();
    let image = bench.path(&format!("heap-{mib}.core"));
    let copy = bench.path("copy.core");
    let (mut ckpt, mut cp, mut rest, mut wall) = (vec![], vec![], vec![], vec![]);
    let mut verify_wall = vec![];
    let mut image_bytes = 0;
    for run in 0..runs {
        let timing = bench.path("timing.json");
        let _ = std::fs::remove_file(&timing);
        let mut cmd = runner(isa, &exe);
        cmd.args([mib.to_string(), "checkpoint".into()])
            .env(migrate_format::env::IMAGE, &image)
            .env(migrate_format::env::TIMING, &timing)
            .current_dir(&bench.cwd)
            .stdout(Stdio::null());
        migrate_cli::process::migratable(&mut cmd);
        assert!(
            cmd.status().unwrap().success(),
            "{isa} {mib} MiB checkpoint"
        );
        let (bytes, ns) = event(&timing, "checkpoint");
        image_bytes = bytes;
        ckpt.push(ns as f64 / 1e9);

        let t = Instant::now();
        let st = Command::new("cp").arg(&image).arg(&copy).status().unwrap();
        cp.push(t.elapsed().as_secs_f64());
        assert!(st.success());
        std::fs::remove_file(&copy).unwrap();

        // Both restores of the same image, alternating which goes first.
        for verify in [run % 2 == 1, run % 2 == 0] {
            let label = if verify {
                "restore --verify"
            } else {
                "restore"
            };
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_migrate"));
            cmd.arg("restore");
            if verify {
                cmd.arg("--verify");
            } else {
                let _ = std::fs::remove_file(&timing);
                cmd.env(migrate_format::env::TIMING, &timing);
            }
            cmd.arg(&image);
            let t = Instant::now();
            let out = cmd.output().unwrap();
            let elapsed = t.elapsed().as_secs_f64();
            assert!(
                out.status.success(),
                "{isa} {mib} MiB {label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let printed = String::from_utf8_lossy(&out.stdout);
            assert!(printed.starts_with(&format!("{mib} MiB")), "{printed}");
            if verify {
                verify_wall.push(elapsed);
            } else {
                wall.push(elapsed);
                rest.push(event(&timing, "restore").1 as f64 / 1e9);
            }
        }
        std::fs::remove_file(&image).unwrap();
    }
    Row {
        mib,
        image_bytes,
        checkpoint_s: median(ckpt),
        cp_s: median(cp),
        restore_s: median(rest),
        restore_wall_s: median(wall),
        verify_wall_s: median(verify_wall),
    }
}

fn runner(isa: &str, exe: &Path) -> Command {
    if isa == "aarch64" {
        let mut c = Command::new("qemu-aarch64");
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// The last `event` line of a LANDMARK_TIMING file: (bytes, ns).
fn event(path: &Path, event: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let e = text
        .lines()
        .rev()
        .map(|l| serde_json::from_str::<TimingEvent>(l).unwrap())
        .find(|e| e.event == event)
        .unwrap_or_else(|| panic!("no {event} timing in {text:?}"));
    (e.bytes.unwrap_or(0), e.ns)
}

fn print_table(isa: &str, rows: &[Row]) {
    println!("\n{isa}:");
    println!(
        "{:>9} {:>11} {:>10} {:>9} {:>9} {:>8} {:>10} {:>10} {:>8} {:>10} {:>8}",
        "heap",
        "image",
        "ckpt ms",
        "MB/s",
        "cp ms",
        "vs cp",
        "restore µs",
        "wall ms",
        "wall/1st",
        "verify ms",
        "vfy/1st"
    );
    let first_wall = rows.first().map_or(1.0, |r| r.restore_wall_s);
    let first_verify = rows.first().map_or(1.0, |r| r.verify_wall_s);
    for r in rows {
        let ratio = if isa == "x86_64" {
            format!("{:.2}", r.cp_s / r.checkpoint_s)
        } else {
            "-".to_string()
        };
        println!(
            "{:>6} MiB {:>11} {:>10.1} {:>9.0} {:>9.1} {:>8} {:>10.0} {:>10.1} {:>8.2} {:>10.1} {:>8.2}",
            r.mib,
            r.image_bytes,
            r.checkpoint_s * 1e3,
            r.image_bytes as f64 / r.checkpoint_s / 1e6,
            r.cp_s * 1e3,
            ratio,
            r.restore_s * 1e6,
            r.restore_wall_s * 1e3,
            r.restore_wall_s / first_wall,
            r.verify_wall_s * 1e3,
            r.verify_wall_s / first_verify
        );
    }
}
