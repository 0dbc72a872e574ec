//! libc interfaces whose types or constants differ between the ISAs' musl.

use crate::common::*;

fn build_fixture(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempdir();
    let src = fixture(&format!("abi/{name}.c"));
    cc(
        dir.path(),
        &["-O2", "-o", name, src.to_str().unwrap(), "-lm"],
    );
    let base = dir.path().join(name);
    check_layout(&base);
    (dir, base)
}

#[test]
fn stat_fstat_and_open_flags_agree() {
    let (_dir, base) = build_fixture("stat_open");
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert_eq!(r.code, Some(0), "{out}");
    assert!(
        out.contains("stat file: dir=0 reg=1 size=8890 nlink=1 blksize_pos=1 mode=640"),
        "{out}"
    );
    assert!(out.contains("stat dir: dir=1 reg=0"), "{out}");
    assert!(
        out.contains("fstat file: dir=0 reg=1 size=8890 nlink=1"),
        "{out}"
    );
    assert!(
        out.contains("F_GETFL: accmode=0 nofollow=0 directory=0"),
        "{out}"
    );
    assert!(
        out.contains("open(file, O_DIRECTORY): Not a directory"),
        "{out}"
    );
    assert!(out.contains("open(dir, O_DIRECTORY): opened"), "{out}");
    assert!(
        out.contains("open(symlink, O_NOFOLLOW): Symbolic link loop"),
        "{out}"
    );
    assert!(out.contains("created mode=600"), "{out}");
}

#[test]
fn fenv_constants_agree() {
    let (_dir, base) = build_fixture("fenv");
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(
        out.contains("upward     set=0 get_ok=1 rint(2.5)=3.0 rint(-2.5)=-2.0"),
        "{out}"
    );
    assert!(
        out.contains("downward   set=0 get_ok=1 rint(2.5)=2.0 rint(-2.5)=-3.0"),
        "{out}"
    );
    assert!(out.contains("divbyzero=1"), "{out}");
    assert!(out.contains("after clear: divbyzero=0"), "{out}");
    assert!(out.contains("raised overflow=1"), "{out}");
}

#[test]
fn variadic_functions_and_va_list_to_libc() {
    let (_dir, base) = build_fixture("varargs");
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(out.contains("sum12=78"), "{out}");
    assert!(out.contains("mixed=1099511627790.750"), "{out}");
    assert!(out.contains("mixed_many=94.000"), "{out}");
    assert!(
        out.contains(
            "[34] x=42 y=3.14 s=str big=123456789012 | x=42 y=3.14 s=str big=123456789012"
        ),
        "{out}"
    );
    assert!(out.contains("0.900000 1.000000 | 1 2 3"), "{out}");
}

#[test]
fn long_double_is_quad_precision_on_both() {
    let (_dir, base) = build_fixture("long_double");
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(out.starts_with("268274.02335733274 "), "{out}");
    assert!(out.contains("quad: 1"), "{out}");
}

#[test]
fn function_pointers_to_libc_are_equal_on_both() {
    let (_dir, base) = build_fixture("fnptr_table");
    let r = same_on_both(&base, &[], b"");
    let out = String::from_utf8(r.stdout).unwrap();
    assert!(
        out.contains("fstat(0) through the table: 0, stdin is not a directory"),
        "{out}"
    );
    assert!(out.contains("sorted through the table: 1 2 3"), "{out}");
    assert!(
        out.lines().next().unwrap().starts_with("stat      0x1000"),
        "{out}"
    );
}

#[test]
fn thread_local_variables() {
    let (_dir, base) = build_fixture("tls");
    let r = same_on_both(&base, &[], b"");
    assert_eq!(
        String::from_utf8(r.stdout).unwrap(),
        "tls 499505 165814916\n"
    );
}
