//! Seeded mutations of real images, made as an attacker or a careless user
//! would make them (issue 12, item 5): a checkpoint of a small program that
//! reads stdin and a file it keeps open, on each ISA, then thousands of
//! mutated copies of its image given to the image reader, to `migrate
//! restore`, and to the runtime directly (a restore started without
//! `migrate`). Every mutant is refused with a message or restores to the
//! right output: never a panic, a signal, a hang or a wrong output.
//!
//! Two kinds of mutant:
//! - raw: bits flipped, bytes or words overwritten, the file cut short or
//!   extended, fields changed. Anything in the headers, notes or registers
//!   must be refused (the checksum covers them); a change in memory must be
//!   caught by `--verify`.
//! - sealed: one structural field changed (ELF header, program headers, note
//!   headers, the runtime state, the stack walk, the program counter, stack
//!   and frame pointers, the integrity note's head) to a value chosen to
//!   hurt (another segment's address, the executable's code, off by a page,
//!   zero, all ones, random), then the headers' checksum recomputed, as an
//!   attacker who knows the format would: the checks behind the checksum
//!   must refuse it, or it must restore right, or, when the change makes
//!   other bytes the memory, `--verify` must refuse it.
//!
//! Registers that hold the program's values (callee-saved data) and the
//! bytes of memory are not mutated sealed: any value there is a possible
//! program state, which no check can tell from the right one; the
//! checksums are what catch those.

use crate::common::*;
use migrate_format::image::{integrity, registers, Image};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x1212_5eed;
/// Mutants read in-process per ISA (half raw, half sealed).
const READER_MUTANTS: usize = 4000;
/// Mutants given to `migrate restore`, and to the runtime directly, per
/// ISA (aarch64 runs under qemu: fewer).
const RESTORE_MUTANTS: [usize; 2] = [500, 150];
const DIRECT_MUTANTS: [usize; 2] = [250, 80];
/// A restore that takes longer has hung.
const TIMEOUT: Duration = Duration::from_secs(30);

/// xorshift64*: reproducible from the seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A field of the image file: its name, offset and width in bytes.
#[derive(Clone, Debug)]
struct Field {
    name: String,
    at: usize,
    width: usize,
}

/// One ISA's checkpoint and what its restore must print.
struct Subject {
    isa: &'static str,
    dir: PathBuf,
    exe: PathBuf,
    input: PathBuf,
    good: Vec<u8>,
    /// The headers and notes end here: every byte before is checksummed.
    notes_end: usize,
    fields: Vec<Field>,
    expected: Vec<u8>,
}

#[derive(Debug)]
struct Mutant {
    bytes: Vec<u8>,
    what: String,
    sealed: bool,
    /// Only bytes after the headers and notes changed (memory, or the
    /// padding between segments).
    memory: bool,
}

fn read_word(b: &[u8], at: usize, width: usize) -> u64 {
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(&b[at..at + width]);
    u64::from_le_bytes(v)
}

fn write_word(b: &mut [u8], at: usize, width: usize, value: u64) {
    b[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}

/// Builds the program, checkpoints it on `isa` mid-run, and restores the
/// good image once: its output is the oracle.
fn subject(dir: &Path, base: &Path, isa: &'static str) -> Subject {
    let input = dir.join("input.txt");
    let words = dir.join("words.txt");
    let image = dir.join(format!("good.{isa}.core"));
    let out = migrate()
        .args(["run", "--arch", isa, "--checkpoint-at", "5000", "--image"])
        .arg(&image)
        .arg(base)
        .arg("--")
        .arg(&words)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{isa}: the checkpoint failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_part = out.stdout;
    let good = std::fs::read(&image).unwrap();
    let parsed = Image::read(&image).unwrap();
    assert!(
        parsed.frames.len() >= 2,
        "{isa}: want a checkpoint inside mix(), with two frames: {:?}",
        parsed.frames
    );
    let (status, expected, err) = run_restore(migrate_restore(&image, &[]), &input);
    assert_eq!(status, Some(0), "{isa}: the good image: {err}");
    let plain = migrate()
        .args(["run", "--arch", isa])
        .arg(base)
        .arg("--")
        .arg(&words)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        [first_part, expected.clone()].concat(),
        plain.stdout,
        "{isa}: checkpoint and restore together differ from a run that never stopped"
    );
    let notes_end = {
        let off = read_word(&good, 64 + 8, 8) as usize;
        off + read_word(&good, 64 + 32, 8) as usize
    };
    Subject {
        isa,
        dir: dir.to_path_buf(),
        exe: PathBuf::from(format!("{}.{isa}", base.display())),
        input,
        fields: fields(&good, &parsed),
        good,
        notes_end,
        expected,
    }
}

