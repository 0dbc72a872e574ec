//! What the benchmarks share: the programs (examples, Lua, SQLite), builds,
//! sizes, timing and statistics.

#![allow(dead_code)] // each bench uses its own subset

#[path = "../../tests/e2e/thirdparty.rs"]
mod thirdparty;

use object::{Object, ObjectSection, ObjectSegment, SectionFlags};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A program to measure and how to run it.
#[derive(Clone)]
pub struct Program {
    pub name: String,
    pub sources: Vec<PathBuf>,
    pub flags: Vec<String>,
    pub args: Vec<String>,
    pub stdin: Option<PathBuf>,
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn programs() -> Vec<Program> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        let input = dir.join("input.txt");
        out.push(Program {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            sources,
            flags: vec![],
            args: vec![],
            stdin: input.exists().then_some(input),
        });
    }
    let (lua_dir, mut lua) = thirdparty::lua_sources(&repo());
    lua.push(repo().join("tests/fixtures/lua/lua_main.c"));
    out.push(Program {
        name: "lua".into(),
        sources: lua,
        flags: vec!["-DLUA_USE_POSIX".into(), format!("-I{}", lua_dir.display())],
        args: vec![
            repo()
                .join("tests/fixtures/lua/workload.lua")
                .display()
                .to_string(),
            "1500".into(),
        ],
        stdin: None,
    });
    let sqlite = thirdparty::sqlite_dir(&repo());
    out.push(Program {
        name: "sqlite".into(),
        sources: vec![
            repo().join("tests/fixtures/sqlite/sqlite_driver.c"),
            sqlite.join("sqlite3.c"),
        ],
        flags: vec![
            "-DSQLITE_THREADSAFE=0".into(),
            "-DSQLITE_OMIT_LOAD_EXTENSION".into(),
            format!("-I{}", sqlite.display()),
        ],
        args: vec![],
        stdin: None,
    });
    out
}

/// (code bytes, loaded image bytes) of an executable.
pub fn sizes(path: &Path) -> (u64, u64) {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let code = file
        .sections()
        .filter(|s| matches!(s.flags(), SectionFlags::Elf { sh_flags } if sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0))
        .map(|s| s.size())
        .sum();
    let image = file.segments().map(|s| s.size()).sum();
    (code, image)
}

/// The program's standard input: its input file, or nothing.
pub fn stdin_for(p: &Program) -> Stdio {
    match &p.stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
        None => Stdio::null(),
    }
}

/// Runs `cmd` with `p`'s arguments and input in `cwd`, its output
/// discarded.
fn run_quietly(mut cmd: Command, p: &Program, cwd: &Path) -> std::process::ExitStatus {
    cmd.args(&p.args)
        .current_dir(cwd)
        .stdin(stdin_for(p))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
}

/// Wall time of one run of `exe`, in seconds (output discarded).
pub fn time_run(exe: &Path, p: &Program, cwd: &Path) -> f64 {
    let start = Instant::now();
    let status = run_quietly(Command::new(exe), p, cwd);
    let t = start.elapsed().as_secs_f64();
    assert!(status.success(), "{} failed", exe.display());
    t
}

/// What one run of `exe` prints on stdout.
pub fn output_of(exe: &Path, p: &Program, cwd: &Path) -> Vec<u8> {
    Command::new(exe)
        .args(&p.args)
        .current_dir(cwd)
        .stdin(stdin_for(p))
        .output()
        .unwrap()
        .stdout
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub fn geomean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

/// `--NAME VALUE` from the bench's command line.
pub fn option(name: &str) -> Option<String> {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1).cloned())
}

/// Builds `p` with `migrate cc -O2 EXTRA` at `base` (BASE.x86_64, BASE.aarch64).
pub fn migrate_cc(p: &Program, base: &Path, extra: &[&str]) {
    migrate_cc_at(p, "-O2", base, extra)
}

/// Builds `p` with `migrate cc OPT EXTRA` at `base`.
pub fn migrate_cc_at(p: &Program, opt: &str, base: &Path, extra: &[&str]) {
    let st = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("cc")
        .arg(opt)
        .args(extra)
        .args(&p.flags)
        .arg("-o")
        .arg(base)
        .args(&p.sources)
        .arg("-lm")
        .status()
        .unwrap();
    assert!(st.success(), "migrate cc failed for {}", p.name);
}

/// Builds `p` the plain way for `t` at `out`.
pub fn plain(p: &Program, t: &dyn migrate_cli::isa::Toolchain, out: &Path) {
    let mut flags: Vec<&str> = vec!["-O2"];
    flags.extend(p.flags.iter().map(String::as_str));
    migrate_cli::baseline::build(t, &p.sources, &flags, out).unwrap();
}

/// Medians of `runs` alternating runs of each executable, in seconds.
pub fn alternating_medians(exes: &[&Path], p: &Program, cwd: &Path, runs: usize) -> Vec<f64> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); exes.len()];
    for _ in 0..runs {
        for (t, exe) in times.iter_mut().zip(exes) {
            t.push(time_run(exe, p, cwd));
        }
    }
    times.into_iter().map(median).collect()
}

