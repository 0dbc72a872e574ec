//! The JSON the runtime writes for `migrate` at a program's exit: landmark
//! statistics ([`env::STATS`](crate::env::STATS), `landmark.c`), why a
//! checkpoint that was asked for never came ([`env::REPORT`](crate::env::REPORT),
//! `checkpoint.c`'s `write_report`), and how long writing and restoring
//! images took ([`env::TIMING`](crate::env::TIMING), one line per event). The runtime prints them with
//! `snprintf` (it cannot link a JSON library); these are their readers, and
//! the end-to-end tests parse what the runtime wrote with them.

use serde::{Deserialize, Serialize};

/// `LANDMARK_STATS`: how often landmarks came in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The ISA that ran.
    pub isa: crate::Arch,
    /// Landmark hits.
    pub landmark_hits: u64,
    /// Of those, at call sites certified migratable.
    pub migratable_hits: u64,
    /// The longest time between two hits, in microseconds (an upper bound:
    /// every hit reads the clock, and the machine preempts now and then).
    pub max_interval_us: f64,
    /// The call-site IDs of the two landmarks around the longest interval.
    pub max_interval_between: [i64; 2],
    pub p50_interval_us: f64,
    pub p99_interval_us: f64,
    /// From start-up to the first hit.
    pub startup_us: f64,
    /// From the last hit to exit.
    pub exit_us: f64,
}

/// `LANDMARK_REPORT`: written at exit when a checkpoint was still wanted
/// or the last one could not be written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointReport {
    /// 1 if a checkpoint was still wanted.
    pub wanted: u8,
    /// 1 if its trigger had fired: the N-th hit came, the time passed, or
    /// the request arrived.
    pub reached: u8,
    /// Landmark hits counted since the triggers were armed.
    pub hits: u64,
    /// Hits since the trigger fired.
    pub waited: u64,
    /// Of those, hits at call sites certified migratable (each deferred
    /// because an older frame was not).
    pub waited_migratable: u64,
    /// 1 if the last checkpoint could not be written (the runtime said why).
    pub failed: u8,
}

/// One line of `LANDMARK_TIMING`:
/// `{"event":"checkpoint","bytes":N,"ns":T,"start":S,"wanted":W,"waited":H}`
/// (`checkpoint.c`: writing an image of N bytes took T ns from S; the
/// checkpoint fell due at W and waited H landmark hits for one where every
/// frame is at a migratable call site) or `{"event":"restore","ns":T,
/// "start":S}` (`restore.c`: from the restore's start at S to the jump back
/// into the program). S and W are CLOCK_MONOTONIC ns, the clock of the
/// process that reads them (qemu-user passes it through).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingEvent {
    /// `checkpoint` or `restore`.
    pub event: String,
    /// The image's size (checkpoints only).
    #[serde(default)]
    pub bytes: Option<u64>,
    pub ns: u64,
    /// When it started.
    #[serde(default)]
    pub start: u64,
    /// When the checkpoint fell due (0: not known).
    #[serde(default)]
    pub wanted: u64,
    /// Landmark hits passed by between `wanted` and the checkpoint.
    #[serde(default)]
    pub waited: u64,
}
