//! Starting a migratable program: what `migrate run` and `migrate restore`
//! do to the child before it executes.

use crate::isa::Toolchain;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The command that runs `exe`, an executable for `t`: the file itself, or
/// its runner (qemu-aarch64) with the file as first argument.
pub fn command(t: &dyn Toolchain, exe: &Path) -> Command {
    match t.runner() {
        Some(runner) => {
            let mut c = Command::new(runner);
            c.arg(exe);
            c
        }
        None => Command::new(exe),
    }
}

/// Makes `cmd`'s child migratable from its first instruction: address
/// randomization off (so landmark-rt need not re-execute it, and the heap
/// break is where the image expects it), and only stdin, stdout and stderr
/// open: a descriptor the program did not open itself (one this process
/// inherited, say a pipe from a CI runner) would otherwise make every
/// checkpoint refuse it.
pub fn migratable(cmd: &mut Command) {
    // SAFETY: between fork and exec only async-signal-safe calls are made:
    // personality(2) and close_range(2), whose failures are ignored.
    unsafe {
        cmd.pre_exec(|| {
            let persona = libc::personality(0xffff_ffff);
            if persona != -1 {
                libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong);
            }
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
}

/// The exit code a shell would report for `status` (128 + N if killed by
/// signal N).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
