//! Live-value records: a stock LLVM stackmap after every call site where a
//! frame can be suspended during a migration, plus the side table
//! (`migrate_format::callsites`) that says what each recorded location is.
//!
//! Which calls get a record: the landmark calls themselves, calls through
//! pointers, calls to program functions that can (transitively) reach a
//! landmark, and calls to functions that return twice (`setjmp`, whose return
//! address a `jmp_buf` holds). Calls into libc need none: a frame suspended
//! in libc is never migratable (libc's own frame sits above it), and calls
//! that can never reach a landmark are never on the stack when one is hit.
//!
//! What a record holds: every SSA value live right after the call
//! ([`crate::liveness`]), and every stack allocation whose memory may be in
//! use there (its lifetime markers say so, or it has none). Allocas are
//! recorded even when their address is not live as a value: a pointer to
//! one may sit in memory, and the translator must move the contents.
//! Also the operands of every live comparison: the backend sinks a
//! comparison to its uses, the record among them, and then keeps its
//! operands across the call rather than the flag (on SQLite this took the
//! certified records from 84% to 92%).
//!
//! The backend can only record values of legal machine types, so others are
//! split into parts first (an `i128` into two `i64`, a struct into its
//! fields, an `<8 x i32>` into 64-bit chunks); the side table maps every
//! stackmap location back to its value and byte offset.
//!
//! IDs are sequential in module order, so every build of the same sources
//! numbers its call sites identically, and both ISAs share them (the pass
//! runs once, before the module is split per ISA).

