//! Asking landmark-rt for a checkpoint: at start-up (`migrate run
//! --checkpoint-at N` / `--checkpoint-after D`) or of a running process
//! (`migrate checkpoint PID`), and reporting the image it wrote.

use anyhow::{anyhow, bail, Context, Result};
use migrate_format::env;
use migrate_format::image::Image;
use migrate_format::reports::CheckpointReport;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What `migrate run` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Checkpoint at this landmark hit (1 is the first).
    pub at_hit: Option<u64>,
    /// Checkpoint this long after start-up.
    pub after: Option<Duration>,
    pub image: PathBuf,
    pub keep_running: bool,
    /// Say nothing when the image is written (`migrate run --to`: the
    /// image is an intermediate, and the output is the program's alone).
    pub quiet: bool,
    /// Lay the image out at its addresses and, when the program was
    /// restored from that file, write only what it changed since
    /// (`migrate mtd`; [`env::IN_PLACE`]).
    pub in_place: bool,
}

impl Request {
    /// Puts the request in the environment landmark-rt reads at start-up
    /// (landmark-rt/src/checkpoint.c). Keep what it returns for
    /// [`Request::report`].
    pub fn apply(&self, cmd: &mut Command) -> Result<Pending> {
        remove_stale_temporaries(&self.image);
        // The report file has no name: the program reaches it through this
        // process's descriptor, so nothing is left behind whenever either
        // dies (a named temporary file outlived a killed `migrate`).
        let report = tempfile::tempfile().context("cannot create a temporary file")?;
        let report_path = format!("/proc/{}/fd/{}", std::process::id(), report.as_raw_fd());
        let pending = Pending {
            before: FileId::of(&self.image),
            report,
        };
        cmd.env(env::IMAGE, std::path::absolute(&self.image)?);
        cmd.env(env::REPORT, report_path);
        if let Some(n) = self.at_hit {
            cmd.env(env::CHECKPOINT_AT, n.to_string());
        }
        if let Some(d) = self.after {
            cmd.env(env::CHECKPOINT_AFTER_MS, d.as_millis().max(1).to_string());
        }
        if self.keep_running {
            cmd.env(env::KEEP_RUNNING, "1");
        }
        if self.in_place {
            cmd.env(env::IN_PLACE, "1");
        }
        Ok(pending)
    }

    /// After the program (`base`, as given to `migrate cc -o`; process
    /// `pid`) ended with `code`: removes the temporary image it may have
    /// left (killed while writing), then prints what was written, or fails
    /// if a checkpoint was asked for at a hit or a time and none came,
    /// saying why.
    pub fn report(&self, pending: Pending, code: i32, pid: u32, base: &Path) -> Result<()> {
        if pending.written(self, pid) {
            if !self.quiet {
                eprintln!("{}", describe(&self.image)?);
            }
            return Ok(());
        }
        let when = match (self.at_hit, self.after) {
            (Some(n), _) => format!("landmark hit {n}"),
            (None, Some(d)) => format!("{:.3} s had passed", d.as_secs_f64()),
            // Only an image path: a checkpoint only if the program asked.
            _ => return Ok(()),
        };
        bail!(
            "no checkpoint was taken: {}",
            why_none(pending.runtime_report(), &when, code, base)
        )
    }
}

/// A checkpoint asked for and not yet reported on: the image's identity
/// before the run, and the (unnamed) file landmark-rt says why none came in.
pub struct Pending {
    before: FileId,
    report: std::fs::File,
}

impl Pending {
    /// From now on, a new image at `request.image` is one written after
    /// this call (a process started ahead of its leg, whose image path
    /// others write meanwhile).
    pub fn rebase(&mut self, request: &Request) {
        self.before = FileId::of(&request.image);
    }

    /// After the program (process `pid`) ended: true if it wrote a new
    /// image at `request.image`. Removes the temporary image a killed
    /// program may have left.
    pub fn written(&self, request: &Request, pid: u32) -> bool {
        let _ = std::fs::remove_file(temporary_image(&request.image, pid));
        FileId::of(&request.image) != self.before
    }

    /// What landmark-rt said at exit about a checkpoint still wanted (or
    /// one that failed), if anything.
    pub fn runtime_report(&self) -> Option<CheckpointReport> {
        read_report(&self.report).and_then(|b| serde_json::from_slice(&b).ok())
    }
}

