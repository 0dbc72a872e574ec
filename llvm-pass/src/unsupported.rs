//! Refuses IR that cannot run identically on both ISAs, naming file and line.
//!
//! The IR is produced once (for aarch64) and lowered for both ISAs. Some
//! constructs are tied to one ISA or to a libc ABI that differs between the
//! two musl builds; compiling them anyway would give a program that behaves
//! differently after a migration, so they are refused here, at build time.

use crate::ir::{self, LLVMTypeKind};
use inkwell::module::Module;
use std::fmt;

/// One refused construct, with where it is in the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 0 when the construct has no line (module-level asm, no debug info).
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: error: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: error: {}", self.file, self.message)
        }
    }
}

/// libc interfaces whose ABI differs between x86_64 and aarch64 musl and that
/// have no shim (see `isa::x64` for the ones that do), with the reason.
const REFUSED_LIBC: &[(&str, &str)] = &[
    (
        "syscall",
        "raw system call numbers differ between x86_64 and aarch64",
    ),
    (
        "fegetenv",
        "fenv_t differs between x86_64 (32 bytes) and aarch64 (8 bytes)",
    ),
    (
        "fesetenv",
        "fenv_t differs between x86_64 (32 bytes) and aarch64 (8 bytes)",
    ),
    (
        "feholdexcept",
        "fenv_t differs between x86_64 (32 bytes) and aarch64 (8 bytes)",
    ),
    (
        "feupdateenv",
        "fenv_t differs between x86_64 (32 bytes) and aarch64 (8 bytes)",
    ),
    ("epoll_ctl", "struct epoll_event is packed on x86_64 only"),
    ("epoll_wait", "struct epoll_event is packed on x86_64 only"),
    ("epoll_pwait", "struct epoll_event is packed on x86_64 only"),
    (
        "semctl",
        "struct semid_ds differs between x86_64 and aarch64",
    ),
    (
        "fegetexceptflag",
        "fexcept_t differs between x86_64 and aarch64",
    ),
    (
        "fesetexceptflag",
        "fexcept_t differs between x86_64 and aarch64",
    ),
    ("ptrace", "register sets differ between x86_64 and aarch64"),
];

/// printf/scanf-family functions and the index of their format argument.
const FORMAT_FUNCTIONS: &[(&str, usize)] = &[
    ("printf", 0),
    ("fprintf", 1),
    ("sprintf", 1),
    ("snprintf", 2),
    ("dprintf", 1),
    ("asprintf", 1),
    ("vprintf", 0),
    ("vfprintf", 1),
    ("vsprintf", 1),
    ("vsnprintf", 2),
    ("vdprintf", 1),
    ("vasprintf", 1),
    ("scanf", 0),
    ("fscanf", 1),
    ("sscanf", 1),
    ("vscanf", 0),
    ("vfscanf", 1),
    ("vsscanf", 1),
];

/// Every construct in `module` that cannot be built for both ISAs.
pub fn find_unsupported(module: &Module) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let source = ir::source_file(module);
    if !ir::module_asm(module).trim().is_empty() {
        found.push(Diagnostic {
            file: source.clone(),
            line: 0,
            message: "file-scope inline assembly is not supported: it is written for one ISA"
                .into(),
        });
    }
    for inst in ir::instructions(module) {
        if !ir::is_call(inst) {
            continue;
        }
        if let Some(message) = refusal(inst) {
            let (file, line) = ir::location(inst).unwrap_or_else(|| (source.clone(), 0));
            found.push(Diagnostic {
                file,
                line,
                message,
            });
        }
    }
    found
}

fn refusal(call: ir::Value) -> Option<String> {
    let callee_value = ir::called_value(call);
    if ir::is_inline_asm(callee_value) {
        return Some(
            "inline assembly is not supported: it is written for one ISA and the program runs on both"
                .into(),
        );
    }
    let callee = ir::direct_callee(call)?;
    let name = ir::name(callee);
    if name.starts_with("llvm.aarch64.") || name.starts_with("llvm.arm.") {
        return Some(format!(
            "target-specific builtin `{name}` is not supported: x86_64 has no equivalent"
        ));
    }
    let (ret, fixed, variadic) = ir::call_signature(call);
    let args = ir::call_args(call);
    let fp128 = |t| ir::type_kind(t) == LLVMTypeKind::LLVMFP128TypeKind;
    let has_fp128 = fp128(ret) || args.iter().any(|a| fp128(ir::type_of(*a)));
    if let Some(op) = name.strip_prefix("llvm.") {
        // Math intrinsics on long double become libm calls (sqrtl, ...), and
        // libm's long double is not the IR's on x86_64. Bit operations are fine.
        let bitwise = ["fabs.", "copysign.", "dbg.", "lifetime.", "is.fpclass."];
        if has_fp128 && !bitwise.iter().any(|b| op.starts_with(b)) {
            return Some(format!(
                "long double math (`{name}`) is not supported: it calls libm, whose long double \
                 is 80-bit on x86_64 and quad precision on aarch64"
            ));
        }
        return None;
    }
    let variadic_args = &args[fixed.min(args.len())..];
    if variadic && !ir::is_declaration(callee) && variadic_args.iter().any(|a| is_aggregate(*a)) {
        return Some(format!(
            "a struct or array passed through `...` to `{name}` is not supported: \
             x86_64 and aarch64 split aggregates between registers and stack differently"
        ));
    }
    if !ir::is_declaration(callee) {
        return None;
    }
    // From here on the callee lives in libc (or another non-bitcode library).
    if let Some((_, why)) = REFUSED_LIBC.iter().find(|(n, _)| *n == name) {
        return Some(format!("`{name}` is not supported: {why}"));
    }
    if has_fp128 {
        return Some(format!(
            "long double passed to libc function `{name}` is not supported: \
             x86_64 musl uses 80-bit long double, aarch64 IEEE quad precision"
        ));
    }
    if let Some((_, idx)) = FORMAT_FUNCTIONS.iter().find(|(n, _)| *n == name) {
        if let Some(fmt) = args.get(*idx).and_then(|a| ir::constant_string(*a)) {
            if format_uses_long_double(&fmt) {
                return Some(format!(
                    "long double conversion (%L) in the format of `{name}` is not supported: \
                     x86_64 musl uses 80-bit long double, aarch64 IEEE quad precision"
                ));
            }
        }
    }
    None
}

fn is_aggregate(v: ir::Value) -> bool {
    matches!(
        ir::type_kind(ir::type_of(v)),
        LLVMTypeKind::LLVMStructTypeKind | LLVMTypeKind::LLVMArrayTypeKind
    )
}

/// True if a printf/scanf format has a conversion with the `L` length modifier.
pub fn format_uses_long_double(fmt: &[u8]) -> bool {
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        while i < fmt.len() && b"0123456789.*-+ #'$".contains(&fmt[i]) {
            i += 1;
        }
        while i < fmt.len() && b"hljztqL".contains(&fmt[i]) {
            if fmt[i] == b'L' || fmt[i] == b'q' {
                return true;
            }
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::format_uses_long_double;

    #[test]
    fn finds_long_double_conversions() {
        assert!(format_uses_long_double(b"x=%Lf\n"));
        assert!(format_uses_long_double(b"%-10.3Lg"));
        assert!(!format_uses_long_double(b"%ld %lld %zu %5.2f %%Lf"));
        assert!(!format_uses_long_double(b"plain"));
    }
}
