//! What `migrate mtd` measured: the run's timeline (where the program ran,
//! each migration's latency part by part), as JSON (`--report`) and as the
//! table printed at the end.

use migrate_format::Arch;
use serde::{Deserialize, Serialize};

/// One `migrate mtd` run. Times are from the program's start; `legs` and
/// `moves` partition the wall time: the time on each ISA plus the time
/// migrating is the wall time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The build's base name and the program's arguments.
    pub program: String,
    pub args: Vec<String>,
    /// The seed of the periods (repeat the run with `--seed`).
    pub seed: u64,
    pub period_ms: f64,
    /// Each period is drawn from period × (1 ± jitter).
    pub jitter: f64,
    pub start: Arch,
    pub exit_code: i32,
    pub wall_s: f64,
    /// Moves made (refused ones not counted).
    pub migrations: usize,
    /// Moves the translator refused (the program went on where it was).
    pub refusals: usize,
    /// Seconds the program ran on each ISA (including time waiting for a
    /// migratable landmark, which it spends running).
    pub time_on: TimeOn,
    /// Seconds from checkpoints' starts to the restored programs' resumes.
    pub migrating_s: f64,
    /// `migrating_s` / `wall_s`.
    pub migrating_fraction: f64,
    /// Checkpoints that had to wait for a landmark where every frame is at
    /// a migratable call site.
    pub deferrals: Deferrals,
    /// Each stretch the program ran on one ISA.
    pub legs: Vec<Leg>,
    /// Each checkpoint taken, and what became of it.
    pub moves: Vec<MoveTiming>,
    /// Set if a move was wanted when the program ended and never came (no
    /// migratable landmark after the period ran out), saying so.
    pub unfinished: Option<String>,
}

/// Seconds on each ISA.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimeOn {
    pub x86_64: f64,
    pub aarch64: f64,
}

impl TimeOn {
    pub fn add(&mut self, arch: Arch, seconds: f64) {
        match arch {
            Arch::X86_64 => self.x86_64 += seconds,
            Arch::Aarch64 => self.aarch64 += seconds,
        }
    }
}

/// Waiting for a migratable landmark once a move was due.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Deferrals {
    /// Moves whose checkpoint waited past at least one landmark.
    pub moves: usize,
    /// Landmark hits passed by, over all moves.
    pub hits: u64,
    /// Time from a move being due to its checkpoint, over all moves.
    pub ms: f64,
}

/// A stretch of the run on one ISA.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Leg {
    pub arch: Arch,
    pub start_s: f64,
    pub end_s: f64,
}

/// One checkpoint and what followed it, to the program running again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoveTiming {
    pub from: Arch,
    pub to: Arch,
    /// When the checkpoint started (s from the program's start).
    pub at_s: f64,
    /// Why the translator refused it (the program then went on from the
    /// same image on `from`), or None if it moved.
    pub refused: Option<String>,
    /// Landmark hits passed by between the move falling due and the
    /// checkpoint, and the time that took.
    pub deferred_hits: u64,
    pub deferred_ms: f64,
    /// Writing the image (landmark-rt, in the program).
    pub checkpoint_ms: f64,
    /// From the image written to `migrate` starting the translation (the
    /// runtime says so through the timing FIFO; the process's exit goes on
    /// meanwhile, off the critical path).
    pub handover_ms: f64,
    /// From then to the translated image ready, in `migrate`: reading the
    /// image, translating it, writing what changed and checking the result
    /// against the destination executable.
    pub translate_ms: f64,
    /// From the translated image ready to landmark-rt's restore starting
    /// in the new process: process creation, exec, qemu-user's start-up
    /// for aarch64.
    pub startup_ms: f64,
    /// landmark-rt's restore, to the jump back into the program.
    pub restore_ms: f64,
    /// From the checkpoint's start to the program running again.
    pub total_ms: f64,
    pub image_bytes: u64,
}

impl MoveTiming {
    /// The latency parts, in the order they happen, with their names.
    pub fn parts(&self) -> [(&'static str, f64); 5] {
        [
            ("checkpoint", self.checkpoint_ms),
            ("hand-over", self.handover_ms),
            ("translate", self.translate_ms),
            ("start-up", self.startup_ms),
            ("restore", self.restore_ms),
        ]
    }
}

/// The table printed when the run ends.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let pct = |v: f64| {
        if r.wall_s > 0.0 {
            100.0 * v / r.wall_s
        } else {
            0.0
        }
    };
    let _ = writeln!(
        s,
        "migrate mtd: {} migrations in {:.3} s (period {} ms ± {:.0}%, seed {}), exit code {}",
        r.migrations,
        r.wall_s,
        r.period_ms,
        r.jitter * 100.0,
        r.seed,
        r.exit_code
    );
    for (name, v) in [
        ("on x86_64", r.time_on.x86_64),
        ("on aarch64", r.time_on.aarch64),
        ("migrating", r.migrating_s),
    ] {
        let _ = writeln!(s, "  {name:<12}{v:>9.3} s  {:>5.1}%", pct(v));
    }
    let _ = writeln!(
        s,
        "  refused     {:>9}    deferred {} moves, {} landmark hits, {:.1} ms in all",
        r.refusals, r.deferrals.moves, r.deferrals.hits, r.deferrals.ms
    );
    if let Some(why) = &r.unfinished {
        let _ = writeln!(s, "  at the end: {why}");
    }
    if !r.moves.is_empty() {
        let _ = writeln!(
            s,
            "latency per migration, ms     median x86_64->aarch64   median aarch64->x86_64     max"
        );
        let names: Vec<&str> = r.moves[0].parts().iter().map(|p| p.0).collect();
        for (i, name) in names.iter().chain(["total"].iter()).enumerate() {
            let value = |m: &MoveTiming| {
                if i < names.len() {
                    m.parts()[i].1
                } else {
                    m.total_ms
                }
            };
            let of = |from: Arch| {
                median(
                    r.moves
                        .iter()
                        .filter(|m| m.from == from && m.refused.is_none())
                        .map(value),
                )
            };
            let max = r.moves.iter().map(value).fold(0.0, f64::max);
            let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
            let _ = writeln!(
                s,
                "  {name:<28}{:>22}{:>25}{:>8.2}",
                cell(of(Arch::X86_64)),
                cell(of(Arch::Aarch64)),
                max
            );
        }
    }
    let mut reasons: Vec<&str> = r
        .moves
        .iter()
        .filter_map(|m| m.refused.as_deref())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    for why in reasons {
        let _ = writeln!(s, "refused: {why}");
    }
    s
}

/// The median of `values` (None if there are none).
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }
}
