//! Checkpoint and restore on the same ISA (issue 4): every example and Lua,
//! checkpointed at seeded random landmark hits with `migrate run
//! --checkpoint-at N` and continued with `migrate restore`, print exactly
//! what an uninterrupted run prints (stdout and stderr, the run's and the
//! restore's together), exit the same way and leave the same files, on
//! x86_64 and on aarch64.

use crate::common::*;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Checkpoints per program and ISA.
const POINTS: usize = 5;

/// What a program did, run whole or as checkpoint + restore.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    files: Vec<(String, Vec<u8>)>,
}

/// A program to checkpoint: its build, arguments and stdin file.
pub struct Program {
    pub base: PathBuf,
    pub args: Vec<String>,
    pub stdin: Option<PathBuf>,
}

impl Program {
    fn command(&self, cwd: &Path) -> Command {
        let mut cmd = migrate();
        cmd.current_dir(cwd).stdin(match &self.stdin {
            Some(p) => Stdio::from(File::open(p).unwrap()),
            None => Stdio::null(),
        });
        cmd
    }

    /// An uninterrupted run with statistics: the reference outcome and how
    /// many landmark hits the run had.
    fn reference(&self, isa: &str) -> (Outcome, u64) {
        let cwd = tempdir();
        let stats_dir = tempdir();
        let stats = stats_dir.path().join("stats.json");
        let out = self
            .command(cwd.path())
            .args(["run", "--arch", isa, "--stats"])
            .arg(&stats)
            .arg(&self.base)
            .arg("--")
            .args(&self.args)
            .output()
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
        let hits = json["landmark_hits"].as_u64().unwrap();
        (outcome(&out, cwd.path()), hits)
    }

    /// An uninterrupted run.
    fn plain(&self, isa: &str) -> Outcome {
        let cwd = tempdir();
        let out = self
            .command(cwd.path())
            .args(["run", "--arch", isa])
            .arg(&self.base)
            .arg("--")
            .args(&self.args)
            .output()
            .unwrap();
        outcome(&out, cwd.path())
    }

    /// Checkpoint at landmark hit `n`, then restore, in one working directory.
    fn checkpointed(&self, isa: &str, n: u64) -> Outcome {
        let cwd = tempdir();
        let images = tempdir();
        let image = images.path().join("ckpt.core");
        let run = self
            .command(cwd.path())
            .args(["run", "--arch", isa, "--checkpoint-at", &n.to_string()])
            .arg("--image")
            .arg(&image)
            .arg(&self.base)
            .arg("--")
            .args(&self.args)
            .output()
            .unwrap();
        let run_err = String::from_utf8_lossy(&run.stderr).into_owned();
        assert!(
            run.status.success(),
            "{} on {isa}: checkpoint at hit {n} failed: {run_err}",
            self.base.display()
        );
        let (program_err, report) = run_err
            .rsplit_once("migrate: checkpoint written to ")
            .unwrap_or_else(|| panic!("no checkpoint report: {run_err}"));
        assert!(report.contains(&format!("({isa} at call site")), "{report}");
        let meta = std::fs::metadata(&image).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "image mode");
        let restore = self
            .command(Path::new("/"))
            .arg("restore")
            .arg(&image)
            .output()
            .unwrap();
        let mut o = outcome(&restore, cwd.path());
        o.stdout = String::from_utf8_lossy(&run.stdout).into_owned() + &o.stdout;
        o.stderr = program_err.to_string() + &o.stderr;
        o
    }
}

fn outcome(out: &Output, cwd: &Path) -> Outcome {
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        files: files_in(cwd),
    }
}

/// xorshift64*: reproducible choices without a dependency.
struct Rng(u64);

