//! Crashes during a large checkpoint (issue 12, item 5): `kill -9` of the
//! program, and of the `migrate run` that supervises it, at seeded points
//! while the program writes the image of a large heap. What must hold after
//! each kill (landmark-rt/src/image.c, migrate-cli/src/checkpoint.rs and
//! process.rs):
//! - the image's directory holds the image and nothing else, and the image
//!   is the one there before, byte for byte, or a complete new one (it
//!   reads, and every saved byte of memory matches its checksum; one of
//!   them is restored to the uninterrupted run's output). A temporary
//!   `IMAGE.tmp.PID` is a failure after a killed program (its `migrate`
//!   removes it); after a killed `migrate` it may be left, from the instant
//!   between naming it and renaming it, and the next `migrate run` must
//!   remove it;
//! - a killed `migrate` takes its program with it: no process of the
//!   executable runs on.
//!
//! The fixture (tests/fixtures/checkpoint/bigheap.c) prints `filled PID`
//! once its heap is full, right before it asks for the checkpoint. Two
//! uninterrupted checkpoints measure how long it takes from that line until
//! the new image is in place; the kill points are seeded fractions (a
//! fixed-seed LCG, one point in each equal slice of 0-120%) of that time,
//! counted from the line. Before each kill the directory holds the known
//! old image (a copy of it is kept in another directory to compare with).
//! At least one kill of each kind must land while the image file is open
//! in the program (seen in /proc/PID/fd just before the kill), or the test
//! would have checked nothing but finished runs.

use crate::common::*;
use migrate_format::image::Image;
use migrate_format::reports::TimingEvent;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The kill points' seed: the same points, as fractions, on every run.
const SEED: u64 = 0x1251_2005;
/// Kills of the program, and of `migrate run`, per ISA.
const PROGRAM_KILLS: usize = 8;
const MIGRATE_KILLS: usize = 5;
/// The last kill point, as a fraction of the measured checkpoint time.
const LAST_POINT: f64 = 1.2;
/// Longer than anything here should take, even on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn kill_9_during_a_large_checkpoint_x86_64() {
    crash_during_checkpoint("x86_64", 256);
}

#[test]
fn kill_9_during_a_large_checkpoint_aarch64() {
    crash_during_checkpoint("aarch64", 64);
}

/// A 64-bit LCG (Knuth's MMIX constants): numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` kill points, one at a seeded place in each of `n` equal slices of
/// [0, LAST_POINT).
/// Kill points in batches of [`kill_points`]: one more batch (up to
/// [`BATCHES`]) while no kill so far landed in the writing, so that a
/// loaded machine, whose writing takes longer or shorter than measured,
/// still tests what it must. The later batches aim: each kill waits for
/// the program to have the image open, then for its point's share of the
/// measured writing time.
struct Points {
    per_batch: usize,
    batches: usize,
    left: Vec<f64>,
    /// The point last given out.
    last: Option<f64>,
}

/// At most this many batches of kill points.
const BATCHES: usize = 3;

impl Points {
    fn new(per_batch: usize) -> Points {
        Points {
            per_batch,
            batches: 0,
            left: Vec::new(),
            last: None,
        }
    }

    fn next(&mut self, rng: &mut Lcg, kills: &[Kill]) -> Option<f64> {
        if self.left.is_empty() {
            let landed = kills.iter().any(|k| k.writing && k.outcome == Outcome::Old);
            if self.batches == BATCHES || (self.batches > 0 && landed) {
                return None;
            }
            self.left = kill_points(rng, self.per_batch);
            self.left.reverse();
            self.batches += 1;
        }
        self.last = self.left.pop();
        self.last
    }

    /// Waits for the moment to kill at: `at` in the first batch; in later
    /// ones, the program `pid` having a file in `dir` open (or a while
    /// passing), then `point` × `measured` / [`LAST_POINT`] more.
    fn wait(&self, at: Instant, pid: u32, dir: &Path, measured: Duration) {
        if self.batches <= 1 {
            sleep_until(at);
            return;
        }
        let give_up = Instant::now() + measured * 4 + Duration::from_secs(2);
        while !has_file_open_in(pid, dir) && Instant::now() < give_up {
            std::thread::sleep(Duration::from_micros(100));
        }
        let share = self.last.unwrap_or(0.0) / LAST_POINT;
        sleep_until(Instant::now() + measured.mul_f64(share * 0.5));
    }
}

