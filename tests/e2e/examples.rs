//! Every program in examples/ builds at -O0, -O1, -O2 and -O3 (each build
//! runs the record check), passes check-layout, and prints byte-identical
//! output on both ISAs, equal to its expected.out.
//!
//! Convention per example directory: `NAME.c` (or several .c files),
//! `expected.out` (stdout of a run with no arguments), optional `input.txt`
//! fed on stdin.

use crate::common::*;
use std::path::Path;

fn example(name: &str, opt: &str) {
    let src_dir = repo().join("examples").join(name);
    let dir = tempdir();
    let sources = example_sources(name);
    let mut args = vec![opt, "-o", name];
    args.extend(sources.iter().map(String::as_str));
    args.push("-lm");
    cc(dir.path(), &args);
    let base = dir.path().join(name);
    check_layout(&base);
    let stdin = read_optional(&src_dir.join("input.txt"));
    let r = same_on_both(&base, &[], &stdin);
    assert_eq!(
        r.code,
        Some(0),
        "{name} exit code; stderr: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let expected = std::fs::read(src_dir.join("expected.out")).unwrap();
    if r.stdout != expected {
        let (got, want) = (
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&expected),
        );
        let line = got.lines().zip(want.lines()).position(|(a, b)| a != b);
        panic!("{name} at {opt}: stdout differs from expected.out (first differing line {line:?})");
    }
}

fn read_optional(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

/// One test per example at optimization level `$opt`, in module `$level`.
macro_rules! examples_at {
    ($level:ident, $opt:literal: $($name:ident),* $(,)?) => {
        mod $level {
            $(
                #[test]
                fn $name() {
                    super::example(stringify!($name), $opt);
                }
            )*
        }
    };
}

/// Every example at every optimization level: landmarks, records and the
/// record check must hold wherever the backends' choices differ.
macro_rules! examples {
    ($($name:ident),* $(,)?) => {
        examples_at!(o0, "-O0": $($name),*);
        examples_at!(o1, "-O1": $($name),*);
        examples_at!(o2, "-O2": $($name),*);
        examples_at!(o3, "-O3": $($name),*);
    };
}

with_examples!(examples);
