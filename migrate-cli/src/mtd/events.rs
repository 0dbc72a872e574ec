//! landmark-rt's timing events (LANDMARK_TIMING) as they come: the path
//! `migrate mtd` gives the runtime is a FIFO read here, so that a move
//! starts as soon as the runtime says the image is complete, while the
//! checkpointed process is still being torn down (its exit, a millisecond
//! or more for a large program, is off the move's critical path).

use anyhow::{Context, Result};
use migrate_format::reports::TimingEvent;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The FIFO and what was read of it.
pub struct Events {
    path: PathBuf,
    /// Open for reading and writing: never end of file, never blocks.
    fifo: File,
    /// Bytes of a line not yet complete.
    partial: Vec<u8>,
}

/// When to watch for an event without sleeping (CLOCK_MONOTONIC ns): from
/// `from` until `until`, the wait reads the FIFO in a loop instead of
/// sleeping in poll. Waking a sleeping process costs 0.1 ms here, and
/// a millisecond or more when the hypervisor has descheduled the idle
/// core; a move's hand-over waits for exactly that wake-up. Spinning
/// costs a core that is otherwise idle: the program runs on another,
/// and [`Events::wait`] spins only around the moment a checkpoint is due.
#[derive(Debug, Clone, Copy)]
pub struct Spin {
    pub from: u64,
    pub until: u64,
}

/// How a wait for an event of a leg ended.
pub enum Waited {
    /// The event came (for a checkpoint: the image is written and the
    /// process is ending).
    Event(TimingEvent),
    /// The process ended without it.
    Exited,
}

impl Events {
    /// A FIFO named `timing` in `dir`.
    pub fn new(dir: &Path) -> Result<Events> {
        let path = dir.join("timing");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())?;
        // SAFETY: a NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot create a FIFO at {}", path.display()));
        }
        let fifo = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Events {
            path,
            fifo,
            partial: Vec::new(),
        })
    }

    /// The path to give the runtime.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the events that have come into `into`.
    fn drain(&mut self, into: &mut Vec<TimingEvent>) -> Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match self.fifo.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("cannot read landmark-rt's timing events"),
            }
        }
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            if let Ok(event) = serde_json::from_slice(&line) {
                into.push(event);
            }
        }
        Ok(())
    }

    /// Waits until process `pid` (a child of this process, not yet reaped)
    /// has sent event `name` ("restore", "checkpoint"), or has ended; every
    /// event that came is added to `into`, and one already there counts.
    /// During `spin`, if given, without sleeping.
    pub fn wait(
        &mut self,
        pid: u32,
        name: &str,
        into: &mut Vec<TimingEvent>,
        spin: Option<Spin>,
    ) -> Result<Waited> {
        let pidfd = pidfd_open(pid)?;
        loop {
            self.drain(into)?;
            if let Some(c) = into.iter().find(|e| e.event == name) {
                return Ok(Waited::Event(c.clone()));
            }
            // Sleep until the spin begins, not sleep during it, sleep after.
            let timeout = match spin {
                Some(s) => {
                    let now = super::now_ns();
                    if now < s.from {
                        Some(s.from - now)
                    } else if now < s.until {
                        std::hint::spin_loop();
                        Some(0)
                    } else {
                        None
                    }
                }
                None => None,
            };
            let mut fds = [
                libc::pollfd {
                    fd: self.fifo.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: pidfd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let ts = timeout.map(|ns| libc::timespec {
                tv_sec: (ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (ns % 1_000_000_000) as libc::c_long,
            });
            let ts_ptr = ts
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: two pollfds, as many as given; a timespec or null.
            let n = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, ts_ptr, std::ptr::null()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e).context("cannot wait for the program");
            }
            if fds[1].revents != 0 {
                // Gone: what it wrote before it went is in the FIFO.
                self.drain(into)?;
                return Ok(match into.iter().find(|e| e.event == name) {
                    Some(c) => Waited::Event(c.clone()),
                    None => Waited::Exited,
                });
            }
        }
    }
}

/// A descriptor that polls readable once process `pid` has ended.
fn pidfd_open(pid: u32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a process ID and flags.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error())
            .context("cannot watch the program (pidfd_open)");
    }
    // SAFETY: a new descriptor, owned here alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
