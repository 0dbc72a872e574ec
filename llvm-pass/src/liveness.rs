//! Which SSA values are live right after each call: what a live-value record
//! at that call site must describe (issue: landmark pass, item 2).
//!
//! Classic backward dataflow over the CFG on SSA values (instructions with a
//! result, and arguments; constants and globals are the same in both
//! executables and need no record). PHI operands are uses at the end of the
//! incoming block, PHI results definitions at the start of theirs.

use crate::ir::{self, Block, LLVMOpcode, LLVMTypeKind, Value};
use inkwell::values::{AsValueRef, FunctionValue};
use std::collections::{BTreeSet, HashMap};

/// A call and the values live immediately after it, in a stable order
/// (arguments first, then instructions in function order). The call's own
/// result is included when it is used later. Values are raw LLVM handles,
/// valid while the module lives.
pub struct LiveAcross {
    pub call: Value,
    pub live: Vec<Value>,
}

/// Numbers a function's SSA values: arguments, then instructions with results.
struct Numbering {
    index: HashMap<Value, usize>,
    values: Vec<Value>,
}

impl Numbering {
    fn new(f: Value, blocks: &[Block]) -> Self {
        let mut values = ir::params(f);
        for b in blocks {
            for inst in ir::block_instructions(*b) {
                if has_result(inst) {
                    values.push(inst);
                }
            }
        }
        let index = values.iter().enumerate().map(|(i, v)| (*v, i)).collect();
        Numbering { index, values }
    }

    fn of(&self, v: Value) -> Option<usize> {
        self.index.get(&v).copied()
    }
}

fn has_result(inst: Value) -> bool {
    ir::type_kind(ir::type_of(inst)) != LLVMTypeKind::LLVMVoidTypeKind
}

fn is_phi(inst: Value) -> bool {
    ir::opcode(inst) == Some(LLVMOpcode::LLVMPHI)
}

/// Operands of a non-PHI instruction that are tracked values.
fn operand_values(n: &Numbering, inst: Value) -> impl Iterator<Item = usize> + '_ {
    ir::operands(inst).into_iter().filter_map(move |v| n.of(v))
}

/// Live values after every call of function `f` (calls to intrinsics
/// included: the caller decides which calls get records).
pub fn live_across_calls(f: FunctionValue) -> Vec<LiveAcross> {
    let f = f.as_value_ref();
    let blocks = ir::blocks(f);
    let n = Numbering::new(f, &blocks);
    let block_index: HashMap<Block, usize> =
        blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let succs: Vec<Vec<usize>> = blocks
        .iter()
        .map(|b| {
            ir::successors(*b)
                .iter()
                .filter_map(|s| block_index.get(s).copied())
                .collect()
        })
        .collect();

    // Per block: upward-exposed uses, definitions, PHI definitions, and the
    // values its PHIs take from each predecessor.
    let mut uses = vec![BTreeSet::new(); blocks.len()];
    let mut defs = vec![BTreeSet::new(); blocks.len()];
    let mut phi_from: Vec<HashMap<usize, BTreeSet<usize>>> = vec![HashMap::new(); blocks.len()];
    for (bi, b) in blocks.iter().enumerate() {
        for inst in ir::block_instructions(*b) {
            if is_phi(inst) {
                for (v, from) in ir::incoming(inst) {
                    if let (Some(v), Some(&p)) = (n.of(v), block_index.get(&from)) {
                        phi_from[bi].entry(p).or_default().insert(v);
                    }
                }
            } else {
                for v in operand_values(&n, inst) {
                    if !defs[bi].contains(&v) {
                        uses[bi].insert(v);
                    }
                }
            }
            if let Some(d) = n.of(inst) {
                defs[bi].insert(d);
            }
        }
    }

    // Fixpoint: live_out(B) = U over successors S of (live_in(S) - phi defs
    // of S, which are in defs(S) anyway) + what S's PHIs take from B.
    let mut live_in = vec![BTreeSet::new(); blocks.len()];
    let mut live_out = vec![BTreeSet::new(); blocks.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for bi in (0..blocks.len()).rev() {
            let mut out: BTreeSet<usize> = BTreeSet::new();
            for &s in &succs[bi] {
                out.extend(live_in[s].iter().copied());
                if let Some(vs) = phi_from[s].get(&bi) {
                    out.extend(vs.iter().copied());
                }
            }
            let mut inn: BTreeSet<usize> = uses[bi].clone();
            inn.extend(out.difference(&defs[bi]).copied());
            if out != live_out[bi] || inn != live_in[bi] {
                live_out[bi] = out;
                live_in[bi] = inn;
                changed = true;
            }
        }
    }

    // Walk each block backwards from its live-out set to each call.
    let mut result = Vec::new();
    for (bi, b) in blocks.iter().enumerate() {
        let mut live = live_out[bi].clone();
        let mut found = Vec::new();
        for inst in ir::block_instructions(*b).into_iter().rev() {
            if ir::is_call(inst) {
                found.push(LiveAcross {
                    call: inst,
                    live: live.iter().map(|&v| n.values[v]).collect(),
                });
            }
            if let Some(d) = n.of(inst) {
                live.remove(&d);
            }
            if !is_phi(inst) {
                live.extend(operand_values(&n, inst));
            }
        }
        found.reverse();
        result.extend(found);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkwell::context::Context;
    use inkwell::memory_buffer::MemoryBuffer;

    const IR: &str = r#"
declare i64 @g(i64)
declare void @h()

define i64 @f(i64 %n, ptr %p) {
entry:
  %buf = alloca [16 x i8]
  %a = call i64 @g(i64 %n)
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %next, %loop ]
  %acc = phi i64 [ %a, %entry ], [ %sum, %loop ]
  call void @h()
  %x = load i64, ptr %p
  %sum = add i64 %acc, %x
  %next = add i64 %i, 1
  %done = icmp eq i64 %next, %n
  br i1 %done, label %exit, label %loop
exit:
  %r = call i64 @g(i64 %sum)
  ret i64 %sum
}
"#;

    fn names(vs: &[Value]) -> Vec<String> {
        vs.iter().map(|v| ir::name(*v)).collect()
    }

    #[test]
    fn live_values_after_calls() {
        let ctx = Context::create();
        let buf = MemoryBuffer::create_from_memory_range_copy(IR.as_bytes(), "t.ll");
        let m = ctx.create_module_from_ir(buf).unwrap();
        let calls = live_across_calls(m.get_function("f").unwrap());
        assert_eq!(calls.len(), 3);
        // After %a = g(n): n and p are used later, %a feeds the PHI; the
        // alloca is dead (never used).
        assert_eq!(names(&calls[0].live), ["n", "p", "a"]);
        // After h() in the loop: the loop's PHIs and the invariant operands.
        assert_eq!(names(&calls[1].live), ["n", "p", "i", "acc"]);
        // After the last call only %sum is needed.
        assert_eq!(names(&calls[2].live), ["sum"]);
    }
}
