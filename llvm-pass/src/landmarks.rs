//! Landmarks: the points where a running program can be stopped and moved.
//!
//! A landmark is an inline check of one flag, `__landmark_pending` (one load
//! and a branch predicted not taken), with a call to `__landmark_hit(id)` in
//! landmark-rt on the cold path. They go at loop headers (found as targets
//! of DFS back edges), except short loops: innermost, call-free, with a
//! small constant trip count (`short_loops.rs`), whose time is bounded
//! anyway; and at the entry (after the entry block's allocas, so those stay
//! static) of the functions that break every cycle of calls
//! (`call_cycles.rs`): with loops bounded, only recursion could run long
//! without a landmark. Other functions return after a bounded time to a
//! caller whose next landmark comes soon; an entry check in each cost Lua's
//! interpreter 6% more instructions. The pass runs once, on the shared
//! module, so a landmark ID means the same point in both executables; IDs
//! follow module order and are therefore the same for every build of the
//! same sources.
//!
//! Each landmark is first inserted as a call to a tiny `alwaysinline` helper,
//! then LLVM's own inliner splits the blocks and fixes the PHIs.

use crate::call_cycles;
use crate::ir;
use crate::short_loops;
use crate::{Error, Result};
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::module::{Linkage, Module};
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::TargetMachine;
use inkwell::values::{AsValueRef, BasicValue, FunctionValue};
use inkwell::{AddressSpace, IntPredicate};
use std::str::FromStr;

/// The flag landmarks test; set by landmark-rt when it wants a landmark to call in.
pub const PENDING_FLAG: &str = "__landmark_pending";
/// The runtime entry called on the cold path with the landmark's ID.
pub const HIT_FUNCTION: &str = "__landmark_hit";
/// The inlined helper (exists only while the pass runs).
const CHECK_FUNCTION: &str = "__landmark_check";
/// How much more likely the fast path is, for the branch weights.
const NOT_TAKEN_WEIGHT: u64 = 1 << 20;

/// Where landmarks go (`migrate cc --landmarks=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// No landmarks: the program can never migrate.
    None,
    /// Function entries only.
    Entry,
    /// Loop headers only.
    Loops,
    /// Function entries and loop headers: bounded time between landmarks.
    #[default]
    All,
}

impl FromStr for Policy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Policy::None),
            "entry" => Ok(Policy::Entry),
            "loops" => Ok(Policy::Loops),
            "all" => Ok(Policy::All),
            _ => Err(Error::UnknownPolicy(s.to_string())),
        }
    }
}

/// Inserts landmarks into every defined function; returns how many.
pub fn instrument(module: &Module, policy: Policy, machine: &TargetMachine) -> Result<u32> {
    if policy == Policy::None {
        return Ok(0);
    }
    let check = define_check(module);
    let points = insertion_points(module, policy);
    let ctx = module.get_context();
    let i32t = ctx.i32_type();
    {
        let builder = ir::Builder::new(module);
        for (id, before) in points.iter().enumerate() {
            builder.position_before(*before);
            builder.call(check, &[i32t.const_int(id as u64, false).as_value_ref()]);
        }
    }
    module
        .run_passes("always-inline", machine, PassBuilderOptions::create())
        .map_err(|e| Error::Llvm {
            what: "inlining landmark checks".into(),
            why: e.to_string(),
        })?;
    // The inliner usually deletes the helper once it is unused.
    if let Some(helper) = module.get_function(CHECK_FUNCTION) {
        ir::delete_unused_function(helper);
    }
    Ok(points.len() as u32)
}

