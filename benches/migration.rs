//! Benchmark of one migration's end-to-end latency, part by part, as the
//! program's state grows.
//!
//! `cargo bench -p migrate-cli --bench migration [-- --runs N --sizes 1,10,100]`
//!
//! Target (from the issue): the native parts of a migration, the x86_64
//! checkpoint, the translation and the x86_64 restore, each measured where
//! it runs natively, take at most 10 ms together for a program with 10 MiB
//! of state. For scale, H-Container reports 10-100 ms per migration.
//!
//! Builds `benches/programs/heapsum.c` with `migrate cc -O2`. For each heap
//! size (default 1, 10 and 100 MiB) the program fills its heap and asks for
//! a checkpoint, on each ISA; each image is translated to the other ISA and
//! restored there. Medians of N runs (default 11), in milliseconds:
//! - checkpoint: landmark-rt's own time to write the image (`LANDMARK_TIMING`,
//!   `checkpoint` event);
//! - translation, both directions: in process, `Image::read` of the image
//!   plus `translate` (the two executables parsed and their `Side`s built
//!   once, as a long-running translator would), and the wall time of the
//!   whole `migrate translate` command (process start-up, reading, translating,
//!   writing the image, reading it back and checking it);
//! - restore: landmark-rt's own time from its first restore instruction to
//!   the jump into the program (`LANDMARK_TIMING`, `restore` event), and the
//!   wall time of `migrate restore IMAGE` until the program prints the line
//!   it prints right after resuming. The brk heap is mapped from the image,
//!   not read: its page faults come later, in the program, and are not
//!   counted (the mmap arena is read in: restore.c `read_in`).
//!
//! The native sum is the x86_64 checkpoint + the slower direction's
//! `migrate translate` command + the x86_64 `migrate restore` wall time, all
//! as a user would see them; "floor" is the same with the in-process
//! translation and the runtime's restore time (what is left without process
//! start-ups). Under the table: the wall time of `migrate --version`, the
//! start-up every `migrate` command pays. Anything that runs under qemu
//! (the aarch64 checkpoint and restore, and qemu's own start-up, timed on a
//! trivial static aarch64 program) is in a second table and never added to
//! native figures.
//!
//! Every restore's output (a checksum of the whole heap) must equal an
//! unmigrated x86_64 run's: the benchmark asserts it.

mod common;

use common::*;
use migrate_format::image::Image;
use migrate_format::reports::TimingEvent;
use migrate_format::{Arch, PerArch};
use stack_translator::records::Executable;
use stack_translator::translate::image::{translate, Side};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const DEFAULT_SIZES: &[u64] = &[1, 10, 100];
const MIGRATE: &str = env!("CARGO_BIN_EXE_migrate");

/// One heap size's samples, in seconds, per ISA: the one the image was
/// taken on (checkpoint, translation) or the one it runs on (restore).
#[derive(Default)]
struct Samples {
    image_bytes: PerArch<u64>,
    checkpoint: PerArch<Vec<f64>>,
    in_process: PerArch<Vec<f64>>,
    command: PerArch<Vec<f64>>,
    restore: PerArch<Vec<f64>>,
    restore_wall: PerArch<Vec<f64>>,
}

fn main() {
    let bench = Bench::new();
    let runs = bench.runs;
    let sizes: Vec<u64> = option("--sizes").map_or(DEFAULT_SIZES.to_vec(), |s| {
        s.split(',').map(|n| n.trim().parse().unwrap()).collect()
    });
    let base = bench.path("heapsum");
    let program = Program {
        name: "heapsum".into(),
        sources: vec![repo().join("benches/programs/heapsum.c")],
        flags: Vec::new(),
        args: Vec::new(),
        stdin: None,
    };
    migrate_cc(&program, &base, &[]);
    let paths = PerArch::new(|a| std::path::absolute(exe(&base, a)).unwrap());
    let bytes = PerArch::new(|a| std::fs::read(&paths[a]).unwrap());
    let exes = PerArch::new(|a| Executable::parse(&paths[a], &bytes[a], a).unwrap());
    let sides = PerArch::new(|a| Side::new(&exes[a], &bytes[a], &paths[a]).unwrap());
    let qemu_ms = qemu_startup(&bench, runs) * 1e3;
    let migrate_ms = wall(runs, || {
        Command::new(MIGRATE)
            .arg("--version")
            .output()
            .unwrap()
            .status
    }) * 1e3;

    println!("migration benchmark: medians of {runs} runs per heap size, ms");
    let rows: Vec<(u64, Samples)> = sizes
        .iter()
        .map(|&mib| (mib, measure(&bench, &paths, &sides, mib, runs)))
        .collect();
    print_native(&rows, migrate_ms);
    print_qemu(&rows, qemu_ms);
}

