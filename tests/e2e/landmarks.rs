//! Landmarks: inserted once in the shared IR, so both executables hit the
//! same landmarks the same number of times; statistics do not change the
//! program's output; by default entry landmarks go only where calls form a cycle.

use crate::common::*;
use migrate_format::reports::Stats;
use std::path::Path;

fn build(dir: &Path, name: &str, policy: &str) -> std::path::PathBuf {
    let src = fixture("landmarks/calls.c");
    cc(
        dir,
        &[
            "-O2",
            &format!("--landmarks={policy}"),
            "-o",
            name,
            src.to_str().unwrap(),
        ],
    );
    dir.join(name)
}

/// Runs with `--stats`; returns (stdout, landmark_hits, migratable_hits).
fn run_with_stats(isa: &str, base: &Path, dir: &Path) -> (Vec<u8>, u64, u64) {
    let stats = dir.join(format!(
        "{}.{isa}.json",
        base.file_name().unwrap().to_string_lossy()
    ));
    let out = migrate()
        .args(["run", "--arch", isa, "--stats"])
        .arg(&stats)
        .arg(base)
        .args(["--", "24"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Read with migrate-format's reader of what the runtime writes.
    let json: Stats = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(json.isa.name(), isa);
    let (p50, p99, max) = (
        json.p50_interval_us,
        json.p99_interval_us,
        json.max_interval_us,
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max * 1.13, "{json:?}");
    // The runtime reads the migratable-sites table the build filled in.
    let (hits, migratable) = (json.landmark_hits, json.migratable_hits);
    assert!(0 < migratable && migratable <= hits, "{json:?}");
    // The longest interval is between two landmarks the build has; start-up
    // and exit are reported apart.
    // Both are landmark call sites: the runtime is told call-site IDs (the
    // index of the migratable-sites table), not the landmarks' ordinals.
    let sites = callsites_json(base);
    for id in json.max_interval_between {
        let site = &sites[id as usize];
        assert_eq!(site["id"], id, "{json:?}");
        assert!(
            site["kind"].as_str().unwrap().starts_with("landmark "),
            "{site}"
        );
    }
    assert!(json.startup_us > 0.0, "{json:?}");
    assert!(json.exit_us > 0.0, "{json:?}");
    (out.stdout, hits, migratable)
}

#[test]
fn hits_are_the_same_on_both_isas_and_output_is_unchanged() {
    let dir = tempdir();
    let base = build(dir.path(), "calls", "all");
    check_layout(&base);
    let plain = run("x86_64", &base, &["24"], b"", dir.path());
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout),
        "n=24 acc=31206966\n"
    );
    let (out_x, hits_x, migratable_x) = run_with_stats("x86_64", &base, dir.path());
    let (out_a, hits_a, migratable_a) = run_with_stats("aarch64", &base, dir.path());
    assert_eq!(out_x, plain.stdout, "statistics changed the output");
    assert_eq!(
        out_a, plain.stdout,
        "statistics changed the output on aarch64"
    );
    assert_eq!(hits_x, hits_a, "landmark hits differ between the ISAs");
    assert_eq!(migratable_x, migratable_a, "one table, read on both ISAs");
    // fib alone is called 3234 times (less what tail-recursion elimination
    // turns into loop iterations, which have landmarks too).
    assert!(hits_x > 3000, "{hits_x}");
}

#[test]
fn only_cycles_of_calls_get_entry_landmarks() {
    let dir = tempdir();
    let hits = |policy: &str| {
        let base = build(dir.path(), policy, policy);
        run_with_stats("x86_64", &base, dir.path()).1
    };
    let (entry, loops, all) = (hits("entry"), hits("loops"), hits("all"));
    assert!(entry > 0 && loops > 0, "entry {entry}, loops {loops}");
    // `all` adds entry landmarks only where calls form a cycle: fib's
    // (thousands of calls), not main's (one) or triangle's (24); the
    // functions called through the pointer have no loops or calls, so no
    // policy gives them one.
    let entries = all - loops;
    assert!(entries > 1000, "fib's entry: {entries} hits");
    assert_eq!(
        entry - entries,
        1 + 24,
        "entry {entry}, all {all}, loops {loops}"
    );
}

#[test]
fn without_landmarks_there_are_no_statistics() {
    let dir = tempdir();
    let base = build(dir.path(), "none", "none");
    let stats = dir.path().join("none.json");
    let out = migrate()
        .args(["run", "--stats"])
        .arg(&stats)
        .arg(&base)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n=20 acc=9298084\n");
    assert!(!stats.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote no landmark statistics"));
}
