//! Stack objects on a stack of their own, at the same address on both ISAs.
//!
//! A pointer into the stack kept in memory (a local array linked from a
//! global, a `setvbuf` buffer, a `jmp_buf`) cannot be rewritten safely when
//! the frames around it change shape between ISAs. So, in the shared module
//! before the records are placed, every fixed-size stack allocation moves
//! to the *unsafe stack*: a second stack, addressed through the global
//! [`UNSAFE_SP`] and mapped by landmark-rt at a fixed address in the
//! migration window. Each function with allocations takes one frame there,
//! laid out here once for both backends, so each object has the same
//! address in both executables and the unsafe stack migrates as plain
//! memory (research/safestack-identical-frames.md). This is LLVM's SafeStack
//! done by our pass: doing it in llc would leave the backends' unsafe-stack
//! pointer, TLS offset and thread pointer live across calls and unrecorded.
//!
//! All of them move, not only those whose address escapes (SafeStack's
//! choice): the machine stack then holds only return addresses, saved
//! registers and spills, which the certificates explain, and never program
//! data. Stale words in an object the program has not filled yet (an old
//! frame pointer under a local array) were the other source of "pointers
//! into the stack" the translator had to refuse.
//!
//! The code added to a function with a frame:
//! ```text
//! entry:  %usp = load ptr, @__landmark_unsafe_sp
//!         %frame = getelementptr i8, %usp, -SIZE      ; (ptrmask if aligned > 16)
//!         store %frame, @__landmark_unsafe_sp
//!         ... every moved alloca is now getelementptr i8, %frame, OFFSET
//! ret:    store %usp, @__landmark_unsafe_sp
//! after a returns_twice call (setjmp): store %frame, @__landmark_unsafe_sp
//! ```
//! `%usp` is an ordinary IR value, so the records carry it like any other,
//! and every object's address is derived from it at a constant offset (one
//! recorded value per function, whatever the number of objects). After a
//! `longjmp` the unsafe stack pointer is that of the frame that jumped,
//! deeper down: a function that calls `setjmp` therefore always gets a
//! frame (possibly empty) and sets the pointer back to it.
//!
//! Allocations of dynamic size (VLAs, `alloca(n)`) stay on the machine
//! stack, and so does a slot that holds a saved machine stack pointer.

use crate::ir::{self, LLVMOpcode, Value};
use inkwell::intrinsics::Intrinsic;
use inkwell::module::{Linkage, Module};
use inkwell::targets::TargetData;
use inkwell::types::AsTypeRef;
use inkwell::values::{AsValueRef, FunctionValue};
use inkwell::AddressSpace;

/// The unsafe stack pointer, defined by landmark-rt (`unsafe_stack.c`).
pub const UNSAFE_SP: &str = "__landmark_unsafe_sp";

/// The unsafe stack pointer stays a multiple of this.
const STACK_ALIGN: u64 = 16;

/// What [`move_stack_objects`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// Functions that got a frame on the unsafe stack.
    pub functions: u32,
    /// Stack allocations moved there.
    pub allocas: u32,
}

/// Moves every fixed-size alloca of every defined function to the unsafe
/// stack.
pub fn move_stack_objects(module: &Module, layout: &TargetData) -> Moved {
    let mut moved = Moved::default();
    for f in module.get_functions() {
        let name = f.get_name().to_string_lossy();
        if f.count_basic_blocks() == 0 || name.starts_with("__landmark") {
            continue;
        }
        let blocks = ir::blocks(f.as_value_ref());
        drop_stack_restores(module, &blocks);
        let moving: Vec<Value> = ir::block_instructions(blocks[0])
            .into_iter()
            .filter(|i| is_fixed_size_alloca(*i) && !holds_stack_pointer(*i))
            .collect();
        let setjmp_calls: Vec<Value> = blocks
            .iter()
            .flat_map(|b| ir::block_instructions(*b))
            .filter(|i| ir::is_call(*i) && returns_twice(*i))
            .collect();
        if moving.is_empty() && setjmp_calls.is_empty() {
            continue;
        }
        give_frame(module, &blocks, &moving, &setjmp_calls, layout);
        moved.functions += 1;
        moved.allocas += moving.len() as u32;
    }
    moved
}

/// A constant-size alloca (in the entry block: the caller looks there).
fn is_fixed_size_alloca(i: Value) -> bool {
    ir::is_alloca(i) && ir::constant_int(ir::operand(i, 0)).is_some()
}