use crate::ir::{self, Block, Builder, LLVMOpcode, LLVMTypeKind, Type, Value};
use crate::landmarks::HIT_FUNCTION;
use crate::liveness;
use crate::{Error, Result};
use inkwell::module::Module;
use inkwell::targets::TargetData;
use inkwell::values::{AsValueRef, FunctionValue};
use migrate_format::callsites::{
    Base, CallKind, CallSite, CallSiteTable, DerivedValue, Frame, RecordedPart, FRAME_ID_BASE,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The stock LLVM intrinsic that records live values at a point.
const STACKMAP: &str = "llvm.experimental.stackmap";

/// Adds the migratable-sites table the runtime reads
/// ([`migrate_format::sites`]) with every site
/// marked not migratable; the build fills it in once the executables are
/// certified. A constant (read-only data) of the same size on both ISAs.
pub fn reserve_sites_table(module: &Module, count: usize) {
    use migrate_format::sites::{placeholder, SYMBOL as SITES_SYMBOL};
    let ctx = module.get_context();
    let bytes = placeholder(count);
    let init = ctx.const_string(&bytes, false);
    let g = module.add_global(init.get_type(), None, SITES_SYMBOL);
    g.set_initializer(&init);
    g.set_constant(true);
    g.set_alignment(8);
}

/// Inserts a stackmap after every call site that needs a record; returns
/// the side table describing them. `layout` is the module's data layout
/// (the aarch64 one: sizes and offsets are the same on x86_64 for every
/// type a record can hold).
pub fn insert(module: &Module, layout: &TargetData) -> Result<CallSiteTable> {
    let reaching = functions_reaching_landmarks(module);
    let stackmap = stackmap_function(module);
    let mut table = CallSiteTable::default();
    let ctx = module.get_context();
    let builder = Builder::new(module);
    let header = |id: u64| {
        vec![
            ctx.i64_type().const_int(id, false).as_value_ref(),
            ctx.i32_type().const_int(0, false).as_value_ref(),
        ]
    };
    let emit = |operands: &[Value]| {
        builder.call(stackmap, operands);
    };
    for f in module.get_functions() {
        if f.count_basic_blocks() == 0 {
            continue;
        }
        let sites: Vec<(liveness::LiveAcross, CallKind)> = liveness::live_across_calls(f)
            .into_iter()
            .filter_map(|s| call_kind(s.call, &reaching).map(|k| (s, k)))
            .collect();
        if sites.is_empty() {
            continue;
        }
        let fname = f.get_name().to_string_lossy().into_owned();
        let memory_live = allocas_in_use_after_calls(f.as_value_ref());
        let defined = Definitions::new(f.as_value_ref());
        let frame = static_allocas(f.as_value_ref());
        let frame_index: HashMap<Value, u32> = frame
            .iter()
            .enumerate()
            .map(|(i, a)| (*a, i as u32))
            .collect();
        if !frame.is_empty() {
            // The frame record: every fixed-size allocation's frame
            // address, once per function (the addresses are the same at
            // every call site, so call sites only list which are in use).
            let id = FRAME_ID_BASE + table.frames.len() as u64;
            builder.position_before(after_last(&frame));
            let mut operands = header(id);
            operands.extend(frame.iter().copied());
            emit(&operands);
            table.frames.push(Frame {
                id,
                function: fname.clone(),
                allocas: frame
                    .iter()
                    .map(|a| fixed_alloca_size(*a, layout))
                    .collect(),
            });
        }
        for (site, kind) in sites {
            let id = table.sites.len() as u64;
            if let CallKind::Landmark(_) = kind {
                // The runtime is told the call-site ID, not the landmark's
                // ordinal: that is what indexes the migratable-sites
                // table and names the innermost frame's record.
                ir::set_operand(
                    site.call,
                    0,
                    ctx.i32_type().const_int(id, false).as_value_ref(),
                );
            }
            // Fixed-size allocations and pointers at fixed offsets into
            // them are not recorded per call (recording dozens of
            // `&buf[i]` made the register allocator give up): the frame
            // record has their addresses and the table says which are
            // in use and how to rebuild the derived pointers.
            let mut values: Vec<Value> = Vec::new();
            let mut derived: Vec<(Base, Option<Value>, i64)> = Vec::new();
            let mut in_use: BTreeSet<u32> = BTreeSet::new();
            let mut dynamic: BTreeSet<Value> = BTreeSet::new();
            for v in with_compare_operands(&site.live) {
                let (root, offset) = offset_from_root(v, layout);
                if let Some(&i) = frame_index.get(&root) {
                    in_use.insert(i);
                    if root != v {
                        derived.push((Base::Alloca(i), None, offset));
                    }
                } else if ir::is_alloca(root) {
                    dynamic.insert(root);
                    if root != v {
                        derived.push((Base::Value(0), Some(root), offset));
                    }
                } else if let Some(name) = named_global(root) {
                    derived.push((Base::Symbol(name), None, offset));
                } else if root == v || ir::is_constant(root) {
                    values.push(v);
                } else {
                    if !values.contains(&root) {
                        values.push(root);
                    }
                    derived.push((Base::Value(0), Some(root), offset));
                }
            }
            if let Some(set) = memory_live.get(&site.call) {
                for a in set {
                    match frame_index.get(a) {
                        Some(i) => {
                            in_use.insert(*i);
                        }
                        // A dynamic allocation exists only after its
                        // alloca ran (a VLA, `alloca(n)`): before that
                        // there is nothing to record, and naming it
                        // would not verify.
                        None if defined.dominates(*a, site.call) => {
                            dynamic.insert(*a);
                        }
                        None => {}
                    }
                }
            }
            values.extend(dynamic);
            let derived = derived
                .into_iter()
                .enumerate()
                .map(|(k, (base, root, offset))| DerivedValue {
                    value: (values.len() + k) as u32,
                    base: match root {
                        Some(r) => Base::Value(values.iter().position(|v| *v == r).unwrap() as u32),
                        None => base,
                    },
                    offset,
                })
                .collect();

            builder
                .position_before(ir::next_instruction(site.call).expect("a call is no terminator"));
            let mut parts = Vec::new();
            let mut operands = header(id);
            for (index, v) in values.iter().enumerate() {
                let dynamic_alloca = ir::is_alloca(*v);
                let mut split = Vec::new();
                flatten(&builder, layout, *v, ir::type_of(*v), 0, false, &mut split).map_err(
                    |ty| Error::Unrecordable {
                        at: where_is(site.call),
                        function: fname.clone(),
                        ty,
                    },
                )?;
                for (operand, offset, pointer) in split {
                    let ty = ir::type_of(operand);
                    parts.push(RecordedPart {
                        value: index as u32,
                        offset: offset as u32,
                        size: ir::store_size(layout, ty) as u32,
                        ty: ir::type_string(ty),
                        pointer,
                        dynamic_alloca,
                    });
                    operands.push(operand);
                }
            }
            emit(&operands);
            table.sites.push(CallSite {
                id,
                function: fname.clone(),
                kind,
                location: ir::location(site.call),
                values: parts,
                allocas: in_use.into_iter().collect(),
                derived,
            });
        }
    }
    table.noreturn = noreturn_functions(module);
    table.va_list_functions = va_list_functions(module);
    Ok(table)
}

/// Names of the defined functions that call `llvm.va_start`, sorted.
fn va_list_functions(module: &Module) -> Vec<String> {
    let mut names: Vec<String> = module
        .get_functions()
        .filter(|f| {
            ir::blocks(f.as_value_ref())
                .into_iter()
                .flat_map(ir::block_instructions)
                .filter(|i| ir::is_call(*i))
                .filter_map(ir::direct_callee)
                .any(|c| ir::name(c).starts_with("llvm.va_start"))
        })
        .map(|f| f.get_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Names of the functions, defined or declared, that never return.
fn noreturn_functions(module: &Module) -> Vec<String> {
    let kind = inkwell::attributes::Attribute::get_named_enum_kind_id("noreturn");
    let mut names: Vec<String> = module
        .get_functions()
        .filter(|f| {
            f.get_enum_attribute(inkwell::attributes::AttributeLoc::Function, kind)
                .is_some()
        })
        .map(|f| f.get_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("llvm."))
        .collect();
    names.sort();
    names
}

/// The function's fixed-size allocations: constant-size allocas in the
/// entry block (LLVM gives these fixed frame slots), in order.
fn static_allocas(f: Value) -> Vec<Value> {
    let entry = ir::blocks(f)[0];
    ir::block_instructions(entry)
        .into_iter()
        .filter(|i| ir::is_alloca(*i) && ir::constant_int(ir::operand(*i, 0)).is_some())
        .collect()
}

/// Where the frame record goes: after the last of the entry block's
/// fixed-size allocations (which need not all come first: a VLA's size can
/// be computed between them), so that it names only defined values.
fn after_last(frame: &[Value]) -> Value {
    let last = *frame.last().expect("a frame record has allocations");
    ir::next_instruction(last).expect("an alloca is no terminator")
}

/// Whether an instruction's definition dominates another instruction of the
/// same function: the function's dominator tree, built once.
struct Definitions {
    block_index: HashMap<Block, usize>,
    dominators: crate::dominators::Dominators,
}

impl Definitions {
    fn new(f: Value) -> Definitions {
        let blocks = ir::blocks(f);
        Definitions {
            block_index: blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect(),
            dominators: crate::dominators::Dominators::new(&ir::successor_indices(&blocks)),
        }
    }

    /// True if `def` dominates `user`: it comes first in the same block, or
    /// its block dominates `user`'s.
    fn dominates(&self, def: Value, user: Value) -> bool {
        let (db, ub) = (ir::parent_block(def), ir::parent_block(user));
        if db == ub {
            let mut i = ir::next_instruction(def);
            while let Some(next) = i {
                if next == user {
                    return true;
                }
                i = ir::next_instruction(next);
            }
            return false;
        }
        self.dominators
            .dominates(self.block_index[&db], self.block_index[&ub])
    }
}

/// `declare void @llvm.experimental.stackmap(i64, i32, ...)`
fn stackmap_function<'ctx>(module: &Module<'ctx>) -> FunctionValue<'ctx> {
    if let Some(f) = module.get_function(STACKMAP) {
        return f;
    }
    let ctx = module.get_context();
    let ty = ctx
        .void_type()
        .fn_type(&[ctx.i64_type().into(), ctx.i32_type().into()], true);
    module.add_function(STACKMAP, ty, None)
}

/// Why a call gets a record, or `None` if it needs none.
fn call_kind(call: Value, reaching: &HashSet<Value>) -> Option<CallKind> {
    if ir::opcode(call) != Some(LLVMOpcode::LLVMCall) || ir::is_musttail(call) {
        // Nothing may follow a musttail call, and its frame is gone anyway.
        return None;
    }
    if never_returns(call) {
        // Nothing is live after it, and the backends drop code placed after
        // it (aarch64 drops the record altogether): no record. A frame
        // suspended in such a call (an error handler running inside
        // `lua_error`) is not migratable; the runtime defers.
        return None;
    }
    let callee = match ir::direct_callee(call) {
        None if ir::is_inline_asm(ir::called_value(call)) => return None,
        None => return Some(CallKind::Indirect),
        Some(c) => c,
    };
    let name = ir::name(callee);
    if name == HIT_FUNCTION {
        let id = ir::constant_int(ir::operand(call, 0)).expect("a landmark's ID is a constant");
        return Some(CallKind::Landmark(id as u32));
    }
    if name.starts_with("llvm.") {
        return None;
    }
    if returns_twice(call, callee) {
        return Some(CallKind::ReturnsTwice(name));
    }
    reaching.contains(&callee).then_some(CallKind::Direct(name))
}

/// `live` plus the operands of every comparison in it. The backend sinks
/// a comparison to its uses (CodeGenPrepare), the record among them, and
/// then keeps the operands (a pointer, for `p == NULL`) across the call
/// instead of the flag; recorded, they explain what the code after the
/// call reads.
fn with_compare_operands(live: &[Value]) -> Vec<Value> {
    let mut out = live.to_vec();
    for &v in live {
        if !ir::is_icmp(v) && !ir::is_fcmp(v) {
            continue;
        }
        for op in ir::operands(v) {
            let variable = ir::is_instruction(op) || ir::is_argument(op);
            if variable && !out.contains(&op) {
                out.push(op);
            }
        }
    }
    out
}

fn returns_twice(call: Value, callee: Value) -> bool {
    has_attribute(call, Some(callee), "returns_twice")
}

/// The call is marked `noreturn` (itself or its callee) or followed by
/// `unreachable`.
fn never_returns(call: Value) -> bool {
    has_attribute(call, ir::direct_callee(call), "noreturn")
        || ir::next_instruction(call)
            .is_some_and(|next| ir::opcode(next) == Some(LLVMOpcode::LLVMUnreachable))
}

/// A function attribute on the callee (if any) or on the call.
fn has_attribute(call: Value, callee: Option<Value>, name: &str) -> bool {
    callee.is_some_and(|f| ir::function_has_attribute(f, name))
        || ir::call_site_has_attribute(call, name)
}

/// Defined functions that can reach a landmark: they contain one, call
/// through a pointer, or call a function that can.
fn functions_reaching_landmarks(module: &Module) -> HashSet<Value> {
    let mut callees: HashMap<Value, Vec<Value>> = HashMap::new();
    let mut reaching = HashSet::new();
    for f in module.get_functions() {
        if f.count_basic_blocks() == 0 {
            continue;
        }
        let f = f.as_value_ref();
        let mut list = Vec::new();
        for b in ir::blocks(f) {
            for call in ir::block_instructions(b)
                .into_iter()
                .filter(|i| ir::is_call(*i))
            {
                match ir::direct_callee(call) {
                    Some(c) if ir::name(c) == HIT_FUNCTION => {
                        reaching.insert(f);
                    }
                    Some(c) if !ir::is_declaration(c) => list.push(c),
                    Some(_) => {}
                    None if ir::is_inline_asm(ir::called_value(call)) => {}
                    None => {
                        reaching.insert(f);
                    }
                }
            }
        }
        callees.insert(f, list);
    }
    let mut changed = true;
    while changed {
        changed = false;
        for (f, list) in &callees {
            if !reaching.contains(f) && list.iter().any(|c| reaching.contains(c)) {
                reaching.insert(*f);
                changed = true;
            }
        }
    }
    reaching
}

/// Bytes a constant-size alloca allocates.
fn fixed_alloca_size(a: Value, layout: &TargetData) -> u64 {
    let count = ir::constant_int(ir::operand(a, 0)).expect("a fixed-size alloca");
    ir::abi_size(layout, ir::allocated_type(a)) * count
}

/// Walks `v` back through constant-offset address arithmetic (GEPs with
/// constant indices, pointer/integer conversions) to its root; returns the
/// root and the byte offset of `v` from it (`v` itself and 0 if `v` is not
/// such arithmetic). The backends often fold these into frame addresses or
/// addressing modes; recording the root instead keeps records small.
fn offset_from_root(mut v: Value, layout: &TargetData) -> (Value, i64) {
    let mut total = 0i64;
    while let Some(opcode) = ir::opcode(v).or_else(|| ir::constant_expr_opcode(v)) {
        match opcode {
            LLVMOpcode::LLVMPtrToInt | LLVMOpcode::LLVMAddrSpaceCast => {
                v = ir::operand(v, 0);
            }
            LLVMOpcode::LLVMGetElementPtr => match gep_offset(v, layout) {
                Some(off) => {
                    total += off;
                    v = ir::operand(v, 0);
                }
                None => break,
            },
            _ => break,
        }
    }
    (v, total)
}

/// The byte offset a GEP adds, if all its indices are constants.
fn gep_offset(gep: Value, layout: &TargetData) -> Option<i64> {
    let mut total = 0i64;
    let mut ty = ir::gep_source_element_type(gep);
    for (i, index) in ir::operands(gep).into_iter().enumerate().skip(1) {
        let index = ir::constant_int_signed(index)?;
        if i == 1 {
            total += index * ir::abi_size(layout, ty) as i64;
            continue;
        }
        match ir::type_kind(ty) {
            LLVMTypeKind::LLVMStructTypeKind => {
                total += ir::field_offset(layout, ty, index as u32) as i64;
                ty = ir::struct_fields(ty)[index as usize];
            }
            LLVMTypeKind::LLVMArrayTypeKind | LLVMTypeKind::LLVMVectorTypeKind => {
                ty = ir::element_type(ty);
                total += index * ir::abi_size(layout, ty) as i64;
            }
            _ => return None,
        }
    }
    Some(total)
}

/// A named global (function or variable): its address is the same in both
/// executables.
fn named_global(v: Value) -> Option<String> {
    if !ir::is_global_value(v) {
        return None;
    }
    let name = ir::name(v);
    (!name.is_empty()).then_some(name)
}

/// Splits `v` (of type `ty`, at byte `offset` of the recorded value) into
/// operands the backends can record, emitting the extraction instructions
/// at `builder`. Each part: (operand, byte offset, holds a pointer). Fails
/// with the type (as LLVM prints it) of a part no record can hold.
fn flatten(
    builder: &Builder,
    layout: &TargetData,
    v: Value,
    ty: Type,
    offset: u64,
    pointer: bool,
    out: &mut Vec<(Value, u64, bool)>,
) -> std::result::Result<(), String> {
    let i64t = ir::int_type(ty, 64);
    match ir::type_kind(ty) {
        LLVMTypeKind::LLVMPointerTypeKind => out.push((v, offset, true)),
        LLVMTypeKind::LLVMFloatTypeKind
        | LLVMTypeKind::LLVMDoubleTypeKind
        | LLVMTypeKind::LLVMFP128TypeKind => out.push((v, offset, pointer)),
        LLVMTypeKind::LLVMHalfTypeKind | LLVMTypeKind::LLVMBFloatTypeKind => {
            let bits = builder.bit_cast(v, ir::int_type(ty, 16));
            out.push((bits, offset, pointer));
        }
        LLVMTypeKind::LLVMIntegerTypeKind => {
            let width = ir::int_width(ty);
            if matches!(width, 1 | 8 | 16 | 32 | 64) {
                out.push((v, offset, pointer));
            } else if width < 64 {
                let wide = builder.zext(v, i64t);
                out.push((wide, offset, pointer));
            } else {
                for chunk in 0..width.div_ceil(64) {
                    let shift = ir::const_int(ty, 64 * chunk as u64);
                    let high = builder.lshr(v, shift);
                    let part = builder.trunc(high, i64t);
                    out.push((part, offset + 8 * chunk as u64, pointer));
                }
            }
        }
        LLVMTypeKind::LLVMVectorTypeKind => {
            let elem = ir::element_type(ty);
            let n = ir::vector_size(ty);
            let elem_kind = ir::type_kind(elem);
            let is_ptr = elem_kind == LLVMTypeKind::LLVMPointerTypeKind;
            let elem_bits = if is_ptr {
                64
            } else {
                ir::size_in_bits(layout, elem) as u32
            };
            let legal_elem = match elem_kind {
                LLVMTypeKind::LLVMIntegerTypeKind => {
                    matches!(ir::int_width(elem), 8 | 16 | 32 | 64)
                }
                LLVMTypeKind::LLVMFloatTypeKind | LLVMTypeKind::LLVMDoubleTypeKind => true,
                LLVMTypeKind::LLVMPointerTypeKind => true,
                _ => false,
            };
            if legal_elem && elem_bits * n == 128 {
                out.push((v, offset, pointer || is_ptr));
                return Ok(());
            }
            let ints = if is_ptr {
                builder.ptr_to_int(v, ir::vector_type(i64t, n))
            } else {
                v
            };
            let whole = ir::int_type(ty, elem_bits * n);
            let bits = builder.bit_cast(ints, whole);
            flatten(builder, layout, bits, whole, offset, pointer || is_ptr, out)?;
        }
        LLVMTypeKind::LLVMStructTypeKind => {
            for (i, field_ty) in ir::struct_fields(ty).into_iter().enumerate() {
                let i = i as u32;
                let field = builder.extract_value(v, i);
                let at = offset + ir::field_offset(layout, ty, i);
                flatten(builder, layout, field, field_ty, at, pointer, out)?;
            }
        }
        LLVMTypeKind::LLVMArrayTypeKind => {
            let elem = ir::element_type(ty);
            let stride = ir::abi_size(layout, elem);
            for i in 0..ir::array_length(ty) as u32 {
                let item = builder.extract_value(v, i);
                flatten(
                    builder,
                    layout,
                    item,
                    elem,
                    offset + stride * i as u64,
                    pointer,
                    out,
                )?;
            }
        }
        _ => return Err(ir::type_string(ty)),
    }
    Ok(())
}

fn where_is(inst: Value) -> String {
    match ir::location(inst) {
        Some((file, line)) => format!("{file}:{line}"),
        None => "<no line>".into(),
    }
}

/// Per call, the stack allocations whose memory may be in use right after
/// it: inside their lifetime, or without lifetime markers. Forward "may be
/// inside its lifetime" dataflow over `llvm.lifetime.start`
/// and `llvm.lifetime.end` markers. An alloca without markers (or whose
/// markers name it through another pointer) is in use everywhere.
fn allocas_in_use_after_calls(f: Value) -> HashMap<Value, BTreeSet<Value>> {
    let blocks = ir::blocks(f);
    let mut allocas = Vec::new();
    let mut marked: HashSet<Value> = HashSet::new();
    let mut unmarkable: HashSet<Value> = HashSet::new();
    for b in &blocks {
        for inst in ir::block_instructions(*b) {
            if ir::is_alloca(inst) {
                allocas.push(inst);
            }
            if let Some((_, target)) = lifetime_marker(inst) {
                match target {
                    Some(a) => {
                        marked.insert(a);
                    }
                    None => {
                        // A marker on a pointer we cannot trace: be conservative.
                        let p = ir::operand(inst, 1);
                        unmarkable.insert(p);
                    }
                }
            }
        }
    }
    let always: BTreeSet<Value> = allocas
        .iter()
        .filter(|a| !marked.contains(a) || !unmarkable.is_empty())
        .copied()
        .collect();
    let index: HashMap<Block, usize> = blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let mut live_in: Vec<BTreeSet<Value>> = vec![BTreeSet::new(); blocks.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (bi, b) in blocks.iter().enumerate() {
            let out = walk_lifetimes(&live_in[bi], *b, &mut |_, _| {});
            for s in ir::successors(*b) {
                if let Some(&si) = index.get(&s) {
                    let before = live_in[si].len();
                    live_in[si].extend(out.iter().copied());
                    changed |= live_in[si].len() != before;
                }
            }
        }
    }
    let mut after_call = HashMap::new();
    for (bi, b) in blocks.iter().enumerate() {
        let mut visit = |call: Value, live: &BTreeSet<Value>| {
            let mut set = live.clone();
            set.extend(always.iter().copied());
            after_call.insert(call, set);
        };
        walk_lifetimes(&live_in[bi], *b, &mut visit);
    }
    after_call
}

/// Applies block `b`'s lifetime markers to the allocas in their lifetime
/// at its start; calls `at_call` with the set at each call. Returns the
/// set at the block's end.
fn walk_lifetimes(
    start: &BTreeSet<Value>,
    b: Block,
    at_call: &mut dyn FnMut(Value, &BTreeSet<Value>),
) -> BTreeSet<Value> {
    let mut live = start.clone();
    for inst in ir::block_instructions(b) {
        if let Some((starts, Some(a))) = lifetime_marker(inst) {
            if starts {
                live.insert(a);
            } else {
                live.remove(&a);
            }
        }
        if ir::is_call(inst) {
            at_call(inst, &live);
        }
    }
    live
}

/// For a lifetime marker: (is a start, the alloca it names if it names one
/// directly).
fn lifetime_marker(inst: Value) -> Option<(bool, Option<Value>)> {
    if !ir::is_call(inst) {
        return None;
    }
    let name = ir::name(ir::direct_callee(inst)?);
    let starts = if name.starts_with("llvm.lifetime.start") {
        true
    } else if name.starts_with("llvm.lifetime.end") {
        false
    } else {
        return None;
    };
    let p = ir::operand(inst, 1);
    Some((starts, ir::is_alloca(p).then_some(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;

    const IR: &str = r#"
target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"
declare void @__landmark_hit(i32)
declare i64 @libc(i64)
declare i32 @setjmp(ptr) returns_twice
declare void @fatal() noreturn
@tbl = internal global [4 x i64] zeroinitializer
declare void @llvm.lifetime.start.p0(i64, ptr)
declare void @llvm.lifetime.end.p0(i64, ptr)

define internal void @leaf(ptr %p) {
  store i64 1, ptr %p
  ret void
}

define internal void @worker(i64 %n) {
  call void @__landmark_hit(i32 7)
  ret void
}

define i128 @f(i64 %n, ptr %fp, i128 %wide) {
entry:
  %always = alloca [4 x i32]
  %scoped = alloca i64
  %jb = alloca [40 x i64]
  %elem = getelementptr inbounds [4 x i32], ptr %always, i64 0, i64 2
  %addr = ptrtoint ptr %elem to i64
  %field = getelementptr inbounds i8, ptr %fp, i64 16
  %slot = getelementptr inbounds i8, ptr @tbl, i64 8
  %a = call i64 @libc(i64 %n)
  call void @leaf(ptr %always)
  call void @llvm.lifetime.start.p0(i64 8, ptr %scoped)
  call void @worker(i64 %a)
  call void @llvm.lifetime.end.p0(i64 8, ptr %scoped)
  %pair = insertvalue { i64, double } undef, i64 %a, 0
  call void %fp()
  %s = call i32 @setjmp(ptr %jb)
  %bad = icmp eq i32 %s, 99
  br i1 %bad, label %die, label %ok
die:
  call void %fp()
  unreachable
ok:
  %x = extractvalue { i64, double } %pair, 0
  %y = add i64 %x, %n
  store i64 %addr, ptr %elem
  store ptr %field, ptr %slot
  %z = zext i64 %y to i128
  %r = add i128 %z, %wide
  ret i128 %r
}
"#;

    fn table() -> (CallSiteTable, String) {
        table_of(IR)
    }

    fn table_of(ir: &str) -> (CallSiteTable, String) {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let td = TargetData::create(&m.get_data_layout().as_str().to_string_lossy());
        let t = insert(&m, &td).unwrap();
        m.verify().unwrap();
        (t, m.print_to_string().to_string())
    }

    fn kinds(t: &CallSiteTable) -> Vec<(String, CallKind)> {
        t.sites
            .iter()
            .map(|s| (s.function.clone(), s.kind.clone()))
            .collect()
    }

    #[test]
    fn records_the_calls_that_can_reach_a_landmark() {
        let (t, ir) = table();
        // libc and the landmark-free leaf get none; the landmark call, the
        // call to a function with a landmark, the indirect call and setjmp
        // do; the indirect call that never returns does not.
        assert_eq!(
            kinds(&t),
            [
                ("worker".into(), CallKind::Landmark(7)),
                ("f".into(), CallKind::Direct("worker".into())),
                ("f".into(), CallKind::Indirect),
                ("f".into(), CallKind::ReturnsTwice("setjmp".into())),
            ]
        );
        // Four call sites and the frame record of f.
        assert_eq!(
            ir.matches("call void (i64, i32, ...) @llvm.experimental.stackmap")
                .count(),
            5
        );
        assert!(ir.contains("@llvm.experimental.stackmap(i64 1, i32 0"));
    }

    #[test]
    fn records_the_operands_of_live_comparisons() {
        // Only the flag is live across the landmark; the backend may sink
        // the comparison past the call and keep %p instead, so %p is
        // recorded too.
        let (t, _) = table_of(
            r#"
target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"
declare void @__landmark_hit(i32)
declare void @use(i1)
define void @g(ptr %p) {
  %isnull = icmp eq ptr %p, null
  call void @__landmark_hit(i32 0)
  call void @use(i1 %isnull)
  ret void
}
"#,
        );
        let tys: Vec<(u32, &str)> = t.sites[0]
            .values
            .iter()
            .map(|p| (p.value, p.ty.as_str()))
            .collect();
        assert_eq!(tys, [(0, "i1"), (1, "ptr")]);
    }

    #[test]
    fn values_parts_and_allocas() {
        let (t, ir) = table();
        // One frame record for f: its three fixed-size allocations.
        assert_eq!(t.frames.len(), 1);
        assert_eq!(t.frames[0].function, "f");
        assert_eq!(t.frames[0].allocas, [16, 8, 320]);
        assert!(ir.contains(&format!(
            "@llvm.experimental.stackmap(i64 {FRAME_ID_BASE}, i32 0, ptr %always, ptr %scoped, ptr %jb)"
        )));
        let worker_call = &t.sites[1];
        let summary: Vec<(u32, u32, u32, &str, bool)> = worker_call
            .values
            .iter()
            .map(|p| (p.value, p.offset, p.size, p.ty.as_str(), p.pointer))
            .collect();
        // n, fp, the i128 in two halves, %a.
        assert_eq!(
            summary,
            [
                (0, 0, 8, "i64", false),
                (1, 0, 8, "ptr", true),
                (2, 0, 8, "i64", false),
                (2, 8, 8, "i64", false),
                (3, 0, 8, "i64", false),
            ]
        );
        // The unmarked allocations are in use everywhere, %scoped inside its
        // lifetime.
        assert_eq!(worker_call.allocas, [0, 1, 2]);
        // &always[2] is rebuilt from %always, not recorded; so is its
        // address as an integer, %fp+16 from %fp and &tbl[1] from tbl.
        assert_eq!(
            worker_call.derived,
            [
                DerivedValue {
                    value: 4,
                    base: Base::Alloca(0),
                    offset: 8
                },
                DerivedValue {
                    value: 5,
                    base: Base::Alloca(0),
                    offset: 8
                },
                DerivedValue {
                    value: 6,
                    base: Base::Value(1),
                    offset: 16
                },
                DerivedValue {
                    value: 7,
                    base: Base::Symbol("tbl".into()),
                    offset: 8
                }
            ]
        );
        // After the lifetime ends, %scoped is no longer in use; the struct
        // %pair is split into its fields; %fp is still live (the path that
        // calls it again and dies).
        let indirect = &t.sites[2];
        assert_eq!(indirect.allocas, [0, 2]);
        let tys: Vec<(u32, u32, &str)> = indirect
            .values
            .iter()
            .map(|p| (p.value, p.offset, p.ty.as_str()))
            .collect();
        assert_eq!(
            tys,
            [
                (0, 0, "i64"),
                (1, 0, "ptr"),
                (2, 0, "i64"),
                (2, 8, "i64"),
                (3, 0, "i64"),
                (3, 8, "double"),
            ]
        );
    }

    #[test]
    fn ids_are_deterministic() {
        assert_eq!(table().0, table().0);
    }
}
