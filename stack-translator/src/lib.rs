//! Reads and analyses the two executables of a migratable build: the
//! layout check ([`layout`]: every object both share at the same address),
//! the record check ([`records`]: both executables' live-value records
//! correspond), the certifier ([`certify`]: what every live register and
//! slot holds at each call site, decoded from the machine code of each ISA,
//! [`isa`]) and the frame table builder ([`frames`]). The formats these
//! read and write live in the `migrate-format` crate.

pub mod certify;
mod error;
pub mod frames;
pub mod isa;
pub mod layout;
pub mod machine;
pub mod records;
pub mod stackmaps;
pub mod translate;

pub use error::{Error, Result, StackMapError};

/// Gives memory the process has freed back to the system. glibc keeps
/// freed memory for reuse, per thread: after a large analysis (a big
/// function's certificate, a linked LLVM module) the process would stay at
/// its peak size while it does the next thing, on another thread.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it takes no
    // pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