/// Without allocations of dynamic size, `llvm.stackrestore` restores the
/// stack pointer it already has (-O0 keeps the pair around a constant-size
/// VLA, `double t[n][2]` with `const int n = 10`, which the move takes off
/// the machine stack). The pair goes, with the slot that held the saved
/// pointer: a machine stack address in a slot, read back after calls, is
/// what neither the certificates nor the translator can follow.
fn drop_stack_restores(module: &Module, blocks: &[ir::Block]) {
    let instructions: Vec<Value> = blocks
        .iter()
        .flat_map(|b| ir::block_instructions(*b))
        .collect();
    let dynamic = instructions
        .iter()
        .any(|i| ir::is_alloca(*i) && !(is_fixed_size_alloca(*i) && in_entry(*i, blocks)));
    if dynamic {
        return;
    }
    let calls_to = |prefix: &str| -> Vec<Value> {
        instructions
            .iter()
            .copied()
            .filter(|i| {
                ir::is_call(*i)
                    && ir::direct_callee(*i).is_some_and(|c| ir::name(c).starts_with(prefix))
            })
            .collect()
    };
    let builder = ir::Builder::new(module);
    let erase_if_unused = |v: Value| {
        if ir::is_instruction(v) && ir::users(v).is_empty() {
            builder.erase_unused(v);
            true
        } else {
            false
        }
    };
    for restore in calls_to("llvm.stackrestore") {
        let saved = ir::operand(restore, 0);
        builder.erase_unused(restore);
        if ir::opcode(saved) == Some(LLVMOpcode::LLVMLoad) {
            erase_if_unused(saved);
        }
    }
    for save in calls_to("llvm.stacksave") {
        let slots: Vec<Value> = ir::users(save)
            .into_iter()
            .filter(|u| ir::opcode(*u) == Some(LLVMOpcode::LLVMStore) && ir::operand(*u, 0) == save)
            .collect();
        for store in slots {
            let slot = ir::operand(store, 1);
            // Only a slot nothing else reads goes.
            if ir::users(slot).len() == 1 {
                builder.erase_unused(store);
                erase_if_unused(slot);
            }
        }
        erase_if_unused(save);
    }
}

fn in_entry(i: Value, blocks: &[ir::Block]) -> bool {
    ir::parent_block(i) == blocks[0]
}

/// True if the program stores a saved machine stack pointer
/// (`llvm.stacksave`, around a VLA at -O0) in `alloca`: that slot stays in
/// the machine frame, where the certificates follow the stack pointer
/// through it, and where no pointer into the machine stack is kept in
/// memory the translator cannot rewrite.
fn holds_stack_pointer(alloca: Value) -> bool {
    ir::users(alloca).into_iter().any(|u| {
        ir::opcode(u) == Some(LLVMOpcode::LLVMStore) && {
            let v = ir::operand(u, 0);
            ir::is_call(v)
                && ir::direct_callee(v).is_some_and(|c| ir::name(c).starts_with("llvm.stacksave"))
        }
    })
}

fn calls_va_start(blocks: &[ir::Block]) -> bool {
    blocks
        .iter()
        .flat_map(|b| ir::block_instructions(*b))
        .filter(|i| ir::is_call(*i))
        .filter_map(ir::direct_callee)
        .any(|c| ir::name(c).starts_with("llvm.va_start"))
}

fn returns_twice(call: Value) -> bool {
    ir::direct_callee(call).is_some_and(|f| ir::function_has_attribute(f, "returns_twice"))
        || ir::call_site_has_attribute(call, "returns_twice")
}

/// `@__landmark_unsafe_sp`, declared if the module has no declaration yet.
fn unsafe_sp(module: &Module) -> Value {
    let g = module.get_global(UNSAFE_SP).unwrap_or_else(|| {
        let ptr = module.get_context().ptr_type(AddressSpace::default());
        let g = module.add_global(ptr, Some(AddressSpace::default()), UNSAFE_SP);
        g.set_linkage(Linkage::External);
        g
    });
    g.as_value_ref()
}

/// `llvm.ptrmask.p0.i64`.
fn ptrmask<'ctx>(module: &Module<'ctx>) -> FunctionValue<'ctx> {
    let ctx = module.get_context();
    Intrinsic::find("llvm.ptrmask")
        .and_then(|i| {
            i.get_declaration(
                module,
                &[
                    ctx.ptr_type(AddressSpace::default()).into(),
                    ctx.i64_type().into(),
                ],
            )
        })
        .expect("LLVM 19 has llvm.ptrmask")
}