fn kill_points(rng: &mut Lcg, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (i as f64 + rng.next()) / n as f64 * LAST_POINT)
        .collect()
}

/// A process, by PID and start time, so that a reused PID is not taken
/// for it.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: u32,
    start: u64,
}

/// (state, parent PID, start time) from /proc/PID/stat.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After "PID (comm)": field 3 (state), 4 (ppid), ... 22 (starttime).
    let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
    Some((
        fields.first()?.chars().next()?,
        fields.get(1)?.parse().ok()?,
        fields.get(19)?.parse().ok()?,
    ))
}

impl Proc {
    fn of(pid: u32) -> Option<Proc> {
        stat(pid).map(|(_, _, start)| Proc { pid, start })
    }

    /// Still running: there, and neither a zombie nor dead.
    fn running(&self) -> bool {
        matches!(stat(self.pid), Some((s, _, start)) if start == self.start && s != 'Z' && s != 'X')
    }

    /// SIGKILL, if it still runs; returns whether it was sent.
    fn kill(&self) -> bool {
        // SAFETY: kill(2) of a process this test started (checked by start
        // time just before).
        self.running() && unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) } == 0
    }
}

/// Every PID in /proc.
fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&p| stat(p).is_some_and(|(_, ppid, _)| ppid == pid))
        .collect()
}

/// Running processes of the executable `exe`: itself (x86_64) or under
/// qemu-aarch64 (`exe` is then its first argument).
fn running_instances(exe: &Path) -> Vec<u32> {
    let want = exe.as_os_str().as_encoded_bytes();
    pids()
        .into_iter()
        .filter(|&p| {
            let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            let by_args = cmdline.split(|&b| b == 0).take(2).any(|a| a == want);
            let by_exe = std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == exe);
            (by_args || by_exe) && stat(p).is_some_and(|(s, _, _)| s != 'Z' && s != 'X')
        })
        .collect()
}

/// True if process `pid` has a file in `dir` open: the image it is writing
/// (the program opens nothing else there).
fn has_file_open_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .any(|target| target.starts_with(dir))
}

/// (device, inode) of the file at `path`, if any.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The first offset where files `a` and `b` differ (their length if one is
/// a prefix of the other), or None if they are the same.
fn first_difference(a: &Path, b: &Path) -> Option<u64> {
    const CHUNK: usize = 8 << 20;
    let mut fa = std::fs::File::open(a).unwrap();
    let mut fb = std::fs::File::open(b).unwrap();
    let (la, lb) = (fa.metadata().unwrap().len(), fb.metadata().unwrap().len());
    let (mut ba, mut bb) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut at = 0u64;
    while at < la.min(lb) {
        let n = CHUNK.min((la.min(lb) - at) as usize);
        fa.read_exact(&mut ba[..n]).unwrap();
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            let i = ba[..n].iter().zip(&bb[..n]).position(|(x, y)| x != y);
            return Some(at + i.unwrap() as u64);
        }
        at += n as u64;
    }
    (la != lb).then_some(la.min(lb))
}

/// A `migrate run --image IMAGE BASE -- MIB checkpoint` whose program has
/// filled its heap and is about to ask for the checkpoint.
struct Run {
    migrate: Option<Child>,
    /// The program (under qemu-aarch64: qemu, whose PID the guest sees).
    program: Proc,
    /// When the program said its heap was full.
    filled: Instant,
    stdout: Option<JoinHandle<Vec<String>>>,
    stderr: Option<JoinHandle<String>>,
}

/// How a [`Run`] ended.
struct Ended {
    status: ExitStatus,
    /// The program's stdout after the `filled` line.
    stdout: Vec<String>,
    stderr: String,
}

