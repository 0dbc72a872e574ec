//! `migrate verify BASE`: the differential check a user runs on their own
//! program. One uninterrupted run on each ISA, then the program moved at
//! seeded random landmark hits, in both directions, and bounced K times
//! (`--ping-pong`); each run's standard output, standard error, exit code
//! and the files it wrote are compared with the uninterrupted x86_64 run.
//!
//! Every run is a `migrate run` of this executable in a directory of its
//! own (empty at the start; the files the program writes there are what is
//! compared), with standard input from one copy of this process's standard
//! input, read once. An argument naming a file or directory that exists
//! relative to the current directory is passed as an absolute path, so
//! input files are found from the run's own directory.

use anyhow::{bail, Context, Result};
use migrate_format::Arch;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::run::Move;

/// What `migrate verify` was asked.
pub struct Options {
    pub base: PathBuf,
    pub args: Vec<String>,
    /// Random landmark hits, each moved in both directions.
    pub points: u32,
    pub seed: u64,
    /// Moves of each ping-pong run (one starting on each ISA); 0: none.
    pub ping_pong: u32,
}

/// One run's observable outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Files the run left in its directory: name -> contents.
    files: BTreeMap<String, Vec<u8>>,
}

/// How one moved run compares with the uninterrupted one.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Output, exit code and files byte-identical, every move made.
    Identical,
    /// Identical, but some move was refused (the program went on where it
    /// was): the reasons are in `refused`.
    Refused,
    /// Something differs: `difference` says what.
    Differing,
}

/// One moved run.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// `x86_64 -> aarch64`, `aarch64 -> x86_64`, or `ping-pong from ISA`.
    pub kind: String,
    pub from: Arch,
    /// The landmark hit of the (first) move.
    pub hit: u64,
    /// Moves asked for.
    pub moves: u32,
    pub verdict: Verdict,
    /// Why moves were refused.
    pub refused: Vec<String>,
    /// What differs, for a differing run.
    pub difference: Option<String>,
    /// The command that repeats this run.
    pub command: String,
}

/// The whole report (`--json`).
#[derive(Debug, Serialize)]
pub struct Report {
    pub base: PathBuf,
    pub seed: u64,
    pub points: u32,
    pub ping_pong: u32,
    /// Landmark hits of the uninterrupted x86_64 run.
    pub landmark_hits: u64,
    /// Whether the uninterrupted aarch64 run matched the x86_64 one.
    pub isas_agree: bool,
    pub trials: Vec<Trial>,
    pub identical: usize,
    pub refused: usize,
    pub differing: usize,
}

/// Runs the check; the report, whose `differing` count decides the exit
/// status.
pub fn verify(o: &Options) -> Result<Report> {
    if o.points == 0 && o.ping_pong == 0 {
        bail!("nothing to verify: --points 0 and no --ping-pong");
    }
    let me = std::env::current_exe().context("cannot find the migrate executable")?;
    let work = tempfile::Builder::new()
        .prefix("migrate-verify-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let stdin_copy = work.path().join("stdin");
    let mut input = Vec::new();
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        std::io::stdin()
            .read_to_end(&mut input)
            .context("cannot read standard input")?;
    }
    std::fs::write(&stdin_copy, &input)?;
    let base = std::path::absolute(&o.base)?;
    let args: Vec<String> = o.args.iter().map(|a| absolute_if_exists(a)).collect();
    let runner = Runner {
        me: &me,
        work: work.path(),
        stdin: &stdin_copy,
        base: &base,
        args: &args,
        count: std::cell::Cell::new(0),
    };

    // The uninterrupted runs: x86_64 (the reference, with its hit count)
    // and aarch64.
    let stats = work.path().join("stats.json");
    let reference = runner.run(&["--stats".into(), stats.display().to_string()], None)?;
    let hits = std::fs::read(&stats)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["landmark_hits"].as_u64())
        .context(
            "the uninterrupted run wrote no landmark statistics (was it built by `migrate cc`?)",
        )?;
    if hits == 0 {
        bail!(
            "{}: the program hit no landmark: there is nowhere to move it",
            o.base.display()
        );
    }
    let on_aarch64 = runner.run(&["--arch".into(), "aarch64".into()], None)?;
    let isas_agree = on_aarch64 == reference;

    let mut rng = Rng::seeded(o.seed);
    let mut trials = Vec::new();
    for _ in 0..o.points {
        let hit = 1 + rng.below(hits);
        for from in Arch::ALL {
            let to = from.other();
            let kind = format!("{from} -> {to}");
            let flags = vec![
                "--arch".into(),
                from.name().into(),
                "--migrate-at".into(),
                hit.to_string(),
                "--to".into(),
                to.name().into(),
            ];
            trials.push(runner.trial(&reference, kind, from, hit, 1, flags, o)?);
        }
    }
    if o.ping_pong > 0 {
        for from in Arch::ALL {
            // Legs short enough that every move comes before the end.
            let leg = 1 + rng.below((hits / (u64::from(o.ping_pong) + 1)).max(1));
            let flags = vec![
                "--arch".into(),
                from.name().into(),
                "--migrate-at".into(),
                leg.to_string(),
                "--ping-pong".into(),
                o.ping_pong.to_string(),
            ];
            let kind = format!("ping-pong from {from}");
            trials.push(runner.trial(&reference, kind, from, leg, o.ping_pong, flags, o)?);
        }
    }
    let count = |v: Verdict| trials.iter().filter(|t| t.verdict == v).count();
    Ok(Report {
        base: o.base.clone(),
        seed: o.seed,
        points: o.points,
        ping_pong: o.ping_pong,
        landmark_hits: hits,
        isas_agree,
        identical: count(Verdict::Identical),
        refused: count(Verdict::Refused),
        differing: count(Verdict::Differing) + usize::from(!isas_agree),
        trials,
    })
}

