//! What a migratable build costs against a plain one, beside each of issue
//! 15's targets:
//! 1. instructions executed (callgrind, x86_64, copies stripped of debug
//!    information: deterministic) and median wall time of N alternating
//!    runs, default `migrate cc -O2` build / plain `clang-19 -O2` musl
//!    build: geomean at most 1.03, no program above 1.06;
//! 2. code size (executable sections), default / plain, per ISA: Lua and
//!    SQLite at most 1.15x; and the runtime's fixed cost, the code bytes a
//!    one-line program gains: at most 32 KiB per ISA;
//! 3. compile time: `migrate cc -O2` (both ISAs) against one plain
//!    single-ISA (x86_64) `clang-19 -O2` build of the same sources, wall
//!    time and peak memory (the largest process of the build): at most
//!    1.5x and 2x;
//! 4. call sites certified migratable on both ISAs, and landmark hits at
//!    such call sites (x86_64 `migrate run --stats`), at -O2 and -O3: at
//!    least 99% each;
//! 5. the longest time between two landmark hits (median of 3 `--stats`
//!    runs) against the machine's floor (the longest gap between two clock
//!    reads in a loop doing nothing else): within 1 ms.
//!
//! `cargo bench -p migrate-cli --bench buildcost [-- --runs N] [-- --only NAME]`

mod common;

use common::*;
use migrate_cli::cc::link::output_path;
use migrate_cli::isa;
use migrate_format::Arch;
use std::time::Instant;

/// What a build cost: wall seconds, CPU seconds and the peak resident
/// memory of its largest process, in MiB.
#[derive(Clone, Copy)]
struct Usage {
    wall: f64,
    cpu: f64,
    peak_mib: f64,
}

