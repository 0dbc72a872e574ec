//! Live-value records: a stock LLVM stackmap after every call site where a
//! frame can be suspended during a migration, plus the side table
//! (`stack_translator::callsites`) that says what each recorded location is.
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
//!
//! The backend can only record values of legal machine types, so others are
//! split into parts first (an `i128` into two `i64`, a struct into its
//! fields, an `<8 x i32>` into 64-bit chunks); the side table maps every
//! stackmap location back to its value and byte offset.
//!
//! IDs are sequential in module order, so every build of the same sources
//! numbers its call sites identically, and both ISAs share them (the pass
//! runs once, before the module is split per ISA).

use crate::ir::{self, Value};
use crate::landmarks::HIT_FUNCTION;
use crate::liveness;
use anyhow::{bail, Result};
use inkwell::llvm_sys::core::*;
use inkwell::llvm_sys::prelude::*;
use inkwell::llvm_sys::target::{
    LLVMABISizeOfType, LLVMOffsetOfElement, LLVMSizeOfTypeInBits, LLVMStoreSizeOfType,
};
use inkwell::llvm_sys::{LLVMOpcode, LLVMTypeKind};
use inkwell::module::Module;
use inkwell::targets::TargetData;
use inkwell::values::AsValueRef;
use stack_translator::callsites::{
    AllocaSize, CallKind, CallSite, CallSiteTable, DerivedValue, RecordedPart,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The stock LLVM intrinsic that records live values at a point.
const STACKMAP: &str = "llvm.experimental.stackmap";

/// Inserts a stackmap after every call site that needs a record; returns
/// the side table describing them. `layout` is the module's data layout
/// (the aarch64 one: sizes and offsets are the same on x86_64 for every
/// type a record can hold).
pub fn insert(module: &Module, layout: &TargetData) -> Result<CallSiteTable> {
    let reaching = functions_reaching_landmarks(module);
    let stackmap = stackmap_function(module);
    let mut table = CallSiteTable::default();
    let td = layout.as_mut_ptr();
    unsafe {
        let ctx = LLVMGetModuleContext(module.as_mut_ptr());
        let builder = LLVMCreateBuilderInContext(ctx);
        for f in module.get_functions() {
            if f.count_basic_blocks() == 0 {
                continue;
            }
            let fname = f.get_name().to_string_lossy().into_owned();
            let memory_live = allocas_in_use_after_calls(f.as_value_ref());
            for site in liveness::live_across_calls(f) {
                let Some(kind) = call_kind(site.call, &reaching) else {
                    continue;
                };
                let id = table.sites.len() as u64;
                // Pointers at fixed offsets into a stack allocation are not
                // recorded themselves (recording dozens of `&buf[i]` makes
                // the register allocator give up); the table says how to
                // rebuild them from the allocation.
                let mut values: Vec<Value> = Vec::new();
                let mut derived_from: Vec<(Value, Value, i64)> = Vec::new();
                let mut allocas: BTreeSet<(usize, Value)> = BTreeSet::new();
                for v in site.live.iter().copied() {
                    if is_alloca(v) {
                        allocas.insert((memory_live.order[&v], v));
                    } else if let Some((base, offset)) = offset_into_alloca(v, td) {
                        allocas.insert((memory_live.order[&base], base));
                        derived_from.push((v, base, offset));
                    } else {
                        values.push(v);
                    }
                }
                if let Some(set) = memory_live.after_call.get(&site.call) {
                    allocas.extend(set.iter().map(|a| (memory_live.order[a], *a)));
                }
                values.extend(allocas.into_iter().map(|(_, a)| a));
                let derived = derived_from
                    .iter()
                    .enumerate()
                    .map(|(k, (_, base, offset))| DerivedValue {
                        value: (values.len() + k) as u32,
                        base: values.iter().position(|v| v == base).unwrap() as u32,
                        offset: *offset,
                    })
                    .collect();

                LLVMPositionBuilderBefore(builder, LLVMGetNextInstruction(site.call));
                let mut parts = Vec::new();
                let mut operands = vec![
                    LLVMConstInt(LLVMInt64TypeInContext(ctx), id, 0),
                    LLVMConstInt(LLVMInt32TypeInContext(ctx), 0, 0),
                ];
                for (index, v) in values.iter().enumerate() {
                    let alloca = is_alloca(*v).then(|| alloca_size(*v, td));
                    let mut split = Vec::new();
                    flatten(builder, td, *v, LLVMTypeOf(*v), 0, false, &mut split)
                        .map_err(|e| anyhow::anyhow!("{}: in {fname}: {e}", where_is(site.call)))?;
                    for (operand, offset, pointer) in split {
                        let ty = LLVMTypeOf(operand);
                        parts.push(RecordedPart {
                            value: index as u32,
                            offset: offset as u32,
                            size: LLVMStoreSizeOfType(td, ty) as u32,
                            ty: type_string(ty),
                            pointer,
                            alloca,
                        });
                        operands.push(operand);
                    }
                }
                LLVMBuildCall2(
                    builder,
                    LLVMGlobalGetValueType(stackmap),
                    stackmap,
                    operands.as_mut_ptr(),
                    operands.len() as u32,
                    c"".as_ptr(),
                );
                table.sites.push(CallSite {
                    id,
                    function: fname.clone(),
                    kind,
                    location: ir::location(site.call),
                    values: parts,
                    derived,
                });
            }
        }
        LLVMDisposeBuilder(builder);
    }
    Ok(table)
}

/// `declare void @llvm.experimental.stackmap(i64, i32, ...)`
fn stackmap_function(module: &Module) -> Value {
    if let Some(f) = module.get_function(STACKMAP) {
        return f.as_value_ref();
    }
    let ctx = module.get_context();
    let ty = ctx
        .void_type()
        .fn_type(&[ctx.i64_type().into(), ctx.i32_type().into()], true);
    module.add_function(STACKMAP, ty, None).as_value_ref()
}

/// Why a call gets a record, or `None` if it needs none.
fn call_kind(call: Value, reaching: &HashSet<Value>) -> Option<CallKind> {
    unsafe {
        if LLVMGetInstructionOpcode(call) != LLVMOpcode::LLVMCall
            || LLVMIsTailCall(call) != 0 && LLVMGetTailCallKind(call) == musttail()
        {
            // Nothing may follow a musttail call, and its frame is gone anyway.
            return None;
        }
    }
    let callee = match ir::direct_callee(call) {
        None if ir::is_inline_asm(ir::called_value(call)) => return None,
        None => return Some(CallKind::Indirect),
        Some(c) => c,
    };
    let name = ir::name(callee);
    if name == HIT_FUNCTION {
        let id = unsafe { LLVMConstIntGetZExtValue(LLVMGetOperand(call, 0)) };
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

fn musttail() -> inkwell::llvm_sys::LLVMTailCallKind {
    inkwell::llvm_sys::LLVMTailCallKind::LLVMTailCallKindMustTail
}

fn returns_twice(call: Value, callee: Value) -> bool {
    let kind = inkwell::attributes::Attribute::get_named_enum_kind_id("returns_twice");
    unsafe {
        let index = inkwell::llvm_sys::LLVMAttributeFunctionIndex;
        !LLVMGetEnumAttributeAtIndex(callee, index, kind).is_null()
            || !LLVMGetCallSiteEnumAttribute(call, index, kind).is_null()
    }
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

fn is_alloca(v: Value) -> bool {
    unsafe { !LLVMIsAAllocaInst(v).is_null() }
}

fn alloca_size(a: Value, td: inkwell::llvm_sys::target::LLVMTargetDataRef) -> AllocaSize {
    unsafe {
        let count = LLVMGetOperand(a, 0);
        if LLVMIsAConstantInt(count).is_null() {
            return AllocaSize::Dynamic;
        }
        let elem = LLVMABISizeOfType(td, LLVMGetAllocatedType(a));
        AllocaSize::Fixed(elem * LLVMConstIntGetZExtValue(count))
    }
}

/// If `v` is a stack allocation's address plus a constant (a chain of
/// constant-index GEPs), that allocation and the byte offset.
fn offset_into_alloca(
    mut v: Value,
    td: inkwell::llvm_sys::target::LLVMTargetDataRef,
) -> Option<(Value, i64)> {
    let mut total = 0i64;
    unsafe {
        while LLVMIsAAllocaInst(v).is_null() {
            if LLVMIsAGetElementPtrInst(v).is_null() {
                return None;
            }
            let mut ty = LLVMGetGEPSourceElementType(v);
            for i in 1..LLVMGetNumOperands(v) as u32 {
                let index = LLVMGetOperand(v, i);
                if LLVMIsAConstantInt(index).is_null() {
                    return None;
                }
                let index = LLVMConstIntGetSExtValue(index);
                if i == 1 {
                    total += index * LLVMABISizeOfType(td, ty) as i64;
                    continue;
                }
                match LLVMGetTypeKind(ty) {
                    LLVMTypeKind::LLVMStructTypeKind => {
                        total += LLVMOffsetOfElement(td, ty, index as u32) as i64;
                        ty = LLVMStructGetTypeAtIndex(ty, index as u32);
                    }
                    LLVMTypeKind::LLVMArrayTypeKind | LLVMTypeKind::LLVMVectorTypeKind => {
                        ty = LLVMGetElementType(ty);
                        total += index * LLVMABISizeOfType(td, ty) as i64;
                    }
                    _ => return None,
                }
            }
            v = LLVMGetOperand(v, 0);
        }
    }
    Some((v, total))
}

/// Splits `v` (of type `ty`, at byte `offset` of the recorded value) into
/// operands the backends can record, emitting the extraction instructions
/// at `builder`. Each part: (operand, byte offset, holds a pointer).
fn flatten(
    builder: LLVMBuilderRef,
    td: inkwell::llvm_sys::target::LLVMTargetDataRef,
    v: Value,
    ty: LLVMTypeRef,
    offset: u64,
    pointer: bool,
    out: &mut Vec<(Value, u64, bool)>,
) -> Result<()> {
    unsafe {
        let ctx = LLVMGetTypeContext(ty);
        let i64t = LLVMInt64TypeInContext(ctx);
        match LLVMGetTypeKind(ty) {
            LLVMTypeKind::LLVMPointerTypeKind => out.push((v, offset, true)),
            LLVMTypeKind::LLVMFloatTypeKind
            | LLVMTypeKind::LLVMDoubleTypeKind
            | LLVMTypeKind::LLVMFP128TypeKind => out.push((v, offset, pointer)),
            LLVMTypeKind::LLVMHalfTypeKind | LLVMTypeKind::LLVMBFloatTypeKind => {
                let bits = LLVMBuildBitCast(builder, v, LLVMInt16TypeInContext(ctx), c"".as_ptr());
                out.push((bits, offset, pointer));
            }
            LLVMTypeKind::LLVMIntegerTypeKind => {
                let width = LLVMGetIntTypeWidth(ty);
                if matches!(width, 1 | 8 | 16 | 32 | 64) {
                    out.push((v, offset, pointer));
                } else if width < 64 {
                    let wide = LLVMBuildZExt(builder, v, i64t, c"".as_ptr());
                    out.push((wide, offset, pointer));
                } else {
                    for chunk in 0..width.div_ceil(64) {
                        let shift = LLVMConstInt(ty, 64 * chunk as u64, 0);
                        let high = LLVMBuildLShr(builder, v, shift, c"".as_ptr());
                        let part = LLVMBuildTrunc(builder, high, i64t, c"".as_ptr());
                        out.push((part, offset + 8 * chunk as u64, pointer));
                    }
                }
            }
            LLVMTypeKind::LLVMVectorTypeKind => {
                let elem = LLVMGetElementType(ty);
                let n = LLVMGetVectorSize(ty);
                let elem_kind = LLVMGetTypeKind(elem);
                let is_ptr = elem_kind == LLVMTypeKind::LLVMPointerTypeKind;
                let elem_bits = if is_ptr {
                    64
                } else {
                    LLVMSizeOfTypeInBits(td, elem) as u32
                };
                let legal_elem = match elem_kind {
                    LLVMTypeKind::LLVMIntegerTypeKind => {
                        matches!(LLVMGetIntTypeWidth(elem), 8 | 16 | 32 | 64)
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
                    LLVMBuildPtrToInt(builder, v, LLVMVectorType(i64t, n), c"".as_ptr())
                } else {
                    v
                };
                let whole = LLVMIntTypeInContext(ctx, elem_bits * n);
                let bits = LLVMBuildBitCast(builder, ints, whole, c"".as_ptr());
                flatten(builder, td, bits, whole, offset, pointer || is_ptr, out)?;
            }
            LLVMTypeKind::LLVMStructTypeKind => {
                for i in 0..LLVMCountStructElementTypes(ty) {
                    let field_ty = LLVMStructGetTypeAtIndex(ty, i);
                    let field = LLVMBuildExtractValue(builder, v, i, c"".as_ptr());
                    let at = offset + LLVMOffsetOfElement(td, ty, i);
                    flatten(builder, td, field, field_ty, at, pointer, out)?;
                }
            }
            LLVMTypeKind::LLVMArrayTypeKind => {
                let elem = LLVMGetElementType(ty);
                let stride = LLVMABISizeOfType(td, elem);
                for i in 0..LLVMGetArrayLength2(ty) as u32 {
                    let item = LLVMBuildExtractValue(builder, v, i, c"".as_ptr());
                    flatten(
                        builder,
                        td,
                        item,
                        elem,
                        offset + stride * i as u64,
                        pointer,
                        out,
                    )?;
                }
            }
            _ => bail!(
                "a value of type {} is live across this call; live-value records cannot hold it",
                type_string(ty)
            ),
        }
    }
    Ok(())
}

fn type_string(ty: LLVMTypeRef) -> String {
    unsafe {
        let p = LLVMPrintTypeToString(ty);
        let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
        LLVMDisposeMessage(p);
        s
    }
}

fn where_is(inst: Value) -> String {
    match ir::location(inst) {
        Some((file, line)) => format!("{file}:{line}"),
        None => "<no line>".into(),
    }
}

/// Stack allocations whose memory may be in use right after each call.
struct MemoryLive {
    /// Per call: allocas inside their lifetime (or without lifetime markers).
    after_call: HashMap<Value, BTreeSet<Value>>,
    /// Position of each alloca in the function, for a stable order.
    order: HashMap<Value, usize>,
}

/// Forward "may be inside its lifetime" dataflow over `llvm.lifetime.start`
/// and `llvm.lifetime.end` markers. An alloca without markers (or whose
/// markers name it through another pointer) is in use everywhere.
fn allocas_in_use_after_calls(f: Value) -> MemoryLive {
    let blocks = ir::blocks(f);
    let mut order = HashMap::new();
    let mut marked: HashSet<Value> = HashSet::new();
    let mut unmarkable: HashSet<Value> = HashSet::new();
    for b in &blocks {
        for inst in ir::block_instructions(*b) {
            if is_alloca(inst) {
                let n = order.len();
                order.insert(inst, n);
            }
            if let Some((_, target)) = lifetime_marker(inst) {
                match target {
                    Some(a) => {
                        marked.insert(a);
                    }
                    None => {
                        // A marker on a pointer we cannot trace: be conservative.
                        let p = unsafe { LLVMGetOperand(inst, 1) };
                        unmarkable.insert(p);
                    }
                }
            }
        }
    }
    let always: BTreeSet<Value> = order
        .keys()
        .filter(|a| !marked.contains(a) || !unmarkable.is_empty())
        .copied()
        .collect();
    let index: HashMap<LLVMBasicBlockRef, usize> =
        blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let transfer = |start: &BTreeSet<Value>,
                    b: LLVMBasicBlockRef,
                    mut visit: Option<&mut dyn FnMut(Value, &BTreeSet<Value>)>| {
        let mut live = start.clone();
        for inst in ir::block_instructions(b) {
            if let Some((starts, Some(a))) = lifetime_marker(inst) {
                if starts {
                    live.insert(a);
                } else {
                    live.remove(&a);
                }
            }
            if let Some(visit) = visit.as_mut() {
                if ir::is_call(inst) {
                    visit(inst, &live);
                }
            }
        }
        live
    };
    let mut live_in: Vec<BTreeSet<Value>> = vec![BTreeSet::new(); blocks.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for (bi, b) in blocks.iter().enumerate() {
            let out = transfer(&live_in[bi], *b, None);
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
        transfer(&live_in[bi], *b, Some(&mut visit));
    }
    MemoryLive { after_call, order }
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
    let p = unsafe { LLVMGetOperand(inst, 1) };
    Some((starts, is_alloca(p).then_some(p)))
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
  %a = call i64 @libc(i64 %n)
  call void @leaf(ptr %always)
  call void @llvm.lifetime.start.p0(i64 8, ptr %scoped)
  call void @worker(i64 %a)
  call void @llvm.lifetime.end.p0(i64 8, ptr %scoped)
  %pair = insertvalue { i64, double } undef, i64 %a, 0
  call void %fp()
  %s = call i32 @setjmp(ptr %jb)
  %x = extractvalue { i64, double } %pair, 0
  %y = add i64 %x, %n
  store i64 %y, ptr %elem
  %z = zext i64 %y to i128
  %r = add i128 %z, %wide
  ret i128 %r
}
"#;

    fn table() -> (CallSiteTable, String) {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(IR.as_bytes(), "t.ll");
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
        // call to a function with a landmark, the indirect call and setjmp do.
        assert_eq!(
            kinds(&t),
            [
                ("worker".into(), CallKind::Landmark(7)),
                ("f".into(), CallKind::Direct("worker".into())),
                ("f".into(), CallKind::Indirect),
                ("f".into(), CallKind::ReturnsTwice("setjmp".into())),
            ]
        );
        assert_eq!(
            ir.matches("call void (i64, i32, ...) @llvm.experimental.stackmap")
                .count(),
            4
        );
        assert!(ir.contains("@llvm.experimental.stackmap(i64 1, i32 0"));
    }

    #[test]
    fn values_parts_and_allocas() {
        let (t, _) = table();
        let worker_call = &t.sites[1];
        let summary: Vec<(u32, u32, u32, &str, bool, Option<AllocaSize>)> = worker_call
            .values
            .iter()
            .map(|p| {
                (
                    p.value,
                    p.offset,
                    p.size,
                    p.ty.as_str(),
                    p.pointer,
                    p.alloca,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                // n, fp, the i128 in two halves, %a; then the allocas: the
                // unmarked ones always, %scoped inside its lifetime.
                (0, 0, 8, "i64", false, None),
                (1, 0, 8, "ptr", true, None),
                (2, 0, 8, "i64", false, None),
                (2, 8, 8, "i64", false, None),
                (3, 0, 8, "i64", false, None),
                (4, 0, 8, "ptr", true, Some(AllocaSize::Fixed(16))),
                (5, 0, 8, "ptr", true, Some(AllocaSize::Fixed(8))),
                (6, 0, 8, "ptr", true, Some(AllocaSize::Fixed(320))),
            ]
        );
        // &always[2] is rebuilt from %always, not recorded.
        assert_eq!(
            worker_call.derived,
            [DerivedValue {
                value: 7,
                base: 4,
                offset: 8
            }]
        );
        // After the lifetime ends, %scoped is no longer recorded; the struct
        // %pair is split into its fields.
        let indirect = &t.sites[2];
        let tys: Vec<(u32, u32, &str)> = indirect
            .values
            .iter()
            .map(|p| (p.value, p.offset, p.ty.as_str()))
            .collect();
        assert_eq!(
            tys,
            [
                (0, 0, "i64"),
                (1, 0, "i64"),
                (1, 8, "i64"),
                (2, 0, "i64"),
                (2, 8, "double"),
                (3, 0, "ptr"),
                (4, 0, "ptr"),
            ]
        );
    }

    #[test]
    fn ids_are_deterministic() {
        assert_eq!(table().0, table().0);
    }
}
