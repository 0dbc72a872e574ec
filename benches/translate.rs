//! Benchmark of the stack translator: time to translate an image, per
//! migration and per frame, for stacks of 2, 32 and 1,000 frames, in both
//! directions (the translator runs natively either way).
//!
//! `cargo bench -p migrate-cli --bench translate [-- --runs N]`
//!
//! Builds `benches/programs/deep.c` (recursion to the depth given, then a
//! loop with landmarks), checkpoints it at the bottom on each ISA, and
//! times `stack_translator::translate::image::translate` in process (both
//! executables and the image read once, as `migrate translate` reads them):
//! median and p99 of N runs (default 51), and the median per frame. Target
//! (issue 13): at most 100 µs for 32 frames, linear in frames. The table
//! also gives the whole `migrate translate` command's median wall time
//! (process start, reading, translating, writing and checking the image).

mod common;

use common::*;
use migrate_format::image::Image;
use migrate_format::Arch;
use stack_translator::records::Executable;
use stack_translator::translate::image::{translate, Side};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let bench = Bench::new();
    let runs = option("--runs").map_or(51, |r| r.parse().unwrap());
    let base = bench.path("deep");
    let program = Program {
        name: "deep".into(),
        sources: vec![repo().join("benches/programs/deep.c")],
        flags: Vec::new(),
        args: Vec::new(),
        stdin: None,
    };
    migrate_cc(&program, &base, &[]);
    println!("translation benchmark: medians of {runs} runs");
    println!(
        "{:>18} {:>7} {:>12} {:>12} {:>14} {:>16}",
        "direction", "frames", "median µs", "p99 µs", "µs per frame", "command wall ms"
    );
    for depth in [2usize, 32, 1000] {
        for from in Arch::ALL {
            let to = from.other();
            let image = checkpoint(&bench, &base, from, depth);
            let (median_us, p99_us, frames) = in_process(&base, &image, from, to, runs);
            let wall = command_wall(&bench, &image, to, 11);
            println!(
                "{:>18} {:>7} {:>12.1} {:>12.1} {:>14.3} {:>16.1}",
                format!("{from} -> {to}"),
                frames,
                median_us,
                p99_us,
                median_us / frames as f64,
                wall * 1e3
            );
        }
    }
}

/// An image of `deep DEPTH` on `arch`, taken in the loop at the bottom.
fn checkpoint(bench: &Bench, base: &Path, arch: Arch, depth: usize) -> PathBuf {
    let image = bench.path(&format!("deep-{depth}.{}.core", arch.name()));
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args([
            "run",
            "--arch",
            arch.name(),
            "--checkpoint-at",
            "200000",
            "--image",
        ])
        .arg(&image)
        .arg(base)
        .args(["--", &depth.to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image
}

fn in_process(base: &Path, image: &Path, from: Arch, to: Arch, runs: usize) -> (f64, f64, usize) {
    let exe = |a: Arch| PathBuf::from(format!("{}.{}", base.display(), a.name()));
    let (from_path, to_path) = (exe(from), exe(to));
    let (from_bytes, to_bytes) = (
        std::fs::read(&from_path).unwrap(),
        std::fs::read(&to_path).unwrap(),
    );
    let from_exe = Executable::parse(&from_path, &from_bytes, from).unwrap();
    let to_exe = Executable::parse(&to_path, &to_bytes, to).unwrap();
    let image = Image::read(image).unwrap();
    // Read once, as `migrate translate` and `migrate mtd` read them.
    let from_side = Side::new(&from_exe, &from_bytes, &from_path).unwrap();
    let to_side = Side::new(&to_exe, &to_bytes, &to_path).unwrap();
    let mut times = Vec::with_capacity(runs);
    let mut frames = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let t = translate(&image, &from_side, &to_side).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e6);
        frames = t.frames.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    (median(times), p99, frames)
}

/// Median wall time of the whole `migrate translate` command.
fn command_wall(bench: &Bench, image: &Path, to: Arch, runs: usize) -> f64 {
    let out = bench.path("out.core");
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let st = Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(["translate", "--to", to.name(), "-o"])
            .arg(&out)
            .arg(image)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        times.push(start.elapsed().as_secs_f64());
    }
    median(times)
}
