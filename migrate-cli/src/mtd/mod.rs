//! `migrate mtd`: moving-target defense. Runs a program and moves it to
//! the other ISA every period (randomized within a jitter, reproducible
//! from a seed) until it exits, with its stdin, stdout, stderr and exit
//! code as if it never moved; measures where the time went.
//!
//! Each leg is one process: landmark-rt's timer asks for a checkpoint when
//! the leg's period has passed, the checkpoint is taken at the next
//! landmark where every frame is at a migratable call site, the runtime
//! says the image is complete (`events.rs`) and the process ends, while
//! `migrate` translates the image in-process (both executables read once
//! for the whole run) and hands it to the other ISA's process, started
//! while the leg ran and waiting in landmark-rt for it (`legs.rs`).
//!
//! The run has one image file: each leg's memory is mapped from it, and
//! each checkpoint and translation writes into it only what changed
//! (LANDMARK_IN_PLACE; landmark-rt's `image.c`), so a move costs what the
//! program wrote in its leg, not what it holds.
//!
//! landmark-rt reports each checkpoint and restore with CLOCK_MONOTONIC
//! timestamps (LANDMARK_TIMING), the clock read here, so the latency
//! splits into checkpoint, hand-over, translate, start-up and restore.

mod events;
mod legs;
pub mod plot;
pub mod report;
pub mod schedule;

use crate::process;
use crate::translate::{translate_in_place, Build, Moved};
use anyhow::{bail, Context, Result};
use migrate_format::image::Image;
use migrate_format::Arch;
use report::{Deferrals, Leg, MoveTiming, Report, TimeOn};
use stack_translator::translate::image::Side;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long before a checkpoint is due `migrate mtd` stops sleeping to
/// wait for it ([`events::Spin`]), and how long after it goes back to
/// sleep: a native checkpoint of a few MiB written takes about a
/// millisecond; one that takes longer (emulated, a large write, a move
/// deferred to a later landmark) is waited for asleep.
const SPIN_BEFORE_NS: u64 = 300_000;
const SPIN_AFTER_NS: u64 = 2_000_000;

/// What `migrate mtd` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The build's base name (BASE.x86_64, BASE.aarch64).
    pub base: PathBuf,
    pub args: Vec<String>,
    pub period: Duration,
    /// 0..=1: each period is drawn from period × (1 ± jitter).
    pub jitter: f64,
    pub seed: u64,
    /// The ISA the program starts on.
    pub start: Arch,
    /// Print a progress line on stderr after each move.
    pub progress: bool,
}

/// CLOCK_MONOTONIC in ns, the clock landmark-rt stamps its events with.
pub(crate) fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Where the images go: memory-backed if the machine has /dev/shm (an image
/// lives for one move; it need never reach a disk).
fn image_directory() -> Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new().prefix("migrate-mtd-").clone();
    if shm.is_dir() {
        if let Ok(dir) = builder.tempdir_in(shm) {
            return Ok(dir);
        }
    }
    builder
        .tempdir()
        .context("cannot create a temporary directory")
}

/// How the program is started for a leg: fresh, or restored from an image.
pub(crate) enum Start {
    Fresh,
    Restore(PathBuf),
}

