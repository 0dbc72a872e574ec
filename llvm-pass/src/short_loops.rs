//! Short loops: innermost loops that call nothing and whose trip count is a
//! small constant (`for (j = 0; j < 128; j++)`, also after vectorization).
//! Such a loop ends within a bounded time and the landmark of the code
//! around it (the enclosing loop's header, or the function's entry) follows
//! soon, so it needs no landmark of its own. Checking the flag on every
//! iteration of the hottest loops is what landmarks cost most: two
//! instructions in a loop body of a dozen (12% more instructions in the
//! `stackarrays` example's matrix product). A counter that checks every N
//! iterations costs the same two instructions (a decrement and a branch).
//!
//! The trip count is found by running the induction variable: a header phi
//! that starts at a constant and steps by a constant on the loop's only
//! back edge, tested against a constant by the branch that leaves the loop
//! there. Other exits can only make the loop shorter.

use crate::ir::{self, Block, LLVMIntPredicate, LLVMOpcode, LLVMTypeKind, Value};

/// Most iterations of a short loop.
pub const MAX_TRIPS: u64 = 4096;
/// Most instructions a short loop executes in all (its body's size times
/// its trip count): about 100 µs natively, well below the response bound.
pub const MAX_WORK: u64 = 200_000;

/// For each of a function's blocks (entry first), whether it is the
/// header of a short loop.
pub fn short_loop_headers(blocks: &[Block]) -> Vec<bool> {
    let n = blocks.len();
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, ss) in ir::successor_indices(blocks).iter().enumerate() {
        for &s in ss {
            pred[s].push(b);
        }
    }
    let latches = ir::back_edges(blocks);
    let headers: Vec<usize> = (0..n).filter(|h| !latches[*h].is_empty()).collect();
    let mut short = vec![false; n];
    for &h in &headers {
        if latches[h].len() != 1 {
            continue;
        }
        // The body: what reaches the latch without passing the header.
        let mut body = vec![false; n];
        body[h] = true;
        let mut work = latches[h].clone();
        while let Some(b) = work.pop() {
            if !body[b] {
                body[b] = true;
                work.extend(pred[b].iter().copied());
            }
        }
        let innermost = headers.iter().all(|&o| o == h || !body[o]);
        short[h] = innermost && is_short(blocks, h, latches[h][0], &body);
    }
    short
}

/// True if the loop with this `header` and body (`body[i]` for
/// `blocks[i]`), whose only back edge comes from `latch`, is short.
fn is_short(blocks: &[Block], header: usize, latch: usize, body: &[bool]) -> bool {
    let size: u64 = (0..blocks.len())
        .filter(|b| body[*b])
        .map(|b| ir::block_instructions(blocks[b]).len() as u64)
        .sum();
    let calls = (0..blocks.len())
        .filter(|b| body[*b])
        .flat_map(|b| ir::block_instructions(blocks[b]))
        .any(|i| ir::is_call(i) && !is_harmless_intrinsic(i));
    if calls {
        return false;
    }
    match trips(blocks[header], blocks[latch], |b| {
        blocks.iter().position(|x| *x == b).is_some_and(|i| body[i])
    }) {
        Some(n) => n <= MAX_TRIPS && n.saturating_mul(size.max(1)) <= MAX_WORK,
        None => false,
    }
}

/// Intrinsics that become no call at all (memcpy and friends may become a
/// call to libc, which can take long).
fn is_harmless_intrinsic(call: Value) -> bool {
    ir::direct_callee(call)
        .map(ir::name)
        .is_some_and(|n| n.starts_with("llvm.") && !n.starts_with("llvm.mem"))
}