/// The structural fields of an image: what sealed mutants change.
fn fields(b: &[u8], image: &Image) -> Vec<Field> {
    let mut out = Vec::new();
    let mut add = |name: String, at: usize, width: usize| out.push(Field { name, at, width });
    for (name, at, width) in [
        ("e_type", 16, 2),
        ("e_machine", 18, 2),
        ("e_phoff", 32, 8),
        ("e_ehsize", 52, 2),
        ("e_phentsize", 54, 2),
        ("e_phnum", 56, 2),
    ] {
        add(name.into(), at, width);
    }
    let phnum = read_word(b, 56, 2) as usize;
    for k in 0..phnum {
        let ph = 64 + 56 * k;
        for (name, at, width) in [
            ("p_type", 0, 4),
            ("p_flags", 4, 4),
            ("p_offset", 8, 8),
            ("p_vaddr", 16, 8),
            ("p_filesz", 32, 8),
            ("p_memsz", 40, 8),
        ] {
            add(format!("phdr {k} {name}"), ph + at, width);
        }
    }
    // The notes: each header, and the fields of the ones restore relies on.
    let (start, end) = (
        read_word(b, 64 + 8, 8) as usize,
        (read_word(b, 64 + 8, 8) + read_word(b, 64 + 32, 8)) as usize,
    );
    let pr_fields: Vec<(usize, &str)> = {
        let names = registers::names(image.arch);
        let fp = if image.arch.name() == "x86_64" {
            "rbp"
        } else {
            "x29"
        };
        [
            registers::pc_name(image.arch),
            registers::sp_name(image.arch),
            fp,
        ]
        .into_iter()
        .map(|n| (names.iter().position(|x| *x == n).unwrap(), n))
        .collect()
    };
    let mut at = start;
    let mut k = 0;
    while at + 12 <= end {
        let (namesz, descsz, kind) = (
            read_word(b, at, 4) as usize,
            read_word(b, at + 4, 4) as usize,
            read_word(b, at + 8, 4),
        );
        let name = &b[at + 12..at + 12 + namesz.saturating_sub(1)];
        let desc = at + 12 + namesz.next_multiple_of(4);
        for (f, off) in [("namesz", 0), ("descsz", 4), ("type", 8)] {
            add(format!("note {k} {f}"), at + off, 4);
        }
        match (name, kind) {
            (b"CORE", 1) => {
                for &(i, n) in &pr_fields {
                    add(format!("register {n}"), desc + registers::PR_REG + 8 * i, 8);
                }
            }
            (b"LANDMARK", 1) => {
                for (f, off, width) in [
                    ("version", 0, 4),
                    ("call_site", 4, 4),
                    ("hits", 8, 8),
                    ("brk_start", 16, 8),
                    ("brk", 24, 8),
                    ("stack_lo", 32, 8),
                    ("stack_hi", 40, 8),
                    ("thread_pointer", 48, 8),
                    ("sigmask", 56, 8),
                    ("umask", 64, 4),
                    ("pid", 68, 4),
                    ("vdso", 72, 8),
                ] {
                    add(format!("state {f}"), desc + off, width);
                }
            }
            (b"LANDMARK", 6) => {
                for i in 0..descsz / 24 {
                    for (f, off, width) in [("pc", 0, 8), ("sp", 8, 8), ("call_site", 16, 4)] {
                        add(format!("frame {i} {f}"), desc + 24 * i + off, width);
                    }
                }
            }
            (b"LANDMARK", 7) => {
                add("integrity algorithm".into(), desc, 4);
                add("integrity segments".into(), desc + 4, 4);
            }
            _ => {}
        }
        at = desc + descsz.next_multiple_of(4);
        k += 1;
    }
    out
}