/// Runs the program under moving-target defense; returns the report (its
/// `exit_code` is the program's). `on_move` is called after each move with
/// the report so far (for a progress line).
pub fn mtd(o: &Options, mut on_move: impl FnMut(&Report)) -> Result<Report> {
    let build = Build::load(&o.base)?;
    let sides = build.sides()?;
    // The image file is translated again and again: what a scan of its
    // memory found is kept, and only pages written since are read again.
    let all: Vec<&Side> = sides.iter().map(|(_, s)| s).collect();
    Side::keep_scans(&all);
    let dir = image_directory()?;
    let mut timing = events::Events::new(dir.path())?;
    let schedule = schedule::Schedule::new(o.period, o.jitter, o.seed);
    let mut report = Report {
        program: o.base.display().to_string(),
        args: o.args.clone(),
        seed: o.seed,
        period_ms: o.period.as_secs_f64() * 1e3,
        jitter: o.jitter,
        start: o.start,
        exit_code: 0,
        wall_s: 0.0,
        migrations: 0,
        refusals: 0,
        time_on: TimeOn::default(),
        migrating_s: 0.0,
        migrating_fraction: 0.0,
        deferrals: Deferrals::default(),
        legs: Vec::new(),
        moves: Vec::new(),
        unfinished: None,
    };
    // The program's start: the first leg's spawn.
    let mut t0 = 0;
    let secs = |t0: u64, t: u64| t.saturating_sub(t0) as f64 / 1e9;
    let mut here = o.start;
    let mut start = Start::Fresh;
    // The move whose restore the next leg's events complete, and when its
    // translation (or refusal) was done.
    let mut open_move: Option<(MoveTiming, u64)> = None;
    let mut launcher = legs::Launcher::new(&build, &o.args, dir.path(), timing.path(), schedule);
    // The processes of earlier legs, checkpointed and ending (at the
    // lowest scheduling class: reaped when they are gone, never waited
    // for while a leg runs).
    let mut ending: Vec<legs::LegProcess> = Vec::new();
    for k in 0.. {
        let leg = launcher.start(k, here, &start)?;
        ending.retain_mut(|p| !p.reaped());
        let spawned = leg.spawned;
        if k == 0 {
            t0 = spawned;
        }
        let mut events = Vec::new();
        // The next leg's process is started once this leg's program runs.
        if matches!(start, Start::Restore(_)) {
            timing.wait(leg.pid(), "restore", &mut events, None)?;
        }
        launcher.stand_by(k + 1, here.other())?;
        // The runtime's timer starts when the restore ends (a fresh
        // program's, at its start): the checkpoint is due a period later.
        let armed = events
            .iter()
            .find(|e| e.event == "restore")
            .map_or(spawned, |r| r.start + r.ns);
        let spin = leg.request.after.map(|period| {
            // In whole milliseconds, as the runtime is told it.
            let due = armed + period.as_millis().max(1) as u64 * 1_000_000;
            events::Spin {
                from: due.saturating_sub(SPIN_BEFORE_NS),
                until: due + SPIN_AFTER_NS,
            }
        });
        let waited = timing.wait(leg.pid(), "checkpoint", &mut events, spin)?;
        let noticed = now_ns();
        let request = leg.request.clone();
        let (checkpoint, ended) = match waited {
            events::Waited::Event(c) => {
                ending.push(leg);
                (Some(c), None)
            }
            events::Waited::Exited => {
                let (status, pid, request, pending) = leg.wait()?;
                (None, Some((status, pid, request, pending)))
            }
        };
        let event = |name: &str| events.iter().find(|e| e.event == name);
        // When the program ran its own code again in this leg.
        let resumed = match open_move.take() {
            None => spawned,
            Some((mut m, ready)) => {
                let Some(r) = event("restore") else {
                    let code = ended.as_ref().map_or(0, |e| process::exit_code(e.0));
                    bail!(
                        "the program did not resume on {here} after the move at {:.3} s (exit \
                         code {code}; landmark-rt's reason is above)",
                        m.at_s
                    );
                };
                m.startup_ms = ms(r.start.saturating_sub(ready));
                m.restore_ms = ms(r.ns);
                let resumed = r.start + r.ns;
                m.total_ms = ms(resumed.saturating_sub(t0 + (m.at_s * 1e9) as u64));
                report.migrating_s += m.total_ms / 1e3;
                report.moves.push(m);
                resumed
            }
        };
        let Some(c) = checkpoint else {
            // The program ended in this leg.
            let (status, pid, request, pending) = ended.expect("ended when no checkpoint");
            report.legs.push(Leg {
                arch: here,
                start_s: secs(t0, resumed),
                end_s: secs(t0, noticed),
            });
            report.exit_code = process::exit_code(status);
            if pending.written(&request, pid) {
                bail!("landmark-rt wrote an image but no timing for it");
            }
            if let Some(r) = pending.runtime_report() {
                if r.failed != 0 {
                    report.unfinished =
                        Some("the last checkpoint failed (landmark-rt's reason is above)".into());
                } else if r.reached != 0 {
                    report.unfinished = Some(format!(
                        "a move was due, and {} landmark hits later the program ended without \
                         reaching one where every frame is at a migratable call site",
                        r.waited
                    ));
                }
            }
            break;
        };
        report.legs.push(Leg {
            arch: here,
            start_s: secs(t0, resumed),
            end_s: secs(t0, c.start),
        });
        let to = here.other();
        let mut m = MoveTiming {
            from: here,
            to,
            at_s: secs(t0, c.start),
            refused: None,
            deferred_hits: c.waited,
            deferred_ms: if c.wanted > 0 {
                ms(c.start.saturating_sub(c.wanted))
            } else {
                0.0
            },
            checkpoint_ms: ms(c.ns),
            handover_ms: ms(noticed.saturating_sub(c.start + c.ns)),
            translate_ms: 0.0,
            startup_ms: 0.0,
            restore_ms: 0.0,
            total_ms: 0.0,
            image_bytes: c.bytes.unwrap_or(0),
        };
        if m.deferred_hits > 0 {
            report.deferrals.moves += 1;
            report.deferrals.hits += m.deferred_hits;
            report.deferrals.ms += m.deferred_ms;
        }
        // The one image file of the run: the program's memory is mapped
        // from it, and each checkpoint and translation writes into it only
        // what changed.
        let image = Image::read(&request.image)?;
        let moved = translate_in_place(&image, &request.image, &sides[here], &sides[to])
            .with_context(|| {
                format!(
                    "the move to {to} at {:.3} s failed part way; the program's state is lost",
                    m.at_s
                )
            })?;
        drop(image);
        start = Start::Restore(request.image.clone());
        match moved {
            Moved::Written(_) => {
                here = to;
                report.migrations += 1;
            }
            Moved::Refused(e) => {
                // The program goes on where it was, from the same image.
                // The reason without the temporary image's name.
                let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
                m.refused = Some(if causes.is_empty() {
                    format!("{e:#}")
                } else {
                    causes.join(": ")
                });
                report.refusals += 1;
            }
        }
        let ready = now_ns();
        // From the image noticed to the translated one ready: every part
        // follows the one before without a gap, so they add up to the total.
        m.translate_ms = ms(ready.saturating_sub(noticed));
        open_move = Some((m, ready));
        report.wall_s = secs(t0, ready);
        on_move(&report);
    }
    for p in ending {
        p.wait()?;
    }
    let end = report.legs.last().map_or(0.0, |l| l.end_s);
    report.wall_s = end;
    for leg in &report.legs {
        report.time_on.add(leg.arch, leg.end_s - leg.start_s);
    }
    report.migrating_fraction = if end > 0.0 {
        report.migrating_s / end
    } else {
        0.0
    };
    Ok(report)
}