/// `arg` made absolute if it names an existing file or directory.
fn absolute_if_exists(arg: &str) -> String {
    let p = Path::new(arg);
    if !arg.starts_with('-') && p.is_relative() && p.exists() {
        if let Ok(a) = std::path::absolute(p) {
            return a.display().to_string();
        }
    }
    arg.to_string()
}

/// Runs `migrate run` children, each in a directory of its own.
struct Runner<'a> {
    me: &'a Path,
    work: &'a Path,
    stdin: &'a Path,
    base: &'a Path,
    args: &'a [String],
    count: std::cell::Cell<usize>,
}

impl Runner<'_> {
    /// `migrate run FLAGS BASE -- ARGS` in a fresh directory; with `moves`,
    /// the moves are reported there.
    fn run(&self, flags: &[String], moves: Option<&Path>) -> Result<Outcome> {
        let n = self.count.get();
        self.count.set(n + 1);
        let dir = self.work.join(format!("run{n}"));
        std::fs::create_dir(&dir)?;
        let mut cmd = Command::new(self.me);
        cmd.arg("run").args(flags);
        if let Some(m) = moves {
            cmd.arg("--moves").arg(m);
        }
        cmd.arg(self.base).arg("--").args(self.args);
        let out = cmd
            .current_dir(&dir)
            .stdin(Stdio::from(std::fs::File::open(self.stdin)?))
            .output()
            .with_context(|| format!("cannot run {}", self.me.display()))?;
        let mut files = BTreeMap::new();
        collect_files(&dir, &dir, &mut files)?;
        std::fs::remove_dir_all(&dir)?;
        Ok(Outcome {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
            files,
        })
    }

    /// One moved run, compared with `reference`.
    #[allow(clippy::too_many_arguments)]
    fn trial(
        &self,
        reference: &Outcome,
        kind: String,
        from: Arch,
        hit: u64,
        moves: u32,
        flags: Vec<String>,
        o: &Options,
    ) -> Result<Trial> {
        let log = self.work.join("moves.jsonl");
        let _ = std::fs::remove_file(&log);
        let got = self.run(&flags, Some(&log))?;
        let made: Vec<Move> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let refused: Vec<String> = made
            .iter()
            .filter_map(|m| {
                m.refused
                    .as_ref()
                    .map(|why| format!("{} -> {} at hit {}: {why}", m.from, m.to, m.hit))
            })
            .collect();
        let mut refused = refused;
        let mut difference = differ(reference, &got);
        if made.len() < moves as usize {
            // No migratable landmark came before the program ended: the
            // program ran to its end where it was (migrate says so and
            // fails); its output must still be the uninterrupted one's.
            let said = String::from_utf8_lossy(&got.stderr);
            let reason = said
                .lines()
                .find(|l| l.starts_with("migrate: error:"))
                .map(str::to_string);
            let same = got.stdout == reference.stdout && got.files == reference.files;
            match reason {
                Some(why) if same => {
                    difference = None;
                    refused.push(format!("move {} of {moves}: {why}", made.len() + 1));
                }
                _ => {
                    difference.get_or_insert_with(|| {
                        format!(
                            "{} of {moves} moves were made before the program ended",
                            made.len()
                        )
                    });
                }
            }
        }
        let verdict = match (&difference, refused.is_empty()) {
            (Some(_), _) => Verdict::Differing,
            (None, true) => Verdict::Identical,
            (None, false) => Verdict::Refused,
        };
        let command = format!(
            "migrate run {} {} -- {}",
            flags.join(" "),
            o.base.display(),
            o.args.join(" ")
        );
        Ok(Trial {
            kind,
            from,
            hit,
            moves,
            verdict,
            refused,
            difference,
            command: command.trim_end().trim_end_matches(" --").to_string(),
        })
    }
}