/// A value chosen to hurt, for `field` now holding `orig`.
fn nasty_value(rng: &mut Rng, s: &Subject, field: &Field, orig: u64) -> u64 {
    let other = &s.fields[rng.below(s.fields.len())];
    let others = read_word(&s.good, other.at, other.width);
    let choices = [
        rng.next(),
        orig ^ (1 << rng.below(field.width * 8)),
        orig.wrapping_add(1),
        orig.wrapping_sub(1),
        orig.wrapping_add(8),
        orig.wrapping_sub(16),
        orig.wrapping_add(0x1000),
        orig.wrapping_sub(0x1000),
        orig.wrapping_add(0x1_0000),
        orig.wrapping_sub(0x1_0000),
        0,
        u64::MAX,
        others,
        0x1000_1000,
        0x3e_ffff_f000,
    ];
    choices[rng.below(choices.len())]
}

fn sealed_mutant(rng: &mut Rng, s: &Subject) -> Mutant {
    let mut bytes = s.good.clone();
    let field = s.fields[rng.below(s.fields.len())].clone();
    let orig = read_word(&bytes, field.at, field.width);
    let value = nasty_value(rng, s, &field, orig);
    write_word(&mut bytes, field.at, field.width, value);
    // A field that breaks the layout so that the checksum cannot even be
    // found stays unsealed: refused either way.
    let sealed = integrity::seal(&mut bytes, false).is_ok();
    Mutant {
        bytes,
        what: format!("{} {orig:#x} -> {value:#x}", field.name),
        sealed,
        memory: false,
    }
}

fn raw_mutant(rng: &mut Rng, s: &Subject) -> Mutant {
    let mut bytes = s.good.clone();
    let len = bytes.len();
    let kind = rng.below(6);
    let what = match kind {
        0 | 1 => {
            let at = rng.below(s.notes_end);
            let bit = rng.below(8);
            bytes[at] ^= 1 << bit;
            format!("bit {bit} of byte {at:#x} flipped")
        }
        2 => {
            let at = rng.below(s.notes_end - 8);
            let v = rng.next();
            bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
            format!("8 bytes at {at:#x} set to {v:#x}")
        }
        3 => {
            let cut = rng.below(len);
            bytes.truncate(cut);
            format!("cut to {cut} bytes")
        }
        4 => {
            let at = s.notes_end + rng.below(len - s.notes_end);
            bytes[at] ^= 0x40;
            format!("memory or padding byte {at:#x} flipped")
        }
        _ => {
            let field = &s.fields[rng.below(s.fields.len())];
            let orig = read_word(&bytes, field.at, field.width);
            let value = nasty_value(rng, s, field, orig);
            write_word(&mut bytes, field.at, field.width, value);
            format!("{} {orig:#x} -> {value:#x}, not sealed", field.name)
        }
    };
    Mutant {
        bytes,
        what,
        sealed: false,
        memory: kind == 4,
    }
}

fn mutants(rng: &mut Rng, s: &Subject, n: usize) -> Vec<Mutant> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                sealed_mutant(rng, s)
            } else {
                raw_mutant(rng, s)
            }
        })
        .collect()
}

/// Where two copies differ first, if they do.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

fn migrate_restore(image: &Path, extra: &[&str]) -> Command {
    let mut c = migrate();
    c.arg("restore").args(extra).arg(image);
    c
}

/// The runtime alone: the executable with LANDMARK_RESTORE, address
/// randomization off as `migrate` would set it, only the standard streams.
fn direct_restore(s: &Subject, image: &Path) -> Command {
    let mut c = Command::new("setarch");
    c.args([std::env::consts::ARCH, "-R"]);
    if s.isa == "aarch64" {
        c.arg("qemu-aarch64");
    }
    c.arg(&s.exe).env(migrate_format::env::RESTORE, image);
    use std::os::unix::process::CommandExt;
    // SAFETY: close_range(2) is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
    c
}