impl Run {
    fn start(
        isa: &str,
        base: &Path,
        image: &Path,
        mib: u64,
        aside: &Path,
        timing: Option<&Path>,
    ) -> Run {
        let mut cmd = migrate();
        if let Some(timing) = timing {
            cmd.env(migrate_format::env::TIMING, timing);
        }
        let mut child = cmd
            .args(["run", "--arch", isa, "--image"])
            .arg(image)
            .arg(base)
            .arg("--")
            .args([mib.to_string().as_str(), "checkpoint"])
            // migrate's own temporary files (the runtime's report) go there,
            // not into the image's directory or /tmp.
            .env("TMPDIR", aside)
            .current_dir(aside)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send((first, Instant::now()));
            }
            lines.map_while(Result::ok).collect::<Vec<String>>()
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(err).read_to_string(&mut text);
            text
        });
        let migrate_pid = child.id();
        let mut run = Run {
            migrate: Some(child),
            program: Proc { pid: 0, start: 0 },
            filled: Instant::now(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        };
        let (first, filled) = match rx.recv_timeout(PATIENCE) {
            Ok(got) => got,
            Err(e) => {
                let ended = run.kill_and_collect();
                panic!(
                    "{isa}: the program never said its heap was full ({e}); migrate run ended \
                     with {:?}, stderr:\n{}",
                    ended.status, ended.stderr
                );
            }
        };
        run.filled = filled;
        let pid: u32 = first
            .strip_prefix("filled ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{isa}: the program's first line is {first:?}"));
        run.program =
            Proc::of(pid).unwrap_or_else(|| panic!("{isa}: the program ({pid}) is already gone"));
        let children = children_of(migrate_pid);
        assert!(
            children.contains(&pid),
            "{isa}: the program ({pid}) is not a child of migrate run ({migrate_pid}), whose \
             children are {children:?}"
        );
        run
    }

    fn migrate_pid(&self) -> u32 {
        self.migrate.as_ref().unwrap().id()
    }

    /// Waits for `migrate run` to end (and the pipes to close).
    fn finish(mut self, what: &str) -> Ended {
        let child = self.migrate.as_mut().unwrap();
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: migrate run did not end within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        self.migrate = None;
        // The program is gone (a child still running when migrate ends
        // would keep the pipes open: checked before the join).
        let deadline = Instant::now() + PATIENCE;
        while self.program.running() {
            assert!(
                Instant::now() < deadline,
                "{what}: the program ({}) still runs {PATIENCE:?} after migrate run ended",
                self.program.pid
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        Ended {
            status,
            stdout: self.stdout.take().unwrap().join().unwrap(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
        }
    }

    /// For a failure: kills both processes, and returns what they said.
    fn kill_and_collect(&mut self) -> Ended {
        let mut child = self.migrate.take().unwrap();
        let _ = child.kill();
        let status = child.wait().unwrap();
        self.program.kill();
        Ended {
            status,
            stdout: Vec::new(),
            stderr: self.stderr.take().unwrap().join().unwrap(),
        }
    }
}

impl Drop for Run {
    /// A failed assertion leaves no process of this test running.
    fn drop(&mut self) {
        if let Some(mut child) = self.migrate.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.program.pid != 0 {
            self.program.kill();
        }
    }
}

/// Sleeps until `at` (at once if it has passed).
fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// What a kill left in place of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The old image, byte for byte.
    Old,
    /// A complete new one.
    New,
}

/// The image the directory held before a kill: a copy kept elsewhere, and
/// the identity of the file in the directory.
struct OldImage {
    copy: PathBuf,
    id: (u64, u64),
}

/// Checks the image's directory after a kill: IMAGE and nothing else but
/// `IMAGE.tmp.*` files (returned, for the caller to judge); IMAGE is the old
/// image (the same file, the same bytes) or a complete new one of `isa`
/// saving at least `mib` MiB of memory.
fn check_directory(
    image: &Path,
    old: &OldImage,
    isa: &str,
    mib: u64,
    what: &str,
) -> (Outcome, Vec<PathBuf>) {
    let dir = image.parent().unwrap();
    let name = image.file_name().unwrap().to_str().unwrap();
    let prefix = format!("{name}.tmp.");
    let (mut temporaries, mut others) = (Vec::new(), Vec::new());
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let file = e.file_name().to_string_lossy().into_owned();
        if file == name {
            continue;
        }
        if file.starts_with(&prefix) {
            temporaries.push(e.path());
        } else {
            others.push(file);
        }
    }
    assert!(
        others.is_empty(),
        "{what}: the image's directory holds {others:?} besides the image"
    );
    let id = file_id(image).unwrap_or_else(|| {
        panic!(
            "{what}: the image is gone (the directory holds {temporaries:?}); a crash must leave \
             the old image or the new one"
        )
    });
    if id == old.id {
        if let Some(at) = first_difference(image, &old.copy) {
            panic!(
                "{what}: the old image (the same file) was changed in place: it differs from \
                 its copy at byte {at}"
            );
        }
        return (Outcome::Old, temporaries);
    }
    let new = Image::read(image).unwrap_or_else(|e| {
        panic!("{what}: the image was replaced by a file that is not a complete image: {e}")
    });
    let checked = new.verify_memory().unwrap_or_else(|e| {
        panic!("{what}: the image was replaced by one whose memory is not what was saved: {e}")
    });
    assert_eq!(
        new.arch.name(),
        isa,
        "{what}: the new image is of the wrong ISA"
    );
    assert!(
        checked >= mib << 20,
        "{what}: the new image saves only {checked} bytes of memory, less than the {mib} MiB heap"
    );
    (Outcome::New, temporaries)
}

