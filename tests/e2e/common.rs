//! Helpers shared by the end-to-end tests: build with `migrate cc`, run on
//! both ISAs through `migrate run`, compare.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Both ISAs' names, in `Arch::ALL` order.
pub const ISAS: [&str; 2] = [
    migrate_format::Arch::X86_64.name(),
    migrate_format::Arch::Aarch64.name(),
];

pub fn migrate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("migrate-e2e-")
        .tempdir()
        .unwrap()
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `migrate cc ARGS` in `dir`; panics with the compiler output on failure.
pub fn cc(dir: &Path, args: &[&str]) -> Output {
    let out = migrate()
        .arg("cc")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "migrate cc {args:?} failed: {}",
        show(&out)
    );
    out
}

/// `migrate cc ARGS` that must fail; returns its stderr.
pub fn cc_fails(dir: &Path, args: &[&str]) -> String {
    let out = migrate()
        .arg("cc")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "migrate cc {args:?} should have failed: {}",
        show(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `migrate check-layout BASE` must pass.
pub fn check_layout(base: &Path) {
    let out = migrate().arg("check-layout").arg(base).output().unwrap();
    assert!(
        out.status.success(),
        "check-layout {}: {}",
        base.display(),
        show(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok: "), "{text}");
}

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
pub struct RunResult {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// `migrate run --arch ISA BASE -- ARGS` in `cwd`, feeding `stdin`.
pub fn run(isa: &str, base: &Path, args: &[&str], stdin: &[u8], cwd: &Path) -> RunResult {
    let mut child = migrate()
        .args(["run", "--arch", isa])
        .arg(base)
        .arg("--")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    RunResult {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Every file in `dir` (name, contents), sorted.
pub fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Runs BASE on both ISAs, each in a fresh working directory, and asserts
/// identical stdout, stderr, exit code and files written. Returns the run.
pub fn same_on_both(base: &Path, args: &[&str], stdin: &[u8]) -> RunResult {
    let mut results = Vec::new();
    let mut files = Vec::new();
    for isa in ISAS {
        let cwd = tempdir();
        results.push(run(isa, base, args, stdin, cwd.path()));
        files.push(files_in(cwd.path()));
    }
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.code, b.code, "exit codes differ for {}", base.display());
    if a.stdout != b.stdout {
        let (x, y) = (
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
        );
        let line = x.lines().zip(y.lines()).position(|(p, q)| p != q);
        panic!(
            "stdout differs for {} (first differing line {line:?})",
            base.display()
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr),
        "stderr differs for {}",
        base.display()
    );
    assert_eq!(
        files[0],
        files[1],
        "files written differ for {}",
        base.display()
    );
    results.swap_remove(0)
}

/// `migrate inspect --callsites --json BASE`, parsed; panics if it fails.
pub fn callsites_json(base: &Path) -> serde_json::Value {
    let out = migrate()
        .args(["inspect", "--callsites", "--json"])
        .arg(base)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Calls `$m!` with the name of every program in examples/ (one list for
/// every test module that runs them all).
macro_rules! with_examples {
    ($m:ident) => {
        $m!(
            bigoutput,
            binarytrees,
            fileio,
            logger,
            nbody,
            recursion,
            setjmp,
            sortfuncs,
            stackarrays,
            vecloop,
            wordfreq,
        );
    };
}

/// The C sources of examples/NAME, sorted, as strings for `migrate cc`.
pub fn example_sources(name: &str) -> Vec<String> {
    let dir = repo().join("examples").join(name);
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .map(|p| p.display().to_string())
        .collect();
    sources.sort();
    sources
}