/// Runs a restore with the input on stdin: (exit code, None if killed by a
/// signal; stdout; stderr). A restore that outlives [`TIMEOUT`] is killed
/// and reported as hung.
fn run_restore(mut cmd: Command, input: &Path) -> (Option<i32>, Vec<u8>, String) {
    use std::io::Read;
    let mut child = cmd
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    match status {
        None => (
            Some(-1),
            stdout,
            format!("HUNG (killed after {TIMEOUT:?}) {stderr}"),
        ),
        Some(st) => (st.code(), stdout, stderr),
    }
}

/// The test's verdict on one restore of a mutant (by `how`): None if
/// acceptable. Refused (one of `refused_codes`, a message, no output) or
/// restored right always is. Otherwise the mutant must be one whose memory
/// changed (raw), or a sealed one (a segment moved, say, so the program's
/// pointers lead nowhere), and `migrate restore --verify` must refuse it:
/// the memory checksums cover each segment's address, size and flags with
/// its bytes, and migrate's checks are a superset of the runtime's.
fn judge(
    s: &Subject,
    m: &Mutant,
    how: &str,
    image: &Path,
    (code, stdout, stderr): (Option<i32>, Vec<u8>, String),
    refused_codes: &[i32],
) -> Option<String> {
    let verdict = match code {
        Some(0) if stdout == s.expected => return None,
        Some(c) if refused_codes.contains(&c) && stdout.is_empty() && !stderr.trim().is_empty() => {
            if !stderr.contains("panicked") {
                return None;
            }
            "refused with a panic"
        }
        None => "killed by a signal",
        Some(-1) => "hung",
        Some(0) => "exit 0 with the wrong output",
        Some(_) => "an unexpected exit code",
    };
    let verified = (m.sealed || m.memory) && verify_refuses(s, image);
    if verified && verdict != "refused with a panic" {
        CAUGHT_BY_VERIFY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return None;
    }
    Some(format!(
        "{} {how}, mutant {}{}: {verdict} (exit {code:?}){}; stderr: {}",
        s.isa,
        m.what,
        if m.sealed { ", sealed" } else { "" },
        if m.sealed || m.memory {
            ", and migrate restore --verify does not refuse it"
        } else {
            ""
        },
        stderr.trim()
    ))
}

/// Mutants that only `--verify` refused (counted for the summary).
static CAUGHT_BY_VERIFY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `migrate restore --verify` refuses the image, with a message and before
/// the program prints anything.
fn verify_refuses(s: &Subject, image: &Path) -> bool {
    let (code, stdout, stderr) = run_restore(migrate_restore(image, &["--verify"]), &s.input);
    code == Some(1) && stdout.is_empty() && !stderr.is_empty() && !stderr.contains("panicked")
}

