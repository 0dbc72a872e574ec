//! The environment variables through which `migrate` tells landmark-rt what
//! to do (the runtime reads them at start-up, or at restore, and removes
//! them from the program's environment).

/// Write landmark statistics as JSON to this file at exit (`migrate run
/// --stats`; the runtime's `landmark.c`).
pub const STATS: &str = "LANDMARK_STATS";
/// Where a checkpoint image goes (default `landmark-PID.core` in the
/// working directory).
pub const IMAGE: &str = "LANDMARK_IMAGE";
/// Checkpoint at the N-th landmark hit (counted from start-up or restore).
pub const CHECKPOINT_AT: &str = "LANDMARK_CHECKPOINT_AT";
/// Checkpoint this many milliseconds after start-up or restore.
pub const CHECKPOINT_AFTER_MS: &str = "LANDMARK_CHECKPOINT_AFTER_MS";
/// `1`: keep running after writing the image.
pub const KEEP_RUNNING: &str = "LANDMARK_KEEP_RUNNING";
/// The checkpoint signal's number (default SIGUSR2).
pub const SIGNAL: &str = "LANDMARK_SIGNAL";
/// Append how long writing (or restoring) the image took, as JSON lines.
pub const TIMING: &str = "LANDMARK_TIMING";
/// If the program ends with a checkpoint still wanted, say why (JSON).
pub const REPORT: &str = "LANDMARK_REPORT";
/// Restore this image instead of starting the program (`migrate restore`).
pub const RESTORE: &str = "LANDMARK_RESTORE";
/// Wait on this file descriptor for one line, the path of an image to
/// restore, instead of starting the program; at end of file without one,
/// exit 0 (`migrate mtd`: a process started ahead of time, so that the
/// start-up of a move's destination is not on the move's critical path).
pub const RESTORE_FROM_FD: &str = "LANDMARK_RESTORE_FROM_FD";

/// `1`: lay images out at their addresses (each segment's bytes at the file
/// offset equal to its address, a sparse file), and when the process was
/// restored from the image file it checkpoints to, write only the memory
/// it changed since, in place (`migrate mtd`; landmark-rt's `image.c`).
pub const IN_PLACE: &str = "LANDMARK_IN_PLACE";

/// Every variable, for the C header's list of names to remove.
pub const ALL: [(&str, &str); 11] = [
    ("ENV_STATS", STATS),
    ("ENV_IMAGE", IMAGE),
    ("ENV_CHECKPOINT_AT", CHECKPOINT_AT),
    ("ENV_CHECKPOINT_AFTER_MS", CHECKPOINT_AFTER_MS),
    ("ENV_KEEP_RUNNING", KEEP_RUNNING),
    ("ENV_SIGNAL", SIGNAL),
    ("ENV_TIMING", TIMING),
    ("ENV_REPORT", REPORT),
    ("ENV_RESTORE", RESTORE),
    ("ENV_RESTORE_FROM_FD", RESTORE_FROM_FD),
    ("ENV_IN_PLACE", IN_PLACE),
];