/// The progress line: migrations so far, the ISA the program is on, the
/// time since it started.
pub fn progress_line(r: &Report) -> String {
    let here = r
        .moves
        .last()
        .map_or(r.start, |m| if m.refused.is_none() { m.to } else { m.from });
    format!(
        "migrate mtd: {} migrations, on {here}, {:.1} s",
        r.migrations, r.wall_s
    )
}

/// `migrate mtd` as the command runs it: the run, a progress line on
/// stderr if asked, the table at the end (unless `quiet`), the report and
/// plot files; returns the program's exit code.
pub fn command(o: &Options, quiet: bool, json: Option<&Path>, svg: Option<&Path>) -> Result<i32> {
    let mut stderr = std::io::stderr();
    let report = mtd(o, |r| {
        if o.progress {
            let _ = write!(stderr, "\r\x1b[K{}", progress_line(r));
        }
    })?;
    if o.progress {
        let _ = write!(stderr, "\r\x1b[K");
    }
    if !quiet {
        eprint!("{}", report::render(&report));
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report)? + "\n";
        write_atomically(path, text.as_bytes())?;
    }
    if let Some(path) = svg {
        write_atomically(path, plot::svg(&report)?.as_bytes())?;
    }
    Ok(report.exit_code)
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory: an error leaves nothing half-written there.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    tmp.write_all(bytes)?;
    // A report, not a secret: readable as files the user writes are.
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