/// Puts the old image back in place of a new one (a new file: the old
/// image's identity changes).
fn put_back(image: &Path, old: &mut OldImage) {
    std::fs::remove_file(image).unwrap();
    std::fs::copy(&old.copy, image).unwrap();
    old.id = file_id(image).unwrap();
}

/// `migrate restore IMAGE` prints `expected` (the uninterrupted run's output
/// after the `filled` line) and succeeds.
fn restores_to(image: &Path, expected: &str, what: &str) {
    let out = migrate()
        .arg("restore")
        .arg(image)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: migrate restore failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected,
        "{what}: the restored program printed something else than the uninterrupted run"
    );
}

/// One kill and what it left, for the summary.
struct Kill {
    point: f64,
    /// How late the kill was sent after its point.
    late: Duration,
    /// The program had the image file open just before the kill.
    writing: bool,
    /// The process to kill had already ended.
    already_ended: bool,
    outcome: Outcome,
    /// How long the program took to be gone after `migrate` was killed.
    gone_after: Option<Duration>,
}

fn crash_during_checkpoint(isa: &str, mib: u64) {
    let started = Instant::now();
    let build = tempdir();
    let src = fixture("checkpoint/bigheap.c").display().to_string();
    cc(build.path(), &["-O2", "-o", "bigheap", &src]);
    let base = build.path().join("bigheap");
    let exe = build.path().join(format!("bigheap.{isa}"));
    // The image's directory holds the image only; the copy of the old one,
    // the timing file and migrate's temporary files are aside.
    let images = tempdir();
    let aside = tempdir();
    let image = images.path().join("big.core");

    // The output an uninterrupted run prints after its heap is full.
    let plain = migrate()
        .args(["run", "--arch", isa])
        .arg(&base)
        .arg("--")
        .arg(mib.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let plain_out = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(
        plain.status.success(),
        "{isa}: the uninterrupted run failed ({:?}): {}",
        plain.status,
        String::from_utf8_lossy(&plain.stderr)
    );
    let expected = plain_out
        .split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default();
    assert!(
        expected.starts_with(&format!("{mib} MiB, sum ")),
        "{isa}: the uninterrupted run printed {plain_out:?}"
    );

    // Two uninterrupted checkpoints (the first creates the image, the
    // second replaces it, as the runs below do): how long from the
    // `filled` line until the new image is in place.
    let mut took = Vec::new();
    let timing = aside.path().join("timing.jsonl");
    for n in 0..2 {
        let what = format!("{isa}: uninterrupted checkpoint {}", n + 1);
        let before = file_id(&image);
        let run = Run::start(isa, &base, &image, mib, aside.path(), Some(&timing));
        let deadline = Instant::now() + PATIENCE;
        loop {
            if file_id(&image) != before {
                took.push(run.filled.elapsed());
                break;
            }
            assert!(
                (run.program.running() || file_id(&image) != before) && Instant::now() < deadline,
                "{what}: the program ended or took {PATIENCE:?} without writing an image"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        let ended = run.finish(&what);
        assert!(
            ended.status.success(),
            "{what}: migrate run failed ({:?}): {}",
            ended.status,
            ended.stderr
        );
        assert!(
            ended.stderr.contains("checkpoint written to"),
            "{what}: migrate did not report the image: {}",
            ended.stderr
        );
        assert!(
            ended.stdout.is_empty(),
            "{what}: the program printed {:?} after its checkpoint",
            ended.stdout
        );
        let files: Vec<String> = files_in(images.path()).into_iter().map(|f| f.0).collect();
        assert_eq!(
            files,
            ["big.core"],
            "{what}: the image's directory holds other files"
        );
    }
    // The runtime's own measure of the writing (to the rename's end).
    let written: Vec<Duration> = std::fs::read_to_string(&timing)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<TimingEvent>(l).ok())
        .filter(|e| e.event == "checkpoint")
        .map(|e| Duration::from_nanos(e.ns))
        .collect();
    assert_eq!(
        written.len(),
        2,
        "{isa}: the runtime reported {} checkpoint timings for 2 checkpoints",
        written.len()
    );
    let measured = (took[0] + took[1]) / 2;
    let read = Image::read(&image)
        .unwrap_or_else(|e| panic!("{isa}: the uninterrupted checkpoint does not read: {e}"));
    read.verify_memory().unwrap_or_else(|e| {
        panic!("{isa}: the uninterrupted checkpoint's memory does not verify: {e}")
    });
    let image_bytes = read.file_size();
    drop(read);
    restores_to(
        &image,
        &expected,
        &format!("{isa}: the uninterrupted checkpoint"),
    );
    let mut old = OldImage {
        copy: aside.path().join("old.core"),
        id: file_id(&image).unwrap(),
    };
    std::fs::copy(&image, &old.copy).unwrap();

    let mut rng = Lcg(SEED);
    let mut restored_a_new_one = false;

    // Kills of the program, under its migrate run.
    let mut program_kills = Vec::new();
    let mut points = Points::new(PROGRAM_KILLS);
    while let Some(point) = points.next(&mut rng, &program_kills) {
        let what = format!("{isa}: program killed at {:.0}%", point * 100.0);
        let run = Run::start(isa, &base, &image, mib, aside.path(), None);
        let at = run.filled + measured.mul_f64(point);
        points.wait(at, run.program.pid, images.path(), measured);
        let writing = has_file_open_in(run.program.pid, images.path());
        let late = at.elapsed();
        let sent = run.program.kill();
        let ended = run.finish(&what);
        let (outcome, temporaries) = check_directory(&image, &old, isa, mib, &what);
        assert!(
            temporaries.is_empty(),
            "{what}: {temporaries:?} left after migrate run ended (it removes its program's \
             temporary image)"
        );
        match outcome {
            Outcome::Old => {
                assert_eq!(
                    ended.status.code(),
                    Some(128 + libc::SIGKILL),
                    "{what}: the old image is in place, yet the program was not killed: {}",
                    ended.stderr
                );
                assert!(
                    !ended.stderr.contains("checkpoint written"),
                    "{what}: migrate reported an image, but the old one is in place: {}",
                    ended.stderr
                );
            }
            Outcome::New => {
                assert!(
                    ended.stderr.contains("checkpoint written to"),
                    "{what}: a new image is in place, and migrate did not report it: {}",
                    ended.stderr
                );
                assert!(
                    matches!(ended.status.code(), Some(0) | Some(137)),
                    "{what}: migrate run ended with {:?}: {}",
                    ended.status,
                    ended.stderr
                );
                if !restored_a_new_one {
                    restores_to(&image, &expected, &what);
                    restored_a_new_one = true;
                }
                put_back(&image, &mut old);
            }
        }
        program_kills.push(Kill {
            point,
            late,
            writing,
            already_ended: !sent,
            outcome,
            gone_after: None,
        });
    }

    // Kills of migrate run: its program must die with it.
    let mut migrate_kills = Vec::new();
    let mut points = Points::new(MIGRATE_KILLS);
    while let Some(point) = points.next(&mut rng, &migrate_kills) {
        let what = format!("{isa}: migrate run killed at {:.0}%", point * 100.0);
        let mut run = Run::start(isa, &base, &image, mib, aside.path(), None);
        let migrate_pid = run.migrate_pid();
        let at = run.filled + measured.mul_f64(point);
        points.wait(at, run.program.pid, images.path(), measured);
        let writing = has_file_open_in(run.program.pid, images.path());
        let late = at.elapsed();
        let child = run.migrate.as_mut().unwrap();
        child.kill().unwrap();
        let killed_at = Instant::now();
        let status = child.wait().unwrap();
        // Or it had ended on its own, successfully, just before.
        let already_ended = status.signal() != Some(libc::SIGKILL);
        assert!(
            !already_ended || status.success(),
            "{what}: migrate run ({migrate_pid}) ended with {status:?}, neither by the SIGKILL \
             nor successfully"
        );
        run.migrate = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut left = running_instances(&exe);
        while (run.program.running() || !left.is_empty()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
            left = running_instances(&exe);
        }
        let gone_after = killed_at.elapsed();
        assert!(
            !run.program.running() && left.is_empty(),
            "{what}: the program ({}) runs on orphaned {gone_after:?} after migrate run was \
             killed (processes of {} running: {left:?})",
            run.program.pid,
            exe.display()
        );
        let (outcome, temporaries) = check_directory(&image, &old, isa, mib, &what);
        if !temporaries.is_empty() {
            // Killed between naming its temporary image and renaming it:
            // the next run that writes this image removes it.
            let out = migrate()
                .args(["run", "--arch", isa, "--image"])
                .arg(&image)
                .arg(&base)
                .args(["--", "1"])
                .env("TMPDIR", aside.path())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{what}: the run after it failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let still: Vec<&PathBuf> = temporaries.iter().filter(|t| t.exists()).collect();
            assert!(
                still.is_empty(),
                "{what}: {still:?} left by the killed writer, and the next migrate run did not \
                 remove it"
            );
            let again = check_directory(&image, &old, isa, mib, &what);
            assert!(
                again.0 == outcome && again.1.is_empty(),
                "{what}: the run that removed the temporary image changed the directory"
            );
        }
        drop(run);
        assert!(
            !already_ended || outcome == Outcome::New,
            "{what}: migrate run ended successfully before the kill, and the old image is still \
             in place"
        );
        if outcome == Outcome::New {
            if !restored_a_new_one {
                restores_to(&image, &expected, &what);
                restored_a_new_one = true;
            }
            put_back(&image, &mut old);
        }
        migrate_kills.push(Kill {
            point,
            late,
            writing,
            already_ended,
            outcome,
            gone_after: Some(gone_after),
        });
    }

    // The kills must have hit the writing, or nothing was tested.
    for (kind, kills) in [("program", &program_kills), ("migrate run", &migrate_kills)] {
        assert!(
            kills.iter().any(|k| k.writing && k.outcome == Outcome::Old),
            "{isa}: no kill of the {kind} landed while the image was being written (points {:?} \
             of {measured:?}): nothing was interrupted",
            kills.iter().map(|k| k.point).collect::<Vec<_>>()
        );
    }
    // migrate's own temporary files (TMPDIR) vanish with it too.
    let leftovers: Vec<String> = std::fs::read_dir(aside.path())
        .unwrap()
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .filter(|name| name != "timing.jsonl" && name != "old.core") // the test's own
        .collect();
    assert!(
        leftovers.is_empty(),
        "{isa}: killed migrate runs left temporary files: {leftovers:?}"
    );

    println!(
        "{isa}: {mib} MiB heap, {image_bytes}-byte image; filled line to image in place: {:?} \
         and {:?} (kill points are fractions of their mean, {measured:?}); the runtime's \
         writing and renaming: {:?} and {:?}",
        took[0], took[1], written[0], written[1]
    );
    for (kind, kills) in [("program", &program_kills), ("migrate", &migrate_kills)] {
        for k in kills.iter() {
            println!(
                "  kill {kind:<7} at {:>5.1}% (+{:>6.1} ms, {:>5.2} ms late): {}{}{:?}{}",
                k.point * 100.0,
                measured.mul_f64(k.point).as_secs_f64() * 1e3,
                k.late.as_secs_f64() * 1e3,
                if k.writing { "while writing, " } else { "" },
                if k.already_ended {
                    "after it ended, "
                } else {
                    ""
                },
                k.outcome,
                k.gone_after
                    .map(|d| format!(", program gone {:.1} ms after", d.as_secs_f64() * 1e3))
                    .unwrap_or_default()
            );
        }
    }
    println!("  test took {:?}", started.elapsed());
}
