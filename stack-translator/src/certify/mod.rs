//! Call-site certificates: for a call site's record, every register and
//! stack slot that the code after the return address reads before writing,
//! each with what it holds at the return address. A frame can only be
//! rebuilt at a call site whose every live location is explained.
//!
//! The analysis works on one function's decoded instructions ([`MInst`]),
//! one module per step:
//! 1. `flow`: control flow between instructions (jump tables included);
//! 2. `frame`: the stack and frame pointers as offsets from the canonical
//!    frame address (CFA), so that `[rbp-0x30]` and `[rsp+0x10]` name the
//!    same slot wherever they are the same memory;
//! 3. `locations`, `liveness`: backward liveness of registers and 8-byte
//!    stack slots;
//! 4. `numbering` (each instruction's effect in `transfer`, on the values
//!    of `value`): forward value numbering: which locations hold the same
//!    value, a constant, a frame address, or the caller's value at entry;
//! 5. `certificate` (with `explain`): per record: follow the record's
//!    locations back across the instructions between the return address
//!    and the record's point, and explain each live location.
//!
//! `driver` runs it on every function with records of an executable.

use crate::isa::{Isa, Memory};
use crate::machine::{Flow, MInst};
use crate::stackmaps::Record;
pub use driver::{certify_bytes, certify_file};
pub use migrate_format::certificates::{
    Certificate, Explanation, Loc, RecordOutcome, Refusal, RefusalKind,
};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use value::Val;

/// The analysis fails with the reason the call site cannot migrate.
type Result<T, E = Refusal> = std::result::Result<T, E>;

/// Returns a [`Refusal`] of `kind` at `at` with `detail`.
macro_rules! refuse {
    ($kind:ident, $at:expr, $($detail:tt)*) => {
        return Err(Refusal::new(RefusalKind::$kind, $at, format!($($detail)*)))
    };
}

// After `refuse!`: a macro is in scope only in modules declared after it.
mod certificate;
mod driver;
mod explain;
mod flow;
mod frame;
mod liveness;
mod locations;
mod numbering;
mod transfer;
mod value;

/// Location -> value maps, hashed cheaply: the analysis hashes millions
/// of small keys, and SipHash's flood resistance buys nothing here.
type ValueMap = FxHashMap<Loc, Val>;

/// One function prepared for certifying its call sites.
pub struct Function<'a> {
    isa: &'a dyn Isa,
    /// The address of `__stack_chk_guard`, if the executable has one.
    stack_guard: Option<u64>,
    insts: Vec<MInst>,
    index: HashMap<u64, usize>,
    /// Targets of table jumps resolved from values (instruction indices).
    resolved: HashMap<usize, Vec<usize>>,
    succs: Vec<Vec<usize>>,
    /// (sp, fp) as CFA offsets before each instruction, where known.
    frame: Vec<(Option<i64>, Option<i64>)>,
    /// Whether each instruction is reachable from the entry (so far: table
    /// jumps may not be resolved yet).
    reachable: Vec<bool>,
    /// Per instruction: locations read and written, with the bytes
    /// (bit k = byte k of a slot; registers are always whole).
    uses: Vec<Vec<(Loc, u8)>>,
    defs: Vec<Vec<(Loc, u8)>>,
    /// Every location the function touches, and each one's index in the
    /// dense liveness vectors.
    loc_list: Vec<Loc>,
    loc_index: FxHashMap<Loc, usize>,
    /// Live bytes of every location (by index) at the end of each block.
    live_out: Vec<Vec<u8>>,
    /// First instruction of each basic block, the one after its last, and
    /// each instruction's block.
    block_start: Vec<usize>,
    block_end: Vec<usize>,
    block_of: Vec<usize>,
    /// Values at the start of each block.
    block_in: Vec<ValueMap>,
    /// The CFA ranges of the function's stack allocations (frame-record
    /// order; None where not known). A call may write any of them (its
    /// address can be passed on), so values read from them are not
    /// trusted across calls.
    allocas: Vec<Option<(i64, u64)>>,
}

impl<'a> Function<'a> {
    /// Analyses the decoded instructions of one function; `frame` is its
    /// frame record with the sizes of its stack allocations, if it has one.
    pub fn new(
        isa: &'a dyn Isa,
        insts: Vec<MInst>,
        memory: &dyn Memory,
        frame: Option<(&Record, &[u64])>,
    ) -> Result<Self> {
        if insts.is_empty() {
            refuse!(EmptyFunction, None, "");
        }
        let index: HashMap<u64, usize> = insts
            .iter()
            .enumerate()
            .map(|(i, m)| (m.address, i))
            .collect();
        let mut f = Function {
            isa,
            stack_guard: memory.stack_guard(),
            insts,
            index,
            resolved: HashMap::new(),
            succs: Vec::new(),
            frame: Vec::new(),
            reachable: Vec::new(),
            uses: Vec::new(),
            defs: Vec::new(),
            loc_list: Vec::new(),
            loc_index: FxHashMap::default(),
            live_out: Vec::new(),
            block_start: Vec::new(),
            block_end: Vec::new(),
            block_of: Vec::new(),
            block_in: Vec::new(),
            allocas: Vec::new(),
        };
        // Indirect jumps through a table whose address is in a register are
        // resolved from the value analysis, which needs the control flow:
        // repeat until the targets stop changing.
        for _ in 0..4 {
            f.succs = f.successors()?;
            f.track_frame()?;
            f.allocas = frame.map_or_else(Vec::new, |(r, sizes)| f.alloca_ranges(r, sizes));
            f.uses.clear();
            f.defs.clear();
            f.locations()?;
            f.find_blocks();
            f.liveness();
            // Optimistic first (loops that leave a location alone keep its
            // value); that can fail to settle where relations between
            // locations keep changing, and then the plain analysis runs.
            if f.number_values(true, numbering::OPTIMISTIC_VISITS).is_err() {
                f.number_values(false, numbering::MAX_VISITS)?;
            }
            if !f.resolve_tables(memory)? {
                break;
            }
        }
        for (i, m) in f.insts.iter().enumerate() {
            if m.flow == Flow::Switch(None)
                && !f.resolved.contains_key(&i)
                && f.frame[i].0 != Some(isa.entry_sp())
            {
                refuse!(UnknownJumpTargets, Some(m.address), "{}", m.text);
            }
        }
        Ok(f)
    }

    /// The CFA ranges of the stack allocations ([`Function::alloca_ranges`]
    /// of the frame record given to [`Function::new`]).
    pub fn allocas(&self) -> &[Option<(i64, u64)>] {
        &self.allocas
    }
}

#[cfg(test)]
mod tests;