fn exe(base: &Path, arch: Arch) -> PathBuf {
    PathBuf::from(format!("{}.{}", base.display(), arch.name()))
}

fn measure(
    bench: &Bench,
    paths: &PerArch<PathBuf>,
    sides: &PerArch<Side>,
    mib: u64,
    runs: usize,
) -> Samples {
    let expected = unmigrated(bench, &paths[Arch::X86_64], mib);
    let mut s = Samples::default();
    for _ in 0..runs {
        for from in Arch::ALL {
            let to = from.other();
            let image = bench.path(&format!("{mib}.{}.core", from.name()));
            let moved = bench.path(&format!("{mib}.to-{}.core", to.name()));
            let (bytes, ns) = checkpoint(bench, &paths[from], from, mib, &image);
            s.image_bytes[from] = bytes;
            s.checkpoint[from].push(ns);
            s.in_process[from].push(in_process(&image, &sides[from], &sides[to]));
            s.command[from].push(command(&image, to, &moved));
            let (rt, wall) = restore(bench, &moved, &expected);
            s.restore[to].push(rt);
            s.restore_wall[to].push(wall);
            std::fs::remove_file(&image).unwrap();
            std::fs::remove_file(&moved).unwrap();
        }
    }
    s
}

/// The output of an uninterrupted native run: what every restore must print.
fn unmigrated(bench: &Bench, exe: &Path, mib: u64) -> String {
    let mut cmd = Command::new(exe);
    cmd.arg(mib.to_string()).current_dir(&bench.cwd);
    migrate_cli::process::migratable(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "unmigrated {mib} MiB run");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("resumed\n"), "{text}");
    text
}

