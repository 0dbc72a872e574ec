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
/// checkpoint refuse it. The child is also supervised: it is killed when
/// this process dies, however it dies (SIGKILL included), so a killed
/// `migrate run` or `migrate restore` leaves no program running on its own
/// (one that would later write over the image its user meant to keep).
pub fn migratable(cmd: &mut Command) {
    migratable_keeping(cmd, None);
}

/// [`migratable`], except that descriptor `keep` of this process is
/// descriptor 3 of the child ([`STANDBY_FD`]), where the child's runtime
/// waits for the image to restore (`migrate mtd`'s standby processes).
pub fn migratable_keeping(cmd: &mut Command, keep: Option<std::os::fd::RawFd>) {
    let supervisor = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls are made:
    // personality(2), dup2(2), close_range(2), prctl(2), getppid(2) and
    // kill(2); failures of personality and close_range are ignored.
    unsafe {
        cmd.pre_exec(move || {
            let persona = libc::personality(0xffff_ffff);
            if persona != -1 {
                libc::personality((persona | libc::ADDR_NO_RANDOMIZE) as libc::c_ulong);
            }
            let first_closed = match keep {
                Some(fd) => {
                    // dup2 leaves the copy without close-on-exec.
                    if libc::dup2(fd, STANDBY_FD) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    STANDBY_FD as u32 + 1
                }
                None => 3,
            };
            libc::syscall(libc::SYS_close_range, first_closed, u32::MAX, 0u32);
            // Kept across execve (the program is not set-user-ID). Then, if
            // the supervisor died before this line, nothing will send the
            // signal: go now.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != supervisor {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            Ok(())
        });
    }
}

/// The child's descriptor [`migratable_keeping`] keeps.
pub const STANDBY_FD: std::os::fd::RawFd = 3;

/// Starts `cmd` and waits for it: (its exit status, its process ID, which
/// names the temporary image file it may have left).
pub fn run_supervised(cmd: &mut Command) -> std::io::Result<(std::process::ExitStatus, u32)> {
    let mut child = cmd.spawn()?;
    let pid = child.id();
    Ok((child.wait()?, pid))
}

/// The exit code a shell would report for `status` (128 + N if killed by
/// signal N).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
