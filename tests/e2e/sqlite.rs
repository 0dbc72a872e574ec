//! SQLite (the amalgamation from the libsqlite3-sys crate) built with migrate
//! cc runs a SQL workload identically on both ISAs and writes the same
//! database file. SQLite keeps pointers to `stat`, `fstat`, `fcntl` and `open`
//! in a table: they go through the ABI shims on x86_64.

use crate::common::*;

#[test]
fn sqlite_workload_identical_on_both_isas() {
    let dir = tempdir();
    let sqlite = crate::thirdparty::sqlite_dir(&repo());
    let include = format!("-I{}", sqlite.display());
    let amalgamation = sqlite.join("sqlite3.c");
    let driver = fixture("sqlite/sqlite_driver.c");
    let build = cc(
        dir.path(),
        &[
            "-O2",
            "-DSQLITE_THREADSAFE=0",
            "-DSQLITE_OMIT_LOAD_EXTENSION",
            &include,
            "-o",
            "sqlite_driver",
            driver.to_str().unwrap(),
            amalgamation.to_str().unwrap(),
        ],
    );
    let base = dir.path().join("sqlite_driver");
    check_layout(&base);
    // The build certifies its call sites: 91.1% (12511 of 13727) migratable
    // (less the sites where one ISA's code reads a value the other's frame
    // does not keep: translate/feasible.rs); a regression shows here.
    // (91.9% of 14977 when every function entry had a landmark: those
    // sites were easy, with little live; now only call cycles get one.)
    let said = String::from_utf8_lossy(&build.stderr).into_owned();
    let line = said
        .lines()
        .find(|l| l.contains("call sites migratable"))
        .unwrap_or_else(|| panic!("no certification line: {said}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    assert!(numbers[0] * 1000 >= numbers[1] * 910, "{line}");
    // same_on_both also compares the database files the two runs leave.
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert_eq!(r.code, Some(0), "{out}");
    assert!(
        out.contains("items=3000 | total=179718.75 | min(name)=item-0 | max(name)=item-999"),
        "{out}"
    );
    assert!(
        out.contains("sales_after_rollback=20000 | total=179718.75"),
        "{out}"
    );
    assert!(out.contains("round(2.675, 2)=2.67"), "{out}");
    assert!(
        out.contains("group_concat(id, ',')=500,1000,1500,2000,2500,3000"),
        "{out}"
    );
    assert!(out.contains("integrity_check=ok"), "{out}");
    // Moved at seeded hits in both directions and bounced six times from
    // each ISA: the same output and the same database file (verify.rs).
    let v = crate::verify::verify(dir.path(), &base, &[], None, 20, 6, 61);
    assert!(
        v.refused * 10 <= v.runs,
        "sqlite: {} of {} refused",
        v.refused,
        v.runs
    );
}