/// `heapsum MIB checkpoint` on `arch` (aarch64 under qemu), image at
/// `image`: (image bytes, seconds landmark-rt took to write it).
fn checkpoint(bench: &Bench, exe: &Path, arch: Arch, mib: u64, image: &Path) -> (u64, f64) {
    let timing = bench.path("timing.json");
    let _ = std::fs::remove_file(&timing);
    let mut cmd = if arch == Arch::Aarch64 {
        let mut c = Command::new("qemu-aarch64");
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args([mib.to_string(), "checkpoint".into()])
        .env(migrate_format::env::IMAGE, image)
        .env(migrate_format::env::TIMING, &timing)
        .current_dir(&bench.cwd)
        .stdin(Stdio::null());
    migrate_cli::process::migratable(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{arch} {mib} MiB checkpoint");
    // It stops at the checkpoint: nothing printed yet.
    assert!(
        out.stdout.is_empty(),
        "{arch} {mib} MiB: ran past the checkpoint"
    );
    let e = event(&timing, "checkpoint");
    (e.bytes.unwrap_or(0), e.ns as f64 / 1e9)
}

/// Seconds to read `image` and translate it in this process.
fn in_process(image: &Path, from: &Side, to: &Side) -> f64 {
    let start = Instant::now();
    let image = Image::read(image).unwrap();
    let translated = translate(&image, from, to).unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    drop(translated);
    elapsed
}

/// Wall seconds of `migrate translate --to TO -o OUT IMAGE`.
fn command(image: &Path, to: Arch, out: &Path) -> f64 {
    let start = Instant::now();
    let st = Command::new(MIGRATE)
        .args(["translate", "--to", to.name(), "-o"])
        .arg(out)
        .arg(image)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    assert!(st.success(), "migrate translate {}", image.display());
    elapsed
}

/// `migrate restore IMAGE`: (seconds of landmark-rt's restore, wall seconds
/// until the program's first line after resuming). Asserts that its whole
/// output is `expected`.
fn restore(bench: &Bench, image: &Path, expected: &str) -> (f64, f64) {
    let timing = bench.path("timing.json");
    let _ = std::fs::remove_file(&timing);
    let start = Instant::now();
    let mut child = Command::new(MIGRATE)
        .arg("restore")
        .arg(image)
        .env(migrate_format::env::TIMING, &timing)
        .current_dir(&bench.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    out.read_line(&mut text).unwrap();
    let wall = start.elapsed().as_secs_f64();
    out.read_to_string(&mut text).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "restore {}",
        image.display()
    );
    assert_eq!(text, expected, "restored {} differs", image.display());
    (event(&timing, "restore").ns as f64 / 1e9, wall)
}

/// The last `event` line of a `LANDMARK_TIMING` file.
fn event(path: &Path, event: &str) -> TimingEvent {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .rev()
        .map(|l| serde_json::from_str::<TimingEvent>(l).unwrap())
        .find(|e| e.event == event)
        .unwrap_or_else(|| panic!("no {event} timing in {text:?}"))
}

/// Median wall seconds of `qemu-aarch64` running a static aarch64
/// `int main(void) { return 0; }` built the plain way: qemu's own start-up.
fn qemu_startup(bench: &Bench, runs: usize) -> f64 {
    let src = bench.path("empty.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let exe = bench.path("empty.aarch64");
    let isa = migrate_cli::isa::of(Arch::Aarch64);
    migrate_cli::baseline::build(isa, &[src], &["-O2"], &exe).unwrap();
    wall(runs, || {
        Command::new("qemu-aarch64").arg(&exe).status().unwrap()
    })
}

/// Median wall seconds of `runs` runs of a command that must succeed.
fn wall(runs: usize, mut run: impl FnMut() -> std::process::ExitStatus) -> f64 {
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            assert!(run().success());
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(times)
}

fn ms(v: &[f64]) -> f64 {
    median(v.to_vec()) * 1e3
}

fn print_native(rows: &[(u64, Samples)], migrate_ms: f64) {
    let (x, a) = (Arch::X86_64, Arch::Aarch64);
    println!(
        "\nnative parts (x86_64 checkpoint and restore; translation runs natively both ways):"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>11} {:>11} {:>10} {:>9}",
        "heap",
        "image MiB",
        "ckpt x86",
        "tr x->a in",
        "tr a->x in",
        "cmd x->a",
        "cmd a->x",
        "restore rt",
        "restore wall",
        "native sum",
        "floor"
    );
    for (mib, s) in rows {
        let (ckpt, rest, wall) = (
            ms(&s.checkpoint[x]),
            ms(&s.restore[x]),
            ms(&s.restore_wall[x]),
        );
        let (in_x, in_a) = (ms(&s.in_process[x]), ms(&s.in_process[a]));
        let (cmd_x, cmd_a) = (ms(&s.command[x]), ms(&s.command[a]));
        println!(
            "{:>4} MiB {:>9.1} {:>9.2} {:>10.2} {:>10.2} {:>10.1} {:>10.1} {:>11.3} {:>11.1} {:>10.1} {:>9.2}",
            mib,
            s.image_bytes[x] as f64 / (1 << 20) as f64,
            ckpt,
            in_x,
            in_a,
            cmd_x,
            cmd_a,
            rest,
            wall,
            ckpt + cmd_x.max(cmd_a) + wall,
            ckpt + in_x.max(in_a) + rest
        );
    }
    println!("`migrate --version` (process start-up, in every command above): {migrate_ms:.1} ms");
    println!(
        "native sum = ckpt x86 + slower `migrate translate` command + `migrate restore` wall to \
         the program's first line; floor = ckpt x86 + slower in-process translation + runtime restore"
    );
}

fn print_qemu(rows: &[(u64, Samples)], qemu_ms: f64) {
    let a = Arch::Aarch64;
    println!("\nunder qemu (aarch64; not part of the native sums):");
    println!("qemu-aarch64 start-up (trivial static program): {qemu_ms:.1} ms");
    println!(
        "{:>8} {:>9} {:>11} {:>12} {:>12}",
        "heap", "ckpt a64", "restore rt", "restore wall", "wall - rt"
    );
    for (mib, s) in rows {
        let (rest, wall) = (ms(&s.restore[a]), ms(&s.restore_wall[a]));
        println!(
            "{:>4} MiB {:>9.2} {:>11.3} {:>12.1} {:>12.1}",
            mib,
            ms(&s.checkpoint[a]),
            rest,
            wall,
            wall - rest
        );
    }
}