impl Rng {
    fn seeded(name: &str) -> Rng {
        Rng(name.bytes().fold(0x9e37_79b9_7f4a_7c15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The whole check for one program, on both ISAs. Both executables hit the
/// same landmarks the same number of times (tests/e2e/landmarks.rs checks
/// that), so the hits are counted once, natively: counting under qemu,
/// where every hit reads the clock, would take minutes.
pub fn checkpoint_anywhere(name: &str, program: &Program) {
    let (x86_reference, hits) = program.reference("x86_64");
    assert!(hits > 0, "{name}: no landmark hits");
    for isa in ISAS {
        let reference = if isa == "x86_64" {
            x86_reference.clone()
        } else {
            program.plain(isa)
        };
        assert_eq!(reference.code, Some(0), "{name}: {}", reference.stderr);
        checkpoint_at_random_hits(name, program, isa, &reference, hits);
    }
}

fn checkpoint_at_random_hits(
    name: &str,
    program: &Program,
    isa: &str,
    reference: &Outcome,
    hits: u64,
) {
    let mut rng = Rng::seeded(&format!("{name}/{isa}"));
    for _ in 0..POINTS {
        let n = 1 + rng.below(hits);
        let got = program.checkpointed(isa, n);
        assert!(
            got == *reference,
            "{name} on {isa}, checkpointed at landmark hit {n} of {hits}: the outcome differs \
             from an uninterrupted run\n--- got: code {:?}, stderr {:?}, stdout {} bytes, {} \
             files\n--- want: code {:?}, stderr {:?}, stdout {} bytes, {} files",
            got.code,
            got.stderr,
            got.stdout.len(),
            got.files.len(),
            reference.code,
            reference.stderr,
            reference.stdout.len(),
            reference.files.len()
        );
    }
}

fn example(name: &str) -> (tempfile::TempDir, Program) {
    let src_dir = repo().join("examples").join(name);
    let dir = tempdir();
    let mut args = vec!["-O2".to_string(), "-o".into(), name.into()];
    args.extend(example_sources(name));
    args.push("-lm".into());
    cc(
        dir.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let input = src_dir.join("input.txt");
    // Sizes for the examples that take one: every hit of the run is a
    // candidate, and each checkpointed run counts hits up to its point.
    let args = match name {
        "nbody" => vec!["100000".to_string()],
        "binarytrees" => vec!["12".to_string()],
        _ => Vec::new(),
    };
    let program = Program {
        base: dir.path().join(name),
        args,
        stdin: input.exists().then_some(input),
    };
    (dir, program)
}

/// One test per example, both ISAs.
macro_rules! examples {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let (_dir, program) = example(stringify!($name));
                checkpoint_anywhere(stringify!($name), &program);
            }
        )*
    };
}

with_examples!(examples);

/// Moving every example to the other ISA and back (issue 13).

#[test]
fn lua() {
    let dir = tempdir();
    let base = crate::lua::build_lua(dir.path(), "-O2");
    let program = Program {
        base,
        args: vec![
            fixture("lua/workload.lua").display().to_string(),
            "20".into(),
        ],
        stdin: None,
    };
    checkpoint_anywhere("lua", &program);
}

/// A heap block that musl grows with mremap after the restore: at every
/// point of the run, on both ISAs, the restored program finishes as the
/// uninterrupted one (a block restored as a mapping of the image died of
/// SIGBUS when it grew past the file's end).
#[test]
fn a_restored_heap_block_can_grow() {
    let dir = tempdir();
    let src = fixture("checkpoint/regrow.c").display().to_string();
    cc(dir.path(), &["-O2", "-o", "regrow", &src]);
    let program = Program {
        base: dir.path().join("regrow"),
        args: vec![],
        stdin: None,
    };
    for isa in ISAS {
        let (reference, hits) = program.reference(isa);
        assert_eq!(reference.code, Some(0));
        for n in [1, hits / 3, hits / 2, hits - 1] {
            let got = program.checkpointed(isa, n.max(1));
            assert!(got == reference, "regrow on {isa} at hit {n} of {hits}");
        }
    }
}
