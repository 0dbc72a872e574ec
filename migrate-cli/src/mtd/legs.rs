//! The processes of `migrate mtd`'s legs. Each leg is one process; the one
//! for the next leg is started while the current leg runs (a standby: it
//! waits inside landmark-rt for the path of the image to restore,
//! LANDMARK_RESTORE_FROM_FD), so that process creation, exec and qemu-user's
//! start-up are not on a move's critical path.

use super::schedule::Schedule;
use super::Start;
use crate::checkpoint::{Pending, Request};
use crate::translate::Build;
use crate::{isa, process};
use anyhow::{Context, Result};
use migrate_format::{env, Arch, PerArch};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};

/// A leg's process, running.
pub struct LegProcess {
    child: Child,
    pub request: Request,
    pub pending: Pending,
    /// When it was started (or woken, for a standby).
    pub spawned: u64,
}

impl LegProcess {
    /// True once the process has ended (reaped now if it just has).
    pub fn reaped(&mut self) -> bool {
        self.child.try_wait().map_or(true, |s| s.is_some())
    }

    /// Its process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end: its status and process ID.
    pub fn wait(mut self) -> Result<(ExitStatus, u32, Request, Pending)> {
        let status = self.child.wait()?;
        Ok((status, self.child.id(), self.request, self.pending))
    }
}

/// A process started ahead of its leg, waiting for an image.
struct Standby {
    arch: Arch,
    leg: usize,
    child: Child,
    /// The write end of the pipe it waits on.
    pipe: std::fs::File,
    pending: Pending,
}

impl Standby {
    /// Lets it go without an image: it exits 0 at end of file.
    fn dismiss(self) {
        let Standby {
            pipe, mut child, ..
        } = self;
        drop(pipe);
        let _ = child.wait();
    }
}

/// Starts the legs' processes.
pub struct Launcher<'a> {
    build: &'a Build,
    args: &'a [String],
    dir: PathBuf,
    timing: PathBuf,
    schedule: Schedule,
    /// Each leg's checkpoint request, drawn in leg order (the schedule's
    /// periods follow the seed whatever was started ahead).
    requests: Vec<Request>,
    standby: Option<Standby>,
    /// Whether each ISA's executable has a runtime that can wait as a
    /// standby process (one built before could not: it would run the
    /// program from its start).
    can_stand_by: PerArch<bool>,
}

/// The run's image, in the run's directory.
pub const IMAGE: &str = "image.core";

/// A function of landmark-rt's as old as the standby mode.
const STANDBY_SYMBOL: &str = "landmark_restoring";

impl<'a> Launcher<'a> {
    pub fn new(
        build: &'a Build,
        args: &'a [String],
        dir: &Path,
        timing: &Path,
        schedule: Schedule,
    ) -> Launcher<'a> {
        Launcher {
            build,
            args,
            dir: dir.to_path_buf(),
            timing: timing.to_path_buf(),
            schedule,
            requests: Vec::new(),
            standby: None,
            can_stand_by: PerArch::new(|arch| build.defines(arch, STANDBY_SYMBOL)),
        }
    }

    /// Leg `k`'s request: a checkpoint when its period has passed, to
    /// the run's one image file, in place (each leg is restored from that
    /// file and writes back only the memory it changed).
    fn request(&mut self, k: usize) -> Request {
        while self.requests.len() <= k {
            self.requests.push(Request {
                at_hit: None,
                after: Some(self.schedule.next_period()),
                image: self.dir.join(IMAGE),
                keep_running: false,
                quiet: true,
                in_place: true,
            });
        }
        self.requests[k].clone()
    }

    /// The command for a leg on `arch`, with its request applied.
    fn command(&mut self, k: usize, arch: Arch) -> Result<(Command, Request, Pending)> {
        let mut cmd = process::command(isa::of(arch), self.build.path(arch));
        cmd.env(env::TIMING, &self.timing);
        let request = self.request(k);
        let pending = request.apply(&mut cmd)?;
        Ok((cmd, request, pending))
    }

    /// Starts leg `k` on `arch`, fresh or from an image (through the
    /// standby process if one waits for this leg there). The standby for
    /// the next leg is [`Launcher::stand_by`]'s.
    pub fn start(&mut self, k: usize, arch: Arch, start: &Start) -> Result<LegProcess> {
        let standby = self.standby.take();
        let leg = match (start, standby) {
            (Start::Restore(image), Some(s)) if s.arch == arch && s.leg == k => {
                let Standby {
                    mut pipe,
                    child,
                    mut pending,
                    ..
                } = s;
                let request = self.request(k);
                // The image was written since the process started.
                pending.rebase(&request);
                let spawned = super::now_ns();
                let line = format!("{}\n", image.display());
                pipe.write_all(line.as_bytes())
                    .context("cannot hand the image to the standby process")?;
                drop(pipe);
                LegProcess {
                    child,
                    request,
                    pending,
                    spawned,
                }
            }
            (start, standby) => {
                if let Some(s) = standby {
                    s.dismiss();
                }
                let (mut cmd, request, pending) = self.command(k, arch)?;
                match start {
                    Start::Fresh => {
                        cmd.args(self.args);
                    }
                    Start::Restore(image) => {
                        cmd.env(env::RESTORE, image);
                    }
                }
                process::migratable(&mut cmd);
                let spawned = super::now_ns();
                let child = cmd
                    .spawn()
                    .with_context(|| format!("cannot start {}", crate::tools::describe(&cmd)))?;
                LegProcess {
                    child,
                    request,
                    pending,
                    spawned,
                }
            }
        };
        Ok(leg)
    }

    /// Starts the process for leg `k` on `arch`, to wait for its image (if
    /// that executable's runtime can). Called once the current leg's
    /// program runs: spawning (fork, exec, qemu-user's start-up) costs
    /// milliseconds of a core, which a move's restore should not share.
    pub fn stand_by(&mut self, k: usize, arch: Arch) -> Result<()> {
        if self.can_stand_by[arch] && self.standby.is_none() {
            self.standby = Some(self.start_standby(k, arch)?);
        }
        Ok(())
    }

    /// A process for leg `k` on `arch`, waiting for its image.
    fn start_standby(&mut self, k: usize, arch: Arch) -> Result<Standby> {
        let (mut cmd, _, pending) = self.command(k, arch)?;
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into the array it is given.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error()).context("cannot create a pipe");
        }
        // SAFETY: both descriptors are new and owned here alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        cmd.env(env::RESTORE_FROM_FD, process::STANDBY_FD.to_string());
        process::migratable_keeping(&mut cmd, Some(read.as_raw_fd()));
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", crate::tools::describe(&cmd)))?;
        drop(read);
        Ok(Standby {
            arch,
            leg: k,
            child,
            pipe: std::fs::File::from(write),
            pending,
        })
    }
}

impl Drop for Launcher<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.standby.take() {
            s.dismiss();
        }
    }
}