/// What landmark-rt wrote to the report file, if anything.
fn read_report(mut file: &std::fs::File) -> Option<Vec<u8>> {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    file.seek(std::io::SeekFrom::Start(0)).ok()?;
    file.read_to_end(&mut bytes).ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// The reason no checkpoint came, for a program that ended with `code`.
fn why_none(report: Option<CheckpointReport>, when: &str, code: i32, base: &Path) -> String {
    let ended = match code {
        // As exit_code() reports a signal; the runtime's own exits are 0 or small.
        129..=192 => format!(
            "the program was killed by signal {} ({})",
            code - 128,
            signal_name(code - 128)
        ),
        _ => format!("the program ended (exit code {code})"),
    };
    let Some(r) = report else {
        // Killed, or it left through _exit: the runtime could not say.
        return format!("{ended} before {when}");
    };
    if r.failed != 0 {
        return format!(
            "{ended} after landmark-rt failed to write the image (its reason is above)"
        );
    }
    if r.reached == 0 {
        let hits = plural(r.hits, "landmark hit");
        return if when.starts_with("landmark hit") {
            format!("{ended} after {hits}, before {when}")
        } else {
            format!("{ended} before {when}")
        };
    }
    let inspect = format!("`migrate inspect --callsites {}`", base.display());
    let reached = if when.starts_with("landmark hit") {
        format!("the program reached {when}")
    } else {
        when.to_string()
    };
    let which = if r.waited_migratable == 0 {
        format!("none at a call site certified migratable ({inspect} shows why each is not)")
    } else {
        format!(
            "{} at a call site certified migratable but each with an older frame that was not (a \
             libc function that calls back into the program, or a call site {inspect} shows as \
             not migratable)",
            r.waited_migratable
        )
    };
    format!(
        "{reached}, but from then until the program ended (exit code {code}) no landmark had \
         every frame at a migratable call site: {} came, {which}",
        plural(r.waited, "landmark hit"),
    )
}

/// `SIGKILL` for 9, and so on (`signal N` for others).
fn signal_name(n: i32) -> String {
    // SAFETY: strsignal(3) returns a pointer to a static or thread-local
    // string, copied at once.
    let text = unsafe {
        let p = libc::strsignal(n);
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    };
    text.unwrap_or_else(|| format!("signal {n}"))
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Where landmark-rt writes an image for `image` before renaming it into
/// place: `IMAGE.tmp.PID` (`image.c`).
fn temporary_image(image: &Path, pid: u32) -> PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(format!(".tmp.{pid}"));
    PathBuf::from(name)
}

/// Removes `IMAGE.tmp.PID` files whose writer is no longer running: left by
/// a program killed while it wrote (together with its `migrate`, which
/// would have removed it).
fn remove_stale_temporaries(image: &Path) {
    let (Some(dir), Some(name)) = (image.parent(), image.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.tmp.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid);
        if !alive {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Identity of the file at a path, to tell a new image from an old one
/// (the runtime renames a new file into place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(Option<(u64, u64, i64, i64)>);

impl FileId {
    pub fn of(path: &Path) -> FileId {
        FileId(
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.dev(), m.ino(), m.mtime(), m.mtime_nsec())),
        )
    }
}

/// The line `migrate` prints on stderr once an image is written.
pub fn describe(path: &Path) -> Result<String> {
    let image = Image::read(path)?;
    Ok(format!(
        "migrate: checkpoint written to {} ({} at call site {}, {} frames, {} of memory)",
        path.display(),
        image.arch,
        image.state.call_site,
        image.frames.len(),
        human_bytes(image.saved_bytes())
    ))
}

/// `12.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Parses `500ms`, `2s`, `1.5s`, `3m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration such as 500ms, 2s or 1m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        other => return Err(format!("{s:?}: unknown unit {other:?} (use ms, s or m)")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The request file landmark-rt reads when the checkpoint signal comes.
fn request_file(pid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/landmark-rt-{pid}.request"))
}

/// True if process `pid` runs an executable built by `migrate cc` (itself
/// or under qemu-aarch64): the checkpoint signal would kill anything else.
fn is_migratable_process(pid: u32) -> Result<bool> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if !proc.exists() {
        bail!("no process {pid}");
    }
    let cmdline = std::fs::read(proc.join("cmdline"))
        .with_context(|| format!("cannot read process {pid}'s command line"))?;
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let cwd = std::fs::read_link(proc.join("cwd")).unwrap_or_default();
    let mut candidates = vec![proc.join("exe")];
    // Under qemu-user /proc/PID/exe is qemu; the program is its argument.
    if let Some(arg) = args.get(1) {
        candidates.push(cwd.join(String::from_utf8_lossy(arg).as_ref()));
    }
    Ok(candidates.iter().any(|path| {
        std::fs::read(path).is_ok_and(|data| {
            use object::Object;
            object::File::parse(&data[..])
                .is_ok_and(|f| f.section_by_name(migrate_format::frames::SECTION).is_some())
        })
    }))
}

/// `migrate checkpoint PID`: asks a running program for a checkpoint and
/// waits for the image.
pub fn checkpoint_process(
    pid: u32,
    image: Option<&Path>,
    keep_running: bool,
    timeout: Duration,
) -> Result<i32> {
    if !is_migratable_process(pid)? {
        bail!(
            "process {pid} does not run a program built with `migrate cc` (the checkpoint signal \
             would kill it)"
        );
    }
    let image = match image {
        Some(p) => std::path::absolute(p)?,
        None => std::env::current_dir()?.join(format!("landmark-{pid}.core")),
    };
    let before = FileId::of(&image);
    let request = request_file(pid);
    let _ = std::fs::remove_file(&request);
    let mut text = format!("image={}\n", image.display());
    if keep_running {
        text.push_str("keep-running\n");
    }
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&request)
            .with_context(|| format!("cannot write {}", request.display()))?;
        f.write_all(text.as_bytes())?;
    }
    // SAFETY: kill(2) with a checked pid and a valid signal number.
    if unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR2) } != 0 {
        let _ = std::fs::remove_file(&request);
        bail!(
            "cannot signal process {pid}: {}",
            std::io::Error::last_os_error()
        );
    }
    let start = Instant::now();
    let alive = || Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid);
    loop {
        if FileId::of(&image) != before {
            eprintln!("{}", describe(&image)?);
            return Ok(0);
        }
        if !alive() {
            let _ = std::fs::remove_file(&request);
            bail!("process {pid} ended without writing a checkpoint");
        }
        if start.elapsed() > timeout {
            let _ = std::fs::remove_file(&request);
            return Err(anyhow!(
                "no checkpoint within {:.1} s: process {pid} has not reached a landmark where \
                 every frame is at a migratable call site (it keeps running; the request stays \
                 pending in it)",
                timeout.as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
