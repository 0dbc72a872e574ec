//! Redirects the program's calls to libc functions whose ABI differs between
//! the ISAs to `__mig_*` shims in landmark-rt.
//!
//! Done once on the shared module, so both executables call the shim: on
//! x86_64 it converts (`landmark-rt/arch/x86_64/`), on aarch64 it forwards
//! (`arch/aarch64/`). Because both executables have the shim at the same
//! address, a pointer to one of these functions stored in memory (SQLite keeps
//! `stat`, `fstat` and `fcntl` in a table) stays valid after a migration.

use inkwell::module::Module;

/// The redirected libc functions.
pub const SHIMMED_LIBC: &[&str] = &[
    // struct stat layout differs.
    "stat",
    "fstat",
    "lstat",
    "fstatat",
    // O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE, O_TMPFILE values differ.
    "open",
    "openat",
    "fcntl",
    // FE_* exception and rounding-mode values differ.
    "feclearexcept",
    "feraiseexcept",
    "fetestexcept",
    "fegetround",
    "fesetround",
    // These take a va_list, which the program holds in the AAPCS64 layout.
    "vprintf",
    "vfprintf",
    "vsprintf",
    "vsnprintf",
    "vdprintf",
    "vasprintf",
    "vscanf",
    "vfscanf",
    "vsscanf",
    "vsyslog",
    "verr",
    "verrx",
    "vwarn",
    "vwarnx",
];

/// Renames the declarations of [`SHIMMED_LIBC`] functions to `__mig_NAME`;
/// every use (calls and address-taken references) follows.
pub fn redirect(module: &Module) {
    for name in SHIMMED_LIBC {
        if let Some(f) = module.get_function(name) {
            if f.count_basic_blocks() == 0 {
                f.as_global_value().set_name(&format!("__mig_{name}"));
            }
        }
    }
}
