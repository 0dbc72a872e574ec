//! Benchmark of the foundation: what identical layouts cost.
//!
//! `cargo bench -p migrate-cli --bench foundation [-- --runs N] [-- --only NAME]`
//!
//! For every example, Lua 5.4 (running tests/fixtures/lua/workload.lua) and
//! SQLite (tests/fixtures/sqlite/sqlite_driver.c),
//! builds the migratable pair with `migrate cc -O2` and, in the same run, the
//! baseline: plain `clang-19 -O2` static musl builds per ISA. Prints
//! - code-size ratios (executable sections) and image-size ratios (all
//!   loaded segments) against the baseline, per ISA;
//! - the x86_64 runtime ratio: median of N alternating runs of each build.
//!
//! Never compares qemu times with native ones: only x86_64 runs are timed.

#[path = "../tests/e2e/thirdparty.rs"]
mod thirdparty;

use migrate_cli::{baseline, isa};
use object::{Object, ObjectSection, ObjectSegment, SectionFlags};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Program {
    name: String,
    sources: Vec<PathBuf>,
    flags: Vec<String>,
    args: Vec<String>,
    stdin: Option<PathBuf>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn programs() -> Vec<Program> {
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
fn sizes(path: &Path) -> (u64, u64) {
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

fn time_run(exe: &Path, p: &Program, cwd: &Path) -> f64 {
    let stdin = match &p.stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
        None => Stdio::null(),
    };
    let start = Instant::now();
    let status = Command::new(exe)
        .args(&p.args)
        .current_dir(cwd)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let t = start.elapsed().as_secs_f64();
    assert!(status.success(), "{} failed", exe.display());
    t
}

fn output_of(exe: &Path, p: &Program, cwd: &Path) -> Vec<u8> {
    let stdin = match &p.stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
        None => Stdio::null(),
    };
    Command::new(exe)
        .args(&p.args)
        .current_dir(cwd)
        .stdin(stdin)
        .output()
        .unwrap()
        .stdout
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn geomean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let runs: usize = argv
        .iter()
        .position(|a| a == "--runs")
        .map_or(11, |i| argv[i + 1].parse().unwrap());
    let only = argv
        .iter()
        .position(|a| a == "--only")
        .map(|i| argv[i + 1].clone());
    let work = tempfile::Builder::new()
        .prefix("migrate-bench-")
        .tempdir()
        .unwrap();
    let cwd = work.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();

    println!("foundation benchmark: aligned (migrate cc -O2) vs plain clang-19 -O2 musl static; x86_64 time: median of {runs} runs each");
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "program",
        "x86 code",
        "x86 image",
        "a64 code",
        "a64 image",
        "x86 time",
        "plain ms",
        "aligned ms"
    );
    let mut cols: [Vec<f64>; 5] = Default::default();
    for p in programs()
        .into_iter()
        .filter(|p| only.as_ref().is_none_or(|o| *o == p.name))
    {
        let base = work.path().join(&p.name);
        let mut cc = Command::new(env!("CARGO_BIN_EXE_migrate"));
        cc.arg("cc")
            .arg("-O2")
            .args(&p.flags)
            .arg("-o")
            .arg(&base)
            .args(&p.sources)
            .arg("-lm");
        let st = cc.status().unwrap();
        assert!(st.success(), "migrate cc failed for {}", p.name);
        let mut ratios = Vec::new();
        for t in isa::ALL {
            let plain = work.path().join(format!("{}.plain.{}", p.name, t.name()));
            let mut flags: Vec<&str> = vec!["-O2"];
            flags.extend(p.flags.iter().map(String::as_str));
            baseline::build(t, &p.sources, &flags, &plain).unwrap();
            let aligned = migrate_cli::cc::link::output_path(&base, t);
            let (pc, pi) = sizes(&plain);
            let (ac, ai) = sizes(&aligned);
            ratios.push(ac as f64 / pc as f64);
            ratios.push(ai as f64 / pi as f64);
        }
        let plain = work.path().join(format!("{}.plain.x86_64", p.name));
        let aligned = migrate_cli::cc::link::output_path(&base, isa::X86_64);
        assert_eq!(
            output_of(&plain, &p, &cwd),
            output_of(&aligned, &p, &cwd),
            "{}: outputs differ",
            p.name
        );
        let (mut tp, mut ta) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            tp.push(time_run(&plain, &p, &cwd));
            ta.push(time_run(&aligned, &p, &cwd));
        }
        let (mp, ma) = (median(tp), median(ta));
        ratios.push(ma / mp);
        println!(
            "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.1} {:>10.1}",
            p.name,
            ratios[0],
            ratios[1],
            ratios[2],
            ratios[3],
            ratios[4],
            mp * 1e3,
            ma * 1e3
        );
        for (c, r) in cols.iter_mut().zip(&ratios) {
            c.push(*r);
        }
    }
    println!(
        "{:<12} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        "geomean",
        geomean(&cols[0]),
        geomean(&cols[1]),
        geomean(&cols[2]),
        geomean(&cols[3]),
        geomean(&cols[4])
    );
}
