//! Frames with dynamic stack allocations (issue 11, 1b): a variable-length
//! array sized at run time, `alloca(n)`, and `const int mm = 10; double
//! ten[mm][2];` (a VLA in C) beside an address-taken scalar. Each builds at
//! -O0..-O3, prints on both ISAs what a plain clang-19 build prints, and
//! checkpoints and restores at seeded random landmark hits on each ISA.

use crate::checkpoint::{checkpoint_anywhere, Program};
use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (fixture, arguments): sizes chosen so the allocations differ per run.
const FIXTURES: [(&str, &[&str]); 3] = [
    ("vla", &["37", "60"]),
    ("alloca", &["53", "40"]),
    ("vla_const", &["1.75", "30"]),
];

fn source(name: &str) -> PathBuf {
    fixture(&format!("dynamic/{name}.c"))
}

/// What the program prints built by plain clang-19 for this machine (glibc,
/// no landmarks): the reference neither migrate build had a hand in.
fn plain_clang_output(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let exe = dir.join(format!("{name}.plain"));
    let status = Command::new("clang-19")
        .args(["-O2", "-ffp-contract=off", "-o"])
        .arg(&exe)
        .arg(source(name))
        .status()
        .unwrap();
    assert!(status.success(), "clang-19 {name}.c");
    let out = Command::new(&exe).args(args).output().unwrap();
    assert!(out.status.success(), "{name}.plain failed");
    out.stdout
}

fn build(dir: &Path, name: &str, opt: &str) -> PathBuf {
    let base = format!("{name}{opt}");
    cc(
        dir,
        &[opt, "-o", &base, source(name).to_str().unwrap(), "-lm"],
    );
    dir.join(base)
}

#[test]
fn dynamic_allocations_build_at_every_level_and_run_the_same_on_both_isas() {
    let dir = tempdir();
    for (name, args) in FIXTURES {
        let want = plain_clang_output(dir.path(), name, args);
        assert!(!want.is_empty(), "{name}: no reference output");
        for opt in ["-O0", "-O1", "-O2", "-O3"] {
            let base = build(dir.path(), name, opt);
            let r = same_on_both(&base, args, b"");
            assert_eq!(r.code, Some(0), "{name} {opt}");
            assert_eq!(
                String::from_utf8_lossy(&r.stdout),
                String::from_utf8_lossy(&want),
                "{name} {opt}: output differs from a plain clang-19 build"
            );
        }
    }
}

/// Checkpoint and restore at random hits, both ISAs, at -O0 (every VLA
/// stays a VLA) and -O2.
fn checkpoints(name: &str, args: &[&str]) {
    let dir = tempdir();
    for opt in ["-O0", "-O2"] {
        let program = Program {
            base: build(dir.path(), name, opt),
            args: args.iter().map(|s| s.to_string()).collect(),
            stdin: None,
        };
        checkpoint_anywhere(&format!("{name}{opt}"), &program);
    }
}

#[test]
fn vla_checkpoints_anywhere() {
    checkpoints(FIXTURES[0].0, FIXTURES[0].1);
}

#[test]
fn alloca_checkpoints_anywhere() {
    checkpoints(FIXTURES[1].0, FIXTURES[1].1);
}

#[test]
fn const_sized_vla_checkpoints_anywhere() {
    checkpoints(FIXTURES[2].0, FIXTURES[2].1);
}