/// The number of times the back edge from `latch` to `header` can be
/// taken, if the branch at the end of `latch` decides it by comparing a
/// constant-stepped induction variable with a constant.
fn trips(header: Block, latch: Block, in_loop: impl Fn(Block) -> bool) -> Option<u64> {
    let (cmp, on_true, on_false) = ir::conditional_branch(ir::terminator(latch)?)?;
    // Which outcome of the test goes around again.
    let again_if = match (on_true == header, on_false == header) {
        (true, false) if !in_loop(on_false) => true,
        (false, true) if !in_loop(on_true) => false,
        _ => return None,
    };
    let pred = ir::icmp_predicate(cmp)?;
    let (a, b) = (ir::operand(cmp, 0), ir::operand(cmp, 1));
    let ty = ir::type_of(a);
    if ir::type_kind(ty) != LLVMTypeKind::LLVMIntegerTypeKind {
        return None;
    }
    let bits = ir::int_width(ty);
    if bits == 0 || bits > 64 {
        return None;
    }
    let (tested, bound, swapped) = match (ir::constant_int(a), ir::constant_int(b)) {
        (None, Some(k)) => (a, k, false),
        (Some(k), None) => (b, k, true),
        _ => return None,
    };
    // The tested value is the phi, or the phi plus the step.
    let (phi, tests_next) = if is_header_phi(tested, header) {
        (tested, false)
    } else if ir::opcode(tested) == Some(LLVMOpcode::LLVMAdd)
        && is_header_phi(ir::operand(tested, 0), header)
    {
        (ir::operand(tested, 0), true)
    } else {
        return None;
    };
    let (start, step) = induction(phi, latch)?;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut v = start & mask;
    for n in 0..=MAX_TRIPS {
        let next = v.wrapping_add(step) & mask;
        let x = if tests_next { next } else { v };
        let (l, r) = if swapped {
            (bound & mask, x)
        } else {
            (x, bound & mask)
        };
        if compare(pred, l, r, bits)? != again_if {
            return Some(n);
        }
        v = next;
    }
    None
}

fn is_header_phi(v: Value, header: Block) -> bool {
    ir::is_phi(v) && ir::parent_block(v) == header
}

/// (start, step) of a header phi that is a constant on every edge from
/// outside the loop and itself plus a constant on the edge from `latch`.
fn induction(phi: Value, latch: Block) -> Option<(u64, u64)> {
    let mut start = None;
    let mut step = None;
    for (v, from) in ir::incoming(phi) {
        if from == latch {
            if ir::opcode(v) != Some(LLVMOpcode::LLVMAdd) || ir::operand(v, 0) != phi {
                return None;
            }
            let s = ir::constant_int(ir::operand(v, 1))?;
            if step.is_some_and(|t| t != s) {
                return None;
            }
            step = Some(s);
        } else {
            let c = ir::constant_int(v)?;
            if start.is_some_and(|s| s != c) {
                return None;
            }
            start = Some(c);
        }
    }
    Some((start?, step.filter(|s| *s != 0)?))
}

/// `l pred r` on `bits`-bit integers.
fn compare(pred: LLVMIntPredicate, l: u64, r: u64, bits: u32) -> Option<bool> {
    let signed = |v: u64| ((v << (64 - bits)) as i64) >> (64 - bits);
    use LLVMIntPredicate::*;
    Some(match pred {
        LLVMIntEQ => l == r,
        LLVMIntNE => l != r,
        LLVMIntULT => l < r,
        LLVMIntULE => l <= r,
        LLVMIntUGT => l > r,
        LLVMIntUGE => l >= r,
        LLVMIntSLT => signed(l) < signed(r),
        LLVMIntSLE => signed(l) <= signed(r),
        LLVMIntSGT => signed(l) > signed(r),
        LLVMIntSGE => signed(l) >= signed(r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;
    use inkwell::values::AsValueRef;

    const IR: &str = r#"
declare void @g()
define void @fixed(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr double, ptr %a, i64 %i
  store double 0.0, ptr %p
  %i.next = add nuw nsw i64 %i, 4
  %done = icmp eq i64 %i.next, 128
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
define void @unbounded(ptr %a, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr double, ptr %a, i64 %i
  store double 0.0, ptr %p
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
define void @calls(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  call void @g()
  %i.next = add i32 %i, 1
  %more = icmp slt i32 %i.next, 10
  br i1 %more, label %loop, label %exit
exit:
  ret void
}
define void @long(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i.next, %loop ]
  %i.next = add i32 %i, 1
  %more = icmp ult i32 %i.next, 1000000
  br i1 %more, label %loop, label %exit
exit:
  ret void
}
define void @never_equal(ptr %a) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 1, %entry ], [ %i.next, %loop ]
  %i.next = add i32 %i, 4
  %done = icmp eq i32 %i.next, 128
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
"#;

    fn short(name: &str) -> bool {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(IR.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let f = m.get_function(name).unwrap();
        short_loop_headers(&ir::blocks(f.as_value_ref())).contains(&true)
    }

    #[test]
    fn constant_trip_counts_without_calls_are_short() {
        // 32 iterations of a small body.
        assert!(short("fixed"));
        // Not known, a call in the body, a million iterations, and an
        // induction variable that steps over its bound (it wraps around
        // after 2^30 iterations).
        for name in ["unbounded", "calls", "long", "never_equal"] {
            assert!(!short(name), "{name}");
        }
    }
}