/// What differs between the uninterrupted run and a moved one, if anything.
fn differ(want: &Outcome, got: &Outcome) -> Option<String> {
    if got.code != want.code {
        return Some(format!(
            "exit code {:?}, uninterrupted {:?} (stderr: {})",
            got.code,
            want.code,
            String::from_utf8_lossy(&got.stderr).trim()
        ));
    }
    let first = |a: &[u8], b: &[u8]| {
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()))
    };
    for (what, a, b) in [
        ("stdout", &got.stdout, &want.stdout),
        ("stderr", &got.stderr, &want.stderr),
    ] {
        if a != b {
            return Some(format!(
                "{what}: {} bytes, uninterrupted {}; first difference at byte {}",
                a.len(),
                b.len(),
                first(a, b)
            ));
        }
    }
    if got.files != want.files {
        let names: Vec<&String> = got
            .files
            .keys()
            .chain(want.files.keys())
            .filter(|n| got.files.get(*n) != want.files.get(*n))
            .collect();
        return Some(format!("files differ: {names:?}"));
    }
    None
}

/// Every regular file under `dir`, by path relative to `root`.
fn collect_files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.insert(name, std::fs::read(&path)?);
        }
    }
    Ok(())
}

/// The human-readable report.
pub fn render(r: &Report) -> String {
    let mut s = format!(
        "migrate verify: {} (seed {}; {} landmark hits uninterrupted; aarch64 uninterrupted: {})\n",
        r.base.display(),
        r.seed,
        r.landmark_hits,
        if r.isas_agree { "identical" } else { "DIFFERS" }
    );
    let mut kinds: Vec<&str> = Vec::new();
    for t in &r.trials {
        if !kinds.contains(&t.kind.as_str()) {
            kinds.push(&t.kind);
        }
    }
    s.push_str(&format!(
        "  {:<32} {:>9} {:>9} {:>9}\n",
        "moves", "identical", "refused", "differing"
    ));
    for k in kinds {
        let of = |v: Verdict| {
            r.trials
                .iter()
                .filter(|t| t.kind == k && t.verdict == v)
                .count()
        };
        let label = match r.trials.iter().find(|t| t.kind == k) {
            Some(t) if t.moves > 1 => format!("{k} ({} moves)", t.moves),
            _ => k.to_string(),
        };
        s.push_str(&format!(
            "  {label:<32} {:>9} {:>9} {:>9}\n",
            of(Verdict::Identical),
            of(Verdict::Refused),
            of(Verdict::Differing)
        ));
    }
    for t in r.trials.iter().filter(|t| t.verdict != Verdict::Identical) {
        for why in &t.refused {
            s.push_str(&format!("refused: {why}\n"));
        }
        if let Some(d) = &t.difference {
            s.push_str(&format!(
                "DIFFERS: {}: {d}\n  repeat: {}\n",
                t.kind, t.command
            ));
        }
    }
    let total = r.trials.len();
    s.push_str(&format!(
        "{} of {total} runs identical, {} with a refused move, {} differing (seed {})",
        r.identical, r.refused, r.differing, r.seed
    ));
    s
}

/// xorshift64*: reproducible choices from the seed.
struct Rng(u64);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        Rng((seed ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0x100_0000_01b3) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}