/// Lays out `allocas` in one unsafe frame: (offset of each, frame size,
/// frame alignment). Larger alignments first, so padding is rare; the
/// size is a multiple of the stack alignment.
fn lay_out(allocas: &[Value], layout: &TargetData) -> (Vec<u64>, u64, u64) {
    let size_of = |a: Value| {
        let count = ir::constant_int(ir::operand(a, 0)).expect("a fixed-size alloca");
        ir::abi_size(layout, ir::allocated_type(a)) * count
    };
    let align_of = |a: Value| u64::from(ir::alignment(a)).max(1);
    let mut order: Vec<usize> = (0..allocas.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(align_of(allocas[i])));
    let mut offsets = vec![0; allocas.len()];
    let mut end = 0u64;
    for i in order {
        let align = align_of(allocas[i]);
        let at = end.div_ceil(align) * align;
        offsets[i] = at;
        end = at + size_of(allocas[i]);
    }
    let frame_align = allocas
        .iter()
        .map(|a| align_of(*a))
        .max()
        .unwrap_or(1)
        .max(STACK_ALIGN);
    (
        offsets,
        end.div_ceil(STACK_ALIGN) * STACK_ALIGN,
        frame_align,
    )
}

/// Gives `f` its unsafe frame, moves `allocas` into it and keeps the unsafe
/// stack pointer right at returns and after `setjmp_calls`.
fn give_frame(
    module: &Module,
    blocks: &[ir::Block],
    allocas: &[Value],
    setjmp_calls: &[Value],
    layout: &TargetData,
) {
    let ctx = module.get_context();
    let ptr = ctx.ptr_type(AddressSpace::default()).as_type_ref();
    let sp = unsafe_sp(module);
    let (offsets, size, align) = lay_out(allocas, layout);
    let builder = ir::Builder::new(module);
    // Lifetime markers name allocas; the objects are no allocas any more.
    for &a in allocas {
        let mut markers = ir::users(a);
        markers.retain(|u| {
            ir::is_call(*u)
                && ir::direct_callee(*u).is_some_and(|c| ir::name(c).starts_with("llvm.lifetime."))
        });
        markers.dedup();
        for marker in markers {
            builder.erase_unused(marker);
        }
    }
    // Before the entry block's first instruction that is no alloca: the
    // allocas that stay remain at its top, static, and that instruction
    // comes before every use of a moved alloca (an alloca's size is a
    // constant, so no alloca uses another).
    let first = ir::block_instructions(blocks[0])
        .into_iter()
        .find(|i| !ir::is_alloca(*i))
        .expect("a function's entry block ends in a terminator");
    builder.position_before(first);
    let entry_sp = builder.load(ptr, sp, 8);
    let mut frame = builder.byte_offset(entry_sp, -(size as i64));
    if align > STACK_ALIGN {
        let mask = ctx.i64_type().const_int(!(align - 1), false).as_value_ref();
        frame = builder.call(ptrmask(module), &[frame, mask]);
    }
    builder.store(frame, sp, 8);
    for (&a, &offset) in allocas.iter().zip(&offsets) {
        builder.position_before(first);
        let object = builder.byte_offset(frame, offset as i64);
        ir::replace_all_uses(a, object);
        builder.erase_unused(a);
        builder.position_before(first);
    }
    // A function that starts a va_list or calls setjmp leaves pointers into
    // its machine frame in its unsafe frame (the list's save areas, the
    // buffer's stack pointer): cleared when it returns, so that no frame
    // made later over the same bytes holds a stale one, which a migration
    // would have to refuse as a pointer into the stack.
    let clears = !setjmp_calls.is_empty() || calls_va_start(blocks);
    for b in blocks {
        let Some(term) = ir::terminator(*b) else {
            continue;
        };
        if ir::opcode(term) == Some(LLVMOpcode::LLVMRet) {
            builder.position_before(term);
            if clears && size > 0 {
                builder.zero(frame, size, STACK_ALIGN as u32);
            }
            builder.store(entry_sp, sp, 8);
        }
    }
    for &call in setjmp_calls {
        let next = ir::next_instruction(call).expect("a call is no terminator");
        builder.position_before(next);
        builder.store(frame, sp, 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;

    const IR: &str = r#"
target datalayout = "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128"
declare void @use(ptr)
declare i32 @setjmp(ptr) returns_twice
declare void @llvm.lifetime.start.p0(i64, ptr)
declare void @llvm.lifetime.end.p0(i64, ptr)

define void @arrays(i64 %n) {
entry:
  %small = alloca [3 x i16], align 2
  %big = alloca [37 x i8], align 1
  %wide = alloca [2 x double], align 8
  %vla = alloca i32, i64 %n, align 4
  call void @llvm.lifetime.start.p0(i64 37, ptr %big)
  call void @use(ptr %big)
  call void @use(ptr %small)
  call void @use(ptr %wide)
  call void @use(ptr %vla)
  call void @llvm.lifetime.end.p0(i64 37, ptr %big)
  %c = icmp eq i64 %n, 0
  br i1 %c, label %a, label %b
a:
  ret void
b:
  ret void
}

define void @aligned() {
  %v = alloca [4 x i64], align 64
  call void @use(ptr %v)
  ret void
}

define i32 @jumps() {
  %s = call i32 @setjmp(ptr @jb)
  ret i32 %s
}
@jb = global [40 x i64] zeroinitializer

define i64 @none(i64 %x) {
  ret i64 %x
}
"#;

    fn moved(ir: &str) -> (Moved, String) {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let td = TargetData::create(&m.get_data_layout().as_str().to_string_lossy());
        let moved = move_stack_objects(&m, &td);
        m.verify().unwrap();
        (moved, m.print_to_string().to_string())
    }

    fn function<'a>(ir: &'a str, name: &str) -> &'a str {
        let start = ir.find(&format!("@{name}(")).unwrap();
        let end = ir[start..].find("\n}").unwrap();
        &ir[start..start + end]
    }

    #[test]
    fn fixed_size_allocas_move_and_dynamic_ones_stay() {
        let (moved, ir) = moved(IR);
        // arrays (3 objects), aligned (1), jumps (an empty frame).
        assert_eq!(
            moved,
            Moved {
                functions: 3,
                allocas: 4
            }
        );
        let f = function(&ir, "arrays");
        assert_eq!(f.matches("alloca").count(), 1, "{f}");
        assert!(f.contains("alloca i32, i64 %n"), "{f}");
        assert!(!f.contains("llvm.lifetime"), "{f}");
        // One frame: 16 + 6 + 37 (the 8-aligned double pair first, then
        // the i16 array, then the bytes), rounded to 64.
        assert!(f.contains("getelementptr i8, ptr %0, i64 -64"), "{f}");
        assert!(f.contains("getelementptr i8, ptr %1, i64 0"), "{f}");
        // Both returns give the caller's pointer back.
        assert_eq!(
            f.matches("store ptr %0, ptr @__landmark_unsafe_sp").count(),
            2
        );
        assert!(!function(&ir, "none").contains("__landmark_unsafe_sp"));
    }

    #[test]
    fn frames_aligned_beyond_the_stack_alignment_are_masked() {
        let (_, ir) = moved(IR);
        let f = function(&ir, "aligned");
        assert!(f.contains("@llvm.ptrmask.p0.i64(ptr %2, i64 -64)"), "{f}");
    }

    #[test]
    fn setjmp_sets_the_pointer_back_to_its_frame() {
        let (_, ir) = moved(IR);
        let f = function(&ir, "jumps");
        let after = &f[f.find("@setjmp").unwrap()..];
        // The empty frame is the entry pointer minus nothing.
        assert!(
            after.contains("store ptr %1, ptr @__landmark_unsafe_sp"),
            "{f}"
        );
    }

    #[test]
    fn a_stack_restore_with_nothing_dynamic_left_goes() {
        let ir = r#"
declare void @use(ptr)
declare ptr @llvm.stacksave.p0()
declare void @llvm.stackrestore.p0(ptr)
define void @const_vla() {
  %saved = alloca ptr
  %t = alloca [2 x double], i64 10
  %sp = call ptr @llvm.stacksave.p0()
  store ptr %sp, ptr %saved
  call void @use(ptr %t)
  %back = load ptr, ptr %saved
  call void @llvm.stackrestore.p0(ptr %back)
  ret void
}
define void @real_vla(i64 %n) {
  %saved = alloca ptr
  %sp = call ptr @llvm.stacksave.p0()
  store ptr %sp, ptr %saved
  %t = alloca double, i64 %n
  call void @use(ptr %t)
  %back = load ptr, ptr %saved
  call void @llvm.stackrestore.p0(ptr %back)
  ret void
}
"#;
        let (_, out) = moved(ir);
        let f = function(&out, "const_vla");
        assert!(!f.contains("llvm.stack") && !f.contains("alloca"), "{f}");
        // A real VLA keeps the pair, and the saved pointer stays in the
        // machine frame.
        let f = function(&out, "real_vla");
        assert!(
            f.contains("llvm.stackrestore") && f.contains("%saved = alloca ptr"),
            "{f}"
        );
    }

    #[test]
    fn the_layout_is_dense_and_aligned() {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(IR.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let td = TargetData::create(&m.get_data_layout().as_str().to_string_lossy());
        let f = m.get_function("arrays").unwrap();
        let allocas: Vec<Value> = ir::block_instructions(ir::blocks(f.as_value_ref())[0])
            .into_iter()
            .filter(|i| is_fixed_size_alloca(*i))
            .collect();
        let (offsets, size, align) = lay_out(&allocas, &td);
        assert_eq!(offsets, [16, 22, 0]);
        assert_eq!((size, align), (64, 16));
    }
}
