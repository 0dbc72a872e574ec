//! `migrate mtd` (issue 14): every example and Lua bounced between the
//! ISAs with a short period behave as if they never moved (stdout, stderr,
//! exit code, files) and move at least three times; one program is
//! bounced over a hundred times in one run (second and later restores are
//! where other checkpointers broke); the report adds up.

use crate::common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

/// What one `migrate mtd` run gave, with its report.
struct Bounced {
    result: RunResult,
    files: Vec<(String, Vec<u8>)>,
    report: serde_json::Value,
    /// Wall seconds of the whole `migrate mtd` command, measured here.
    wall: f64,
}

/// `migrate mtd --quiet --report ... FLAGS BASE -- ARGS` in a fresh
/// directory, stdin from `stdin` (or empty).
fn mtd(base: &Path, flags: &[&str], args: &[&str], stdin: Option<&Path>) -> Bounced {
    let cwd = tempdir();
    let out_dir = tempdir();
    let report = out_dir.path().join("r.json");
    let mut cmd = migrate();
    cmd.arg("mtd")
        .arg("--quiet")
        .arg("--report")
        .arg(&report)
        .args(flags)
        .arg(base)
        .arg("--")
        .args(args)
        .current_dir(cwd.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let wall = start.elapsed().as_secs_f64();
    let text = std::fs::read(&report).unwrap_or_else(|e| {
        panic!(
            "no report from migrate mtd ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Bounced {
        result: RunResult {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        },
        files: files_in(cwd.path()),
        report: serde_json::from_slice(&text).unwrap(),
        wall,
    }
}

/// The program run once on x86_64, never moved: what mtd must reproduce.
fn reference(
    base: &Path,
    args: &[&str],
    stdin: Option<&Path>,
) -> (RunResult, Vec<(String, Vec<u8>)>) {
    let cwd = tempdir();
    let input = stdin.map(|p| std::fs::read(p).unwrap()).unwrap_or_default();
    let r = run("x86_64", base, args, &input, cwd.path());
    (r, files_in(cwd.path()))
}

/// Checks that `b` reproduces the uninterrupted run and that its report
/// adds up; returns the number of migrations.
fn check(name: &str, b: &Bounced, want: &(RunResult, Vec<(String, Vec<u8>)>)) -> u64 {
    let r = &b.report;
    let (want, want_files) = want;
    assert_eq!(b.result.code, want.code, "{name}: exit code; report {r:#}");
    if b.result.stdout != want.stdout {
        let (x, y) = (
            String::from_utf8_lossy(&b.result.stdout),
            String::from_utf8_lossy(&want.stdout),
        );
        let line = x.lines().zip(y.lines()).position(|(p, q)| p != q);
        panic!(
            "{name}: stdout differs from the run that never moved (first differing line \
             {line:?}, {} bytes against {}); seed {}",
            b.result.stdout.len(),
            want.stdout.len(),
            r["seed"]
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&b.result.stderr),
        String::from_utf8_lossy(&want.stderr),
        "{name}: stderr differs (seed {})",
        r["seed"]
    );
    assert_eq!(&b.files, want_files, "{name}: files written differ");
    assert_eq!(r["exit_code"].as_i64(), want.code.map(i64::from));

    // The report adds up: time on each ISA plus time migrating is the wall
    // time (they partition the run), and that is what was measured here
    // less migrate's own start-up.
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let wall = f(&r["wall_s"]);
    let parts = f(&r["time_on"]["x86_64"]) + f(&r["time_on"]["aarch64"]) + f(&r["migrating_s"]);
    assert!(
        (parts - wall).abs() < 1e-3 + wall * 1e-4,
        "{name}: time on each ISA plus migrating is {parts} s, the wall time {wall} s"
    );
    assert!(
        wall > 0.0 && wall <= b.wall,
        "{name}: wall {wall} s, measured {} s",
        b.wall
    );
    let moves = r["moves"].as_array().unwrap();
    let migrating: f64 = moves.iter().map(|m| f(&m["total_ms"])).sum::<f64>() / 1e3;
    assert!((migrating - f(&r["migrating_s"])).abs() < 1e-6);
    for m in moves {
        let sum: f64 = [
            "checkpoint_ms",
            "handover_ms",
            "translate_ms",
            "startup_ms",
            "restore_ms",
        ]
        .iter()
        .map(|k| f(&m[k]))
        .sum();
        assert!(
            (sum - f(&m["total_ms"])).abs() < 0.01,
            "{name}: a move's parts add up to {sum} ms, its total is {}: {m:#}",
            m["total_ms"]
        );
    }
    let migrations = r["migrations"].as_u64().unwrap();
    let refusals = r["refusals"].as_u64().unwrap();
    assert_eq!(migrations + refusals, moves.len() as u64);
    // Legs alternate ISAs at each move made.
    let legs = r["legs"].as_array().unwrap();
    assert_eq!(
        legs.len(),
        moves.len() + 1,
        "{name}: one leg per move, and one more"
    );
    let changes = legs
        .windows(2)
        .filter(|w| w[0]["arch"] != w[1]["arch"])
        .count();
    assert_eq!(changes as u64, migrations);
    eprintln!(
        "{name}: {migrations} migrations, {refusals} refused, {:.1}% of {wall:.2} s migrating",
        100.0 * f(&r["migrating_fraction"])
    );
    migrations
}

/// One test per example at -O2, with its default arguments.
macro_rules! mtd_examples {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let dir = tempdir();
                let name = stringify!($name);
                let mut args = vec!["-O2".to_string(), "-o".into(), name.into()];
                args.extend(example_sources(name));
                args.push("-lm".into());
                cc(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
                let base = dir.path().join(name);
                let input = repo().join("examples").join(name).join("input.txt");
                let stdin = input.exists().then_some(input.as_path());
                let want = reference(&base, &[], stdin);
                let b = mtd(&base, &["--period", "20ms", "--seed", "5"], &[], stdin);
                let migrations = check(name, &b, &want);
                assert!(migrations >= 3, "{name}: only {migrations} migrations: {:#}", b.report);
            }
        )*
    };
}

mod examples {
    use super::*;
    with_examples!(mtd_examples);
}

#[test]
fn lua() {
    let dir = tempdir();
    let base = crate::lua::build_lua(dir.path(), "-O2");
    let workload = fixture("lua/workload.lua").display().to_string();
    let args = [workload.as_str(), "200"];
    let want = reference(&base, &args, None);
    let b = mtd(
        &base,
        &["--period", "20ms", "--seed", "11", "--start", "aarch64"],
        &args,
        None,
    );
    assert_eq!(b.report["start"], "aarch64");
    let migrations = check("lua", &b, &want);
    assert!(migrations >= 3, "lua: only {migrations} migrations");
}

/// examples/nbody built at -O2 in `dir`; its base.
fn nbody(dir: &Path) -> std::path::PathBuf {
    let source = repo().join("examples/nbody/nbody.c").display().to_string();
    cc(dir, &["-O2", "-o", "nbody", &source, "-lm"]);
    dir.join("nbody")
}

/// One run, a hundred moves and more: every restore after the first is
/// of a program that was itself restored (DMTCP #392 and popcorn-kernel
/// #15 broke there).
#[test]
fn bounced_a_hundred_times() {
    let dir = tempdir();
    let base = nbody(dir.path());
    let args = ["8000000"];
    let want = reference(&base, &args, None);
    let b = mtd(
        &base,
        &["--period", "10ms", "--jitter", "0", "--seed", "1"],
        &args,
        None,
    );
    let migrations = check("nbody", &b, &want);
    assert!(
        migrations >= 100,
        "only {migrations} migrations: {:#}",
        b.report
    );
}

/// A program whose memory changes shape between moves (mappings grown,
/// moved, made and unmapped; calloc; MADV_DONTNEED on memory the image
/// backs): with the image file kept up to date in place, nothing the file
/// held before may show through.
#[test]
fn memory_reshaped_between_moves() {
    let dir = tempdir();
    let source = fixture("mtd/reshape.c").display().to_string();
    cc(dir.path(), &["-O2", "-o", "reshape", &source]);
    let base = dir.path().join("reshape");
    let args = ["1500"];
    let want = reference(&base, &args, None);
    assert!(
        String::from_utf8_lossy(&want.0.stdout).contains("done: "),
        "the reference run did not finish"
    );
    let b = mtd(&base, &["--period", "10ms", "--seed", "3"], &args, None);
    let migrations = check("reshape", &b, &want);
    assert!(migrations >= 20, "only {migrations} migrations");
}

/// After the first move, a checkpoint writes what the program wrote in its
/// leg, not all it holds: churn.c keeps 8 MiB and rewrites 1 MiB of it.
#[test]
fn moves_write_what_changed() {
    let dir = tempdir();
    let source = repo()
        .join("benches/programs/churn.c")
        .display()
        .to_string();
    cc(dir.path(), &["-O2", "-o", "churn", &source]);
    let base = dir.path().join("churn");
    let args = ["8", "1500000"];
    let want = reference(&base, &args, None);
    let b = mtd(
        &base,
        &["--period", "20ms", "--jitter", "0", "--seed", "1"],
        &args,
        None,
    );
    let migrations = check("churn", &b, &want);
    assert!(migrations >= 3, "only {migrations} migrations");
    let written: Vec<u64> = b.report["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["image_bytes"].as_u64().unwrap())
        .collect();
    assert!(
        written[0] >= 8 << 20,
        "the first checkpoint wrote {} bytes, less than the state",
        written[0]
    );
    for (i, &w) in written.iter().enumerate().skip(1) {
        assert!(
            w < 2 << 20,
            "move {i} wrote {w} bytes; the program changes 1 MiB: {written:?}"
        );
    }
}

/// The plot is an SVG with a band per leg; the table names the seed; a
/// piped stderr gets no progress line; bad arguments are refused.
#[test]
fn plot_seed_and_errors() {
    let dir = tempdir();
    let base = nbody(dir.path());
    let svg = dir.path().join("r.svg");
    let out = migrate()
        .args(["mtd", "--period", "30ms", "--seed", "9", "--plot"])
        .arg(&svg)
        .arg(&base)
        .args(["--", "400000"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\r'),
        "a progress line on a pipe: {stderr:?}"
    );
    assert!(
        stderr.contains("migrate mtd: ") && stderr.contains("seed 9"),
        "{stderr}"
    );
    assert!(stderr.contains("latency per migration"), "{stderr}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.contains("x86_64") && text.contains("aarch64") && text.contains("checkpoint"));

    for (flags, why) in [
        (vec!["--jitter", "150%"], "between 0% and 100%"),
        (vec!["--period", "0s"], "more than zero"),
    ] {
        let out = migrate()
            .arg("mtd")
            .args(&flags)
            .arg(&base)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{flags:?}"
        );
    }
    let out = migrate()
        .args(["mtd"])
        .arg(dir.path().join("nothing"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing.x86_64"), "{stderr}");
}

/// A program whose every move the translator refuses (it runs below a
/// frame of run-time size) keeps running where it is, each checkpoint
/// restored on the same ISA, with the output and exit code of a run that
/// never moved; the report gives the reason.
#[test]
fn refused_moves_keep_the_program_where_it_is() {
    let dir = tempdir();
    cc(
        dir.path(),
        &[
            "-O2",
            "-o",
            "vla_loop",
            &fixture("mtd/vla_loop.c").display().to_string(),
        ],
    );
    let base = dir.path().join("vla_loop");
    let args = ["100", "4000000"];
    let want = reference(&base, &args, None);
    assert_ne!(
        want.0.code,
        Some(0),
        "the fixture's exit code should be non-zero"
    );
    let b = mtd(&base, &["--period", "20ms", "--seed", "3"], &args, None);
    let migrations = check("vla_loop", &b, &want);
    assert_eq!(migrations, 0);
    let refusals = b.report["refusals"].as_u64().unwrap();
    assert!(refusals >= 3, "only {refusals} refusals: {:#}", b.report);
    for m in b.report["moves"].as_array().unwrap() {
        let why = m["refused"].as_str().unwrap();
        assert!(
            why.starts_with("frame #") && why.contains("its frame size is not known at the call"),
            "{why}"
        );
    }
}
