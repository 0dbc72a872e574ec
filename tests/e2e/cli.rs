//! The command line itself: run passes stdin, arguments and exit codes
//! through; check-layout catches executables that do not belong together.

use crate::common::*;
use std::path::Path;

const ECHO: &str = r#"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int c; long n = 0;
    while ((c = getchar()) != EOF) { putchar(c); n++; }
    fprintf(stderr, "read %ld bytes, %d args\n", n, argc - 1);
    return argc > 1 ? atoi(argv[1]) : 0;
}
"#;

#[test]
fn run_passes_stdin_args_and_exit_code() {
    let dir = tempdir();
    std::fs::write(dir.path().join("echo.c"), ECHO).unwrap();
    cc(dir.path(), &["-O1", "-o", "echo", "echo.c"]);
    let base = dir.path().join("echo");
    for isa in ISAS {
        let r = run(isa, &base, &["7", "x"], b"hello\nworld\n", dir.path());
        assert_eq!(r.code, Some(7), "{isa}");
        assert_eq!(r.stdout, b"hello\nworld\n", "{isa}");
        assert_eq!(
            String::from_utf8_lossy(&r.stderr),
            "read 12 bytes, 2 args\n",
            "{isa}"
        );
    }
}

#[test]
fn run_accepts_a_relative_base() {
    let dir = tempdir();
    std::fs::write(dir.path().join("echo.c"), ECHO).unwrap();
    cc(dir.path(), &["-O1", "-o", "echo", "echo.c"]);
    for isa in ISAS {
        let out = migrate()
            .args(["run", "--arch", isa, "echo", "--", "3"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{isa}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn run_without_build_is_an_error() {
    let dir = tempdir();
    let out = migrate()
        .args(["run", "--arch", "aarch64"])
        .arg(dir.path().join("nothing"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such executable"));
    let out = migrate()
        .args(["run", "--arch", "riscv64", "x"])
        .output()
        .unwrap();
    // A wrong ISA lists the right ones (clap's ValueEnum) and exits 2.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'riscv64'"), "{err}");
    assert!(err.contains("possible values: x86_64, aarch64"), "{err}");
    assert_eq!(out.status.code(), Some(2));
    // The other names people use for them are accepted.
    for alias in ["amd64", "arm64"] {
        let out = migrate()
            .args(["run", "--arch", alias])
            .arg(dir.path().join("nothing"))
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no such executable"),
            "{alias}"
        );
    }
}

#[test]
fn check_layout_rejects_executables_of_different_builds() {
    let dir = tempdir();
    std::fs::write(dir.path().join("echo.c"), ECHO).unwrap();
    std::fs::write(
        dir.path().join("other.c"),
        "#include <stdio.h>\nint pad[100];\nint main(void) { puts(\"x\"); return pad[3]; }\n",
    )
    .unwrap();
    cc(dir.path(), &["-O2", "-o", "echo", "echo.c"]);
    cc(dir.path(), &["-O2", "-o", "other", "other.c"]);
    std::fs::copy(
        dir.path().join("other.aarch64"),
        dir.path().join("echo.aarch64"),
    )
    .unwrap();
    let out = migrate()
        .arg("check-layout")
        .arg(dir.path().join("echo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("mismatch: symbol main:") || text.contains("mismatch: section"),
        "{text}"
    );
    assert!(text.contains("FAILED"), "{text}");
}

#[test]
fn compile_then_link_bitcode_objects() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("a.c"),
        "int twice(int x) { return 2 * x; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.c"),
        "#include <stdio.h>\nint twice(int);\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n",
    )
    .unwrap();
    cc(dir.path(), &["-O2", "-c", "a.c"]);
    cc(dir.path(), &["-O2", "-c", "b.c", "-o", "b.o"]);
    let bytes = std::fs::read(dir.path().join("a.o")).unwrap();
    assert_eq!(&bytes[..4], b"BC\xc0\xde", "-c writes LLVM bitcode");
    cc(dir.path(), &["-o", "prog", "a.o", "b.o"]);
    let r = same_on_both(&dir.path().join("prog"), &[], b"");
    assert_eq!(r.stdout, b"42\n");
}

/// Usage errors and paths that are not what a command takes say what is
/// wrong, on stderr, with a non-zero exit (issue 12, item 4).
#[test]
fn wrong_paths_and_usage_say_what_is_wrong() {
    let dir = tempdir();
    let missing = dir.path().join("missing.core");
    let cases: [(&[&str], &Path, &str); 4] = [
        (&["inspect"], &missing, "no such file"),
        (
            &["inspect"],
            dir.path(),
            "is a directory, not a checkpoint image",
        ),
        (
            &["restore"],
            dir.path(),
            "is a directory, not a checkpoint image",
        ),
        (&["restore"], &missing, "cannot open it"),
    ];
    for (args, path, want) in cases {
        let out = migrate().args(args).arg(path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains(want),
            "{args:?} {}: want {want:?} in {err}",
            path.display()
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = migrate().arg("cc").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "usage errors go to stderr");
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: migrate cc"));
}
