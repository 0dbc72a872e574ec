//! The correctness gate of the translator (issue 13): `migrate verify` on
//! every example, Lua and SQLite. Each program is moved at seeded random
//! landmark hits in both directions and bounced six times from each ISA;
//! every run's output, exit code and files must be the uninterrupted run's,
//! and a move may be refused only for a gap the translator names and does
//! not close yet.

use crate::common::*;
use std::path::Path;

/// Random hits per program (each moved in both directions) at -O2.
const POINTS: u32 = 20;
/// Moves of each ping-pong run.
const PING_PONG: u32 = 6;

/// Why a move may still be refused: bytes 8-15 of a 16-byte value in a
/// stack slot that no slot of the source holds, a pointer into the machine
/// stack kept in memory (a dynamic allocation's address stored away), a
/// frame whose size the certificate does not know at the call (its stack
/// pointer moved by a run-time amount, as after an alloca), and a move that
/// found no migratable landmark before the program ended. (A value the
/// destination reads that the source does not keep makes its call site not
/// migratable at link time: translate/feasible.rs. The runtime waits, and
/// the translator never sees one.)
const KNOWN_GAPS: [&str; 4] = [
    "of a 16-byte value",
    "pointers into the stack kept in memory",
    "its frame size is not known at the call",
    "no checkpoint was taken",
];

/// What one `migrate verify` found.
pub struct Verified {
    pub runs: u64,
    pub identical: u64,
    pub refused: u64,
}

/// Runs `migrate verify` on `base` (in `dir`) and checks its report: no
/// run differs, every refusal is a known gap. Returns the counts.
pub fn verify(
    dir: &Path,
    base: &Path,
    args: &[&str],
    stdin: Option<&Path>,
    points: u32,
    ping_pong: u32,
    seed: u64,
) -> Verified {
    let name = base.file_name().unwrap().to_string_lossy().into_owned();
    let mut cmd = migrate();
    cmd.current_dir(dir)
        .args(["verify", "--json", "--points"])
        .arg(points.to_string())
        .args(["--ping-pong", &ping_pong.to_string(), "--seed"])
        .arg(seed.to_string())
        .arg(base)
        .arg("--")
        .args(args);
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(std::process::Stdio::null()),
    };
    let out = cmd.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let trials = report["trials"].as_array().unwrap();
    let differing: Vec<&serde_json::Value> = trials
        .iter()
        .filter(|t| t["verdict"] == "differing")
        .collect();
    assert!(
        report["isas_agree"] == true,
        "{name}: the uninterrupted runs on the two ISAs differ"
    );
    assert!(
        differing.is_empty() && out.status.success(),
        "{name} (seed {seed}): runs differ from the uninterrupted one: {differing:#?}"
    );
    let reasons: Vec<&str> = trials
        .iter()
        .flat_map(|t| t["refused"].as_array().unwrap())
        .map(|r| r.as_str().unwrap())
        .collect();
    let unknown: Vec<&&str> = reasons
        .iter()
        .filter(|r| !KNOWN_GAPS.iter().any(|g| r.contains(g)))
        .collect();
    assert!(
        unknown.is_empty(),
        "{name} (seed {seed}): refused for another reason: {unknown:#?}"
    );
    let v = Verified {
        runs: trials.len() as u64,
        identical: report["identical"].as_u64().unwrap(),
        refused: report["refused"].as_u64().unwrap(),
    };
    assert_eq!(v.runs, u64::from(2 * points + 2 * u32::from(ping_pong > 0)));
    eprintln!(
        "{name}: {} of {} runs identical, {} with a refused move: {reasons:#?}",
        v.identical, v.runs, v.refused
    );
    v
}

/// An example built at `opt` in `dir`: its base and its arguments and input.
fn example(dir: &Path, name: &str, opt: &str) -> (std::path::PathBuf, Vec<&'static str>) {
    let mut args = vec![opt.to_string(), "-o".into(), name.into()];
    args.extend(example_sources(name));
    args.push("-lm".into());
    cc(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    // Sizes for the examples that take one (each moved run replays the
    // program up to its point under landmark counting).
    let args = match name {
        "nbody" => vec!["100000"],
        "binarytrees" => vec!["12"],
        _ => Vec::new(),
    };
    (dir.join(name), args)
}

/// One test per example at -O2: 20 points, both directions, ping-pongs.
macro_rules! verified_examples {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let dir = tempdir();
                let name = stringify!($name);
                let (base, args) = example(dir.path(), name, "-O2");
                let input = repo().join("examples").join(name).join("input.txt");
                let stdin = input.exists().then_some(input.as_path());
                let v = verify(dir.path(), &base, &args, stdin, POINTS, PING_PONG, 13);
                // At most one run in ten with a refused move per program.
                assert!(v.refused * 10 <= v.runs, "{name}: {} of {} refused", v.refused, v.runs);
            }
        )*
    };
}

with_examples!(verified_examples);

/// The examples at the other optimization levels, a few points each.
fn at_level(opt: &str) {
    let dir = tempdir();
    let mut names: Vec<&str> = Vec::new();
    macro_rules! push {
        ($($name:ident),* $(,)?) => { $(names.push(stringify!($name));)* };
    }
    with_examples!(push);
    for name in names {
        let (base, args) = example(dir.path(), name, opt);
        let input = repo().join("examples").join(name).join("input.txt");
        let stdin = input.exists().then_some(input.as_path());
        verify(dir.path(), &base, &args, stdin, 2, 0, 17);
    }
}

#[test]
fn examples_at_o0() {
    at_level("-O0");
}

#[test]
fn examples_at_o1() {
    at_level("-O1");
}

#[test]
fn examples_at_o3() {
    at_level("-O3");
}

#[test]
fn lua() {
    let dir = tempdir();
    let base = crate::lua::build_lua(dir.path(), "-O2");
    let workload = fixture("lua/workload.lua").display().to_string();
    let v = verify(
        dir.path(),
        &base,
        &[&workload, "20"],
        None,
        POINTS,
        PING_PONG,
        29,
    );
    assert!(
        v.refused * 10 <= v.runs,
        "lua: {} of {} refused",
        v.refused,
        v.runs
    );
}