/// Runs `build` in a child process (fork) and measures it with its
/// descendants (wait4: CPU time summed, peak memory of the largest).
fn measured(build: impl FnOnce() -> bool) -> Usage {
    let start = Instant::now();
    // SAFETY: the bench has one thread; the child runs `build` and exits
    // without returning into the parent's code.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(build)).unwrap_or(false);
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child just forked.
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert!(
        got == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "a build failed"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Usage {
        wall: start.elapsed().as_secs_f64(),
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        peak_mib: ru.ru_maxrss as f64 / 1024.0,
    }
}

/// One program's figures.
struct Row {
    name: String,
    instr: f64,
    time: f64,
    code: [f64; 2],
    compile: [f64; 2],
    sites: [(usize, usize); 2],
    hits: [(u64, u64); 2],
    max_us: f64,
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn main() {
    let bench = Bench::new();
    let (runs, cwd) = (bench.runs, &bench.cwd);
    let floor_before = machine_floor();
    let mut rows = Vec::new();
    for p in selected() {
        eprintln!("buildcost: {}", p.name);
        let base = bench.path(&p.name);
        let o3 = bench.path(&format!("{}.O3", p.name));
        let plain_x86 = bench.path(&format!("{}.plain.x86_64", p.name));
        let ours = measured(|| {
            migrate_cc(&p, &base, &[]);
            true
        });
        let theirs = measured(|| {
            plain(&p, isa::of(Arch::X86_64), &plain_x86);
            true
        });
        migrate_cc_at(&p, "-O3", &o3, &[]);
        let mut code = [0.0; 2];
        for (i, t) in isa::all().into_iter().enumerate() {
            let plain_exe = bench.path(&format!("{}.plain.{}", p.name, t.name()));
            if t.arch() != Arch::X86_64 {
                plain(&p, t, &plain_exe);
            }
            code[i] = sizes(&output_path(&base, t.arch())).0 as f64 / sizes(&plain_exe).0 as f64;
        }
        let exe = output_path(&base, Arch::X86_64);
        assert_eq!(
            output_of(&plain_x86, &p, cwd),
            output_of(&exe, &p, cwd),
            "{}: outputs differ",
            p.name
        );
        let instr =
            instructions(&bench, &exe, &p) as f64 / instructions(&bench, &plain_x86, &p) as f64;
        let t = alternating_medians(&[&plain_x86, &exe], &p, cwd, runs);
        let (r2, r3) = (response(&p, &base, cwd), response(&p, &o3, cwd));
        rows.push(Row {
            name: p.name.clone(),
            instr,
            time: t[1] / t[0],
            code,
            compile: [ours.wall / theirs.wall, ours.peak_mib / theirs.peak_mib],
            sites: [migratable_sites(&base), migratable_sites(&o3)],
            hits: [(r2.hits, r2.migratable_hits), (r3.hits, r3.migratable_hits)],
            max_us: r2.max_us,
        });
        eprintln!(
            "  compile: migrate cc {:.1} s wall, {:.1} s CPU, {:.0} MiB; clang-19 -O2 (x86_64) \
             {:.1} s, {:.1} s, {:.0} MiB",
            ours.wall, ours.cpu, ours.peak_mib, theirs.wall, theirs.cpu, theirs.peak_mib
        );
    }
    let floor = floor_before.max(machine_floor());
    let fixed = runtime_fixed_cost(&bench);
    print_table(&rows, runs);
    print_targets(&rows, fixed, floor);
}

/// Code bytes a one-line program gains per ISA when built with `migrate
/// cc -O2` rather than plain: the runtime's fixed cost.
fn runtime_fixed_cost(bench: &Bench) -> [u64; 2] {
    let src = bench.path("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    )
    .unwrap();
    let p = Program {
        name: "hello".into(),
        sources: vec![src],
        flags: vec![],
        args: vec![],
        stdin: None,
    };
    let base = bench.path("hello");
    migrate_cc(&p, &base, &[]);
    let mut out = [0; 2];
    for (i, t) in isa::all().into_iter().enumerate() {
        let plain_exe = bench.path(&format!("hello.plain.{}", t.name()));
        plain(&p, t, &plain_exe);
        out[i] = sizes(&output_path(&base, t.arch()))
            .0
            .saturating_sub(sizes(&plain_exe).0);
    }
    out
}

fn print_table(rows: &[Row], runs: usize) {
    println!(
        "migratable build / plain clang-19 -O2 musl: x86_64 instructions (callgrind) and wall time \
         (median of {runs} alternating runs); code bytes per ISA; compile wall and peak memory \
         (migrate cc, both ISAs / one x86_64 build); call sites migratable on both ISAs and \
         landmark hits at them, -O2 and -O3; longest time between two hits (µs)"
    );
    println!(
        "{:<12} {:>7} {:>6} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}",
        "program",
        "instr",
        "time",
        "x86 code",
        "a64",
        "compile",
        "memory",
        "O2 site",
        "O2 hit",
        "O3 site",
        "O3 hit",
        "max µs"
    );
    for r in rows {
        println!(
            "{:<12} {:>7.3} {:>6.3} {:>7.3} {:>7.3} {:>8.2} {:>7.2} {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>9.1}",
            r.name,
            r.instr,
            r.time,
            r.code[0],
            r.code[1],
            r.compile[0],
            r.compile[1],
            percent(r.sites[0].1 as u64, r.sites[0].0 as u64),
            percent(r.hits[0].1, r.hits[0].0),
            percent(r.sites[1].1 as u64, r.sites[1].0 as u64),
            percent(r.hits[1].1, r.hits[1].0),
            r.max_us
        );
    }
    let col = |f: &dyn Fn(&Row) -> f64| geomean(&rows.iter().map(f).collect::<Vec<_>>());
    println!(
        "{:<12} {:>7.3} {:>6.3} {:>7.3} {:>7.3} {:>8.2} {:>7.2}",
        "geomean",
        col(&|r| r.instr),
        col(&|r| r.time),
        col(&|r| r.code[0]),
        col(&|r| r.code[1]),
        col(&|r| r.compile[0]),
        col(&|r| r.compile[1]),
    );
}

/// Each target, its figure and whether this run meets it.
fn print_targets(rows: &[Row], fixed: [u64; 2], floor: f64) {
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let worst = |f: &dyn Fn(&Row) -> f64| {
        rows.iter()
            .map(|r| (f(r), r.name.as_str()))
            .fold((f64::MIN, ""), |a, b| if b.0 > a.0 { b } else { a })
    };
    let geo = |f: &dyn Fn(&Row) -> f64| geomean(&rows.iter().map(f).collect::<Vec<_>>());
    println!("targets (issue 15):");
    for (what, f) in [
        ("instructions", &(|r: &Row| r.instr) as &dyn Fn(&Row) -> f64),
        ("wall time", &|r: &Row| r.time),
    ] {
        let (g, (w, name)) = (geo(f), worst(f));
        println!(
            "  1. {what:<13} geomean {g:.3} (<= 1.03), highest {w:.3} {name} (<= 1.06): {}",
            verdict(g <= 1.03 && w <= 1.06)
        );
    }
    for big in ["lua", "sqlite"] {
        if let Some(r) = rows.iter().find(|r| r.name == big) {
            println!(
                "  2. code size {big:<7} x86_64 {:.3}, aarch64 {:.3} (<= 1.15): {}",
                r.code[0],
                r.code[1],
                verdict(r.code[0] <= 1.15 && r.code[1] <= 1.15)
            );
        }
    }
    println!(
        "  2. runtime's fixed cost (a one-line program's code growth): x86_64 {:.1} KiB, aarch64 \
         {:.1} KiB (<= 32): {}",
        fixed[0] as f64 / 1024.0,
        fixed[1] as f64 / 1024.0,
        verdict(fixed.iter().all(|&b| b <= 32 << 10))
    );
    let (wall, (ww, wn)) = (geo(&|r| r.compile[0]), worst(&|r| r.compile[0]));
    let (mem, (mw, mn)) = (geo(&|r| r.compile[1]), worst(&|r| r.compile[1]));
    println!(
        "  3. compile wall geomean {wall:.2}, highest {ww:.2} {wn} (<= 1.5); peak memory geomean \
         {mem:.2}, highest {mw:.2} {mn} (<= 2): {}",
        verdict(ww <= 1.5 && mw <= 2.0)
    );
    for (i, level) in ["-O2", "-O3"].iter().enumerate() {
        let (s, (sn, sw)) = lowest(rows, |r| percent(r.sites[i].1 as u64, r.sites[i].0 as u64));
        let (h, (hn, hw)) = lowest(rows, |r| percent(r.hits[i].1, r.hits[i].0));
        println!(
            "  4. {level} lowest: call sites {sw:.1}% {sn}, hits {hw:.1}% {hn} (>= 99%): {}",
            verdict(s && h)
        );
    }
    let (w, name) = worst(&|r| r.max_us);
    println!(
        "  5. longest time between hits {w:.0} µs ({name}), machine floor {floor:.0} µs: {:.0} µs \
         above it (<= 1000): {}",
        w - floor,
        verdict(w - floor <= 1000.0)
    );
}

/// Whether every row's `f` is at least 99, and the lowest (name, value).
fn lowest(rows: &[Row], f: impl Fn(&Row) -> f64) -> (bool, (&str, f64)) {
    let low = rows
        .iter()
        .map(|r| (r.name.as_str(), f(r)))
        .fold(("", f64::MAX), |a, b| if b.1 < a.1 { b } else { a });
    (rows.iter().all(|r| f(r) >= 99.0), low)
}
