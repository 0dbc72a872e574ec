//! A plain Makefile project builds unchanged with CC="migrate cc", including
//! a static library made with ar and linked with -L/-l.

use crate::common::*;
use std::process::Command;

#[test]
fn make_with_migrate_cc() {
    let dir = tempdir();
    for entry in std::fs::read_dir(fixture("makeproj")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let cc = format!("{} cc", env!("CARGO_BIN_EXE_migrate"));
    let out = Command::new("make")
        .arg(format!("CC={cc}"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deps = std::fs::read_to_string(dir.path().join("main.d")).expect("-MMD writes main.d");
    assert!(
        deps.starts_with("main.o:") && deps.contains("strutil.h"),
        "{deps}"
    );
    let base = dir.path().join("textstats");
    check_layout(&base);
    let r = same_on_both(&base, &["one", "two"], b"");
    let text = String::from_utf8(r.stdout).unwrap();
    assert!(
        text.contains(
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG   words=9 hash=1653687373046440190"
        ),
        "{text}"
    );
    assert!(text.contains("mean=7.5000 stddev=1.1180 args=2"), "{text}");
    assert!(text.contains("arg 2: two"), "{text}");
}