/// `static inline void __landmark_check(int id)
///  { if (__builtin_expect(__landmark_pending, 0)) __landmark_hit(id); }`
/// with a volatile load: the flag is set asynchronously (signals, timers).
fn define_check<'ctx>(module: &Module<'ctx>) -> FunctionValue<'ctx> {
    let ctx = module.get_context();
    let i32t = ctx.i32_type();
    let void = ctx.void_type();
    let flag = module.get_global(PENDING_FLAG).unwrap_or_else(|| {
        let g = module.add_global(i32t, Some(AddressSpace::default()), PENDING_FLAG);
        g.set_linkage(Linkage::External);
        g
    });
    let hit = module.get_function(HIT_FUNCTION).unwrap_or_else(|| {
        let f = module.add_function(HIT_FUNCTION, void.fn_type(&[i32t.into()], false), None);
        for attr in ["cold", "noinline", "nounwind"] {
            f.add_attribute(
                AttributeLoc::Function,
                ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(attr), 0),
            );
        }
        f
    });
    let check = module.add_function(
        CHECK_FUNCTION,
        void.fn_type(&[i32t.into()], false),
        Some(Linkage::Internal),
    );
    check.add_attribute(
        AttributeLoc::Function,
        ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("alwaysinline"), 0),
    );
    let builder = ctx.create_builder();
    let entry = ctx.append_basic_block(check, "entry");
    let cold = ctx.append_basic_block(check, "landmark");
    let done = ctx.append_basic_block(check, "continue");
    builder.position_at_end(entry);
    let pending = builder
        .build_load(i32t, flag.as_pointer_value(), "pending")
        .unwrap();
    pending
        .as_instruction_value()
        .unwrap()
        .set_volatile(true)
        .unwrap();
    let set = builder
        .build_int_compare(
            IntPredicate::NE,
            pending.into_int_value(),
            i32t.const_zero(),
            "set",
        )
        .unwrap();
    let branch = builder.build_conditional_branch(set, cold, done).unwrap();
    let weights = ctx.metadata_node(&[
        ctx.metadata_string("branch_weights").into(),
        i32t.const_int(1, false).into(),
        i32t.const_int(NOT_TAKEN_WEIGHT, false).into(),
    ]);
    branch
        .set_metadata(weights, ctx.get_kind_id("prof"))
        .unwrap();
    builder.position_at_end(cold);
    builder
        .build_call(hit, &[check.get_first_param().unwrap().into()], "")
        .unwrap();
    builder.build_unconditional_branch(done).unwrap();
    builder.position_at_end(done);
    builder.build_return(None).unwrap();
    check
}

/// True if any block calls a function, or an intrinsic that can run long
/// (memcpy, memset, memmove on large buffers).
fn calls_anything(blocks: &[ir::Block]) -> bool {
    blocks
        .iter()
        .flat_map(|b| ir::block_instructions(*b))
        .filter(|i| ir::is_call(*i))
        .any(|call| {
            match ir::direct_callee(call).map(ir::name) {
                Some(name) => !name.starts_with("llvm.") || name.starts_with("llvm.mem"),
                None => true, // indirect call
            }
        })
}

/// The first instruction of the entry block that is not a stack
/// allocation: the entry landmark goes there, so the allocas stay static
/// (in the entry block) and the landmark comes before any call (after a
/// call that never returns it would be dead code).
fn after_allocas(entry: ir::Block) -> ir::Value {
    ir::block_instructions(entry)
        .into_iter()
        .find(|i| !ir::is_alloca(*i))
        .or_else(|| ir::terminator(entry))
        .expect("a function's entry block ends in a terminator")
}

/// The instructions before which a landmark goes, in module order.
fn insertion_points(module: &Module, policy: Policy) -> Vec<ir::Value> {
    let mut points = Vec::new();
    let functions: Vec<FunctionValue> = module.get_functions().collect();
    // With loop landmarks, only recursion is left to bound (call_cycles.rs);
    // on their own, entry landmarks go everywhere.
    let entry = match policy {
        Policy::All => call_cycles::entry_landmarks(&functions),
        _ => vec![true; functions.len()],
    };
    for (f, needs_entry) in functions.into_iter().zip(entry) {
        let name = f.get_name().to_string_lossy();
        if f.count_basic_blocks() == 0 || name.starts_with("__landmark") {
            continue;
        }
        let blocks = ir::blocks(f.as_value_ref());
        let headers = ir::loop_headers(&blocks);
        let short = short_loops::short_loop_headers(&blocks);
        // A function without loops or calls runs for a short, bounded time
        // and its caller's next landmark follows: its entry needs none.
        let bounded = !headers.contains(&true) && !calls_anything(&blocks);
        for (i, block) in blocks.iter().enumerate() {
            if i == 0 && needs_entry && !bounded && matches!(policy, Policy::Entry | Policy::All) {
                points.push(after_allocas(*block));
            }
            // A short loop's time is bounded: the next landmark around it
            // follows soon (short_loops.rs).
            if headers[i] && !short[i] && matches!(policy, Policy::Loops | Policy::All) {
                points.push(
                    ir::first_insertion_point(*block)
                        .expect("a block ends in a terminator, after its PHIs"),
                );
            }
        }
    }
    points
}