/// Runs `f` over `items` on two threads (the machine has two cores), each
/// with a scratch file of its own; collects the failures.
fn in_parallel<T: Sync>(
    dir: &Path,
    items: &[T],
    f: impl Fn(&Path, &T) -> Option<String> + Sync,
) -> Vec<String> {
    let chunks: Vec<&[T]> = items.chunks(items.len().div_ceil(2).max(1)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(t, chunk)| {
                let f = &f;
                let path = dir.join(format!("mutant-{t}.core"));
                scope.spawn(move || chunk.iter().filter_map(|m| f(&path, m)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let src = fixture("checkpoint/mutants.c").display().to_string();
    cc(dir.path(), &["-O2", "-o", "mutants", &src]);
    let lines: String = (1..=60)
        .map(|i| format!("line {i} of the input, some text\n"))
        .collect();
    std::fs::write(dir.path().join("input.txt"), lines).unwrap();
    std::fs::write(
        dir.path().join("words.txt"),
        "alpha beta gamma delta epsilon zeta eta theta\n",
    )
    .unwrap();
    let base = dir.path().join("mutants");
    (dir, base)
}

/// Thousands of mutants through the reader in-process: no panic, every
/// change to the checksummed bytes refused, every change to memory caught
/// by `verify_memory`.
#[test]
fn the_image_reader_refuses_or_reads_every_mutant_and_never_panics() {
    let (dir, base) = setup();
    let mut failures = Vec::new();
    let mut refused = 0;
    for (k, isa) in ISAS.into_iter().enumerate() {
        let s = subject(dir.path(), &base, isa);
        let exe = std::fs::read(&s.exe).unwrap();
        let mut rng = Rng(SEED + k as u64);
        let all = mutants(&mut rng, &s, READER_MUTANTS);
        let results = in_parallel(&s.dir, &all, |path, m| {
            std::fs::write(path, &m.bytes).unwrap();
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                Image::read(path).and_then(|image| {
                    image.check_against(&exe)?;
                    image.verify_memory().map(|_| ())
                })
            }));
            let changed = first_difference(&m.bytes, &s.good);
            match outcome {
                Err(_) => Some(format!("{isa} {}: the reader panicked", m.what)),
                Ok(Ok(())) if !m.sealed && changed.is_some_and(|at| at < s.notes_end) => Some(
                    format!("{isa} {}: accepted, though the checksum covers it", m.what),
                ),
                Ok(Ok(())) if !m.sealed && m.bytes.len() == s.good.len() && changed.is_some() => {
                    // Memory changed: only padding between segments may
                    // differ and still verify.
                    let at = changed.unwrap() as u64;
                    let image = Image::read(path).unwrap();
                    let in_memory = image
                        .segments
                        .iter()
                        .any(|g| g.saved && (g.offset..g.offset + g.size).contains(&at));
                    in_memory.then(|| format!("{isa} {}: memory changed, verified", m.what))
                }
                Ok(Err(_)) => Some(String::new()),
                Ok(Ok(())) => None,
            }
        });
        refused += results.iter().filter(|r| r.is_empty()).count();
        failures.extend(results.into_iter().filter(|r| !r.is_empty()));
    }
    assert!(
        failures.is_empty(),
        "{} of {} mutants:\n{}",
        failures.len(),
        2 * READER_MUTANTS,
        failures.join("\n")
    );
    // The mutants are not all trivially refused or trivially harmless.
    assert!(
        refused > READER_MUTANTS && refused < 2 * READER_MUTANTS,
        "{refused} of {} refused",
        2 * READER_MUTANTS
    );
}

/// Mutants given to `migrate restore` and to the runtime directly: each
/// refused with a message, or restored with the right output.
#[test]
fn restore_refuses_or_correctly_resumes_every_mutant() {
    let (dir, base) = setup();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (k, isa) in ISAS.into_iter().enumerate() {
        let s = subject(dir.path(), &base, isa);
        let mut rng = Rng(SEED ^ (0xabcd + k as u64));
        let all = mutants(&mut rng, &s, RESTORE_MUTANTS[k]);
        let restored = std::sync::atomic::AtomicUsize::new(0);
        failures.extend(in_parallel(&s.dir, &all, |path, m| {
            std::fs::write(path, &m.bytes).unwrap();
            let result = run_restore(migrate_restore(path, &[]), &s.input);
            if result.0 == Some(0) {
                restored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // migrate's own refusal (1), or the runtime's (125).
            judge(&s, m, "migrate restore", path, result, &[1, 125])
        }));
        // The runtime alone, on the sealed mutants (the raw ones never
        // reach it through migrate, and it checks the checksum first).
        let sealed: Vec<Mutant> = mutants(&mut rng, &s, 2 * DIRECT_MUTANTS[k])
            .into_iter()
            .filter(|m| m.sealed)
            .collect();
        let direct_restored = std::sync::atomic::AtomicUsize::new(0);
        failures.extend(in_parallel(&s.dir, &sealed, |path, m| {
            std::fs::write(path, &m.bytes).unwrap();
            let result = run_restore(direct_restore(&s, path), &s.input);
            if result.0 == Some(0) {
                direct_restored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            judge(&s, m, "runtime alone", path, result, &[125])
        }));
        summary.push(format!(
            "{isa}: migrate restore {} of {} restored; runtime alone {} of {}",
            restored.into_inner(),
            all.len(),
            direct_restored.into_inner(),
            sealed.len()
        ));
    }
    summary.push(format!(
        "resumed wrongly without --verify, refused with it: {}",
        CAUGHT_BY_VERIFY.load(std::sync::atomic::Ordering::Relaxed)
    ));
    eprintln!("{}", summary.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The crash classes first found by hand (issue 12), each as a fixture:
/// refused by name by `migrate restore` and refused (status 125) by the
/// runtime alone, with the checksum made to match; and refused by the
/// checksum as they are.
#[test]
fn the_known_crash_classes_are_refused_by_name() {
    let (dir, base) = setup();
    for isa in ISAS {
        let s = subject(dir.path(), &base, isa);
        let image = Image::read(&dir.path().join(format!("good.{isa}.core"))).unwrap();
        let sp = image.frames[0].sp;
        let segment = |f: &dyn Fn(&migrate_format::image::Segment) -> bool| {
            image.segments.iter().position(f).unwrap()
        };
        let data = segment(&|g| g.saved && g.write && g.address < image.state.brk_start);
        let stack = segment(&|g| g.saved && (g.address..g.address + g.size).contains(&sp));
        let heap = segment(&|g| {
            g.saved && g.address >= image.state.brk_start && g.address < image.state.brk
        });
        let phdr = |k: usize| 64 + 56 * (k + 1);
        let set = |at: usize, width: usize, value: u64| {
            let mut b = s.good.clone();
            write_word(&mut b, at, width, value);
            b
        };
        let data_at = image.segments[data].address;
        let sp_field = s
            .fields
            .iter()
            .find(|f| f.name.starts_with("register ") && read_word(&s.good, f.at, 8) == sp)
            .unwrap();
        let other_machine = if isa == "x86_64" { 183 } else { 62 };
        let classes: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "the heap moved onto the data",
                set(phdr(heap) + 16, 8, data_at),
                "overlap",
            ),
            (
                "the stack moved onto the data",
                set(phdr(stack) + 16, 8, data_at),
                "overlap",
            ),
            (
                "the last segment dropped (e_phnum lowered)",
                set(56, 2, read_word(&s.good, 56, 2) - 1),
                "memory segments",
            ),
            (
                "the data over the executable's code",
                set(phdr(data) + 16, 8, 0x1000_1000),
                "",
            ),
            (
                "the data's flags ---",
                set(phdr(data) + 4, 4, 0),
                "saved but not readable",
            ),
            (
                "the data read-only",
                set(phdr(data) + 4, 4, 4),
                "executable's data",
            ),
            (
                "the stack read-only",
                set(phdr(stack) + 4, 4, 4),
                "stack pointer",
            ),
            (
                "the stack pointer register",
                set(sp_field.at, 8, sp + 64),
                "disagree",
            ),
            (
                "e_machine swapped",
                set(18, 2, other_machine),
                "registers in an",
            ),
        ];
        for (name, raw, why) in classes {
            let path = dir.path().join("class.core");
            std::fs::write(&path, &raw).unwrap();
            let (code, out, err) = run_restore(migrate_restore(&path, &[]), &s.input);
            assert!(
                code == Some(1)
                    && out.is_empty()
                    && (err.contains("do not match their checksum")
                        || err.contains("integrity note covers")),
                "{isa} {name}, as it is: {code:?} {err}"
            );
            let mut sealed = raw;
            integrity::seal(&mut sealed, false).unwrap();
            std::fs::write(&path, &sealed).unwrap();
            let (code, out, err) = run_restore(migrate_restore(&path, &[]), &s.input);
            assert!(
                code == Some(1) && out.is_empty() && err.contains(why) && !err.contains("checksum"),
                "{isa} {name}, sealed: want {why:?}: {code:?} {err}"
            );
            let (code, out, err) = run_restore(direct_restore(&s, &path), &s.input);
            assert!(
                code == Some(125) && out.is_empty() && err.contains("cannot restore"),
                "{isa} {name}, sealed, runtime alone: {code:?} {err}"
            );
        }
    }
}
