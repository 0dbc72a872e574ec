//! Inputs that cannot run identically on both ISAs: a clear error naming
//! file and line, a non-zero exit, and no outputs left behind.

use crate::common::*;

fn refused(name: &str, expected: &[&str]) {
    let dir = tempdir();
    let src = fixture(&format!("unsupported/{name}.c"));
    let stderr = cc_fails(dir.path(), &["-O2", "-o", "prog", src.to_str().unwrap()]);
    for e in expected {
        assert!(stderr.contains(e), "{name}: expected {e:?} in:\n{stderr}");
    }
    assert!(
        files_in(dir.path()).is_empty(),
        "{name}: outputs left behind: {:?}",
        files_in(dir.path())
    );
    // The same refusal at -c time, leaving no object.
    let stderr = cc_fails(dir.path(), &["-O2", "-c", src.to_str().unwrap()]);
    assert!(stderr.contains(expected[0]), "{name} -c: {stderr}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{name} -c: outputs left behind"
    );
}

#[test]
fn inline_asm() {
    refused(
        "inline_asm",
        &["inline_asm.c:4: error: inline assembly is not supported"],
    );
}

#[test]
fn aarch64_target_builtin() {
    refused(
        "neon_builtin",
        &["neon_builtin.c:5: error: target-specific builtin `llvm.aarch64.neon"],
    );
}

#[test]
fn x86_target_builtin() {
    refused(
        "x86_builtin",
        &["x86_builtin.c:3:9: error: use of unknown builtin '__builtin_ia32_rdtsc'"],
    );
}

#[test]
fn long_double_to_printf() {
    refused(
        "long_double_printf",
        &["long_double_printf.c:5: error: long double passed to libc function `printf`"],
    );
}

#[test]
fn long_double_math() {
    refused(
        "long_double_libc",
        &["long_double_libc.c:6: error: long double math (`llvm.sqrt.f128`)"],
    );
}

#[test]
fn raw_syscall() {
    refused(
        "syscall",
        &["syscall.c:5: error: `syscall` is not supported: raw system call numbers differ"],
    );
}

#[test]
fn struct_through_varargs() {
    refused(
        "struct_varargs",
        &["struct_varargs.c:14: error: a struct or array passed through `...` to `first`"],
    );
}

#[test]
fn syntax_error() {
    refused(
        "syntax_error",
        &["syntax_error.c:3:10: error: expected ';' after return statement"],
    );
}

#[test]
fn missing_main_is_a_link_error() {
    let dir = tempdir();
    std::fs::write(dir.path().join("lib.c"), "int f(void) { return 1; }\n").unwrap();
    let stderr = cc_fails(dir.path(), &["-o", "prog", "lib.c"]);
    assert!(stderr.contains("undefined symbol: main"), "{stderr}");
    assert!(files_in(dir.path()).iter().all(|(n, _)| n == "lib.c"));
}