/// Which programs to run: all, or the one named by `--only`.
pub fn selected() -> Vec<Program> {
    let only = option("--only");
    let all = programs();
    let chosen: Vec<Program> = all
        .iter()
        .filter(|p| only.as_ref().is_none_or(|o| *o == p.name))
        .cloned()
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        eprintln!(
            "--only {}: no such program (there are: {})",
            only.unwrap_or_default(),
            names.join(", ")
        );
        std::process::exit(2);
    }
    chosen
}

/// One benchmark run's settings and scratch space.
pub struct Bench {
    /// `--runs N` (default 11): timed runs per build.
    pub runs: usize,
    /// Where builds go; removed at the end.
    pub work: tempfile::TempDir,
    /// Working directory the programs run in.
    pub cwd: PathBuf,
}

impl Bench {
    pub fn new() -> Self {
        let runs = option("--runs").map_or(11, |r| r.parse().unwrap());
        let work = tempfile::Builder::new()
            .prefix("migrate-bench-")
            .tempdir()
            .unwrap();
        let cwd = work.path().join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        Bench { runs, work, cwd }
    }

    /// `NAME` inside the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

/// Instructions one run of `exe` executes (callgrind, on a copy stripped of
/// debug information: deterministic).
pub fn instructions(bench: &Bench, exe: &Path, p: &Program) -> u64 {
    let stripped = bench.path(&format!(
        "{}.stripped",
        exe.file_name().unwrap().to_string_lossy()
    ));
    let st = Command::new("llvm-strip-19")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&stripped)
        .arg(exe)
        .status()
        .unwrap();
    assert!(st.success(), "llvm-strip-19 failed");
    let out_file = bench.path("callgrind.out");
    // Address randomization off first: the runtime re-executes the
    // program otherwise, which valgrind cannot follow.
    let out = Command::new("setarch")
        .args(["-R", "valgrind", "--tool=callgrind"])
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&stripped)
        .args(&p.args)
        .current_dir(&bench.cwd)
        .stdin(stdin_for(p))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "valgrind failed for {}: {said}",
        p.name
    );
    said.lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no instruction count from callgrind: {said}"))
}

/// Seconds each machine-floor probe runs.
pub const FLOOR_SECONDS: u64 = 1;

/// Runs of `migrate run --stats` whose interval statistics are medians
/// (and machine-floor probes).
pub const STATS_RUNS: usize = 3;

/// The longest gap, in µs, between two consecutive clock reads in a loop
/// that does nothing else for [`FLOOR_SECONDS`]: what preemption and the
/// hypervisor alone do to a program's longest interval between landmark
/// hits, which cannot be measured below it (median of [`STATS_RUNS`]
/// probes).
pub fn machine_floor() -> f64 {
    let probe = || {
        let start = Instant::now();
        let (mut last, mut longest) = (start, std::time::Duration::ZERO);
        while last.duration_since(start).as_secs() < FLOOR_SECONDS {
            let now = Instant::now();
            longest = longest.max(now - last);
            last = now;
        }
        longest.as_secs_f64() * 1e6
    };
    median((0..STATS_RUNS).map(|_| probe()).collect())
}

/// Landmark hits and the time between them on x86_64 (`migrate run
/// --stats`): the counts of one run (every run has the same), the interval
/// statistics medians of [`STATS_RUNS`].
pub struct Response {
    pub hits: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Hits at call sites certified migratable on both ISAs.
    pub migratable_hits: u64,
}

/// [`Response`] of the build at `base`.
pub fn response(p: &Program, base: &Path, cwd: &Path) -> Response {
    let runs: Vec<_> = (0..STATS_RUNS).map(|_| stats_run(p, base, cwd)).collect();
    let med = |k: usize| median(runs.iter().map(|r| r[k]).collect());
    Response {
        hits: runs[0][0] as u64,
        p50_us: med(1),
        p99_us: med(2),
        max_us: med(3),
        migratable_hits: runs[0][4] as u64,
    }
}

/// [hits, p50 µs, p99 µs, max µs, migratable hits] of one run.
fn stats_run(p: &Program, base: &Path, cwd: &Path) -> [f64; 5] {
    let stats = cwd.join("stats.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_migrate"));
    cmd.args(["run", "--stats"]).arg(&stats).arg(base).arg("--");
    assert!(run_quietly(cmd, p, cwd).success());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    let f = |k: &str| json[k].as_f64().unwrap();
    [
        f("landmark_hits"),
        f("p50_interval_us"),
        f("p99_interval_us"),
        f("max_interval_us"),
        f("migratable_hits"),
    ]
}

/// (recorded call sites, those certified migratable on both ISAs) of the
/// build at `base`.
pub fn migratable_sites(base: &Path) -> (usize, usize) {
    use migrate_format::Arch;
    let exe_path = migrate_cli::cc::link::output_path(base, Arch::X86_64);
    let exe = stack_translator::records::Executable::read(&exe_path, Arch::X86_64).unwrap();
    let migratable = exe
        .sites
        .as_ref()
        .map_or(0, |s| s.iter().filter(|m| **m).count());
    (exe.table.sites.len(), migratable)
}
